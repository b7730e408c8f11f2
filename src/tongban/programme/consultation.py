"""The use cases of public consultation (公众参与 / 意见征集).

A planner of the programme office (programme.plan, scoped to the consultation's department) drafts
a consultation, publishes it with its period, moderates the comments (publishing them, or refusing
them with a reason) and answers each published one with an adoption decision (采纳 / 部分采纳 /
不采纳) and its reason. Anyone may read a published consultation and comment while it is open:
logged in, or anonymously — then without a captcha, but at most
TONGBAN_CONSULTATION_ANONYMOUS_PER_DAY comments a day from one network address on one
consultation (the address is kept only as a keyed hash), besides the route's rate limit
(TONGBAN_RATE_LIMITS "comment").

Every comment is answered (反馈) within the consultation's feedback limit, counted in working days
on the working-day calendar (core.calendar) from the day the period closes: 15
(TONGBAN_CONSULTATION_FEEDBACK_DAYS), or 30 for a complex draft
(TONGBAN_CONSULTATION_COMPLEX_FEEDBACK_DAYS). Comments not yet answered are green, yellow (from
TONGBAN_YELLOW_AT of the limit used) or red (overdue); a daily job reminds the department's
planners when the first comment turns yellow and again when one turns red. Once every comment is
answered the adoption report (公示) is published, as a public page and a PDF.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from tongban.accounts import roles as perms
from tongban.accounts import services as account_services
from tongban.accounts.roles import ROLE_PERMISSIONS
from tongban.core import crypto
from tongban.core.authz import require
from tongban.core.calendar import get_calendar, local_tz
from tongban.core.errors import (
    Conflict,
    FieldErrors,
    Formatted,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    NotPermitted,
)
from tongban.core.i18n import Later
from tongban.core.uow import current, use_case

from . import activities as act
from .models import Adoption, Comment, Consultation, Moderation, Programme, RefusalReason

KIND = act.CONSULTATION
TEXT_MAX = 3000
DRAFT_MAX = 100_000


def today() -> dt.date:
    return timezone.localdate()


# --- deadlines and status -----------------------------------------------------------------------


def feedback_days_for(complex_draft: bool) -> int:
    return int(
        settings.TONGBAN_CONSULTATION_COMPLEX_FEEDBACK_DAYS
        if complex_draft
        else settings.TONGBAN_CONSULTATION_FEEDBACK_DAYS
    )


def feedback_due(consultation: Consultation) -> dt.date:
    """The last day commenters may be answered on: `feedback_days` working days after the period
    closes (the closing day itself not counted, as for any limit)."""
    return get_calendar().add_working_days(consultation.closes_on, consultation.feedback_days)


def _clock_start(consultation: Consultation) -> dt.datetime:
    return dt.datetime.combine(consultation.closes_on, dt.time(12), tzinfo=local_tz())


def feedback_light(consultation: Consultation, comment: Comment, now: dt.datetime | None = None) -> str:
    """ "on_time"/"late" for an answered comment; green/yellow/red for one still waiting."""
    if comment.answered_at is not None:
        answered = timezone.localtime(comment.answered_at).date()
        return "on_time" if answered <= feedback_due(consultation) else "late"
    now = now or timezone.now()
    return get_calendar().status(_clock_start(consultation), consultation.feedback_days, now).colour


def phase(consultation: Consultation, on: dt.date | None = None) -> str:
    """draft, upcoming, open, closed or reported."""
    on = on or today()
    if consultation.published_at is None:
        return "draft"
    if consultation.report_published_at is not None:
        return "reported"
    if on < consultation.opens_on:
        return "upcoming"
    if on <= consultation.closes_on:
        return "open"
    return "closed"


# --- access --------------------------------------------------------------------------------------


def may_manage(actor, consultation: Consultation) -> bool:
    return bool(actor.can(perms.PROGRAMME_PLAN, consultation.department))


def may_use(actor) -> bool:
    return bool(actor.can(perms.PROGRAMME_PLAN) or actor.can(perms.PROGRAMME_VIEW))


def managed(actor) -> QuerySet:
    """The consultations of departments in the caller's planning or reading scope (staff pages)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAuthenticated()
    base = Consultation.objects.select_related("department", "programme")
    if getattr(actor, "is_system", False):
        return base
    if not may_use(actor):
        raise NotPermitted()
    return base.filter(actor.scope_q(perms.PROGRAMME_PLAN) | actor.scope_q(perms.PROGRAMME_VIEW))


