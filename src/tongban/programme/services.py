"""The use cases of the reform programme office: plans, scheduling, progress, Gantt, schedule risk.

Who may do what (accounts.roles):
- programme.plan (scoped to the programme's lead department): create a programme, import and
  export its plan, reschedule tasks, set the baseline, run the schedule risk;
- programme.report (scoped to a task's owner department): report progress on the department's
  tasks, and read the programmes those tasks belong to;
- programme.view (scoped): read the programmes led by a department in scope.
A programme the caller may not read is NotFound, so its existence does not leak.

Every change is one use case (core.uow): its audit entry, its events on the core log (subject kind
programme_task, id "<programme>/<task>"), one transaction. Scheduling is on the working-day
calendar (programme.schedule); after any change of dates the whole programme is scheduled again
and every task that moved gets a `programme_task.rescheduled` event.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms
from tongban.accounts.models import Department, User
from tongban.core.authz import require
from tongban.core.calendar import get_calendar
from tongban.core.errors import (
    FieldErrors,
    FieldProblem,
    Formatted,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    NotPermitted,
)
from tongban.core.uow import current, use_case

from . import activities as act
from . import montecarlo, schedule, transfer
from .models import Dependency, Programme, Project, Risk, Task, TaskKind, TaskStatus

KIND = act.KIND
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
PRED_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._]*?)(?:([+-])(\d+))?$")


def today() -> dt.date:
    return timezone.localdate()


def _axis() -> schedule.WorkdayAxis:
    return schedule.WorkdayAxis(get_calendar())


# --- access ------------------------------------------------------------------------------------


def _authenticated(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAuthenticated()


def may_plan(actor, programme: Programme) -> bool:
    return bool(actor.can(perms.PROGRAMME_PLAN, programme.department))


def may_report(actor, task: Task) -> bool:
    return may_plan(actor, task.programme) or bool(actor.can(perms.PROGRAMME_REPORT, task.owner_department))


def may_use(actor) -> bool:
    """Whether the caller holds any role of the programme office (the list page, the menu)."""
    return any(actor.can(p) for p in (perms.PROGRAMME_PLAN, perms.PROGRAMME_VIEW, perms.PROGRAMME_REPORT))


def programmes(actor) -> QuerySet:
    """The programmes the caller may read."""
    _authenticated(actor)
    base = Programme.objects.select_related("department")
    if getattr(actor, "is_system", False):
        return base
    if not may_use(actor):
        raise NotPermitted()
    led = actor.scope_q(perms.PROGRAMME_PLAN) | actor.scope_q(perms.PROGRAMME_VIEW)
    owned = Task.objects.filter(
        actor.scope_q(perms.PROGRAMME_REPORT, "owner_department__path")
        | actor.scope_q(perms.PROGRAMME_VIEW, "owner_department__path")
    ).values("programme_id")
    return base.filter(led | Q(pk__in=owned))


def access_programme(actor, code: str, *, lock: bool = False) -> Programme:
    _authenticated(actor)
    qs = programmes(actor)
    if lock:
        qs = qs.select_for_update(of=("self",))
    programme = qs.filter(code=str(code or "")).first()
    if programme is None:
        raise NotFound()
    return programme


def _planned_programme(actor, code: str) -> Programme:
    programme = access_programme(actor, code, lock=True)
    if not may_plan(actor, programme):
        raise NotPermitted()
    return programme


def access_task(actor, programme_code: str, task_code: str) -> Task:
    programme = access_programme(actor, programme_code)
    task = (
        Task.objects.select_related("programme__department", "owner_department", "owner_person", "project")
        .filter(programme=programme, code=str(task_code or ""))
        .first()
    )
    if task is None:
        raise NotFound()
    return task


# --- programmes ----------------------------------------------------------------------------------


def _department(value: str) -> Department | None:
    value = (value or "").strip()
    if not value:
        return None
    return (
        Department.objects.filter(is_active=True)
        .filter(Q(code=value) | Q(name=value) | Q(short_name=value))
        .order_by("path")
        .first()
    )


@use_case("programme.create", object_type="programme")
def create_programme(actor, *, code: str, name: str, department_code: str) -> Programme:
    require(actor, perms.PROGRAMME_PLAN)  # anywhere; the department is checked once it is known
    errors = FieldErrors()
    code = (code or "").strip()
    if not CODE_RE.match(code):
        errors.add("code", "invalid", _("Use 1–40 letters, digits, “.”, “_” or “-”."))
    elif Programme.objects.filter(code=code).exists():
        errors.add("code", "taken", _("A programme with this code exists."))
    name = errors.require_text("name", name, max_length=200)
    department = _department(department_code)
    if department is None:
        errors.add("department_code", "unknown", _("No such department."))
    errors.raise_if_any()
    if not actor.can(perms.PROGRAMME_PLAN, department):
        raise NotPermitted()
    programme = Programme.objects.create(code=code, name=name, department=department)
    uow = current()
    uow.audit.object_ref = code
    uow.audit.department_code = department.code
    return programme


# --- scheduling ----------------------------------------------------------------------------------


@dataclass
class Moved:
    task: Task
    old_start: dt.date
    new_start: dt.date

    @property
    def shift(self) -> int:
        return (
            _axis().between(self.old_start, self.new_start)
            if self.new_start >= self.old_start
            else -(_axis().between(self.new_start, self.old_start))
        )


def _nodes(axis, tasks: list[Task], links: list[tuple[int, int, int]]) -> dict[str, schedule.Node]:
    by_id = {t.pk: t for t in tasks}
    nodes = {
        t.code: schedule.Node(
            t.code,
            t.duration_days,
            schedule.constraint_index(axis, t.not_before, t.kind == TaskKind.MILESTONE),
        )
        for t in tasks
    }
    for pred_id, succ_id, lag in links:
        nodes[by_id[succ_id].code].preds.append((by_id[pred_id].code, lag))
    return nodes


def _links(programme: Programme) -> list[tuple[int, int, int]]:
    return list(
        Dependency.objects.filter(successor__programme=programme).values_list(
            "predecessor_id", "successor_id", "lag_days"
        )
    )


def _schedule(programme: Programme) -> tuple[list[Task], dict[str, schedule.Timing]]:
    axis = _axis()
    tasks = list(Task.objects.filter(programme=programme).select_related("owner_department"))
    timings = schedule.cpm(_nodes(axis, tasks, _links(programme)))
    return tasks, timings


def _apply_schedule(programme: Programme, *, baseline_new: bool = False) -> list[Moved]:
    """Schedule the programme again and store the dates that changed."""
    axis = _axis()
    tasks, timings = _schedule(programme)
    moved, changed = [], []
    for t in tasks:
        start, finish = schedule.dates_of(axis, timings[t.code], t.kind == TaskKind.MILESTONE)
        dirty = False
        if t.start != start or t.finish != finish:
            if t.start is not None and t.pk is not None and t.start != start:
                moved.append(Moved(t, t.start, start))
            t.start, t.finish = start, finish
            dirty = True
        if baseline_new and t.baseline_start is None:
            t.baseline_start, t.baseline_finish = start, finish
            dirty = True
        if dirty:
            changed.append(t)
    Task.objects.bulk_update(
        changed, ["start", "finish", "baseline_start", "baseline_finish"], batch_size=500
    )
    return moved


def _event(task: Task, activity: str, actor, **detail) -> None:
    current().event(
        KIND,
        f"{task.programme.code}/{task.code}",
        activity,
        at=timezone.now(),
        actor=actor,
        department_code=task.owner_department.code,
        detail=detail,
    )


@use_case("programme.reschedule", object_type="programme_task")
def reschedule(actor, programme_code: str, task_code: str, *, start) -> list[Moved]:
    """A planner moves a task to start on another date; the tasks after it move with it. The date
    must be a date the task's predecessors allow (their finish plus the lag, in working days)."""
    programme = _planned_programme(actor, programme_code)
    task = (
        Task.objects.select_related("owner_department", "programme")
        .filter(programme=programme, code=str(task_code or ""))
        .first()
    )
    if task is None:
        raise NotFound()
    uow = current()
    uow.audit.object_ref = f"{programme.code}/{task.code}"
    day = _date(start)
    if day is None:
        raise InvalidInput.single("start", "invalid", _("Enter a date as YYYY-MM-DD."))
    if not dt.date(2000, 1, 2) <= day <= dt.date(2100, 12, 1):
        raise InvalidInput.single("start", "out_of_range", _("The date is outside the calendar."))
    axis = _axis()
    milestone = task.kind == TaskKind.MILESTONE
    wanted = schedule.constraint_index(axis, day, milestone)
    earliest = wanted
    for pred_id, succ_id, lag in _links(programme):
        if succ_id == task.pk:
            pred = Task.objects.only("finish", "kind", "not_before").get(pk=pred_id)
            pred_ef = axis.start_index(pred.finish) + 1
            earliest = max(earliest, pred_ef + lag)
    if earliest > wanted:
        first = axis.date(earliest - (1 if milestone else 0))
        raise InvalidInput.single(
            "start",
            "before_predecessors",
            Formatted(
                _("The predecessors finish later: the earliest start is %(date)s."),
                {"date": first.isoformat()},
            ),
        )
    if not milestone and not axis.calendar.is_working_day(day):
        day = axis.date(axis.start_index(day))
    task.not_before = day
    task.save(update_fields=["not_before", "updated_at"])
    moved = _apply_schedule(programme)
    for m in moved:
        _event(
            m.task,
            act.RESCHEDULED,
            actor,
            start=m.new_start.isoformat(),
            finish=m.task.finish.isoformat(),
            shift=m.shift,
            cause="moved" if m.task.pk == task.pk else "predecessor",
        )
    uow.audit.detail = {"start": day.isoformat(), "moved": [m.task.code for m in moved]}
    return moved


