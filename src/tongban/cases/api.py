"""Case endpoints: applying and following a case, the window, the back office, 秒批 decision tables.

Handlers only translate HTTP into calls of `tongban.cases.services` and shape the answer; every rule
lives in the services. Cases are addressed by their public number, steps by their public id.

Uploads are multipart/form-data with one file per material, each named `files[<material name>]`
(e.g. `files[营业执照]`). An application that carries files goes to POST /cases/multipart with the
same JSON object as POST /cases in a text field named `payload`; answers to a 补正 and 容缺 materials
are multipart only. A file larger than the upload limit is refused without being read whole.

Personal data: the applicant's name and the ID and phone numbers in the form appear in full only
to the applicant (or a representative of the enterprise applying); everyone else sees them masked.
Staff who need the full record call POST /persons/{public_id}/reveal, which journals the reason.

Lists answer `{"items": [...], "count": n}` and take `page` and `page_size`, like every list of
this API.
"""

import datetime as dt
import json
import uuid
from typing import Literal

import pydantic
from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from ninja import Body, Field, File, Form, Header, Query, Router, Schema, Status
from ninja.errors import ValidationError as SchemaValidationError
from ninja.files import UploadedFile
from pydantic import BaseModel, ConfigDict

from tongban.accounts import services as account_services
from tongban.catalog import services as catalog
from tongban.core.errors import FieldErrors, Formatted, InvalidInput
from tongban.core.masking import mask_id_number, mask_name, mask_phone
from tongban.workflow import services as workflow
from tongban.workflow import store as store_wf

from . import services
from .models import CallbackResult, CaseStatus, Delivery, ProcedureKind

router = Router()

TAG_CASES, TAG_WORK, TAG_TABLES, TAG_NOTIFICATIONS = ["cases"], ["work"], ["tables"], ["notifications"]

PAGE = Query(1, ge=1, le=10_000, description="Page number, from 1")
PAGE_SIZE = Query(20, ge=1, le=100, description="Rows per page")


# --- the error shape, for the OpenAPI document ------------------------------------------------------


class MessageOut(Schema):
    """A message in every supported language."""

    model_config = ConfigDict(
        json_schema_extra={
            "properties": {"zh-Hans": {"type": "string"}, "en": {"type": "string"}},
            "required": ["zh-Hans", "en"],
        }
    )


class ProblemOut(Schema):
    code: str
    message: MessageOut


class ErrorBodyOut(Schema):
    code: str
    message: MessageOut
    fields: dict[str, list[ProblemOut]] | None = Field(None, description="Per field, when input was wrong")
    request_id: str


class ErrorOut(Schema):
    error: ErrorBodyOut


def _answers(ok: dict, *errors: int) -> dict:
    """The success schema plus the errors an endpoint can answer (401 for every one of them)."""
    return {**ok, **{status: ErrorOut for status in sorted({401, *errors})}}