def access_managed(actor, code: str, *, lock: bool = False, manage: bool = False) -> Consultation:
    qs = managed(actor)
    if lock:
        qs = qs.select_for_update(of=("self",))
    consultation = qs.filter(code=str(code or "")).first()
    if consultation is None:
        raise NotFound()
    if manage and not may_manage(actor, consultation):
        raise NotPermitted()
    return consultation


def published() -> QuerySet:
    """What the public sees: published consultations, newest first."""
    return Consultation.objects.filter(published_at__isnull=False).select_related("department")


def public_consultation(code: str) -> Consultation:
    consultation = published().filter(code=str(code or "")).first()
    if consultation is None:
        raise NotFound()
    return consultation


def public_comments(consultation: Consultation) -> QuerySet:
    return consultation.comments.filter(moderation=Moderation.PUBLISHED).order_by("number")


def comment_by_receipt(code: str, receipt: str) -> Comment:
    """A commenter's own comment, found by the receipt handed out when it was submitted."""
    consultation = public_consultation(code)
    comment = consultation.comments.filter(receipt=str(receipt or "")[:24]).first()
    if comment is None or not crypto.constant_time_equal(comment.receipt, str(receipt)):
        raise NotFound()
    return comment


def my_comments(actor) -> QuerySet:
    user = getattr(actor, "user", None)
    if user is None:
        return Comment.objects.none()
    return Comment.objects.filter(author=user).select_related("consultation").order_by("-created_at")


# --- drafting and publishing ------------------------------------------------------------------------


def _date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def _event(consultation: Consultation, activity: str, actor, *, at=None, **detail) -> None:
    current().event(
        KIND,
        consultation.code,
        activity,
        at=at or timezone.now(),
        actor=actor,
        department_code=consultation.department.code,
        detail=detail,
    )


def _next_code(on: dt.date) -> str:
    prefix = f"ZJ{on:%Y}"
    last = Consultation.objects.filter(code__startswith=prefix).aggregate(n=Max("code")).get("n")
    number = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return f"{prefix}{number:04d}"


@use_case("programme.consultation.create", object_type="consultation")
def create_consultation(
    actor,
    *,
    title: str,
    draft: str,
    department_code: str,
    opens_on,
    closes_on,
    summary: str = "",
    complex_draft: bool = False,
    programme_code: str = "",
) -> Consultation:
    """A planner drafts a consultation; nothing is public until it is published."""
    from .services import _department  # the same lookup as a programme's lead department

    require(actor, perms.PROGRAMME_PLAN)
    errors = FieldErrors()
    title = errors.require_text("title", title, max_length=200)
    draft = errors.require_text("draft", draft, max_length=DRAFT_MAX)
    summary = (summary or "").strip()
    if len(summary) > 500:
        errors.add("summary", "max_length", Formatted(_("At most %(n)d characters."), {"n": 500}))
    department = _department(department_code)
    if department is None:
        errors.add("department_code", "unknown", _("No such department."))
    first, last = _date(opens_on), _date(closes_on)
    if first is None:
        errors.add("opens_on", "invalid", _("Enter a date as YYYY-MM-DD."))
    if last is None:
        errors.add("closes_on", "invalid", _("Enter a date as YYYY-MM-DD."))
    if first and last:
        if last < first:
            errors.add("closes_on", "before_open", _("The period closes before it opens."))
        elif (last - first).days + 1 < settings.TONGBAN_CONSULTATION_MIN_DAYS:
            errors.add(
                "closes_on",
                "too_short",
                Formatted(
                    _("A consultation runs for at least %(n)d days."),
                    {"n": settings.TONGBAN_CONSULTATION_MIN_DAYS},
                ),
            )
        elif not (dt.date(2000, 1, 2) <= first and last <= dt.date(2099, 12, 1)):
            errors.add("closes_on", "out_of_range", _("The date is outside the calendar."))
    programme = None
    if (programme_code or "").strip():
        programme = Programme.objects.filter(code=programme_code.strip()).first()
        if programme is None or not actor.can(perms.PROGRAMME_PLAN, programme.department):
            errors.add("programme_code", "unknown", _("No such programme."))
    errors.raise_if_any()
    if not actor.can(perms.PROGRAMME_PLAN, department):
        raise NotPermitted()
    consultation = Consultation.objects.create(
        code=_next_code(today()),
        title=title,
        summary=summary,
        draft=draft,
        department=department,
        programme=programme,
        opens_on=first,
        closes_on=last,
        complex=bool(complex_draft),
        feedback_days=feedback_days_for(bool(complex_draft)),
    )
    uow = current()
    uow.audit.object_ref = consultation.code
    uow.audit.department_code = department.code
    _event(
        consultation,
        act.CONSULTATION_CREATED,
        actor,
        opens=first.isoformat(),
        closes=last.isoformat(),
        feedback_days=consultation.feedback_days,
    )
    return consultation


