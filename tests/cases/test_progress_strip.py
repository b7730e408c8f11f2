"""The applicant's progress strip over the guide's steps: placed by their words, states from the case."""

import datetime as dt
from types import SimpleNamespace

import pytest

from tongban.cases.models import CaseStatus, Decision
from tongban.cases.services import progress

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _case(status=CaseStatus.SUBMITTED, *, accepted=None, decided=None, closed=None, decision="", pause=""):
    return SimpleNamespace(
        status=status,
        submitted_at=T0,
        accepted_at=accepted,
        decided_at=decided,
        closed_at=closed,
        decision=decision,
        pause_reason=pause,
        get_status_display=lambda: str(CaseStatus(status).label),
    )


@pytest.mark.parametrize(
    ("steps", "stages"),
    [
        (
            [
                "名称自主申报",
                "网上填报设立信息",
                "电子签名",
                "智能预审",
                "受理",
                "审核",
                "核准登记",
                "电子营业执照签发",
                "纸质执照邮寄或自取",
            ],
            [0, 0, 0, 1, 1, 2, 3, 3, 4],
        ),
        (
            [
                "网上申报出生登记",
                "出生医学证明电子证照核验",
                "户籍民警审核",
                "录入户籍信息并编制公民身份号码",
                "户口簿增页邮寄或自取",
            ],
            [3, 3, 3, 3, 4],
        ),
        (
            [
                "电子税务局登录",
                "新办纳税人信息确认",
                "票种核定",
                "发票领用申请",
                "税务机关审核",
                "发放发票或开通开票额度",
            ],
            [0, 0, 0, 0, 2, 4],
        ),
        (
            [
                "网上申请",
                "身份与照片信息自动核验",
                "选择合作银行",
                "制卡",
                "社保卡邮寄或网点领取",
                "激活启用",
            ],
            [0, 1, 1, 4, 4, 4],
        ),
    ],
)
def test_guide_steps_are_placed_by_their_words_and_never_run_backwards(steps, stages):
    assert [stage for stage, _ in progress.staged(steps)] == stages


def test_a_guide_without_steps_gets_the_five_stages_of_every_case():
    assert [stage for stage, _ in progress.staged([])] == [0, 1, 2, 3, 4]
    assert [stage for stage, _ in progress.staged(["  ", ""])] == [0, 1, 2, 3, 4]


STEPS = ["网上申请", "受理", "审查", "决定", "送达"]


def _states(case, steps=STEPS):
    return [s.state for s in progress.strip(case, steps)]


def test_a_submitted_case_is_waiting_for_acceptance():
    strip = progress.strip(_case(), STEPS)
    assert [s.state for s in strip] == ["done", "current", "todo", "todo", "todo"]
    assert strip[0].at == T0


def test_an_accepted_case_under_review_and_a_paused_one():
    accepted = T0 + dt.timedelta(hours=2)
    assert _states(_case(CaseStatus.IN_PROGRESS, accepted=accepted)) == [
        "done",
        "done",
        "current",
        "todo",
        "todo",
    ]
    paused = progress.strip(_case(CaseStatus.SUPPLEMENT, accepted=accepted, pause="supplement"), STEPS)
    assert [s.state for s in paused] == ["done", "done", "paused", "todo", "todo"]
    assert paused[1].at == accepted and paused[2].note


def test_an_issued_case_is_done_to_the_last_step_with_its_dates():
    decided, closed = T0 + dt.timedelta(days=2), T0 + dt.timedelta(days=3)
    strip = progress.strip(
        _case(CaseStatus.ISSUED, accepted=T0, decided=decided, closed=closed, decision=Decision.APPROVE),
        STEPS,
    )
    assert [s.state for s in strip] == ["done"] * 5
    assert [s.at for s in strip][-2:] == [decided, closed]


def test_an_auto_approved_case_was_accepted_as_it_was_decided():
    decided = T0 + dt.timedelta(seconds=5)
    strip = progress.strip(_case(CaseStatus.DECIDED, decided=decided, decision=Decision.APPROVE), STEPS)
    assert [s.state for s in strip] == ["done", "done", "done", "done", "current"]


def test_refusals_withdrawals_and_rejections_stop_the_strip_where_they_happened():
    assert _states(_case(CaseStatus.NOT_ACCEPTED, closed=T0)) == [
        "done",
        "bad",
        "skipped",
        "skipped",
        "skipped",
    ]
    rejected = _case(CaseStatus.ISSUED, accepted=T0, decided=T0, closed=T0, decision=Decision.REJECT)
    strip = progress.strip(rejected, STEPS)
    assert [s.state for s in strip] == ["done", "done", "done", "bad", "skipped"]
    assert any(s.note == str(Decision.REJECT.label) for s in strip)
    withdrawn = progress.strip(_case(CaseStatus.WITHDRAWN, accepted=T0), STEPS)
    assert [s.state for s in withdrawn] == ["done", "done", "skipped", "skipped", "skipped"]
    assert withdrawn[2].note == str(CaseStatus.WITHDRAWN.label)
