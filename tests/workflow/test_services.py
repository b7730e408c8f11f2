"""Running processes through the persistence layer: work items, joins, countersigns, returns, calls."""

import pytest
from django.db import transaction

from tongban.accounts import services as account_services
from tongban.accounts.actors import Actor
from tongban.accounts.models import Department, User
from tongban.core.authz import SYSTEM
from tongban.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from tongban.workflow import services
from tongban.workflow.models import InstanceStatus, ProcessInstance, WorkItem, WorkStatus

from .bpmn_samples import CALL, COUNTERSIGN, EXCLUSIVE, PARALLEL, document


def _actor(username):
    return Actor(User.objects.get(username=username))


def _publish(xml, key="test:process", department="scjgj"):
    return services.publish_definition(
        SYSTEM, key=key, bpmn_xml=xml, department=Department.objects.get(code=department)
    )


def _open(instance, node_id=None):
    qs = WorkItem.objects.filter(instance__subject=instance.subject, status__in=("open", "claimed"))
    return qs.filter(node_id=node_id) if node_id else qs


def _staff(username, department, role):
    account_services.create_staff(
        SYSTEM, username=username, display_name=username, department_code=department, roles=[(role, False)]
    )
    return _actor(username)


def _complete(username, item, decision="approve", data=None, opinion="同意"):
    with transaction.atomic():
        return services.complete(
            _actor(username), item.public_id, decision=decision, opinion=opinion, data=data or {}
        )


def test_definitions_are_checked_and_versioned(db):
    first = _publish(PARALLEL)
    second = _publish(PARALLEL)
    first.refresh_from_db()
    assert (first.version, first.status, second.version, second.status) == (1, "superseded", 2, "published")
    with pytest.raises(InvalidInput) as exc:
        _publish(document('<bpmn:process id="p"><bpmn:startEvent id="s"/></bpmn:process>'))
    assert "bpmn" in exc.value.fields
    with pytest.raises(NotPermitted):
        services.publish_definition(
            _actor("reviewer"), key="x", bpmn_xml=PARALLEL, department=Department.objects.get(code="scjgj")
        )


def test_parallel_departments_then_issue(db):
    _staff("reg_clerk", "xzspj-qyfwk", "reviewer")
    _staff("police", "gaj", "reviewer")
    _staff("taxman", "swj-nsfwk", "reviewer")
    definition = _publish(PARALLEL)
    with transaction.atomic():
        instance, result = services.start(definition, subject="C-1", data={})
    accept = result.created[0]
    assert (accept.node_id, accept.role, accept.department_code, accept.due_at is not None) == (
        "accept",
        "clerk",
        "xzspj-zhslk",
        True,
    )
    assert accept.public_id in set(
        WorkItem.objects.filter(services.worklist_filter(_actor("clerk"))).values_list("public_id", flat=True)
    )
    assert not WorkItem.objects.filter(services.worklist_filter(_actor("reviewer"))).exists()

    _item, step = _complete("clerk", accept)
    assert sorted(w.node_id for w in step.created) == ["reg", "seal", "tax"]
    assert {w.department_code for w in step.created} == {"xzspj-qyfwk", "gaj", "swj-nsfwk"}
    for username, node in (("police", "seal"), ("reg_clerk", "reg")):
        _item, step = _complete(username, _open(instance, node).get())
        assert step.created == [] and not step.completed
    instance = ProcessInstance.objects.get(pk=instance.id)
    assert instance.joins == {"join": 2} and instance.tokens == 3
    _item, step = _complete("taxman", _open(instance, "tax").get())
    assert [w.node_id for w in step.created] == ["issue"]
    _item, step = _complete("clerk", step.created[0])
    instance.refresh_from_db()
    assert step.completed and instance.status == InstanceStatus.COMPLETED and instance.tokens == 0


def test_one_of_two_people_finishing_a_step_wins(db):
    _staff("clerk2", "xzspj-zhslk", "clerk")
    definition = _publish(PARALLEL)
    _instance, result = services.start(definition, subject="C-2", data={})
    item = result.created[0]
    _complete("clerk", item)
    with pytest.raises(Conflict):
        _complete("clerk2", item)
    assert WorkItem.objects.get(pk=item.id).completed_by.username == "clerk"


def test_claims_race_and_strangers_are_kept_out(db):
    _staff("clerk2", "xzspj-zhslk", "clerk")
    definition = _publish(PARALLEL)
    _instance, result = services.start(definition, subject="C-3", data={})
    item = result.created[0]
    services.claim(_actor("clerk"), item.public_id)
    with pytest.raises(Conflict):
        services.claim(_actor("clerk2"), item.public_id)
    with pytest.raises(NotFound):  # a reviewer of another department does not even see it
        services.claim(_actor("reviewer_rs"), item.public_id)
    with pytest.raises(Conflict):  # claimed by clerk: clerk2 cannot complete it either
        _complete("clerk2", item)
    with pytest.raises(InvalidInput):
        _complete("clerk", item, decision="maybe")


