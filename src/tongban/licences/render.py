"""A licence on paper or screen (PNG, PDF) with a QR code that verifies offline, and reading it back.

The QR carries the signed payload itself inside the address of our public verification page
(`<TONGBAN_PUBLIC_URL>/verify/qr?t=TBL1.<payload>.<signature>`), each part base64url, the payload
zlib-compressed canonical JSON: a phone camera opens the page, and a verifier with no network takes
the token out of the address. A verifier with the departments' published
public keys (GET /api/v1/licences/keys) checks it with no network: signature, key, expiry.
Revocation is the one thing paper cannot know; the online check (/verify/<code>) adds it.

Reading back takes the text a handheld scanner types (`verify_offline` directly), or an uploaded
photo or scan (PNG/JPEG) or licence PDF (`read_qr_file`; the QR is embedded as an image so it can be
taken out again), judged as hostile input first.
"""

import base64
import datetime as dt
import io
import json
import logging
import zlib
from dataclasses import dataclass

import segno
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tongban.core import files, sm2
from tongban.core.errors import Formatted, InvalidInput
from tongban.core.masking import mask_id_number, mask_name

from .models import HolderKind, Licence

PREFIX = "TBL1"
MAX_QR_TEXT = 4000  # a version-40 QR holds 2,953 bytes; anything longer is not ours


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signed_token(licence: Licence) -> str:
    payload = licence.payload.encode()
    return f"{PREFIX}.{_b64(zlib.compress(payload, 9))}.{_b64(bytes.fromhex(licence.signature))}"


def qr_text(licence: Licence) -> str:
    """What the QR holds: the address of our public verification page with the signed token in it.
    A phone camera or WeChat opens the page (a bare token read as gibberish); our own tools take
    the token out of the address and still verify it offline."""
    base = settings.TONGBAN_PUBLIC_URL.rstrip("/")
    return f"{base}/verify/qr?t={signed_token(licence)}"


def token_of(text: str) -> str:
    """The signed token in what a scanner read: the token itself, or our verification address."""
    text = (text or "").strip()
    if text.startswith(PREFIX + "."):
        return text
    marker = "t=" + PREFIX + "."
    at = text.find(marker)
    if at < 0:
        return text
    return text[at + 2 :].split("&", 1)[0].split("#", 1)[0]


# --- offline verification ------------------------------------------------------------------------


@dataclass
class OfflineResult:
    status: str  # valid | expired | tampered | unknown_key | unreadable
    reason: str
    code: str = ""
    type_name: str = ""
    holder: str = ""  # masked for persons
    issuer: str = ""
    valid_until: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "valid"


def key_table(published: list[dict]) -> dict[tuple[str, str], object]:
    """(department, key_id) → loaded public key, from the published key list (the API's JSON or
    `public_keys()`); loading once keeps each verification to the signature check itself."""
    return {(k["department"], k["key_id"]): sm2.public_key_object(k["public_key"]) for k in published}


def verify_offline(
    text: str, keys: dict[tuple[str, str], object], today: dt.date | None = None
) -> OfflineResult:
    """Check a QR's content against published public keys alone: no database, no network."""
    text = token_of(text)
    parts = text.split(".")
    if len(text) > MAX_QR_TEXT or len(parts) != 3 or parts[0] != PREFIX:
        return OfflineResult("unreadable", _("This is not a tongban licence code."))
    try:
        payload = zlib.decompress(_unb64(parts[1]), bufsize=8192)
        signature = _unb64(parts[2])
        data = json.loads(payload)
        issuer, key_id = data["issuer"], data["key_id"]
    except (ValueError, KeyError, TypeError, zlib.error):
        return OfflineResult("unreadable", _("The code is damaged and cannot be read."))
    holder = data.get("holder") or {}
    result = OfflineResult(
        "valid",
        _("The signature is intact and the licence has not expired. Check online whether it was revoked."),
        code=str(data.get("code", "")),
        type_name=str(data.get("type_name", "")),
        holder=(
            str(holder.get("name", ""))
            if holder.get("kind") == HolderKind.ENTERPRISE
            else f"{mask_name(str(holder.get('name', '')))} {mask_id_number(str(holder.get('id', '')))}"
        ),
        issuer=str(data.get("issuer_name", "")),
        valid_until=data.get("valid_until"),
    )
    public_key = keys.get((issuer, key_id))
    if public_key is None:
        result.status = "unknown_key"
        result.reason = _("The issuing department's key %(key)s is not among the published keys.") % {
            "key": key_id
        }
    elif not sm2.verify(public_key, payload, signature):
        result.status, result.reason = "tampered", _("The signature does not match the licence's content.")
    elif result.valid_until and dt.date.fromisoformat(result.valid_until) < (today or timezone.localdate()):
        result.status, result.reason = "expired", _("Expired on %(day)s.") % {"day": result.valid_until}
    return result


