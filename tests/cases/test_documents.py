"""Decision documents as PDF: what a reader sees, what a machine can extract, and what is refused."""

import datetime as dt
import io
import re
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from tongban.cases.documents import (
    DecisionDocument,
    PdfFontMissing,
    cjk_fonts,
    cjk_pdf,
    decision_title,
    font_path,
    render_decision,
)
from tongban.core import pdf as pdf_layer
from tongban.core.errors import InvalidInput

APPROVAL = DecisionDocument(
    document_number="广安区行审许字〔2026〕第000123号",
    department_name="广安市广安区行政审批局",
    applicant_name="张*丰",
    enterprise_name="广安市味道好餐饮管理有限公司",
    item_name="食品经营许可（新办）",
    case_number="GA20260105000123",
    application_date=dt.date(2026, 1, 5),
    decision="approve",
    decision_date=dt.date(2026, 1, 9),
    legal_basis="《中华人民共和国行政许可法》第三十八条第一款",
    opinion=("许可项目：热食类食品制售。经营场所：广安区建设路88号1层。",),
    validity="自2026年1月9日至2031年1月8日",
    delivery_method="window",
    verify_url="https://zwfw.example.gov.cn/verify/GA20260105000123",
    verify_code="7KQ2-M9XD",
)
REJECTION = replace(
    APPROVAL,
    decision="reject",
    opinion=(
        "经营场所与食品加工区布局不符合《食品经营许可审查通则》的要求。",
        "未提交有效的从业人员健康证明。",
    ),
    validity="",
)


@pytest.fixture
def fonts():
    try:
        return cjk_fonts()
    except PdfFontMissing as exc:
        pytest.skip(f"no CJK font for PDFs: {exc}")


def _reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def _text(data: bytes) -> str:
    """All text of the document with whitespace removed: line breaks may fall inside any phrase."""
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in _reader(data).pages))


def test_an_approval_reads_as_one(fonts):
    text = _text(render_decision(APPROVAL))
    assert text.startswith("广安市广安区行政审批局准予行政许可决定书广安区行审许字〔2026〕第000123号")
    for phrase in (
        "申请人：张*丰",
        "申请单位：广安市味道好餐饮管理有限公司",
        "“食品经营许可（新办）”申请",
        "办件编号：GA20260105000123",
        "于2026年1月5日提出",
        "根据《中华人民共和国行政许可法》第三十八条第一款的规定，本机关决定准予行政许可。",
        "许可项目：热食类食品制售。",
        "有效期：自2026年1月9日至2031年1月8日。",
        "送达方式：窗口领取。",
        "六十日内依法申请行政复议",
        "六个月内依法向人民法院提起行政诉讼",
        "广安市广安区行政审批局2026年1月9日",
        "核验码7KQ2-M9XD",
        "https://zwfw.example.gov.cn/verify/GA20260105000123",
    ):
        assert phrase in text
    assert "不予" not in text


def test_a_rejection_gives_its_reasons_and_the_appeal_rights(fonts):
    text = _text(render_decision(REJECTION))
    assert "不予行政许可决定书" in text
    assert "准予行政许可" not in text
    assert "不符合法定条件、标准，理由如下：经营场所与食品加工区布局" in text
    assert "未提交有效的从业人员健康证明。根据《中华人民共和国行政许可法》" in text
    assert text.count("本机关决定不予行政许可。") == 1
    assert "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议" in text
    assert "有效期" not in text


def test_the_title_follows_decision_and_item_type(fonts):
    assert decision_title("approve", "licensing") == "准予行政许可决定书"
    assert decision_title("reject", "licensing") == "不予行政许可决定书"
    assert decision_title("approve", "public_service") == "办结通知书"
    service = replace(APPROVAL, item_type="public_service", document_number="广安区行审服字〔2026〕第7号")
    text = _text(render_decision(service))
    assert text.startswith("广安市广安区行政审批局办结通知书")
    assert "符合办理条件" in text and "本机关决定予以办理。" in text
    assert "行政许可决定书" not in text
    override = replace(APPROVAL, title="准予变更行政许可决定书")
    assert "准予变更行政许可决定书" in _text(render_decision(override))


