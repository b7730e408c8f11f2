"""The public licence scan under attack: what an anonymous caller can send to /verify/scan/ and
POST /api/v1/licences/scan, and that every such input gets an answer (a status, or a field error
in both languages) instead of a 500, a long decode or hundreds of megabytes of memory.

The files are built here the way their producers lay them out: Pillow for photos, fpdf2 (our own
licence PDF) and hand-written PDF objects for the crafted ones.
"""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from typer.testing import CliRunner

from tongban.accounts.seed import ENTERPRISES, demo_uscc
from tongban.cli.main import app
from tongban.core.errors import InvalidInput
from tongban.core.i18n import bilingual
from tongban.core.models import AuditEntry
from tongban.licences import demo, render, services
from tongban.licences.models import Licence

RESTAURANT = demo_uscc(ENTERPRISES[0][0])


@pytest.fixture
def held(db):
    demo.load_types()
    demo.load_licences()


def _licence():
    return Licence.objects.get(licence_type__code="business_licence", holder_index=RESTAURANT)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def huge_png(width: int = 10_000, height: int = 10_000) -> bytes:
    """A well-formed black greyscale PNG of width × height: ~97 KB on disk, 100 million pixels."""
    squeeze = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    body = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def photo(kind: str = "JPEG") -> bytes:
    """A phone-style photo of the licence: the rendered PNG re-encoded (JPEG loses detail)."""
    from PIL import Image

    image = Image.open(io.BytesIO(render.licence_png(_licence()))).convert("RGB")
    out = io.BytesIO()
    image.save(out, format=kind, quality=85)
    return out.getvalue()


def pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_with_image(
    filters: bytes, data: bytes, width: int = 64, height: int = 64, extra: bytes = b""
) -> bytes:
    image = (
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /BitsPerComponent 8 "
        b"/ColorSpace /DeviceGray /Filter %s /Length %d %s>>\nstream\n"
        % (width, height, filters, len(data), extra)
        + data
        + b"\nendstream"
    )
    return pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 5 0 R "
            b"/Resources << /XObject << /Im0 4 0 R >> >> >>",
            image,
            b"<< /Length 30 >>\nstream\nq 100 0 0 100 0 0 cm /Im0 Do Q\nendstream",
        ]
    )


def _refused(content: bytes, name: str = "licence.png") -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        services.scan_upload(None, name, content)
    assert set(caught.value.fields) == {"file"}
    for problem in caught.value.fields["file"]:
        text = bilingual(problem.message)
        assert text["en"] and text["zh-Hans"] != text["en"]  # a message in each language
    return [problem.code for problem in caught.value.fields["file"]]


# --- images ---------------------------------------------------------------------------------------