@use_case("programme.baseline", object_type="programme")
def set_baseline(actor, programme_code: str) -> int:
    """The current schedule becomes the baseline the Gantt chart compares against."""
    programme = _planned_programme(actor, programme_code)
    current().audit.object_ref = programme.code
    tasks = list(Task.objects.filter(programme=programme))
    for t in tasks:
        t.baseline_start, t.baseline_finish = t.start, t.finish
    Task.objects.bulk_update(tasks, ["baseline_start", "baseline_finish"], batch_size=500)
    return len(tasks)


# --- progress ------------------------------------------------------------------------------------


@use_case("programme.report_progress", object_type="programme_task")
def report_progress(actor, programme_code: str, task_code: str, *, percent, status: str = "") -> Task:
    task = access_task(actor, programme_code, task_code)
    current().audit.object_ref = f"{task.programme.code}/{task.code}"
    if not may_report(actor, task):
        raise NotPermitted()
    errors = FieldErrors()
    value = _percent(percent)
    if value is None:
        errors.add("percent", "invalid", _("Enter a whole number from 0 to 100."))
    status = (status or "").strip() or (
        TaskStatus.DONE if value == 100 else (TaskStatus.IN_PROGRESS if value else TaskStatus.NOT_STARTED)
    )
    if status not in TaskStatus.values:
        errors.add("status", "invalid", _("Unknown status."))
    errors.raise_if_any()
    _set_progress(task, value, status)
    _event(task, act.PROGRESSED, actor, percent=value, status=status)
    return task


def _set_progress(task: Task, value: int, status: str, on: dt.date | None = None) -> None:
    """Store a checked percent and status (a done task is 100 %; a KPI-bound one is done only when
    its measured KPI met the target). Runs inside the caller's use case."""
    if status == TaskStatus.DONE and value != 100:
        raise InvalidInput.single("percent", "not_done", _("A done task is 100 percent done."))
    if task.kpi and status == TaskStatus.DONE and task.kpi_achieved_on is None:
        raise InvalidInput.single(
            "status", "kpi_not_met", _("A KPI-bound task is done when its measured KPI meets the target.")
        )
    task.percent, task.status = value, status
    if status == TaskStatus.DONE:
        task.done_on = task.done_on or on or today()
    else:
        task.done_on = None
    task.save(update_fields=["percent", "status", "done_on", "updated_at"])


def status_for(task: Task, value: int) -> str:
    """The status a percent implies when the reporter names none (suspended stays suspended)."""
    if task.status == TaskStatus.SUSPENDED and value < 100:
        return TaskStatus.SUSPENDED
    if value == 100 and not (task.kpi and task.kpi_achieved_on is None):
        return TaskStatus.DONE
    return TaskStatus.IN_PROGRESS if value else TaskStatus.NOT_STARTED


