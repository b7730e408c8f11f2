"""OFD (GB/T 33190-2016, 电子文件存储与交换格式 版式文档), written by us: no maintained Python library
writes text OFD, and the one that reads it (easyofd) pulls in AGPL code.

An OFD file is a ZIP package of XML parts (GB/T 33190 chapter 7):

  OFD.xml                       entry: DocBody with DocInfo (DocID, title, author, dates) and DocRoot
  Doc_0/Document.xml            CommonData (MaxUnitID, PageArea, PublicRes, DocumentRes) and Pages
  Doc_0/PublicRes.xml           fonts (by name: the reader supplies the face, as for a PDF's
                                non-embedded fonts; an agency's licensed 仿宋 is found by name)
  Doc_0/DocumentRes.xml         multimedia: the seal picture
  Doc_0/Res/seal_0.png
  Doc_0/Pages/Page_N/Content.xml one Layer per page of TextObject, PathObject and ImageObject

Coordinates are millimetres from the page's top left, as in the PDF, and the page is laid out by
the same engine (render.py, recording what it draws), so both formats put every element at the
same place. A TextObject's Boundary is its line's box; its TextCode gives the baseline (Y) and the
advance of each character (DeltaX), so a reader places every character where the PDF has it.
Every id is unique in the document and MaxUnitID is the largest, as chapter 7.4 requires.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from xml.sax.saxutils import escape, quoteattr

from django.utils import timezone

from . import render
from .models import Document

NS = "http://www.ofdspec.org/2016"
PAGE_W, PAGE_H = 210, 297
# A ZIP entry's timestamp: fixed, so equal documents give equal bytes.
_ZIP_TIME = (2012, 7, 1, 0, 0, 0)


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


class _Ids:
    def __init__(self):
        self.last = 0

    def next(self) -> int:
        self.last += 1
        return self.last


def _xml(root: str, body: str, **attrs: str) -> bytes:
    extra = "".join(f" {name}={quoteattr(value)}" for name, value in attrs.items())
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:{root} xmlns:ofd="{NS}"{extra}>{body}</ofd:{root}>\n'
    ).encode()


def _text_object(object_id: int, font_id: int, op: tuple) -> str:
    _kind, _page, x, baseline, text, _name, _path, size, color, spacing, advances = op
    deltas = [advances[i] + spacing for i in range(len(text) - 1)]
    width = sum(deltas) + (advances[-1] if advances else 0)
    top = baseline - size  # the box from one em above the baseline to a quarter em below it
    height = size * 1.25
    fill = " ".join(str(v) for v in color)
    delta = f' DeltaX="{" ".join(_num(d) for d in deltas)}"' if deltas else ""
    return (
        f'<ofd:TextObject ID="{object_id}" Boundary="{_num(x)} {_num(top)} {_num(max(width, size))} '
        f'{_num(height)}" Font="{font_id}" Size="{_num(size)}">'
        f'<ofd:FillColor Value="{fill}"/>'
        f'<ofd:TextCode X="0" Y="{_num(baseline - top)}"{delta}>{escape(text)}</ofd:TextCode>'
        "</ofd:TextObject>"
    )


def _path_object(object_id: int, op: tuple) -> str:
    _kind, _page, x1, y1, x2, y2, width, color = op
    left, top = min(x1, x2) - width, min(y1, y2) - width
    w, h = abs(x2 - x1) + 2 * width, abs(y2 - y1) + 2 * width
    stroke = " ".join(str(v) for v in color)
    return (
        f'<ofd:PathObject ID="{object_id}" Boundary="{_num(left)} {_num(top)} {_num(w)} {_num(h)}" '
        f'LineWidth="{_num(width)}" Stroke="true" Fill="false">'
        f'<ofd:StrokeColor Value="{stroke}"/>'
        f"<ofd:AbbreviatedData>M {_num(x1 - left)} {_num(y1 - top)} L {_num(x2 - left)} {_num(y2 - top)}"
        "</ofd:AbbreviatedData></ofd:PathObject>"
    )


def _font_names(path: str, fallback: str) -> tuple[str, str]:
    """(FontName, FamilyName) from the face's name table: what a reader looks the face up by."""
    from fontTools import ttLib

    try:
        font = ttLib.TTFont(path, lazy=True, fontNumber=0)
        names = font["name"]
        full = names.getDebugName(4) or fallback
        family = names.getDebugName(1) or full
        font.close()
        return full, family
    except Exception:
        return fallback, fallback


def document_id(document: Document) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"tongban:document:{document.ref}").hex


