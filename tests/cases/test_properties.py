"""Property tests: random sequences of staff and applicant actions never leave a case inconsistent.

Each example files a fresh case and plays up to 25 actions, each at a random later time, chosen
from everything a clerk, a reviewer, a section head and the applicant can try — including actions
that are not allowed in the current state. After every action:

- a refused action changed nothing (the case row, its events and its steps are as before);
- every case in progress has an open step or waits (补正, special procedure); a case that waits on
  the applicant has its clock stopped; a closed case has no open step;
- paused time never counts: the paused days equal the working time of the pauses in the event log,
  and the promised date is the limit plus exactly that;
- the event log replays to the case's state (status, decision, pause).
"""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import samples
from tongban.cases import services
from tongban.cases.models import Case, CaseStatus
from tongban.cases.replay import replay
from tongban.catalog.models import ServiceItem
from tongban.core import calendar, events
from tongban.core.errors import DomainError
from tongban.workflow.models import WorkItem

from .test_lifecycle import MONDAY, _actor, _data, _item

ACTIONS = [
    "accept",
    "accept_with_gap",
    "supplement_before",
    "claim",
    "approve",
    "reject",
    "return_to_applicant",
    "respond",
    "respond_paper",
    "start_procedure",
    "end_procedure",
    "withdraw",
    "refuse",
    "issue",
    "rate",
]
STAFF = ("reviewer", "section_head")


def _snapshot(case_id):
    case = Case.objects.get(pk=case_id)
    return (
        case.status,
        case.decision,
        case.paused_days,
        case.paused_since,
        case.pause_reason,
        case.due_at,
        len(events.history("case", case.number)),
        sorted(WorkItem.objects.filter(subject=case.number).values_list("status", "assignee_id", "id")),
    )


def _open_steps(case):
    return list(WorkItem.objects.filter(subject=case.number, status__in=("open", "claimed"), kind="step"))


def _act(action: str, case: Case, now):
    number = case.number
    steps = _open_steps(case)
    if action == "accept":
        return services.accept(_actor("clerk"), number, now=now)
    if action == "accept_with_gap":
        return services.accept(_actor("clerk"), number, missing=["管理制度"], now=now)
    if action == "supplement_before":
        return services.request_supplement(
            _actor("clerk"), number, items=[{"material": "平面图", "reason": "看不清"}], now=now
        )
    if action == "refuse":
        return services.refuse(_actor("clerk"), number, reason="不符合条件", now=now)
    if action == "issue":
        return services.issue(_actor("clerk"), number, delivery="online", now=now)
    if action == "withdraw":
        return services.withdraw(_actor("zhangsan"), number, now=now)
    if action == "rate":
        return services.rate(_actor("zhangsan"), number, score=2, comment="太慢", now=now)
    if action in ("respond", "respond_paper"):
        requested = list(case.materials.filter(status="requested").values_list("name", flat=True))
        if action == "respond_paper":
            return services.respond_supplement(_actor("clerk"), number, paper=requested, now=now)
        return services.respond_supplement(
            _actor("zhangsan"), number, files={n: samples.upload() for n in requested}, now=now
        )
    if not steps:
        raise DomainError("no open step")
    step = steps[0]
    who = "reviewer" if step.role == "reviewer" else "section_head"
    if action == "claim":
        return services.claim_work(_actor(who), step.public_id)
    if action in ("approve", "reject"):
        return services.complete_work(
            _actor(who), step.public_id, decision=action, opinion="依法审查", now=now
        )
    if action == "return_to_applicant":
        return services.request_supplement(
            _actor(who),
            number,
            items=[{"material": "消防意见", "reason": "缺少"}],
            work_id=step.public_id,
            now=now,
        )
    if action == "start_procedure":
        return services.start_procedure(_actor(who), number, kind="expert_review", reason="专家评审", now=now)
    if action == "end_procedure":
        return services.end_procedure(_actor(who), number, result="通过", now=now)
    raise AssertionError(action)


def _check(case_id, start):
    case = Case.objects.get(pk=case_id)
    steps = _open_steps(case)
    if case.status == CaseStatus.IN_PROGRESS:
        assert steps or case.pause_reason, "a case in progress has an open step or waits"
    if case.status == CaseStatus.SUPPLEMENT:
        assert case.pause_reason == "supplement"
        assert (case.paused_since is not None) == (case.accepted_at is not None)
    if case.status in (CaseStatus.DECIDED, CaseStatus.ISSUED, CaseStatus.WITHDRAWN, CaseStatus.NOT_ACCEPTED):
        assert not steps, "a closed case has no open step"
        assert case.paused_since is None
    state = replay(events.history("case", case.number))
    assert (state.status, state.decision, state.pause_reason) == (
        case.status,
        case.decision,
        case.pause_reason,
    )
    assert state.paused_days == pytest.approx(case.paused_days, abs=1e-9)
    if case.accepted_at is not None and case.limit_days is not None and case.status != CaseStatus.DECIDED:
        expected = calendar.get_calendar().instant_of(case.accepted_at, case.limit_days + case.paused_days)
        if case.due_at is not None and not case.by_commitment:
            assert case.due_at == expected, "the promised date is the limit plus the paused time, exactly"


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(
    plan=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(min_value=1, max_value=60)), min_size=1, max_size=25
    )
)
def test_random_actions_never_leave_a_case_inconsistent(plan):
    code = "PROP-ITEM"
    if not ServiceItem.objects.filter(code=code).exists():
        _item(code=code)
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data(), now=MONDAY)
    now = MONDAY
    for action, hours in plan:
        now = now + dt.timedelta(hours=hours)
        before = _snapshot(case.pk)
        try:
            _act(action, Case.objects.get(pk=case.pk), now)
        except DomainError:
            assert _snapshot(case.pk) == before, f"refused {action} changed something"
        _check(case.pk, MONDAY)