def _percent(value) -> int | None:
    text = str(value if value is not None else "").strip().rstrip("%").strip()
    try:
        number = float(text)
    except ValueError:
        return None
    if not number.is_integer() or not 0 <= number <= 100:
        return None
    return int(number)


# --- red / yellow / green -----------------------------------------------------------------------


def traffic_light(task: Task, on: dt.date, axis: schedule.WorkdayAxis | None = None) -> str:
    """How a task stands on a day: time used against progress.

    done/cancelled: "done"; before its start: green; past its deadline and not done: red; else
    the share of its working days used (up to yesterday) minus the share done: from
    TONGBAN_PROGRAMME_RED_LAG (default 0.5) red, from TONGBAN_PROGRAMME_YELLOW_LAG (0.2) yellow.
    """
    return _light(task.status, task.start, task.finish, task.duration_days, task.percent, on, axis or _axis())


_FINISHED = frozenset({TaskStatus.DONE.value, TaskStatus.CANCELLED.value})


def _light(status, start, finish, duration, percent, on, axis) -> str:
    if status in _FINISHED:
        return "done"
    if on > finish:
        return "red"
    if on <= start or duration == 0:
        return "green"
    used = axis.between(start - dt.timedelta(days=1), on - dt.timedelta(days=1)) / duration
    lag = used - percent / 100
    if lag >= settings.TONGBAN_PROGRAMME_RED_LAG:
        return "red"
    if lag >= settings.TONGBAN_PROGRAMME_YELLOW_LAG:
        return "yellow"
    return "green"


# --- import and export ------------------------------------------------------------------------


class ImportRejected(InvalidInput):
    """The workbook had problems; nothing was saved. `problems` lists them row by row."""

    def __init__(self, problems: list[transfer.RowProblem]):
        fields: dict[str, list[FieldProblem]] = {}
        for p in problems:
            key = p.field if p.row == 0 else f"{p.sheet}.{p.row}.{p.field}"
            fields.setdefault(key, []).append(FieldProblem(p.code, p.message))
        super().__init__(fields, _("The plan has problems; nothing was imported."))
        self.problems = problems

    def as_dict(self) -> dict:
        data = super().as_dict()
        data["rows"] = [p.as_dict() for p in self.problems]
        return data


@dataclass
class ImportReport:
    tasks: int = 0
    projects: int = 0
    risks: int = 0
    links: int = 0
    critical: list[str] = field(default_factory=list)


KIND_WORDS = {
    "任务": TaskKind.TASK,
    "task": TaskKind.TASK,
    "里程碑": TaskKind.MILESTONE,
    "milestone": TaskKind.MILESTONE,
}
STATUS_WORDS = {
    "未开始": TaskStatus.NOT_STARTED,
    "进行中": TaskStatus.IN_PROGRESS,
    "已完成": TaskStatus.DONE,
    "暂停": TaskStatus.SUSPENDED,
    "已取消": TaskStatus.CANCELLED,
} | {s: s for s in TaskStatus.values}


def _date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip().replace("/", "-").replace(".", "-")
    match = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$", text) or re.match(
        r"^(\d{4})年(\d{1,2})月(\d{1,2})日$", text
    )
    if not match:
        return None
    try:
        day = dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None
    return day if dt.date(2000, 1, 2) <= day <= dt.date(2100, 12, 1) else None


def _number(text: str) -> float | None:
    text = (text or "").strip()
    pct = text.endswith("%")
    try:
        value = float(text.rstrip("%").strip())
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value / 100 if pct else value


def _predecessors(text: str) -> list[tuple[str, int]] | None:
    out = []
    for part in transfer.LIST_SPLIT.split((text or "").strip()):
        if not part:
            continue
        match = PRED_RE.match(part)
        if not match:
            return None
        code, sign, lag = match.groups()
        out.append((code, (-1 if sign == "-" else 1) * int(lag) if lag else 0))
    return out


