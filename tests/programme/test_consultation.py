"""Public consultation (意见征集): answers due in working days after the period closes (hand-counted
over 国庆 2026), their red/yellow/green, comments by citizens and anonymous visitors (rate-limited
by address), moderation with reasons, adoption decisions, reminders, and the adoption report."""

import datetime as dt

import pytest
from django.utils import translation

from tongban.accounts.actors import ANONYMOUS
from tongban.accounts.models import Notification, User
from tongban.core import calendar, events
from tongban.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from tongban.core.models import CalendarOverride
from tongban.programme import consultation as cons
from tongban.programme.models import Adoption, Consultation, Moderation

from ..conftest import actor

D = dt.date


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=calendar.local_tz())


def unsaved(closes: dt.date, days: int = 15) -> Consultation:
    return Consultation(opens_on=closes - dt.timedelta(days=20), closes_on=closes, feedback_days=days)


# --- deadlines on the working-day calendar ---------------------------------------------------------


def test_answers_are_due_15_working_days_after_closing_counted_over_national_day(db):
    # Closing Wed 30 Sep 2026: 1–7 Oct are 国庆 holidays, Sat 10 Oct is worked (调休), weekends off.
    # Oct 8, 9, 10, 12, 13, 14, 15, 16, 19, 20, 21, 22, 23, 26, 27 → the 15th working day is Tue 27 Oct
    # (fifteen calendar days would have been 15 Oct).
    assert cons.feedback_due(unsaved(D(2026, 9, 30))) == D(2026, 10, 27)
    # a complex draft: 30 working days → Oct 28, 29, 30, Nov 2 … 17
    assert cons.feedback_due(unsaved(D(2026, 9, 30), 30)) == D(2026, 11, 17)
    # closing on a Friday: the next working day is the first one counted
    assert cons.feedback_due(unsaved(D(2026, 11, 6))) == D(2026, 11, 27)


def test_an_administrators_holiday_moves_the_due_date(db):
    CalendarOverride.objects.create(date=D(2026, 10, 12), is_working_day=False, name="临时休息")
    calendar.invalidate()
    try:
        assert cons.feedback_due(unsaved(D(2026, 9, 30))) == D(2026, 10, 28)
    finally:
        CalendarOverride.objects.filter(date=D(2026, 10, 12)).delete()
        calendar.invalidate()


def test_feedback_days_follow_the_settings(settings):
    settings.TONGBAN_CONSULTATION_FEEDBACK_DAYS = 10
    settings.TONGBAN_CONSULTATION_COMPLEX_FEEDBACK_DAYS = 20
    assert (cons.feedback_days_for(False), cons.feedback_days_for(True)) == (10, 20)


def test_waiting_comments_turn_yellow_then_red_and_answers_are_on_time_or_late(db):
    c = unsaved(D(2026, 9, 30))
    waiting = cons.Comment(consultation=c, number=1, text="x")
    # before the period closes nothing is used
    assert cons.feedback_light(c, waiting, at(D(2026, 9, 29))) == "green"
    # 80 % of 15 working days is 12: the 12th working day after closing (Thu 22 Oct) ends at midnight
    assert cons.feedback_light(c, waiting, at(D(2026, 10, 22), 23)) == "green"
    assert cons.feedback_light(c, waiting, at(D(2026, 10, 23), 9)) == "yellow"
    # holidays do not use the limit: on the last day of 国庆 only 0 working days have passed
    assert cons.feedback_light(c, waiting, at(D(2026, 10, 7), 23)) == "green"
    assert cons.feedback_light(c, waiting, at(D(2026, 10, 27), 23, 59)) == "yellow"
    assert cons.feedback_light(c, waiting, at(D(2026, 10, 28), 0, 30)) == "red"
    waiting.answered_at = at(D(2026, 10, 27), 17)
    assert cons.feedback_light(c, waiting) == "on_time"
    waiting.answered_at = at(D(2026, 10, 28), 9)
    assert cons.feedback_light(c, waiting) == "late"


# --- the whole consultation ---------------------------------------------------------------------------

OPENS, CLOSES = D(2026, 9, 21), D(2026, 9, 30)


@pytest.fixture
def planner(db):
    return actor("supervisor")


@pytest.fixture
def consultation(planner):
    c = cons.create_consultation(
        planner,
        title="食品经营许可“一件事”办理流程（征求意见稿）",
        summary="压缩办理时限至5个工作日",
        draft="第一条 申请人可通过一网通办平台一次提交全部材料。\n第二条 办理时限为5个工作日。",
        department_code="scjgj",
        opens_on=OPENS,
        closes_on=CLOSES,
    )
    return cons.publish(planner, c.code, now=at(D(2026, 9, 20)))


