"""Weekly progress reports (周报) by task owners, their reminders, and the programme's weekly report.

Every open task that has started owes a report each week (weeks run Monday to Sunday, named by
their Monday), due on TONGBAN_PROGRAMME_WEEKLY_DUE_WEEKDAY (0 = Monday … 4 = Friday, the default)
or, when that is not a working day, on the last working day before it. The owner department's
reporters (programme.report) file it: what was done, the percent done now (which becomes the task's
progress) and evidence files, checked and stored encrypted by core.files. On the working day before
a report is due, a daily job reminds the task's owner — or, when it has no named owner, the nearest
reporters of its department — once. Planners download the programme's weekly report as a PDF: the
red/yellow/green counts and progress per project as charts, the reports filed, those missing, and
the red tasks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from tongban.accounts import roles as perms
from tongban.accounts import services as account_services
from tongban.accounts.roles import ROLE_PERMISSIONS
from tongban.core import files
from tongban.core.authz import require
from tongban.core.calendar import get_calendar
from tongban.core.errors import FieldErrors, NotFound, NotPermitted
from tongban.core.i18n import Later
from tongban.core.uow import current, use_case

from . import activities as act
from . import services
from .models import Evidence, Task, TaskKind, TaskStatus, WeeklyReport

EVIDENCE_CONTEXT = "programme.evidence"
TEXT_MAX = 3000
MAX_FILES = 5


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def due_on(week: dt.date) -> dt.date:
    """The day a week's report is due: its set weekday, or the last working day before it."""
    calendar = get_calendar()
    day = week + dt.timedelta(days=int(settings.TONGBAN_PROGRAMME_WEEKLY_DUE_WEEKDAY))
    while not calendar.is_working_day(day) and day > week:
        day -= dt.timedelta(days=1)
    return day


def owes_report(task: Task, week: dt.date) -> bool:
    """An open task (not a milestone) that has started by the end of the week owes its report."""
    return (
        task.kind == TaskKind.TASK
        and task.status not in (TaskStatus.DONE, TaskStatus.CANCELLED)
        and task.start <= week + dt.timedelta(days=6)
    )


# --- filing ---------------------------------------------------------------------------------------


@use_case("programme.weekly_report", object_type="programme_task")
def file_report(
    actor,
    programme_code: str,
    task_code: str,
    *,
    text: str,
    percent,
    uploads: list[tuple[str, bytes]] = (),
    now: dt.datetime | None = None,
) -> WeeklyReport:
    """A reporter of the owner department (or a planner) files this week's report for a task."""
    task = services.access_task(actor, programme_code, task_code)
    current().audit.object_ref = f"{task.programme.code}/{task.code}"
    if not services.may_report(actor, task):
        raise NotPermitted()
    now = now or timezone.now()
    week = week_of(timezone.localdate(now))
    errors = FieldErrors()
    text = errors.require_text("text", text, max_length=TEXT_MAX)
    value = services._percent(percent)
    if value is None:
        errors.add("percent", "invalid", _("Enter a whole number from 0 to 100."))
    uploads = [(name, data) for name, data in uploads if data or name]
    checked = errors.collect(lambda: files.check_batch(list(uploads), max_files=MAX_FILES)) if uploads else []
    if task.status == TaskStatus.CANCELLED:
        errors.add("percent", "cancelled", _("The task is cancelled."))
    errors.raise_if_any()
    services._set_progress(task, value, services.status_for(task, value), timezone.localdate(now))
    report, _created = WeeklyReport.objects.update_or_create(
        task=task,
        week=week,
        defaults={"text": text, "percent": value, "author": getattr(actor, "user", None), "filed_at": now},
    )
    number = report.evidence.count()
    for inspected, (_name, data) in zip(checked or [], uploads, strict=True):
        stored = files.store(data, context=EVIDENCE_CONTEXT)
        number += 1
        Evidence.objects.create(
            report=report,
            number=number,
            name=inspected.name[:120],
            kind=inspected.kind,
            size=inspected.size,
            ref=stored.ref,
            sm3=inspected.sm3,
        )
    services._event(
        task, act.WEEKLY_REPORTED, actor, week=week.isoformat(), percent=value, files=len(checked or [])
    )
    current().audit.detail = {"week": week.isoformat(), "percent": value, "files": len(checked or [])}
    return report


def reports(actor, programme_code: str, task_code: str) -> tuple[Task, list[WeeklyReport]]:
    task = services.access_task(actor, programme_code, task_code)
    rows = list(task.weekly_reports.select_related("author").prefetch_related("evidence").order_by("-week"))
    return task, rows


