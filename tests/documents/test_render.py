"""GB/T 9704-2012 layout, checked on the PDF itself: pypdf reads back where every piece of text was
drawn (and in which colour), so the tests measure the page as a reader would, not the renderer's
own bookkeeping. Page 1 is also rendered to PNG (pdftoppm) as a test artefact to look at."""

import io
import itertools
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from tongban.core.pdf import PdfFontMissing
from tongban.documents import render, services
from tongban.documents.models import Document

from ..conftest import actor
from .conftest import make_draft

pytestmark = pytest.mark.django_db

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"
MM = 72 / 25.4
PARA = (
    "为深入贯彻落实党中央、国务院关于优化营商环境的决策部署，进一步提升政务服务效能，推动“高效办成"
    "一件事”，现就有关事项通知如下：各单位要加强组织领导，明确责任分工，确保各项任务按期完成。"
)
LONG_BODY = "\n".join(
    ["一、总体要求", "（一）指导思想。" + PARA, "1.工作目标。" + PARA * 2, "（1）" + PARA] * 6
)


def read(data: bytes) -> list[list[dict]]:
    """Per page: every text run with its position (mm from the page's top left) and fill colour."""
    pages = []
    for page in PdfReader(io.BytesIO(data)).pages:
        runs: list[dict] = []
        colour = [(0.0, 0.0, 0.0)]
        saved: list = []
        height = float(page.mediabox.height)

        def operand(op, args, cm, tm, colour=colour, saved=saved):
            if op == b"q":
                saved.append(colour[0])
            elif op == b"Q" and saved:
                colour[0] = saved.pop()
            elif op == b"rg":
                colour[0] = tuple(round(float(a), 2) for a in args)
            elif op == b"g":
                colour[0] = (round(float(args[0]), 2),) * 3

        def text(t, cm, tm, font, size, runs=runs, colour=colour, height=height):
            if t.strip():
                runs.append(
                    {"text": t, "x": tm[4] / MM, "y": (height - tm[5]) / MM, "size": size, "rgb": colour[0]}
                )

        page.extract_text(visitor_operand_before=operand, visitor_text=text)
        pages.append(runs)
    return pages


def find(runs, text):
    return next(r for r in runs if r["text"].strip() == text)


@pytest.fixture
def signed():
    document = make_draft(body=LONG_BODY, copy_number="000001", urgency="特急")
    return services.sign(actor("bureau_head"), document.ref)


def test_the_page_the_header_and_the_title_sit_where_gbt_9704_puts_them(signed):
    data = services.pdf(actor("reviewer"), signed.ref)
    reader = PdfReader(io.BytesIO(data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / MM), round(float(box.height) / MM)) == (210, 297)
    pages = read(data)
    first = pages[0]
    copy_number, urgency = find(first, "000001"), find(first, "特 急")
    assert copy_number["x"] == pytest.approx(28, abs=0.1)  # left edge of the type area
    assert urgency["y"] - copy_number["y"] == pytest.approx(225 / 22, abs=0.2)  # the next line
    mark = find(first, signed.mark)
    assert mark["rgb"] == (0.8, 0.0, 0.0)  # red
    em = mark["size"] / MM
    assert mark["y"] - em * 0.88 == pytest.approx(37 + 35, abs=1.5)  # glyph top 35 mm under the area's top
    width = em * len(signed.mark)
    assert mark["x"] + width / 2 == pytest.approx(28 + 156 / 2, abs=0.5)  # centred
    number = find(first, signed.number)
    assert number["rgb"] == (0.0, 0.0, 0.0) and number["size"] == 16
    assert number["y"] - mark["y"] == pytest.approx(2 * 225 / 22 + 225 / 22 / 2 + 2.6, abs=3)  # 空二行
    title = next(r for r in first if r["text"].startswith("广安区市场监督管理局关于"))
    assert title["size"] == 22 and title["y"] > number["y"] + 2 * 225 / 22  # under the separator + 2 lines
    recipients = find(first, signed.main_recipients)
    assert recipients["x"] == pytest.approx(28, abs=0.1) and recipients["size"] == 16
    # the red separator: a red line across the type area, 4 mm under the number's glyphs
    content = reader.pages[0].get_contents().get_data().decode("latin-1")
    red_lines = [line for line in content.splitlines() if line.endswith(" l S")]
    assert any(
        abs(float(parts[0]) / MM - 28) < 0.1 and abs(float(parts[3]) / MM - 184) < 0.1
        for parts in (line.split() for line in red_lines)
    )


def test_the_body_runs_22_lines_of_28_characters_and_no_line_starts_with_closing_punctuation(signed):
    rendered = render.render_pdf(signed)
    pages = read(rendered.pdf)
    assert rendered.pages == len(pages) >= 3
    for number, runs in enumerate(pages[1:-1], start=2):  # full pages between the first and the last
        body = [r for r in runs if r["size"] == 16]
        rows = sorted({round(r["y"], 2) for r in body})
        assert len(rows) == 22, f"page {number}"
        for a, b in itertools.pairwise(rows):
            assert b - a == pytest.approx(225 / 22, abs=0.02)
        for run in body:
            text = run["text"].strip()
            assert text[0] not in render.NO_LINE_START, text
            assert text[-1] not in render.NO_LINE_END, text
            cells = sum(0.5 if ch.isascii() else 1 for ch in text)
            assert cells <= 28, text
            # every line ends inside the right margin of the type area
            assert run["x"] >= 28 - 0.01
    lines = [text for _page, _slot, text in rendered.body_lines]
    full = [t for t in lines if all(not ch.isascii() for ch in t) and len(t) >= 27]
    assert full and max(len(t) for t in full) == 28


