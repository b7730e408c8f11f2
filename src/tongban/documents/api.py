"""Official document endpoints: draft, read, sign (with the 发文字号), seal, the PDF, and verifying a
sealed file. Thin over documents.services: the same checks as the pages and the CLI."""

import datetime as dt

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile

from . import search, services

router = Router(tags=["documents"])


class DocumentDraftIn(Schema):
    doc_type: str = Field(..., description="One of the 15 types: notice, request, letter, order, minutes, …")
    title: str
    body: str = Field(..., description="The text; headings start 一、 （一） 1. （1）")
    main_recipients: str = ""
    attachments: str = Field("", description="One attachment name per line (附件说明)")
    copy_number: str = ""
    urgency: str = Field("", description="'', 加急 or 特急")
    classification: str = Field("", description="Only non-classified documents: 秘密 and above are refused")
    note: str = ""
    cc: str = ""
    department_code: str = Field("", description="Drafting section (default: the caller's own)")


class DocumentOut(Schema):
    ref: str
    doc_type: str
    status: str
    version: int
    number: str
    title: str
    agency: str
    agency_code: str
    drafting_department: str
    signed_at: dt.datetime | None
    date: dt.date | None


class DocumentSealIn(Schema):
    seal_code: str


class DocumentVerifyOut(Schema):
    valid: bool
    status: str = Field(..., description="valid, changed, signature, seal, unknown_seal, unsealed, malformed")
    message: str
    seal_code: str
    seal_name: str
    agency: str
    signer: str
    sealed_at: dt.datetime | None
    document_ref: str
    number: str
    title: str
    digest: str = Field(..., description="SM3 of the sealed bytes (hex)")


def _out(document) -> dict:
    return {
        "ref": document.ref,
        "doc_type": document.doc_type,
        "status": document.status,
        "version": document.version,
        "number": document.number,
        "title": document.title,
        "agency": document.agency.code,
        "agency_code": document.agency_code,
        "drafting_department": document.drafting_department.code,
        "signed_at": document.signed_at,
        "date": document.date,
    }


@router.post("/documents", response={201: DocumentOut}, summary="Draft an official document (公文)")
def create(request, payload: DocumentDraftIn):
    return Status(201, _out(services.create_draft(request.auth, **payload.dict())))


# Before the /documents/{ref} routes: Django takes the first pattern that matches "verify".
@router.post(
    "/documents/verify",
    response=DocumentVerifyOut,
    summary="Verify a sealed PDF: who sealed it, when, unchanged?",
)
def verify(request, file: UploadedFile = File(..., description="The sealed PDF")):
    content = file.read(services.VERIFY_MAX_BYTES + 1)
    result = services.verify_file(request.auth, content)
    return {**result.__dict__, "message": str(result.message)}


class SearchHitOut(Schema):
    ref: str
    number: str
    title: str
    doc_type: str
    status: str
    agency: str
    date: dt.date | None
    score: float
    snippet: str = Field(..., description="A passage of the text around the words found")


class SearchOut(Schema):
    total: int = Field(..., description=f"Documents found, counted up to {search.COUNT_CAP + 1}")
    more: bool = Field(..., description=f"More than {search.COUNT_CAP} found")
    page: int
    pages: int
    words: list[str] = Field(..., description="The query's words as jieba cut them")
    results: list[SearchHitOut]


@router.get(
    "/documents/search",
    response=SearchOut,
    summary="Full-text search (全文检索) over the documents the caller may read",
)
def search_documents(
    request,
    q: str,
    doc_type: str = "",
    status: str = "",
    year: str = "",
    agency: str = "",
    number: str = "",
    date_from: str = "",
    date_to: str = "",
    page: int = 1,
):
    filters = search.clean_filters(
        doc_type=doc_type,
        status=status,
        year=year,
        agency_code=agency,
        number=number,
        date_from=date_from,
        date_to=date_to,
    )
    found = search.search(request.auth, q, filters, page=max(1, min(page, 1000)))
    return {
        "total": found.total,
        "more": found.more,
        "page": found.page,
        "pages": found.pages,
        "words": found.words,
        "results": [
            {
                "ref": hit.document.ref,
                "number": hit.document.number,
                "title": hit.document.title,
                "doc_type": hit.document.doc_type,
                "status": hit.document.status,
                "agency": hit.document.agency.code,
                "date": hit.document.date,
                "score": hit.score,
                "snippet": "".join(text for text, _found in hit.snippet),
            }
            for hit in found.hits
        ],
    }


@router.get("/documents/{ref}", response=DocumentOut, summary="An official document")
def read(request, ref: str):
    return _out(services.access_document(request.auth, ref))


@router.post("/documents/{ref}/sign", response=DocumentOut, summary="Sign off (签发): assigns the 发文字号")
def sign(request, ref: str):
    return _out(services.sign(request.auth, ref))


@router.post(
    "/documents/{ref}/seal", response=DocumentOut, summary="Seal (用印) with an e-seal the caller holds"
)
def seal(request, ref: str, payload: DocumentSealIn):
    return _out(services.seal_document(request.auth, ref, seal_code=payload.seal_code))


@router.get(
    "/documents/{ref}/pdf",
    summary="The document as GB/T 9704 PDF (the sealed file once sealed)",
    openapi_extra={
        "responses": {
            200: {
                "description": "PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def pdf(request, ref: str):
    document = services.access_document(request.auth, ref)
    if hasattr(document, "sealing"):
        content = services.sealed_pdf(request.auth, ref)
    else:
        content = services.pdf(request.auth, ref)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        False, f"{document.number or document.ref}.pdf"
    )
    return response