# --- reading a QR back ---------------------------------------------------------------------------
#
# Whatever is uploaded to the public scan is hostile until shown otherwise. A file is first judged
# as any upload is (core.files: type from content, structure walked, polyglots refused); then an
# image's size is read from its header and refused above TONGBAN_SCAN_MAX_PIXELS before a single
# pixel is decoded (a 97 KB PNG can declare 10000 × 10000 pixels: 300 MB once decoded); JPEGs are
# decoded at the reduced scale a QR code still reads at. In a PDF only image encodings we decode
# well are looked at (Flate, JPEG, CCITT fax), each bounded by its declared size before it is
# inflated; JBIG2, JPEG 2000, LZW and the like are named and refused, never handed to other tools.

SCAN_KINDS = ("png", "jpeg", "pdf")
_QR_LONG_SIDE = 2400  # JPEGs are decoded no smaller than this: a QR a sixth of the photo stays readable
_PDF_PAGES = 4
_PDF_IMAGES = 32  # images looked at per file: ours has one
_PDF_DECODABLE = {
    "/FlateDecode": "flate",
    "/Fl": "flate",
    "/DCTDecode": "dct",
    "/DCT": "dct",
    "/CCITTFaxDecode": "ccitt",  # fpdf2 writes our 1-bit QR codes as CCITT G4
    "/CCF": "ccitt",
}
_COMPONENTS = {"/DeviceGray": 1, "/G": 1, "/DeviceRGB": 3, "/RGB": 3, "/DeviceCMYK": 4, "/CMYK": 4}

logger = logging.getLogger(__name__)


def _refuse(code: str, message) -> InvalidInput:
    return InvalidInput.single("file", code, message)


def _damaged() -> InvalidInput:
    return _refuse("damaged", files.MESSAGES["damaged"])


def _too_many_pixels(limit: int) -> InvalidInput:
    return _refuse(
        "too_many_pixels",
        Formatted(
            _lazy(
                "The image has more than %(limit)s million pixels, more than a licence scan needs. "
                "Take the photo at a lower resolution, or crop it to the licence."
            ),
            {"limit": f"{limit / 1e6:g}"},
        ),
    )


