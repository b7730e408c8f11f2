"""Applying and accepting: 一表申请, 一窗受理, 容缺受理 at acceptance, 告知承诺, 秒批, 不予受理."""

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from tongban.accounts import identity
from tongban.accounts import roles as perms
from tongban.accounts import services as account_services
from tongban.accounts.models import Enterprise, Window
from tongban.core import audit, calendar, crypto
from tongban.core.authz import require
from tongban.core.errors import Conflict, FieldErrors, Formatted, InvalidInput, NotPermitted
from tongban.core.i18n import Later
from tongban.workflow import services as workflow
from tongban.workflow import store as store_wf
from tongban.workflow.models import WorkKind

from .. import reuse, rules, store, verification
from ..models import (
    Case,
    CaseMaterial,
    CaseStatus,
    Channel,
    Decision,
    DecisionTable,
    Delivery,
    MaterialSource,
    MaterialStatus,
)
from . import prechecks
from ._base import (
    _access_row,
    _check_uploads,
    _decide,
    _event,
    _filed_under,
    _new_number,
    _notify_applicant,
    _record,
    _store_uploads,
    _Target,
    _target,
    _target_of,
    _work_events,
    clean_form,
    process_key,
)
from .results import (
    _on_commit_issued,
)

# --- applying and accepting ---------------------------------------------------------------------