def evidence(actor, programme_code: str, task_code: str, week: str, number) -> tuple[Evidence, bytes]:
    """One evidence file, for whoever may read the programme."""
    task = services.access_task(actor, programme_code, task_code)
    try:
        day = dt.date.fromisoformat(str(week))
        number = int(number)
    except (TypeError, ValueError):
        raise NotFound() from None
    found = Evidence.objects.filter(report__task=task, report__week=day, number=number).first()
    if found is None:
        raise NotFound()
    return found, files.load(found.ref, context=EVIDENCE_CONTEXT)


# --- the programme's week ----------------------------------------------------------------------------


@dataclass
class WeekRow:
    task: Task
    report: WeeklyReport | None
    light: str


def overview(actor, programme_code: str, week: dt.date | None = None) -> dict:
    """The tasks owing a report in a week, filed or missing, with their lights."""
    programme = services.access_programme(actor, programme_code)
    week = week_of(week or services.today())
    on = min(week + dt.timedelta(days=6), services.today()) if week <= services.today() else week
    axis = services._axis()
    tasks = list(
        Task.objects.filter(programme=programme)
        .select_related("project", "owner_department", "owner_person")
        .order_by("project__position", "project__code", "start", "code")
    )
    filed = {r.task_id: r for r in WeeklyReport.objects.filter(task__programme=programme, week=week)}
    rows = [
        WeekRow(t, filed.get(t.pk), services.traffic_light(t, on, axis))
        for t in tasks
        if owes_report(t, week) or t.pk in filed
    ]
    projects: dict[str, dict] = {}
    for t in tasks:
        p = projects.setdefault(t.project.code, {"name": t.project.name, "weight": 0.0, "done": 0.0})
        weight = float(t.weight) or 0.0
        p["weight"] += weight
        p["done"] += weight * t.percent / 100
    counts = {"red": 0, "yellow": 0, "green": 0, "done": 0}
    for t in tasks:
        counts[services.traffic_light(t, on, axis)] += 1
    return {
        "programme": programme,
        "week": week,
        "due": due_on(week),
        "rows": rows,
        "filed": sum(1 for r in rows if r.report),
        "missing": [r for r in rows if r.report is None],
        "counts": counts,
        "projects": [
            {
                "code": code,
                "name": p["name"],
                "percent": round(100 * p["done"] / p["weight"]) if p["weight"] else 0,
            }
            for code, p in projects.items()
        ],
        "red": [t for t in tasks if services.traffic_light(t, on, axis) == "red"],
    }


def _bar_chart(
    pdf, rows: list[tuple[str, float, tuple[int, int, int]]], *, maximum: float, unit: str
) -> None:
    """Horizontal bars drawn as vectors: label, bar, value."""
    left, label_w, bar_w, h = pdf.l_margin, 45.0, 95.0, 6.0
    pdf.use(10)
    for label, value, colour in rows:
        if pdf.get_y() + h + 2 > pdf.h - pdf.b_margin:
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_xy(left, y)
        pdf.text_cell(label_w, h, label[:16])
        pdf.set_draw_color(180, 180, 180)
        pdf.rect(left + label_w, y + 1, bar_w, h - 2)
        if maximum and value:
            pdf.set_fill_color(*colour)
            pdf.rect(left + label_w, y + 1, bar_w * min(value / maximum, 1.0), h - 2, style="F")
        pdf.set_xy(left + label_w + bar_w + 2, y)
        pdf.text_cell(20, h, f"{value:g}{unit}")
        pdf.set_y(y + h + 1)
    pdf.ln(2)