@use_case("programme.consultation.publish", object_type="consultation")
def publish(actor, code: str, *, now: dt.datetime | None = None) -> Consultation:
    """The draft goes public with its period; the period may not already be over."""
    consultation = access_managed(actor, code, lock=True, manage=True)
    current().audit.object_ref = consultation.code
    if consultation.published_at is not None:
        raise Conflict(_("The consultation is already published."))
    now = now or timezone.now()
    if consultation.closes_on < timezone.localdate(now):
        raise InvalidInput.single("closes_on", "past", _("The period is over; change the dates first."))
    consultation.published_at = now
    consultation.save(update_fields=["published_at"])
    _event(
        consultation,
        act.CONSULTATION_PUBLISHED,
        actor,
        at=now,
        opens=consultation.opens_on.isoformat(),
        closes=consultation.closes_on.isoformat(),
    )
    return consultation


# --- comments --------------------------------------------------------------------------------------


def address_hash(address: str) -> str:
    """The keyed hash the anonymous limit counts by: equal addresses match, none can be read back."""
    return crypto.hmac_sm3(crypto.derived_key("consultation-address-v1"), (address or "").encode()).hex()


@use_case("programme.consultation.comment", object_type="consultation")
def submit_comment(
    actor,
    code: str,
    *,
    text: str,
    section: str = "",
    author_name: str = "",
    address: str = "",
    now: dt.datetime | None = None,
) -> Comment:
    """A comment on an open consultation, by a logged-in user or anonymously (rate-limited by
    address). It is shown once a moderator has published it."""
    consultation = public_consultation(code)
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    uow = current()
    uow.audit.object_ref = consultation.code
    anonymous = not getattr(actor, "is_authenticated", False)
    errors = FieldErrors()
    text = errors.require_text("text", text, max_length=TEXT_MAX)
    section = (section or "").strip()
    if len(section) > 100:
        errors.add("section", "max_length", Formatted(_("At most %(n)d characters."), {"n": 100}))
    author_name = (author_name or "").strip()
    if len(author_name) > 40:
        errors.add("author_name", "max_length", Formatted(_("At most %(n)d characters."), {"n": 40}))
    now = now or timezone.now()
    if phase(consultation, timezone.localdate(now)) != "open":
        errors.add("text", "closed", _("This consultation is not taking comments."))
    hashed = address_hash(address) if anonymous else ""
    if anonymous and "text" not in errors.fields:
        midnight = dt.datetime.combine(timezone.localdate(now), dt.time(0), tzinfo=local_tz())
        sent = consultation.comments.filter(
            author__isnull=True, address_hash=hashed, created_at__gte=midnight
        ).count()
        if sent >= settings.TONGBAN_CONSULTATION_ANONYMOUS_PER_DAY:
            errors.add(
                "text",
                "anonymous_limit",
                _(
                    "You have sent today's share of anonymous comments on this consultation. "
                    "Log in to comment further, or come back tomorrow."
                ),
            )
    errors.raise_if_any()
    number = (consultation.comments.aggregate(n=Max("number"))["n"] or 0) + 1
    comment = Comment.objects.create(
        consultation=consultation,
        number=number,
        receipt=secrets.token_urlsafe(12),
        author=None if anonymous else actor.user,
        author_name=author_name,
        section=section,
        text=text,
        address_hash=hashed,
        created_at=now,
    )
    uow.audit.detail = {"comment": number, "anonymous": anonymous}
    _event(
        consultation,
        act.COMMENT_RECEIVED,
        None if anonymous else actor,
        at=now,
        comment=number,
        anonymous=anonymous,
    )
    return comment


