"""Running processes: definitions, instances, and what staff do with work items.

The functions that move an instance (start, complete, return, transfer, add a countersigner)
run inside the caller's transaction: the cases app calls them together with its own changes and
events, so a case and its process never disagree. They take row locks in one order — the work
item, then its instance — which serialises the steps of one instance (parallel branches finishing
at once cannot miscount a join) while different cases proceed in parallel.
"""

import datetime as dt
import re
import threading
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from tongban.accounts import roles as perms
from tongban.accounts import services as accounts
from tongban.accounts.actors import Actor
from tongban.accounts.models import Department, Staff, User
from tongban.core import audit, calendar, crypto
from tongban.core.authz import require
from tongban.core.errors import (
    Conflict,
    FieldErrors,
    FieldProblem,
    Formatted,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from tongban.core.i18n import Later
from tongban.rules import RuleError
from tongban.rules import dmn as rules_dmn

from . import bpmn, decisions, engine, store
from .models import (
    OPEN_STATUSES,
    DecisionDefinition,
    DefinitionStatus,
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    SavedOpinion,
    Subscription,
    Timer,
    TimerStatus,
    WorkItem,
    WorkKind,
    WorkStatus,
)

# --- definitions -----------------------------------------------------------------------------------


def _bpmn_error(problems: list[bpmn.Problem]) -> InvalidInput:
    return InvalidInput(
        {"bpmn": [FieldProblem(p.code, _ElementMessage(p.element, p.message)) for p in problems]}
    )


class _ElementMessage:
    def __init__(self, element: str, message):
        self.element, self.message = element, message

    def __str__(self) -> str:
        return f"{self.element}: {self.message}"


def publish_definition(
    actor, *, key: str, bpmn_xml: str, department: Department, process_id: str = "", name: str = ""
) -> ProcessDefinition:
    """Check a BPMN document and publish it as the next version of `key`.

    Call activities must name a process of the same document or a published definition key.
    """
    require(actor, perms.CATALOG_MANAGE, department)
    result = bpmn.parse(bpmn_xml)
    if not result.ok:
        raise _bpmn_error(result.problems)
    if not process_id:
        called = {
            n.called_process for g in result.processes.values() for n in g.nodes.values() if n.kind == "call"
        }
        roots = [pid for pid in result.processes if pid not in called]
        if len(roots) != 1:
            raise InvalidInput.single("process_id", "ambiguous", _("Name the process to run."))
        process_id = roots[0]
    if process_id not in result.processes:
        raise InvalidInput.single("process_id", "missing", _("No such process in the document."))
    called = {n.decision for g in result.processes.values() for n in g.nodes.values() if n.kind == "rule"}
    published = set(
        DecisionDefinition.objects.filter(key__in=called, status=DefinitionStatus.PUBLISHED).values_list(
            "key", flat=True
        )
    )
    missing = bpmn.missing_decisions(result, published)
    if missing:
        raise _bpmn_error(missing)
    for graph in result.processes.values():
        for node in graph.nodes.values():
            if (
                node.kind == "call"
                and node.called_process not in result.processes
                and not (
                    ProcessDefinition.objects.filter(
                        key=node.called_process, status=DefinitionStatus.PUBLISHED
                    ).exists()
                )
            ):
                raise _bpmn_error(
                    [
                        bpmn.Problem(
                            node.id,
                            "called",
                            Formatted(
                                _("The called process %(p)s is neither in this document nor published."),
                                {"p": node.called_process},
                            ),
                        )
                    ]
                )
    with audit.audited(
        "workflow.definition.publish",
        actor=actor,
        object_type="process_definition",
        object_ref=key,
        department_code=department.code,
    ) as entry:
        latest = ProcessDefinition.objects.filter(key=key).aggregate(v=Max("version"))["v"] or 0
        owner = (
            ProcessDefinition.objects.filter(key=key, department__isnull=False)
            .select_related("department")
            .order_by("-version")
            .first()
        )
        if (
            owner is not None
            and owner.department_id != department.pk
            and not actor.can(perms.CATALOG_MANAGE, owner.department)
        ):
            # Naming one's own department does not take over another department's process.
            raise NotPermitted(_("This process belongs to a department whose catalogue you do not manage."))
        ProcessDefinition.objects.filter(key=key, status=DefinitionStatus.PUBLISHED).update(
            status=DefinitionStatus.SUPERSEDED
        )
        definition = ProcessDefinition.objects.create(
            key=key,
            version=latest + 1,
            status=DefinitionStatus.PUBLISHED,
            process_id=process_id,
            name=name or result.processes[process_id].name,
            bpmn_xml=bpmn_xml,
            checksum=crypto.sm3_hex(bpmn_xml.encode()),
            department=department,
            created_by=getattr(actor, "user", None),
            published_at=timezone.now(),
        )
        entry.detail = {"version": definition.version, "process": process_id}
    return definition


def published_definition(key: str) -> ProcessDefinition | None:
    """The published version of a key, looked up by id and served from the cache of definitions."""
    definition_id = store.published_definition_id(key)
    return _definition(definition_id) if definition_id is not None else None


def current_definition(key: str) -> ProcessDefinition:
    definition = ProcessDefinition.objects.filter(key=key, status=DefinitionStatus.PUBLISHED).first()
    if definition is None:
        raise NotFound(_("No published process for this item."))
    return definition


_graphs: dict[tuple[int, str, str], bpmn.ProcessGraph] = {}
_graphs_lock = threading.Lock()


def graph_of(definition: ProcessDefinition, process_id: str = "") -> bpmn.ProcessGraph:
    """Parsed once per process: a published definition never changes."""
    key = (definition.pk, definition.checksum, process_id or definition.process_id)
    graph = _graphs.get(key)
    if graph is None:
        with _graphs_lock:
            for pid, parsed in bpmn.parse(definition.bpmn_xml).processes.items():
                parsed.decide = decide_stored
                _graphs[(definition.pk, definition.checksum, pid)] = parsed
        graph = _graphs[key]
    return graph


def clear_caches() -> None:
    """Forget cached definitions and graphs (tests roll back rows whose ids are then reused)."""
    _graphs.clear()
    _definitions.clear()
    _models.clear()
    _subtrees.clear()
    store.clear_caches()


# --- decisions (DMN) that business rule tasks call -------------------------------------------------

DECISION_ACTION = "workflow.decision.publish"
_models: dict[tuple[int, str], rules_dmn.Model] = {}


def _dmn_model(dmn_xml: str) -> rules_dmn.Model:
    try:
        return rules_dmn.load(dmn_xml)
    except RuleError as exc:
        raise InvalidInput.single("dmn", exc.code, exc.message) from None


def publish_decisions(actor, *, dmn_xml: str, department: Department) -> list[DecisionDefinition]:
    """Check a DMN document and publish each of its decisions as the next version of its decision id.

    A decision id stays with the department that first published it, as process keys do."""
    require(actor, perms.CATALOG_MANAGE, department)
    model = _dmn_model(dmn_xml)
    ids = [d.id for d in model.decisions.values()]
    errors = FieldErrors()
    if not ids:
        errors.add("dmn", "no_decision", _("The DMN document has no decision."))
    for decision in model.decisions.values():
        if not decision.id or not bpmn.DECISION_ID.fullmatch(decision.id):
            errors.add(
                "dmn",
                "decision_id",
                Formatted(
                    _("The decision “%(name)s” needs an id of letters, digits and . _ - (it has “%(id)s”)."),
                    {"name": decision.name, "id": decision.id or "—"},
                ),
            )
    errors.raise_if_any()
    owners = {
        row.key: row.department
        for row in DecisionDefinition.objects.filter(key__in=ids)
        .select_related("department")
        .order_by("version")
    }
    for key, owner in owners.items():
        if owner.pk != department.pk and not actor.can(perms.CATALOG_MANAGE, owner):
            raise NotPermitted(
                Formatted(
                    _("The decision %(id)s belongs to a department whose catalogue you do not manage."),
                    {"id": key},
                )
            )
    published = []
    checksum = crypto.sm3_hex(dmn_xml.encode())
    with audit.audited(
        DECISION_ACTION,
        actor=actor,
        object_type="decision_definition",
        object_ref=",".join(ids)[:120],
        department_code=department.code,
    ) as entry:
        for decision in model.decisions.values():
            latest = DecisionDefinition.objects.filter(key=decision.id).aggregate(v=Max("version"))["v"] or 0
            DecisionDefinition.objects.filter(key=decision.id, status=DefinitionStatus.PUBLISHED).update(
                status=DefinitionStatus.SUPERSEDED
            )
            published.append(
                DecisionDefinition.objects.create(
                    key=decision.id,
                    version=latest + 1,
                    status=DefinitionStatus.PUBLISHED,
                    name=(decision.name or decision.id)[:200],
                    dmn_xml=dmn_xml,
                    checksum=checksum,
                    department=department,
                    created_by=getattr(actor, "user", None),
                    published_at=timezone.now(),
                )
            )
        entry.detail = {"decisions": {d.key: d.version for d in published}}
    return published


def upload_decisions(actor, *, department_code: str, dmn_xml: str) -> list[DecisionDefinition]:
    """Publish an uploaded DMN document for a department the actor manages (the API, any DMN modeler)."""
    require(actor, perms.CATALOG_MANAGE)
    department = Department.objects.filter(code=department_code).first() if department_code else None
    if department is None:
        raise InvalidInput.single(
            "department", "required", _("Choose the department the decision belongs to.")
        )
    return publish_decisions(actor, dmn_xml=dmn_xml, department=department)


def decision_versions(actor, key: str) -> list[DecisionDefinition]:
    """Every version of a decision id, newest first, for someone who manages its department."""
    require(actor, perms.CATALOG_MANAGE)
    rows = list(
        DecisionDefinition.objects.filter(key=key)
        .defer("dmn_xml")
        .select_related("department")
        .order_by("-version")
    )
    if not rows or not (
        getattr(actor, "is_system", False) or actor.can(perms.CATALOG_MANAGE, rows[0].department)
    ):
        raise NotFound()
    return rows


def published_decision(key: str) -> decisions.Found | None:
    """The published version of a decision id, its DMN document read once per version."""
    row = (
        DecisionDefinition.objects.filter(key=key, status=DefinitionStatus.PUBLISHED)
        .values_list("pk", "checksum", "version")
        .first()
    )
    if row is None:
        return None
    pk, checksum, version = row
    model = _models.get((pk, checksum))
    if model is None:
        xml = DecisionDefinition.objects.values_list("dmn_xml", flat=True).get(pk=pk)
        model = _models[(pk, checksum)] = rules_dmn.load(xml)
    return decisions.Found(model, model.decision(key), f"{key} v{version}")


def decide_stored(node: bpmn.Node, data: dict) -> dict:
    """A business rule task of a published process: the decision as published now, over the case data."""
    found = published_decision(node.decision)
    if found is None:
        raise decisions.DecisionFailed(
            Formatted(_("the decision “%(decision)s” is not published"), {"decision": node.decision})
        )
    return decisions.evaluate(found, data, result_variable=node.result_variable, mapping=node.result_mapping)


# --- moving instances ------------------------------------------------------------------------------------

_definitions: dict[int, ProcessDefinition] = {}


def definition_by_id(pk: int) -> ProcessDefinition:
    """A definition version by id; versions never change once published, so each is read once."""
    return _definition(pk)


def _definition(pk: int) -> ProcessDefinition:
    """Published definitions never change, so each is loaded once per process."""
    definition = _definitions.get(pk)
    if definition is None:
        definition = _definitions[pk] = ProcessDefinition.objects.get(pk=pk)
    return definition


@dataclass
class StepResult:
    """What one action did, for the caller's events and case status."""

    created: list[store.WorkRow] = field(default_factory=list)
    closed: list[store.WorkRow] = field(default_factory=list)  # finished by this action (peers cancelled too)
    data: dict = field(default_factory=dict)  # case data updates
    passed: list[str] = field(default_factory=list)
    completed: bool = False  # the top-level instance has ended
    # Messages and signals the processes sent, as (element, "message:<name>" | "signal:<name>",
    # delivered): a message no process of the case waited for goes out to other systems.
    sent: list[tuple[str, str, bool]] = field(default_factory=list)
    senders: list[int] = field(default_factory=list)  # the instance that sent each of `sent`


@dataclass
class _Context:
    data: dict
    default_department: tuple[int, str] | None
    now: object

    def department(self, code: str) -> tuple[int, str] | None:
        # "=key": the department whose code the subject's data holds under key (a document's
        # agency or drafting section), so one shipped definition serves every department.
        if code.startswith("="):
            code = str(self.data.get(code[1:].strip()) or "")
        return (store.department(code) if code else None) or self.default_department


def _context(data: dict, default_department: Department | tuple[int, str] | None, now) -> _Context:
    if isinstance(default_department, Department):
        default_department = (default_department.pk, default_department.path)
    return _Context(dict(data), default_department, now or timezone.now())


def start(
    definition: ProcessDefinition,
    *,
    subject: str,
    data: dict,
    default_department: Department | None = None,
    now=None,
) -> tuple[store.InstanceRow, StepResult]:
    """Start an instance in the caller's transaction and run it to its first waits."""
    context = _context(data, default_department, now)
    result = StepResult()
    _definitions.setdefault(definition.pk, definition)
    instance = _start(
        definition, definition.process_id, subject, context, result, parent_id=None, parent_node=""
    )
    _settle(subject, context, result)
    return instance, result


def _start(definition, process_id, subject, context, result, *, parent_id, parent_node) -> store.InstanceRow:
    graph = graph_of(definition, process_id)
    effects, joins = engine.start(graph, context.data)
    instance = store.insert_instance(
        definition.pk, process_id, subject, joins, parent_id, parent_node, context.now
    )
    _apply(instance, graph, effects, context, result, previous_id=None, resume_parent=False)
    return instance


def _apply(
    instance: store.InstanceRow,
    graph: bpmn.ProcessGraph,
    effects: engine.Effects,
    context: _Context,
    result: StepResult,
    previous_id: int | None,
    resume_parent: bool = True,
) -> None:
    """Write what the engine decided: work items, child instances, the token balance, completion."""
    pending = [effects]
    while pending:
        effects = pending.pop()
        context.data.update(effects.data)
        result.data.update(effects.data)
        result.passed += effects.passed
        instance.tokens += effects.token_delta
        created = store.insert_work(_work_rows(instance, effects.work, context, previous_id))
        result.created += created
        for scope in effects.terminated:
            instance.tokens -= _terminate(instance, graph, scope, context.now)
        _schedule(instance, graph, created, effects, context)
        result.sent += [(node_id, trigger, False) for node_id, trigger in effects.sent]
        result.senders += [instance.id for _sent in effects.sent]
        for subprocess_id in effects.follow:  # an event subprocess the process itself started
            pending.append(_start_eventsub(instance, graph, graph.node(subprocess_id), context))
        for node in effects.calls:
            child_definition, child_process = _called(
                _definition(instance.definition_id), node.called_process
            )
            child = _start(
                child_definition,
                child_process,
                instance.subject,
                context,
                result,
                parent_id=instance.id,
                parent_node=node.id,
            )
            if child.status == InstanceStatus.COMPLETED:
                # Nothing in the child waited: the call activity is done at once.
                pending.append(engine.leave(graph, node.id, context.data, instance.joins))
    finished = instance.tokens == 0
    if finished:
        instance.status = InstanceStatus.COMPLETED
        _cancel_waits(instance.id)  # its event subprocesses stop listening
    store.save_instance(instance, completed_at=context.now if finished else None)
    if finished and instance.parent_id is None:
        result.completed = True
    elif finished and resume_parent:
        parent = store.lock_instance(instance.parent_id)
        parent_graph = graph_of(_definition(parent.definition_id), parent.process_id)
        _apply(
            parent,
            parent_graph,
            engine.leave(parent_graph, instance.parent_node, context.data, parent.joins),
            context,
            result,
            previous_id=None,
        )


def timer_due(now, node: bpmn.Node):
    """When a timer event that starts waiting `now` comes due (working days by the 催办 calendar)."""
    if node.working_days is not None:
        return calendar.get_calendar().deadline(now, node.working_days)
    return now + dt.timedelta(seconds=node.seconds or 0)


def _schedule(instance, graph: bpmn.ProcessGraph, created: list, effects: engine.Effects, context) -> None:
    """What the process now waits for: timers and subscriptions (message, signal, condition) of the
    boundary events on the steps just created (one set per countersign group), of the catch events,
    receive tasks and start events now waiting, and of the event subprocesses now listening."""
    now = context.now
    timers, subscriptions, groups = [], [], set()

    def wait(node: bpmn.Node, work_item_id=None, race: str = "") -> None:
        common = {"instance_id": instance.id, "subject": instance.subject, "node_id": node.id}
        if node.kind == "timer" or "timer" in node.triggers:
            timers.append(Timer(**common, work_item_id=work_item_id, due_at=timer_due(now, node), race=race))
        subscriptions.extend(
            Subscription(**common, trigger=t, work_item_id=work_item_id, race=race, created_at=now)
            for t in node.triggers
            if t != "timer" and t not in ("error", "escalation")
        )

    for row in created:
        boundaries = engine.timer_boundaries(graph, row.node_id) + [
            b for b in engine.event_boundaries(graph, row.node_id) if "timer" not in b.triggers
        ]
        if not boundaries or (row.group and row.group in groups):
            continue
        groups.add(row.group)
        for boundary in boundaries:
            wait(boundary, row.id)
    for node in effects.waits:
        wait(node, race=effects.races.get(node.id, ""))
    for node in effects.listens:
        wait(node)
    if timers:
        Timer.objects.bulk_create(timers)
    if subscriptions:
        Subscription.objects.bulk_create(subscriptions)


def _cancel_waits(instance_id: int, nodes=None, *, race: str = "") -> None:
    """Timers and subscriptions of an instance that no longer apply (of `nodes` only, or of a race)."""
    for model in (Timer, Subscription):
        waiting = model.objects.filter(instance_id=instance_id, status=TimerStatus.WAITING)
        if nodes is not None:
            waiting = waiting.filter(node_id__in=list(nodes))
        if race:
            waiting = waiting.filter(race=race)
        waiting.update(status=TimerStatus.CANCELLED)


def due_timers(now, *, batch: int = 200) -> list[Timer]:
    """Timers that have come due, earliest first (the worker's sweep fires them one by one); a timer
    of a paused case stands still until the case resumes."""
    return list(
        Timer.objects.filter(status=TimerStatus.WAITING, due_at__lte=now, paused_since__isnull=True).order_by(
            "due_at", "pk"
        )[:batch]
    )


def cancel_timer(timer_id: int) -> None:
    Timer.objects.filter(pk=timer_id, status=TimerStatus.WAITING).update(status=TimerStatus.CANCELLED)


def fire_timer(timer_id: int, *, data: dict, default_department=None, now=None) -> StepResult | None:
    """Fire one due timer in the caller's transaction; None when it no longer applies (its step was
    done or its instance ended: the timer is cancelled instead)."""
    now = now or timezone.now()
    timer = Timer.objects.select_for_update().filter(pk=timer_id, status=TimerStatus.WAITING).first()
    if timer is None:
        return None
    instance = store.lock_instance(timer.instance_id)
    item = WorkItem.objects.filter(pk=timer.work_item_id).first() if timer.work_item_id else None
    if instance.status != InstanceStatus.RUNNING or (
        timer.work_item_id and (item is None or not item.is_open)
    ):
        cancel_timer(timer.pk)
        return None
    graph = graph_of(_definition(instance.definition_id), instance.process_id)
    node = graph.node(timer.node_id)
    context = _context(data, default_department, now)
    result = StepResult()
    Timer.objects.filter(pk=timer.pk).update(status=TimerStatus.FIRED, fired_at=now)
    _fire(instance, graph, node, "timer", item, timer.race, context, result)
    _settle(instance.subject, context, result)
    return result


def _fire(instance, graph, node: bpmn.Node, trigger: str, item, race: str, context, result, payload=None):
    """What a timer or subscription of `instance` waited for has come: move the instance on."""
    now = context.now
    if race:
        _cancel_waits(instance.id, race=race)  # the first event of a race wins
    if not engine.arrived(node, trigger, instance.joins):
        store.save_instance(instance)
        return
    if node.kind in ("boundary", "eventsub"):
        _cancel_waits(instance.id, [node.id]) if node.interrupting or node.kind == "boundary" else None
    effects_data = {node.variable: payload} if node.variable and payload is not None else {}
    context.data.update(effects_data)
    if node.kind == "boundary":
        if node.interrupting:
            peers = WorkItem.objects.filter(status__in=OPEN_STATUSES)
            peers = peers.filter(group=item.group) if item.group else peers.filter(pk=item.pk)
            peers.update(status=WorkStatus.CANCELLED, completed_at=now, next_reminder_at=None)
            _cancel_waits(instance.id, [b.id for b in _boundaries_of(graph, node.attached)])
        effects = engine.fire_boundary(graph, node.id, context.data, instance.joins)
    elif node.kind == "eventsub":
        effects = _start_eventsub(instance, graph, node, context)
    elif node.kind == "timer":
        effects = engine.leave(graph, node.id, context.data, instance.joins)
    else:  # a catch event, a receive task, a start event
        effects = engine.catch(graph, node.id, context.data, instance.joins)
    effects.data = {**effects_data, **effects.data}
    _apply(instance, graph, effects, context, result, previous_id=None)
    result.passed.insert(0, node.id)


def _start_eventsub(instance, graph: bpmn.ProcessGraph, node: bpmn.Node, context) -> engine.Effects:
    """An event subprocess starts; an interrupting one first ends everything else of the process."""
    if node.interrupting:
        instance.tokens -= _terminate(instance, graph, "", context.now)
        instance.joins.clear()
    return engine.start_eventsub(graph, node.id, context.data, instance.joins)


def _boundaries_of(graph: bpmn.ProcessGraph, node_id: str) -> list[bpmn.Node]:
    return engine.timer_boundaries(graph, node_id) + engine.event_boundaries(graph, node_id)


MAX_DISPATCH = 100


def _settle(subject: str, context, result: StepResult) -> None:
    """After a step of a case: deliver the messages and signals its processes sent to the events of
    the same case waiting for them, and fire the conditional events whose condition now holds."""
    done = 0
    while done < MAX_DISPATCH:
        queue = [i for i, (_n, _t, delivered) in enumerate(result.sent) if not delivered]
        if queue:
            index = queue[0]
            node_id, trigger, _delivered = result.sent[index]
            sender = result.senders[index] if index < len(result.senders) else None
            waiting = [
                w
                for w in _waiting(subject, trigger)
                if not (w.instance_id == sender and w.node_id in _eventsubs(w.instance_id))
            ]  # (the sender's own event subprocesses heard it already)
            if trigger.startswith("message:"):
                waiting = waiting[:1]  # a message has one receiver; a signal reaches every catcher
            for subscription in waiting:
                _fire_subscription(subscription, trigger, context, result)
            result.sent[index] = (node_id, trigger, bool(waiting))
            done += 1
            continue
        fired = False
        for subscription in _waiting(subject, "conditional"):
            instance = store.lock_instance(subscription.instance_id)
            graph = graph_of(_definition(instance.definition_id), instance.process_id)
            node = graph.node(subscription.node_id)
            if node.event_condition is not None and node.event_condition.evaluate(context.data):
                _fire_subscription(subscription, "conditional", context, result)
                fired = True
                done += 1
                break
        if not fired:
            return


def _eventsubs(instance_id: int) -> set[str]:
    instance = ProcessInstance.objects.get(pk=instance_id)
    graph = graph_of(_definition(instance.definition_id), instance.process_id)
    return {n.id for n in graph.nodes.values() if n.kind == "eventsub"}


def _waiting(subject: str, trigger: str) -> list[Subscription]:
    return list(
        Subscription.objects.select_for_update()
        .filter(subject=subject, trigger=trigger, status=TimerStatus.WAITING)
        .order_by("pk")
    )


def _fire_subscription(subscription: Subscription, trigger: str, context, result, payload=None) -> bool:
    """Fire one waiting subscription; False (and it is cancelled) when it no longer applies."""
    instance = store.lock_instance(subscription.instance_id)
    item = None
    if subscription.work_item_id:
        item = WorkItem.objects.filter(pk=subscription.work_item_id).first()
    current = Subscription.objects.filter(pk=subscription.pk, status=TimerStatus.WAITING)
    if instance.status != InstanceStatus.RUNNING or (
        subscription.work_item_id and (item is None or not item.is_open)
    ):
        current.update(status=TimerStatus.CANCELLED)
        return False
    graph = graph_of(_definition(instance.definition_id), instance.process_id)
    node = graph.node(subscription.node_id)
    if node.kind == "eventsub" and not node.interrupting and "conditional" not in node.triggers:
        pass  # a non-interrupting event subprocess listens on (it may start again)
    else:
        current.update(status=TimerStatus.FIRED, fired_at=context.now)
    _fire(instance, graph, node, trigger, item, subscription.race, context, result, payload)
    return True


def deliver_message(
    subject: str, name: str, *, payload: dict, data: dict, default_department=None, now=None
) -> StepResult:
    """A message from another system for the case `subject`: the event of its process that has
    waited longest for a message of that name receives it (its payload goes to the event's
    messageVariable, when it names one). Conflict when nothing of the case waits for it."""
    context = _context(data, default_department, now)
    result = StepResult()
    trigger = f"message:{name}"
    for subscription in _waiting(subject, trigger):
        if _fire_subscription(subscription, trigger, context, result, payload):
            _settle(subject, context, result)
            return result
    raise Conflict(Formatted(_("No step of this case waits for the message “%(name)s”."), {"name": name}))


def event_nodes(subject: str, instance_ids) -> tuple[set[str], set[str]]:
    """For a case's diagram: the catch events, receive tasks and timers of `instance_ids` that wait
    now, and those that fired (boundary events on steps and listening event subprocesses aside)."""
    waiting, fired = set(), set()
    for model in (Subscription, Timer):
        rows = model.objects.filter(
            subject=subject, instance_id__in=list(instance_ids), work_item__isnull=True
        )
        for instance_id, node_id, status in rows.values_list("instance_id", "node_id", "status"):
            if status == TimerStatus.WAITING:
                waiting.add((instance_id, node_id))
            elif status == TimerStatus.FIRED:
                fired.add((instance_id, node_id))
    subprocesses: dict[int, set[str]] = {}
    for instance_id, _node in waiting | fired:
        if instance_id not in subprocesses:
            subprocesses[instance_id] = _eventsubs(instance_id)
    return (
        {node for i, node in waiting if node not in subprocesses[i]},
        {node for i, node in fired if node not in subprocesses[i]},
    )


def waiting_events(subject: str) -> list[dict]:
    """What the processes of a case wait for: messages, signals, conditions (for the case view)."""
    return [
        {"node": node_id, "trigger": trigger}
        for node_id, trigger in Subscription.objects.filter(
            subject=subject, status=TimerStatus.WAITING
        ).values_list("node_id", "trigger")
    ]


def _terminate(instance: store.InstanceRow, graph: bpmn.ProcessGraph, scope: str, now) -> int:
    """A terminate end event was reached: cancel the open steps of its (sub)process — for the whole
    process also those of the instances it called — and return how many tokens waited in them."""
    members = engine.scope_members(graph, scope)
    _cancel_waits(instance.id, None if not scope else members)
    if not scope:
        ids, frontier = [instance.id], [instance.id]
        while frontier:
            frontier = list(
                ProcessInstance.objects.filter(
                    parent_id__in=frontier, status=InstanceStatus.RUNNING
                ).values_list("pk", flat=True)
            )
            ids += frontier
        open_items = WorkItem.objects.filter(instance_id__in=ids, status__in=OPEN_STATUSES)
        open_items.update(status=WorkStatus.CANCELLED, completed_at=now, next_reminder_at=None)
        ProcessInstance.objects.filter(pk__in=ids[1:]).update(
            status=InstanceStatus.CANCELLED, tokens=0, completed_at=now
        )
        return instance.tokens
    open_items = WorkItem.objects.filter(
        instance_id=instance.id, status__in=OPEN_STATUSES, node_id__in=members
    )
    groups = set(open_items.exclude(group__isnull=True).values_list("group", flat=True))
    tokens = len(groups) + open_items.filter(group__isnull=True).count()
    open_items.update(status=WorkStatus.CANCELLED, completed_at=now, next_reminder_at=None)
    return tokens


def _work_rows(
    instance: store.InstanceRow, works: list[engine.NewWork], context: _Context, previous_id: int | None
) -> list[dict]:
    rows = []
    cal = calendar.get_calendar()
    for work in works:
        node = work.node
        department = context.department(node.department)
        common = {
            "instance_id": instance.id,
            "subject": instance.subject,
            "node_id": node.id,
            "name": node.name or node.id,
            "department_id": department[0] if department else None,
            "department_path": department[1] if department else "",
            "role": node.role,
            "limit_days": node.limit_days,
            "created_at": context.now,
            "previous_id": previous_id,
            "due_at": cal.deadline(context.now, node.limit_days) if node.limit_days is not None else None,
            "yellow_at": yellow_at(cal, context.now, node.limit_days),
            "next_reminder_at": first_reminder(cal, context.now, node.limit_days),
            "process_key": _definition(instance.definition_id).key,
        }
        if work.count > 1:  # a multi-instance task done by several at once
            group = uuid.uuid4()
            rule = "cc" if node.mi_completion is not None else "every"
            rows += [
                {
                    **common,
                    "public_id": uuid.uuid4(),
                    "status": WorkStatus.OPEN,
                    "group": group,
                    "group_rule": rule,
                }
                for _ in range(work.count)
            ]
            continue
        if not work.assignees:
            rows.append({**common, "public_id": uuid.uuid4(), "status": WorkStatus.OPEN})
            continue
        users = store.user_ids(work.assignees)
        missing = [name for name in work.assignees if name not in users]
        if missing:
            raise engine.ProcessError(
                node.id, Formatted(_("unknown countersigners: %(names)s"), {"names": ", ".join(missing)})
            )
        group = uuid.uuid4()
        rows += [
            {
                **common,
                "public_id": uuid.uuid4(),
                "assignee_id": users[name],
                "status": WorkStatus.CLAIMED,
                "claimed_at": context.now,
                "group": group,
                "group_rule": node.countersign,
            }
            for name in work.assignees
        ]
    return rows


def reminder_at(cal, created_at, limit_days: int | None, stage: int, paused_days: float = 0.0):
    """When a step with this limit is due its reminder number `stage` (0: first 催办, …, last: overdue)."""
    if limit_days is None:
        return None
    shares = (*settings.TONGBAN_REMIND_AT, 1.0)
    if stage >= len(shares):
        return None
    if stage == len(shares) - 1:
        # Overdue is the moment after the deadline, as status() counts it.
        return cal.instant_of(created_at, limit_days + paused_days)
    return cal.instant_of(created_at, shares[stage] * limit_days + paused_days)


def yellow_at(cal, created_at, limit_days: int | None, paused_days: float = 0.0):
    """When a step with this limit turns yellow (DOMAIN.md: 80 % of the limit used, by default)."""
    if limit_days is None:
        return None
    if limit_days == 0:
        return cal.instant_of(created_at, 0)
    return cal.instant_of(created_at, settings.TONGBAN_YELLOW_AT * limit_days + paused_days)


def first_reminder(cal, created_at, limit_days: int | None):
    if limit_days is None:
        return None
    if limit_days == 0:
        return reminder_at(cal, created_at, 0, len(settings.TONGBAN_REMIND_AT))
    return reminder_at(cal, created_at, limit_days, 0)


def _called(definition: ProcessDefinition, called: str) -> tuple[ProcessDefinition, str]:
    """A called process lives in the same document, or is the current version of a definition key."""
    graph_of(definition)
    if (definition.pk, definition.checksum, called) in _graphs:
        return definition, called
    child = current_definition(called)
    _definitions.setdefault(child.pk, child)
    return child, child.process_id


# --- staff actions on work items ----------------------------------------------------------------------------


def eligible(actor, role: str, department_path: str) -> bool:
    """Holders of the step's role in the step's department (or over it, with a sub-tree grant)."""
    return bool(department_path) and any(
        grant.role == role
        and (
            grant.path == department_path
            or (grant.include_subtree and department_path.startswith(grant.path))
        )
        for grant in getattr(actor, "grants", ())
    )


def can_work_on(actor, item) -> bool:
    """May act on this kind of step: it is theirs, or they hold its role there. Whether it is still free
    is decided by the conditional row update, so a lost race is a Conflict, not a refusal."""
    user = getattr(actor, "user", None)
    if item.assignee_id is not None and user is not None and user.pk == item.assignee_id:
        return True
    return eligible(actor, item.role, item.department_path)


def _holds(actor, item) -> bool:
    """The step is the actor's to act on now: assigned to them, or free and within their role."""
    user = getattr(actor, "user", None)
    if item.assignee_id is not None:
        return user is not None and user.pk == item.assignee_id
    return eligible(actor, item.role, item.department_path)


def _oversees(actor, item) -> bool:
    return any(
        perms.WORK_SUPERVISE in g.permissions
        and item.department_path
        and item.department_path.startswith(g.path)
        for g in getattr(actor, "grants", ())
    )


def worklist_filter(actor) -> Q:
    """Open work the actor may take, plus work assigned to them."""
    q = Q(pk__in=[])
    for grant in getattr(actor, "grants", ()):
        scope = (
            Q(department_path__startswith=grant.path)
            if grant.include_subtree
            else Q(department_path=grant.path)
        )
        q |= Q(role=grant.role) & scope
    user = getattr(actor, "user", None)
    if user is not None:
        q |= Q(assignee=user)
    return Q(status__in=OPEN_STATUSES) & q


def access_work(actor, public_id) -> store.WorkRow:
    """The work item, if the actor may act on it or oversees its department; otherwise not found."""
    item = store.load_work(public_id)
    if item is None or not (can_work_on(actor, item) or _oversees(actor, item)):
        raise NotFound()
    return item


def claim(actor, public_id, *, now=None) -> store.WorkRow:
    item = access_work(actor, public_id)
    if not can_work_on(actor, item):
        raise NotPermitted(_("Your role does not cover this step."))
    now = now or timezone.now()
    if not store.claim(item.id, actor.user.pk, now):
        raise Conflict(_("Someone else has already taken or finished this step."))
    item.status, item.assignee_id, item.claimed_at = WorkStatus.CLAIMED, actor.user.pk, now
    return item


DECISIONS = ("approve", "reject")


def complete(
    actor,
    public_id,
    *,
    decision: str,
    opinion: str = "",
    data: dict,
    default_department: Department | None = None,
    now=None,
    item: store.WorkRow | None = None,
) -> tuple[store.WorkRow, StepResult]:
    """Finish a step with a decision and an opinion (意见); the process moves on.

    The row update is conditional on the step still being open and not someone else's, so of two
    people completing the same step one wins and the other gets a Conflict. The instance row is
    locked after the work item, always in that order. `item` is the row of `public_id` when the
    caller has just read it through access_work in the same transaction, so it is not read twice.
    """
    if decision not in DECISIONS:
        raise InvalidInput.single("decision", "choice", _("Choose approve or reject."))
    if len(opinion or "") > 2000:
        raise InvalidInput.single("opinion", "max_length", _("The opinion is too long."))
    if item is None or item.public_id != public_id:
        item = access_work(actor, public_id)
    if not can_work_on(actor, item):
        raise NotPermitted(_("Your role does not cover this step."))
    now = now or timezone.now()
    if not store.complete(item.id, actor.user.pk, decision, opinion or "", now):
        raise Conflict(_("Someone else has already taken or finished this step."))
    item.status, item.assignee_id = WorkStatus.COMPLETED, actor.user.pk
    instance = store.lock_instance(item.instance_id)
    context = _context(data, default_department, now)
    result = StepResult(closed=[item])
    if item.group:
        decisions = store.group_decisions(item.group)
        approvals = sum(1 for status, d in decisions if status == WorkStatus.COMPLETED and d == "approve")
        rejections = sum(1 for status, d in decisions if status == WorkStatus.COMPLETED and d == "reject")
        outcome = engine.countersign_outcome(item.group_rule or "all", len(decisions), approvals, rejections)
        if item.group_rule == "cc" and outcome is None:
            node = graph_of(_definition(instance.definition_id), instance.process_id).node(item.node_id)
            if engine.completion_holds(node, context.data, len(decisions), approvals + rejections):
                outcome = "reject" if rejections else "approve"
        if outcome is None:
            return item, result  # others still have to sign
        store.cancel_open_in_group(item.group, now)
        decision = outcome
        outputs = [d if status == WorkStatus.COMPLETED else None for status, d in decisions]
    else:
        outputs = None
    graph = graph_of(_definition(instance.definition_id), instance.process_id)
    effects = engine.leave(graph, item.node_id, context.data, instance.joins, decision, outputs)
    _apply(instance, graph, effects, context, result, previous_id=item.id)
    _settle(instance.subject, context, result)
    return item, result


def return_to_previous(actor, public_id, *, opinion: str, now=None) -> WorkItem:
    """退回: the step goes back to whoever did the previous one."""
    item = access_work(actor, public_id)
    if not item.is_open or not _holds(actor, item):
        raise Conflict(_("Only an open step you may work on can be returned."))
    if not (opinion or "").strip():
        raise InvalidInput.single("opinion", "required", _("Say why the step is returned."))
    previous = WorkItem.objects.filter(pk=item.previous_id).first() if item.previous_id else None
    if previous is None:
        raise Conflict(_("This is the first step: return it to the applicant instead."))
    instance = store.lock_instance(item.instance_id)
    if instance.tokens != 1 or item.group:
        raise Conflict(
            _("Steps running in parallel cannot be returned one by one; return the case to the applicant.")
        )
    now = now or timezone.now()
    if not WorkItem.objects.filter(pk=item.id, status__in=OPEN_STATUSES).update(
        status=WorkStatus.RETURNED, opinion=opinion, completed_at=now, completed_by=actor.user
    ):
        raise Conflict(_("Someone else has already taken or finished this step."))
    again = WorkItem.objects.create(
        instance_id=instance.id,
        subject=item.subject,
        node_id=previous.node_id,
        name=previous.name,
        department_id=previous.department_id,
        department_path=previous.department_path,
        role=previous.role,
        assignee_id=previous.completed_by_id,
        status=WorkStatus.CLAIMED if previous.completed_by_id else WorkStatus.OPEN,
        limit_days=previous.limit_days,
        # The step starts again with its own limit.
        due_at=calendar.get_calendar().deadline(now, previous.limit_days)
        if previous.limit_days is not None
        else None,
        next_reminder_at=first_reminder(calendar.get_calendar(), now, previous.limit_days),
        yellow_at=yellow_at(calendar.get_calendar(), now, previous.limit_days),
        process_key=previous.process_key,
        created_at=now,
        claimed_at=now,
        previous_id=previous.previous_id,
        opinion="",
    )
    return again


def transfer(actor, public_id, *, to_username: str, opinion: str = "", now=None) -> WorkItem:
    """转办: hand a step to a colleague who holds the same role for that department."""
    item = access_work(actor, public_id)
    if not item.is_open or not (_holds(actor, item) or _oversees(actor, item)):
        raise Conflict(_("Only an open step you hold (or oversee) can be transferred."))
    target = (
        Staff.objects.select_related("user").filter(user__username=to_username, user__is_active=True).first()
    )
    if target is None or not eligible(Actor(target.user), item.role, item.department_path):
        raise InvalidInput.single(
            "to_username", "not_eligible", _("That person does not hold this step's role for its department.")
        )
    now = now or timezone.now()
    if not WorkItem.objects.filter(pk=item.id, status__in=OPEN_STATUSES).update(
        assignee=target.user, status=WorkStatus.CLAIMED, claimed_at=now
    ):
        raise Conflict(_("Someone else has already taken or finished this step."))
    item.assignee_id, item.status = target.user.pk, WorkStatus.CLAIMED
    return item


def add_countersigner(actor, public_id, *, username: str, now=None) -> WorkItem:
    """加签: another person must also sign this step before it completes."""
    item = access_work(actor, public_id)
    if not item.is_open or not _holds(actor, item):
        raise Conflict(_("Only an open step you work on can get another signer."))
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None or user.kind != "staff":
        raise InvalidInput.single("username", "unknown", _("Unknown staff member."))
    signers = (
        WorkItem.objects.filter(group=item.group).exclude(status=WorkStatus.CANCELLED)
        if item.group
        else WorkItem.objects.filter(pk=item.id)
    )
    if signers.filter(assignee=user).exists():
        raise InvalidInput.single("username", "duplicate", _("This person already signs this step."))
    now = now or timezone.now()
    with transaction.atomic():
        if item.group is None:
            item.group, item.group_rule = uuid.uuid4(), "all"
            WorkItem.objects.filter(pk=item.id).update(group=item.group, group_rule="all")
        return WorkItem.objects.create(
            instance_id=item.instance_id,
            subject=item.subject,
            node_id=item.node_id,
            name=item.name,
            department_id=item.department_id,
            department_path=item.department_path,
            role=item.role,
            assignee=user,
            status=WorkStatus.CLAIMED,
            claimed_at=now,
            group=item.group,
            group_rule=item.group_rule,
            previous_id=item.previous_id,
            limit_days=item.limit_days,
            due_at=item.due_at,
            # The added signer shares the step's deadline, and so its reminders.
            next_reminder_at=WorkItem.objects.filter(pk=item.id).values_list("next_reminder_at", flat=True)[
                0
            ],
            reminded=WorkItem.objects.filter(pk=item.id).values_list("reminded", flat=True)[0],
            yellow_at=WorkItem.objects.filter(pk=item.id).values_list("yellow_at", flat=True)[0],
            process_key=WorkItem.objects.filter(pk=item.id).values_list("process_key", flat=True)[0],
            created_at=now,
        )


# --- browsing and uploading definitions (staff screens) -------------------------------------------------

PUBLISH_ACTION = "workflow.definition.publish"
KEY_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,119}"


