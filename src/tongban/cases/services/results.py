"""Results: 出件 with the decision document, hand-over to the licence library, and 撤回."""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from tongban.accounts import roles as perms
from tongban.core import audit, crypto, files, sql
from tongban.core import events as event_log
from tongban.core.authz import require
from tongban.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from tongban.core.i18n import Later
from tongban.workflow import services as workflow
from tongban.workflow import store as store_wf
from tongban.workflow.models import ProcessInstance

from .. import documents, signals, store
from ..activities import KIND
from ..models import (
    Case,
    CaseMaterial,
    CaseStatus,
    Delivery,
    Rating,
)
from . import prechecks
from ._base import (
    MATERIAL_CONTEXT,
    _access_row,
    _event,
    _is_applicant,
    _notify_applicant,
    _record,
    _resume,
    _Target,
    _target_of,
    access_case,
    status_colour,
)

DELIVERY = tuple(Delivery.values)


def issue(actor, number: str, *, delivery: str = "window", address: str = "", now=None) -> Case:
    """出件: the result is handed over at the unified window, posted or delivered online.

    The decision document is rendered by the worker right after and its SM3 recorded, so the copy
    the applicant holds can be checked against the case; for licence-bearing items the result is
    handed to the licence library.
    """
    require(actor, perms.CASE_ACCEPT)
    if delivery not in DELIVERY:
        raise InvalidInput.single("delivery", "choice", _("Choose window, post or online delivery."))
    address = (address or "").strip()
    if delivery == Delivery.POST and not address:
        raise InvalidInput.single("address", "required", _("Give the postal address."))
    if len(address) > 300:
        raise InvalidInput.single("address", "max_length", _("The address is too long."))
    now = now or timezone.now()
    with audit.audited(
        "cases.case.issue", actor=actor, object_type="case", object_ref=number, detail={"delivery": delivery}
    ):
        case = _access_row(actor, number, lock=True)
        if case.status != CaseStatus.DECIDED:
            raise Conflict(_("Only a decided case can be issued."))
        target = _target_of(case)
        case.status = CaseStatus.ISSUED
        store.update_case(
            case.id,
            status=CaseStatus.ISSUED,
            closed_at=now,
            delivery=delivery,
            delivery_address=crypto.encrypt(address, ADDRESS_CONTEXT) if address else "",
            visits=case.visits + (1 if delivery == Delivery.WINDOW else 0),
        )
        _record(
            [
                _event(
                    case,
                    "case.issued",
                    actor,
                    now=now,
                    detail={"delivery": delivery, "decision": case.decision},
                )
            ]
        )
        _on_commit_issued(case, target)
        _notify_applicant(
            case,
            Later(gettext_noop("%(n)s is done: the result is issued (出件)"), n=case.number),
            Later(ISSUED_NOTES[delivery]),
            now,
            text="issued",
        )
    return case


ISSUED_NOTES = {
    Delivery.WINDOW: gettext_noop(
        "Collect it at the window; the decision document is also on the case page."
    ),
    Delivery.POST: gettext_noop(
        "It is posted to the address you gave; the decision document is on the case page."
    ),
    Delivery.ONLINE: gettext_noop("Download it from the case page; e-licences are in your licence wallet."),
}


ADDRESS_CONTEXT = "cases.Case.delivery_address"


def withdraw(actor, number: str, *, reason: str = "", now=None) -> Case:
    """撤回: the applicant takes the application back before it is decided."""
    now = now or timezone.now()
    with audit.audited("cases.case.withdraw", actor=actor, object_type="case", object_ref=number):
        case = _access_row(actor, number, lock=True)
        if not _is_applicant(actor, case):
            raise NotPermitted(_("Only the applicant can withdraw an application."))
        if case.status not in (CaseStatus.SUBMITTED, CaseStatus.IN_PROGRESS, CaseStatus.SUPPLEMENT):
            raise Conflict(_("A decided case can no longer be withdrawn."))
        workflow.cancel_subject(case.number, now)
        changes = {"status": CaseStatus.WITHDRAWN, "closed_at": now}
        changes.update(_resume(case, now))
        case.status = CaseStatus.WITHDRAWN
        store.update_case(case.id, **changes)
        _record([_event(case, "case.withdrawn", actor, now=now, detail={"reason": (reason or "")[:200]})])
    return case


# --- results: the decision document and hand-over -------------------------------------------------


