"""Decision documents (决定书 / 办结通知书) as PDF, on the CJK PDF layer of core.pdf.

Output is deterministic: equal input gives equal bytes (creation date from the document's own
date, content-derived file id, fixed subset tags), so a document can be hashed and audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from tongban.catalog.models import ItemType
from tongban.core.errors import FieldErrors, Formatted
from tongban.core.pdf import (  # noqa: F401  (re-exported: the layer's older home)
    BLACK,
    LINE_3HAO,
    RED,
    SIZE_2HAO,
    SIZE_3HAO,
    SIZE_4HAO,
    SIZE_SMALL4,
    CjkFonts,
    CjkPdf,
    PdfFontMissing,
    cjk_fonts,
    cjk_pdf,
    font_path,
)

from .models import Decision, Delivery

# --- the decision document -----------------------------------------------------------------------

TITLE_APPROVE_LICENCE = "准予行政许可决定书"
TITLE_REJECT_LICENCE = "不予行政许可决定书"
TITLE_COMPLETED = "办结通知书"

# 行政复议法 (2023) art. 20: 60 days to apply; 行政诉讼法 art. 46: six months to sue.
DEFAULT_APPEAL_NOTICE = (
    "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，"
    "或者自收到本决定书之日起六个月内依法向人民法院提起行政诉讼。"
)
DELIVERY_TEXT = {
    Delivery.WINDOW: "窗口领取",
    Delivery.POST: "邮寄送达",
    Delivery.ONLINE: "网上送达（电子送达）",
}

_LIMITS = {
    "document_number": 60,
    "department_name": 60,
    "applicant_name": 100,
    "enterprise_name": 100,
    "item_name": 200,
    "case_number": 40,
    "title": 40,
    "legal_basis": 2000,
    "validity": 200,
    "appeal_notice": 1000,
    "delivery_method": 100,
    "verify_url": 500,
    "verify_code": 64,
}
_MAX_OPINION = 20000


@dataclass(frozen=True)
class DecisionDocument:
    """What a decision document says. Personal data arrives already masked where it must be.

    ``legal_basis`` is a phrase that reads after 根据, e.g. 《中华人民共和国行政许可法》第三十八条.
    ``opinion`` holds the body paragraphs: the reasons of a rejection (required then, 行政许可法
    art. 38) or the content and conditions of an approval. ``appeal_notice`` None means the
    standard wording, "" leaves it out. ``delivery_method`` is a Delivery code or free text.
    """

    document_number: str  # 文号, e.g. 广安区行审许字〔2026〕第000123号
    department_name: str
    applicant_name: str
    item_name: str
    case_number: str
    application_date: dt.date
    decision: str  # "approve" | "reject"
    decision_date: dt.date
    item_type: str = ItemType.LICENSING
    enterprise_name: str = ""
    legal_basis: str = ""
    opinion: Sequence[str] | str = field(default_factory=tuple)
    validity: str = ""
    appeal_notice: str | None = None
    delivery_method: str = ""
    verify_url: str = ""
    verify_code: str = ""
    title: str = ""  # empty: chosen by decision and item type


def decision_title(decision: str, item_type: str) -> str:
    """准予/不予行政许可决定书 for licensing items (行政许可法 art. 38), 办结通知书 for every other kind."""
    if item_type == ItemType.LICENSING:
        return TITLE_APPROVE_LICENCE if decision == Decision.APPROVE else TITLE_REJECT_LICENCE
    return TITLE_COMPLETED


def render_decision(doc: DecisionDocument) -> bytes:
    """The decision document as PDF bytes; the same document always gives the same bytes.

    Raises InvalidInput naming every bad field at once, and PdfFontMissing when the machine
    has no Chinese font.
    """
    paragraphs = _check(doc)
    title = doc.title.strip() or decision_title(doc.decision, doc.item_type)
    pdf = cjk_pdf(
        title=f"{title} {doc.document_number.strip()}",
        created=doc.decision_date,
        author=doc.department_name.strip(),
        subject=doc.item_name.strip(),
        keywords=doc.case_number.strip(),
    )
    _check_printable(pdf, doc)

    pdf.paragraph(doc.department_name.strip(), size=SIZE_2HAO, bold=True, color=RED, align="center", indent=0)
    pdf.paragraph(title, size=SIZE_2HAO, bold=True, align="center", indent=0)
    pdf.ln(2)
    pdf.paragraph(doc.document_number.strip(), align="center", indent=0)
    pdf.rule()

    pdf.paragraph(f"申请人：{doc.applicant_name.strip()}", indent=0, align="left")
    if doc.enterprise_name.strip():
        pdf.paragraph(f"申请单位：{doc.enterprise_name.strip()}", indent=0, align="left")
    for text in _body(doc, paragraphs):
        pdf.paragraph(text)
    pdf.sign_off(doc.department_name.strip(), _cn_date(doc.decision_date))
    _verification(pdf, doc)
    return pdf.to_bytes()


def _body(doc: DecisionDocument, opinion: list[str]) -> list[str]:
    licensing = doc.item_type == ItemType.LICENSING
    approve = doc.decision == Decision.APPROVE
    basis = doc.legal_basis.strip()
    according = f"根据{basis}的规定，" if basis else ""
    verdict = (
        ("准予行政许可" if approve else "不予行政许可")
        if licensing
        else ("予以办理" if approve else "不予办理")
    )
    standard = "法定条件、标准" if licensing else "办理条件"
    opening = (
        f"你（单位）于{_cn_date(doc.application_date)}提出的“{doc.item_name.strip()}”申请"
        f"（办件编号：{doc.case_number.strip()}），本机关已依法受理。"
    )
    out: list[str] = []
    if approve:
        out.append(f"{opening}经审查，你（单位）的申请符合{standard}，{according}本机关决定{verdict}。")
        out.extend(opinion)
    else:
        out.append(f"{opening}经审查，你（单位）的申请不符合{standard}，理由如下：")
        out.extend(opinion)
        out.append(f"{according}本机关决定{verdict}。")
    if doc.validity.strip():
        out.append(f"有效期：{doc.validity.strip().rstrip('。')}。")
    delivery = doc.delivery_method.strip()
    if delivery:
        out.append(f"送达方式：{DELIVERY_TEXT.get(delivery, delivery).rstrip('。')}。")
    notice = DEFAULT_APPEAL_NOTICE if doc.appeal_notice is None else doc.appeal_notice.strip()
    if notice:
        out.append(notice)
    return out


def _verification(pdf: CjkPdf, doc: DecisionDocument) -> None:
    """How to check the paper is genuine (case number, code, URL and its QR code), at the page foot."""
    url, code = doc.verify_url.strip(), doc.verify_code.strip()
    lines = [f"核验信息：办件编号 {doc.case_number.strip()}" + (f"，核验码 {code}" if code else "") + "。"]
    if url:
        lines.append(f"访问 {url} 或扫描右侧二维码，可核验本文书真伪。")
    else:
        lines.append("可向出具机关核验本文书真伪。")
    text = "\n".join(lines)
    qr_size = 20.0 if url else 0.0
    qr_gap = 3.5 if url else 0.0  # QR readers need a quiet zone of four modules around the code
    pdf.use(SIZE_SMALL4)
    text_w = pdf.text_width - (qr_size + 4 if qr_size else 0)
    rows = sum(len(pdf.wrap(line, text_w)) for line in lines)
    height = max(qr_gap + qr_size, rows * SIZE_SMALL4 / pdf.k * 1.6) + 2
    if pdf.will_page_break(height + LINE_3HAO):
        pdf.add_page()
    # Like GB/T 9704's 版记, the block sits at the foot of the last page.
    pdf.set_y(pdf.h - pdf.b_margin - height - 1)
    pdf.rule(color=BLACK, width=0.25, gap=1)
    top = pdf.get_y()
    if qr_size:
        pdf.qr(url, x=pdf.w - pdf.r_margin - qr_size, y=top + qr_gap, size=qr_size)
    saved_r = pdf.r_margin
    pdf.set_right_margin(saved_r + (qr_size + 4 if qr_size else 0))
    pdf.paragraph(text, size=SIZE_SMALL4, indent=0, align="left")
    pdf.set_right_margin(saved_r)
    pdf.set_y(max(pdf.get_y(), top + qr_gap + qr_size))


def _cn_date(value: dt.date) -> str:
    """2026年1月9日: GB/T 9704 writes dates in Arabic numerals without leading zeros."""
    return f"{value.year}年{value.month}月{value.day}日"


def _check(doc: DecisionDocument) -> list[str]:
    """Every field problem at once (InvalidInput); returns the opinion as a list of paragraphs."""
    errors = FieldErrors()
    for name in ("document_number", "department_name", "applicant_name", "item_name", "case_number"):
        errors.require_text(name, _text(getattr(doc, name)), max_length=_LIMITS[name])
    for name in (
        "enterprise_name",
        "title",
        "legal_basis",
        "validity",
        "delivery_method",
        "verify_url",
        "verify_code",
        "appeal_notice",
    ):
        value = _text(getattr(doc, name))
        if len(value) > _LIMITS[name]:
            errors.add(name, "max_length", Formatted(_("At most %(n)d characters."), {"n": _LIMITS[name]}))
    if doc.decision not in Decision.values:
        errors.add("decision", "invalid_choice", _("Choose approve or reject."))
    if doc.item_type not in ItemType.values:
        errors.add("item_type", "invalid_choice", _("Choose one of the allowed values."))
    for name in ("application_date", "decision_date"):
        value = getattr(doc, name)
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            errors.add(name, "invalid", _("Enter a valid date."))
    if (
        isinstance(doc.application_date, dt.date)
        and isinstance(doc.decision_date, dt.date)
        and doc.decision_date < doc.application_date
    ):
        errors.add(
            "decision_date", "before_application", _("The decision cannot come before the application.")
        )
    raw = [doc.opinion] if isinstance(doc.opinion, str) else list(doc.opinion or ())
    paragraphs = [p.strip() for item in raw for p in _text(item).splitlines() if p.strip()]
    if sum(len(p) for p in paragraphs) > _MAX_OPINION:
        errors.add("opinion", "max_length", Formatted(_("At most %(n)d characters."), {"n": _MAX_OPINION}))
    if doc.decision == Decision.REJECT and not paragraphs:
        errors.add("opinion", "required", _("Give the reasons for the rejection."))
    errors.raise_if_any()
    return paragraphs


def _check_printable(pdf: CjkPdf, doc: DecisionDocument) -> None:
    """Refuse text no installed font can print: a name silently missing a character is worse."""
    errors = FieldErrors()
    for name in (
        "document_number",
        "department_name",
        "applicant_name",
        "enterprise_name",
        "item_name",
        "case_number",
        "title",
        "legal_basis",
        "opinion",
        "validity",
        "appeal_notice",
        "delivery_method",
        "verify_url",
        "verify_code",
    ):
        value = getattr(doc, name)
        text = "".join(value) if isinstance(value, (list, tuple)) else _text(value)
        missing = pdf.unprintable(text)
        if missing:
            errors.add(
                name,
                "unprintable",
                Formatted(_("No installed font can print these characters: %(chars)s"), {"chars": missing}),
            )
    errors.raise_if_any()


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""