def _with_department(definitions):
    """Annotate department_code / _path / _name / _short_name of the department that owns each key."""
    return definitions.annotate(
        department_code=F("department__code"),
        department_path=F("department__path"),
        department_name=F("department__name"),
        department_short_name=F("department__short_name"),
    )


def _manages(actor, department_code: str | None) -> bool:
    department = Department.objects.filter(code=department_code).first() if department_code else None
    return department is not None and actor.can(perms.CATALOG_MANAGE, department)


def list_definitions(actor, *, query: str = "", status: str = "", department_code: str = ""):
    """Versions of the definitions of departments whose catalogue the actor manages (BPMN text deferred)."""
    require(actor, perms.CATALOG_MANAGE)
    rows = _with_department(ProcessDefinition.objects.defer("bpmn_xml")).filter(
        actor.scope_q(perms.CATALOG_MANAGE, path_field="department_path")
    )
    if status:
        rows = rows.filter(status=status)
    if query:
        rows = rows.filter(Q(key__icontains=query) | Q(name__icontains=query))
    if department_code:
        rows = rows.filter(department_code=department_code)
    return rows.order_by("key", "-version")


def access_definition(actor, key: str, version: int | None = None) -> ProcessDefinition:
    """One version of `key` (the latest when none is named), if the actor manages its department.

    Anything else is NotFound, so keys of other departments do not leak. The case page will add its own
    rule (whoever may see the case may see its process).
    """
    require(actor, perms.CATALOG_MANAGE)
    if version is not None and not 0 < version < 2**31:
        raise NotFound()  # a number from a URL that no column can hold
    rows = _with_department(ProcessDefinition.objects.filter(key=key))
    definition = (
        rows.filter(version=version).first() if version is not None else rows.order_by("-version").first()
    )
    if definition is None or not (
        getattr(actor, "is_system", False) or _manages(actor, definition.department_code)
    ):
        raise NotFound()
    return definition


