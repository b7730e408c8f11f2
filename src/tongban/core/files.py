"""Uploaded materials: accept only files we can vouch for, and keep them encrypted at rest.

An upload is judged by its bytes, never by its name or the browser's content type: the type is
sniffed from the content (PDF, JPEG, PNG, OFD, DOCX only), the name's extension must agree with it,
and content that acts when opened (PDF scripts and actions, Office macros, remote templates, HTML or
SVG dressed up as something else) is refused, as are archives that explode or point outside
themselves. Staff open these files on government desktops, so a false refusal costs the applicant a
re-save; a false acceptance can cost much more.

Stored files are SM4-GCM encrypted (core.crypto.encrypt_bytes) under VAR_DIR/files, named by a keyed
SM3 of the content, so equal uploads are kept once and the name reveals nothing about the content.

Limits are settings (defaults in brackets): TONGBAN_UPLOAD_MAX_BYTES [20 MB],
TONGBAN_UPLOAD_MAX_FILES [20], TONGBAN_UPLOAD_MAX_TOTAL_BYTES [100 MB], TONGBAN_UPLOAD_MAX_PIXELS
[100 million], TONGBAN_UPLOAD_ZIP_MAX_ENTRIES [5000], TONGBAN_UPLOAD_ZIP_MAX_BYTES [200 MB unpacked],
TONGBAN_UPLOAD_ZIP_MAX_RATIO [200], TONGBAN_UPLOAD_PDF_MAX_INFLATED [64 MB of object streams].
"""

import base64
import contextlib
import io
import itertools
import os
import re
import stat
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from . import crypto
from .errors import FieldErrors, Formatted, NotFound

MB = 1024 * 1024
KINDS = ("pdf", "jpeg", "png", "ofd", "docx")
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "ofd": "application/ofd",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
EXTENSIONS = {
    "pdf": ("pdf",),
    "jpeg": ("jpg", "jpeg", "jpe", "jfif"),
    "png": ("png",),
    "ofd": ("ofd",),
    "docx": ("docx",),
}
LABELS = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG", "ofd": "OFD", "docx": "DOCX"}
NAME_MAX_CHARS = 100

MESSAGES = {
    "empty": _("The file is empty."),
    "type_not_allowed": _("Only PDF, OFD, JPEG, PNG and DOCX files are accepted."),
    "disguised_markup": _("The file contains web page or SVG code and is not accepted."),
    "pdf_active": _(
        "The PDF contains scripts, automatic actions, embedded files or interactive forms. "
        "Print it to a new PDF and upload that."
    ),
    "office_active": _(
        "The document contains macros, embedded objects or links to content outside the file. "
        "Save it again as a plain document (or PDF) and upload that."
    ),
    "encrypted": _(
        "The file is password-protected or encrypted and cannot be checked. "
        "Remove the protection and upload it again."
    ),
    "damaged": _("The file is damaged or incomplete. Open it, save it again and upload it."),
    "unsafe_path": _("The file contains entries with unsafe names (absolute paths, “..” or duplicates)."),
    "decompression_bomb": _("The file unpacks to far more data than its size suggests and is not accepted."),
}
# One file that is also another (an image with an archive after its end, a PDF carrying a ZIP):
# other programs open the hidden part, so what staff see checked is not all the file holds.
_POLYGLOT_AFTER = _(
    "The file has other data after the end of the %(kind)s (for example an archive or a video clip). "
    "Save or export it again as a plain %(kind)s file and upload that."
)
_POLYGLOT_INSIDE = _(
    "The file is a %(kind)s but also holds a %(other)s that other programs would open. "
    "Save or export it again as a plain %(kind)s file and upload that."
)


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _mb(n: int) -> str:
    value = n / MB
    return f"{round(value, 1):g}" if value >= 1 else f"{value:.2g}"


def size_text(n: int) -> str:
    """A size as people read it in a message: "850 KB", "10.3 MB" (the same in Chinese)."""
    if n < MB:
        return f"{max(1, round(n / 1024))} KB"
    return f"{round(n / MB, 1):g} MB"


class _Problem(Exception):
    """One reason to refuse a file; turned into a FieldProblem by inspect_upload."""

    def __init__(self, code: str, message=None):
        super().__init__(code)
        self.code = code
        self.message = message if message is not None else MESSAGES[code]


# --- names ---------------------------------------------------------------------------------------

_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # Cf holds U+202E, the "fdp.exe" trick
_RESERVED_STEMS = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(1, 10)}
_EXTENSION_RE = re.compile(r"(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{1,5}")


def _split_extension(name: str) -> tuple[str, str]:
    """(stem, lower-case extension); "张三.身份证" or "scan.2024" have none, so they are not mismatches."""
    stem, dot, ext = name.rpartition(".")
    if dot and stem and _EXTENSION_RE.fullmatch(ext):
        return stem, ext.lower()
    return name, ""


