"""The application form of an item on paper: blank (空白表格) and filled in as an example (样表).

Citizens expect both on a guide page (the national portal and 浙里办 offer them for download): the
blank to fill by hand at home or bring to the window, the sample to see what goes where. Both are
drawn from the item's own form fields, so they never disagree with the online form; a sample
value is the field's `example` when the catalogue gives one, else a plausible value of its type
(valid check digits for ID numbers and credit codes, so a clerk reading the sample sees the
shape of a real one). The output is deterministic: equal catalogue versions give equal bytes."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tongban.core import pdf
from tongban.core.identifiers import id_check_char, uscc_check_char

from .models import ItemVersion

LABEL_WIDTH_MM = 52
ROW_HEIGHT_MM = 11
BOX = "□"
SAMPLE_INK = (0, 51, 153)  # sample answers in blue ink, as on the printed 样表 at a window
SAMPLE_PERSON = "张三"
SAMPLE_COMPANY = "广安区示例餐饮有限公司"
SAMPLE_ADDRESS = "四川省广安市广安区示例路 1 号"


def _sample_id_number() -> str:
    first17 = "51160219900101123"
    return first17 + id_check_char(first17)


def _sample_uscc() -> str:
    first17 = "91511602MA62K3L00"
    return first17 + uscc_check_char(first17)


def sample_value(field: dict, on: dt.date) -> str:
    """What the sample shows in one field."""
    if field.get("example"):
        return str(field["example"])
    kind, key, label = field.get("type", "text"), field.get("key", ""), field.get("label", "")
    if kind == "select":
        options = field.get("options") or []
        return str(options[0]) if options else ""
    if kind == "checkbox":
        return "√ 是"
    if kind == "number":
        return "50" if "资本" in label else "100"
    if kind == "date":
        return on.isoformat()
    if kind == "id_number":
        return _sample_id_number()
    if kind == "uscc":
        return _sample_uscc()
    if kind == "phone":
        return "13800000000"
    if "姓名" in label or key.endswith("person_name") or key == "contact_name":
        return SAMPLE_PERSON
    if "地址" in label or "住所" in label or "场所" in label or "address" in key:
        return SAMPLE_ADDRESS
    if "名称" in label or key.endswith("enterprise_name"):
        return SAMPLE_COMPANY
    if kind == "textarea":
        return f"（请如实填写{label}，例如：）符合要求的{label}说明。"
    return f"示例{label}"


def application_form_pdf(version: ItemVersion, *, sample: bool) -> bytes:
    """The blank form, or the sample (red 样表 mark and example values)."""
    item = version.item
    issued = timezone.localtime(version.published_at).date() if version.published_at else dt.date(2026, 1, 1)
    title = f"{version.name}申请表"
    doc = pdf.cjk_pdf(
        title=title + ("（样表）" if sample else ""),
        created=issued,
        author=item.department.name if item.department_id else "",
        subject=item.code,
    )
    if sample:
        doc.use(pdf.SIZE_2HAO, bold=True, color=pdf.RED)
        doc.text_cell(0, 10, "样  表")
        doc.ln(12)
    doc.use(pdf.SIZE_2HAO, bold=True)
    for line in doc.wrap(title, doc.epw):
        doc.set_x(doc.l_margin + max(0, (doc.epw - doc.get_string_width(line)) / 2))
        doc.text_cell(doc.get_string_width(line) + 1, 11, line)
        doc.ln(11)
    doc.ln(2)
    doc.use(pdf.SIZE_SMALL4)
    doc.text_cell(0, 7, f"事项编码：{item.code}")
    doc.ln(7)
    if item.department_id:
        doc.text_cell(0, 7, f"受理部门：{item.department.name}")
        doc.ln(9)
    _field_table(doc, version.form_fields or [], sample=sample, on=issued)
    materials = list(version.materials.all())
    if materials:
        doc.ln(4)
        doc.use(pdf.SIZE_4HAO, bold=True)
        doc.text_cell(0, 8, "申请材料")
        doc.ln(9)
        doc.use(pdf.SIZE_SMALL4)
        for n, m in enumerate(materials, start=1):
            mark = "√" if sample else BOX
            note = "" if m.required else "（如有）"
            doc.paragraph(f"{mark} {n}. {m.name}{note}", size=pdf.SIZE_SMALL4, indent=0)
    doc.ln(4)
    doc.paragraph(
        "申请人承诺：以上所填内容及所交材料真实、合法、有效，如有虚假，愿承担相应法律责任。",
        size=pdf.SIZE_SMALL4,
        indent=0,
    )
    doc.ln(6)
    signer = SAMPLE_PERSON if sample else "________________"
    when = f"{issued.year} 年 {issued.month} 月 {issued.day} 日" if sample else "______ 年 ____ 月 ____ 日"
    doc.use(pdf.SIZE_SMALL4)
    doc.text_cell(0, 8, f"申请人（签字或盖章）：{signer}        日期：{when}")
    doc.ln(10)
    if sample:
        doc.paragraph("本样表中的姓名、证件号码等均为示例，请按本人实际情况填写。", size=10.5, indent=0)
    return doc.to_bytes()


def _field_table(doc, fields: list[dict], *, sample: bool, on: dt.date) -> None:
    """Label and answer per row, ruled like the paper forms at a window; long answers wrap."""
    doc.use(pdf.SIZE_SMALL4)
    label_w = LABEL_WIDTH_MM
    value_w = doc.epw - label_w
    for field in fields:
        label = str(field.get("label") or field.get("key") or "")
        if field.get("required"):
            label = "＊" + label
        if sample:
            value = sample_value(field, on)
        elif field.get("type") == "select" and field.get("options"):
            value = "  ".join(f"{BOX}{o}" for o in field["options"])
        else:
            value = ""
        label_lines = doc.wrap(label, label_w - 4) or [""]
        value_lines = doc.wrap(value, value_w - 4) or [""]
        lines = max(len(label_lines), len(value_lines))
        line_h = 6.5
        height = max(ROW_HEIGHT_MM if field.get("type") != "textarea" else 24, lines * line_h + 4)
        if doc.get_y() + height > doc.page_break_trigger:
            doc.add_page()
        x, y = doc.l_margin, doc.get_y()
        doc.rect(x, y, label_w, height)
        doc.rect(x + label_w, y, value_w, height)
        for i, line in enumerate(label_lines):
            doc.set_xy(x + 2, y + 2 + i * line_h)
            doc.text_cell(label_w - 4, line_h, line)
        doc.use(pdf.SIZE_SMALL4, color=SAMPLE_INK if sample else pdf.BLACK)
        for i, line in enumerate(value_lines):
            doc.set_xy(x + label_w + 2, y + 2 + i * line_h)
            doc.text_cell(value_w - 4, line_h, line)
        doc.use(pdf.SIZE_SMALL4)
        doc.set_xy(x, y + height)