def definition_versions(actor, key: str) -> list[ProcessDefinition]:
    """Every version of `key`, newest first, for someone who may see the key."""
    access_definition(actor, key)
    return list(
        ProcessDefinition.objects.filter(key=key)
        .defer("bpmn_xml")
        .select_related("created_by")
        .order_by("-version")
    )


def upload_definition(
    actor, *, key: str, department_code: str, bpmn_xml: str, process_id: str = ""
) -> ProcessDefinition:
    """Publish an uploaded BPMN document as the next version of `key`, for a department the actor manages.

    A key that exists already stays with its department unless the actor manages that one too: naming
    one's own department must not be a way to replace another department's process.
    """
    require(actor, perms.CATALOG_MANAGE)
    errors = FieldErrors()
    key = errors.require_text("key", key, max_length=120)
    if key and not re.fullmatch(KEY_PATTERN, key):
        errors.add("key", "invalid", _("Use letters, digits and . _ : - only, e.g. item:CODE."))
    department = Department.objects.filter(code=department_code).first() if department_code else None
    if department is None:
        errors.add("department", "required", _("Choose the department the process belongs to."))
    errors.raise_if_any()
    require(actor, perms.CATALOG_MANAGE, department)
    latest = _with_department(ProcessDefinition.objects.filter(key=key).defer("bpmn_xml")).order_by(
        "-version"
    )
    existing = latest.first()
    if existing is not None and existing.department_code and not _manages(actor, existing.department_code):
        raise NotPermitted(_("This process belongs to a department whose catalogue you do not manage."))
    return publish_definition(actor, key=key, bpmn_xml=bpmn_xml, department=department, process_id=process_id)