def read_qr(content: bytes, name: str = "") -> str:
    """The licence code in a file on disk (`tongban licence verify`): a photo, scan or PDF is read as
    an upload is (InvalidInput when it is refused); anything else is taken as the QR's text."""
    if content.startswith((b"%PDF", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        return read_qr_file(name or "licence", content)
    try:
        return content.decode("utf-8").strip()
    except UnicodeDecodeError:
        return ""


def read_qr_file(name: str, content: bytes) -> str:
    """The licence code in an uploaded photo (PNG/JPEG) or PDF; "" if it holds none.

    Raises InvalidInput (field "file", both languages) for anything not safe to decode: a type we
    do not scan, a damaged or cut-off file, a polyglot, too many pixels, an image encoding we do not
    decode."""
    max_pixels = settings.TONGBAN_SCAN_MAX_PIXELS
    found = files.inspect_upload(name or "licence", content, max_bytes=settings.TONGBAN_SCAN_MAX_BYTES)
    if found.kind not in SCAN_KINDS:
        raise _refuse(
            "type_not_allowed", _lazy("Upload a photo (JPEG or PNG) of the QR code, or the licence PDF.")
        )
    if found.kind == "pdf":
        return _qr_in_pdf(content, max_pixels)
    if found.pixels > max_pixels:  # from the header core.files walked: nothing is decoded
        raise _too_many_pixels(max_pixels)
    return _qr_in_image(_grey_image(content, max_pixels))


def _grey_image(content: bytes, max_pixels: int):
    """The image in grey, its size checked from the header before it is decoded."""
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(content), formats=("PNG", "JPEG"))  # reads the header only
        width, height = image.size
        if width * height > max_pixels:
            raise _too_many_pixels(max_pixels)
        if image.format == "JPEG" and max(width, height) > _QR_LONG_SIDE:
            # libjpeg scales while decoding (1/2, 1/4, 1/8): memory and time follow the smaller size.
            ratio = _QR_LONG_SIDE / max(width, height)
            image.draft("L", (max(1, int(width * ratio)), max(1, int(height * ratio))))
        image.load()
        return image if image.mode == "L" else image.convert("L")
    except InvalidInput:
        raise
    except Exception as exc:  # Pillow's decoders raise many kinds of error on hostile bytes
        logger.info("scan: image refused as damaged (%s)", type(exc).__name__)
        raise _damaged() from None


def _qr_in_image(image) -> str:
    import zxingcpp

    for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
        if token_of(barcode.text).startswith(PREFIX + "."):
            return barcode.text
    return ""


def _qr_in_pdf(content: bytes, max_pixels: int) -> str:
    import pypdf

    # pypdf's own ceilings, tightened to what a scan needs; no external decoder is ever run.
    budget = max_pixels * 4 + (1 << 20)
    limits = {
        "maximum_declared_stream_length": settings.TONGBAN_SCAN_MAX_BYTES,
        "zlib_maximum_output_length": budget,
        "image_maximum_buffer_size": budget,
        "stream_decoding_work_maximum_length": 2 * budget,
        "page_tree_maximum_entries": 10_000,
        "page_tree_maximum_depth": 32,
        "jbig2dec_binary": None,
    }
    unsupported: set[str] = set()
    decodable = 0
    try:
        with pypdf.apply_configuration(**limits):
            reader = pypdf.PdfReader(io.BytesIO(content))
            for image in _pdf_images(reader):
                filters = _pdf_filters(image)
                if unknown := [f for f in filters if f not in _PDF_DECODABLE]:
                    unsupported.update(f.lstrip("/") for f in unknown)
                    continue
                decodable += 1
                if text := _qr_in_image(_pdf_image_grey(image, filters, max_pixels, limits)):
                    return text
    except InvalidInput:
        raise
    except Exception as exc:  # pypdf raises many kinds of error on hostile files
        logger.info("scan: PDF refused as damaged (%s)", type(exc).__name__)
        raise _damaged() from None
    if unsupported and not decodable:
        raise _refuse(
            "unsupported_image",
            Formatted(
                _lazy(
                    "The PDF's images are encoded as %(encodings)s, which the scan does not decode. "
                    "Upload the licence PDF as issued, or a photo (JPEG or PNG) of its QR code."
                ),
                {"encodings": ", ".join(sorted(unsupported))},
            ),
        )
    return ""


def _pdf_images(reader):
    """Image XObjects of the first pages (and of the forms they draw, one level down)."""
    count = 0
    for page in reader.pages[:_PDF_PAGES]:
        resources = page.get("/Resources")
        pending = [(resources.get_object() if resources is not None else None, 0)]
        while pending:
            resources, depth = pending.pop()
            xobjects = resources.get("/XObject") if resources is not None else None
            for ref in (xobjects.get_object() if xobjects is not None else {}).values():
                xobject = ref.get_object()
                if xobject.get("/Subtype") == "/Image":
                    count += 1
                    if count > _PDF_IMAGES:
                        return
                    yield xobject
                elif xobject.get("/Subtype") == "/Form" and depth < 1 and "/Resources" in xobject:
                    pending.append((xobject["/Resources"].get_object(), depth + 1))


def _pdf_filters(image) -> list[str]:
    value = image.get("/Filter")
    if value is None:
        return []
    value = value.get_object()
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _ccitt_columns(image) -> int:
    """The widest /Columns among the image's decode parameters (the PDF default is 1728)."""
    parms = image.get("/DecodeParms")
    parms = parms.get_object() if parms is not None else None
    entries = [e.get_object() for e in parms] if isinstance(parms, list) else [parms]
    found = [int(e["/Columns"]) for e in entries if isinstance(e, dict) and "/Columns" in e]
    return max(found, default=1728)


def _pdf_image_grey(image, filters: list[str], max_pixels: int, limits: dict):
    """Decode one PDF image to grey, within what its declared size allows."""
    import pypdf

    if filters and _PDF_DECODABLE[filters[-1]] == "dct":
        return _grey_image(image.get_data(), max_pixels)  # the JPEG's own header is what counts
    width, height = int(image.get("/Width", 0)), int(image.get("/Height", 0))
    if width <= 0 or height <= 0:
        raise _damaged()
    if width * height > max_pixels:
        raise _too_many_pixels(max_pixels)
    # The fax decoder sizes its bitmap by /Columns (default 1728), whatever /Width says.
    if "ccitt" in {_PDF_DECODABLE[f] for f in filters} and _ccitt_columns(image) * height > max_pixels:
        raise _too_many_pixels(max_pixels)
    bits = int(image.get("/BitsPerComponent", 8))
    colour = image.get("/ColorSpace")
    colour = colour.get_object() if colour is not None else "/DeviceGray"
    components = _COMPONENTS.get(str(colour), 4) if not isinstance(colour, list) else 4
    for mask in ("/SMask", "/Mask"):
        extra = image.get(mask)
        if extra is not None and hasattr(extra.get_object(), "get"):
            extra = extra.get_object()
            if [f for f in _pdf_filters(extra) if f not in _PDF_DECODABLE]:
                raise _damaged()
            if int(extra.get("/Width", 0)) * int(extra.get("/Height", 0)) > max_pixels:
                raise _too_many_pixels(max_pixels)
    # Each row: its bytes plus a predictor byte; the data may not inflate beyond that.
    expected = height * (-(-width * components * max(bits, 1) // 8) + 1) + 4096
    pixels = width * height * 4 + 4096  # what any decoder may allocate: four bytes a pixel at most
    with pypdf.apply_configuration(
        **{**limits, "zlib_maximum_output_length": expected, "image_maximum_buffer_size": pixels}
    ):
        decoded = image.decode_as_image()
    return decoded if decoded.mode == "L" else decoded.convert("L")


# --- rendering -----------------------------------------------------------------------------------


def _face(licence: Licence) -> tuple[dict, list[tuple[str, str]]]:
    data = json.loads(licence.payload)
    labels = {f["key"]: f["label"] for f in licence.licence_type.fields}
    holder = data["holder"]
    rows = [
        ("名称" if holder["kind"] == HolderKind.ENTERPRISE else "姓名", holder["name"]),
        ("统一社会信用代码" if holder["kind"] == HolderKind.ENTERPRISE else "公民身份号码", holder["id"]),
    ]
    rows += [(labels.get(k, k), str(v)) for k, v in data["fields"].items()]
    rows.append(("有效期", f"{data['valid_from']} 至 {data['valid_until'] or '长期'}"))
    # A type whose own fields name its 签发机关 (an ID card's police office) keeps that row; the
    # department that signed the e-licence is then named apart, and never twice when it is the same.
    same_label = [value for label, value in rows if label == "签发机关"]
    if not same_label:
        rows.append(("签发机关", data["issuer_name"]))
    elif data["issuer_name"] not in same_label:
        rows.append(("电子证照签发单位", data["issuer_name"]))
    rows.append(("证照编号", data["code"]))
    return data, rows


def _qr_png(text: str, scale: int) -> bytes:
    buffer = io.BytesIO()
    segno.make_qr(text, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def _wrap(text: str, width_of, max_width: float) -> list[str]:
    """Break text into lines no wider than max_width, by character (Chinese has no spaces to break at)."""
    lines, line = [], ""
    for char in text:
        if line and width_of(line + char) > max_width:
            lines.append(line)
            line = ""
        line += char
    return [*lines, line] if line or not lines else lines


def licence_png(licence: Licence) -> bytes:
    """The licence as an image (for phones and printing), its QR large enough for any scanner."""
    from PIL import Image, ImageDraw, ImageFont

    from tongban.core.pdf import cjk_fonts

    data, rows = _face(licence)
    fonts = cjk_fonts()
    bold = fonts.bold or fonts.regular

    def font(face, size):
        return ImageFont.truetype(face.path, size, index=face.index)

    qr = Image.open(io.BytesIO(_qr_png(qr_text(licence), 5))).convert("RGB")
    width = 1400
    body, label_font = font(fonts.regular, 34), font(bold, 34)
    text_right = width - qr.width - 80
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    # Long values (an address, a business scope) wrap onto more lines instead of being cut off.
    wrapped = [
        (label, _wrap(value, lambda t: measure.textlength(t, font=body), text_right - 360))
        for label, value in rows
    ]
    line_height, row_gap = 46, 18
    text_height = sum(len(lines) * line_height + row_gap for _label, lines in wrapped)
    height = max(200 + text_height + 60, qr.height + 260)
    card = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(card)
    draw.rectangle((12, 12, width - 12, height - 12), outline=(168, 32, 32), width=6)
    draw.text((width // 2, 90), data["type_name"], fill=(168, 32, 32), font=font(bold, 64), anchor="mm")
    y = 180
    for label, lines in wrapped:
        draw.text((70, y), label, fill=(60, 60, 60), font=label_font)
        for line in lines:
            draw.text((360, y), line, fill="black", font=body)
            y += line_height
        y += row_gap
    card.paste(qr, (width - qr.width - 50, 170))
    draw.text(
        (width - qr.width // 2 - 50, 190 + qr.height),
        "扫码核验 · 离线可验",
        fill=(60, 60, 60),
        font=font(fonts.regular, 28),
        anchor="mt",
    )
    out = io.BytesIO()
    card.save(out, format="PNG", optimize=True)
    return out.getvalue()


def licence_pdf(licence: Licence) -> bytes:
    """The licence on A4, deterministic for equal input, its QR embedded as an image so that
    `tongban licence verify FILE.pdf` can read it back."""
    from tongban.core.pdf import SIZE_SMALL4, cjk_pdf

    data, rows = _face(licence)
    pdf = cjk_pdf(
        title=data["type_name"],
        created=dt.datetime.fromisoformat(data["issued_at"]),
        author=data["issuer_name"],
        subject=data["code"],
        page_numbers=False,
    )
    pdf.use(26, bold=True, color=(168, 32, 32))
    pdf.cell(w=pdf.text_width, h=16, text=data["type_name"], align="C")
    pdf.ln(24)
    qr_size = 60.0
    pdf.image(
        io.BytesIO(_qr_png(qr_text(licence), 8)), x=pdf.w - pdf.r_margin - qr_size, y=pdf.get_y(), w=qr_size
    )
    width = pdf.text_width - qr_size - 6
    for label, value in rows:
        pdf.use(SIZE_SMALL4, bold=True)
        pdf.set_x(pdf.l_margin)
        pdf.text_cell(38, 9, label)
        pdf.use(SIZE_SMALL4)
        for i, line in enumerate(pdf.wrap(value, width - 38) or [""]):
            if i:
                pdf.ln(8)
                pdf.set_x(pdf.l_margin + 38)
            pdf.text_cell(width - 38, 9, line)
        pdf.ln(11)
    pdf.ln(6)
    pdf.use(10.5, color=(90, 90, 90))
    pdf.paragraph(
        "本证照由签发机关以 SM2 数字签名。扫描二维码可在无网络时凭公开的部门公钥核验内容与有效期；"
        f"是否被撤销请在线核验：/verify/{data['code']}"
    )
    return pdf.to_bytes()