def apply_online(
    actor,
    *,
    item_code: str = "",
    bundle_code: str = "",
    data: dict,
    enterprise_uscc: str = "",
    idempotency_key: str = "",
    files: dict | None = None,
    commitment: bool = False,
    reuse_consent: bool = False,
    now=None,
) -> Case:
    """一表申请: a citizen applies for an item or a bundle, for themself or an enterprise they represent.

    `files` maps material names to (file name, bytes); materials without one are to be provided
    (at the window, or by the clerk's 容缺 or 补正). The same idempotency key from the same account
    returns the case it already created, so a double submission makes one case. An auto-approvable
    item with published rules is decided at once (秒批); with `commitment` the applicant signs the
    告知承诺 and is approved on acceptance. With `reuse_consent` the applicant agrees that materials
    the government already holds — their e-licences, shared data — stand in for paper (免提交); that
    needs the identity assurance level 免提交 asks for (accounts.identity), as applying needs its own.
    """
    if getattr(actor, "is_citizen", False):
        identity.require_assurance(actor, "apply")
        if reuse_consent:
            identity.require_assurance(actor, "reuse")
    person = getattr(actor, "person", None)
    if person is None:
        raise NotPermitted(_("Log in with a citizen account to apply."))
    if idempotency_key and (existing := _idempotent_case(actor, idempotency_key)):
        return existing
    if len(idempotency_key or "") > 80:
        raise InvalidInput.single("idempotency_key", "max_length", _("The idempotency key is too long."))
    target = _target(item_code, bundle_code)
    # Every problem at once — the form, the commitment, the files, the enterprise — so the applicant
    # fixes them in one go; nothing is written while any remains.
    errors = FieldErrors()
    cleaned = errors.collect(lambda: clean_form(target.form_fields(), data))
    if commitment and not target.commitment_allowed:
        errors.add("commitment", "not_allowed", _("This item cannot be approved by commitment (告知承诺)."))
    uploads = errors.collect(lambda: _check_uploads(target, files or {}))
    enterprise_id = None
    enterprise_uscc, field = _applying_enterprise(enterprise_uscc, cleaned, errors)
    if enterprise_uscc:
        enterprise_id = store.enterprise_id(enterprise_uscc)
        if enterprise_id is None or not account_services.can_act_for(actor, Enterprise(pk=enterprise_id)):
            # One message whether the code is registered or not: the form tells a stranger nothing.
            errors.add(field, "not_representative", NOT_REPRESENTATIVE)
    errors.raise_if_any()
    now = now or timezone.now()
    reused = {}
    if reuse_consent:
        enterprise = Enterprise.objects.filter(pk=enterprise_id).first() if enterprise_id else None
        reused = _stand_ins(target, person, enterprise, skip=uploads)
    try:
        with audit.audited(
            "cases.case.apply", actor=actor, object_type="case", department_code=target.department.code
        ) as entry:
            stored = _store_uploads(uploads)
            case = _create_case(
                target,
                person.pk,
                enterprise_id,
                actor,
                Channel.ONLINE,
                cleaned,
                idempotency_key,
                now,
                uploads=stored,
                commitment=commitment,
                reused=reused,
            )
            detail = {"channel": Channel.ONLINE, **_filed_under(target)}
            if commitment:
                detail["commitment"] = commitment_digest(target)
            if reused:
                detail["reused"] = {name: found.reference for name, found in reused.items()}
                entry.detail["reused"] = detail["reused"]
                _on_commit_reused(case, reused)
            events = [_event(case, "case.submitted", actor, now=now, detail=detail)]
            table = auto_approval_table(target)
            if table is not None and stored and prechecks.rules_wait_for_precheck(table, stored):
                # The rules read the pre-check: they decide once the scans are read (decide_after_precheck).
                case.decision_basis = {"kind": "awaiting_precheck", "table_id": table.pk}
                store.update_case(case.id, decision_basis=case.decision_basis)
            elif table is not None:
                events += _auto_decide(case, target, table, now)
            _record(events)
            if stored:
                prechecks.queue_after_commit(case.number)
            entry.object_ref = case.number
            if case.decision_basis.get("kind") == "rule":
                entry.detail["auto"] = case.decision_basis.get("rule")
    except IntegrityError:
        # A concurrent request with the same idempotency key won the race.
        existing = _idempotent_case(actor, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return existing
    return case


# The catalogue's convention (catalog/demo/high_frequency.toml): the form field `uscc` names the
# enterprise that applies, and its results (an enterprise's licence) are issued to it.
ENTERPRISE_FIELD = "uscc"
NOT_REPRESENTATIVE = _(
    "You may apply for an enterprise only as its legal representative or an authorised agent."
)


def _applying_enterprise(chosen: str, cleaned, errors: FieldErrors) -> tuple[str, str]:
    """The enterprise an application is made for, and the field to blame if the applicant may not
    act for it: the one chosen as applicant, else the one the form names. A form naming another
    enterprise than the chosen one is an error, never a second holder."""
    chosen = (chosen or "").strip().upper()
    named = cleaned.get(ENTERPRISE_FIELD, "") if isinstance(cleaned, dict) else ""
    if chosen and named and named != chosen:
        errors.add(
            f"data.{ENTERPRISE_FIELD}",
            "not_applicant",
            _("The credit code must be that of the enterprise you apply for."),
        )
    if chosen:
        return chosen, "enterprise_uscc"
    return named, f"data.{ENTERPRISE_FIELD}"


def _on_commit_reused(case, reused: dict) -> None:
    """After commit: the licences that stood in are noted for their holder's wallet."""
    from django.db import transaction

    from tongban.licences import services as licences

    number, title = case.number, case.title
    used = {name: f.reference for name, f in reused.items() if f.source == reuse.LICENCE}
    if used:
        transaction.on_commit(lambda: licences.record_uses(number, used, purpose=title))


def reuse_preview(actor, *, item_code: str = "", bundle_code: str = "", enterprise_uscc: str = "") -> dict:
    """What would stand in for which material if the applicant consents (shown before they apply)."""
    person = getattr(actor, "person", None)
    if person is None:
        return {}
    identity.require_assurance(actor, "reuse")
    target = _target(item_code, bundle_code)
    enterprise = None
    if enterprise_uscc:
        enterprise = Enterprise.objects.filter(uscc=enterprise_uscc.strip().upper()).first()
        if enterprise is None or not account_services.can_act_for(actor, enterprise):
            enterprise = None
    return _stand_ins(target, person, enterprise)


def _stand_ins(target: _Target, person, enterprise, skip=()) -> dict:
    """Material name → the licence or shared data that stands in for it (免提交), for this applicant
    (and enterprise) under the target's department; materials in `skip` (uploaded) are left."""
    holder = reuse.Holder(person, enterprise, target.department, purpose=target.title)
    return {k: v for k, v in reuse.find_all(holder, target.materials()).items() if k not in skip}


def _idempotent_case(actor, idempotency_key: str) -> Case | None:
    number = store.case_number_for_key(actor.user.pk, idempotency_key)
    return Case.objects.select_related("department").get(number=number) if number else None


COMMITMENT_TEXT = _(
    "I/we undertake that the information and materials submitted are true, accurate and complete, that "
    "I/we meet the conditions of this licence as published, and that I/we accept the follow-up "
    "inspection. If the commitment proves false, the approval may be revoked and I/we bear the legal "
    "responsibility."
)


def commitment_text(target=None) -> str:
    """The 告知承诺 the applicant signs (shown in Chinese first)."""
    return str(COMMITMENT_TEXT)


def commitment_digest(target=None) -> str:
    """SM3 of the commitment text as signed, so the record shows exactly what was agreed to."""
    from django.utils import translation

    with translation.override("zh-hans"):
        return crypto.sm3_hex(commitment_text(target).encode())


def _create_case(
    target: _Target,
    person_id,
    enterprise_id,
    actor,
    channel,
    data,
    idempotency_key,
    now,
    window_id=None,
    uploads: dict | None = None,
    commitment: bool = False,
    reused: dict | None = None,
) -> Case:
    """Insert the case and its checklist; the Case returned is built here, not read back."""
    values = {
        "number": _new_number(target.department, now),
        "item_version_id": target.item.pk if target.item else None,
        "bundle_version_id": target.bundle.pk if target.bundle else None,
        "title": target.title,
        "department_id": target.department.pk,
        "applicant_id": person_id,
        "enterprise_id": enterprise_id,
        "submitted_by_id": actor.user.pk,
        "channel": channel,
        "window_id": window_id,
        "status": CaseStatus.SUBMITTED,
        "decision": "",
        "data": data,
        "idempotency_key": idempotency_key or "",
        "limit_days": target.limit_days,
        "paused_days": 0.0,
        "visits": 0,
        "submitted_at": now,
        "pause_reason": "",
        "by_commitment": commitment,
        "commitment_signed_at": now if commitment else None,
        "decision_basis": {},
        "delivery": "",
        "delivery_address": "",
        "document_digest": "",
    }
    uploads, reused = uploads or {}, reused or {}
    materials = []
    for m in target.materials():
        upload, found = uploads.get(m["name"]), reused.get(m["name"])
        if not m["required"] and upload is None and found is None:
            continue
        row = {"name": m["name"], "required": m["required"], "core": m["core"]}
        if upload is not None:
            row.update(upload, status=MaterialStatus.PROVIDED, source=MaterialSource.UPLOAD, provided_at=now)
        elif found is not None:
            source = MaterialSource.LICENCE if found.source == reuse.LICENCE else MaterialSource.SHARED
            row.update(
                status=MaterialStatus.PROVIDED, source=source, provided_at=now, note=found.summary[:300]
            )
        else:
            row["status"] = MaterialStatus.PENDING
        materials.append(row)
    case_id = store.insert_case(values, materials, renumber=lambda: _new_number(target.department, now))
    case = Case(id=case_id, **values)
    case._state.adding, case._state.db = False, "default"
    case.department = target.department
    return case


# --- 秒批: auto-approval -------------------------------------------------------------------------


def auto_approval_table(target: _Target) -> DecisionTable | None:
    """The published rules of an auto-approvable item (not of bundles: they combine departments)."""
    if target.item is None or not target.item.auto_approvable:
        return None
    return _published_table(target.item.item_id)


_tables: dict[int, tuple] = {}


def clear_tables() -> None:
    _tables.clear()


def _published_table(item_id: int) -> DecisionTable | None:
    row = store.published_table(item_id)
    if row is None:
        return None
    table_id, _version = row
    cached = _tables.get(item_id)
    if cached is None or cached[0] != table_id:
        cached = _tables[item_id] = (table_id, DecisionTable.objects.get(pk=table_id))
    return cached[1]


def _auto_decide(case, target: _Target, table: DecisionTable, now) -> list:
    """Run the rules on the case data and the verification results; approve and issue, or leave it
    to a clerk with the checks that failed."""
    from tongban.core.authz import SYSTEM

    context = {"data": case.data, "check": verification.run(case, target)}
    evaluation = rules.evaluate(table.table, context)
    record = {**evaluation.as_record(), "table_id": table.pk, "table_version": table.version}
    if evaluation.decision != "approve":
        case.decision_basis = {"kind": "rules_failed", **record}
        store.update_case(case.id, decision_basis=case.decision_basis)
        return [
            _event(
                case,
                "case.auto_checked",
                SYSTEM,
                now=now,
                detail={"result": "manual", "failed": record.get("failed", [])},
            )
        ]
    cal = calendar.get_calendar()
    case.decision_basis = {"kind": "rule", **record}
    case.status, case.decision, case.delivery = CaseStatus.ISSUED, Decision.APPROVE, Delivery.ONLINE
    case.accepted_at = case.decided_at = case.closed_at = now
    case.due_at = cal.deadline(now, case.limit_days) if case.limit_days is not None else None
    store.update_case(
        case.id,
        status=CaseStatus.ISSUED,
        decision=Decision.APPROVE,
        accepted_at=now,
        decided_at=now,
        closed_at=now,
        due_at=case.due_at,
        delivery=Delivery.ONLINE,
        decision_basis=case.decision_basis,
    )
    rule = {"table": table.pk, "version": table.version, "rule": evaluation.rule_id}
    events = [
        _event(case, "case.accepted", SYSTEM, now=now, detail={"auto": True}),
        _event(
            case, "case.decided", SYSTEM, now=now, detail={"decision": "approve", "basis": "rule", **rule}
        ),
        _event(
            case, "case.issued", SYSTEM, now=now, detail={"delivery": Delivery.ONLINE, "decision": "approve"}
        ),
    ]
    _on_commit_issued(case, target)
    return events


def decide_after_precheck(number: str, now=None) -> Case | None:
    """秒批 of a case whose rules read the pre-check (check.materials_prechecked): run once every
    scan has been read, by the pre-check job. A case someone has acted on meanwhile is left alone."""
    from tongban.core.authz import SYSTEM

    now = now or timezone.now()
    with audit.audited(
        "cases.case.auto_decide", actor=SYSTEM, object_type="case", object_ref=number
    ) as entry:
        case = (
            Case.objects.select_related("department")
            .select_for_update(of=("self",))
            .filter(number=number)
            .first()
        )
        if case is None or case.status != CaseStatus.SUBMITTED:
            return None
        if (case.decision_basis or {}).get("kind") != "awaiting_precheck":
            return None
        target = _target_of(case)
        table = auto_approval_table(target)
        if table is None:
            case.decision_basis = {}
            store.update_case(case.id, decision_basis={})
            return case
        _record(_auto_decide(case, target, table, now))
        entry.department_code = store_wf.department_code(case.department_id)
        if case.decision_basis.get("kind") == "rule":
            entry.detail["auto"] = case.decision_basis.get("rule")
    return case


# --- accepting ----------------------------------------------------------------------------------


def accept(
    actor,
    number: str,
    *,
    missing: list[str] = (),
    paper: list[str] | None = None,
    gap_days: int | None = None,
    window_code: str = "",
    checked_uploads: list[str] = (),
    now=None,
) -> Case:
    """受理: a clerk checks the application and accepts it; the clock and the process start.

    Materials not uploaded are the ones `paper` names as checked on paper at the window (by default
    every one not listed in `missing`). `checked_uploads` names the uploaded files the clerk looked
    at and found right: the acceptance event records them with the clerk, so who vouched for each
    material is on the record (an upload is never "verified" by arriving). Non-core materials may
    be `missing` if the item allows 容缺受理; they are then due within `gap_days` working days. A
    missing core material cannot be accepted this way: request a supplement (补正) instead. A 告知承诺
    case is approved at once and a follow-up inspection is opened.
    """
    require(actor, perms.CASE_ACCEPT)
    now = now or timezone.now()
    with audit.audited("cases.case.accept", actor=actor, object_type="case", object_ref=number) as entry:
        case = _access_row(actor, number, lock=True)
        if case.status != CaseStatus.SUBMITTED:
            raise Conflict(_("Only a submitted case can be accepted."))
        _accept(actor, case, _target_of(case), missing, paper, gap_days, window_code, now, checked_uploads)
        entry.department_code = store_wf.department_code(case.department_id)
    return case


def _accept(
    actor, case, target: _Target, missing, paper, gap_days, window_code, now, checked_uploads=()
) -> None:
    errors = FieldErrors()
    checked_uploads = list(checked_uploads or ())
    if checked_uploads:
        uploaded = set(
            CaseMaterial.objects.filter(
                case_id=case.id, status=MaterialStatus.PROVIDED, source=MaterialSource.UPLOAD
            ).values_list("name", flat=True)
        )
        strangers = [n for n in checked_uploads if n not in uploaded]
        if strangers:
            errors.add(
                "checked_uploads",
                "unknown",
                Formatted(_("Not an uploaded material: %(m)s."), {"m": "、".join(strangers)}),
            )
    missing = list(missing or ())
    gap_days = settings.TONGBAN_GAP_DAYS if gap_days is None else gap_days
    outstanding = store.outstanding_materials(case.id)  # name -> core, of materials not yet provided
    for name in missing:
        if name not in outstanding and name not in store.material_names(case.id):
            errors.add("missing", "unknown", Formatted(_("Unknown material: %(m)s."), {"m": name}))
        elif outstanding.get(name):
            errors.add(
                "missing",
                "core",
                Formatted(_("%(m)s is a core material and cannot be missing."), {"m": name}),
            )
    if missing and not target.accepts_with_gaps:
        errors.add("missing", "not_allowed", _("This item does not allow accepting with missing materials."))
    if not isinstance(gap_days, int) or not 1 <= gap_days <= 60:
        errors.add("gap_days", "range", _("Give between 1 and 60 working days."))
    on_paper = [n for n in outstanding if n not in missing] if paper is None else list(paper)
    unknown_paper = [n for n in on_paper if n not in outstanding]
    if unknown_paper:
        errors.add(
            "paper", "unknown", Formatted(_("Not outstanding: %(m)s."), {"m": "、".join(unknown_paper)})
        )
    unaccounted = [n for n in outstanding if n not in on_paper and n not in missing]
    if unaccounted:
        errors.add(
            "materials",
            "not_provided",
            Formatted(
                _("Still missing: %(m)s. Check them on paper, accept with gaps, or request a supplement."),
                {"m": "、".join(unaccounted)},
            ),
        )
    window_id = case.window_id
    if window_code:
        centre, _sep, window_number = window_code.partition("/")
        window_id = (
            Window.objects.filter(centre__code=centre, number=window_number)
            .values_list("id", flat=True)
            .first()
        )
        if window_id is None:
            errors.add("window_code", "unknown", _("Unknown window."))
    errors.raise_if_any()
    cal = calendar.get_calendar()
    if on_paper:
        store.mark_materials(
            case.id, on_paper, status=MaterialStatus.PROVIDED, source=MaterialSource.PAPER, now=now
        )
    gaps_due = cal.deadline(now, gap_days) if missing else None
    if missing:
        store.mark_materials(case.id, missing, status=MaterialStatus.MISSING, due_at=gaps_due)
    changes = {
        "status": CaseStatus.IN_PROGRESS,
        "accepted_at": now,
        "accepted_by_id": actor.user.pk,
        "window_id": window_id,
        "due_at": cal.deadline(now, case.limit_days) if case.limit_days is not None else None,
        # The applicant came in: a window case, a named window, or originals checked on paper.
        "visits": case.visits + (1 if case.channel == Channel.WINDOW or window_code or on_paper else 0),
    }
    detail = {}
    if missing:
        detail.update(missing=missing, gaps_due=gaps_due.isoformat())
    if on_paper:
        detail["paper"] = on_paper
    if checked_uploads:
        detail["checked_uploads"] = checked_uploads
    if window_code:
        detail["window"] = window_code
    case.status, case.accepted_at, case.accepted_by_id = CaseStatus.IN_PROGRESS, now, actor.user.pk
    events = [_event(case, "case.accepted", actor, now=now, detail=detail)]
    if case.by_commitment:
        events += _approve_by_commitment(case, target, actor, now, changes)
    else:
        instance, result = workflow.start(
            target.process(),
            subject=case.number,
            data=case.data,
            default_department=store_wf.department_by_id(case.department_id),
            now=now,
        )
        case.data.update(result.data)
        changes.update(process_instance_id=instance.id, data=case.data)
        events += _work_events(case, result, actor, now)
        if result.completed:
            events.append(_decide(case, actor, now, changes))
    store.update_case(case.id, **changes)
    _record(events)


def _approve_by_commitment(case, target: _Target, actor, now, changes: dict) -> list:
    """告知承诺: approved on acceptance; a follow-up inspection (事后核查) is opened with its due date."""
    department = target.department
    task = workflow.create_task(
        kind=WorkKind.INSPECTION,
        subject=case.number,
        name=str(_("Follow-up inspection (事后核查)")),
        department=department,
        role="reviewer",
        limit_days=settings.TONGBAN_INSPECTION_DAYS,
        now=now,
        process_key=process_key(case),
    )
    basis = {"kind": "commitment", "signed_at": case_signed_at(case), "inspection": str(task.public_id)}
    changes.update(decision=Decision.APPROVE, status=CaseStatus.DECIDED, decided_at=now, decision_basis=basis)
    case.status, case.decision = CaseStatus.DECIDED, Decision.APPROVE
    return [
        _event(case, "case.decided", actor, now=now, detail={"decision": "approve", "basis": "commitment"}),
        _event(
            case,
            "work:inspection",
            None,
            now=now,
            lifecycle="start",
            department=department.code,
            work_item=task.public_id,
            detail={"due": task.due_at.isoformat()},
        ),
    ]


def case_signed_at(case) -> str:
    signed = Case.objects.filter(pk=case.id).values_list("commitment_signed_at", flat=True).first()
    return signed.isoformat() if signed else ""


def refuse(actor, number: str, *, reason: str, now=None) -> Case:
    """不予受理: the application is outside the item's scope or the applicant is not eligible."""
    require(actor, perms.CASE_ACCEPT)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.single("reason", "required", _("Give the reason the application is not accepted."))
    if len(reason) > 1000:
        raise InvalidInput.single("reason", "max_length", _("The reason is too long."))
    now = now or timezone.now()
    with audit.audited("cases.case.refuse", actor=actor, object_type="case", object_ref=number):
        case = _access_row(actor, number, lock=True)
        if case.status not in (CaseStatus.SUBMITTED, CaseStatus.SUPPLEMENT) or case.accepted_at is not None:
            raise Conflict(_("Only an application not yet accepted can be refused."))
        case.status = CaseStatus.NOT_ACCEPTED
        store.update_case(
            case.id,
            status=CaseStatus.NOT_ACCEPTED,
            closed_at=now,
            paused_since=None,
            pause_reason="",
            decision_basis={"kind": "not_accepted", "reason": reason},
        )
        _record([_event(case, "case.not_accepted", actor, now=now, detail={"reason": reason[:200]})])
        _notify_applicant(
            case,
            Later(gettext_noop("Your application %(n)s was not accepted"), n=case.number),
            reason,
            now,
            text="not_accepted",
        )
    return case


def accept_at_window(
    actor,
    *,
    item_code: str = "",
    bundle_code: str = "",
    id_number: str,
    name: str = "",
    phone: str = "",
    data: dict,
    missing: list[str] = (),
    paper: list[str] | None = None,
    gap_days: int | None = None,
    window_code: str = "",
    enterprise_uscc: str = "",
    files: dict | None = None,
    commitment: bool = False,
    reuse_consent: bool = False,
    now=None,
) -> Case:
    """一窗受理: a clerk takes an application on the applicant's behalf and accepts it in one go.

    An applicant who has never been registered is registered from the ID card presented. With
    `reuse_consent` (the applicant agrees at the window) the licences and shared data found stand
    in for materials (免提交), whatever the clerk marked for them.
    """
    require(actor, perms.CASE_ACCEPT)
    target = _target(item_code, bundle_code)
    cleaned = clean_form(target.form_fields(), data)
    if commitment and not target.commitment_allowed:
        raise InvalidInput.single(
            "commitment", "not_allowed", _("This item cannot be approved by commitment (告知承诺).")
        )
    uploads = _check_uploads(target, files or {})
    now = now or timezone.now()
    with audit.audited(
        "cases.case.accept_at_window", actor=actor, object_type="case", department_code=target.department.code
    ) as entry:
        person = account_services.find_person_by_id_number(id_number)
        if person is None:
            person = account_services.register_person(actor, name=name, id_number=id_number, phone=phone)
        # At the window the clerk checks in person that the applicant represents the enterprise;
        # the form may still not name a second one.
        mismatch = FieldErrors()
        enterprise_uscc, field = _applying_enterprise(enterprise_uscc, cleaned, mismatch)
        mismatch.raise_if_any()
        enterprise = None
        if enterprise_uscc:
            enterprise = Enterprise.objects.filter(uscc=enterprise_uscc).first()
            if enterprise is None:
                raise InvalidInput.single(field, "unknown", _("Register the enterprise first."))
        reused = {}
        if reuse_consent:
            reused = _stand_ins(target, person, enterprise, skip=uploads)
            missing = [name for name in missing if name not in reused]
            paper = None if paper is None else [name for name in paper if name not in reused]
        case = _create_case(
            target,
            person.pk,
            enterprise.pk if enterprise else None,
            actor,
            Channel.WINDOW,
            cleaned,
            "",
            now,
            uploads=_store_uploads(uploads),
            commitment=commitment,
            reused=reused,
        )
        detail = {"channel": Channel.WINDOW, **_filed_under(target)}
        if reused:
            detail["reused"] = entry.detail["reused"] = {name: f.reference for name, f in reused.items()}
            _on_commit_reused(case, reused)
        _record([_event(case, "case.submitted", actor, now=now, detail=detail)])
        if uploads:
            prechecks.queue_after_commit(case.number)
        row = store.read_case(case.number)
        _accept(actor, row, target, missing, paper, gap_days, window_code, now)
        entry.object_ref = case.number
    return Case.objects.select_related("department", "window").get(pk=case.pk)