@use_case("programme.import_plan", object_type="programme")
def import_plan(actor, programme_code: str, data: bytes) -> ImportReport:
    """Add the projects, tasks, links and risks of a plan workbook to a programme: every row is
    checked and every problem reported (row, column, problem); if there is any, nothing is saved."""
    programme = _planned_programme(actor, programme_code)
    uow = current()
    uow.audit.object_ref = programme.code
    book = transfer.read(data or b"")
    if book.problems:
        raise ImportRejected(book.problems)
    axis = _axis()
    existing = {t.code: t for t in Task.objects.filter(programme=programme)}
    projects = {p.code: p for p in Project.objects.filter(programme=programme)}
    new_projects: dict[str, str] = {}
    rows: list[dict] = []
    seen: dict[str, int] = {}
    departments: dict[str, Department | None] = {}
    users: dict[str, User | None] = {}

    def dept(value: str) -> Department | None:
        if value not in departments:
            departments[value] = _department(value)
        return departments[value]

    for number, row in book.tasks:

        def problem(key, code, message, number=number):
            book.problem("tasks", number, key, code, message)

        code = row.get("code", "").strip()
        if not CODE_RE.match(code) or "+" in code:
            problem("code", "invalid", _("Use 1–40 letters, digits, “.”, “_” or “-”."))
        elif code in existing:
            problem("code", "exists", _("The programme already has a task with this code."))
        elif code in seen:
            problem(
                "code",
                "duplicate",
                Formatted(_("The same code is on row %(row)d."), {"row": seen[code]}),
            )
        else:
            seen[code] = number
        project_code = row.get("project_code", "").strip()
        if not CODE_RE.match(project_code):
            problem("project_code", "invalid", _("Use 1–40 letters, digits, “.”, “_” or “-”."))
        elif project_code not in projects and project_code not in new_projects:
            project_name = row.get("project_name", "").strip()
            if not project_name:
                problem("project_name", "required", _("A new project needs a name."))
            elif len(project_name) > 200:
                problem("project_name", "max_length", Formatted(_("At most %(n)d characters."), {"n": 200}))
            else:
                new_projects[project_code] = project_name
        name = row.get("name", "").strip()
        if not name:
            problem("name", "required", _("This field is required."))
        elif len(name) > 200:
            problem("name", "max_length", Formatted(_("At most %(n)d characters."), {"n": 200}))
        kind = KIND_WORDS.get(row.get("kind", "").strip().lower() or "task")
        if kind is None:
            problem("kind", "invalid", _("Use 任务 (task) or 里程碑 (milestone)."))
        owner_department = dept(row.get("owner_department", ""))
        if owner_department is None:
            problem("owner_department", "unknown", _("No such department."))
        owner = None
        username = row.get("owner", "").strip()
        if username:
            if username not in users:
                users[username] = User.objects.filter(username=username, is_active=True).first()
            owner = users[username]
            if owner is None:
                problem("owner", "unknown", _("No such user."))
        co_owners = []
        for value in transfer.LIST_SPLIT.split(row.get("co_owners", "").strip()):
            if value:
                d = dept(value)
                if d is None:
                    problem(
                        "co_owners",
                        "unknown",
                        Formatted(_("No such department: %(name)s."), {"name": value}),
                    )
                else:
                    co_owners.append(d)
        start = _date(row.get("start", ""))
        if start is None:
            problem("start", "invalid", _("Enter a date as YYYY-MM-DD."))
        finish_text, duration_text = row.get("finish", "").strip(), row.get("duration", "").strip()
        duration = None
        if kind == TaskKind.MILESTONE:
            duration = 0
        elif duration_text:
            value = _number(duration_text)
            if value is None or not value.is_integer() or not 1 <= value <= 5000:
                problem("duration", "invalid", _("Enter a whole number of working days from 1 to 5000."))
            else:
                duration = int(value)
        elif finish_text:
            finish = _date(finish_text)
            if finish is None:
                problem("finish", "invalid", _("Enter a date as YYYY-MM-DD."))
            elif start is not None:
                if finish < start:
                    problem("finish", "before_start", _("The deadline is before the start."))
                else:
                    first = axis.start_index(start)
                    duration = max(axis.start_index(finish + dt.timedelta(days=1)) - first, 1)
        elif kind == TaskKind.TASK:
            problem("finish", "required", _("Give a deadline or a duration in working days."))
        predecessors = _predecessors(row.get("predecessors", ""))
        if predecessors is None:
            problem("predecessors", "invalid", _("List task codes, each with an optional lag: T1, T2+3."))
        weight_text = row.get("weight", "").strip() or "1"
        try:
            weight = Decimal(weight_text)
            if not weight.is_finite() or not Decimal(0) <= weight <= Decimal(999999):
                raise InvalidOperation
            weight = weight.quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            problem("weight", "invalid", _("Enter a number from 0 to 999999."))
            weight = None
        deliverable = row.get("deliverable", "").strip()
        if len(deliverable) > 500:
            problem("deliverable", "max_length", Formatted(_("At most %(n)d characters."), {"n": 500}))
        status = STATUS_WORDS.get(row.get("status", "").strip() or TaskStatus.NOT_STARTED)
        if status is None:
            problem("status", "invalid", _("Unknown status."))
        percent = _percent(row.get("percent", "").strip() or "0")
        if percent is None:
            percent_value = _number(row.get("percent", ""))
            if percent_value is not None and row.get("percent", "").strip().endswith("%"):
                percent = _percent(percent_value * 100)
        if percent is None:
            problem("percent", "invalid", _("Enter a whole number from 0 to 100."))
        three = []
        for key in ("optimistic", "likely", "pessimistic"):
            text = row.get(key, "").strip()
            if not text:
                three.append(None)
                continue
            value = _number(text)
            if value is None or not 0 <= value <= 5000:
                problem(key, "invalid", _("Enter a number of working days from 0 to 5000."))
            three.append(value)
        if any(v is not None for v in three):
            if any(v is None for v in three):
                problem("optimistic", "incomplete", _("Give all three estimates or none."))
            elif not three[0] <= three[1] <= three[2]:
                problem("likely", "order", _("Optimistic ≤ most likely ≤ pessimistic."))
        kpi = _kpi_fields(row, problem, dept)
        rows.append(
            {
                "kpi": kpi,
                "number": number,
                "code": code,
                "project": project_code,
                "name": name,
                "kind": kind,
                "owner_department": owner_department,
                "owner": owner,
                "co_owners": co_owners,
                "start": start,
                "duration": duration,
                "predecessors": predecessors or [],
                "weight": weight,
                "deliverable": deliverable,
                "status": status,
                "percent": percent,
                "three": three,
            }
        )
    known = set(existing) | set(seen)
    for row in rows:
        for code, _lag in row["predecessors"]:
            if code not in known:
                book.problem(
                    "tasks",
                    row["number"],
                    "predecessors",
                    "unknown",
                    Formatted(_("No task with the code %(code)s."), {"code": code}),
                )
            elif code == row["code"]:
                book.problem(
                    "tasks", row["number"], "predecessors", "self", _("A task cannot precede itself.")
                )
    risk_rows = _risk_rows(book, known)
    if not book.problems:
        # a loop of links is a plan problem too: find it before anything is written
        preds = {r["code"]: r["predecessors"] for r in rows}
        for link in Dependency.objects.filter(successor__programme=programme).select_related(
            "predecessor", "successor"
        ):
            preds.setdefault(link.successor.code, []).append((link.predecessor.code, link.lag_days))
        try:
            schedule.topological(known, preds)
        except schedule.CycleError as exc:
            members = set(exc.members)
            for row in rows:
                if row["code"] in members:
                    book.problem(
                        "tasks",
                        row["number"],
                        "predecessors",
                        "cycle",
                        Formatted(_("The links loop back: %(tasks)s."), {"tasks": "、".join(exc.members)}),
                    )
    if book.problems:
        raise ImportRejected(book.problems)
    return _save_plan(actor, programme, rows, new_projects, projects, existing, risk_rows)


def _risk_rows(book: transfer.Workbook, known: set[str]) -> list[dict]:
    out, seen = [], set()
    for number, row in book.risks:

        def problem(key, code, message, number=number):
            book.problem("risks", number, key, code, message)

        code = row.get("code", "").strip()
        if not CODE_RE.match(code):
            problem("code", "invalid", _("Use 1–40 letters, digits, “.”, “_” or “-”."))
        elif code in seen:
            problem("code", "duplicate", _("The same code is on another row."))
        seen.add(code)
        name = row.get("name", "").strip()
        if not name or len(name) > 200:
            problem("name", "required", _("This field is required."))
        probability = _number(row.get("probability", ""))
        if probability is None or not 0 <= probability <= 1:
            problem("probability", "invalid", _("Enter a probability from 0 to 1 (or 0 % to 100 %)."))
        delay = _number(row.get("delay", ""))
        if delay is None or not 0 <= delay <= 1000:
            problem("delay", "invalid", _("Enter a delay of 0 to 1000 working days."))
        tasks = [c for c in transfer.LIST_SPLIT.split(row.get("tasks", "").strip()) if c]
        for c in tasks:
            if c not in known:
                problem("tasks", "unknown", Formatted(_("No task with the code %(code)s."), {"code": c}))
        out.append({"code": code, "name": name, "probability": probability, "delay": delay, "tasks": tasks})
    return out


