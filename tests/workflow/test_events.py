"""Message, signal and conditional events, event-based gateways and event subprocesses, run through
the persistence layer (subscriptions and timers in the database) and compared with SpiffWorkflow.

The differential harness runs a definition in our services and in SpiffWorkflow with the same
messages delivered at the same moments: before each round of user tasks, the messages listed for
that round come from outside (other systems); then every open user task is approved. Both must open
the same user tasks round by round and end the same way."""

import datetime as dt
from pathlib import Path

import pytest
from django.db import transaction

from tests.conftest import shared_data_dir
from tongban.accounts import services as account_services
from tongban.accounts.actors import Actor
from tongban.accounts.models import Department, User
from tongban.core.authz import SYSTEM
from tongban.core.errors import Conflict
from tongban.workflow import bpmn, check, services
from tongban.workflow.models import (
    InstanceStatus,
    ProcessInstance,
    Subscription,
    Timer,
    TimerStatus,
    WorkItem,
)

from .bpmn_samples import document

MAX_ROUNDS = 30


def _process(body: str, process_id: str = "p") -> str:
    return document(f'<bpmn:process id="{process_id}" isExecutable="true">{body}</bpmn:process>') + ""


def _flows(*pairs: str) -> str:
    return "".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, pair in enumerate(pairs)
        for a, b in [pair.split(">")]
    )


MESSAGES = (
    '<bpmn:message id="m_fix" name="补正材料"/><bpmn:message id="m_withdraw" name="撤回"/>'
    '<bpmn:message id="m_apply" name="申请"/><bpmn:message id="m_paid" name="缴费"/>'
    '<bpmn:message id="m_notice" name="通知"/><bpmn:signal id="s_go" name="放行"/>'
    '<bpmn:error id="e_bad" errorCode="BAD"/>'
)


def sample(body: str) -> str:
    return document(f'<bpmn:process id="p" isExecutable="true">{body}</bpmn:process>{MESSAGES}')


EVENT_GATEWAY = sample(
    '<bpmn:startEvent id="s"/><bpmn:userTask id="review" name="审查"/>'
    '<bpmn:eventBasedGateway id="g"/>'
    '<bpmn:intermediateCatchEvent id="fixed"><bpmn:messageEventDefinition messageRef="m_fix"/>'
    "</bpmn:intermediateCatchEvent>"
    '<bpmn:intermediateCatchEvent id="withdrawn"><bpmn:messageEventDefinition messageRef="m_withdraw"/>'
    "</bpmn:intermediateCatchEvent>"
    '<bpmn:intermediateCatchEvent id="lapse"><bpmn:timerEventDefinition><bpmn:timeDuration>"P10D"'
    "</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    '<bpmn:userTask id="recheck" name="复查"/><bpmn:userTask id="close" name="终止"/>'
    '<bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/><bpmn:endEvent id="e3"/>'
    + _flows(
        "s>review",
        "review>g",
        "g>fixed",
        "g>withdrawn",
        "g>lapse",
        "fixed>recheck",
        "recheck>e1",
        "withdrawn>e2",
        "lapse>close",
        "close>e3",
    )
)

MESSAGE_START = sample(
    '<bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="m_apply"/></bpmn:startEvent>'
    '<bpmn:userTask id="review" name="审查"/>'
    '<bpmn:receiveTask id="pay" name="等待缴费" messageRef="m_paid"/>'
    '<bpmn:sendTask id="notify" name="通知申请人" messageRef="m_notice"/>'
    '<bpmn:userTask id="issue" name="出件"/><bpmn:endEvent id="e"/>'
    + _flows("s>review", "review>pay", "pay>notify", "notify>issue", "issue>e")
)