def _managed_comment(actor, code: str, number) -> tuple[Consultation, Comment]:
    consultation = access_managed(actor, code, lock=True, manage=True)
    current().audit.object_ref = f"{consultation.code}#{number}"
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise NotFound() from None
    comment = consultation.comments.select_for_update().filter(number=number).first()
    if comment is None:
        raise NotFound()
    return consultation, comment


def _answered(consultation: Consultation, comment: Comment, actor, decision: str) -> None:
    """Record the answer on the log, and tell a logged-in commenter in their inbox."""
    due = feedback_due(consultation)
    on_time = timezone.localtime(comment.answered_at).date() <= due
    _event(
        consultation,
        act.COMMENT_ANSWERED,
        actor,
        at=comment.answered_at,
        comment=comment.number,
        decision=decision,
        due=due.isoformat(),
        on_time=on_time,
    )
    if comment.author_id:
        # A message key: the commenter reads it in their language, not the moderator's.
        account_services.notify(
            [comment.author_id],
            kind="alert",
            title=Later(
                gettext_noop("Your comment on “%(title)s” has been answered"), title=consultation.title
            ),
            link=f"/consultations/{consultation.code}/receipt/{comment.receipt}",
            subject=consultation.code,
        )


@use_case("programme.consultation.moderate", object_type="comment")
def moderate(
    actor, code: str, number, *, publish: bool, reason: str = "", note: str = "", now=None
) -> Comment:
    """Publish a comment, or refuse it with a reason — which is then its answer to the commenter."""
    consultation, comment = _managed_comment(actor, code, number)
    if comment.moderation != Moderation.PENDING:
        raise Conflict(_("This comment has already been moderated."))
    errors = FieldErrors()
    note = (note or "").strip()
    if len(note) > 300:
        errors.add("note", "max_length", Formatted(_("At most %(n)d characters."), {"n": 300}))
    if not publish and reason not in RefusalReason.values:
        errors.add("reason", "required", _("Choose why the comment is not published."))
    errors.raise_if_any()
    now = now or timezone.now()
    comment.moderated_at, comment.moderated_by = now, getattr(actor, "user", None)
    comment.moderation_note = note
    if publish:
        comment.moderation = Moderation.PUBLISHED
    else:
        comment.moderation, comment.refusal_reason, comment.answered_at = Moderation.REFUSED, reason, now
    comment.save()
    _event(
        consultation,
        act.COMMENT_MODERATED,
        actor,
        at=now,
        comment=comment.number,
        moderation=comment.moderation,
        reason=comment.refusal_reason or None,
    )
    if not publish:
        _answered(consultation, comment, actor, "refused")
    current().audit.detail = {"moderation": comment.moderation, "reason": comment.refusal_reason}
    return comment


@use_case("programme.consultation.decide", object_type="comment")
def decide(actor, code: str, number, *, decision: str, reason: str, now=None) -> Comment:
    """The adoption decision on a published comment, with its reason: the answer (反馈) the
    commenter reads on their receipt page (and in their inbox when logged in). Final once given."""
    consultation, comment = _managed_comment(actor, code, number)
    if comment.moderation != Moderation.PUBLISHED:
        raise Conflict(_("Only published comments get an adoption decision."))
    if comment.answered_at is not None:
        raise Conflict(_("This comment has already been answered."))
    errors = FieldErrors()
    if decision not in Adoption.values:
        errors.add("decision", "invalid", _("Choose 采纳, 部分采纳 or 不采纳."))
    reason = errors.require_text("reason", reason, max_length=TEXT_MAX)
    now = now or timezone.now()
    if phase(consultation, timezone.localdate(now)) in ("upcoming", "open"):
        errors.add("decision", "still_open", _("Decide once the consultation has closed."))
    errors.raise_if_any()
    comment.decision, comment.decision_reason = decision, reason
    comment.decided_by, comment.answered_at = getattr(actor, "user", None), now
    comment.save(update_fields=["decision", "decision_reason", "decided_by", "answered_at"])
    _answered(consultation, comment, actor, decision)
    current().audit.detail = {"decision": decision}
    return comment