def _clean_text(name: str) -> str:
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]  # a browser or client may send the full local path
    chars = []
    for ch in name:
        category = unicodedata.category(ch)
        if category in _DROPPED_CATEGORIES:
            continue
        chars.append(" " if category == "Zs" or ch.isspace() else "_" if ch in '<>:"|?*' else ch)
    return re.sub(r" {2,}", " ", "".join(chars)).strip(" .")


def clean_name(name: str, kind: str | None = None) -> str:
    """A file name safe to show and to offer in a download: no path, no control or direction-override
    characters, at most NAME_MAX_CHARS characters; Chinese is kept. With `kind`, a name without an
    extension gets the kind's usual one."""
    stem, ext = _split_extension(_clean_text(name))
    if not ext and kind:
        ext = EXTENSIONS[kind][0]
    stem = stem.strip(" .") or "file"
    if stem.lower() in _RESERVED_STEMS:
        stem = "_" + stem
    room = NAME_MAX_CHARS - (len(ext) + 1 if ext else 0)
    stem = stem[:room].rstrip(" .") or "file"
    return f"{stem}.{ext}" if ext else stem


# --- sniffing ------------------------------------------------------------------------------------

_PDF_HEADER = re.compile(rb"%PDF-[12]\.\d")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_HEAD_BYTES = 1024  # what browsers look at when they second-guess a content type

# Markup a browser would render. The narrow list is searched in the head of files that did sniff as
# an accepted type (polyglots); the wide list decides what an unknown file was.
_MARKUP_NARROW = re.compile(rb"<(?:!doctype\s+html|html|head|body|script|svg|iframe)[\s>/]", re.IGNORECASE)
_MARKUP_WIDE = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|script|svg|iframe|object|embed|meta|style|title|div|a\s|img|"
    rb"form|table|p\s*>)",
    re.IGNORECASE,
)


def _head_text(data: bytes) -> bytes:
    head = data[: _HEAD_BYTES * 2]
    head = head[: len(head) & ~1] if head.startswith((b"\xff\xfe", b"\xfe\xff")) else head
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        with contextlib.suppress(UnicodeDecodeError):
            return head.decode("utf-16").encode("utf-8", "replace")
    return head.replace(b"\x00", b"")[:_HEAD_BYTES]  # UTF-16 without a BOM reads the same


def sniff(data: bytes) -> str | None:
    """The accepted kind the content is ("pdf", "jpeg", "png", "ofd", "docx"), or None."""
    try:
        return _sniff(data)[0]
    except _Problem:
        return None


def _sniff(data: bytes) -> tuple[str | None, zipfile.ZipFile | None]:
    if _PDF_HEADER.match(data):
        return "pdf", None
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg", None
    if data.startswith(_PNG_SIGNATURE):
        return "png", None
    if data.startswith(b"PK\x03\x04"):
        archive = _open_zip(data)
        names = {info.filename.lower() for info in archive.infolist()}
        is_ofd = "ofd.xml" in names
        is_docx = "[content_types].xml" in names and "word/document.xml" in names
        if is_ofd != is_docx:  # both at once is a polyglot, neither is something else
            return ("ofd" if is_ofd else "docx"), archive
    return None, None


# --- inspection ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inspected:
    kind: str
    size: int
    sm3: str  # of the plaintext: lets a caller prove later which bytes were judged
    name: str
    pages: int | None = None
    pixels: int | None = None  # of an image, from its header: what decoding it would cost

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]


def inspect_upload(name: str, data: bytes, *, max_bytes: int | None = None) -> Inspected:
    """Judge one uploaded file; raise InvalidInput (field "file") listing every problem found."""
    errors = FieldErrors()
    found = _inspect(name, data, max_bytes=max_bytes, errors=errors, field="file")
    errors.raise_if_any()
    assert found is not None
    return found