def test_creating_checks_every_field_and_who_may(planner):
    with pytest.raises(InvalidInput) as caught:
        cons.create_consultation(
            planner, title="", draft="", department_code="nowhere", opens_on="2026-10-10", closes_on="bad"
        )
    assert set(caught.value.fields) == {"title", "draft", "department_code", "closes_on"}
    with pytest.raises(InvalidInput) as caught:
        cons.create_consultation(
            planner,
            title="t",
            draft="d",
            department_code="scjgj",
            opens_on="2026-10-10",
            closes_on="2026-10-12",
        )
    assert caught.value.fields["closes_on"][0].code == "too_short"
    assert str(caught.value.fields["closes_on"][0].message) == "征求意见期至少为 7 天。"
    with pytest.raises(NotPermitted):
        cons.create_consultation(
            actor("bureau_head"),
            title="t",
            draft="d",
            department_code="scjgj",
            opens_on=OPENS,
            closes_on=CLOSES,
        )


def test_a_draft_is_not_public_until_published(planner):
    c = cons.create_consultation(
        planner, title="t", draft="d", department_code="scjgj", opens_on=OPENS, closes_on=CLOSES
    )
    assert c.code.startswith("ZJ") and cons.phase(c) == "draft"
    with pytest.raises(NotFound):
        cons.public_consultation(c.code)
    with pytest.raises(InvalidInput):  # its period is over by the time it would be published
        cons.publish(planner, c.code, now=at(D(2026, 10, 1)))
    cons.publish(planner, c.code, now=at(D(2026, 9, 21)))
    with pytest.raises(Conflict):
        cons.publish(planner, c.code, now=at(D(2026, 9, 21)))
    assert cons.public_consultation(c.code).pk == c.pk


def test_citizens_and_anonymous_visitors_comment_while_open(consultation, settings):
    settings.TONGBAN_CONSULTATION_ANONYMOUS_PER_DAY = 2
    code = consultation.code
    with pytest.raises(InvalidInput) as caught:
        cons.submit_comment(actor("zhangsan"), code, text="太早了", now=at(D(2026, 9, 20)))
    assert caught.value.fields["text"][0].code == "closed"
    mine = cons.submit_comment(
        actor("zhangsan"), code, text="建议增加容缺受理", section="第一条", now=at(D(2026, 9, 22))
    )
    assert (mine.number, mine.author.username, mine.moderation) == (1, "zhangsan", Moderation.PENDING)
    first = cons.submit_comment(ANONYMOUS, code, text="时限可再压缩", address="203.0.113.5", now=at(OPENS))
    cons.submit_comment(ANONYMOUS, code, text="同意", address="203.0.113.5", now=at(OPENS, 11))
    assert first.author is None and first.address_hash and "203.0.113.5" not in first.address_hash
    # the third anonymous comment of the day from that address is refused, with a way on
    with pytest.raises(InvalidInput) as caught:
        cons.submit_comment(ANONYMOUS, code, text="再说一条", address="203.0.113.5", now=at(OPENS, 12))
    problem = caught.value.fields["text"][0]
    assert problem.code == "anonymous_limit" and "登录" in str(problem.message)
    # … but not from another address, nor the next day, nor for a logged-in commenter
    cons.submit_comment(ANONYMOUS, code, text="另一位网友", address="198.51.100.7", now=at(OPENS, 12))
    cons.submit_comment(ANONYMOUS, code, text="第二天", address="203.0.113.5", now=at(D(2026, 9, 22)))
    with pytest.raises(InvalidInput) as caught:
        cons.submit_comment(ANONYMOUS, code, text="", author_name="x" * 41, address="1.2.3.4", now=at(OPENS))
    assert set(caught.value.fields) == {"text", "author_name"}
    with pytest.raises(InvalidInput) as caught:
        cons.submit_comment(ANONYMOUS, code, text="晚了", address="1.2.3.4", now=at(D(2026, 10, 1)))
    assert caught.value.fields["text"][0].code == "closed"
    assert consultation.comments.count() == 5
    received = [e for e in events.history(cons.KIND, code) if e.activity == "consultation.comment_received"]
    assert sorted(e.detail["anonymous"] for e in received) == [False, True, True, True, True]


def _comment(code, text, now, who=None, address="192.0.2.1"):
    return cons.submit_comment(who or ANONYMOUS, code, text=text, address=address, now=now)