def decision_document(case, target: _Target | None = None, *, decided_at=None) -> bytes:
    """The 决定书 as PDF; deterministic for a case, so its SM3 identifies the copy issued.

    It is the applicant's own document, so it carries their full name; only those who may see the
    case can download it.
    """
    target = target or _target_of(case)
    row = Case.objects.select_related("department", "applicant", "enterprise").get(pk=case.id)
    decided = timezone.localtime(decided_at or row.decided_at or timezone.now())
    item_type = target.item.item_type if target.item else "public_service"
    doc = documents.DecisionDocument(
        document_number=document_number(row.department, row.number, decided, item_type),
        department_name=row.department.name,
        applicant_name=row.applicant.name,
        enterprise_name=row.enterprise.name if row.enterprise_id else "",
        item_name=row.title,
        item_type=item_type,
        case_number=row.number,
        application_date=timezone.localtime(row.submitted_at).date(),
        decision=row.decision or "approve",
        decision_date=decided.date(),
        legal_basis=(target.item.legal_basis if target.item else "")[:500],
        opinion=_decision_opinion(row),
        delivery_method=row.delivery or "",
        verify_url=f"/verify/case/{row.number}",
        verify_code=row.number,
    )
    return documents.render_decision(doc)


def document_number(department, case_number: str, decided, item_type: str) -> str:
    """文号 of the decision: the department's short name, the kind, the year, the case's serial."""
    kind = "许" if item_type == "licensing" else "办"
    name = department.short_name or department.name
    return f"{name}{kind}字〔{decided.year}〕第{case_number[-6:]}号"


def _decision_opinion(case: Case) -> list[str]:
    basis = case.decision_basis or {}
    if basis.get("kind") == "rule":
        return ["经系统核验，符合自动审批规则 %s，予以批准（秒批）。" % (basis.get("rule") or "")]
    if basis.get("kind") == "commitment":
        return ["申请人已作出告知承诺，予以批准；本机关将依法开展事后核查，承诺不实的将撤销本决定。"]
    return [o for o in store_wf.completed_opinions(case.number) if o]


def record_document(number: str) -> str:
    """Render a case's decision document and keep its SM3 (the worker does this after 出件)."""
    case = Case.objects.filter(number=number).first()
    if case is None or case.status not in (CaseStatus.ISSUED, CaseStatus.REVOKED):
        return ""
    if case.document_digest:
        return case.document_digest
    digest = crypto.sm3_hex(decision_document(case))
    Case.objects.filter(pk=case.pk, document_digest="").update(document_digest=digest)
    return digest


def _on_commit_issued(case, target: _Target) -> None:
    """After commit: the worker renders the decision document; the licence library (which subscribes
    to the signal) receives licence-bearing results."""
    from .. import tasks

    number = case.number
    licence_type = target.item.licence_type if target.item else ""
    transaction.on_commit(lambda: tasks.render_document(number))
    if licence_type:
        transaction.on_commit(lambda: tasks.hand_over_licence(number, licence_type))
        transaction.on_commit(
            lambda: signals.result_issued.send(sender=Case, case_number=number, licence_type=licence_type)
        )


def hand_over_licence(number: str, licence_type: str) -> str:
    """Give the licence library what it needs to sign a decided case's licence: the applicant, the
    enterprise and the form. Returns the licence code ("" when the library refused; it journals why)."""
    from tongban.accounts.models import Enterprise, Person
    from tongban.licences import services as licences

    case = Case.objects.filter(number=number).first()
    if case is None or case.status != CaseStatus.ISSUED:
        return ""
    person = Person.objects.filter(pk=case.applicant_id).first()
    enterprise = Enterprise.objects.filter(pk=case.enterprise_id).first() if case.enterprise_id else None
    licence = licences.issue_for_case(
        number,
        licence_type,
        person_id_number=person.id_number if person else "",
        person_name=person.name if person else "",
        enterprise_uscc=enterprise.uscc if enterprise else "",
        enterprise_name=enterprise.name if enterprise else "",
        data=case.data or {},
    )
    return licence.code if licence else ""


def revoke_case_licences(number: str, reason: str) -> list[str]:
    from tongban.licences import services as licences

    return licences.revoke_for_case(number, reason=reason)