def _save_plan(actor, programme, rows, new_projects, projects, existing, risk_rows) -> ImportReport:
    axis = _axis()
    for position, (code, name) in enumerate(new_projects.items(), start=len(projects)):
        projects[code] = Project.objects.create(programme=programme, code=code, name=name, position=position)
    tasks = []
    for row in rows:
        o, m, p = row["three"]
        tasks.append(
            Task(
                programme=programme,
                project=projects[row["project"]],
                code=row["code"],
                name=row["name"],
                kind=row["kind"],
                owner_department=row["owner_department"],
                owner_person=row["owner"],
                not_before=row["start"],
                duration_days=row["duration"],
                start=row["start"],
                finish=row["start"],
                weight=row["weight"],
                deliverable=row["deliverable"],
                status=row["status"],
                percent=row["percent"],
                optimistic_days=o,
                likely_days=m,
                pessimistic_days=p,
                **row["kpi"],
            )
        )
    Task.objects.bulk_create(tasks, batch_size=500)
    by_code = {t.code: t for t in Task.objects.filter(programme=programme)}
    through = Task.co_owners.through
    co_links = [
        through(task_id=by_code[row["code"]].pk, department_id=d.pk)
        for row in rows
        for d in set(row["co_owners"])
    ]
    through.objects.bulk_create(co_links, batch_size=1000)
    links = {}
    for row in rows:
        for code, lag in row["predecessors"]:
            links[(by_code[code].pk, by_code[row["code"]].pk)] = lag
    Dependency.objects.bulk_create(
        [Dependency(predecessor_id=a, successor_id=b, lag_days=lag) for (a, b), lag in links.items()],
        batch_size=1000,
    )
    for r in risk_rows:
        risk, _created = Risk.objects.update_or_create(
            programme=programme,
            code=r["code"],
            defaults={"name": r["name"], "probability": r["probability"], "delay_days": r["delay"]},
        )
        risk.tasks.set([by_code[c] for c in r["tasks"]])
    moved = _apply_schedule(programme, baseline_new=True)
    imported = {row["code"] for row in rows}
    tasks_now = {
        t.code: t for t in Task.objects.filter(programme=programme).select_related("owner_department")
    }
    for row in rows:
        t = tasks_now[row["code"]]
        t.programme = programme
        _event(
            t,
            act.PLANNED,
            actor,
            project=row["project"],
            kind=t.kind,
            start=t.start.isoformat(),
            finish=t.finish.isoformat(),
            duration=t.duration_days,
            source="xlsx",
        )
    for m in moved:
        if m.task.code not in imported:
            _event(
                m.task,
                act.RESCHEDULED,
                actor,
                start=m.new_start.isoformat(),
                finish=m.task.finish.isoformat(),
                shift=m.shift,
                cause="predecessor",
            )
    _tasks, timings = _schedule(programme)
    critical = sorted(code for code, t in timings.items() if t.critical)
    report = ImportReport(len(rows), len(new_projects), len(risk_rows), len(links), critical)
    current().audit.detail = {"tasks": report.tasks, "projects": report.projects, "risks": report.risks}
    del axis
    return report


def _plan_rows(programme: Programme) -> list[list]:
    tasks = list(
        Task.objects.filter(programme=programme)
        .select_related("project", "owner_department", "owner_person", "kpi_department")
        .prefetch_related("co_owners")
        .order_by("project__position", "project__code", "start", "code")
    )
    preds: dict[int, list[str]] = {}
    codes = {t.pk: t.code for t in tasks}
    for a, b, lag in _links(programme):
        preds.setdefault(b, []).append(codes[a] + (f"+{lag}" if lag > 0 else (f"-{-lag}" if lag < 0 else "")))
    kind_word = {TaskKind.TASK: "任务", TaskKind.MILESTONE: "里程碑"}
    status_word = {v: k for k, v in STATUS_WORDS.items() if k != v}
    rows = []
    for t in tasks:
        rows.append(
            [
                t.project.code,
                t.project.name,
                t.code,
                t.name,
                kind_word[t.kind],
                t.owner_department.code,
                t.owner_person.username if t.owner_person else "",
                "、".join(d.code for d in t.co_owners.all()),
                t.not_before,
                t.finish,
                t.duration_days if t.kind == TaskKind.TASK else "",
                ", ".join(preds.get(t.pk, [])),
                float(t.weight),
                t.deliverable,
                status_word.get(t.status, t.status),
                t.percent,
                t.optimistic_days,
                t.likely_days,
                t.pessimistic_days,
                t.kpi,
                t.kpi_department.code if t.kpi_department else "",
                t.kpi_item,
                t.kpi_region,
                t.kpi_target,
                t.kpi_window_days if t.kpi else "",
                t.kpi_hold_days if t.kpi else "",
            ]
        )
    return rows


def export_plan(actor, programme_code: str) -> tuple[str, bytes]:
    """The plan as a workbook import reads back (tasks, and risks on the 风险 sheet)."""
    programme = access_programme(actor, programme_code)
    rows = _plan_rows(programme)
    # the duration is exported and the deadline is derived from it: import prefers the duration
    risks = [
        [r.code, r.name, r.probability, r.delay_days, "、".join(t.code for t in r.tasks.all())]
        for r in programme.risks.prefetch_related("tasks")
    ]
    sheets = [("计划", list(transfer.COLUMNS.values()), rows)]
    if risks:
        sheets.append(("风险", list(transfer.RISK_COLUMNS.values()), risks))
    return f"plan-{programme.code}.xlsx", transfer.workbook_bytes(sheets)