def test_moderation_decisions_and_the_adoption_report(planner, consultation):
    code = consultation.code
    citizen = _comment(code, "建议将申请材料减少为3项", at(D(2026, 9, 22)), who=actor("zhangsan"))
    spam = _comment(code, "低价代办，加微信", at(D(2026, 9, 23)))
    other = _comment(code, "建议增加夜间窗口", at(D(2026, 9, 24)))
    with pytest.raises(InvalidInput) as caught:
        cons.moderate(planner, code, spam.number, publish=False)
    assert caught.value.fields["reason"][0].code == "required"
    cons.moderate(planner, code, spam.number, publish=False, reason="advertising", now=at(D(2026, 9, 24)))
    with pytest.raises(Conflict):
        cons.moderate(planner, code, spam.number, publish=True)
    cons.moderate(planner, code, citizen.number, publish=True, now=at(D(2026, 9, 24)))
    cons.moderate(planner, code, other.number, publish=True, now=at(D(2026, 9, 24)))
    assert [c.number for c in cons.public_comments(consultation)] == [citizen.number, other.number]

    # a reader may not moderate nor decide; a department outside the planner's scope never sees it
    with pytest.raises(NotPermitted):
        cons.decide(actor("bureau_head"), code, citizen.number, decision="adopted", reason="x")
    with pytest.raises(NotPermitted):
        cons.managed(actor("zhangsan"))
    # decisions wait for the period to close
    with pytest.raises(InvalidInput) as caught:
        cons.decide(planner, code, citizen.number, decision="adopted", reason="好", now=at(D(2026, 9, 29)))
    assert caught.value.fields["decision"][0].code == "still_open"
    with pytest.raises(InvalidInput) as caught:
        cons.decide(planner, code, citizen.number, decision="maybe", reason="", now=at(D(2026, 10, 8)))
    assert set(caught.value.fields) == {"decision", "reason"}
    with pytest.raises(Conflict):
        cons.decide(planner, code, spam.number, decision="adopted", reason="x", now=at(D(2026, 10, 8)))

    cons.decide(
        planner, code, citizen.number, decision="partly", reason="保留4项核心材料", now=at(D(2026, 10, 9))
    )
    user = User.objects.get(username="zhangsan")
    note = Notification.objects.filter(recipient=user, subject=code).get()
    assert note.link == f"/consultations/{code}/receipt/{citizen.receipt}" and "已答复" in note.title
    with translation.override("en"):  # a message key, read in the reader's language
        assert note.title_text.startswith("Your comment on") and note.title_text.endswith("has been answered")
    with pytest.raises(InvalidInput) as caught:
        cons.publish_report(planner, code, summary="采纳情况如下", now=at(D(2026, 10, 12)))
    assert caught.value.fields["summary"][0].code == "unanswered"
    cons.decide(
        planner, code, other.number, decision="not_adopted", reason="另行研究", now=at(D(2026, 10, 28))
    )

    report = cons.publish_report(planner, code, summary="共收到意见3条。", now=at(D(2026, 10, 29)))
    assert (report.received, report.refused, report.adopted, report.partly, report.not_adopted) == (
        3,
        1,
        0,
        1,
        1,
    )
    # due 27 Oct: the refusal (24 Sep) and the decision of 9 Oct were on time, the one of 28 Oct late
    assert (report.due, report.on_time, report.late) == (D(2026, 10, 27), 2, 1)
    assert cons.phase(cons.public_consultation(code)) == "reported"
    public = cons.public_report(code)
    assert [c.decision for c in public.comments] == [Adoption.PARTLY, Adoption.NOT_ADOPTED]
    name, pdf = cons.report_pdf(code)
    assert name == f"consultation-report-{code}.pdf" and pdf.startswith(b"%PDF")
    with pytest.raises(Conflict):
        cons.publish_report(planner, code, summary="again")
    answered = [
        e.detail for e in events.history(cons.KIND, code) if e.activity == "consultation.comment_answered"
    ]
    assert [(d["comment"], d["decision"], d["on_time"]) for d in answered] == [
        (spam.number, "refused", True),
        (citizen.number, "partly", True),
        (other.number, "not_adopted", False),
    ]
    assert "consultation.report_published" in {e.activity for e in events.history(cons.KIND, code)}


def test_the_report_waits_for_the_period_to_close(planner, consultation):
    with pytest.raises(InvalidInput) as caught:
        cons.publish_report(planner, consultation.code, summary="无意见", now=at(D(2026, 9, 25)))
    assert caught.value.fields["summary"][0].code == "not_closed"
    with pytest.raises(NotFound):
        cons.public_report(consultation.code)
    cons.publish_report(planner, consultation.code, summary="无意见", now=at(D(2026, 10, 8)))
    assert cons.public_report(consultation.code).received == 0


def test_planners_are_reminded_once_at_yellow_and_once_at_red(planner, consultation):
    code = consultation.code
    waiting = _comment(code, "请明确容缺受理范围", at(D(2026, 9, 22)))
    cons.moderate(planner, code, waiting.number, publish=True, now=at(D(2026, 9, 23)))
    supervisor = User.objects.get(username="supervisor")

    def inbox():
        return list(
            Notification.objects.filter(recipient=supervisor, subject=code)
            .order_by("id")
            .values_list("kind", flat=True)
        )

    assert cons.send_feedback_reminders(planner, now=at(D(2026, 10, 22))) == []
    assert cons.send_feedback_reminders(planner, now=at(D(2026, 10, 23))) == [(code, "yellow")]
    assert cons.send_feedback_reminders(planner, now=at(D(2026, 10, 26))) == []
    assert inbox() == ["reminder"]
    assert cons.send_feedback_reminders(planner, now=at(D(2026, 10, 28))) == [(code, "red")]
    assert cons.send_feedback_reminders(planner, now=at(D(2026, 10, 29))) == []
    assert inbox() == ["reminder", "escalation"]
    # the department's own staff without the planning role are not told
    assert not Notification.objects.filter(recipient__username="bureau_head", subject=code).exists()
    cons.decide(planner, code, waiting.number, decision="adopted", reason="已补充", now=at(D(2026, 10, 29)))
    assert cons.send_feedback_reminders(planner, now=at(D(2026, 11, 2))) == []