def _inspect(name: str, data: bytes, *, max_bytes: int | None, errors: FieldErrors, field: str):
    max_bytes = max_bytes if max_bytes is not None else _limit("TONGBAN_UPLOAD_MAX_BYTES", 20 * MB)
    if not data:
        errors.add(field, "empty", MESSAGES["empty"])
        return None
    if len(data) > max_bytes:
        message = Formatted(_("The file is larger than %(limit)s MB."), {"limit": _mb(max_bytes)})
        errors.add(field, "too_large", message)
        return None
    try:
        kind, archive = _sniff(data)
    except _Problem as problem:
        errors.add(field, problem.code, problem.message)
        return None
    if kind is None:
        if _MARKUP_WIDE.search(_head_text(data)):
            errors.add(field, "disguised_markup", MESSAGES["disguised_markup"])
        else:
            errors.add(field, "type_not_allowed", MESSAGES["type_not_allowed"])
        return None

    display = _clean_text(name)
    declared = _split_extension(display)[1]
    if declared and declared not in EXTENSIONS[kind]:
        message = Formatted(
            _("The file name ends in .%(extension)s but the file is a %(kind)s file."),
            {"extension": declared, "kind": LABELS[kind]},
        )
        errors.add(field, "extension_mismatch", message)

    pages = pixels = None
    try:
        if _MARKUP_NARROW.search(_head_text(data)):
            raise _Problem("disguised_markup")
        if kind == "pdf":
            pages = _check_pdf(data)
        elif kind == "jpeg":
            pages, pixels = 1, _check_jpeg(data)
        elif kind == "png":
            pages, pixels = 1, _check_png(data)
        else:
            assert archive is not None
            pages = _check_package(archive, kind, len(data))
        if kind in ("pdf", "jpeg", "png"):
            _check_not_also(kind, data)
    except _Problem as problem:
        errors.add(field, problem.code, problem.message)
    if field in errors.fields:
        return None
    return Inspected(
        kind=kind,
        size=len(data),
        sm3=crypto.sm3_hex(data),
        name=clean_name(name, kind),
        pages=pages,
        pixels=pixels,
    )


def check_batch(
    files: list[tuple[str, bytes]],
    *,
    max_files: int | None = None,
    max_bytes: int | None = None,
    max_total_bytes: int | None = None,
) -> list[Inspected]:
    """Judge every file of one submission and report all problems at once: per file as `files[i]`,
    and `count` / `total` for the batch."""
    max_files = max_files if max_files is not None else _limit("TONGBAN_UPLOAD_MAX_FILES", 20)
    if max_total_bytes is None:
        max_total_bytes = _limit("TONGBAN_UPLOAD_MAX_TOTAL_BYTES", 100 * MB)
    errors = FieldErrors()
    if len(files) > max_files:
        message = Formatted(_("At most %(limit)d files can be uploaded at once."), {"limit": max_files})
        errors.add("count", "too_many_files", message)
    if sum(len(pair[1]) for pair in files) > max_total_bytes:
        message = Formatted(
            _("The files together are larger than %(limit)s MB."), {"limit": _mb(max_total_bytes)}
        )
        errors.add("total", "total_too_large", message)
    found = [
        _inspect(name, data, max_bytes=max_bytes, errors=errors, field=f"files[{i}]")
        for i, (name, data) in enumerate(files)
    ]
    errors.raise_if_any()
    return found


# --- PDF -----------------------------------------------------------------------------------------

_PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r /\[\]<>(){}%]*)")
_PDF_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_OBJ = re.compile(rb"(\d+)\s+(\d+)\s+obj\b")
_PDF_STREAM = re.compile(rb"(?<![A-Za-z])stream(?:\r\n|\n|\r)")
_PDF_ENDSTREAM = re.compile(rb"[\r\n\x00\t\x0c ]*endstream")

# Names that make a PDF act: run code, start programs, carry or open other files, send data away,
# play media (Rendition actions may carry JavaScript too). These are long enough never to turn up by
# chance in compressed or image data, so they are looked for in every byte of the file.
_PDF_ACTIVE_NAMES = {
    b"JavaScript",
    b"Launch",
    b"EmbeddedFile",
    b"EmbeddedFiles",
    b"FileAttachment",
    b"RichMedia",
    b"XFA",
    b"GoToE",
    b"GoToR",
    b"SubmitForm",
    b"ImportData",
    b"Rendition",
    b"Movie",
    b"Sound",
}
# /JS and /AA would turn up in about one scanned page in seven hundred by chance if binary stream
# data were searched too, so they are looked for only where PDF syntax lives: outside stream bodies
# and in decompressed object streams.
_PDF_ACTIVE_SHORT_NAMES = {b"JS", b"AA"}


def _pdf_names(text: bytes) -> list[bytes]:
    return [
        _PDF_HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), m.group(1))
        for m in _PDF_NAME.finditer(text)
    ]


def _pdf_normalise(text: bytes) -> bytes:
    """Undo #xx escapes in names (/J#61vaScript is /JavaScript to a reader)."""
    return _PDF_NAME.sub(
        lambda m: b"/" + _PDF_HEX_ESCAPE.sub(lambda e: bytes([int(e.group(1), 16)]), m.group(1)), text
    )


@dataclass
class _PdfStream:
    attributes: bytes  # the stream's dictionary, names normalised
    body: bytes