def test_the_font_is_embedded_as_a_subset(fonts):
    data = render_decision(APPROVAL)
    embedded = []
    for page in _reader(data).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            assert font["/Subtype"] == "/Type0"
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            stream = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
            assert stream is not None, f"{font['/BaseFont']} is not embedded"
            assert re.match(r"^/[A-Z]{6}\+", font["/BaseFont"]), "a subset carries a six-letter tag"
            embedded.append(len(stream.get_object().get_data()))
    assert embedded
    # The full font is over ten megabytes; a subset of a few hundred glyphs is far smaller.
    assert max(embedded) < 1_000_000
    assert len(data) < 1_000_000


def test_equal_input_gives_equal_bytes_dated_by_the_decision(fonts):
    first = render_decision(APPROVAL)
    assert render_decision(replace(APPROVAL)) == first
    assert render_decision(replace(APPROVAL, decision_date=dt.date(2026, 1, 10))) != first
    info = _reader(first).metadata
    assert info.creation_date == dt.datetime(2026, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert info.title == "准予行政许可决定书 广安区行审许字〔2026〕第000123号"
    assert "张" not in (info.title + info.subject + info.author)  # no personal data in metadata


def test_a_long_body_flows_onto_further_pages_and_stays_extractable(fonts):
    # Hundreds of distinct characters: the embedded font must keep text extractable beyond 255 glyphs.
    ideographs = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 1200))
    paragraphs = tuple(ideographs[i : i + 150] + "。" for i in range(0, len(ideographs), 150))
    data = render_decision(replace(APPROVAL, opinion=paragraphs))
    pages = _reader(data).pages
    assert len(pages) >= 3
    text = re.sub(r"—\d+—", "", _text(data))  # page numbers sit between the pages' text
    for paragraph in paragraphs:
        assert paragraph in text
    assert "—2—" in re.sub(r"\s+", "", pages[1].extract_text())
    # The closing block comes after the body, on the last page.
    last = re.sub(r"\s+", "", pages[-1].extract_text())
    assert "2026年1月9日" in last and "GA20260105000123" in last


def test_optional_fields_may_be_left_out(fonts):
    minimal = DecisionDocument(
        document_number="广安区行审许字〔2026〕第000124号",
        department_name="广安区行政审批局",
        applicant_name="李*",
        item_name="公共场所卫生许可",
        case_number="GA20260105000124",
        application_date=dt.date(2026, 1, 5),
        decision="approve",
        decision_date=dt.date(2026, 1, 5),
    )
    text = _text(render_decision(minimal))
    assert "经审查，你（单位）的申请符合法定条件、标准，本机关决定准予行政许可。" in text
    for absent in ("申请单位", "有效期", "送达方式", "根据", "核验码", "http"):
        assert absent not in text
    assert "可向出具机关核验本文书真伪" in text
    assert "六十日内" in text
    assert "六十日内" not in _text(render_decision(replace(minimal, appeal_notice="")))
    custom = "如不服本决定，可以自收到本决定书之日起六十日内向广安区人民政府申请行政复议。"
    assert custom in _text(
        render_decision(replace(minimal, appeal_notice=custom, delivery_method="专人送达"))
    )


def test_bad_input_names_every_bad_field():
    bad = replace(
        APPROVAL,
        case_number="  ",
        decision="maybe",
        item_type="licence",
        decision_date=dt.date(2026, 1, 4),
        document_number="号" * 61,
    )
    with pytest.raises(InvalidInput) as caught:
        render_decision(bad)
    fields = caught.value.fields
    assert set(fields) == {"case_number", "decision", "item_type", "decision_date", "document_number"}
    assert fields["case_number"][0].code == "required"
    assert fields["decision"][0].code == "invalid_choice"
    assert fields["decision_date"][0].code == "before_application"
    assert fields["document_number"][0].code == "max_length"