def document_pdf(actor, number: str) -> tuple[str, bytes]:
    """The decision document of an issued case, for whoever may see the case; checked against its SM3."""
    case = access_case(actor, number)
    if case.status not in (CaseStatus.ISSUED, CaseStatus.REVOKED):
        raise NotFound()
    content = decision_document(case)
    digest = crypto.sm3_hex(content)
    if case.document_digest and case.document_digest != digest:
        # The case changed since issue, or rendering did: never hand out a copy that differs silently.
        raise Conflict(
            _("The decision document no longer matches the one issued; contact the service centre.")
        )
    audit.record("cases.document.download", actor=actor, object_type="case", object_ref=number)
    return f"{case.number}.pdf", content


def material_file(actor, number: str, material_id: int) -> tuple[str, str, bytes]:
    """An uploaded material (file name, content type, bytes), decrypted for someone who may see the case.

    Reading an applicant's material is journaled, like any read of personal data.
    """
    case = access_case(actor, number)
    material = CaseMaterial.objects.filter(case=case, pk=material_id).exclude(file_ref="").first()
    if material is None:
        raise NotFound()
    content = files.load(material.file_ref, context=MATERIAL_CONTEXT)
    audit.record(
        "cases.material.read",
        actor=actor,
        object_type="case",
        object_ref=number,
        department_code=case.department.code,
        detail={"material": material.name},
    )
    return (
        material.file_name or f"material-{material.pk}",
        files.CONTENT_TYPES.get(material.file_kind, "application/octet-stream"),
        content,
    )


@dataclass
class CaseDetail:
    """Everything a case page shows, read once, for a viewer the case is visible to."""

    case: Case
    target_name: str
    colour: str
    materials: list
    events: list
    open_work: list
    supplements: list
    procedures: list
    rating: object
    is_applicant: bool
    process: object  # the ProcessDefinition the case runs (None before acceptance or for 秒批/告知承诺)
    current_nodes: list  # ids of the diagram's steps that are open now (call activities for bundles)
    completed_nodes: list
    work: list = field(default_factory=list)  # every work item, open or done, in creation order
    prechecks: list = field(default_factory=list)  # 智能预审 findings per material (prechecks.PrecheckView)
    prechecks_pending: list = field(default_factory=list)  # names of uploads still being read


def case_detail(actor, number: str, now=None) -> CaseDetail:
    """One case page's data in five queries: the case, its materials, its events, its process
    instances and its steps (supplements, procedures and a rating are read only when the events
    say there are any)."""
    case = access_case(actor, number)
    now = now or timezone.now()
    events = event_log.history(KIND, case.number)
    seen = {e.activity for e in events}
    steps = store_wf.steps_of(case.number)
    open_work = [w for w in steps if w.is_open]
    process, current, completed = None, [], []
    if case.process_instance_id:
        instances = {i.pk: i for i in sql.models(ProcessInstance, "subject = %s", [case.number])}
        root = instances.get(case.process_instance_id)
        if root is not None:
            process = workflow.definition_by_id(root.definition_id)

            def node_of(instance_id, node_id):
                # Steps of a bundle member run in a child process: show them on the bundle's call activity.
                instance = instances.get(instance_id)
                return (
                    instance.parent_node
                    if instance is not None and instance.parent_id == root.pk
                    else node_id
                )

            current = sorted({node_of(w.instance_id, w.node_id) for w in open_work if w.instance_id})
            done = {
                node_of(w.instance_id, w.node_id)
                for w in steps
                if w.status == "completed" and w.kind == "step"
            }
            waits, fired = workflow.event_nodes(case.number, [root.pk])  # catch events of the process
            current = sorted(set(current) | waits)
            completed = sorted((done | fired) - set(current))
    materials = sql.models(CaseMaterial, "case_id = %s", [case.pk], order="id")
    return CaseDetail(
        case=case,
        target_name=case.title,
        colour=status_colour(case, now),
        materials=materials,
        events=events,
        open_work=open_work,
        supplements=list(case.supplements.all()) if "case.supplement_requested" in seen else [],
        procedures=list(case.procedures.all()) if "case.procedure_started" in seen else [],
        rating=Rating.objects.filter(case=case).first() if "case.rated" in seen else None,
        is_applicant=_is_applicant(actor, case),
        process=process,
        current_nodes=current,
        completed_nodes=completed,
        work=steps,
        prechecks=prechecks.views_of(case.id) if "case.material_prechecked" in seen else [],
        prechecks_pending=prechecks.waiting(materials, seen),
    )