def three_lists(actor, programme_code: str) -> tuple[str, bytes]:
    """三单: 任务清单 (what), 责任清单 (who), 时限清单 (by when), one sheet each."""
    programme = access_programme(actor, programme_code)
    tasks = list(
        Task.objects.filter(programme=programme)
        .select_related("project", "owner_department", "owner_person")
        .prefetch_related("co_owners")
        .order_by("project__position", "project__code", "start", "code")
    )
    axis = _axis()
    on = today()
    light_word = {"red": "红", "yellow": "黄", "green": "绿", "done": "完成"}
    status_word = {v: k for k, v in STATUS_WORDS.items() if k != v}
    task_list = [
        [
            i,
            t.project.name,
            t.code,
            t.name,
            "里程碑" if t.kind == TaskKind.MILESTONE else "任务",
            t.deliverable,
            float(t.weight),
        ]
        for i, t in enumerate(tasks, start=1)
    ]
    duty_list = [
        [
            i,
            t.code,
            t.name,
            t.owner_department.name,
            t.owner_person.get_full_name() or t.owner_person.username if t.owner_person else "",
            "、".join(d.name for d in t.co_owners.all()),
        ]
        for i, t in enumerate(tasks, start=1)
    ]
    deadline_list = [
        [
            i,
            t.code,
            t.name,
            t.start,
            t.finish,
            t.duration_days,
            status_word.get(t.status, t.status),
            t.percent,
            light_word[traffic_light(t, on, axis)],
        ]
        for i, t in enumerate(tasks, start=1)
    ]
    sheets = [
        ("任务清单", ["序号", "项目", "任务编号", "任务名称", "类型", "交付成果", "权重"], task_list),
        ("责任清单", ["序号", "任务编号", "任务名称", "牵头部门", "责任人", "协办部门"], duty_list),
        (
            "时限清单",
            [
                "序号",
                "任务编号",
                "任务名称",
                "开始日期",
                "截止日期",
                "工期（工作日）",
                "状态",
                "完成率",
                "红黄绿",
            ],
            deadline_list,
        ),
    ]
    return f"three-lists-{programme.code}.xlsx", transfer.workbook_bytes(sheets)


# --- Gantt ---------------------------------------------------------------------------------------


def gantt(actor, programme_code: str, *, on: dt.date | None = None) -> dict:
    """Everything the Gantt chart draws: tasks (current and baseline dates, float, critical flag,
    red/yellow/green), links, today, and what the caller may do.

    Served for a programme of 2,000 tasks on every page view and drag (bench programme_gantt), so
    it reads plain rows, one query per relation (tasks, links, projects, owner departments), and
    runs the critical path over task numbers and flat lists (schedule.cpm_indexed): per-task
    objects cost more in allocation and garbage collection than the computation itself."""
    programme = access_programme(actor, programme_code)
    on = on or today()
    axis = _axis()
    tasks = list(
        Task.objects.filter(programme=programme)
        .order_by("project__position", "project__code", "start", "code")
        .values_list(
            "pk",
            "code",
            "name",
            "kind",
            "start",
            "finish",
            "baseline_start",
            "baseline_finish",
            "duration_days",
            "percent",
            "status",
            "not_before",
            "project_id",
            "owner_department_id",
        )
    )
    projects = {
        pk: (code, name)
        for pk, code, name in Project.objects.filter(programme=programme).values_list("pk", "code", "name")
    }
    owners = {
        pk: short or full
        for pk, short, full in Department.objects.filter(pk__in={t[13] for t in tasks}).values_list(
            "pk", "short_name", "name"
        )
    }
    number = {t[0]: i for i, t in enumerate(tasks)}
    links = _links(programme)
    es, _ef, ls, _lf = schedule.cpm_indexed(
        [t[8] for t in tasks],
        [schedule.constraint_index(axis, t[11], t[3] == TaskKind.MILESTONE) for t in tasks],
        [number[a] for a, _b, _lag in links],
        [number[b] for _a, b, _lag in links],
        [lag for _a, _b, lag in links],
    )
    rows = []
    for i, (
        _pk,
        code,
        name,
        kind,
        start,
        finish,
        b_start,
        b_finish,
        duration,
        percent,
        status,
        _nb,
        project_id,
        owner_id,
    ) in enumerate(tasks):
        slack = ls[i] - es[i]
        project_code, project_name = projects[project_id]
        rows.append(
            {
                "code": code,
                "name": name,
                "project": project_code,
                "project_name": project_name,
                "kind": kind,
                "owner": owners[owner_id],
                "start": start.isoformat(),
                "finish": finish.isoformat(),
                "baseline_start": b_start.isoformat() if b_start else None,
                "baseline_finish": b_finish.isoformat() if b_finish else None,
                "duration": duration,
                "percent": percent,
                "status": status,
                "float": int(slack),
                "critical": slack <= 0,
                "light": _light(status, start, finish, duration, percent, on, axis),
            }
        )
    code_of = [t[1] for t in tasks]
    return {
        "programme": programme.code,
        "name": programme.name,
        "today": on.isoformat(),
        "may_plan": may_plan(actor, programme),
        "tasks": rows,
        "links": [{"from": code_of[number[a]], "to": code_of[number[b]], "lag": lag} for a, b, lag in links],
        "critical_path": [r["code"] for r in sorted(rows, key=lambda r: r["start"]) if r["critical"]],
    }


# --- schedule risk -------------------------------------------------------------------------------