@pytest.mark.parametrize("area,steps", [(800, ["review", "head"]), (100, ["review"])])
def test_exclusive_gateway_and_script_task_on_case_data(db, area, steps):
    definition = _publish(EXCLUSIVE)
    _instance, result = services.start(definition, subject=f"C-{area}", data={"area": area})
    done = []
    item = result.created[0]
    while item is not None:
        username = "section_head" if item.role == "section_head" else "reviewer"
        _item, step = _complete(username, item, data={"area": area})
        done.append(item.node_id)
        item = step.created[0] if step.created else None
    assert done == steps and step.completed and step.data["decided"] is True


@pytest.mark.parametrize(
    "decisions,ending",
    [
        (["approve", "approve"], "end_ok"),
        (["reject", "reject"], "end_no"),
    ],
)
def test_countersign_two_of_three(db, decisions, ending):
    definition = _publish(COUNTERSIGN)
    _instance, result = services.start(
        definition, subject="CS", data={"signers": ["reviewer", "section_head", "bureau_head"]}
    )
    assert len(result.created) == 3 and all(w.status == WorkStatus.CLAIMED for w in result.created)
    names = dict(User.objects.values_list("id", "username"))
    items = {names[w.assignee_id]: w for w in result.created}
    _item, step = _complete("reviewer", items["reviewer"], decisions[0])
    assert not step.completed
    _item, step = _complete("section_head", items["section_head"], decisions[1])
    assert step.completed and ending in step.passed
    assert WorkItem.objects.get(pk=items["bureau_head"].id).status == WorkStatus.CANCELLED


def test_return_to_previous_goes_back_to_who_did_it(db):
    definition = _publish(EXCLUSIVE)
    _instance, result = services.start(definition, subject="RET", data={"area": 800})
    _item, step = _complete("reviewer", result.created[0], data={"area": 800})
    head = step.created[0]
    with pytest.raises(InvalidInput):
        services.return_to_previous(_actor("section_head"), head.public_id, opinion="")
    again = services.return_to_previous(
        _actor("section_head"), head.public_id, opinion="面积数据有误，请核实"
    )
    assert (again.node_id, again.assignee.username, again.status) == ("review", "reviewer", "claimed")
    assert WorkItem.objects.get(pk=head.id).status == WorkStatus.RETURNED
    with pytest.raises(Conflict):  # the first step has nothing before it
        services.return_to_previous(_actor("reviewer"), again.public_id, opinion="x")


def test_transfer_and_add_countersigner(db):
    _staff("reviewer2", "scjgj-spjyk", "reviewer")
    definition = _publish(EXCLUSIVE)
    _instance, result = services.start(definition, subject="TR", data={"area": 100})
    item = services.claim(_actor("reviewer"), result.created[0].public_id)
    with pytest.raises(InvalidInput):  # not a reviewer of this section
        services.transfer(_actor("reviewer"), item.public_id, to_username="reviewer_rs")
    services.transfer(_actor("reviewer"), item.public_id, to_username="reviewer2")
    extra = services.add_countersigner(_actor("reviewer2"), item.public_id, username="section_head")
    _i, step = _complete("reviewer2", item, data={"area": 100})
    assert not step.completed  # the added signer has not signed yet
    _i, step = _complete("section_head", extra, data={"area": 100})
    assert step.completed


def test_call_activity_runs_the_child_then_the_parent(db):
    definition = _publish(CALL)
    instance, result = services.start(
        definition, subject="CALL", data={}, default_department=Department.objects.get(code="scjgj-spjyk")
    )
    child_work = result.created[0]
    child = ProcessInstance.objects.get(pk=child_work.instance_id)
    assert child_work.node_id == "work" and child.parent_id == instance.id
    _i, step = _complete("reviewer", child_work)
    assert [w.node_id for w in step.created] == ["issue"]
    assert ProcessInstance.objects.get(pk=child_work.instance_id).status == InstanceStatus.COMPLETED


def test_a_colleague_cannot_transfer_or_return_a_step_someone_else_holds(db):
    _staff("reviewer2", "scjgj-spjyk", "reviewer")
    definition = _publish(EXCLUSIVE)
    _instance, result = services.start(definition, subject="HOLD", data={"area": 100})
    item = services.claim(_actor("reviewer"), result.created[0].public_id)
    with pytest.raises(Conflict):
        services.transfer(_actor("reviewer2"), item.public_id, to_username="reviewer2")
    with pytest.raises(Conflict):
        services.add_countersigner(_actor("reviewer2"), item.public_id, username="section_head")
    # The section head oversees the section and may reassign.
    services.transfer(_actor("section_head"), item.public_id, to_username="reviewer2")
    assert WorkItem.objects.get(pk=item.id).assignee.username == "reviewer2"