def weekly_pdf(actor, programme_code: str, week: dt.date | None = None) -> tuple[str, bytes]:
    """The programme's weekly report (周报) as PDF, for whoever may read the programme."""
    from tongban.core.pdf import SIZE_3HAO, cjk_pdf

    data = overview(actor, programme_code, week)
    programme, week = data["programme"], data["week"]
    end = week + dt.timedelta(days=6)
    pdf = cjk_pdf(title=f"{programme.name}工作周报", created=end, author=programme.department.name)
    pdf.paragraph(f"{programme.name}工作周报", size=20, bold=True, align="center", indent=0)
    pdf.paragraph(f"（{week:%Y年%m月%d日}—{end:%Y年%m月%d日}）", align="center", indent=0)
    counts = data["counts"]
    pdf.paragraph(
        f"本周应报周报{len(data['rows'])}份，已报{data['filed']}份，未报{len(data['missing'])}份（截止"
        f"{data['due']:%m月%d日}）。全部任务中红灯{counts['red']}项、黄灯{counts['yellow']}项、"
        f"绿灯{counts['green']}项、已完成{counts['done']}项。"
    )
    pdf.paragraph("一、任务红黄绿分布", size=SIZE_3HAO, bold=True, indent=0)
    _bar_chart(
        pdf,
        [
            ("红灯", counts["red"], (200, 40, 40)),
            ("黄灯", counts["yellow"], (230, 170, 30)),
            ("绿灯", counts["green"], (40, 150, 70)),
            ("已完成", counts["done"], (90, 90, 90)),
        ],
        maximum=max(counts.values()) or 1,
        unit="项",
    )
    pdf.paragraph("二、各项目完成进度", size=SIZE_3HAO, bold=True, indent=0)
    _bar_chart(
        pdf,
        [(f"{p['code']} {p['name']}", p["percent"], (30, 100, 180)) for p in data["projects"]],
        maximum=100,
        unit="%",
    )
    pdf.paragraph("三、本周进展", size=SIZE_3HAO, bold=True, indent=0)
    for row in data["rows"]:
        if row.report:
            t, r = row.task, row.report
            pdf.paragraph(f"{t.code} {t.name}（{t.owner_department.name}，完成{r.percent}%）：{r.text}")
    if not data["filed"]:
        pdf.paragraph("本周尚无周报。")
    pdf.paragraph("四、未报周报的任务", size=SIZE_3HAO, bold=True, indent=0)
    pdf.paragraph(
        "、".join(f"{r.task.code} {r.task.name}（{r.task.owner_department.name}）" for r in data["missing"])
        or "无。"
    )
    pdf.paragraph("五、红灯任务", size=SIZE_3HAO, bold=True, indent=0)
    pdf.paragraph(
        "、".join(f"{t.code} {t.name}（截止{t.finish:%m月%d日}，完成{t.percent}%）" for t in data["red"])
        or "无。"
    )
    pdf.sign_off("流程再造工作专班", f"{end:%Y年%m月%d日}")
    return f"weekly-{programme.code}-{week.isoformat()}.pdf", pdf.to_bytes()


# --- reminders -----------------------------------------------------------------------------------------


def _reporters(task: Task) -> list[int]:
    if task.owner_person_id:
        return [task.owner_person_id]
    users: set[int] = set()
    for role in sorted(r for r, granted in ROLE_PERMISSIONS.items() if perms.PROGRAMME_REPORT in granted):
        users.update(account_services.role_holders(role, task.owner_department.path, nearest_only=True))
    return sorted(users)


@use_case("programme.weekly_reminders", object_type="programme")
def send_reminders(actor, *, on: dt.date | None = None) -> list[str]:
    """The daily sweep: on the working day before a week's reports are due, remind the owners of
    the tasks that owe one and have not filed it (once a week). Returns "<programme>/<task>"."""
    require(actor, perms.PROGRAMME_PLAN)
    on = on or services.today()
    week = week_of(on)
    due = due_on(week)
    if not get_calendar().is_working_day(on) or get_calendar().add_working_days(due, -1) != on:
        return []
    tasks = (
        Task.objects.filter(start__lte=week + dt.timedelta(days=6), kind=TaskKind.TASK)
        .exclude(status__in=[TaskStatus.DONE, TaskStatus.CANCELLED])
        .exclude(weekly_reports__week=week)
        .exclude(report_reminded_week=week)
        .select_related("programme", "owner_department")
    )
    sent = []
    for task in tasks:
        recipients = _reporters(task)
        title = Later(
            gettext_noop("Weekly report for %(task)s due %(due)s"),
            task=f"{task.code} {task.name}",
            due=due.isoformat(),
        )
        account_services.notify(
            recipients,
            kind="reminder",
            title=title,
            link=f"/programme/{task.programme.code}/tasks/{task.code}/weekly",
            subject=f"{task.programme.code}/{task.code}"[:80],
        )
        task.report_reminded_week = week
        task.save(update_fields=["report_reminded_week"])
        services._event(
            task,
            act.WEEKLY_REMINDED,
            actor,
            week=week.isoformat(),
            due=due.isoformat(),
            recipients=len(recipients),
        )
        sent.append(f"{task.programme.code}/{task.code}")
    current().audit.detail = {"week": week.isoformat(), "reminded": len(sent)}
    return sent