# --- tasks outside a process: inspections, rectifications ----------------------------------------------


def create_task(
    *,
    kind: str,
    subject: str,
    name: str,
    department: Department,
    role: str,
    limit_days: int,
    now,
    process_key: str = "",
) -> store.WorkRow:
    """Open a task on the worklist of a role in a department, with a limit in working days.

    Called by the case services inside their own transaction; it changes nothing else.
    """
    if kind == WorkKind.STEP or kind not in WorkKind.values:
        raise ValueError(kind)
    cal = calendar.get_calendar()
    (row,) = store.insert_work(
        [
            {
                "public_id": uuid.uuid4(),
                "instance_id": None,
                "subject": subject,
                "node_id": kind,
                "name": name,
                "department_id": department.pk,
                "department_path": department.path,
                "role": role,
                "status": WorkStatus.OPEN,
                "limit_days": limit_days,
                "due_at": cal.deadline(now, limit_days),
                "yellow_at": yellow_at(cal, now, limit_days),
                "next_reminder_at": first_reminder(cal, now, limit_days),
                "created_at": now,
                "kind": kind,
                "process_key": process_key,
            }
        ]
    )
    return row


TASK_DECISIONS = {
    WorkKind.INSPECTION: ("pass", "fail"),
    WorkKind.RECTIFICATION: ("done",),
}


