"""智能预审: uploaded materials are read by OCR in the background and checked against the application
before anyone reviews the case; the clerk, the reviewer and the applicant see the findings.

The reading (seconds of CPU per page) runs in the job queue after the upload has committed, never
inside a request or a transaction; only storing its result is a use case, with its event on the
case's log and its journal entry. A material is pre-checked when its name says which kind of
document it is (cases.precheck.material_kind) and it was uploaded as JPEG, PNG or PDF.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tongban.accounts.models import Enterprise, Person
from tongban.core import files
from tongban.core.authz import SYSTEM
from tongban.core.identifiers import is_valid_id_number, is_valid_uscc
from tongban.core.uow import current, use_case

from .. import ocr, precheck
from ..models import Case, CaseMaterial, MaterialPrecheck, MaterialSource, MaterialStatus, PrecheckStatus
from ._base import MATERIAL_CONTEXT, _event, access_case

log = logging.getLogger(__name__)

READABLE_KINDS = ("jpeg", "png", "pdf")


def enabled() -> bool:
    return bool(getattr(settings, "TONGBAN_PRECHECK", True))


def queue_after_commit(number: str) -> None:
    """Once the uploads have committed, the worker reads them (cases.tasks.precheck_case)."""
    if not enabled():
        return
    from .. import tasks

    transaction.on_commit(lambda: tasks.precheck_case(number))


def _due(case_id: int) -> list[CaseMaterial]:
    """Uploaded materials of a kind we can check whose current upload has not been read yet."""
    due = []
    materials = CaseMaterial.objects.filter(
        case_id=case_id,
        status=MaterialStatus.PROVIDED,
        source=MaterialSource.UPLOAD,
        file_kind__in=READABLE_KINDS,
    ).exclude(file_ref="")
    checked = dict(MaterialPrecheck.objects.filter(case_id=case_id).values_list("material_id", "file_ref"))
    for material in materials:
        if precheck.material_kind(material.name) and checked.get(material.pk) != material.file_ref:
            due.append(material)
    return due


def facts_of(case: Case, today=None) -> precheck.Facts:
    """What the case says about who applies: the applicant and the enterprise on record (the
    register the enterprise was checked against when it was entered), and the ID numbers and
    credit codes typed into the form."""
    facts = precheck.Facts(today=today or timezone.localdate())
    person = Person.objects.filter(pk=case.applicant_id).first()
    if person is not None:
        facts.names.add(person.name)
        facts.id_numbers.add(person.id_number)
    for value in (case.data or {}).values():
        if isinstance(value, str) and len(value) == 18:
            if is_valid_id_number(value):
                facts.id_numbers.add(value)
            elif is_valid_uscc(value):
                facts.uscc.add(value)
    if case.enterprise_id:
        enterprise = Enterprise.objects.filter(pk=case.enterprise_id).first()
        if enterprise is not None:
            facts.uscc.add(enterprise.uscc)
            facts.enterprise_names.add(enterprise.name)
            representative = enterprise.legal_representative
            if representative is not None:
                facts.legal_representatives.add(representative.name)
    return facts


def run_case(number: str) -> int:
    """Read every material of the case that is due (the job's body); returns how many were read."""
    case = Case.objects.filter(number=number).first()
    if case is None:
        return 0
    done = 0
    for material in _due(case.id):
        expected = precheck.material_kind(material.name)
        started = timezone.now()
        try:
            data = files.load(material.file_ref, context=MATERIAL_CONTEXT)
            reading = ocr.read(data, material.file_kind)
        except ocr.Unreadable as problem:
            _store(
                number, material.pk, material.file_ref, expected, None, error=problem.code, started=started
            )
        except Exception as exc:  # a bad scan must not take the job down or be retried forever
            log.warning("pre-check of material %s of %s failed: %s", material.pk, number, type(exc).__name__)
            _store(number, material.pk, material.file_ref, expected, None, error="failed", started=started)
        else:
            _store(number, material.pk, material.file_ref, expected, reading, started=started)
        done += 1
    if (case.decision_basis or {}).get("kind") == "awaiting_precheck" and not _due(case.id):
        from .applying import decide_after_precheck

        decide_after_precheck(number)
    return done


@use_case("cases.material.precheck", object_type="case")
def _store(
    number, material_id, file_ref, expected, reading, *, error="", started=None
) -> MaterialPrecheck | None:
    uow = current()
    uow.audit.object_ref = number
    case = Case.objects.select_for_update().filter(number=number).first()
    material = CaseMaterial.objects.filter(pk=material_id, case=case).first() if case else None
    if material is None or material.file_ref != file_ref:
        return None  # replaced by a newer upload while it was read: that one is read next
    now = timezone.now()
    if reading is None:
        found_kind, findings = "", [precheck._finding("text", "unreadable", read=error)]
    else:
        lines = [line.text for line in reading.lines]
        extracted = precheck.extract(lines, reading.seal)
        found_kind = extracted.kind
        findings = precheck.compare(extracted, expected, facts_of(case))
    outcome = precheck.outcome_of(findings)
    values = {
        "case": case,
        "file_ref": file_ref,
        "status": PrecheckStatus.FAILED if reading is None else PrecheckStatus.DONE,
        "expected_kind": expected or "",
        "found_kind": found_kind,
        "outcome": outcome,
        "findings": findings,
        "error": error,
        "pages": len(reading.pages) if reading else 0,
        "seconds": round(reading.seconds, 3) if reading else 0.0,
        "requested_at": started or now,
        "checked_at": now,
    }
    row, _created = MaterialPrecheck.objects.update_or_create(material=material, defaults=values)
    problems = [{"field": f["field"], "outcome": f["outcome"]} for f in findings if f["outcome"] != "match"]
    detail = {"material": material.name, "outcome": outcome, "problems": problems}
    uow.audit.detail.update(material=material.name, outcome=outcome)
    uow.add_events([_event(case, "case.material_prechecked", SYSTEM, now=now, detail=detail)])
    return row


# --- reading the findings --------------------------------------------------------------------------


@dataclass
class FindingView:
    field: str
    field_label: str
    outcome: str
    outcome_label: str
    read: str
    expected: str

    @property
    def is_problem(self) -> bool:
        return self.outcome != "match"


@dataclass
class PrecheckView:
    material: str
    material_id: int
    status: str
    status_label: str
    outcome: str
    outcome_label: str
    expected_kind: str
    found_kind: str
    findings: list[FindingView]
    checked_at: object

    @property
    def problems(self) -> list[FindingView]:
        return [f for f in self.findings if f.is_problem]


def _label(table: dict, key: str) -> str:
    return str(table.get(key, key))


def _finding_view(f: dict) -> FindingView:
    read, expected = f.get("read", ""), f.get("expected", "")
    if f.get("field") == "kind":
        read = _label(precheck.KIND_LABELS, read) if read else ""
        expected = _label(precheck.KIND_LABELS, expected) if expected else ""
    elif f.get("field") == "text":
        read = ""
    return FindingView(
        field=f.get("field", ""),
        field_label=_label(precheck.FIELD_LABELS, f.get("field", "")),
        outcome=f.get("outcome", ""),
        outcome_label=_label(precheck.OUTCOME_LABELS, f.get("outcome", "")),
        read=read,
        expected=expected,
    )


def views_of(case_id: int) -> list[PrecheckView]:
    rows = MaterialPrecheck.objects.filter(case_id=case_id).select_related("material").order_by("material_id")
    views = []
    for row in rows:
        views.append(
            PrecheckView(
                material=row.material.name,
                material_id=row.material_id,
                status=row.status,
                status_label=row.get_status_display(),
                outcome=row.outcome,
                outcome_label=_label(precheck.OUTCOME_LABELS, row.outcome) if row.outcome else "",
                expected_kind=_label(precheck.KIND_LABELS, row.expected_kind) if row.expected_kind else "",
                found_kind=_label(precheck.KIND_LABELS, row.found_kind) if row.found_kind else "",
                findings=[_finding_view(f) for f in row.findings],
                checked_at=row.checked_at,
            )
        )
    return views


def prechecks(actor, number: str) -> list[PrecheckView]:
    """The findings of a case's materials, for whoever may see the case (clerk, reviewer, applicant)."""
    case = access_case(actor, number)
    return views_of(case.id)


def pending(actor, number: str) -> list[str]:
    """Names of uploaded materials still waiting to be read."""
    case = access_case(actor, number)
    return [m.name for m in _due(case.id)] if enabled() else []


def waiting(materials: list, seen_activities: set) -> list[str]:
    """Names of uploads a pre-check is still due for, from a case page's materials and events: an
    upload is waiting until a `case.material_prechecked` event names it after it was provided.
    Cheap (no query); the page says "being read" for these."""
    if not enabled():
        return []
    candidates = [
        m
        for m in materials
        if m.source == MaterialSource.UPLOAD
        and m.file_ref
        and m.file_kind in READABLE_KINDS
        and precheck.material_kind(m.name)
    ]
    if not candidates:
        return []
    if "case.material_prechecked" not in seen_activities:
        return [m.name for m in candidates]
    checked = dict(
        MaterialPrecheck.objects.filter(material__in=[m.pk for m in candidates]).values_list(
            "material_id", "file_ref"
        )
    )
    return [m.name for m in candidates if checked.get(m.pk) != m.file_ref]


def rules_wait_for_precheck(table, stored: dict) -> bool:
    """Whether a 秒批 table reads the pre-check and an upload just stored will be pre-checked: then
    the rules are run when the reading is done, not on the application (when it cannot be known)."""
    import json

    if not enabled() or "materials_prechecked" not in json.dumps(table.table, ensure_ascii=False):
        return False
    return any(
        precheck.material_kind(name) and upload.get("file_kind") in READABLE_KINDS
        for name, upload in stored.items()
    )


def passed(case_id: int) -> bool | None:
    """For the 秒批 rules: True when every pre-checked material matched, False when any did not,
    None while a material is still to be read or none was pre-checked."""
    if _due(case_id):
        return None
    outcomes = list(MaterialPrecheck.objects.filter(case_id=case_id).values_list("outcome", flat=True))
    if not outcomes:
        return None
    return all(o == "match" for o in outcomes)