def _binary(content_type: str, description: str) -> dict:
    return {
        "responses": {
            200: {
                "description": description,
                "content": {content_type: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    }


def _multipart(properties: dict, description: str) -> dict:
    return {
        "requestBody": {
            "description": description,
            "content": {"multipart/form-data": {"schema": {"type": "object", "properties": properties}}},
        }
    }


_FILES_PROPERTY = {
    "files[<material name>]": {
        "type": "string",
        "format": "binary",
        "description": "One file per material, e.g. files[营业执照]; repeat for each material",
    }
}


# --- shaping cases ---------------------------------------------------------------------------------


class ApplicantOut(Schema):
    public_id: str
    name: str
    masked: bool


class EnterpriseRefOut(Schema):
    uscc: str
    name: str


class CaseOut(Schema):
    number: str
    title: str
    item_code: str | None
    bundle_code: str | None
    department: str
    department_name: str
    status: str
    channel: str
    decision: str
    colour: str = Field(
        ...,
        description=(
            "red, yellow or green against the promised limit; paused while the clock stands still;"
            " empty if no clock"
        ),
    )
    applicant: ApplicantOut
    enterprise: EnterpriseRefOut | None
    by_commitment: bool
    limit_days: int | None
    paused_days: float
    pause_reason: str
    visits: int
    delivery: str
    submitted_at: dt.datetime
    accepted_at: dt.datetime | None
    due_at: dt.datetime | None
    decided_at: dt.datetime | None
    closed_at: dt.datetime | None


def _case_out(case, *, unmasked: bool, now=None) -> dict:
    applicant = case.applicant
    return {
        "number": case.number,
        "title": case.title,
        "item_code": case.item_version.item.code if case.item_version_id else None,
        "bundle_code": case.bundle_version.bundle.code if case.bundle_version_id else None,
        "department": case.department.code,
        "department_name": case.department.name,
        "status": case.status,
        "channel": case.channel,
        "decision": case.decision,
        "colour": services.status_colour(case, now),
        "applicant": {
            "public_id": str(applicant.public_id),
            "name": applicant.name if unmasked else mask_name(applicant.name),
            "masked": not unmasked,
        },
        "enterprise": (
            {"uscc": case.enterprise.uscc, "name": case.enterprise.name} if case.enterprise_id else None
        ),
        "by_commitment": case.by_commitment,
        "limit_days": case.limit_days,
        "paused_days": round(case.paused_days, 4),
        "pause_reason": case.pause_reason,
        "visits": case.visits,
        "delivery": case.delivery,
        "submitted_at": case.submitted_at,
        "accepted_at": case.accepted_at,
        "due_at": case.due_at,
        "decided_at": case.decided_at,
        "closed_at": case.closed_at,
    }


def _is_own(actor, case) -> bool:
    person = getattr(actor, "person", None)
    return person is not None and person.pk == case.applicant_id


def _case_now(actor, number: str) -> dict:
    """The case as it stands after a change, shaped for the one who changed it."""
    case = services.access_case(actor, number)
    return _case_out(case, unmasked=_is_own(actor, case))


_MASKS = {"id_number": mask_id_number, "phone": mask_phone}


def _visible_data(case, data: dict, unmasked: bool) -> dict:
    """The form as filled; ID and phone numbers masked for those who are not the applicant."""
    if unmasked:
        return dict(data)
    fields = (
        case.item_version.form_fields
        if case.item_version_id
        else catalog.merged_form(case.bundle_version).fields
    )
    masks = {f["key"]: _MASKS[f.get("type")] for f in fields if f.get("type") in _MASKS}
    return {key: masks[key](str(value)) if key in masks and value else value for key, value in data.items()}


class _Plain(BaseModel):
    """For responses built as dicts on hot paths: pydantic validates them directly, without the
    attribute-by-attribute getter ninja.Schema wraps around every object (3× slower on a worklist)."""

    model_config = ConfigDict(from_attributes=True)


class WorkOut(_Plain):
    id: uuid.UUID
    case_number: str
    kind: str
    name: str
    node_id: str
    role: str
    department: str
    status: str
    mine: bool = Field(..., description="Assigned to the caller")
    colour: str = Field(..., description="red, yellow, green or paused")
    created_at: dt.datetime | None
    claimed_at: dt.datetime | None
    due_at: dt.datetime | None


def _work_out(actor, work, now=None) -> dict:
    """A step, from the workflow's row or its model (both carry the same fields)."""
    user = getattr(actor, "user", None)
    return {
        "id": work.public_id,
        "case_number": work.subject,
        "kind": work.kind,
        "name": work.name,
        "node_id": work.node_id,
        "role": work.role,
        "department": store_wf.department_code(work.department_id),
        "status": work.status,
        "mine": user is not None and work.assignee_id == user.pk,
        "colour": workflow.colour_of(work, now),
        "created_at": work.created_at,
        "claimed_at": work.claimed_at,
        "due_at": work.due_at,
    }


class MaterialOut(Schema):
    id: int
    name: str
    required: bool
    core: bool
    status: str
    source: str
    due_at: dt.datetime | None
    provided_at: dt.datetime | None
    file_name: str
    file_size: int | None
    download: str | None = Field(..., description="Where the uploaded file can be read, if there is one")


class EventOut(Schema):
    activity: str
    lifecycle: str
    occurred_at: dt.datetime
    actor: str = Field(..., description='"applicant", "system", or the staff member ("staff" to applicants)')
    department: str
    work_item: uuid.UUID | None
    detail: dict


class SupplementOut(Schema):
    id: int
    requested_at: dt.datetime
    items: list[dict]
    note: str
    work_item: uuid.UUID | None
    responded_at: dt.datetime | None
    response_note: str


class ProcedureOut(Schema):
    id: int
    kind: str
    reason: str
    expected_days: int | None
    started_at: dt.datetime
    ended_at: dt.datetime | None
    result: str


class RatingOut(Schema):
    score: int
    comment: str
    rated_at: dt.datetime
    rectification: uuid.UUID | None
    rectification_due_at: dt.datetime | None
    rectified_at: dt.datetime | None
    measures: str
    callback_result: str
    callback_note: str


class ProcessRefOut(Schema):
    key: str
    version: int


class CaseDetailOut(Schema):
    case: CaseOut
    is_applicant: bool
    data: dict
    decision_basis: dict
    materials: list[MaterialOut]
    events: list[EventOut]
    open_work: list[WorkOut]
    supplements: list[SupplementOut]
    procedures: list[ProcedureOut]
    rating: RatingOut | None
    process: ProcessRefOut | None
    current_nodes: list[str]
    completed_nodes: list[str]


def _event_out(event, case, staff_view: bool) -> dict:
    if event.actor_id is None:
        who = "system"
    elif event.actor_id == case.applicant.user_id:
        who = "applicant"
    else:
        who = event.actor_label if staff_view else "staff"
    return {
        "activity": event.activity,
        "lifecycle": event.lifecycle,
        "occurred_at": event.occurred_at,
        "actor": who,
        "department": event.department_code,
        "work_item": event.work_item,
        "detail": event.detail,
    }


def _material_out(case, material) -> dict:
    return {
        "id": material.pk,
        "name": material.name,
        "required": material.required,
        "core": material.core,
        "status": material.status,
        "source": material.source,
        "due_at": material.due_at,
        "provided_at": material.provided_at,
        "file_name": material.file_name,
        "file_size": material.file_size,
        "download": (
            f"/api/v1/cases/{case.number}/materials/{material.pk}/file" if material.file_ref else None
        ),
    }


# --- multipart input ------------------------------------------------------------------------------


def _uploads(request) -> dict[str, tuple[str, bytes]]:
    """Files named files[<material name>], one per material."""
    limit = settings.TONGBAN_UPLOAD_MAX_BYTES
    errors = FieldErrors()
    found = {}
    for key in request.FILES:
        if not (key.startswith("files[") and key.endswith("]") and len(key) > 7):
            errors.add(key, "unknown", _("Name each file files[<material name>]."))
            continue
        name = key[6:-1]
        uploads = request.FILES.getlist(key)
        if len(uploads) > 1:
            errors.add(f"files.{name}", "one_file", _("Attach one file per material."))
            continue
        # One byte over the limit is enough for the upload check to refuse it as too large.
        found[name] = (uploads[0].name or "", uploads[0].read(limit + 1))
    errors.raise_if_any()
    return found


def _payload(request, schema: type[Schema]):
    """The JSON object in the `payload` field of a multipart request, checked like a JSON body."""
    raw = request.POST.get("payload")
    if raw is None:
        raise InvalidInput.single("payload", "missing", _("This field is required."))
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise InvalidInput.single("payload", "json_invalid", _("The payload field must be a JSON object."))
    try:
        return schema.model_validate(value)
    except pydantic.ValidationError as exc:
        raise SchemaValidationError(exc.errors(include_url=False, include_context=False)) from None


def _flag(request, name: str) -> bool:
    return request.POST.get(name, "").strip().lower() in ("1", "true", "on", "yes")


# =====================================================================================================
# Applicants
# =====================================================================================================


class ApplyIn(Schema):
    item_code: str = Field("", description="The item applied for (or give bundle_code)")
    bundle_code: str = Field("", description="The bundle (一件事) applied for (or give item_code)")
    data: dict = Field(default_factory=dict, description="The form: field key → value")
    enterprise_uscc: str = Field("", description="Apply for this enterprise (you must represent it)")
    commitment: bool = Field(False, description="Sign the 告知承诺, where the item allows it")
    reuse_consent: bool = Field(
        False,
        description="Let the e-licences and shared data the government holds stand in for materials (免提交)",
    )


IdempotencyKey = Header[
    str,
    {
        "alias": "Idempotency-Key",
        "description": "The same key from the same account returns the case already created",
    },
]


def _apply(request, payload: ApplyIn, idempotency_key: str, files: dict):
    actor = request.auth
    case = services.apply_online(
        actor,
        item_code=payload.item_code,
        bundle_code=payload.bundle_code,
        data=payload.data,
        enterprise_uscc=payload.enterprise_uscc,
        idempotency_key=idempotency_key,
        files=files,
        commitment=payload.commitment,
        reuse_consent=payload.reuse_consent,
    )
    return Status(201, _case_now(actor, case.number))


@router.post(
    "/cases",
    response=_answers({201: CaseOut}, 403, 404, 409, 422),
    tags=TAG_CASES,
    summary="Apply online (一表申请); materials follow or go to /cases/multipart",
)
def apply(request, payload: ApplyIn, idempotency_key: IdempotencyKey = ""):
    return _apply(request, payload, idempotency_key, {})


@router.post(
    "/cases/multipart",
    response=_answers({201: CaseOut}, 403, 404, 409, 422),
    tags=TAG_CASES,
    summary="Apply online with the materials attached (multipart)",
    openapi_extra=_multipart(
        {"payload": {"type": "string", "description": "The JSON object of POST /cases"}, **_FILES_PROPERTY},
        "The application as JSON text in `payload`, and one file per material.",
    ),
)
def apply_with_files(request, idempotency_key: IdempotencyKey = ""):
    files = _uploads(request)
    return _apply(request, _payload(request, ApplyIn), idempotency_key, files)


class CasePageOut(Schema):
    items: list[CaseOut]
    count: int


@router.get(
    "/my/cases",
    response=_answers({200: CasePageOut}, 422),
    tags=TAG_CASES,
    summary="My applications, and my enterprises', newest first",
)
def my_cases(request, status: CaseStatus | None = None, page: int = PAGE, page_size: int = PAGE_SIZE):
    actor = request.auth
    cases = services.list_my_cases(actor).select_related(
        "applicant", "enterprise", "item_version__item", "bundle_version__bundle"
    )
    if status:
        cases = cases.filter(status=status)
    offset = (page - 1) * page_size
    now = timezone.now()
    return {
        "items": [
            _case_out(c, unmasked=True, now=now)
            for c in cases.order_by("-submitted_at", "-id")[offset : offset + page_size]
        ],
        "count": cases.count(),
    }


@router.get(
    "/cases/{number}",
    response=_answers({200: CaseDetailOut}, 404),
    tags=TAG_CASES,
    summary="A case with its materials, timeline, open steps, 补正, procedures and rating",
)
def get_case(request, number: str):
    actor = request.auth
    detail = services.case_detail(actor, number)
    case = detail.case
    unmasked = detail.is_applicant
    staff_view = getattr(actor, "staff", None) is not None
    now = timezone.now()
    return {
        "case": _case_out(case, unmasked=unmasked, now=now),
        "is_applicant": detail.is_applicant,
        "data": _visible_data(case, case.data or {}, unmasked),
        "decision_basis": case.decision_basis or {},
        "materials": [_material_out(case, m) for m in detail.materials],
        "events": [_event_out(e, case, staff_view) for e in detail.events],
        "open_work": [_work_out(actor, w, now) for w in detail.open_work],
        "supplements": [
            {
                "id": s.pk,
                "requested_at": s.requested_at,
                "items": s.items,
                "note": s.note,
                "work_item": s.work_item,
                "responded_at": s.responded_at,
                "response_note": s.response_note,
            }
            for s in detail.supplements
        ],
        "procedures": detail.procedures,
        "rating": detail.rating,
        "process": (
            {"key": detail.process.key, "version": detail.process.version} if detail.process else None
        ),
        "current_nodes": detail.current_nodes,
        "completed_nodes": detail.completed_nodes,
    }


@router.post(
    "/cases/{number}/supplement-response",
    response=_answers({200: CaseOut}, 403, 404, 409, 422),
    tags=TAG_CASES,
    summary="Answer a 补正 notice with every material it asked for (multipart)",
    openapi_extra=_multipart(
        {
            **_FILES_PROPERTY,
            "note": {"type": "string"},
            "paper": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Window only: materials whose originals were checked on paper",
            },
        },
        "The files asked for, named files[<material name>].",
    ),
)
def respond_supplement(request, number: str):
    actor = request.auth
    services.respond_supplement(
        actor,
        number,
        files=_uploads(request),
        paper=request.POST.getlist("paper"),
        note=request.POST.get("note", ""),
    )
    return _case_now(actor, number)


@router.post(
    "/cases/{number}/materials/{name}",
    response=_answers({200: CaseOut}, 403, 404, 409, 422),
    tags=TAG_CASES,
    summary="Supply a material accepted as missing (容缺) or still to be provided (multipart)",
    openapi_extra=_multipart(
        {
            "file": {"type": "string", "format": "binary"},
            "paper": {"type": "boolean", "description": "Window only: the original was checked on paper"},
        },
        "The file, or (window) paper=true.",
    ),
)
def supply_material(request, number: str, name: str):
    actor = request.auth
    paper = _flag(request, "paper")
    upload = None
    if not paper and (file := request.FILES.get("file")) is not None:
        upload = (file.name or "", file.read(settings.TONGBAN_UPLOAD_MAX_BYTES + 1))
    services.supply_material(actor, number, material=name, upload=upload, paper=paper)
    return _case_now(actor, number)


class WithdrawIn(Schema):
    reason: str = ""


@router.post(
    "/cases/{number}/withdraw",
    response=_answers({200: CaseOut}, 403, 404, 409, 422),
    tags=TAG_CASES,
    summary="Withdraw my application before it is decided (撤回)",
)
def withdraw(request, number: str, payload: WithdrawIn):
    actor = request.auth
    services.withdraw(actor, number, reason=payload.reason)
    return _case_now(actor, number)


class MessageIn(Schema):
    name: str = Field(..., description="The name of the message, as the process's BPMN names it")
    payload: dict = Field(
        default_factory=dict,
        description="What it carries (at most 16 KB); kept in the case data under the receiving event's "
        "messageVariable when it names one",
    )


class MessageDeliveredOut(Schema):
    event: str = Field(..., description="The BPMN element that received the message")
    next: list[WorkOut] = Field(..., description="Steps the process opened next")
    case: CaseOut


@router.post(
    "/cases/{number}/messages",
    response=_answers({200: MessageDeliveredOut}, 403, 404, 409, 422),
    tags=TAG_CASES,
    summary="Deliver a message from another system to the case's process",
    description="The event of the case's process that has waited longest for a message of this name "
    "(an intermediate catch event, a receive task, a message start or boundary event, an event "
    "subprocess) receives it: messages are correlated by the case's number. 409 when nothing of the "
    "case waits for it, or the case is not in progress. The caller needs the case.message permission "
    "for the case's department.",
)
def deliver_message(request, number: str, payload: MessageIn):
    actor = request.auth
    result = services.deliver_message(actor, number, name=payload.name, payload=payload.payload)
    now = timezone.now()
    return {
        "event": result.passed[0],
        "next": [_work_out(actor, w, now) for w in result.created],
        "case": _case_now(actor, number),
    }


class RatingIn(Schema):
    score: int = Field(..., description="5 非常满意 … 1 非常不满意; 1 and 2 need a comment")
    comment: str = ""


@router.post(
    "/cases/{number}/rating",
    response=_answers({201: RatingOut}, 403, 404, 409, 422),
    tags=TAG_CASES,
    summary="Rate the service once it is finished (好差评)",
)
def rate(request, number: str, payload: RatingIn):
    return Status(201, services.rate(request.auth, number, score=payload.score, comment=payload.comment))


@router.get(
    "/cases/{number}/document",
    response=_answers({}, 404, 409),
    tags=TAG_CASES,
    summary="The decision document (决定书) of an issued case, as PDF",
    openapi_extra=_binary("application/pdf", "The decision document"),
)
def document(request, number: str):
    file_name, content = services.document_pdf(request.auth, number)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    return response


@router.get(
    "/cases/{number}/materials/{material_id}/file",
    response=_answers({}, 404),
    tags=TAG_CASES,
    summary="An uploaded material (its reading is journalled)",
    openapi_extra=_binary("application/octet-stream", "The file as uploaded (PDF, image, …)"),
)
def material_file(request, number: str, material_id: int):
    file_name, content_type, content = services.material_file(request.auth, number, material_id)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    return response


class PrecheckFindingOut(Schema):
    field: str = Field(
        description="kind, name, id_number, uscc, legal_representative, address, valid_until, date, seal, "
        "text"
    )
    field_label: str
    outcome: Literal["match", "mismatch", "unreadable", "expired", "wrong_kind"]
    outcome_label: str
    read: str = Field(description="What the scan says (ID numbers masked)")
    expected: str = Field(description="What the application says, where it was compared (masked)")


class PrecheckOut(Schema):
    material: str
    status: Literal["queued", "done", "failed"]
    outcome: str = Field(description="The worst finding")
    outcome_label: str
    expected_kind: str
    found_kind: str
    checked_at: dt.datetime | None
    findings: list[PrecheckFindingOut]


class PrechecksOut(Schema):
    prechecks: list[PrecheckOut]
    pending: list[str] = Field(description="Uploaded materials still being read")


@router.get(
    "/cases/{number}/prechecks",
    response=_answers({200: PrechecksOut}, 404),
    tags=TAG_CASES,
    summary="智能预审: what OCR read from the uploaded scans, compared with the application",
)
def prechecks(request, number: str):
    views = services.prechecks.prechecks(request.auth, number)
    pending = services.prechecks.pending(request.auth, number)
    return {
        "prechecks": [
            {
                **{
                    k: getattr(v, k) for k in ("material", "status", "outcome", "outcome_label", "checked_at")
                },
                "expected_kind": str(v.expected_kind),
                "found_kind": str(v.found_kind),
                "findings": [
                    {
                        "field": f.field,
                        "field_label": str(f.field_label),
                        "outcome": f.outcome,
                        "outcome_label": str(f.outcome_label),
                        "read": str(f.read),
                        "expected": str(f.expected),
                    }
                    for f in v.findings
                ],
            }
            for v in views
        ],
        "pending": pending,
    }


# =====================================================================================================
# The window
# =====================================================================================================


@router.get(
    "/window/cases",
    response=_answers({200: CasePageOut}, 403, 422),
    tags=TAG_CASES,
    summary="The window's queues, oldest first: to accept (default), 补正, 容缺 to follow, to issue",
)
def window_cases(
    request,
    queue: Literal["submitted", "supplement", "gaps", "decided"] = Query(
        "submitted",
        description="submitted: to accept; supplement: waiting on the applicant; "
        "gaps: 容缺 materials to come; decided: to issue",
    ),
    item_code: str = Query("", description="An item's or a bundle's code"),
    q: str = Query("", max_length=100, description="Part of the case number, applicant or enterprise name"),
    page: int = PAGE,
    page_size: int = PAGE_SIZE,
):
    cases = services.window_queue(request.auth, status=queue, item_code=item_code, q=q).select_related(
        "item_version__item", "bundle_version__bundle"
    )
    offset = (page - 1) * page_size
    now = timezone.now()
    return {
        "items": [_case_out(c, unmasked=False, now=now) for c in cases[offset : offset + page_size]],
        "count": cases.count(),
    }


class AcceptIn(Schema):
    missing: list[str] = Field(
        default_factory=list, description="Non-core materials accepted as missing (容缺)"
    )
    paper: list[str] | None = Field(
        None, description="Materials checked on paper; by default every outstanding one not missing"
    )
    gap_days: int | None = Field(None, description="Working days to supply the missing ones")
    window_code: str = Field("", description="centre/window, e.g. gaq-zwzx/01")


@router.post(
    "/cases/{number}/accept",
    response=_answers({200: CaseOut}, 403, 404, 409, 422),
    tags=TAG_CASES,
    summary="Accept an application (受理), possibly with gaps (容缺受理)",
)
def accept(request, number: str, payload: AcceptIn):
    actor = request.auth
    services.accept(actor, number, **payload.dict())
    return _case_now(actor, number)


class WindowApplyIn(AcceptIn):
    item_code: str = ""
    bundle_code: str = ""
    id_number: str = Field(..., description="The applicant's ID number (never in URLs)")
    name: str = Field("", description="Needed when the applicant was never registered")
    phone: str = ""
    data: dict = Field(default_factory=dict)
    enterprise_uscc: str = ""
    commitment: bool = False


@router.post(
    "/window/cases",
    response=_answers({201: CaseOut}, 403, 404, 409, 422),
    tags=TAG_CASES,
    summary="Take and accept an application on the applicant's behalf (一窗受理)",
)
def accept_at_window(request, payload: WindowApplyIn):
    actor = request.auth
    case = services.accept_at_window(actor, **payload.dict())
    return Status(201, _case_now(actor, case.number))


class RefuseIn(Schema):
    reason: str


@router.post(
    "/cases/{number}/refuse",
    response=_answers({200: CaseOut}, 403, 404, 409, 422),
    tags=TAG_CASES,
    summary="Refuse an application not yet accepted (不予受理)",
)
def refuse(request, number: str, payload: RefuseIn):
    actor = request.auth
    services.refuse(actor, number, reason=payload.reason)
    return _case_now(actor, number)


class SupplementItemIn(Schema):
    material: str = ""
    reason: str = ""


class SupplementIn(Schema):
    items: list[SupplementItemIn] = Field(
        default_factory=list, description="Everything to add or fix, at once"
    )
    note: str = ""


class CaseSupplementIn(SupplementIn):
    work_id: uuid.UUID | None = Field(None, description="The open step asking (required once accepted)")


def _request_supplement(actor, number: str, payload: SupplementIn, work_id):
    supplement = services.request_supplement(
        actor, number, items=[i.dict() for i in payload.items], note=payload.note, work_id=work_id
    )
    return Status(
        201,
        {
            "id": supplement.pk,
            "requested_at": supplement.requested_at,
            "items": supplement.items,
            "note": supplement.note,
            "work_item": supplement.work_item,
            "responded_at": supplement.responded_at,
            "response_note": supplement.response_note,
        },
    )


@router.post(
    "/cases/{number}/supplement",
    response=_answers({201: SupplementOut}, 403, 404, 409, 422),
    tags=TAG_CASES,
    summary="Request a supplement (补正): the window before acceptance, or from an open step",
)
def request_supplement(request, number: str, payload: CaseSupplementIn):
    return _request_supplement(request.auth, number, payload, payload.work_id)


class IssueIn(Schema):
    delivery: Delivery = Delivery.WINDOW
    address: str = Field("", description="Postal address, for delivery by post")


@router.post(
    "/cases/{number}/issue",
    response=_answers({200: CaseOut}, 403, 404, 409, 422),
    tags=TAG_CASES,
    summary="Issue the result (出件) at the window, by post or online",
)
def issue(request, number: str, payload: IssueIn):
    actor = request.auth
    services.issue(actor, number, delivery=payload.delivery.value, address=payload.address)
    return _case_now(actor, number)


# =====================================================================================================
# The back office
# =====================================================================================================


class WorkCaseOut(_Plain):
    number: str
    title: str
    status: str
    channel: str
    submitted_at: dt.datetime | None
    due_at: dt.datetime | None
    pause_reason: str
    applicant: str = Field(..., description="Masked")
    enterprise: str


class WorkRowOut(WorkOut):
    case: WorkCaseOut


class WorkPageOut(_Plain):
    items: list[WorkRowOut]
    count: int = Field(..., description="Steps in all pages; exact up to 1,000 (see count_exact)")
    count_exact: bool = Field(..., description="False when there are more than `count` steps")


@router.get(
    "/work",
    response=_answers({200: WorkPageOut}, 403, 422),
    tags=TAG_WORK,
    summary="My worklist (待办): steps I may take or hold, soonest due first",
)
def worklist(
    request,
    colour: Literal["red", "yellow", "green", "paused"] | None = None,
    item_code: str = "",
    bundle_code: str = "",
    due_before: dt.datetime | None = None,
    kind: Literal["step", "inspection", "rectification"] | None = None,
    mine: bool = False,
    page: int = PAGE,
    page_size: int = PAGE_SIZE,
):
    actor = request.auth
    if due_before is not None and timezone.is_naive(due_before):
        due_before = timezone.make_aware(due_before)
    now = timezone.now()
    rows, total = services.worklist(
        actor,
        colour=colour,
        item_code=item_code,
        bundle_code=bundle_code,
        due_before=due_before,
        kind=kind,
        mine_only=mine,
        page=page,
        per_page=page_size,
        now=now,
    )
    items = []
    for row in rows:
        case = row.case
        items.append(
            {
                **_work_out(actor, row.work, now),
                "colour": row.colour,
                "case": {
                    "number": case.get("number", row.work.subject),
                    "title": case.get("title", ""),
                    "status": case.get("status", ""),
                    "channel": case.get("channel", ""),
                    "submitted_at": case.get("submitted_at"),
                    "due_at": case.get("due_at"),
                    "pause_reason": case.get("pause_reason") or "",
                    "applicant": case.get("applicant", ""),
                    "enterprise": case.get("enterprise", ""),
                },
            }
        )
    return {
        "items": items,
        "count": min(total, services.WORKLIST_COUNT_CAP),
        "count_exact": total <= services.WORKLIST_COUNT_CAP,
    }


class OverdueOut(WorkOut):
    assignee: str | None = Field(..., description="Who holds the step, if anyone")


class OverduePageOut(Schema):
    items: list[OverdueOut]
    count: int


@router.get(
    "/work/overdue",
    response=_answers({200: OverduePageOut}, 422),
    tags=TAG_WORK,
    summary="Overdue steps in the departments I oversee (heads, supervisors)",
)
def overdue(request, page: int = PAGE, page_size: int = PAGE_SIZE):
    actor = request.auth
    works = workflow.overdue_work(actor)
    offset = (page - 1) * page_size
    now = timezone.now()
    return {
        "items": [
            {
                **_work_out(actor, w, now),
                "assignee": w.assignee.display_name if w.assignee_id else None,
            }
            for w in works[offset : offset + page_size]
        ],
        "count": works.count(),
    }


class WorkDetailOut(WorkOut):
    can_act: bool = Field(..., description="The caller may claim or complete it (not only oversee it)")
    case: CaseOut


@router.get(
    "/work/{work_id}",
    response=_answers({200: WorkDetailOut}, 404, 422),
    tags=TAG_WORK,
    summary="A step, with the case it belongs to",
)
def get_work(request, work_id: uuid.UUID):
    actor = request.auth
    work = workflow.access_work(actor, work_id)
    case = services.access_case(actor, work.subject)
    return {
        **_work_out(actor, work),
        "can_act": workflow.can_work_on(actor, work),
        "case": _case_out(case, unmasked=_is_own(actor, case)),
    }


@router.post(
    "/work/{work_id}/claim",
    response=_answers({200: WorkOut}, 403, 404, 409, 422),
    tags=TAG_WORK,
    summary="Claim a step (签收)",
)
def claim(request, work_id: uuid.UUID):
    actor = request.auth
    return _work_out(actor, services.claim_work(actor, work_id))


class CompleteIn(Schema):
    decision: Literal["approve", "reject"]
    opinion: str = Field("", description="意见; required for a rejection")


class CompletedOut(Schema):
    work: WorkOut
    next: list[WorkOut] = Field(..., description="Steps the process opened next")
    case: CaseOut


@router.post(
    "/work/{work_id}/complete",
    response=_answers({200: CompletedOut}, 403, 404, 409, 422),
    tags=TAG_WORK,
    summary="Complete a step with a decision and an opinion (办理)",
)
def complete(request, work_id: uuid.UUID, payload: CompleteIn):
    actor = request.auth
    work, result = services.complete_work(actor, work_id, decision=payload.decision, opinion=payload.opinion)
    now = timezone.now()
    return {
        "work": _work_out(actor, work, now),
        "next": [_work_out(actor, w, now) for w in result.created],
        "case": _case_now(actor, work.subject),
    }


class ReturnIn(Schema):
    opinion: str = Field(..., description="Why the step goes back")


@router.post(
    "/work/{work_id}/return",
    response=_answers({200: WorkOut}, 403, 404, 409, 422),
    tags=TAG_WORK,
    summary="Return a step to whoever did the previous one (退回)",
)
def return_work(request, work_id: uuid.UUID, payload: ReturnIn):
    actor = request.auth
    return _work_out(actor, services.return_work(actor, work_id, opinion=payload.opinion))


class TransferIn(Schema):
    to_username: str
    opinion: str = ""


@router.post(
    "/work/{work_id}/transfer",
    response=_answers({200: WorkOut}, 403, 404, 409, 422),
    tags=TAG_WORK,
    summary="Hand a step to a colleague with the same role (转办)",
)
def transfer(request, work_id: uuid.UUID, payload: TransferIn):
    actor = request.auth
    return _work_out(
        actor,
        services.transfer_work(actor, work_id, to_username=payload.to_username, opinion=payload.opinion),
    )


class CountersignerIn(Schema):
    username: str


@router.post(
    "/work/{work_id}/countersigners",
    response=_answers({201: WorkOut}, 403, 404, 409, 422),
    tags=TAG_WORK,
    summary="Add a countersigner to a step (加签)",
)
def add_countersigner(request, work_id: uuid.UUID, payload: CountersignerIn):
    actor = request.auth
    return Status(
        201, _work_out(actor, services.add_countersigner(actor, work_id, username=payload.username))
    )


@router.post(
    "/work/{work_id}/supplement",
    response=_answers({201: SupplementOut}, 403, 404, 409, 422),
    tags=TAG_WORK,
    summary="Return the case to the applicant from this step (补正)",
)
def work_supplement(request, work_id: uuid.UUID, payload: SupplementIn):
    actor = request.auth
    work = workflow.access_work(actor, work_id)
    return _request_supplement(actor, work.subject, payload, work_id)


class ProcedureIn(Schema):
    kind: ProcedureKind
    reason: str
    expected_days: int | None = None
    work_id: uuid.UUID | None = Field(None, description="The open step it is started from")


@router.post(
    "/cases/{number}/procedures",
    response=_answers({201: ProcedureOut}, 403, 404, 409, 422),
    tags=TAG_WORK,
    summary="Start a special procedure (特别程序); its time does not count",
)
def start_procedure(request, number: str, payload: ProcedureIn):
    procedure = services.start_procedure(
        request.auth,
        number,
        kind=payload.kind.value,
        reason=payload.reason,
        expected_days=payload.expected_days,
        work_id=payload.work_id,
    )
    return Status(201, procedure)


class ProcedureEndIn(Schema):
    result: str
    work_id: uuid.UUID | None = None


@router.post(
    "/cases/{number}/procedures/end",
    response=_answers({200: ProcedureOut}, 403, 404, 409, 422),
    tags=TAG_WORK,
    summary="End the running special procedure with its result",
)
def end_procedure(request, number: str, payload: ProcedureEndIn):
    return services.end_procedure(request.auth, number, result=payload.result, work_id=payload.work_id)


class InspectionIn(Schema):
    passed: bool
    opinion: str = ""


@router.post(
    "/work/{work_id}/inspection",
    response=_answers({200: CaseOut}, 403, 404, 409, 422),
    tags=TAG_WORK,
    summary="Record the follow-up inspection (事后核查); a failure revokes the approval",
)
def inspection(request, work_id: uuid.UUID, payload: InspectionIn):
    actor = request.auth
    case = services.complete_inspection(actor, work_id, passed=payload.passed, opinion=payload.opinion)
    return _case_now(actor, case.number)


class RectificationIn(Schema):
    measures: str
    callback_result: CallbackResult
    callback_note: str = ""


@router.post(
    "/work/{work_id}/rectification",
    response=_answers({200: RatingOut}, 403, 404, 409, 422),
    tags=TAG_WORK,
    summary="Record the rectification (整改) of a bad rating and its callback (回访)",
)
def rectification(request, work_id: uuid.UUID, payload: RectificationIn):
    return services.complete_rectification(
        request.auth,
        work_id,
        measures=payload.measures,
        callback_result=payload.callback_result.value,
        callback_note=payload.callback_note,
    )


class RemindIn(Schema):
    message: str = ""


class RemindedOut(Schema):
    recipients: int


@router.post(
    "/work/{work_id}/remind",
    response=_answers({200: RemindedOut}, 403, 404, 409, 422),
    tags=TAG_WORK,
    summary="Send a reminder (催办) to whoever holds the step (heads, supervisors)",
)
def remind(request, work_id: uuid.UUID, payload: RemindIn):
    return {"recipients": services.remind_work(request.auth, work_id, message=payload.message)}


# =====================================================================================================
# Notifications
# =====================================================================================================


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str
    subject: str
    created_at: dt.datetime
    read_at: dt.datetime | None

    # In the language the reader chose, like every other message of the API.
    @staticmethod
    def resolve_title(obj):
        return obj.title_text

    @staticmethod
    def resolve_body(obj):
        return obj.body_text


class NotificationPageOut(Schema):
    items: list[NotificationOut]
    count: int
    unread: int


@router.get(
    "/me/notifications",
    response=_answers({200: NotificationPageOut}, 422),
    tags=TAG_NOTIFICATIONS,
    summary="My messages, newest first",
)
def notifications(request, unread_only: bool = False, page: int = PAGE, page_size: int = PAGE_SIZE):
    actor = request.auth
    inbox = account_services.inbox(actor, unread_only=unread_only)
    offset = (page - 1) * page_size
    return {
        "items": list(inbox[offset : offset + page_size]),
        "count": inbox.count(),
        "unread": account_services.unread_count(actor),
    }


class MarkReadIn(Schema):
    ids: list[int] | None = Field(None, description="The messages to mark; all of them when left out")


class MarkedOut(Schema):
    marked: int


@router.post(
    "/me/notifications/read",
    response=_answers({200: MarkedOut}, 422),
    tags=TAG_NOTIFICATIONS,
    summary="Mark my messages read",
)
def mark_read(request, payload: MarkReadIn):
    return {"marked": account_services.mark_read(request.auth, payload.ids)}


# =====================================================================================================
# 秒批 decision tables
# =====================================================================================================


class TableOut(Schema):
    version: int
    status: str
    table: dict
    created_at: dt.datetime
    published_at: dt.datetime | None


class TableVersionOut(Schema):
    version: int
    status: str
    published_at: dt.datetime | None


class TablesOut(Schema):
    item_code: str
    draft: TableOut | None
    published: TableOut | None
    versions: list[TableVersionOut]


@router.get(
    "/catalog/items/{code}/decision-table",
    response=_answers({200: TablesOut}, 403, 404),
    tags=TAG_TABLES,
    summary="An item's 秒批 rules: the draft, the published table and every version",
)
def get_tables(request, code: str):
    tables = services.tables.list_tables(request.auth, code)
    return {
        "item_code": code,
        "draft": next((t for t in tables if t.status == "draft"), None),
        "published": next((t for t in tables if t.status == "published"), None),
        "versions": tables,
    }


@router.put(
    "/catalog/items/{code}/decision-table",
    response=_answers({200: TableOut}, 403, 404, 422),
    tags=TAG_TABLES,
    summary="Save the draft table (JSON); it is checked first and nothing is kept if it fails",
)
def save_table(request, code: str, table: dict = Body(..., description="The decision table")):
    return services.tables.save_draft(request.auth, code, table=table)


DMN_MAX_BYTES = 2 * 1024 * 1024


@router.post(
    "/catalog/items/{code}/decision-table/dmn",
    response=_answers({200: TableOut}, 403, 404, 422),
    tags=TAG_TABLES,
    summary="Save the draft table from a DMN 1.x file (any DMN modeler)",
)
def upload_dmn(
    request,
    code: str,
    file: UploadedFile = File(..., description="The .dmn file"),
    contract: str = Form(
        "",
        description="The 秒批 contract as JSON (decision, outcome, approve, inputs, required): a DMN "
        "model from any tool is then taken unchanged. Without it the file must be a table of our shape.",
    ),
):
    content = file.read(DMN_MAX_BYTES + 1)
    if len(content) > DMN_MAX_BYTES:
        raise InvalidInput.single(
            "file", "too_large", Formatted(_("The file is larger than %(limit)s MB."), {"limit": 2})
        )
    mapping = None
    if contract.strip():
        try:
            mapping = json.loads(contract)
        except ValueError:
            raise InvalidInput.single("contract", "invalid", _("The contract is not valid JSON.")) from None
    return services.tables.save_draft(request.auth, code, dmn=content, contract=mapping)


@router.post(
    "/catalog/items/{code}/decision-table/publish",
    response=_answers({200: TableOut}, 403, 404, 409),
    tags=TAG_TABLES,
    summary="Publish the draft: new applications are decided by it",
)
def publish_table(request, code: str):
    return services.tables.publish(request.auth, code)


@router.get(
    "/catalog/items/{code}/decision-table.dmn",
    response=_answers({}, 403, 404, 422),
    tags=TAG_TABLES,
    summary="Download a table version as DMN (the latest by default)",
    openapi_extra=_binary("application/xml", "The table as DMN 1.3 XML"),
)
def download_dmn(request, code: str, version: int | None = Query(None, ge=1)):
    content = services.tables.export_dmn(request.auth, code, version)
    response = HttpResponse(content, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{code}.dmn")
    return response


class TryIn(Schema):
    data: dict = Field(default_factory=dict, description="Form values, as data.<key> inputs see them")
    checks: dict = Field(default_factory=dict, description="Verification results, as check.<name> inputs")
    table: dict | None = Field(None, description="A table to try instead of the stored draft")


class EvaluationOut(Schema):
    table: str
    table_digest: str
    hit_policy: str
    decision: str
    rule: str | None
    cause: str
    matched_rules: list[str]
    inputs: list[dict]
    outputs: dict
    closest_rule: str | None
    failed: list[dict]
    reason: dict[str, str]


@router.post(
    "/catalog/items/{code}/decision-table/try",
    response=_answers({200: EvaluationOut}, 403, 404, 422),
    tags=TAG_TABLES,
    summary="Run the draft (or a given table) on sample data and see what it would decide",
)
def try_table(request, code: str, payload: TryIn):
    evaluation = services.tables.try_table(
        request.auth, code, data=payload.data, checks=payload.checks, table=payload.table
    )
    return evaluation.as_record()
