"""A licence on paper or screen (PNG, PDF) with a QR code that verifies offline, and reading it back.

The QR carries the signed payload itself, not a link: `TBL1.<payload>.<signature>`, each part
base64url, the payload zlib-compressed canonical JSON. A verifier with the departments' published
public keys (GET /api/v1/licences/keys) checks it with no network: signature, key, expiry.
Revocation is the one thing paper cannot know; the online check (/verify/<code>) adds it.

Reading back (`read_qr`) takes a photo or scan (PNG/JPEG), a licence PDF (the QR is embedded as an
image so it can be taken out again), or the text a handheld scanner types.
"""

import base64
import datetime as dt
import io
import json
import zlib
from dataclasses import dataclass

import segno
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core import sm2
from tongban.core.masking import mask_id_number, mask_name

from .models import HolderKind, Licence

PREFIX = "TBL1"
MAX_QR_TEXT = 4000  # a version-40 QR holds 2,953 bytes; anything longer is not ours


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def qr_text(licence: Licence) -> str:
    payload = licence.payload.encode()
    return f"{PREFIX}.{_b64(zlib.compress(payload, 9))}.{_b64(bytes.fromhex(licence.signature))}"


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
    text = (text or "").strip()
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


def read_qr(content: bytes) -> str:
    """The licence code text in a PNG/JPEG image, a licence PDF, or plain text; "" if none found."""
    if content.startswith(b"%PDF"):
        return _qr_in_pdf(content)
    if content[:8] == b"\x89PNG\r\n\x1a\n" or content[:3] == b"\xff\xd8\xff":
        from PIL import Image

        return _qr_in_image(Image.open(io.BytesIO(content)))
    try:
        return content.decode("utf-8").strip()
    except UnicodeDecodeError:
        return ""


def _qr_in_image(image) -> str:
    import zxingcpp

    for barcode in zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode):
        if barcode.text.startswith(PREFIX + "."):
            return barcode.text
    return ""


def _qr_in_pdf(content: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(content))
        for page in reader.pages[:4]:
            for image in page.images:
                if text := _qr_in_image(image.image):
                    return text
    except (PdfReadError, ValueError, OSError):
        return ""
    return ""


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
    rows.append(("签发机关", data["issuer_name"]))
    rows.append(("证照编号", data["code"]))
    return data, rows


def _qr_png(text: str, scale: int) -> bytes:
    buffer = io.BytesIO()
    segno.make_qr(text, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


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
    height = max(240 + 64 * len(rows), qr.height + 260)
    card = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(card)
    draw.rectangle((12, 12, width - 12, height - 12), outline=(168, 32, 32), width=6)
    draw.text((width // 2, 90), data["type_name"], fill=(168, 32, 32), font=font(bold, 64), anchor="mm")
    body, label_font = font(fonts.regular, 34), font(bold, 34)
    y = 180
    text_right = width - qr.width - 80
    for label, value in rows:
        draw.text((70, y), label, fill=(60, 60, 60), font=label_font)
        line = value
        while draw.textlength(line, font=body) > text_right - 360 and len(line) > 1:
            line = line[:-1]
        draw.text((360, y), line if line == value else line[:-1] + "…", fill="black", font=body)
        y += 64
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
