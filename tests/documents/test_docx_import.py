"""A DOCX as the starting point of a draft, defused: size, zip bombs, DTDs and broken bytes are field
errors on the upload; the draft form is filled with what was read."""

import io
import zipfile

import docx
import pytest

from tongban.core.errors import InvalidInput
from tongban.documents import docx_in

from .test_api_views_cli import logged_in

pytestmark = pytest.mark.django_db


def make_docx(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def refused(data: bytes) -> str:
    with pytest.raises(InvalidInput) as caught:
        docx_in.read_docx(data)
    assert list(caught.value.fields) == ["docx"]
    return caught.value.fields["docx"][0].code


def test_title_recipients_and_text_are_read_from_the_paragraphs():
    data = make_docx("关于做好冬季安全生产工作的通知", "各科室、各所：", "一、提高认识", "二、压实责任", "")
    assert docx_in.read_docx(data) == {
        "title": "关于做好冬季安全生产工作的通知",
        "main_recipients": "各科室、各所：",
        "body": "一、提高认识\n二、压实责任",
    }


def test_bad_bytes_big_files_bombs_and_dtds_are_refused_on_the_field():
    assert refused(b"") == "required"
    assert refused(b"%PDF-1.7 not a docx") == "type"
    assert refused(b"PK\x03\x04" + b"\x00" * 100) == "type"
    assert refused(b"PK\x03\x04" + b"\x00" * (docx_in.MAX_BYTES + 1)) == "too_large"
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("word/media/zeros.bin", b"\x00" * (5 * 1024 * 1024))
    assert refused(bomb.getvalue()) == "bomb"
    original = zipfile.ZipFile(io.BytesIO(make_docx("标题", "正文")))
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w", zipfile.ZIP_DEFLATED) as z:
        for name in original.namelist():
            content = original.read(name)
            if name == "word/document.xml":
                content = content.replace(
                    b"?>", b'?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>', 1
                )
            z.writestr(name, content)
    assert refused(evil.getvalue()) == "unsafe"
    assert refused(make_docx("", " ")) == "empty"
    assert refused(make_docx("关于某事的通知", "秘密★1年 正文")) == "classified"


def test_the_draft_form_is_filled_from_an_upload_and_a_bad_file_is_a_field_error():
    client, _csrf = logged_in("reviewer")
    data = make_docx("关于做好冬季安全生产工作的通知", "各科室、各所：", "一、提高认识")
    upload = io.BytesIO(data)
    upload.name = "通知.docx"
    page = client.post("/documents/new", {"import_docx": "1", "docx": upload}).content.decode()
    assert 'value="关于做好冬季安全生产工作的通知"' in page and "一、提高认识</textarea>" in page
    garbage = io.BytesIO(b"garbage")
    garbage.name = "通知.docx"
    bad = client.post("/documents/new", {"import_docx": "1", "docx": garbage})
    assert bad.status_code == 200 and 'data-field="docx"' in bad.content.decode()
