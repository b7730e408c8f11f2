"""Official documents as DOCX, for agencies that edit in WPS or Word (python-docx).

The page is GB/T 9704's: A4, margins 37/35/28/26 mm, body 3号 on an exact line pitch of 225/22 mm
(22 lines a page) with the document grid at 28 characters a line. Fonts are named as the standard
names them (仿宋_GB2312, 方正小标宋简体, 黑体, 楷体_GB2312): an office with those fonts shows the
document as printed; WPS and Word substitute their own faces elsewhere. The mark and separator are
red; page numbers "— n —" in 4号 sit right on odd pages and left on even ones (odd/even footers).
"""

from __future__ import annotations

import io

from docx import Document as DocxDocument
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from .models import UPWARD_TYPES, Document
from .render import _HEADING_1, _HEADING_2, AREA_H, LINES, chinese_date

FANGSONG, XIAOBIAOSONG, HEITI, KAITI = "仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312"
LINE_PT = AREA_H / LINES * 72 / 25.4  # 28.99 pt
RED = RGBColor(0xCC, 0x00, 0x00)


def _run(paragraph, text: str, *, font: str = FANGSONG, size: float = 16, color=None, bold=False):
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.font.name = font
    run.font.bold = bold
    r_fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    r_fonts.set(qn("w:eastAsia"), font)
    if color is not None:
        run.font.color.rgb = color
    return run


def _paragraph(
    doc,
    text: str = "",
    *,
    font=FANGSONG,
    size=16.0,
    align=None,
    indent_chars=0.0,
    right_chars=0.0,
    color=None,
    exact=True,
):
    paragraph = doc.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    if exact:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(LINE_PT)
    if align is not None:
        paragraph.alignment = align
    if indent_chars:
        fmt.first_line_indent = Pt(size * indent_chars)
    if right_chars:
        fmt.right_indent = Pt(size * right_chars)
    if text:
        _run(paragraph, text, font=font, size=size, color=color)
    return paragraph


def _border(paragraph, edge: str, *, color: str, size_eighths: int) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    line = OxmlElement(f"w:{edge}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(size_eighths))
    line.set(qn("w:space"), "1")
    line.set(qn("w:color"), color)
    borders.append(line)
    p_pr.append(borders)


def _page_field(paragraph) -> None:
    _run(paragraph, "— ", size=14)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)
    _run(paragraph, " —", size=14)


def render_docx(document: Document) -> bytes:
    doc = DocxDocument()
    section = doc.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(35 - 7 - 5)
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(round(LINE_PT * 20)))
    grid.set(qn("w:charSpace"), "-842")  # 28 characters of 16 pt in 156 mm
    doc.settings.odd_and_even_pages_header_footer = True
    odd = section.footer.paragraphs[0]
    odd.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    odd.paragraph_format.right_indent = Pt(14)
    _page_field(odd)
    even = section.even_page_footer.paragraphs[0]
    even.alignment = WD_ALIGN_PARAGRAPH.LEFT
    even.paragraph_format.left_indent = Pt(14)
    _page_field(even)
    styles = doc.styles["Normal"]
    styles.font.name = FANGSONG
    styles.element.rPr.rFonts.set(qn("w:eastAsia"), FANGSONG)
    styles.font.size = Pt(16)
    doc.core_properties.title = document.title
    doc.core_properties.author = document.issuer_name
    doc.core_properties.subject = document.number or document.ref

    # 版头
    if document.copy_number:
        _paragraph(doc, document.copy_number, font=HEITI)
    if document.urgency:
        _paragraph(doc, " ".join(document.urgency), font=HEITI)
    mark_size = min(42.0, 156 / max(len(document.mark), 1) * 72 / 25.4)
    mark = _paragraph(doc, align=WD_ALIGN_PARAGRAPH.CENTER, exact=False)
    mark.paragraph_format.space_before = Pt(LINE_PT * (2 if not document.copy_number else 1))
    _run(mark, document.mark, font=XIAOBIAOSONG, size=mark_size, color=RED)
    _paragraph(doc)
    if document.number:
        if document.doc_type in UPWARD_TYPES and document.signer_names:
            line = _paragraph(doc, indent_chars=1)
            _run(line, document.number)
            _run(line, "\u3000" * 6 + "签发人：")
            _run(line, document.signer_names, font=KAITI)
        else:
            line = _paragraph(doc, document.number, align=WD_ALIGN_PARAGRAPH.CENTER)
        if document.form != "order":
            _border(line, "bottom", color="CC0000", size_eighths=12)
    _paragraph(doc)
    # 主体
    title = _paragraph(doc, align=WD_ALIGN_PARAGRAPH.CENTER, exact=False)
    _run(title, document.title, font=XIAOBIAOSONG, size=22)
    _paragraph(doc)
    if document.main_recipients:
        _paragraph(doc, document.main_recipients)
    for para in document.body.replace("\r\n", "\n").split("\n"):
        para = para.strip()
        if not para:
            continue
        font = HEITI if _HEADING_1.match(para) else KAITI if _HEADING_2.match(para) else FANGSONG
        _paragraph(doc, para, font=font, indent_chars=2, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    attachments = document.attachment_list
    if attachments:
        _paragraph(doc)
        for n, name in enumerate(attachments, start=1):
            item = f"{n}．{name}" if len(attachments) > 1 else name
            _paragraph(doc, ("附件：" if n == 1 else "\u3000\u3000\u3000") + item, indent_chars=2)
    _paragraph(doc)
    _paragraph(doc)
    date = chinese_date(document.date or document.created_at.date())
    _paragraph(doc, document.issuer_name, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=2)
    _paragraph(doc, date, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4)
    if document.note:
        _paragraph(doc, f"（{document.note.strip('（）()')}）", indent_chars=2)
    # 版记
    if document.cc or document.printing_agency:
        _paragraph(doc)
        if document.cc:
            cc = document.cc.strip()
            cc = cc if cc.endswith("。") else cc + "。"
            line = _paragraph(doc, "抄送：" + cc, size=14)
            line.paragraph_format.left_indent = Pt(14)
            _border(line, "top", color="000000", size_eighths=8)
        printing = document.printing_date or document.date
        line = _paragraph(doc, size=14)
        line.paragraph_format.left_indent = Pt(14)
        _run(line, document.printing_agency, size=14)
        if printing:
            _run(line, "\t" + chinese_date(printing) + "印发", size=14)
            line.paragraph_format.tab_stops.add_tab_stop(Mm(156) - Pt(28), alignment=2)  # right
        _border(line, "top", color="000000", size_eighths=4 if document.cc else 8)
        _border(line, "bottom", color="000000", size_eighths=8)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
