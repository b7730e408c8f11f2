"""A DOCX as the starting point of a draft: its first paragraph becomes the title, a line ending in
a colon right after it the 主送机关, the rest the text — for an author who wrote the body in WPS or
Word. Nothing is saved here; the draft form shows what was read, and saving goes through the same
checks as typing (services.create_draft).

An uploaded file is untrusted. Before python-docx sees it: a size limit; a ZIP whose entries,
total size and compression ratios stay within bounds (a zip bomb is refused without inflating
it); every XML part read with defusedxml, which refuses DTDs and entities (python-docx's own
parser does not resolve entities either). Anything else wrong with the bytes is a field error on
the upload, never a 500.
"""

from __future__ import annotations

import io
import zipfile

from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Formatted, InvalidInput

MAX_BYTES = 10 * 1024 * 1024
MAX_ENTRIES = 1000
MAX_UNCOMPRESSED = 60 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed size of one entry
FIELD = "docx"


def _refuse(code: str, message) -> InvalidInput:
    return InvalidInput.single(FIELD, code, message)


NOT_DOCX = _("This is not a DOCX file (save it from WPS or Word as .docx).")


def _check_package(data: bytes) -> zipfile.ZipFile:
    if not data:
        raise _refuse("required", _("Choose a file."))
    if len(data) > MAX_BYTES:
        raise _refuse("too_large", Formatted(_("The file is larger than %(n)d MB."), {"n": MAX_BYTES >> 20}))
    if data[:4] != b"PK\x03\x04":
        raise _refuse("type", NOT_DOCX)
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        entries = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _refuse("type", NOT_DOCX) from None
    bomb = _("The file expands to far more than its size (a zip bomb?); it was not opened.")
    if len(entries) > MAX_ENTRIES or sum(e.file_size for e in entries) > MAX_UNCOMPRESSED:
        raise _refuse("bomb", bomb)
    for entry in entries:
        if entry.file_size > 1024 * 1024 and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise _refuse("bomb", bomb)
    if "word/document.xml" not in package.namelist():
        raise _refuse("type", NOT_DOCX)
    return package


def _check_xml(package: zipfile.ZipFile) -> None:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    for entry in package.infolist():
        if not entry.filename.endswith((".xml", ".rels")):
            continue
        try:
            fromstring(package.read(entry), forbid_dtd=True)
        except DefusedXmlException:
            raise _refuse("unsafe", _("The file contains XML declarations that are not allowed.")) from None
        except Exception:
            raise _refuse("type", NOT_DOCX) from None


def read_docx(data: bytes) -> dict:
    """The title, main recipients and text of a DOCX (field error on the upload otherwise)."""
    import docx

    from . import services

    package = _check_package(bytes(data or b""))
    _check_xml(package)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # python-docx raises many kinds for a broken package
        raise _refuse("type", NOT_DOCX) from None
    lines = [p.text.strip() for p in document.paragraphs]
    lines = [line for line in lines if line]
    if not lines:
        raise _refuse("empty", _("The document has no text."))
    title = ""
    if len(lines[0]) <= 200:
        title = lines.pop(0)
    recipients = ""
    if lines and lines[0].endswith(("：", ":")) and len(lines[0]) <= 500:
        recipients = lines.pop(0)
    body = "\n".join(lines)
    if len(body) > services.BODY_MAX:
        raise _refuse(
            "too_long", Formatted(_("The text is longer than %(n)d characters."), {"n": services.BODY_MAX})
        )
    try:
        services.refuse_classified("", title, body)
    except InvalidInput as exc:
        raise _refuse("classified", services.CLASSIFIED_MESSAGE) from exc
    return {"title": title, "main_recipients": recipients, "body": body}