def test_page_numbers_are_4hao_with_dashes_odd_right_even_left(signed):
    pages = read(render.render_pdf(signed).pdf)
    for number, runs in enumerate(pages, start=1):
        run = find(runs, f"— {number} —")
        assert run["size"] == 14
        assert run["y"] == pytest.approx(297 - 35 + 7 + 14 / MM * 0.8, abs=2)
        if number % 2:
            assert run["x"] > 105  # right
        else:
            assert run["x"] < 105 and run["x"] == pytest.approx(28 + 14 / MM, abs=0.2)


def test_the_sign_off_and_the_imprint_close_the_last_page(signed):
    rendered = render.render_pdf(signed)
    last = read(rendered.pdf)[-1]
    date = find(last, render.chinese_date(signed.date))
    issuer = find(last, signed.issuer_name)
    placed = rendered.places["date"]
    assert date["x"] == pytest.approx(placed.x, abs=0.01)
    assert 184 - (placed.x + placed.w) == pytest.approx(4 * 156 / 28, abs=0.01)  # 右空四字
    assert issuer["y"] < date["y"]
    cc = next(r for r in last if r["text"].startswith("抄送："))
    printing = next(r for r in last if r["text"].startswith(signed.printing_agency))
    assert cc["size"] == printing["size"] == 14
    assert printing["y"] > cc["y"]
    assert printing["y"] == pytest.approx(37 + 225 - 225 / 22 / 2 + 1.5, abs=2.5)  # the last line
    assert rendered.places["imprint"].y + rendered.places["imprint"].h == pytest.approx(262)


def test_letters_orders_and_upward_documents_take_their_own_header():
    head = actor("bureau_head")
    letter = services.sign(head, make_draft(doc_type="letter", body=LONG_BODY).ref)
    pages = read(render.render_pdf(letter).pdf)
    assert not any(r["text"].startswith("— 1") for r in pages[0])  # no number on a letter's first page
    assert any(r["text"].startswith("— 2") for r in pages[1])
    mark = find(pages[0], letter.mark)
    assert letter.mark == "广安区市场监督管理局" and mark["rgb"] == (0.8, 0.0, 0.0)
    assert mark["y"] < 37 + 35  # 30 mm from the paper's top, not 35 under the type area
    assert find(pages[0], letter.number)["x"] > 105  # 发文字号 at the right

    request = services.sign(head, make_draft(doc_type="request", main_recipients="区政府：").ref)
    placed = render.render_pdf(request).places
    assert placed["mark"].y == pytest.approx(37 + 80)
    assert placed["number"].x == pytest.approx(28 + 156 / 28)  # 居左空一字
    assert placed["signer"].y == placed["number"].y  # 签发人 on the number's line, at the right
    runs = read(render.render_pdf(request).pdf)[0]
    assert find(runs, "孙局长")["x"] > 105

    order = services.sign(head, make_draft(doc_type="order", main_recipients="", mark="广安区人民政府令").ref)
    placed = render.render_pdf(order).places
    assert placed["mark"].y == pytest.approx(37 + 20) and "separator" not in placed


def test_break_lines_keeps_closing_marks_off_line_starts_and_opening_marks_off_line_ends():
    one = lambda ch: 1.0  # noqa: E731
    text = "一" * 28 + "。二"
    lines = render.break_lines(text, 28, one)
    assert lines == ["一" * 27, "一。二"]
    lines = render.break_lines("一" * 27 + "“引”", 28, one)
    assert lines == ["一" * 27, "“引”"]
    lines = render.break_lines("一" * 27 + "”。" + "二", 28, one)
    assert all(line[0] not in render.NO_LINE_START for line in lines)
    assert max(len(line) for line in lines) <= 28


def test_equal_documents_render_to_equal_bytes_and_page_one_is_kept_as_an_image(signed):
    one = render.render_pdf(signed).pdf
    two = render.render_pdf(Document.objects.get(pk=signed.pk)).pdf
    assert one == two
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm missing: bash scripts/system-deps.sh poppler")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "document-layout.pdf").write_bytes(one)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "72",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(ARTIFACTS / "document-layout.pdf"),
            str(ARTIFACTS / "document-page1"),
        ],
        check=True,
    )
    png = (ARTIFACTS / "document-page1.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_an_agency_font_setting_that_names_no_file_is_a_clear_configuration_error(settings, signed):
    settings.TONGBAN_DOCUMENT_FONTS = {"fangsong": "/nowhere/仿宋_GB2312.ttf"}
    with pytest.raises(PdfFontMissing, match="fangsong"):
        render.render_pdf(signed)


def test_who_may_not_see_the_document_gets_no_pdf(signed):
    from tongban.core.errors import NotFound

    with pytest.raises(NotFound):
        services.pdf(actor("reviewer_rs"), signed.ref)