def _pdf_split(data: bytes) -> tuple[list[bytes], list[_PdfStream]]:
    """Cut a PDF into its syntax (dictionaries, arrays, keywords) and its stream bodies."""
    syntax: list[bytes] = []
    streams: list[_PdfStream] = []
    pos = 0
    while match := _PDF_STREAM.search(data, pos):
        before = data[pos : match.start()]
        syntax.append(before)
        headers = list(_PDF_OBJ.finditer(before))
        attributes = _pdf_normalise(before[headers[-1].end() :] if headers else before[-4096:])
        start = match.end()
        end = -1
        length = re.search(rb"/Length\s+(\d+)(?!\d)(?!\s+\d+\s+R)", attributes)
        if length:
            candidate = start + int(length.group(1))
            if _PDF_ENDSTREAM.match(data, candidate):
                end = candidate
        if end < 0:  # indirect or wrong /Length: readers fall back to the keyword, so do we
            end = data.find(b"endstream", start)
            if end < 0:
                raise _Problem("damaged")
        streams.append(_PdfStream(attributes, data[start:end]))
        pos = end
    syntax.append(data[pos:])
    return syntax, streams


def _pdf_decode(stream: _PdfStream, budget: int) -> bytes:
    filters = []
    found = re.search(rb"/Filter\s*(\[[^\]]*\]|/[^\x00\t\n\x0c\r /\[\]<>(){}%]+)", stream.attributes)
    if found:
        filters = _pdf_names(found.group(1))
    predictor = re.search(rb"/Predictor\s+(\d+)", stream.attributes)
    if predictor and int(predictor.group(1)) > 1:
        raise _Problem("damaged")  # never seen on object streams; we cannot vouch for what we cannot read
    data = stream.body
    for name in filters:
        if name in (b"FlateDecode", b"Fl"):
            inflater = zlib.decompressobj()
            try:
                data = inflater.decompress(data, budget + 1)
            except zlib.error:
                raise _Problem("damaged") from None
        elif name in (b"ASCIIHexDecode", b"AHx"):
            digits = re.sub(rb"[^0-9A-Fa-f]", b"", data.split(b">", 1)[0])
            data = bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode())
        elif name in (b"ASCII85Decode", b"A85"):
            try:
                data = base64.a85decode(data.split(b"~>", 1)[0], ignorechars=b" \t\n\r\x0b\x0c\x00")
            except ValueError:
                raise _Problem("damaged") from None
        else:
            raise _Problem("damaged")
        if len(data) > budget:
            raise _Problem("decompression_bomb", _inflated_too_far())
    return data


def _inflated_too_far() -> Formatted:
    limit = _limit("TONGBAN_UPLOAD_PDF_MAX_INFLATED", 64 * MB)
    return Formatted(
        _("The PDF's compressed object streams unpack to more than the limit of %(limit)s."),
        {"limit": size_text(limit)},
    )


def _pdf_object_stream_parts(stream: _PdfStream, decoded: bytes) -> list[bytes]:
    """The objects packed in an object stream (its header lists number/offset pairs)."""
    first = re.search(rb"/First\s+(\d+)", stream.attributes)
    if not first:
        return [decoded]
    start = int(first.group(1))
    numbers = decoded[:start].split()
    try:
        offsets = sorted({int(x) for x in numbers[1::2]})
    except ValueError:
        return [decoded]
    bounds = [start + o for o in offsets] + [len(decoded)]
    return [decoded[a:b] for a, b in itertools.pairwise(bounds)]


def _pdf_objects(text: bytes) -> list[bytes]:
    headers = list(_PDF_OBJ.finditer(text))
    objects = []
    for i, header in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
        objects.append(text[header.end() : end].split(b"endobj", 1)[0])
    return objects


def _pdf_page_count(objects: list[bytes]) -> int | None:
    """/Count of the page tree's root (the /Pages node without a /Parent); the last one written wins,
    as in an incrementally updated file. Only a hint for the clerk, so None when unsure."""
    count = None
    for obj in objects:
        text = _pdf_normalise(obj)
        if re.search(rb"/Type\s*/Pages(?![A-Za-z])", text) and b"/Parent" not in text:
            found = re.search(rb"/Count\s+(\d+)", text)
            if found:
                count = int(found.group(1))
    return count


_PDF_TRAILING_SPACE = b" \t\r\n\x0c\x00"
_PDF_UPDATE_START = re.compile(rb"\d+\s+\d+\s+obj\b|xref\b|trailer\b|startxref\b")