# --- the adoption report (公示) -------------------------------------------------------------------------


@dataclass
class Report:
    consultation: Consultation
    due: dt.date
    comments: list[Comment]  # published, with their decisions
    received: int
    refused: int
    adopted: int
    partly: int
    not_adopted: int
    on_time: int  # answered by the due date, of all comments (refused ones included)
    late: int


def _report(consultation: Consultation) -> Report:
    comments = list(consultation.comments.order_by("number"))
    shown = [c for c in comments if c.moderation == Moderation.PUBLISHED]
    due = feedback_due(consultation)
    answered = [c for c in comments if c.answered_at is not None]
    on_time = sum(1 for c in answered if timezone.localtime(c.answered_at).date() <= due)
    return Report(
        consultation=consultation,
        due=due,
        comments=shown,
        received=len(comments),
        refused=sum(1 for c in comments if c.moderation == Moderation.REFUSED),
        adopted=sum(1 for c in shown if c.decision == Adoption.ADOPTED),
        partly=sum(1 for c in shown if c.decision == Adoption.PARTLY),
        not_adopted=sum(1 for c in shown if c.decision == Adoption.NOT_ADOPTED),
        on_time=on_time,
        late=len(answered) - on_time,
    )


@use_case("programme.consultation.report", object_type="consultation")
def publish_report(actor, code: str, *, summary: str, now=None) -> Report:
    """The adoption report goes public once the period is over and every comment is answered."""
    consultation = access_managed(actor, code, lock=True, manage=True)
    current().audit.object_ref = consultation.code
    if consultation.report_published_at is not None:
        raise Conflict(_("The adoption report is already published."))
    errors = FieldErrors()
    summary = errors.require_text("summary", summary, max_length=DRAFT_MAX)
    now = now or timezone.now()
    state = phase(consultation, timezone.localdate(now))
    if state in ("draft", "upcoming", "open"):
        errors.add("summary", "not_closed", _("The report is published after the consultation has closed."))
    waiting = consultation.comments.filter(answered_at__isnull=True).count()
    if waiting:
        errors.add(
            "summary",
            "unanswered",
            Formatted(_("%(n)d comments are still waiting for an answer."), {"n": waiting}),
        )
    errors.raise_if_any()
    consultation.report_summary = summary
    consultation.report_published_at = now
    consultation.save(update_fields=["report_summary", "report_published_at"])
    report = _report(consultation)
    _event(
        consultation,
        act.REPORT_PUBLISHED,
        actor,
        at=now,
        comments=report.received,
        adopted=report.adopted + report.partly,
        on_time=report.on_time,
    )
    return report


def public_report(code: str) -> Report:
    consultation = public_consultation(code)
    if consultation.report_published_at is None:
        raise NotFound()
    return _report(consultation)


def overview(actor, code: str) -> dict:
    """The staff page: the consultation, its phase and due date, every comment with its light."""
    consultation = access_managed(actor, code)
    now = timezone.now()
    comments = list(consultation.comments.order_by("number"))
    rows = [{"comment": c, "light": feedback_light(consultation, c, now)} for c in comments]
    counts = {k: 0 for k in ("green", "yellow", "red", "on_time", "late")}
    for r in rows:
        counts[r["light"]] += 1
    return {
        "consultation": consultation,
        "phase": phase(consultation),
        "due": feedback_due(consultation),
        "rows": rows,
        "counts": counts,
        "may_manage": may_manage(actor, consultation),
        "pending_moderation": sum(1 for c in comments if c.moderation == Moderation.PENDING),
        "report": _report(consultation) if consultation.report_published_at else None,
    }


LABELS = {
    Adoption.ADOPTED: "采纳",
    Adoption.PARTLY: "部分采纳",
    Adoption.NOT_ADOPTED: "不采纳",
}