def render_ofd(document: Document, *, seal_image: bytes | None = None, sign_digest=None, at=None) -> bytes:
    """The document as an OFD package, laid out exactly as its GB/T 9704 PDF; sealed when
    `sign_digest` (SM3 digest → SES_Signature DER, see seal.sign) is given."""
    rendered = render.render_pdf(document, seal_image=seal_image, record=True)
    return write(document, rendered, sign_digest=sign_digest, at=at)


def write(document: Document, rendered: render.Rendered, *, sign_digest=None, at=None) -> bytes:
    ids = _Ids()
    fonts: dict[tuple[str, str], int] = {}
    media: list[tuple[int, bytes]] = []
    pages: dict[int, list[str]] = {n: [] for n in range(1, rendered.pages + 1)}
    layer_ids = {n: ids.next() for n in pages}
    page_ids = {n: ids.next() for n in pages}
    for op in rendered.ops or []:
        kind, page = op[0], op[1]
        if kind == "text":
            key = (op[5], op[6])
            if key not in fonts:
                fonts[key] = ids.next()
            pages[page].append(_text_object(ids.next(), fonts[key], op))
        elif kind == "line":
            pages[page].append(_path_object(ids.next(), op))
        elif kind == "image":
            _k, _p, x, y, w, h, data = op
            resource = ids.next()
            media.append((resource, data))
            pages[page].append(
                f'<ofd:ImageObject ID="{ids.next()}" Boundary="{_num(x)} {_num(y)} {_num(w)} {_num(h)}" '
                f'CTM="{_num(w)} 0 0 {_num(h)} 0 0" ResourceID="{resource}"/>'
            )
    font_xml = "".join(
        f'<ofd:Font ID="{font_id}" FontName={quoteattr(full)} FamilyName={quoteattr(family)}/>'
        for (name, path), font_id in fonts.items()
        for full, family in [_font_names(path, name)]
    )
    media_xml = "".join(
        f'<ofd:MultiMedia ID="{resource}" Type="Image" Format="PNG"><ofd:MediaFile>seal_{n}.png'
        "</ofd:MediaFile></ofd:MultiMedia>"
        for n, (resource, _data) in enumerate(media)
    )
    created = timezone.localtime(document.signed_at or document.created_at or timezone.now())
    info = (
        f"<ofd:DocID>{document_id(document)}</ofd:DocID>"
        f"<ofd:Title>{escape(document.title)}</ofd:Title>"
        f"<ofd:Author>{escape(document.issuer_name)}</ofd:Author>"
        f"<ofd:Subject>{escape(document.number or document.ref)}</ofd:Subject>"
        f"<ofd:CreationDate>{created.date().isoformat()}</ofd:CreationDate>"
        "<ofd:Creator>tongban</ofd:Creator>"
        f"<ofd:CreatorVersion>{_creator_version()}</ofd:CreatorVersion>"
    )
    signatures = "<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>" if sign_digest else ""
    parts: dict[str, bytes] = {
        "OFD.xml": _xml(
            "OFD",
            f"<ofd:DocBody><ofd:DocInfo>{info}</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
            f"{signatures}</ofd:DocBody>",
            Version="1.0",
            DocType="OFD",
        ),
        "Doc_0/PublicRes.xml": _xml("Res", f"<ofd:Fonts>{font_xml}</ofd:Fonts>", BaseLoc="Res"),
    }
    common = (
        f"<ofd:MaxUnitID>{ids.last}</ofd:MaxUnitID>"
        f"<ofd:PageArea><ofd:PhysicalBox>0 0 {PAGE_W} {PAGE_H}</ofd:PhysicalBox></ofd:PageArea>"
        "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
    )
    if media:
        common += "<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>"
        parts["Doc_0/DocumentRes.xml"] = _xml(
            "Res", f"<ofd:MultiMedias>{media_xml}</ofd:MultiMedias>", BaseLoc="Res"
        )
        for n, (_resource, data) in enumerate(media):
            parts[f"Doc_0/Res/seal_{n}.png"] = data
    page_list = "".join(
        f'<ofd:Page ID="{page_ids[n]}" BaseLoc="Pages/Page_{n - 1}/Content.xml"/>' for n in pages
    )
    parts["Doc_0/Document.xml"] = _xml(
        "Document", f"<ofd:CommonData>{common}</ofd:CommonData><ofd:Pages>{page_list}</ofd:Pages>"
    )
    for n, objects in pages.items():
        parts[f"Doc_0/Pages/Page_{n - 1}/Content.xml"] = _xml(
            "Page",
            f'<ofd:Content><ofd:Layer ID="{layer_ids[n]}">{"".join(objects)}</ofd:Layer></ofd:Content>',
        )
    if sign_digest:
        stamp = next((op for op in rendered.ops or [] if op[0] == "image"), None)
        place = rendered.places.get("seal")
        page = stamp[1] if stamp else (place.page if place else rendered.pages)
        box = (stamp[2], stamp[3], stamp[4], stamp[5]) if stamp else (0, 0, 0, 0)
        _sign(parts, sign_digest, page_ids[page], box, at or timezone.now())
    return package(parts)


