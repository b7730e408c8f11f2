"""督查督办: a leader's instruction (批示), on a document or on its own, becomes a supervised task
with a lead department, co-owners, a deadline in working days, progress reports, red/yellow/green
by the same calendar rule as a case, a 督办通知 (supervision notice, GB/T 9704 letter form) once it
is overdue, and closing with evidence. The overview gives 办结率 and 按时办结率 per department.

Who may do what: a leader (document.sign) over the lead department, or a supervisor
(work.supervise) over it, gives the instruction, issues notices and closes the task; staff of the
lead and co-owning departments (document.view) read it and report progress.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms
from tongban.accounts.models import Department
from tongban.core import calendar
from tongban.core.errors import Conflict, FieldErrors, NotFound, NotPermitted
from tongban.core.uow import current, use_case

from . import activities as act
from . import services
from .models import Document, Form, ProgressReport, SupervisedTask, TaskStatus

LIMIT_MAX = 250
TEXT_MAX = 4000


def _leads(actor, department: Department) -> bool:
    return bool(actor.can(perms.DOCUMENT_SIGN, department) or actor.can(perms.WORK_SUPERVISE, department))


def may_instruct(actor, department: Department | None = None) -> bool:
    if department is None:
        return bool(actor.can(perms.DOCUMENT_SIGN) or actor.can(perms.WORK_SUPERVISE))
    return _leads(actor, department)


def may_see(actor, task: SupervisedTask) -> bool:
    user = getattr(actor, "user", None)
    if getattr(actor, "is_system", False) or (user is not None and task.instructed_by_id == user.pk):
        return True
    if _leads(actor, task.lead_department):
        return True
    departments = [task.lead_department, *task.co_departments.all()]
    return any(actor.can(perms.DOCUMENT_VIEW, d) for d in departments)


def may_report(actor, task: SupervisedTask) -> bool:
    departments = [task.lead_department, *task.co_departments.all()]
    return task.status == TaskStatus.OPEN and any(actor.can(perms.DOCUMENT_DRAFT, d) for d in departments)


def may_close(actor, task: SupervisedTask) -> bool:
    return task.status == TaskStatus.OPEN and _leads(actor, task.lead_department)


def colour(task: SupervisedTask, now=None) -> str:
    """Red, yellow or green while open (DOMAIN.md: as a case's limit); "" once closed."""
    if task.status != TaskStatus.OPEN:
        return ""
    now = now or timezone.now()
    return calendar.get_calendar().status(task.created_at, task.limit_days, now).colour


def may_notice(actor, task: SupervisedTask, now=None) -> bool:
    return colour(task, now) == "red" and _leads(actor, task.lead_department)


def tasks(actor, *, status: str = "", department_code: str = ""):
    """The supervised tasks the caller may see, soonest due first."""
    services._authenticated(actor)
    if getattr(actor, "is_citizen", False):
        raise NotPermitted()
    errors = FieldErrors()
    if status and status not in TaskStatus.values:
        errors.add("status", "choice", _("Choose one of the allowed values."))
    errors.raise_if_any()
    rows = SupervisedTask.objects.select_related("lead_department", "instructed_by")
    if not getattr(actor, "is_system", False):
        q = Q(instructed_by=getattr(actor, "user", None))
        for permission in (perms.DOCUMENT_SIGN, perms.WORK_SUPERVISE, perms.DOCUMENT_VIEW):
            if actor.can(permission):
                q |= actor.scope_q(permission, "lead_department__path")
        if actor.can(perms.DOCUMENT_VIEW):
            q |= actor.scope_q(perms.DOCUMENT_VIEW, "co_departments__path")
        rows = rows.filter(q).distinct()
    if status:
        rows = rows.filter(status=status)
    if department_code:
        rows = rows.filter(lead_department__code=department_code)
    return rows.order_by("status", "due_at", "pk")


def access_task(actor, ref: str) -> SupervisedTask:
    services._authenticated(actor)
    task = (
        SupervisedTask.objects.select_related("lead_department", "instructed_by", "document", "closed_by")
        .filter(ref=str(ref or ""))
        .first()
    )
    if task is None or not may_see(actor, task):
        raise NotFound()
    return task


@use_case("documents.supervise", object_type="supervised_task")
def create_task(
    actor,
    *,
    title: str,
    instruction: str,
    lead_department: str,
    co_departments=(),
    limit_days,
    document_ref: str = "",
) -> SupervisedTask:
    """A leader's 批示 put under supervision: due `limit_days` working days from now."""
    services._authenticated(actor)
    errors = FieldErrors()
    title = errors.require_text("title", title, max_length=200)
    instruction = errors.require_text("instruction", instruction, max_length=TEXT_MAX)
    lead = Department.objects.filter(code=str(lead_department or "").strip()).first()
    if lead is None:
        errors.add("lead_department", "unknown", _("No such department."))
    if isinstance(co_departments, str):
        co_departments = co_departments.replace("，", ",").split(",")
    co_codes = [c.strip() for c in co_departments or () if c and c.strip()]
    co = list(Department.objects.filter(code__in=co_codes))
    if len(co) != len(set(co_codes)):
        errors.add("co_departments", "unknown", _("No such department."))
    try:
        limit = int(str(limit_days).strip())
        if not 1 <= limit <= LIMIT_MAX:
            raise ValueError
    except (TypeError, ValueError):
        errors.add("limit_days", "range", _("Give a whole number of working days from 1 to 250."))
        limit = 0
    errors.raise_if_any()
    if not _leads(actor, lead):
        raise NotPermitted(_("Only a leader or a supervisor over the lead department gives instructions."))
    document = None
    if document_ref:
        document = services.access_document(actor, document_ref)
    at = services.now()
    staff = getattr(actor, "staff", None)
    task = SupervisedTask.objects.create(
        ref="DB" + secrets.token_hex(5).upper(),
        title=title,
        instruction=instruction,
        document=document,
        instructed_by=actor.user,
        supervising_department=staff.department if staff else lead,
        lead_department=lead,
        limit_days=limit,
        created_at=at,
        due_at=calendar.get_calendar().deadline(at, limit),
    )
    task.co_departments.set([d for d in co if d.pk != lead.pk])
    uow = current()
    uow.audit.object_ref = task.ref
    uow.audit.department_code = lead.code
    uow.event(
        act.TASK_KIND,
        task.ref,
        act.TASK_CREATED,
        at=at,
        actor=actor,
        department_code=lead.code,
        detail={"limit_days": limit, "lead": lead.code},
    )
    return task


@use_case("documents.supervise_report", object_type="supervised_task")
def report(actor, ref: str, *, text: str) -> ProgressReport:
    task = access_task(actor, ref)
    current().audit.object_ref = task.ref
    if not may_report(actor, task):
        raise NotPermitted()
    errors = FieldErrors()
    text = errors.require_text("text", text, max_length=TEXT_MAX)
    errors.raise_if_any()
    at = services.now()
    row = ProgressReport.objects.create(task=task, text=text, reported_by=actor.user, reported_at=at)
    current().event(
        act.TASK_KIND,
        task.ref,
        act.TASK_REPORTED,
        at=at,
        actor=actor,
        department_code=task.lead_department.code,
    )
    return row


@use_case("documents.supervise_close", object_type="supervised_task")
def close(actor, ref: str, *, evidence: str) -> SupervisedTask:
    """办结: closed with the evidence that it was done; on time or not is kept for the KPIs."""
    task = access_task(actor, ref)
    current().audit.object_ref = task.ref
    if task.status != TaskStatus.OPEN:
        raise Conflict(_("This task is already closed."))
    if not may_close(actor, task):
        raise NotPermitted()
    errors = FieldErrors()
    evidence = errors.require_text("evidence", evidence, max_length=TEXT_MAX)
    errors.raise_if_any()
    at = services.now()
    task.status = TaskStatus.CLOSED
    task.closed_at = at
    task.closed_by = actor.user
    task.evidence = evidence
    task.save()
    current().event(
        act.TASK_KIND,
        task.ref,
        act.TASK_CLOSED,
        at=at,
        actor=actor,
        department_code=task.lead_department.code,
        detail={"on_time": at <= task.due_at},
    )
    return task


def _notice_document(task: SupervisedTask, at: dt.datetime) -> Document:
    """The 督办通知 as a document in letter form (信函格式), never saved: only rendered."""
    from . import render

    local = timezone.localtime(at)
    due = timezone.localtime(task.due_at)
    office = services.agency_of(task.supervising_department)
    overdue = calendar.get_calendar().working_days_between(due.date(), local.date())

    def day(value) -> str:  # as GB/T 9704 writes dates: no leading zeros
        return render.chinese_date(timezone.localtime(value).date())

    body = (
        f"{task.instructed_by.display_name}同志于{day(task.created_at)}作出批示：“{task.instruction}”\n"
        f"该事项由你单位牵头办理，办理时限为{task.limit_days}个工作日，应于{day(due)}前办结。"
        f"截至{day(local)}，该事项尚未办结，已逾期{max(overdue, 1)}个工作日。\n"
        "请你单位高度重视，抓紧办理，于3个工作日内将办理进展和结果书面报送督查部门。"
    )
    return Document(
        ref=task.ref,
        doc_type="letter",
        form=Form.LETTER,
        mark=office.name,
        agency_code="督办",
        number=f"督办〔{local.year}〕{task.ref}",
        title=f"关于督办“{task.title}”的通知",
        main_recipients=f"{task.lead_department.name}：",
        body=body,
        issuer_name=f"{office.name}督查室",
        date=local.date(),
        created_at=at,
        signed_at=at,
    )


@use_case("documents.supervise_notice", object_type="supervised_task")
def notice_pdf(actor, ref: str) -> bytes:
    """督办通知 (预警函) for an overdue task, as a PDF; each one issued is on the event log."""
    from . import render

    task = access_task(actor, ref)
    current().audit.object_ref = task.ref
    if colour(task) != "red":
        raise Conflict(_("A supervision notice is issued only for an overdue task."))
    if not may_notice(actor, task):
        raise NotPermitted()
    at = services.now()
    content = render.render_pdf(_notice_document(task, at)).pdf
    current().event(
        act.TASK_KIND,
        task.ref,
        act.TASK_NOTICE,
        at=at,
        actor=actor,
        department_code=task.lead_department.code,
    )
    return content


@dataclass(frozen=True)
class DepartmentLine:
    department: str
    total: int
    open: int
    overdue: int
    closed: int
    closed_on_time: int

    @property
    def closing_rate(self) -> float | None:  # 办结率
        return self.closed / self.total if self.total else None

    @property
    def on_time_rate(self) -> float | None:  # 按时办结率
        return self.closed_on_time / self.closed if self.closed else None


def overview(actor, now=None) -> list[DepartmentLine]:
    """The supervisor's overview: per lead department, open, overdue and closed tasks and rates."""
    now = now or timezone.now()
    lines: dict[str, list] = {}
    for task in tasks(actor):
        line = lines.setdefault(task.lead_department.name, [0, 0, 0, 0, 0])
        line[0] += 1
        if task.status == TaskStatus.OPEN:
            line[1] += 1
            line[2] += colour(task, now) == "red"
        else:
            line[3] += 1
            line[4] += task.closed_at is not None and task.closed_at <= task.due_at
    return [DepartmentLine(name, *values) for name, values in sorted(lines.items())]
