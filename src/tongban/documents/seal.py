"""E-seals (电子签章) for official documents: the seal picture, a GB/T 38540-shaped signature, and
its place in the PDF.

The signature structure follows GB/T 38540-2020 (信息安全技术 安全电子签章密码技术规范) in shape:

    SES_Signature ::= SEQUENCE { toSign TBS_Sign, cert OCTET STRING, signatureAlgID OID,
                                 signature BIT STRING }
    TBS_Sign      ::= SEQUENCE { version INTEGER, eseal SESeal, timeInfo GeneralizedTime,
                                 dataHash BIT STRING, propertyInfo IA5String,
                                 extDatas [0] EXPLICIT ExtensionDatas OPTIONAL }
    SESeal        ::= SEQUENCE { esealInfo SES_SealInfo, cert OCTET STRING, signAlgID OID,
                                 signedValue BIT STRING }
    SES_SealInfo  ::= SEQUENCE { header SES_Header, esID IA5String, property SES_ESPropertyInfo,
                                 picture SES_ESPictrueInfo }

with SM2 (GB/T 32918, core.sm2) over SM3 as the algorithm (OID 1.2.156.10197.1.501). Where the
standard carries X.509 certificates, this platform carries the SM2 public key (x ‖ y, 64 bytes):
there is no CA here, and trust comes from the seal being registered in this installation, which
verification checks. The signer's name and the document's reference travel as extension data.

In the PDF: the seal picture is drawn over the 发文机关署名 and 成文日期 and the signature goes into
an incremental update at the end of the file, as PDF signatures do: an object whose stream holds
the DER in hex inside a fixed-size placeholder. The data hash (SM3) covers every byte of the file
except that placeholder's contents (a byte range, like PDF's /ByteRange), so any changed byte —
in the page, in the update, or in the signature — makes verification fail.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import re
from dataclasses import dataclass

from asn1crypto import core

from tongban.core import crypto, sm2

SM2_WITH_SM3 = "1.2.156.10197.1.501"
# Extension data identifiers under the UUID arc of X.667 (2.25), minted for this platform.
EXT_SIGNER = "2.25.238613410913418519658624306016937127121"
EXT_DOCUMENT = "2.25.238613410913418519658624306016937127122"
SEAL_PICTURE_MM = 42  # the round seal's diameter on paper
SIGNATURE_ROOM = 4096  # bytes of DER beyond the seal picture (the picture is most of a signature)
_MARKER = b"/Type /TongbanSeal"


# --- ASN.1 ---------------------------------------------------------------------------------------


class SESHeader(core.Sequence):
    _fields = [("id", core.IA5String), ("version", core.Integer), ("vid", core.IA5String)]


class CertList(core.SequenceOf):
    _child_spec = core.OctetString


class SESPropertyInfo(core.Sequence):
    _fields = [
        ("type", core.Integer),  # 1: 单位印章 (an organisation's seal)
        ("name", core.UTF8String),
        ("cert_list_type", core.Integer),  # 1: the holders' public keys
        ("cert_list", CertList),
        ("create_date", core.GeneralizedTime),
        ("valid_start", core.GeneralizedTime),
        ("valid_end", core.GeneralizedTime),
    ]


class SESPictureInfo(core.Sequence):
    _fields = [
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class SESSealInfo(core.Sequence):
    _fields = [
        ("header", SESHeader),
        ("es_id", core.IA5String),
        ("property", SESPropertyInfo),
        ("picture", SESPictureInfo),
    ]


class SESeal(core.Sequence):
    _fields = [
        ("eseal_info", SESSealInfo),
        ("cert", core.OctetString),
        ("sign_alg_id", core.ObjectIdentifier),
        ("signed_value", core.OctetBitString),
    ]


class ExtData(core.Sequence):
    _fields = [
        ("extn_id", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extn_value", core.OctetString),
    ]


class ExtensionDatas(core.SequenceOf):
    _child_spec = ExtData


class TBSSign(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("eseal", SESeal),
        ("time_info", core.GeneralizedTime),
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
        ("ext_datas", ExtensionDatas, {"explicit": 0, "optional": True}),
    ]


class SESSignature(core.Sequence):
    _fields = [
        ("to_sign", TBSSign),
        ("cert", core.OctetString),
        ("signature_alg_id", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
    ]


def _public_bytes(public_key_hex: str) -> bytes:
    return b"\x04" + bytes.fromhex(public_key_hex)


def _public_hex(cert: bytes) -> str:
    if len(cert) != 65 or cert[0] != 4:
        raise ValueError("not an uncompressed SM2 public key")
    return cert[1:].hex()


# --- the seal ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealKey:
    """What signing needs of a seal: its code, name, picture and SM2 key pair."""

    code: str
    name: str
    picture_png: bytes
    key: sm2.KeyPair
    created: dt.datetime
    valid_until: dt.datetime


def seal_structure(seal: SealKey) -> SESeal:
    """The seal itself (SESeal): its information and picture, signed with its own key."""
    info = SESSealInfo(
        {
            "header": {"id": "ES", "version": 4, "vid": "tongban"},
            "es_id": seal.code,
            "property": {
                "type": 1,
                "name": seal.name,
                "cert_list_type": 1,
                "cert_list": [_public_bytes(seal.key.public_key)],
                "create_date": seal.created,
                "valid_start": seal.created,
                "valid_end": seal.valid_until,
            },
            "picture": {
                "type": "PNG",
                "data": seal.picture_png,
                "width": SEAL_PICTURE_MM,
                "height": SEAL_PICTURE_MM,
            },
        }
    )
    return SESeal(
        {
            "eseal_info": info,
            "cert": _public_bytes(seal.key.public_key),
            "sign_alg_id": SM2_WITH_SM3,
            "signed_value": sm2.sign(seal.key, info.dump()),
        }
    )


def sign(seal: SealKey, digest: bytes, *, at: dt.datetime, signer: str, document_ref: str) -> bytes:
    """The DER of an SES_Signature over `digest` (SM3 of the sealed bytes), by the seal's key."""
    to_sign = TBSSign(
        {
            "version": 4,
            "eseal": seal_structure(seal),
            "time_info": at,
            "data_hash": digest,
            "property_info": f"tongban:document:{document_ref}",
            "ext_datas": [
                {"extn_id": EXT_SIGNER, "critical": False, "extn_value": signer.encode()},
                {"extn_id": EXT_DOCUMENT, "critical": False, "extn_value": document_ref.encode()},
            ],
        }
    )
    signature = SESSignature(
        {
            "to_sign": to_sign,
            "cert": _public_bytes(seal.key.public_key),
            "signature_alg_id": SM2_WITH_SM3,
            "signature": sm2.sign(seal.key, to_sign.dump()),
        }
    )
    return signature.dump()