# --- 电子签章 in OFD (GB/T 33190 chapter 18, GB/T 38540) -------------------------------------------

SIGNS = "Doc_0/Signs/"
SIGNATURE = SIGNS + "Sign_0/Signature.xml"
SIGNED_VALUE = SIGNS + "Sign_0/SignedValue.dat"
SM3_OID = "1.2.156.10197.1.401"
SM2_SM3_OID = "1.2.156.10197.1.501"


def _sign(parts: dict[str, bytes], sign_digest, page_id: int, box, at) -> None:
    """Seal the package: Signature.xml lists the SM3 of every other part; the SES_Signature in
    SignedValue.dat signs the SM3 of Signature.xml itself (so any changed part breaks the seal)."""
    import base64

    from tongban.core import crypto

    parts[SIGNS + "Signatures.xml"] = _xml(
        "Signatures",
        f'<ofd:MaxSignId>1</ofd:MaxSignId><ofd:Signature ID="1" Type="Seal" BaseLoc="/{SIGNATURE}"/>',
    )
    references = "".join(
        f"<ofd:Reference FileRef={quoteattr('/' + name)}><ofd:CheckValue>"
        f"{base64.b64encode(crypto.sm3(data)).decode()}</ofd:CheckValue></ofd:Reference>"
        for name, data in sorted(parts.items())
    )
    x, y, w, h = box
    signed_info = (
        '<ofd:SignedInfo><ofd:Provider ProviderName="tongban" Version="1"/>'
        f"<ofd:SignatureMethod>{SM2_SM3_OID}</ofd:SignatureMethod>"
        f"<ofd:SignatureDateTime>{timezone.localtime(at).strftime('%Y%m%d%H%M%S')}</ofd:SignatureDateTime>"
        f'<ofd:References CheckMethod="{SM3_OID}">{references}</ofd:References>'
        f'<ofd:StampAnnot ID="1" PageRef="{page_id}" Boundary="{_num(x)} {_num(y)} {_num(w)} {_num(h)}"/>'
        "</ofd:SignedInfo>"
    )
    parts[SIGNATURE] = _xml("Signature", f"{signed_info}<ofd:SignedValue>/{SIGNED_VALUE}</ofd:SignedValue>")
    parts[SIGNED_VALUE] = sign_digest(crypto.sm3(parts[SIGNATURE]))


def verify(data: bytes):
    """Who sealed this OFD and whether any part changed since: a seal.Reading (as for a PDF)."""
    import base64

    from defusedxml import ElementTree

    from tongban.core import crypto

    from . import seal

    try:
        parts = read_parts(data)
    except (zipfile.BadZipFile, ValueError, KeyError):
        return seal.Reading(False, "malformed")
    if SIGNATURE not in parts or SIGNED_VALUE not in parts:
        return seal.Reading(False, "unsealed")
    reading = seal.check(parts[SIGNED_VALUE], crypto.sm3(parts[SIGNATURE]))
    if not reading.intact:
        return reading
    try:
        root = ElementTree.fromstring(parts[SIGNATURE])
        checked = {}
        for reference in root.iter(f"{{{NS}}}Reference"):
            name = (reference.get("FileRef") or "").lstrip("/")
            value = reference.find(f"{{{NS}}}CheckValue")
            checked[name] = base64.b64decode((value.text or "") if value is not None else "")
    except (ElementTree.ParseError, ValueError):
        return seal.Reading(False, "malformed")
    covered = set(parts) - {SIGNATURE, SIGNED_VALUE}
    if set(checked) != covered or any(crypto.sm3(parts[name]) != checked[name] for name in covered):
        return seal.Reading(False, "changed", **_fields(reading))
    return reading


def _fields(reading) -> dict:
    return {
        name: getattr(reading, name)
        for name in ("seal_code", "seal_name", "public_key", "signer", "document_ref", "signed_at", "digest")
    }


def package(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out.getvalue()


def _creator_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tongban")
    except PackageNotFoundError:
        return "0"


def read_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


__all__ = ["document_id", "package", "read_parts", "render_ofd", "write"]