def _check_pdf(data: bytes) -> int | None:
    eof = data.rfind(b"%%EOF")
    if eof < 0:
        raise _Problem("damaged")  # truncated upload; readers require the marker at the end
    after = data[eof + 5 :].strip(_PDF_TRAILING_SPACE)
    if after:
        if _PDF_UPDATE_START.match(after):
            raise _Problem("damaged")  # an incremental update cut off before its own %%EOF
        raise _polyglot_after("pdf")
    all_names = _pdf_names(data)
    everything = set(all_names)
    if everything & _PDF_ACTIVE_NAMES:
        raise _Problem("active_content", MESSAGES["pdf_active"])
    syntax, streams = _pdf_split(data)
    encrypted = b"Encrypt" in everything
    budget = _limit("TONGBAN_UPLOAD_PDF_MAX_INFLATED", 64 * MB)
    texts = list(syntax)
    objects: list[bytes] = [obj for text in syntax for obj in _pdf_objects(text)]
    object_streams = 0
    for stream in streams:
        if b"ObjStm" not in _pdf_names(stream.attributes):
            continue
        object_streams += 1
        try:
            decoded = _pdf_decode(stream, budget)
        except _Problem as problem:
            raise _Problem("encrypted") if encrypted and problem.code == "damaged" else problem from None
        budget -= len(decoded)
        texts.append(decoded)
        objects.extend(_pdf_object_stream_parts(stream, decoded))
    # An object stream whose dictionary sat inside another stream's body would have escaped the
    # walk above while a reader, following the cross-reference table, still finds it.
    if all_names.count(b"ObjStm") > object_streams:
        raise _Problem("damaged")
    for text in texts:
        names = set(_pdf_names(text))
        if names & (_PDF_ACTIVE_NAMES | _PDF_ACTIVE_SHORT_NAMES):
            raise _Problem("active_content", MESSAGES["pdf_active"])
    if not objects:
        raise _Problem("damaged")
    return _pdf_page_count(objects)


# --- images --------------------------------------------------------------------------------------

_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _check_pixels(width: int, height: int) -> None:
    limit = _limit("TONGBAN_UPLOAD_MAX_PIXELS", 100_000_000)
    if width * height > limit:
        message = Formatted(
            _("The image has more than %(limit)s million pixels."), {"limit": f"{limit / 1e6:g}"}
        )
        raise _Problem("too_many_pixels", message)


def _check_jpeg(data: bytes) -> int:
    """Walk the whole image: marker segments, each scan's entropy-coded data, up to the end-of-image
    marker. After it only zero padding may follow, or further complete JPEG images (the second
    views and gain maps of the Multi-Picture Format that phones write); anything else is refused.
    Returns the (first) image's pixel count."""
    end, pixels = _jpeg_end(data, 0)
    images = 1
    while end < len(data) and data.startswith(b"\xff\xd8\xff", end) and images < _JPEG_MAX_IMAGES:
        end = _jpeg_end(data, end)[0]
        images += 1
    if data[end:].strip(b"\x00"):
        raise _polyglot_after("jpeg")
    return pixels


_JPEG_MAX_IMAGES = 8