SIGNAL = sample(
    '<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/><bpmn:parallelGateway id="join"/>'
    '<bpmn:userTask id="a" name="先办"/>'
    '<bpmn:intermediateThrowEvent id="go"><bpmn:signalEventDefinition signalRef="s_go"/>'
    "</bpmn:intermediateThrowEvent>"
    '<bpmn:intermediateCatchEvent id="wait"><bpmn:signalEventDefinition signalRef="s_go"/>'
    "</bpmn:intermediateCatchEvent>"
    '<bpmn:userTask id="b" name="后办"/><bpmn:endEvent id="e"/>'
    + _flows("s>fork", "fork>a", "a>go", "go>join", "fork>wait", "wait>b", "b>join", "join>e")
)

BOUNDARY_MESSAGE = sample(
    '<bpmn:startEvent id="s"/><bpmn:userTask id="review" name="审查"/>'
    '<bpmn:boundaryEvent id="withdraw" attachedToRef="review">'
    '<bpmn:messageEventDefinition messageRef="m_withdraw"/></bpmn:boundaryEvent>'
    '<bpmn:boundaryEvent id="fix" attachedToRef="review" cancelActivity="false">'
    '<bpmn:messageEventDefinition messageRef="m_fix"/></bpmn:boundaryEvent>'
    '<bpmn:userTask id="archive" name="归档"/><bpmn:userTask id="look" name="查看补正"/>'
    '<bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/><bpmn:endEvent id="e3"/>'
    + _flows("s>review", "review>e1", "withdraw>archive", "archive>e2", "fix>look", "look>e3")
)

CONDITIONAL = sample(
    '<bpmn:startEvent id="s"/><bpmn:parallelGateway id="fork"/><bpmn:parallelGateway id="join"/>'
    '<bpmn:userTask id="a" name="初审"/>'
    '<bpmn:intermediateCatchEvent id="ready"><bpmn:conditionalEventDefinition>'
    '<bpmn:condition>a_decision == "approve"</bpmn:condition></bpmn:conditionalEventDefinition>'
    "</bpmn:intermediateCatchEvent>"
    '<bpmn:userTask id="b" name="复审"/><bpmn:endEvent id="e"/>'
    + _flows("s>fork", "fork>a", "a>join", "fork>ready", "ready>b", "b>join", "join>e")
)


def _eventsub(interrupting: bool) -> str:
    flag = "true" if interrupting else "false"
    return sample(
        '<bpmn:startEvent id="s"/><bpmn:userTask id="review" name="审查"/>'
        '<bpmn:userTask id="approve" name="审批"/><bpmn:endEvent id="e"/>'
        + _flows("s>review", "review>approve", "approve>e")
        + '<bpmn:subProcess id="on_withdraw" triggeredByEvent="true">'
        f'<bpmn:startEvent id="ws" isInterrupting="{flag}">'
        '<bpmn:messageEventDefinition messageRef="m_withdraw"/>'
        '</bpmn:startEvent><bpmn:userTask id="archive" name="归档"/><bpmn:endEvent id="we"/>'
        '<bpmn:sequenceFlow id="w1" sourceRef="ws" targetRef="archive"/>'
        '<bpmn:sequenceFlow id="w2" sourceRef="archive" targetRef="we"/></bpmn:subProcess>'
    )


ERROR_EVENTSUB = sample(
    '<bpmn:startEvent id="s"/><bpmn:userTask id="review" name="审查"/>'
    '<bpmn:endEvent id="bad"><bpmn:errorEventDefinition errorRef="e_bad"/></bpmn:endEvent>'
    + _flows("s>review", "review>bad")
    + '<bpmn:subProcess id="on_error" triggeredByEvent="true">'
    '<bpmn:startEvent id="es"><bpmn:errorEventDefinition errorRef="e_bad"/></bpmn:startEvent>'
    '<bpmn:userTask id="handle" name="处理差错"/><bpmn:endEvent id="ee"/>'
    '<bpmn:sequenceFlow id="w1" sourceRef="es" targetRef="handle"/>'
    '<bpmn:sequenceFlow id="w2" sourceRef="handle" targetRef="ee"/></bpmn:subProcess>'
)


# --- the two harnesses ------------------------------------------------------------------------------