def test_a_rejection_without_reasons_is_refused():
    with pytest.raises(InvalidInput) as caught:
        render_decision(replace(REJECTION, opinion=("  ",)))
    assert set(caught.value.fields) == {"opinion"}
    assert caught.value.fields["opinion"][0].code == "required"


def test_dates_must_be_dates():
    with pytest.raises(InvalidInput) as caught:
        render_decision(replace(APPROVAL, application_date="2026-01-05", decision_date=None))
    assert set(caught.value.fields) == {"application_date", "decision_date"}


def test_characters_no_font_can_print_are_refused_not_dropped(fonts):
    with pytest.raises(InvalidInput) as caught:
        render_decision(replace(APPROVAL, applicant_name="张\U000f0001"))
    assert set(caught.value.fields) == {"applicant_name"}
    assert caught.value.fields["applicant_name"][0].code == "unprintable"
    assert "\U000f0001" in str(caught.value.fields["applicant_name"][0].message)


def test_a_rare_character_is_printed_from_a_fallback_face(fonts):
    regular = pdf_layer._codepoints(fonts.regular)
    covered = (
        set().union(*(pdf_layer._codepoints(face) for face in fonts.fallbacks)) if fonts.fallbacks else set()
    )
    rare = next((chr(c) for c in range(0x3400, 0x4DC0) if c not in regular and c in covered), None)
    if rare is None:
        pytest.skip("no installed fallback face prints a character the main face lacks")
    data = render_decision(replace(APPROVAL, applicant_name=f"王{rare}"))
    names = {
        str(font.get_object()["/BaseFont"])
        for page in _reader(data).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert len(names) >= 3  # regular, bold and the fallback face


def test_lines_keep_the_chinese_line_breaking_rules(fonts):
    pdf = cjk_pdf(title="test", created=dt.date(2026, 1, 1))
    pdf.use(16)
    text = "本机关认为（经审查）“材料齐全”，符合《规定》。" * 30
    for width in (60, 77.5, 100, 156):
        lines = pdf.wrap(text, width)
        assert "".join(lines) == text
        for line in lines[1:]:
            assert line[0] not in "，。、；：？！）》”", line
        for line in lines[:-1]:
            assert line[-1] not in "（《“", line
            # At most one closing mark hangs past the margin.
            assert pdf.get_string_width(line) <= width + pdf.get_string_width("，") + 1e-6


def test_the_font_can_be_set_and_bold_is_drawn_without_a_bold_face(fonts, settings):
    settings.TONGBAN_PDF_FONT = fonts.regular.path
    assert font_path() == fonts.regular.path
    assert cjk_fonts().bold is None
    data = render_decision(APPROVAL)
    assert "准予行政许可决定书" in _text(data)
    content = b"".join(page.get_contents().get_data() for page in _reader(data).pages)
    # Department and title are stroked to look bold, and the body after them is not.
    assert content.count(b"2 Tr") == content.count(b"0 Tr") == 2


def test_a_missing_font_setting_is_a_clear_configuration_error(settings, tmp_path):
    settings.TONGBAN_PDF_FONT = str(tmp_path / "nope.ttf")
    with pytest.raises(PdfFontMissing, match="TONGBAN_PDF_FONT"):
        cjk_fonts()


@pytest.fixture
def no_fonts(monkeypatch):
    monkeypatch.setattr(pdf_layer, "KNOWN_FONTS", ())
    monkeypatch.setattr(pdf_layer, "_fc_match", lambda: None)
    pdf_layer._resolve_fonts.cache_clear()
    yield
    pdf_layer._resolve_fonts.cache_clear()


def test_without_any_chinese_font_the_error_names_the_package(no_fonts):
    with pytest.raises(PdfFontMissing, match="fonts-lxgw-wenkai"):
        render_decision(APPROVAL)