def _jpeg_end(data: bytes, start: int) -> tuple[int, int]:
    """The offset just after the end-of-image marker of the JPEG that begins at `start`, and the
    image's pixel count."""
    n, i, frame = len(data), start + 2, None
    while True:
        if i >= n or data[i] != 0xFF:
            raise _Problem("damaged")
        while i < n and data[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            raise _Problem("damaged")
        marker = data[i]
        i += 1
        if marker == 0xD9:
            if frame is None:
                raise _Problem("damaged")
            return i, frame[0] * frame[1]
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if marker in (0x00, 0xD8) or i + 2 > n:
            raise _Problem("damaged")
        length = int.from_bytes(data[i : i + 2], "big")
        if length < 2 or i + length > n:
            raise _Problem("damaged")
        segment = data[i + 2 : i + length]
        if marker in _JPEG_FRAMES and frame is None:
            if len(segment) < 6:
                raise _Problem("damaged")
            precision, height, width, components = (
                segment[0],
                int.from_bytes(segment[1:3], "big"),
                int.from_bytes(segment[3:5], "big"),
                segment[5],
            )
            valid = precision in (8, 12, 16) and height and width and 1 <= components <= 4
            if not valid or len(segment) != 6 + 3 * components:
                raise _Problem("damaged")
            frame = (width, height)
            _check_pixels(*frame)
        i += length
        if marker == 0xDA:
            if frame is None:
                raise _Problem("damaged")
            i = _jpeg_scan_end(data, i)


def _jpeg_scan_end(data: bytes, i: int) -> int:
    """Skip a scan's entropy-coded data: up to the first 0xFF that is neither a stuffed zero, a
    restart marker nor a fill byte, i.e. the next marker segment (or the end of the image)."""
    while True:
        i = data.find(b"\xff", i)
        if i < 0 or i + 1 >= len(data):
            raise _Problem("damaged")  # a cut-off upload: the scan never ends
        following = data[i + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            i += 2
        elif following == 0xFF:
            i += 1
        else:
            return i


_PNG_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
_PNG_CRITICAL = {b"IHDR", b"PLTE", b"IDAT", b"IEND"}


def _check_png(data: bytes) -> int:
    """Every chunk's length and CRC, a sane IHDR first, image data, and IEND at the end."""
    n, i = len(data), len(_PNG_SIGNATURE)
    header = None
    seen: set[bytes] = set()
    while True:
        if i + 12 > n:
            raise _Problem("damaged")
        length = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if length > 0x7FFFFFFF or end > n or not (kind.isalpha() and kind.isascii()):
            raise _Problem("damaged")
        body = data[i + 8 : i + 8 + length]
        if zlib.crc32(kind + body) != int.from_bytes(data[end - 4 : end], "big"):
            raise _Problem("damaged")
        if header is None:
            if kind != b"IHDR" or length != 13:
                raise _Problem("damaged")
            width, height = int.from_bytes(body[0:4], "big"), int.from_bytes(body[4:8], "big")
            depth, colour, compression, filtering, interlace = body[8:13]
            if not (0 < width < 2**31 and 0 < height < 2**31) or depth not in _PNG_DEPTHS.get(colour, ()):
                raise _Problem("damaged")
            if compression or filtering or interlace > 1:
                raise _Problem("damaged")
            header = (width, height, colour)
        elif kind[0:1].isupper() and kind not in _PNG_CRITICAL:
            raise _Problem("damaged")  # an unknown critical chunk: decoders must refuse the image
        seen.add(kind)
        i = end
        if kind == b"IEND":
            break
    if b"IDAT" not in seen or (header[2] == 3 and b"PLTE" not in seen):
        raise _Problem("damaged")
    _check_pixels(header[0], header[1])
    if data[i:].strip(b"\x00"):
        raise _polyglot_after("png")
    return header[0] * header[1]


# --- polyglots -----------------------------------------------------------------------------------

# Readers of other formats look for them in places an image or PDF reader ignores: unzip tools and
# Office look for a ZIP's end record within the last 64 KB, PDF readers for "%PDF-" within the
# first kilobyte. A chance match of these 4- and 5-byte signatures there is about one in 65,000.
_ZIP_END_RECORD = b"PK\x05\x06"
_ZIP_TAIL = 65_557  # the end record (22 bytes) and the longest archive comment


def _polyglot_after(kind: str) -> _Problem:
    return _Problem("polyglot", Formatted(_POLYGLOT_AFTER, {"kind": LABELS[kind]}))


def _check_not_also(kind: str, data: bytes) -> None:
    """Refuse a PDF, JPEG or PNG that another program would open as an archive or as a PDF."""
    other = None
    if _ZIP_END_RECORD in data[-_ZIP_TAIL:]:
        other = "ZIP"
    elif kind != "pdf" and b"%PDF-" in data[:1024]:
        other = "PDF"
    if other:
        raise _Problem("polyglot", Formatted(_POLYGLOT_INSIDE, {"kind": LABELS[kind], "other": other}))


# --- OFD and DOCX (ZIP packages) -----------------------------------------------------------------

_ZIP_CHUNK = 1 << 16
_ZIP_RATIO_FLOOR = MB  # small entries compress well legitimately; the ratio test starts above this
_RISKY_EXTENSIONS = {
    "exe", "dll", "com", "scr", "msi", "cpl", "sys", "bat", "cmd", "ps1", "psm1", "vbs", "vbe", "js", "jse",
    "wsf", "wsh", "hta", "jar", "lnk", "reg", "chm", "swf", "sh", "apk", "html", "htm", "xhtml", "mht",
    "mhtml", "docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppam", "ppsm", "sldm",
}  # fmt: skip
# Relationship types that bring in code or foreign objects (the last part of the type URI).
_RISKY_RELATIONSHIPS = {
    "vbaproject", "wordvbadata", "control", "activexcontrol", "activexcontrolbinary", "oleobject",
    "afchunk", "attachedtoolbars", "keymapcustomizations",
}  # fmt: skip
_RISKY_CONTENT_TYPES = re.compile(rb"macroenabled|vbaproject|vbadata|activex|oleobject", re.IGNORECASE)
_SVG_ACTIVE = re.compile(rb"<script|javascript:|<foreignobject|\son[a-z]+\s*=|<!entity", re.IGNORECASE)


def _open_zip(data: bytes) -> zipfile.ZipFile:
    """Open an archive after checking from its end record that the directory is of sane size: zipfile
    would otherwise build an object for every one of a crafted file's hundreds of thousands of entries."""
    max_entries = _limit("TONGBAN_UPLOAD_ZIP_MAX_ENTRIES", 5000)
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        raise _Problem("damaged")
    entries = int.from_bytes(data[end + 10 : end + 12], "little")
    directory_size = int.from_bytes(data[end + 12 : end + 16], "little")
    if entries > max_entries:
        raise _too_many_entries(entries, max_entries)
    if directory_size > max_entries * 1024:
        message = Formatted(
            _("The file's table of contents is %(size)s, more than %(limit)s entries could need."),
            {"size": size_text(directory_size), "limit": f"{max_entries:,}"},
        )
        raise _Problem("decompression_bomb", message)
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        ValueError,
        EOFError,
        OSError,
        struct.error,
    ):
        raise _Problem("damaged") from None


def _unsafe_entry_name(info: zipfile.ZipInfo) -> bool:
    name = info.filename
    if not name or "\\" in name or name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return True
    if any(ord(ch) < 32 for ch in name):
        return True
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts[:-1]) or parts[-1] in (".", ".."):
        return True
    return stat.S_ISLNK(info.external_attr >> 16)


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Read a whole entry; zipfile stops at the declared size (capped already) and checks the CRC."""
    try:
        with archive.open(info) as fh:
            chunks = []
            while chunk := fh.read(_ZIP_CHUNK):
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError, struct.error):
        raise _Problem("damaged") from None
    return b"".join(chunks)


def _xml(content: bytes):
    try:
        return ElementTree.fromstring(content, forbid_dtd=True)
    except DefusedXmlException:
        raise _Problem("active_content", MESSAGES["office_active"]) from None
    except ElementTree.ParseError:
        raise _Problem("damaged") from None


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _check_relationships(content: bytes) -> None:
    """External targets other than hyperlinks (remote templates, linked OLE objects, frames, images
    fetched when the file opens) and code-bearing relationships are refused."""
    for element in _xml(content).iter():
        if _local(element.tag) != "Relationship":
            continue
        kind = (element.get("Type") or "").rsplit("/", 1)[-1].lower()
        external = (element.get("TargetMode") or "").lower() == "external"
        if kind in _RISKY_RELATIONSHIPS or (external and kind != "hyperlink"):
            raise _Problem("active_content", MESSAGES["office_active"])


def _too_many_entries(count: int, limit: int) -> _Problem:
    return _Problem(
        "decompression_bomb",
        Formatted(
            _("The file holds %(count)s entries, more than the limit of %(limit)s."),
            {"count": f"{count:,}", "limit": f"{limit:,}"},
        ),
    )


def _check_zip(archive: zipfile.ZipFile, size: int, *, depth: int = 0) -> dict[str, bytes]:
    """Structure and content checks shared by OFD, DOCX and the workbooks a DOCX chart embeds.
    `size` is the archive's own size (for messages). Returns the entries by lower-case name."""
    infos = archive.infolist()
    max_bytes = _limit("TONGBAN_UPLOAD_ZIP_MAX_BYTES", 200 * MB)
    max_ratio = _limit("TONGBAN_UPLOAD_ZIP_MAX_RATIO", 200)
    max_entries = _limit("TONGBAN_UPLOAD_ZIP_MAX_ENTRIES", 5000)
    if len(infos) > max_entries:
        raise _too_many_entries(len(infos), max_entries)
    unpacked = sum(info.file_size for info in infos)
    if unpacked > max_bytes:
        message = Formatted(
            _("The file is %(size)s but unpacks to %(unpacked)s, more than the limit of %(limit)s."),
            {"size": size_text(size), "unpacked": size_text(unpacked), "limit": size_text(max_bytes)},
        )
        raise _Problem("decompression_bomb", message)
    for info in infos:
        if info.file_size > _ZIP_RATIO_FLOOR and info.file_size > max_ratio * max(info.compress_size, 1):
            message = Formatted(
                _(
                    "The file is %(size)s, but one of its parts unpacks from %(packed)s to %(unpacked)s, "
                    "more than %(ratio)s times as much."
                ),
                {
                    "size": size_text(size),
                    "packed": size_text(info.compress_size),
                    "unpacked": size_text(info.file_size),
                    "ratio": max_ratio,
                },
            )
            raise _Problem("decompression_bomb", message)
    names = [info.filename.lower() for info in infos]
    if len(set(names)) != len(names) or any(_unsafe_entry_name(info) for info in infos):
        raise _Problem("unsafe_path")  # OPC part names are case-insensitive, so duplicates are too
    if any(info.flag_bits & 0x1 for info in infos):
        raise _Problem("encrypted")

    entries: dict[str, bytes] = {}
    for info, name in zip(infos, names, strict=True):
        if info.is_dir():
            continue
        base = name.rsplit("/", 1)[-1]
        ext = base.rsplit(".", 1)[-1] if "." in base else ""
        macro = base in ("vbaproject.bin", "vbadata.xml") or "/activex/" in f"/{name}"
        binary = ext == "bin" and "/printersettings/" not in f"/{name}"
        embedded = "/embeddings/" in f"/{name}" and (ext != "xlsx" or depth > 0)
        if macro or binary or embedded or ext in _RISKY_EXTENSIONS:
            raise _Problem("active_content", MESSAGES["office_active"])
        content = _read_entry(archive, info)
        entries[name] = content
        if ext in ("xml", "rels", "svg"):
            head = content[:4096].replace(b"\x00", b"")
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise _Problem("active_content", MESSAGES["office_active"])
        if ext == "rels":
            _check_relationships(content)
        elif (ext == "svg" and _SVG_ACTIVE.search(content.replace(b"\x00", b""))) or (
            name == "[content_types].xml" and _RISKY_CONTENT_TYPES.search(content)
        ):
            raise _Problem("active_content", MESSAGES["office_active"])
        elif ext == "xlsx":  # a chart's workbook: the same rules, one level deep
            if not content.startswith(b"PK\x03\x04"):
                raise _Problem("active_content", MESSAGES["office_active"])
            _check_zip(_open_zip(content), len(content), depth=depth + 1)
    return entries