def ours(xml: str, messages: dict[int, list[str]], data: dict | None = None):
    """Rounds of open user tasks and whether the process ended, through our services and database."""
    department = Department.objects.get(code="scjgj")
    definition = services.publish_definition(SYSTEM, key="test:events", bpmn_xml=xml, department=department)
    data = dict(data or {})
    with transaction.atomic():
        instance, result = services.start(
            definition, subject="EV-1", data=data, default_department=department
        )
    data.update(result.data)
    actor = Actor(User.objects.get(username="ev_reviewer"))
    rounds = []
    while len(rounds) < MAX_ROUNDS:
        for name in messages.get(len(rounds) + 1, []):
            with transaction.atomic():
                step = services.deliver_message(
                    "EV-1", name, payload={}, data=data, default_department=department
                )
            data.update(step.data)
        items = list(
            WorkItem.objects.filter(subject="EV-1", status__in=("open", "claimed")).order_by("node_id", "pk")
        )
        if not items:
            break
        rounds.append(sorted(i.node_id for i in items))
        for item in items:
            item.refresh_from_db()
            if not item.is_open:
                continue
            with transaction.atomic():
                _item, step = services.complete(
                    actor,
                    item.public_id,
                    decision="approve",
                    opinion="",
                    data=data,
                    default_department=department,
                )
            data.update(step.data)
    instance = ProcessInstance.objects.get(subject="EV-1", parent__isnull=True)
    return rounds, instance.status == InstanceStatus.COMPLETED


def spiff(xml: str, messages: dict[int, list[str]], data: dict | None = None):
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
    from SpiffWorkflow.bpmn.util.event import BpmnEvent
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    parser = BpmnParser()
    parser.add_bpmn_str(xml.encode())
    process_id = check._root_process(bpmn.parse(xml)).id
    workflow = BpmnWorkflow(parser.get_spec(process_id), parser.get_subprocess_specs(process_id))
    workflow.task_tree.data.update(data or {})
    for task in workflow.get_tasks():
        task.data.update(data or {})
    workflow.do_engine_steps()
    rounds = []
    while len(rounds) < MAX_ROUNDS:
        for name in messages.get(len(rounds) + 1, []):
            workflow.catch(BpmnEvent(MessageEventDefinition(name), {}))
            workflow.do_engine_steps()
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            break
        rounds.append(sorted(t.task_spec.bpmn_id for t in ready))
        for task in sorted(ready, key=lambda t: t.task_spec.bpmn_id):
            task.data.update({"decision": "approve", f"{task.task_spec.bpmn_id}_decision": "approve"})
            task.run()
            workflow.do_engine_steps()
    return rounds, workflow.is_completed()


@pytest.fixture
def reviewer(db):
    account_services.create_staff(
        SYSTEM,
        username="ev_reviewer",
        display_name="ev",
        department_code="scjgj",
        roles=[("reviewer", False)],
    )


CASES = [
    ("event gateway: a message wins", EVENT_GATEWAY, {2: ["补正材料"]}),
    ("event gateway: the other message wins", EVENT_GATEWAY, {2: ["撤回"]}),
    ("message start, receive and send tasks", MESSAGE_START, {1: ["申请"], 2: ["缴费"]}),
    ("message start that never comes", MESSAGE_START, {}),
    ("signal thrown and caught", SIGNAL, {}),
    ("interrupting boundary message", BOUNDARY_MESSAGE, {1: ["撤回"]}),
    ("non-interrupting boundary message", BOUNDARY_MESSAGE, {1: ["补正材料"]}),
    ("non-interrupting event subprocess", _eventsub(False), {2: ["撤回"]}),
]


@pytest.mark.parametrize("name,xml,messages", CASES, ids=[c[0] for c in CASES])
def test_events_run_the_same_as_in_spiffworkflow(reviewer, name, xml, messages):
    assert bpmn.parse(xml).ok, bpmn.parse(xml).problems
    data = {"a_decision": ""}  # the conditional event's condition reads it before the step is done
    assert ours(xml, messages, data) == spiff(xml, messages, data)