def test_truncated_png_and_jpeg_are_refused_as_damaged(held):
    png = render.licence_png(_licence())
    jpeg = photo("JPEG")
    assert _refused(png[: len(png) // 2]) == ["damaged"]
    assert _refused(jpeg[: len(jpeg) // 2], "licence.jpg") == ["damaged"]
    assert _refused(png[:-12]) == ["damaged"]  # only the end marker missing


def test_a_pixel_bomb_is_refused_from_its_header_without_decoding(held, monkeypatch):
    from PIL import ImageFile

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    bomb = huge_png()
    assert len(bomb) < 120_000
    assert _refused(bomb) == ["too_many_pixels"]


def test_a_photo_just_over_the_scan_limit_is_refused_and_says_the_limit(held, settings):
    settings.TONGBAN_SCAN_MAX_PIXELS = 1_000_000
    with pytest.raises(InvalidInput) as caught:
        services.scan_upload(None, "licence.png", huge_png(1001, 1000))
    (problem,) = caught.value.fields["file"]
    assert problem.code == "too_many_pixels" and "1" in bilingual(problem.message)["en"]


def test_an_image_with_an_archive_after_its_end_is_refused(held):
    from tests.core.test_files import ARCHIVE

    assert _refused(render.licence_png(_licence()) + ARCHIVE) == ["polyglot"]


def test_a_genuine_photo_and_the_licence_files_still_verify(held):
    licence = _licence()
    assert services.scan_upload(None, "photo.jpg", photo("JPEG")).status == "valid"
    assert services.scan_upload(None, "licence.png", render.licence_png(licence)).status == "valid"
    assert services.scan_upload(None, "licence.pdf", render.licence_pdf(licence)).status == "valid"


def test_files_that_are_not_photos_or_pdfs_are_refused(held):
    from tests.core.test_files import docx

    assert _refused(docx(), "licence.docx") == ["type_not_allowed"]
    assert _refused(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "licence.gif") == ["type_not_allowed"]
    assert _refused(b"", "licence.png") == ["empty"]


# --- PDFs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filters",
    [
        b"/JBIG2Decode",
        b"/JPXDecode",
        b"/LZWDecode",
        b"/RunLengthDecode",
        b"[/FlateDecode /JBIG2Decode]",
        b"/Foo",
    ],
)
def test_a_pdf_whose_image_we_cannot_decode_is_refused_by_name(held, filters):
    with pytest.raises(InvalidInput) as caught:
        services.scan_upload(None, "licence.pdf", pdf_with_image(filters, b"\x00\x01garbage"))
    (problem,) = caught.value.fields["file"]
    assert problem.code == "unsupported_image"
    assert filters.decode().strip("[]").split("/")[-1] in bilingual(problem.message)["en"]


def test_a_pdf_image_bomb_is_refused_without_inflating_it(held):
    bomb = zlib.compress(b"\x00" * (64 * 1024 * 1024), 9)
    assert _refused(pdf_with_image(b"/FlateDecode", bomb, 40_000, 40_000), "licence.pdf") == [
        "too_many_pixels"
    ]
    # Small declared size, large content: the image data inflates past what its size allows.
    assert _refused(pdf_with_image(b"/FlateDecode", bomb, 64, 64), "licence.pdf") == ["damaged"]


def test_a_fax_image_declaring_a_huge_width_in_its_parameters_is_refused(held):
    """CCITT images are sized by /DecodeParms /Columns, not /Width: both must fit the limit."""
    wide = pdf_with_image(
        b"/CCITTFaxDecode", b"\x00" * 64, 64, 200, b"/DecodeParms << /K -1 /Columns 1000000 >> "
    )
    assert _refused(wide, "licence.pdf") == ["too_many_pixels"]


@pytest.mark.parametrize(
    ("filters", "data"),
    [
        (b"/FlateDecode", b""),
        (b"/FlateDecode", b"\x00\x01garbage"),
        (b"/FlateDecode", zlib.compress(b"\x00" * 10)),
        (b"/DCTDecode", b"\xff\xd8\xff\xe0garbage"),
        (b"/CCITTFaxDecode", b"\xff" * 40),
    ],
    ids=["empty", "not-zlib", "too-short", "not-a-jpeg", "ccitt-garbage"],
)
def test_a_pdf_image_with_broken_data_is_refused_as_damaged(held, filters, data):
    assert _refused(pdf_with_image(filters, data), "licence.pdf") == ["damaged"]


def test_a_jpeg_inside_a_pdf_is_held_to_the_same_pixel_limit(held):
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (8000, 8000), 255).save(out, format="JPEG")
    embedded = pdf_with_image(b"/DCTDecode", out.getvalue(), 64, 64)  # the dictionary lies
    assert _refused(embedded, "licence.pdf") == ["too_many_pixels"]


def test_a_pdf_with_no_licence_code_reads_as_unreadable(held):
    from tests.core.test_files import simple_pdf

    assert services.scan_upload(None, "other.pdf", simple_pdf()).status == "unreadable"


# --- the text box and the API ---------------------------------------------------------------------

# A PDF as text, such as a scanner would type from a QR holding one: its image is JBIG2-encoded.
CRAFTED_PDF_TEXT = pdf_with_image(b"/JBIG2Decode", b"abc").replace(b"%\xe2\xe3\xcf\xd3\n", b"").decode()


@pytest.mark.parametrize(
    "text",
    [CRAFTED_PDF_TEXT, "%PDF-1.7\n" + "[" * 3000, "\x89PNG\r\n\x1a\n", "TBL1." + "A" * 3990],
    ids=["pdf-jbig2", "pdf-nesting", "png-signature", "long-garbage"],
)
def test_the_api_reads_text_as_text(held, client, text):
    """The API's `text` is what a scanner typed: never parsed as a PDF or an image."""
    response = client.post("/api/v1/licences/scan", {"text": text}, content_type="application/json")
    assert response.status_code == 200, response.content[:300]
    assert response.json()["status"] == "unreadable"
    assert AuditEntry.objects.filter(action="licences.licence.scan").exists()


def test_nul_in_the_scanned_text_is_refused_at_the_edge(held, client):
    """A NUL cannot be stored (PostgreSQL text), so core.edge refuses it before the scan runs."""
    response = client.post("/api/v1/licences/scan", {"text": "\u0000" * 10}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["text"][0]["code"] == "bad_character"


def test_the_page_shows_a_refused_upload_under_the_file_field(held, client):
    png = render.licence_png(_licence())
    page = client.post("/verify/scan/", {"file": SimpleUploadedFile("licence.png", png[:5000])})
    assert page.status_code == 400
    body = page.content.decode()
    assert 'data-field="file"' in body and 'aria-invalid="true"' in body
    assert "scan-result" not in body
    refused = AuditEntry.objects.filter(action="licences.licence.scan", outcome="invalid").get()
    assert refused.detail == {"problems": ["damaged"]}
    bomb = client.post("/verify/scan/", {"file": SimpleUploadedFile("big.png", huge_png())})
    assert bomb.status_code == 400 and 'data-field="file"' in bomb.content.decode()
    text = client.post("/verify/scan/", {"text": CRAFTED_PDF_TEXT})
    assert text.status_code == 200 and 'data-status="unreadable"' in text.content.decode()


def test_the_cli_reports_a_damaged_file_instead_of_crashing(held, tmp_path):
    damaged = tmp_path / "licence.png"
    damaged.write_bytes(render.licence_png(_licence())[:4000])
    result = CliRunner().invoke(app, ["licence", "verify", str(damaged)], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert "damaged" in result.output or "损坏" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