def finish_task(actor, public_id, *, kind: str, decision: str, opinion: str, now=None) -> store.WorkRow:
    """Complete an inspection or rectification: the same one-winner rule as for process steps."""
    item = access_work(actor, public_id)
    if item.kind != kind:
        raise NotFound()
    if decision not in TASK_DECISIONS[kind]:
        raise InvalidInput.single("decision", "choice", _("Choose one of the allowed outcomes."))
    if not (opinion or "").strip():
        raise InvalidInput.single("opinion", "required", _("Write down what was found or done."))
    if len(opinion) > 2000:
        raise InvalidInput.single("opinion", "max_length", _("The opinion is too long."))
    if not can_work_on(actor, item):
        raise NotPermitted(_("Your role does not cover this step."))
    now = now or timezone.now()
    if not store.complete(item.id, actor.user.pk, decision, opinion, now):
        raise Conflict(_("Someone else has already taken or finished this step."))
    item.status, item.assignee_id = WorkStatus.COMPLETED, actor.user.pk
    return item


# --- the clock of a subject's open work: pause, resume, cancel -----------------------------------------


def pause_subject(subject: str, now) -> int:
    """The case waits on the applicant or a special procedure: its steps' clocks and reminders stop
    too, and so do the timers of its processes."""
    Timer.objects.filter(subject=subject, status=TimerStatus.WAITING, paused_since__isnull=True).update(
        paused_since=now
    )
    return WorkItem.objects.filter(subject=subject, status__in=OPEN_STATUSES).update(
        next_reminder_at=None, paused_since=now
    )


