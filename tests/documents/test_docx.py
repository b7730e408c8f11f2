"""The DOCX for WPS/Word: GB/T 9704 page, fonts named as the standard names them, red mark and
separator, odd/even page numbers; read back with python-docx."""

import io

import docx
import pytest
from docx.oxml.ns import qn

from tongban.documents import docx_out, services

from ..conftest import actor
from .conftest import BODY, make_draft

pytestmark = pytest.mark.django_db


def test_the_docx_has_the_page_the_elements_and_the_fonts_of_the_standard():
    document = services.sign(actor("bureau_head"), make_draft(copy_number="000002", urgency="加急").ref)
    data = services.docx(actor("reviewer"), document.ref)
    read = docx.Document(io.BytesIO(data))
    section = read.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    margins = [
        round(m.mm)
        for m in (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    ]
    assert margins == [37, 35, 28, 26]
    assert section._sectPr.find(qn("w:docGrid")).get(qn("w:type")) == "linesAndChars"
    texts = [p.text for p in read.paragraphs]
    order = ["000002", "加 急", document.mark, document.number, document.title, document.main_recipients]
    positions = [texts.index(t) for t in order]
    assert positions == sorted(positions)
    for line in BODY.split("\n"):
        assert line in texts
    assert "附件：" + document.attachments in texts
    assert document.issuer_name in texts and docx_out.chinese_date(document.date) in texts
    mark = read.paragraphs[texts.index(document.mark)].runs[0]
    assert str(mark.font.color.rgb) == "CC0000"
    assert mark._element.rPr.rFonts.get(qn("w:eastAsia")) == docx_out.XIAOBIAOSONG
    body = read.paragraphs[texts.index(BODY.split("\n")[0])]
    assert body.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == docx_out.FANGSONG
    assert body.paragraph_format.line_spacing.pt == pytest.approx(225 / 22 * 72 / 25.4, abs=0.05)
    heading = read.paragraphs[texts.index("一、工作目标")]
    assert heading.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == docx_out.HEITI
    separator = read.paragraphs[texts.index(document.number)]._p.pPr.find(qn("w:pBdr"))
    assert separator.find(qn("w:bottom")).get(qn("w:color")) == "CC0000"
    assert read.settings.odd_and_even_pages_header_footer
    assert "PAGE" in section.footer._element.xml and "PAGE" in section.even_page_footer._element.xml
    assert any(t.startswith("抄送：") for t in texts)
    assert any(t.startswith(document.printing_agency) and t.endswith("印发") for t in texts)


def test_no_docx_for_whoever_may_not_see_the_document():
    from tongban.core.errors import NotFound

    document = make_draft()
    with pytest.raises(NotFound):
        services.docx(actor("reviewer_rs"), document.ref)