def test_an_interrupting_event_subprocess_ends_the_rest_of_the_process(reviewer):
    # SpiffWorkflow 3.2 leaves the process's steps open beside an interrupting event subprocess;
    # BPMN (10.3.5) interrupts them, and so do we.
    assert ours(_eventsub(True), {2: ["撤回"]}) == ([["review"], ["archive"]], True)
    assert WorkItem.objects.get(subject="EV-1", node_id="approve").status == "cancelled"
    assert not Subscription.objects.filter(subject="EV-1", status=TimerStatus.WAITING).exists()


def test_an_error_event_subprocess_takes_over_when_the_process_throws_its_error(reviewer):
    # SpiffWorkflow 3.2 opens the handler at once, before any error is thrown; BPMN starts it on the error.
    assert ours(ERROR_EVENTSUB, {}) == ([["review"], ["handle"]], True)


def test_a_conditional_event_fires_when_the_case_data_makes_its_condition_hold(reviewer):
    # Our case data is one for the whole case (SpiffWorkflow keeps data per branch until a join, so its
    # catch event never sees what the other branch decided: not compared).
    assert ours(CONDITIONAL, {}, {"a_decision": ""}) == ([["a"], ["b"]], True)
    rejected = CONDITIONAL.replace(
        '<bpmn:userTask id="a" name="初审"/>', '<bpmn:userTask id="a" name="初审"/>'
    )
    assert bpmn.parse(rejected).ok


def test_the_event_gateway_race_cancels_the_losers_and_keeps_nothing_waiting(reviewer):
    rounds, ended = ours(EVENT_GATEWAY, {2: ["补正材料"]})
    assert (rounds, ended) == ([["review"], ["recheck"]], True)
    assert not Subscription.objects.filter(subject="EV-1", status=TimerStatus.WAITING).exists()
    assert Timer.objects.get(subject="EV-1", node_id="lapse").status == TimerStatus.CANCELLED


def test_a_message_nobody_waits_for_is_a_conflict_and_changes_nothing(reviewer):
    department = Department.objects.get(code="scjgj")
    definition = services.publish_definition(
        SYSTEM, key="test:events", bpmn_xml=MESSAGE_START, department=department
    )
    with transaction.atomic():
        services.start(definition, subject="EV-2", data={}, default_department=department)
    assert services.waiting_events("EV-2") == [{"node": "s", "trigger": "message:申请"}]
    with pytest.raises(Conflict) as exc, transaction.atomic():
        services.deliver_message("EV-2", "缴费", payload={}, data={})
    assert "缴费" in str(exc.value.message)
    assert services.waiting_events("EV-2") == [{"node": "s", "trigger": "message:申请"}]


def test_a_caught_message_keeps_its_payload_under_the_message_variable(reviewer):
    xml = MESSAGE_START.replace(
        '<bpmn:receiveTask id="pay" name="等待缴费" messageRef="m_paid"/>',
        '<bpmn:receiveTask id="pay" name="等待缴费" messageRef="m_paid"><bpmn:extensionElements>'
        '<spiffworkflow:messageVariable xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core">'
        "payment</spiffworkflow:messageVariable></bpmn:extensionElements></bpmn:receiveTask>",
    )
    department = Department.objects.get(code="scjgj")
    definition = services.publish_definition(SYSTEM, key="test:events", bpmn_xml=xml, department=department)
    with transaction.atomic():
        services.start(definition, subject="EV-3", data={}, default_department=department)
        services.deliver_message("EV-3", "申请", payload={}, data={}, default_department=department)
    item = WorkItem.objects.get(subject="EV-3", node_id="review")
    with transaction.atomic():
        services.complete(
            Actor(User.objects.get(username="ev_reviewer")), item.public_id, decision="approve", data={}
        )
        step = services.deliver_message("EV-3", "缴费", payload={"amount": 200}, data={})
    assert step.data["payment"] == {"amount": 200}
    assert step.sent == [("notify", "message:通知", False)]  # nobody in the case waits: it goes out