def resume_subject(subject: str, paused_days: float, now=None) -> int:
    """The wait is over: every open step's deadline moves out by the working time it stood still, and
    every timer of the case by the time it stood still (working days for a timer counted in working
    days, elapsed time for one counted in hours or days), so none fires at once for the pause."""
    cal = calendar.get_calendar()
    now = now or timezone.now()
    timers = list(
        Timer.objects.filter(subject=subject, status=TimerStatus.WAITING, paused_since__isnull=False)
    )
    graphs: dict[int, bpmn.ProcessGraph] = {}
    for timer in timers:
        instance = ProcessInstance.objects.get(pk=timer.instance_id)
        graph = graphs.get(instance.pk) or graph_of(_definition(instance.definition_id), instance.process_id)
        graphs[instance.pk] = graph
        node = graph.nodes.get(timer.node_id)
        if node is not None and node.working_days is not None:
            stood = cal.elapsed_working_days(timer.paused_since, now)
            if stood > 0:  # due at the end of a working day: that many working days later
                timer.due_at = cal.instant_of(timer.due_at - dt.timedelta(microseconds=1), stood)
        else:
            timer.due_at += max(now - timer.paused_since, dt.timedelta(0))
        timer.paused_since = None
    Timer.objects.bulk_update(timers, ["due_at", "paused_since"])
    items = list(WorkItem.objects.filter(subject=subject, status__in=OPEN_STATUSES))
    for item in items:
        item.paused_days += paused_days
        item.paused_since = None
        if item.limit_days is not None:
            item.due_at = cal.instant_of(item.created_at, item.limit_days + item.paused_days)
            item.yellow_at = yellow_at(cal, item.created_at, item.limit_days, item.paused_days)
            item.next_reminder_at = _next_reminder(cal, item)
    WorkItem.objects.bulk_update(
        items, ["paused_days", "paused_since", "due_at", "yellow_at", "next_reminder_at"]
    )
    return len(items)