def test_a_terminate_end_event_cancels_the_open_steps_and_ends_the_instance(db):
    from .test_engine_elements import TERMINATE

    definition = _publish(TERMINATE)
    instance, result = services.start(
        definition, subject="TERM", data={}, default_department=Department.objects.get(code="scjgj-spjyk")
    )
    items = {w.node_id: w for w in result.created}
    assert set(items) == {"review", "check"}
    _i, step = _complete("reviewer", items["check"], decision="reject")
    assert step.completed
    assert WorkItem.objects.get(pk=items["review"].id).status == WorkStatus.CANCELLED
    instance = ProcessInstance.objects.get(pk=instance.id)
    assert (instance.status, instance.tokens) == (InstanceStatus.COMPLETED, 0)


def test_a_standard_loop_gives_the_step_again_until_its_condition_fails(db):
    from .test_engine_elements import LOOP

    definition = _publish(LOOP.replace('name="补正"', 'name="补正" tb:department="scjgj-spjyk"'))
    _instance, result = services.start(
        definition, subject="LOOP", data={}, default_department=Department.objects.get(code="scjgj-spjyk")
    )
    _i, step = _complete("reviewer", result.created[0], decision="reject")
    assert [w.node_id for w in step.created] == ["fix"] and not step.completed
    _i, step = _complete("reviewer", step.created[0], decision="approve")
    assert step.completed


def test_a_parallel_multi_instance_task_moves_on_when_every_instance_is_done(db):
    from .test_engine_elements import MULTI

    definition = _publish(
        MULTI.replace('name="联合踏勘"', 'name="联合踏勘" tb:department="scjgj-spjyk"').replace(
            'name="出证"', 'name="出证" tb:department="scjgj-spjyk"'
        )
    )
    _instance, result = services.start(
        definition, subject="MI", data={}, default_department=Department.objects.get(code="scjgj-spjyk")
    )
    assert [w.node_id for w in result.created] == ["sign", "sign", "sign"]
    assert len({w.group for w in result.created}) == 1
    for item in result.created[:2]:
        _i, step = _complete("reviewer", item)
        assert step.created == []
    _i, step = _complete("reviewer", result.created[2])
    assert [w.node_id for w in step.created] == ["after"]


def test_timers_fire_when_due_and_never_for_a_step_already_done(db):
    import datetime as dt

    from django.utils import timezone

    from tongban.workflow.models import Timer, TimerStatus

    from .test_engine_elements import TIMERS

    definition = _publish(TIMERS)
    now = timezone.now()
    instance, result = services.start(definition, subject="TIMER", data={}, now=now)
    review = result.created[0]
    timers = {t.node_id: t for t in Timer.objects.filter(instance_id=instance.id)}
    assert set(timers) == {"overdue", "nudge"}
    assert timers["nudge"].due_at == now + dt.timedelta(hours=2)
    assert timers["overdue"].due_at > now + dt.timedelta(days=2)  # three working days
    assert services.due_timers(now + dt.timedelta(hours=1)) == []
    later = now + dt.timedelta(hours=3)
    assert [t.node_id for t in services.due_timers(later)] == ["nudge"]
    with transaction.atomic():
        step = services.fire_timer(timers["nudge"].pk, data={}, now=later)
    assert [w.node_id for w in step.created] == ["remind"]
    assert WorkItem.objects.get(pk=review.id).status == WorkStatus.OPEN  # not interrupted
    with transaction.atomic():
        step = services.fire_timer(timers["overdue"].pk, data={}, now=now + dt.timedelta(days=10))
    assert [w.node_id for w in step.created] == ["head"]
    assert WorkItem.objects.get(pk=review.id).status == WorkStatus.CANCELLED
    assert Timer.objects.get(pk=timers["overdue"].pk).status == TimerStatus.FIRED


def test_an_intermediate_timer_waits_then_the_process_goes_on(db):
    import datetime as dt

    from django.utils import timezone

    from tongban.workflow.models import Timer, TimerStatus

    from .test_engine_elements import TIMERS

    definition = _publish(TIMERS)
    now = timezone.now()
    instance, result = services.start(definition, subject="WAIT", data={}, now=now)
    _i, step = _complete("reviewer", result.created[0])
    assert not step.completed
    cool = Timer.objects.get(instance_id=instance.id, node_id="cool_off")
    stale = Timer.objects.get(instance_id=instance.id, node_id="overdue")
    with transaction.atomic():
        assert (
            services.fire_timer(stale.pk, data={}, now=now + dt.timedelta(days=30)) is None
        )  # its step is done
    assert Timer.objects.get(pk=stale.pk).status == TimerStatus.CANCELLED
    with transaction.atomic():
        step = services.fire_timer(cool.pk, data={}, now=now + dt.timedelta(days=8))
    assert step.completed
    assert ProcessInstance.objects.get(pk=instance.id).status == InstanceStatus.COMPLETED