def schedule_risk(
    actor, programme_code: str, *, runs=10_000, seed=0, distribution: str = "triangular"
) -> dict:
    """The programme's finish by Monte Carlo: P50/P80/P90 dates, histogram, S-curve, and each task's
    criticality index."""
    programme = access_programme(actor, programme_code)
    errors = FieldErrors()
    try:
        runs = int(runs)
        if not 100 <= runs <= 100_000:
            raise ValueError
    except (TypeError, ValueError):
        errors.add("runs", "invalid", _("Enter a number of runs from 100 to 100000."))
    try:
        seed = int(seed)
        if not 0 <= seed < 2**32:
            raise ValueError
    except (TypeError, ValueError):
        errors.add("seed", "invalid", _("Enter a seed from 0 to 4294967295."))
    if distribution not in montecarlo.DISTRIBUTIONS:
        errors.add("distribution", "invalid", _("Use triangular or pert."))
    errors.raise_if_any()
    axis = _axis()
    tasks = list(Task.objects.filter(programme=programme))
    if not tasks:
        raise InvalidInput.single("programme", "empty", _("The programme has no tasks."))
    links = _links(programme)
    nodes = _nodes(axis, tasks, links)
    origin = min(n.not_before for n in nodes.values())
    estimates = []
    for t in tasks:
        d = float(t.duration_days)
        o, m, p = t.optimistic_days, t.likely_days, t.pessimistic_days
        if o is None or m is None or p is None:
            o = m = p = d
        estimates.append(
            montecarlo.TaskEstimate(
                t.code, o, m, p, float(nodes[t.code].not_before - origin), tuple(nodes[t.code].preds)
            )
        )
    risks = [
        montecarlo.RiskEvent(r.code, r.probability, r.delay_days, tuple(t.code for t in r.tasks.all()))
        for r in programme.risks.prefetch_related("tasks")
    ]
    result = montecarlo.simulate(estimates, risks, runs=runs, seed=seed, distribution=distribution)

    def day(boundary: float) -> str:
        # a finish boundary b (working days from the origin) falls on working day ceil(b) − 1
        import math

        return axis.date(origin + max(math.ceil(boundary - 1e-9), 1) - 1).isoformat()

    counts, edges = result.histogram()
    return {
        "runs": runs,
        "seed": seed,
        "distribution": distribution,
        "deterministic": day(result.deterministic),
        "p50": day(result.percentile(50)),
        "p80": day(result.percentile(80)),
        "p90": day(result.percentile(90)),
        "histogram": {"counts": counts, "edges": [day(e) for e in edges]},
        "s_curve": [(day(v), s) for v, s in result.s_curve(20)],
        "criticality": dict(sorted(result.criticality.items(), key=lambda kv: -kv[1])),
    }


# --- KPI-bound tasks -----------------------------------------------------------------------------


def _kpi_source():
    """The module that measures KPIs (settings.TONGBAN_PROGRAMME_KPI_SOURCE: insight's)."""
    import importlib

    return importlib.import_module(settings.TONGBAN_PROGRAMME_KPI_SOURCE)


def kpi_catalogue() -> dict[str, tuple[str, str]]:
    """KPI key → (label, direction) of the KPIs a task may be bound to."""
    return _kpi_source().catalogue()


def _kpi_fields(row: dict, problem, dept) -> dict:
    """The KPI columns of an import row: empty, or a known KPI with a target (a rate as 0–1 or %)."""
    text = row.get("kpi", "").strip()
    if not text:
        return {}
    catalogue = kpi_catalogue()
    by_label = {label: key for key, (label, _d) in catalogue.items()}
    key = text if text in catalogue else by_label.get(text)
    out: dict = {}
    if key is None:
        problem("kpi", "unknown", Formatted(_("Unknown KPI: %(name)s."), {"name": text}))
    else:
        out["kpi"] = key
    target = _number(row.get("kpi_target", ""))
    if target is None or target < 0:
        problem(
            "kpi_target", "invalid", _("A KPI-bound task needs a target (a number; a rate as 0.9 or 90 %).")
        )
    else:
        out["kpi_target"] = target
    if row.get("kpi_department", "").strip():
        department = dept(row["kpi_department"])
        if department is None:
            problem("kpi_department", "unknown", _("No such department."))
        out["kpi_department"] = department
    item = row.get("kpi_item", "").strip()
    region = row.get("kpi_region", "").strip()
    if len(item) > 60:
        problem("kpi_item", "max_length", Formatted(_("At most %(n)d characters."), {"n": 60}))
    if region and not re.match(r"^\d{6}$", region):
        problem("kpi_region", "invalid", _("Enter a six-digit region code (GB/T 2260)."))
    out["kpi_item"], out["kpi_region"] = item, region
    for column, field_name, low, high, default in (
        ("kpi_window", "kpi_window_days", 1, 366, 30),
        ("kpi_hold", "kpi_hold_days", 1, 366, 7),
    ):
        value = row.get(column, "").strip()
        number = _number(value) if value else default
        if number is None or not float(number).is_integer() or not low <= number <= high:
            problem(
                column,
                "invalid",
                Formatted(_("Enter a whole number from %(low)d to %(high)d."), {"low": low, "high": high}),
            )
        else:
            out[field_name] = int(number)
    return out


@dataclass
class KpiResult:
    task: Task
    value: float | None
    cases: int
    met: bool
    achieved: bool


def measure_kpis(actor, *, on: dt.date | None = None, refresh: bool = True) -> list[KpiResult]:
    """The nightly measurement of every open KPI-bound task (programme.tasks): each KPI over the
    task's window ending `on`, in its scope, recorded as that day's point of the task's series. A
    task is achieved — done, 100 % — when its last `kpi_hold_days` daily measurements all met the
    target, on consecutive days. Measuring happens before the transaction that records it."""
    require(actor, perms.PROGRAMME_PLAN)
    on = on or today()
    tasks = list(
        Task.objects.filter(kpi__gt="", kpi_achieved_on__isnull=True, kpi_target__isnull=False)
        .exclude(status=TaskStatus.CANCELLED)
        .select_related("programme", "owner_department", "kpi_department")
    )
    tasks = [t for t in tasks if actor.can(perms.PROGRAMME_PLAN, t.programme.department)]
    specs = [
        {
            "kpi": t.kpi,
            "start": on - dt.timedelta(days=t.kpi_window_days - 1),
            "end": on,
            "department_path": t.kpi_department.path if t.kpi_department else "",
            "item": t.kpi_item,
            "region": t.kpi_region,
        }
        for t in tasks
    ]
    values = _kpi_source().measure(specs, refresh=refresh) if specs else []
    return _record_measurements(actor, on, list(zip(tasks, values, strict=True)))