def cancel_subject(subject: str, now) -> int:
    return WorkItem.objects.filter(subject=subject, status__in=OPEN_STATUSES).update(
        status=WorkStatus.CANCELLED, completed_at=now, next_reminder_at=None
    )


def _stages() -> int:
    return len(settings.TONGBAN_REMIND_AT) + 1


def _next_reminder(cal, item):
    """The instant of the first reminder stage the item has not had yet; None when all are done."""
    if item.limit_days is None or item.reminded >= _stages():
        return None
    if item.limit_days == 0:
        return reminder_at(cal, item.created_at, 0, _stages() - 1, item.paused_days)
    return reminder_at(cal, item.created_at, item.limit_days, item.reminded, item.paused_days)


def reminder_stage(cal, item, now) -> int:
    """How many reminder stages are due by now: 0 none, then one per share of TONGBAN_REMIND_AT,
    and the last stage means overdue."""
    if item.limit_days is None:
        return 0
    status = cal.status(item.created_at, item.limit_days, now, paused=item.paused_days)
    if status.colour == "red":
        return _stages()
    return sum(1 for share in settings.TONGBAN_REMIND_AT if status.share_used >= share)


@dataclass
class Reminder:
    item: WorkItem
    stage: int
    escalated: bool
    recipients: list[int]


def sweep_reminders(now=None, *, batch: int = 500) -> list[Reminder]:
    """催办 and escalation for every open step whose next reminder is due, in one transaction.

    A step at 50 % or 80 % of its limit reminds whoever holds it (or every holder of its role in
    its department when nobody has claimed it); an overdue step is escalated to the nearest
    section head. Each stage is sent once, and the step's next one is scheduled.
    """
    now = now or timezone.now()
    cal = calendar.get_calendar()
    done = []
    with transaction.atomic():
        due = list(
            WorkItem.objects.select_for_update(skip_locked=True)
            .filter(next_reminder_at__lte=now, status__in=OPEN_STATUSES)
            .order_by("next_reminder_at")[:batch]
        )
        for item in due:
            stage = max(reminder_stage(cal, item, now), item.reminded)
            if stage == item.reminded:
                # Not due yet after all (a resumed clock): reschedule without a message.
                item.next_reminder_at = _next_reminder(cal, item)
                item.save(update_fields=["next_reminder_at"])
                continue
            escalated = stage >= _stages()
            if escalated:
                recipients = accounts.role_holders("section_head", item.department_path, nearest_only=True)
                title = Later(
                    gettext_noop("Overdue: %(name)s of %(subject)s"), name=item.name, subject=item.subject
                )
                kind = "escalation"
            else:
                recipients = (
                    [item.assignee_id]
                    if item.assignee_id
                    else accounts.role_holders(item.role, item.department_path)
                )
                title = Later(
                    gettext_noop("Reminder (催办): %(name)s of %(subject)s is due %(due)s"),
                    name=item.name,
                    subject=item.subject,
                    due=timezone.localtime(item.due_at).strftime("%Y-%m-%d %H:%M") if item.due_at else "",
                )
                kind = "reminder"
            accounts.notify(recipients, kind=kind, title=title, subject=item.subject, now=now)
            item.reminded = stage
            item.escalated_at = now if escalated else item.escalated_at
            item.next_reminder_at = _next_reminder(cal, item)
            item.save(update_fields=["reminded", "escalated_at", "next_reminder_at"])
            done.append(Reminder(item, stage, escalated, recipients))
    return done


def remind(actor, public_id, *, message: str = "", now=None) -> list[int]:
    """催办 by a head or supervisor: a message to whoever holds the step (or may take it)."""
    item = access_work(actor, public_id)
    if not _oversees(actor, item):
        raise NotPermitted(_("Only heads and supervisors over this department can send reminders."))
    if not item.is_open:
        raise Conflict(_("This step is already finished."))
    if len(message or "") > 500:
        raise InvalidInput.single("message", "max_length", _("The message is too long."))
    recipients = (
        [item.assignee_id] if item.assignee_id else accounts.role_holders(item.role, item.department_path)
    )
    title = Later(
        gettext_noop("Reminder (催办) from %(who)s: %(name)s of %(subject)s"),
        who=actor.user.display_name,
        name=item.name,
        subject=item.subject,
    )
    accounts.notify(
        recipients, kind="reminder", title=title, body=message or "", subject=item.subject, now=now
    )
    return recipients


def overdue_work(actor, *, now=None):
    """Open steps past their deadline in the departments the actor oversees (heads, supervisors)."""
    require(actor, perms.WORK_SUPERVISE)
    now = now or timezone.now()
    scope = Q(pk__in=[])
    for grant in getattr(actor, "grants", ()):
        if perms.WORK_SUPERVISE in grant.permissions:
            scope |= Q(department_path__startswith=grant.path)
    # The open-steps condition as a literal, as the partial indexes are declared: with the statuses
    # as bound parameters SQLite cannot tell the indexes apply and reads the whole table.
    return (
        WorkItem.objects.filter(scope, due_at__lt=now)
        .extra(where=[store.OPEN_SQL])  # noqa: S610  (a constant)
        .select_related("department", "assignee")
        .order_by("due_at")
    )