def _check_package(archive: zipfile.ZipFile, kind: str, size: int) -> int | None:
    entries = _check_zip(archive, size)
    try:
        return _ofd_pages(entries) if kind == "ofd" else _docx_pages(entries)
    except (_Problem, ValueError, KeyError):
        return None  # the page count is a hint; a package that passed the checks is not refused for it


def _docx_pages(entries: dict[str, bytes]) -> int | None:
    """What Word last wrote in docProps/app.xml: cheap, and right for documents saved by Word."""
    content = entries.get("docprops/app.xml")
    if content is None:
        return None
    for element in _xml(content).iter():
        if _local(element.tag) == "Pages" and (element.text or "").strip().isdigit():
            return int(element.text.strip())
    return None


def _ofd_pages(entries: dict[str, bytes]) -> int | None:
    """Pages listed in the first document's Document.xml (GB/T 33190: OFD.xml → DocBody → DocRoot)."""
    root = next((e for e in _xml(entries["ofd.xml"]).iter() if _local(e.tag) == "DocRoot"), None)
    if root is None or not root.text:
        return None
    document = entries.get(root.text.strip().lstrip("/").lower())
    if document is None:
        return None
    pages = [e for e in _xml(document).iter() if _local(e.tag) == "Pages"]
    if not pages:
        return None
    return sum(1 for e in pages[0] if _local(e.tag) == "Page")


