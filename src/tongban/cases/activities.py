"""What can happen to a case, as the core event log knows it (ARCHITECTURE.md, "The spine").

One table instead of four: each activity's label for staff (the case page in the office), its
wording at the window and for the applicant (the portal's timeline; an activity the applicant has
no wording for is not shown to them), the detail it carries, and the status a case has after it
(what cases/replay.py rebuilds a case from). Registered when Django starts (CasesConfig.ready).

Steps of a case's process are written as "work:<step name>" (the workflow app's family); the two
steps cases open themselves, the follow-up inspection and the rectification after a bad rating,
are named here so the applicant can be told about them.
"""

from django.utils.translation import gettext_lazy as _

from tongban.core import events

from .models import CaseStatus

KIND = "case"

# code → status after it; activities missing here leave the status as it was.
STATUS_AFTER = {
    "case.submitted": CaseStatus.SUBMITTED,
    "case.accepted": CaseStatus.IN_PROGRESS,
    "case.decided": CaseStatus.DECIDED,
    "case.issued": CaseStatus.ISSUED,
    "case.withdrawn": CaseStatus.WITHDRAWN,
    "case.not_accepted": CaseStatus.NOT_ACCEPTED,
    "case.revoked": CaseStatus.REVOKED,
    "case.supplement_requested": CaseStatus.SUPPLEMENT,
}

# (code, staff label, window label, applicant label, detail)
_ACTIVITIES = (
    (
        "case.submitted",
        _("Application submitted"),
        _("Application submitted"),
        _("Application submitted"),
        {
            "channel": "str",
            "commitment": "any",
            "reused": "dict",
            "item": "str",
            "item_version": "int",
            "bundle": "str",
            "bundle_version": "int",
        },
    ),
    (
        "case.auto_checked",
        _("Checked by the 秒批 rules, sent to a person"),
        _("Checked by the 秒批 rules"),
        _("Checked automatically"),
        {"result": "str", "failed": "list"},
    ),
    (
        "case.accepted",
        _("Accepted"),
        _("Accepted (受理)"),
        _("Accepted"),
        {
            "auto": "bool",
            "missing": "list",
            "gaps_due": "str",
            "paper": "list",
            "window": "str",
            "checked_uploads": "list",
        },
    ),
    (
        "case.not_accepted",
        _("Not accepted"),
        _("Not accepted (不予受理)"),
        _("Not accepted"),
        {"reason": "str"},
    ),
    (
        "case.supplement_requested",
        _("Returned to the applicant for supplement (补正)"),
        _("补正 notice sent"),
        _("Supplement requested"),
        {"items": "list", "supplement": "int"},
    ),
    (
        "case.supplement_received",
        _("Supplement received"),
        _("补正 materials received"),
        _("Supplement provided"),
        {"materials": "list", "paused_days": "number"},
    ),
    (
        "case.material_supplied",
        _("Material supplied"),
        _("Material supplied"),
        _("Material supplied"),
        {"material": "str", "paper": "any"},
    ),
    (
        "case.material_prechecked",
        _("Material pre-checked (智能预审)"),
        _("Material pre-checked (智能预审)"),
        _("Material checked automatically"),
        {"material": "str", "outcome": "str", "problems": "list"},
    ),
    ("case.gap_overdue", _("容缺 material overdue"), _("容缺 material overdue"), None, {"material": "str"}),
    (
        "case.message_received",
        _("Message received from another system"),
        _("Message received from another system"),
        None,
        {"message": "str", "node": "str"},
    ),
    (
        "case.message_sent",
        _("Message sent by the process"),
        _("Message sent by the process"),
        None,
        {"message": "str", "node": "str", "delivered": "bool"},
    ),
    (
        "case.procedure_started",
        _("Special procedure started"),
        _("Special procedure started"),
        _("Special procedure started"),
        {"kind": "str", "procedure": "int"},
    ),
    (
        "case.procedure_ended",
        _("Special procedure ended"),
        _("Special procedure ended"),
        _("Special procedure finished"),
        {"procedure?": "int", "paused_days": "number"},
    ),
    (
        "case.decided",
        _("Decided"),
        _("Decided"),
        _("Decision"),
        {"decision": "str", "basis": "str", "table": "int", "version": "int", "rule": "any"},
    ),
    (
        "case.issued",
        _("Result issued"),
        _("Result issued (出件)"),
        _("Result issued"),
        {"delivery": "str", "decision": "str"},
    ),
    (
        "case.withdrawn",
        _("Withdrawn by the applicant"),
        _("Withdrawn by the applicant"),
        _("Withdrawn"),
        {"reason": "str"},
    ),
    ("case.revoked", _("Approval revoked"), _("Approval revoked"), _("Approval revoked"), {"reason": "str"}),
    ("case.rated", _("Rated by the applicant"), None, _("Rated"), {"score": "int"}),
    (
        "work:inspection",
        _("Follow-up inspection"),
        None,
        _("Follow-up inspection"),
        {"due": "str", "decision": "str"},
    ),
    (
        "work:rectification",
        _("Rectification"),
        None,
        _("Rectification after your rating"),
        {"due": "str", "in_time": "bool", "callback": "str"},
    ),
)


def register() -> None:
    events.subject_kind(KIND, _("case"), app="cases")
    for code, label, window, applicant, detail in _ACTIVITIES:
        audiences = {"applicant": applicant}
        if window is not None:
            audiences["window"] = window
        events.activity(code, label, subject_kind=KIND, app="cases", detail=detail, audiences=audiences)