def report_pdf(code: str) -> tuple[str, bytes]:
    """The adoption report as PDF (core.pdf): the summary, the figures, every published comment with
    its decision and reason."""
    from tongban.core.pdf import SIZE_3HAO, cjk_pdf

    report = public_report(code)
    c = report.consultation
    published_on = timezone.localtime(c.report_published_at).date()
    pdf = cjk_pdf(title=f"{c.title}意见采纳情况", created=published_on, author=c.department.name)
    pdf.paragraph(
        f"关于《{c.title}》公开征求意见采纳情况的公示", size=18, bold=True, align="center", indent=0
    )
    pdf.paragraph(
        f"{c.department.name}于{c.opens_on:%Y年%m月%d日}至{c.closes_on:%Y年%m月%d日}公开征求意见，"
        f"共收到意见{report.received}条，其中采纳{report.adopted}条、部分采纳{report.partly}条、"
        f"不采纳{report.not_adopted}条，不予公开{report.refused}条。"
        f"全部意见已于{report.due:%Y年%m月%d日}前反馈的{report.on_time}条，逾期反馈{report.late}条。"
    )
    for line in c.report_summary.splitlines():
        if line.strip():
            pdf.paragraph(line.strip())
    for comment in report.comments:
        pdf.paragraph(
            f"意见{comment.number}（{LABELS.get(comment.decision, '')}）", size=SIZE_3HAO, bold=True, indent=0
        )
        pdf.paragraph(comment.text)
        pdf.paragraph(f"采纳情况说明：{comment.decision_reason}")
    pdf.sign_off(c.department.name, f"{published_on:%Y年%m月%d日}")
    return f"consultation-report-{c.code}.pdf", pdf.to_bytes()


# --- reminders ---------------------------------------------------------------------------------------


def _planners(consultation: Consultation) -> list[int]:
    roles = sorted(r for r, granted in ROLE_PERMISSIONS.items() if perms.PROGRAMME_PLAN in granted)
    users: set[int] = set()
    for role in roles:
        users.update(account_services.role_holders(role, consultation.department.path))
    return sorted(users)


def send_feedback_reminders(actor, *, now: dt.datetime | None = None) -> list[tuple[str, str]]:
    """The daily sweep: a consultation whose unanswered comments turned yellow (or red) since the
    last reminder gets one to its department's planners. Returns (code, light) of those sent."""
    require(actor, perms.PROGRAMME_PLAN)
    now = now or timezone.now()
    sent = []
    waiting = (
        Consultation.objects.filter(published_at__isnull=False, report_published_at__isnull=True)
        .filter(comments__answered_at__isnull=True)
        .exclude(reminded="red")
        .distinct()
        .select_related("department")
    )
    for consultation in waiting:
        if timezone.localdate(now) <= consultation.closes_on:
            continue
        light = get_calendar().status(_clock_start(consultation), consultation.feedback_days, now).colour
        if light == "green" or light == consultation.reminded:
            continue
        _remind(actor, consultation.code, light, now)
        sent.append((consultation.code, light))
    return sent


@use_case("programme.consultation.remind", object_type="consultation")
def _remind(actor, code: str, light: str, now: dt.datetime) -> None:
    consultation = Consultation.objects.select_for_update().select_related("department").get(code=code)
    if consultation.reminded == light:
        return
    pending = consultation.comments.filter(answered_at__isnull=True).count()
    due = feedback_due(consultation)
    title = (
        Later(
            gettext_noop("Comments on “%(title)s” are overdue for an answer (due %(due)s)"),
            title=consultation.title,
            due=due.isoformat(),
        )
        if light == "red"
        else Later(
            gettext_noop("Comments on “%(title)s” are due for an answer by %(due)s"),
            title=consultation.title,
            due=due.isoformat(),
        )
    )
    recipients = _planners(consultation)
    body = Later(gettext_noop("%(n)d comments are still waiting for an answer."), n=pending)
    account_services.notify(
        recipients,
        kind="reminder" if light == "yellow" else "escalation",
        title=title,
        body=body,
        link=f"/consultations/manage/{consultation.code}/",
        subject=consultation.code,
        now=now,
    )
    consultation.reminded = light
    consultation.save(update_fields=["reminded"])
    current().audit.object_ref = consultation.code
    current().audit.detail = {"light": light, "pending": pending}
    _event(
        consultation,
        act.FEEDBACK_REMINDED,
        actor,
        at=now,
        light=light,
        pending=pending,
        recipients=len(recipients),
    )


def public_list(on: dt.date | None = None) -> list[tuple[Consultation, str]]:
    return [(c, phase(c, on)) for c in published()[:200]]
