"""办件进度查询: anyone may follow a case by its number without logging in, as the national portal
and the service centres' screens allow, if they also know the last six characters of the
applicant's ID number (or of the enterprise's credit code). The answer names the item and the
stage reached, never a person; a wrong pair and an unknown number get the same reply, and every
lookup is journalled, so the numbers printed on receipts cannot be walked to learn who applied."""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from tongban.core import audit
from tongban.core.errors import FieldProblem, InvalidInput, NotFound

from ..models import OPEN_CASE_STATUSES, Case
from . import progress
from ._base import _attach_parts, current_due

TAIL = 6
NUMBER = re.compile(r"^[0-9A-Za-z-]{6,40}$")
TAIL_PATTERN = re.compile(r"^[0-9A-Za-z]{6}$")
TAIL_HELP = _("Enter the last 6 characters of the applicant's ID number or of the enterprise's credit code.")


@dataclass(frozen=True)
class PublicProgress:
    number: str
    title: str
    status: str
    status_label: str
    submitted_at: dt.datetime | None
    promised: dt.datetime | None  # the instant; pages show the last day before it
    closed_at: dt.datetime | None
    steps: list[progress.ProgressStep]
    paused: bool


def _clean(number: str, tail: str) -> tuple[str, str]:
    number, tail = (number or "").strip(), (tail or "").strip().upper()
    errors = {}
    if not NUMBER.match(number):
        errors["number"] = [
            FieldProblem("invalid", _("Enter the case number printed on your receipt (办件编号)."))
        ]
    if not TAIL_PATTERN.match(tail):
        errors["id_tail"] = [
            FieldProblem(
                "invalid",
                TAIL_HELP,
            )
        ]
    if errors:
        raise InvalidInput(errors)
    return number, tail


def _matches(case: Case, tail: str) -> bool:
    known = [case.applicant.id_number or ""]
    if case.enterprise_id:
        known.append(case.enterprise.uscc or "")
    # compare_digest: how long the reply takes does not tell how much of the tail was right
    return any(hmac.compare_digest(value.upper()[-TAIL:].encode(), tail.encode()) for value in known if value)


def public_progress(number: str, id_tail: str) -> PublicProgress:
    """The progress of case `number`, for whoever can give the applicant's identifier tail."""
    number, tail = _clean(number, id_tail)
    case = Case.objects.filter(number=number).first()
    if case is not None:
        _attach_parts(case)
    if case is None or not _matches(case, tail):
        audit.record(
            "case.progress_lookup",
            outcome=audit.AuditOutcome.DENIED,
            object_type="case",
            object_ref=number[:40],
        )
        raise NotFound(_("No case matches this number and these characters. Check both and try again."))
    audit.record(
        "case.progress_lookup",
        object_type="case",
        object_ref=case.number,
        department_code=case.department.code,
    )
    if case.bundle_version_id:
        from tongban.core import events as event_log
        from tongban.workflow import store as store_wf

        from ..activities import KIND

        members = list(progress.bundle_members(case.bundle_version_id).items())
        work, events = store_wf.steps_of(case.number), event_log.history(KIND, case.number)
        steps = progress.bundle_strip(case, members, work, events)
    else:
        steps = progress.strip(case, case.item_version.steps)
    running = case.status in OPEN_CASE_STATUSES
    return PublicProgress(
        number=case.number,
        title=case.title,
        status=case.status,
        status_label=str(case.get_status_display()),
        submitted_at=case.submitted_at,
        promised=current_due(case) if running else None,
        closed_at=case.closed_at,
        steps=steps,
        paused=bool(case.pause_reason),
    )
