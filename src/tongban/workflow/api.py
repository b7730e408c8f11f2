"""Process endpoints: DMN decisions that business rule tasks call, published from any DMN modeler by
the catalogue managers of a department. Thin over workflow.services."""

import datetime as dt

from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from tongban.core.errors import Formatted, InvalidInput

from . import services

router = Router(tags=["workflow"])

DMN_MAX_BYTES = 2 * 1024 * 1024


class DecisionOut(Schema):
    decision_id: str
    version: int
    status: str
    name: str
    department: str
    published_at: dt.datetime


def _out(row) -> dict:
    return {
        "decision_id": row.key,
        "version": row.version,
        "status": row.status,
        "name": row.name,
        "department": row.department.code,
        "published_at": row.published_at,
    }


@router.post(
    "/workflow/decisions",
    response={201: list[DecisionOut]},
    summary="Publish the decisions of a DMN 1.1–1.5 file, each as the next version of its decision id",
)
def publish_decisions(
    request,
    file: UploadedFile = File(..., description="The .dmn file (any DMN modeler)"),
    department: str = Form(..., description="Code of the department the decisions belong to"),
):
    content = file.read(DMN_MAX_BYTES + 1)
    if len(content) > DMN_MAX_BYTES:
        raise InvalidInput.single(
            "file", "too_large", Formatted(_("The file is larger than %(limit)s MB."), {"limit": 2})
        )
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput.single("file", "encoding", _("The DMN file must be UTF-8 text.")) from None
    rows = services.upload_decisions(request.auth, department_code=department, dmn_xml=text)
    return Status(201, [_out(r) for r in rows])


@router.get(
    "/workflow/decisions/{decision_id}",
    response=list[DecisionOut],
    summary="The versions of a decision, newest first",
)
def decision_versions(request, decision_id: str):
    return [_out(r) for r in services.decision_versions(request.auth, decision_id)]