# --- the worklist -----------------------------------------------------------------------------------------

_subtrees: dict[str, tuple[float, list[str]]] = {}


def _paths_under(path: str) -> list[str]:
    """Paths of a department and everything below it (departments rarely change: kept a minute)."""
    cached = _subtrees.get(path)
    if cached is None or cached[0] < time.monotonic():
        paths = list(Department.objects.filter(path__startswith=path).values_list("path", flat=True))
        cached = _subtrees[path] = (time.monotonic() + 60, paths)
    return cached[1]


# Worklist totals are exact up to this many steps; a larger total is reported as this plus one.
WORKLIST_COUNT_CAP = store.COUNT_CAP


def worklist_scopes(actor) -> list[tuple[str, list[str]]]:
    scopes = []
    for grant in getattr(actor, "grants", ()):
        scopes.append((grant.role, _paths_under(grant.path) if grant.include_subtree else [grant.path]))
    return scopes


def worklist(
    actor,
    *,
    colour: str | None = None,
    process_key: str | None = None,
    due_before=None,
    kind: str | None = None,
    mine_only: bool = False,
    key_prefix: str | None = None,
    exclude_key_prefix: str | None = None,
    page: int = 1,
    per_page: int = 20,
    now=None,
) -> tuple[list[store.WorkRow], int]:
    """The actor's worklist: steps they may take in their roles' departments, and steps they hold."""
    errors = FieldErrors()
    if colour and colour not in store.COLOURS:
        errors.add("colour", "choice", _("Choose red, yellow, green or paused."))
    if kind and kind not in WorkKind.values:
        errors.add("kind", "choice", _("Choose one of the allowed values."))
    _check_paging(errors, page, per_page)
    errors.raise_if_any()
    user = getattr(actor, "user", None)
    return store.worklist(
        worklist_scopes(actor),
        user.pk if user is not None else None,
        now=now or timezone.now(),
        colour=colour,
        process_key=process_key,
        due_before=due_before,
        kind=kind,
        mine_only=mine_only,
        key_prefix=key_prefix,
        exclude_key_prefix=exclude_key_prefix,
        limit=per_page,
        offset=(page - 1) * per_page,
    )


DONE_STATUSES = (WorkStatus.COMPLETED, WorkStatus.RETURNED)


def _check_paging(errors: FieldErrors, page, per_page) -> None:
    if not isinstance(page, int) or page < 1 or page > 10_000:
        errors.add("page", "range", _("Give a page number from 1."))
    if not isinstance(per_page, int) or not 1 <= per_page <= 100:
        errors.add("per_page", "range", _("Give between 1 and 100 rows per page."))


def done_work(
    actor,
    *,
    process_key: str | None = None,
    exclude_key_prefix: str | None = None,
    decision: str = "",
    since=None,
    until=None,
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[WorkItem], int]:
    """已办: the steps the actor finished or sent back, newest first (their own record of work;
    what happened to the case afterwards is on the case page)."""
    errors = FieldErrors()
    if decision and decision not in (*DECISIONS, "pass", "fail", "done", "returned"):
        errors.add("decision", "choice", _("Choose one of the allowed values."))
    if since and until and since > until:
        errors.add("until", "range", _("The end date is before the start date."))
    _check_paging(errors, page, per_page)
    errors.raise_if_any()
    user = getattr(actor, "user", None)
    if user is None or getattr(actor, "staff", None) is None:
        raise NotPermitted(_("The worklist is for staff."))
    works = WorkItem.objects.filter(completed_by=user, status__in=DONE_STATUSES)
    if process_key:
        works = works.filter(process_key=process_key)
    elif exclude_key_prefix:
        works = works.exclude(process_key__startswith=exclude_key_prefix)
    if decision == "returned":
        works = works.filter(status=WorkStatus.RETURNED)
    elif decision:
        works = works.filter(status=WorkStatus.COMPLETED, decision=decision)
    if since:
        works = works.filter(completed_at__gte=since)
    if until:
        works = works.filter(completed_at__lt=until)
    total = works.count()
    offset = (page - 1) * per_page
    rows = list(works.order_by("-completed_at", "-id")[offset : offset + per_page])
    return rows, total


# --- 常用意见: a reviewer's saved opinions ------------------------------------------------------------

SAVED_OPINIONS_PER_PERSON = 50


def _opinion_owner(actor) -> User:
    user = getattr(actor, "user", None)
    if user is None or getattr(actor, "staff", None) is None:
        raise NotPermitted(_("Saved opinions are for staff."))
    return user


def saved_opinions(actor) -> list[SavedOpinion]:
    """The actor's own phrases, the most used first."""
    return list(SavedOpinion.objects.filter(owner=_opinion_owner(actor)).order_by("-uses", "id"))


def save_opinion(actor, text: str) -> SavedOpinion:
    """Keep a phrase (saving one already kept returns it unchanged)."""
    owner = _opinion_owner(actor)
    errors = FieldErrors()
    cleaned = " ".join((text or "").split())
    if not cleaned:
        errors.add("text", "required", _("Write the opinion to keep."))
    elif len(cleaned) > 500:
        errors.add("text", "max_length", _("A saved opinion has at most 500 characters."))
    errors.raise_if_any()
    with transaction.atomic():
        existing = SavedOpinion.objects.filter(owner=owner, text=cleaned).first()
        if existing is not None:
            return existing
        if SavedOpinion.objects.filter(owner=owner).count() >= SAVED_OPINIONS_PER_PERSON:
            raise InvalidInput.single(
                "text",
                "limit",
                Formatted(
                    _("You keep at most %(count)d opinions; delete one you no longer use."),
                    {"count": SAVED_OPINIONS_PER_PERSON},
                ),
            )
        return SavedOpinion.objects.create(owner=owner, text=cleaned)


def delete_saved_opinion(actor, opinion_id: int) -> None:
    owner = _opinion_owner(actor)
    deleted, _rows = SavedOpinion.objects.filter(owner=owner, pk=opinion_id).delete()
    if not deleted:
        raise NotFound(_("No such saved opinion."))


def note_opinion_used(actor, text: str) -> None:
    """An opinion given on a step that matches a saved one moves that one up the list."""
    user = getattr(actor, "user", None)
    cleaned = " ".join((text or "").split())
    if user is not None and cleaned:
        SavedOpinion.objects.filter(owner=user, text=cleaned).update(uses=F("uses") + 1)


def colour_of(item, now=None) -> str:
    """Red, yellow, green or paused for one step, from its stored instants (as the worklist filters)."""
    if item.paused_since is not None:
        return "paused"
    if item.due_at is None:
        return ""
    now = now or timezone.now()
    if item.due_at < now:
        return "red"
    if item.yellow_at is not None and item.yellow_at <= now:
        return "yellow"
    return "green"


# --- published models for analysis (insight's conformance check, through core.process_models) ---------


def models_for_analysis(actor) -> list:
    """The published process models, for those who analyse the service (效能监察): they check logs
    against the process as designed, and need not be able to edit it."""
    from tongban.core.process_models import ProcessModel

    require(actor, perms.INSIGHT_ANALYSE)
    published = (
        ProcessDefinition.objects.filter(status=DefinitionStatus.PUBLISHED)
        .select_related("department")
        .order_by("name", "key")
    )
    return [
        ProcessModel(
            key=d.key,
            name=d.name,
            version=d.version,
            department=(d.department.short_name or d.department.name) if d.department_id else "",
        )
        for d in published
    ]


def model_xml_for_analysis(actor, key: str) -> bytes:
    require(actor, perms.INSIGHT_ANALYSE)
    definition = ProcessDefinition.objects.filter(key=key, status=DefinitionStatus.PUBLISHED).first()
    if definition is None:
        raise NotFound(_("No published process for this item."))
    return definition.bpmn_xml.encode("utf-8")