def test_timers_of_a_paused_case_stand_still_and_move_out_by_the_pause(reviewer):
    department = Department.objects.get(code="scjgj")
    definition = services.publish_definition(
        SYSTEM, key="test:events", bpmn_xml=EVENT_GATEWAY, department=department
    )
    start = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    with transaction.atomic():
        services.start(definition, subject="EV-4", data={}, default_department=department, now=start)
    item = WorkItem.objects.get(subject="EV-4", node_id="review")
    with transaction.atomic():
        services.complete(
            Actor(User.objects.get(username="ev_reviewer")),
            item.public_id,
            decision="approve",
            data={},
            now=start,
        )
    timer = Timer.objects.get(subject="EV-4", node_id="lapse")
    assert timer.due_at == start + dt.timedelta(days=10)
    services.pause_subject("EV-4", start + dt.timedelta(days=9))
    assert services.due_timers(start + dt.timedelta(days=11)) == []  # paused: it stands still
    services.resume_subject("EV-4", 0.0, start + dt.timedelta(days=12))
    timer.refresh_from_db()
    assert timer.due_at == start + dt.timedelta(days=13)  # three days of pause added
    assert services.due_timers(start + dt.timedelta(days=12, hours=1)) == []
    assert [t.pk for t in services.due_timers(start + dt.timedelta(days=13))] == [timer.pk]


def test_unsupported_event_placements_are_refused_once_naming_the_element():
    nested = sample(
        '<bpmn:startEvent id="s"/><bpmn:subProcess id="sub"><bpmn:startEvent id="in">'
        '<bpmn:messageEventDefinition messageRef="m_fix"/></bpmn:startEvent><bpmn:endEvent id="ie"/>'
        '<bpmn:sequenceFlow id="i1" sourceRef="in" targetRef="ie"/></bpmn:subProcess><bpmn:endEvent id="e"/>'
        + _flows("s>sub", "sub>e")
    )
    assert [(p.element, p.code) for p in bpmn.parse(nested).problems] == [("in", "unsupported")]
    gateway = sample(
        '<bpmn:startEvent id="s"/><bpmn:eventBasedGateway id="g"/><bpmn:userTask id="t"/>'
        '<bpmn:intermediateCatchEvent id="c"><bpmn:messageEventDefinition messageRef="m_fix"/>'
        '</bpmn:intermediateCatchEvent><bpmn:endEvent id="e"/>' + _flows("s>g", "g>t", "g>c", "t>e", "c>e")
    )
    assert [(p.element, p.code) for p in bpmn.parse(gateway).problems] == [("g", "event_gateway")]
    on_script = sample(
        '<bpmn:startEvent id="s"/><bpmn:subProcess id="sub"><bpmn:startEvent id="in"/>'
        '<bpmn:endEvent id="ie"/><bpmn:sequenceFlow id="i1" sourceRef="in" targetRef="ie"/></bpmn:subProcess>'
        '<bpmn:endEvent id="e"/><bpmn:boundaryEvent id="b" attachedToRef="sub">'
        '<bpmn:signalEventDefinition signalRef="s_go"/>'
        '</bpmn:boundaryEvent><bpmn:endEvent id="be"/>' + _flows("s>sub", "sub>e", "b>be")
    )
    assert [(p.element, p.code) for p in bpmn.parse(on_script).problems] == [("b", "unsupported")]


# --- the shared SpiffWorkflow files with events ----------------------------------------------------


EVENT_KINDS = {"catch", "eventgw", "eventsub"}


def _event_files() -> list[Path]:
    data = shared_data_dir()
    folder = Path(data) / "bpmn" / "spiffworkflow" if data else None
    if folder is None or not folder.is_dir():
        pytest.skip("shared data (../shared/data, or TONGBAN_DATA_DIR) has no bpmn/spiffworkflow: skipped")
    return sorted(folder.glob("*.bpmn"))