# --- encrypted storage ---------------------------------------------------------------------------

_REF = re.compile(r"[0-9a-f]{64}")
_REF_PURPOSE = "file-ref-v1"


@dataclass(frozen=True)
class StoredFile:
    ref: str  # keyed SM3 of (context, content): the file's name on disk and its handle in the database
    size: int  # of the plaintext
    deduplicated: bool  # True when identical content was already stored under this context


def _files_dir() -> Path:
    return Path(settings.VAR_DIR) / "files"


def _path(ref: str) -> Path:
    return _files_dir() / ref[:2] / f"{ref}.bin"


def _aad(context: str, ref: str) -> str:
    # The ref is authenticated with the ciphertext, so a stored file copied over another one's name
    # fails to load instead of handing out the wrong applicant's material.
    return f"tongban.files:{context}:{ref}"


def file_ref(data: bytes, *, context: str) -> str:
    """Equal content under one context gets one ref; without the key, a ref tells nothing about the
    content (an unkeyed hash would let anyone holding a candidate ID card scan confirm it is stored)."""
    key = crypto.derived_key(_REF_PURPOSE)
    return crypto.hmac_sm3(key, context.encode() + b"\x00" + data).hex()


def store(data: bytes, *, context: str) -> StoredFile:
    """Encrypt and write `data` under VAR_DIR/files; storing equal content again writes nothing new.
    `context` names what the file is for (e.g. "cases.material") and must be given again to load it."""
    ref = file_ref(data, context=context)
    path = _path(ref)
    if path.exists():
        try:
            load(ref, context=context)
            return StoredFile(ref=ref, size=len(data), deduplicated=True)
        except (crypto.DecryptionError, NotFound):
            pass  # a damaged or vanished copy: write it afresh below, with the good bytes in hand
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_atomically(path, crypto.encrypt_bytes(data, _aad(context, ref)))
    return StoredFile(ref=ref, size=len(data), deduplicated=False)


def load(ref: str, *, context: str) -> bytes:
    """Decrypt a stored file. NotFound for an unknown or malformed ref; crypto.DecryptionError when the
    file on disk was altered, swapped or belongs to another context."""
    if not isinstance(ref, str) or not _REF.fullmatch(ref):
        raise NotFound()
    try:
        blob = _path(ref).read_bytes()
    except FileNotFoundError:
        raise NotFound() from None
    return crypto.decrypt_bytes(blob, _aad(context, ref))


def remove(ref: str) -> None:
    """Delete a stored file for good. Only for files stored under a context of their own (a draft's
    uploads): equal content under one context shares one file, so the caller must know no one else
    refers to it."""
    if not isinstance(ref, str) or not _REF.fullmatch(ref):
        raise NotFound()
    with contextlib.suppress(FileNotFoundError):
        _path(ref).unlink()


def _write_atomically(path: Path, blob: bytes) -> None:
    """Readers see the old file or the whole new one, never a half-written one (os.replace is atomic
    on one file system; the temporary file sits beside the target for that reason)."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError, AttributeError):  # make the rename itself durable where possible
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