@use_case("programme.measure_kpis", object_type="programme_task")
def _record_measurements(actor, on: dt.date, measured: list) -> list[KpiResult]:
    from .models import KpiMeasurement

    catalogue = kpi_catalogue()
    results = []
    for task, figure in measured:
        value, cases = figure["value"], figure["cases"]
        direction = catalogue.get(task.kpi, ("", "high"))[1]
        met = value is not None and (
            value >= task.kpi_target if direction == "high" else value <= task.kpi_target
        )
        KpiMeasurement.objects.update_or_create(
            task=task, measured_on=on, defaults={"value": value, "cases": cases, "met": met}
        )
        _event(
            task,
            act.KPI_MEASURED,
            None,
            kpi=task.kpi,
            value=value,
            target=task.kpi_target,
            met=met,
            cases=cases,
        )
        recent = list(
            KpiMeasurement.objects.filter(task=task, measured_on__lte=on).order_by("-measured_on")[
                : task.kpi_hold_days
            ]
        )
        held = (
            len(recent) == task.kpi_hold_days
            and all(m.met for m in recent)
            and all(
                (recent[i].measured_on - recent[i + 1].measured_on).days == 1 for i in range(len(recent) - 1)
            )
        )
        if held:
            task.kpi_achieved_on = task.done_on = on
            task.status, task.percent = TaskStatus.DONE, 100
            task.save(update_fields=["kpi_achieved_on", "done_on", "status", "percent", "updated_at"])
            _event(
                task, act.KPI_ACHIEVED, None, kpi=task.kpi, target=task.kpi_target, held=task.kpi_hold_days
            )
        results.append(KpiResult(task, value, cases, met, held))
    current().audit.detail = {
        "on": on.isoformat(),
        "measured": len(results),
        "achieved": [f"{r.task.programme.code}/{r.task.code}" for r in results if r.achieved],
    }
    return results


def kpi_overview(actor, programme_code: str) -> dict[str, dict]:
    """Task code → its KPI, target, latest measurement and achievement, for the KPI-bound tasks."""
    from .models import KpiMeasurement

    programme = access_programme(actor, programme_code)
    catalogue = kpi_catalogue()
    tasks = list(Task.objects.filter(programme=programme, kpi__gt=""))
    latest = {}
    for m in KpiMeasurement.objects.filter(task__in=tasks).order_by("measured_on"):
        latest[m.task_id] = m
    return {
        t.code: {
            "kpi": catalogue.get(t.kpi, (t.kpi, ""))[0],
            "target": t.kpi_target,
            "value": latest[t.pk].value if t.pk in latest else None,
            "met": latest[t.pk].met if t.pk in latest else None,
            "on": latest[t.pk].measured_on if t.pk in latest else None,
            "achieved_on": t.kpi_achieved_on,
        }
        for t in tasks
    }


def kpi_series(actor, programme_code: str, task_code: str) -> list[dict]:
    task = access_task(actor, programme_code, task_code)
    return [
        {"on": m.measured_on.isoformat(), "value": m.value, "cases": m.cases, "met": m.met}
        for m in task.measurements.order_by("measured_on")
    ]


# --- warnings and the league table ----------------------------------------------------------------


@use_case("programme.warning_letter", object_type="programme_task")
def warning_letter(
    actor, programme_code: str, task_code: str, *, on: dt.date | None = None
) -> tuple[str, bytes]:
    """预警函: a letter to the owner department of a red task (and its head), with the task, its
    deadline, the time used and the progress, as PDF (core.pdf); journalled and on the task's log."""
    from tongban.core.pdf import SIZE_3HAO, cjk_pdf

    task = access_task(actor, programme_code, task_code)
    current().audit.object_ref = f"{task.programme.code}/{task.code}"
    if not may_plan(actor, task.programme):
        raise NotPermitted()
    on = on or today()
    if traffic_light(task, on) != "red":
        raise InvalidInput.single("task", "not_red", _("Warning letters go to red tasks only."))
    department = task.owner_department
    bureau = department
    while bureau.parent_id and bureau.kind == "section":
        bureau = bureau.parent
    overdue = on > task.finish
    pdf = cjk_pdf(title="进度预警函", created=on, author=task.programme.name, subject=department.name)
    pdf.paragraph("进度预警函", size=22, bold=True, align="center", indent=0)
    pdf.paragraph(f"{bureau.name}主要负责人：", size=SIZE_3HAO, indent=0)
    state = (
        f"已超过截止日期（{task.finish:%Y年%m月%d日}）{_axis().between(task.finish, on)}个工作日仍未完成"
        if overdue
        else f"截止日期为{task.finish:%Y年%m月%d日}，时间已过大半而进度明显滞后"
    )
    pdf.paragraph(
        f"根据“{task.programme.name}”进度监测，由{department.name}牵头的任务“{task.code} {task.name}”"
        f"（计划{task.start:%Y年%m月%d日}开始，工期{task.duration_days}个工作日）{state}，"
        f"目前完成率为{task.percent}%，处于红色预警状态。"
    )
    pdf.paragraph(
        "请你单位自收到本函之日起三个工作日内查明滞后原因，制定赶工措施并明确完成时限，"
        "书面报送流程再造工作专班。逾期未整改的，将纳入考核通报。"
    )
    pdf.sign_off("流程再造工作专班", f"{on:%Y年%m月%d日}")
    _event(task, act.WARNED, actor, finish=task.finish.isoformat(), percent=task.percent)
    return f"warning-{task.programme.code}-{task.code}.pdf", pdf.to_bytes()


def league_table(actor, programme_code: str, *, on: dt.date | None = None) -> list[dict]:
    """Owner departments ranked by on-time delivery: of their tasks due by `on`, the share done by
    the deadline (best first; ties by fewer overdue tasks)."""
    programme = access_programme(actor, programme_code)
    on = on or today()
    rows: dict[int, dict] = {}
    for t in Task.objects.filter(programme=programme).select_related("owner_department"):
        row = rows.setdefault(
            t.owner_department_id,
            {"department": t.owner_department.name, "code": t.owner_department.code, "tasks": 0, "due": 0}
            | {"on_time": 0, "late": 0, "overdue": 0, "red": 0},
        )
        row["tasks"] += 1
        if traffic_light(t, on) == "red":
            row["red"] += 1
        if t.status == TaskStatus.CANCELLED or t.finish >= on:
            continue
        row["due"] += 1
        if t.status == TaskStatus.DONE and t.done_on and t.done_on <= t.finish:
            row["on_time"] += 1
        elif t.status == TaskStatus.DONE:
            row["late"] += 1
        else:
            row["overdue"] += 1
    out = list(rows.values())
    for row in out:
        row["rate"] = row["on_time"] / row["due"] if row["due"] else None
    out.sort(key=lambda r: (r["rate"] is None, -(r["rate"] or 0), r["overdue"], r["code"]))
    for rank, row in enumerate(out, start=1):
        row["rank"] = rank
    return out