# What each file waits for from outside, by round (as SpiffWorkflow's own tests send it).
SHARED_MESSAGES = {
    "tests_SpiffWorkflow_bpmn_data_event-gateway.bpmn": {1: ["message_2"]},
    "tests_SpiffWorkflow_bpmn_data_return_to_event.bpmn": {1: ["basic_message"]},
    "tests_SpiffWorkflow_bpmn_data_start_event_split.bpmn": {1: ["message_1"]},
    "tests_SpiffWorkflow_bpmn_data_multiple-start.bpmn": {1: ["message_2"]},
    "tests_SpiffWorkflow_spiff_data_waiting_event.bpmn": {2: ["Example manual task"]},
}


def test_the_spiffworkflow_files_with_events_run_the_same_in_both_engines(reviewer):
    compared, differences = [], []
    for path in _event_files():
        xml = path.read_text(encoding="utf-8")
        result = bpmn.parse(xml)
        if not (result.ok and result.processes) or len(result.processes) != 1:
            continue
        graph = next(iter(result.processes.values()))
        kinds = {n.kind for n in graph.nodes.values()} | {
            "catch" for n in graph.nodes.values() if n.kind in ("start", "boundary") and n.triggers
        }
        if not kinds & EVENT_KINDS or "call" in kinds:
            continue
        messages = SHARED_MESSAGES.get(path.name, {})
        try:
            reference = spiff(xml, messages)
        except Exception:  # noqa: S112  (SpiffWorkflow needs its own script engine or data for it)
            continue
        WorkItem.objects.filter(subject="EV-1").delete()
        ProcessInstance.objects.filter(subject="EV-1").delete()
        mine = ours(xml, messages)
        compared.append(path.name)
        if mine != reference:
            differences.append((path.name, mine, reference))
    assert differences == []
    assert len(compared) >= 4, compared


def test_a_parallel_multi_instance_task_collects_its_work_items_decisions_in_order(reviewer):
    xml = sample(
        '<bpmn:startEvent id="s"/><bpmn:userTask id="sign" name="会签">'
        '<bpmn:multiInstanceLoopCharacteristics isSequential="false"><bpmn:loopCardinality>2'
        "</bpmn:loopCardinality><bpmn:loopDataOutputRef>opinions</bpmn:loopDataOutputRef>"
        '</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask><bpmn:endEvent id="e"/>'
        + _flows("s>sign", "sign>e")
    )
    department = Department.objects.get(code="scjgj")
    definition = services.publish_definition(SYSTEM, key="test:events", bpmn_xml=xml, department=department)
    with transaction.atomic():
        _instance, started = services.start(
            definition, subject="EV-5", data={}, default_department=department
        )
    assert started.data["opinions"] == []
    actor = Actor(User.objects.get(username="ev_reviewer"))
    first, second = WorkItem.objects.filter(subject="EV-5").order_by("pk")
    data = dict(started.data)
    with transaction.atomic():
        services.complete(actor, second.public_id, decision="approve", opinion="", data=data)
    with transaction.atomic():
        _item, done = services.complete(actor, first.public_id, decision="reject", opinion="", data=data)
    assert done.data["opinions"] == ["reject", "approve"]  # in instance order, not in the order done
    assert done.completed


def test_another_engines_payload_expression_on_a_signal_is_refused_once_on_the_signal():
    xml = SIGNAL.replace(
        '<bpmn:signal id="s_go" name="放行"/>',
        '<bpmn:signal id="s_go" name="放行"><bpmn:extensionElements>'
        '<spiffworkflow:payloadExpression xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core">'
        "{'a': v}</spiffworkflow:payloadExpression></bpmn:extensionElements></bpmn:signal>",
    )
    problems = bpmn.parse(xml).problems
    assert [(p.element, p.code) for p in problems] == [("s_go", "script")]  # thrown and caught: one cause
    assert "payloadExpression" in str(problems[0].message) and "放行" in str(problems[0].message)