# --- the picture ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def picture(name: str, *, size: int = 480) -> bytes:
    """A red round seal made from the agency's name: a ring, the name along the upper arc, a
    five-pointed star in the middle (PNG with a transparent ground)."""
    from PIL import Image, ImageDraw, ImageFont

    from tongban.core.pdf import cjk_fonts

    red = (220, 0, 0, 255)
    scale = 2  # drawn large, then reduced: smooth edges
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    centre = big / 2
    ring = big * 0.035
    draw.ellipse((ring / 2, ring / 2, big - ring / 2, big - ring / 2), outline=red, width=int(ring))
    # the star
    outer, inner = big * 0.16, big * 0.16 * 0.382
    points = []
    for k in range(10):
        radius = outer if k % 2 == 0 else inner
        angle = -math.pi / 2 + k * math.pi / 5
        points.append((centre + radius * math.cos(angle), centre + radius * math.sin(angle)))
    draw.polygon(points, fill=red)
    # the name along the arc, from lower left over the top to lower right
    face = cjk_fonts().bold or cjk_fonts().regular
    chars = list(name)
    glyph = int(big * (0.13 if len(chars) <= 12 else 0.11 if len(chars) <= 16 else 0.09))
    font = ImageFont.truetype(face.path, glyph, index=face.index)
    radius = big / 2 - ring - glyph * 0.75
    span = min(math.radians(250), math.radians(22) * len(chars))
    for k, ch in enumerate(chars):
        angle = -math.pi / 2 - span / 2 + (span * k / max(len(chars) - 1, 1))
        tile = Image.new("RGBA", (glyph * 2, glyph * 2), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((glyph, glyph), ch, font=font, fill=red, anchor="mm")
        tile = tile.rotate(-math.degrees(angle + math.pi / 2), resample=Image.BICUBIC)
        x = centre + radius * math.cos(angle) - glyph
        y = centre + radius * math.sin(angle) - glyph
        image.alpha_composite(tile, (int(x), int(y)))
    image = image.resize((size, size), Image.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# --- in the PDF ----------------------------------------------------------------------------------

_TRAILER = re.compile(rb"trailer\s*<<(?P<dict>.*?)>>\s*startxref\s*(?P<xref>\d+)\s*%%EOF\s*$", re.S)


def embed(pdf: bytes, sign_digest, *, room: int) -> bytes:
    """The PDF with an incremental update holding the signature. `sign_digest(digest) -> der` is
    called with the SM3 of every byte of the result except the placeholder's contents, which has
    room for `room` bytes of DER (in hex)."""
    placeholder = 2 * room
    match = _TRAILER.search(pdf[-2048:])
    if match is None:
        raise ValueError("not a PDF this platform wrote (no classic trailer at its end)")
    trailer = match.group("dict").decode("latin-1")
    size = int(re.search(r"/Size\s+(\d+)", trailer).group(1))
    root = re.search(r"/Root\s+(\d+\s+\d+\s+R)", trailer).group(1)
    info = re.search(r"/Info\s+(\d+\s+\d+\s+R)", trailer)
    ident = re.search(r"/ID\s*(\[[^\]]*\])", trailer)
    prev = int(match.group("xref"))
    base = pdf if pdf.endswith(b"\n") else pdf + b"\n"
    number = size
    head = (
        f"{number} 0 obj\n<< {_MARKER.decode()} /Filter /ASCIIHexDecode "
        f"/Length {placeholder + 1} >>\nstream\n"
    ).encode()
    offset = len(base)
    start = offset + len(head)  # first byte of the placeholder
    end = start + placeholder
    tail = b">\nendstream\nendobj\n"
    xref_at = end + len(tail)
    extra = f" /Info {info.group(1)}" if info else ""
    extra += f" /ID {ident.group(1)}" if ident else ""
    update = (
        f"xref\n{number} 1\n{offset:010d} 00000 n \ntrailer\n<< /Size {number + 1} /Root {root}{extra} "
        f"/Prev {prev} /TongbanSeal {number} 0 R >>\nstartxref\n{xref_at}\n%%EOF\n"
    ).encode()
    covered = base + head, tail + update
    digest = crypto.sm3(covered[0] + covered[1])
    der = sign_digest(digest)
    hexed = der.hex().encode()
    if len(hexed) > placeholder:
        raise ValueError("the signature does not fit its placeholder")
    return covered[0] + hexed + b"0" * (placeholder - len(hexed)) + covered[1]


def split(data: bytes) -> tuple[bytes, bytes] | None:
    """(the placeholder's contents, the SM3 of the covered bytes) of a sealed PDF, or None."""
    at = data.rfind(_MARKER)
    if at < 0:
        return None
    head = re.match(rb"[^>]*/Length (\d+) >>\nstream\n", data[at : at + 200])
    if head is None:
        return None
    start = at + head.end()
    end = start + int(head.group(1)) - 1  # the stream's last byte is the hex end marker ">"
    if end > len(data):
        return None
    digest = crypto.sm3(data[:start] + data[end:])
    return data[start:end], digest  # the DER in lowercase hex, then "0" padding


@dataclass(frozen=True)
class Reading:
    """What a signature says and whether it holds (not yet: whether its seal is registered)."""

    intact: bool  # the DER parses, the hash matches the file, both SM2 signatures verify
    reason: str
    seal_code: str = ""
    seal_name: str = ""
    public_key: str = ""
    signer: str = ""
    document_ref: str = ""
    signed_at: dt.datetime | None = None
    digest: str = ""


def read(data: bytes) -> Reading:
    """Check a sealed PDF's signature against its bytes (see `split` and `embed`)."""
    parts = split(data)
    if parts is None:
        return Reading(False, "unsealed")
    hexed, digest = parts
    try:
        der = bytes.fromhex(hexed.decode("ascii"))
        length = _der_length(der)
        # The placeholder is not covered by the hash, so it must hold exactly the DER as `embed`
        # writes it: lowercase hex and "0" padding, nothing else.
        if hexed != der[:length].hex().encode() + b"0" * (len(hexed) - 2 * length):
            return Reading(False, "malformed")
    except (ValueError, TypeError, UnicodeDecodeError):
        return Reading(False, "malformed")
    return check(der[:length], digest)


def check(der: bytes, digest: bytes) -> Reading:
    """Check one SES_Signature (DER) against the SM3 digest of what it claims to seal: the data
    hash, the signer's SM2 signature and the seal's own. Used for PDF and OFD alike."""
    try:
        signature = SESSignature.load(der)
        to_sign = signature["to_sign"]
        eseal = to_sign["eseal"]
        info = eseal["eseal_info"]
        public_key = _public_hex(signature["cert"].native)
        seal_key = _public_hex(eseal["cert"].native)
        fields = {
            "seal_code": info["es_id"].native,
            "seal_name": info["property"]["name"].native,
            "public_key": public_key,
            "signed_at": to_sign["time_info"].native,
            "digest": digest.hex(),
        }
        for ext in to_sign["ext_datas"] or []:
            if ext["extn_id"].dotted == EXT_SIGNER:
                fields["signer"] = ext["extn_value"].native.decode()
            elif ext["extn_id"].dotted == EXT_DOCUMENT:
                fields["document_ref"] = ext["extn_value"].native.decode()
        if signature["signature_alg_id"].dotted != SM2_WITH_SM3:
            return Reading(False, "algorithm", **fields)
        if to_sign["data_hash"].native != digest:
            return Reading(False, "changed", **fields)
        if not sm2.verify(public_key, to_sign.dump(), signature["signature"].native):
            return Reading(False, "signature", **fields)
        if seal_key != public_key or not sm2.verify(seal_key, info.dump(), eseal["signed_value"].native):
            return Reading(False, "seal", **fields)
    except (ValueError, TypeError, KeyError, sm2.SM2Error, UnicodeDecodeError):
        return Reading(False, "malformed")
    return Reading(True, "valid", **fields)


def _der_length(der: bytes) -> int:
    """The length of the DER element at the start of `der` (padding may follow it)."""
    if len(der) < 2 or der[0] != 0x30:
        raise ValueError("not a DER sequence")
    first = der[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if not 1 <= count <= 4 or len(der) < 2 + count:
        raise ValueError("bad DER length")
    return 2 + count + int.from_bytes(der[2 : 2 + count], "big")
