"""Programme office endpoints: programmes, the plan workbook, the Gantt data, rescheduling (the
Gantt chart's drag), progress and the schedule risk; public consultations (list, detail, comment),
weekly reports (list, file, evidence), funds (overview, spending) and the risk register (list,
create, update). Thin over the programme's services, which authorise every call."""

import datetime as dt
from decimal import Decimal

import pydantic_core
from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from . import consultation, funds, risks, services, weekly

router = Router(tags=["programme"])


class ProgrammeIn(Schema):
    code: str
    name: str
    department_code: str = Field(..., description="the lead department's code")


class ProgrammeOut(Schema):
    code: str
    name: str
    department: str
    status: str


class ImportOut(Schema):
    tasks: int
    projects: int
    risks: int
    links: int
    critical: list[str]


class GanttTaskOut(Schema):
    code: str
    name: str
    project: str
    project_name: str
    kind: str
    owner: str
    start: dt.date
    finish: dt.date
    baseline_start: dt.date | None
    baseline_finish: dt.date | None
    duration: int
    percent: int
    status: str
    float: int = Field(..., description="total float in working days")
    critical: bool
    light: str = Field(..., description="green, yellow, red, done")


class LinkOut(Schema):
    from_: str = Field(..., alias="from")
    to: str
    lag: int


class GanttOut(Schema):
    programme: str
    name: str
    today: dt.date
    may_plan: bool
    tasks: list[GanttTaskOut]
    links: list[LinkOut]
    critical_path: list[str]


class RescheduleIn(Schema):
    start: str = Field(..., description="YYYY-MM-DD; a task's first day, a milestone's day")


class MovedOut(Schema):
    code: str
    old_start: dt.date
    start: dt.date
    finish: dt.date
    shift: int


class ProgressIn(Schema):
    percent: str | int
    status: str = ""


class TaskOut(Schema):
    code: str
    percent: int
    status: str


class RiskOut(Schema):
    runs: int
    seed: int
    distribution: str
    deterministic: dt.date
    p50: dt.date
    p80: dt.date
    p90: dt.date
    histogram: dict
    s_curve: list[tuple[dt.date, float]]
    criticality: dict[str, float]


def _programme(p) -> dict:
    return {"code": p.code, "name": p.name, "department": p.department.code, "status": p.status}


@router.get(
    "/programme/programmes", response=list[ProgrammeOut], summary="The programmes the caller may read"
)
def list_programmes(request):
    return [_programme(p) for p in services.programmes(request.auth)[:500]]


@router.post("/programme/programmes", response={201: ProgrammeOut}, summary="Create a programme (planner)")
def create_programme(request, payload: ProgrammeIn):
    programme = services.create_programme(
        request.auth, code=payload.code, name=payload.name, department_code=payload.department_code
    )
    return Status(201, _programme(programme))


@router.post(
    "/programme/programmes/{code}/import",
    response=ImportOut,
    summary="Import a plan workbook (all or nothing; 422 lists the problems row by row)",
)
def import_plan(request, code: str, file: UploadedFile = File(..., description="the plan, .xlsx")):
    services.access_programme(request.auth, code)
    data = file.read(services.transfer.MAX_BYTES + 1)
    report = services.import_plan(request.auth, code, data)
    return report.__dict__


@router.get(
    "/programme/programmes/{code}/gantt", response=GanttOut, by_alias=True, summary="The Gantt chart's data"
)
def gantt(request, code: str):
    # The rows are already plain JSON values in the documented shape; validating 2,000 of them again
    # would cost more than building them (bench programme_gantt), so they are written as they are,
    # by pydantic-core like every other response (api.FastJSONRenderer), not by Python's json.
    return HttpResponse(
        pydantic_core.to_json(services.gantt(request.auth, code)), content_type="application/json"
    )


@router.post(
    "/programme/programmes/{code}/tasks/{task}/reschedule",
    response=list[MovedOut],
    summary="Move a task (planner); its dependents move on working days",
)
def reschedule(request, code: str, task: str, payload: RescheduleIn):
    moved = services.reschedule(request.auth, code, task, start=payload.start)
    return [
        {
            "code": m.task.code,
            "old_start": m.old_start,
            "start": m.new_start,
            "finish": m.task.finish,
            "shift": m.shift,
        }
        for m in moved
    ]


@router.post(
    "/programme/programmes/{code}/tasks/{task}/progress",
    response=TaskOut,
    summary="Report a task's progress (its owner department, or a planner)",
)
def progress(request, code: str, task: str, payload: ProgressIn):
    t = services.report_progress(request.auth, code, task, percent=payload.percent, status=payload.status)
    return {"code": t.code, "percent": t.percent, "status": t.status}


@router.get(
    "/programme/programmes/{code}/schedule-risk",
    response=RiskOut,
    summary="The finish by Monte Carlo: P50/P80/P90, histogram, S-curve, criticality index",
)
def schedule_risk(request, code: str, runs: str = "10000", seed: str = "0", distribution: str = "triangular"):
    return services.schedule_risk(request.auth, code, runs=runs, seed=seed, distribution=distribution)


# --- public consultation (意见征集) -------------------------------------------------------------------


class ConsultationOut(Schema):
    code: str
    title: str
    summary: str
    department: str
    opens_on: dt.date
    closes_on: dt.date
    phase: str = Field(..., description="upcoming, open, closed or reported")
    feedback_days: int = Field(..., description="working days after closing to answer every comment")
    feedback_due: dt.date


class PublicCommentOut(Schema):
    number: int
    author_name: str = Field(..., description="the name the commenter chose to show; blank: anonymous")
    section: str
    text: str
    received: dt.date
    decision: str = Field(..., description="adopted, partly, not_adopted; blank until answered")
    decision_reason: str


class ConsultationDetailOut(ConsultationOut):
    draft: str
    comments: list[PublicCommentOut]


class CommentIn(Schema):
    text: str
    section: str = ""
    author_name: str = ""


class CommentReceiptOut(Schema):
    consultation: str
    number: int
    receipt: str = Field(..., description="the commenter's handle on the comment and its answer")
    moderation: str
    feedback_due: dt.date


def _consultation(c, phase: str) -> dict:
    return {
        "code": c.code,
        "title": c.title,
        "summary": c.summary,
        "department": c.department.name,
        "opens_on": c.opens_on,
        "closes_on": c.closes_on,
        "phase": phase,
        "feedback_days": c.feedback_days,
        "feedback_due": consultation.feedback_due(c),
    }


@router.get(
    "/programme/consultations",
    auth=None,
    response=list[ConsultationOut],
    summary="Published public consultations (意见征集), newest first",
)
def consultation_list(request):
    return [_consultation(c, phase) for c, phase in consultation.public_list()]


@router.get(
    "/programme/consultations/{code}",
    auth=None,
    response=ConsultationDetailOut,
    summary="A published consultation: the draft and the published comments with their answers",
)
def consultation_detail(request, code: str):
    c = consultation.public_consultation(code)
    comments = [
        {
            "number": m.number,
            "author_name": m.author_name,
            "section": m.section,
            "text": m.text,
            "received": timezone.localtime(m.created_at).date(),
            "decision": m.decision,
            "decision_reason": m.decision_reason,
        }
        for m in consultation.public_comments(c)
    ]
    return {**_consultation(c, consultation.phase(c)), "draft": c.draft, "comments": comments}


@router.post(
    "/programme/consultations/{code}/comments",
    response={201: CommentReceiptOut},
    summary="Comment on an open consultation (a logged-in person, or a system on its own account)",
)
def consultation_comment(request, code: str, payload: CommentIn):
    # Anonymous comments are taken on the public page only, where the per-address daily limit means
    # one person; behind another system every commenter would share that system's address.
    comment = consultation.submit_comment(request.auth, code, **payload.dict())
    c = comment.consultation
    return Status(
        201,
        {
            "consultation": c.code,
            "number": comment.number,
            "receipt": comment.receipt,
            "moderation": comment.moderation,
            "feedback_due": consultation.feedback_due(c),
        },
    )


# --- weekly progress reports (周报) ------------------------------------------------------------------


class EvidenceOut(Schema):
    number: int
    name: str
    kind: str
    size: int
    sm3: str


class WeeklyReportOut(Schema):
    week: dt.date = Field(..., description="the week's Monday")
    text: str
    percent: int
    author: str
    filed_at: dt.datetime
    evidence: list[EvidenceOut]


def _weekly_report(r) -> dict:
    return {
        "week": r.week,
        "text": r.text,
        "percent": r.percent,
        "author": r.author.display_name if r.author else "",
        "filed_at": r.filed_at,
        "evidence": [
            {"number": e.number, "name": e.name, "kind": e.kind, "size": e.size, "sm3": e.sm3}
            for e in r.evidence.all()
        ],
    }


@router.get(
    "/programme/programmes/{code}/tasks/{task}/weekly-reports",
    response=list[WeeklyReportOut],
    summary="A task's weekly reports, newest week first",
)
def weekly_reports(request, code: str, task: str):
    _task, rows = weekly.reports(request.auth, code, task)
    return [_weekly_report(r) for r in rows]


@router.post(
    "/programme/programmes/{code}/tasks/{task}/weekly-reports",
    response={201: WeeklyReportOut},
    summary="File this week's report for a task (its owner department's reporters, or a planner)",
)
def file_weekly_report(
    request,
    code: str,
    task: str,
    text: str = Form(""),
    percent: str = Form(""),
    files: list[UploadedFile] = File(None, description="evidence files (PDF, images, office files)"),
):
    uploads = [(f.name, f.read(weekly.files.MB * 25)) for f in files or []]
    report = weekly.file_report(request.auth, code, task, text=text, percent=percent, uploads=uploads)
    return Status(201, _weekly_report(report))


@router.get(
    "/programme/programmes/{code}/tasks/{task}/evidence/{week}/{number}",
    summary="One evidence file of a weekly report",
)
def weekly_evidence(request, code: str, task: str, week: str, number: str):
    found, content = weekly.evidence(request.auth, code, task, week, number)
    response = HttpResponse(
        content, content_type=weekly.files.CONTENT_TYPES.get(found.kind, "application/octet-stream")
    )
    response["Content-Disposition"] = f'attachment; filename="evidence-{found.number}.{found.kind}"'
    return response


# --- funds supervision (资金监管) ----------------------------------------------------------------------


class FundsLineOut(Schema):
    project: str
    year: int
    code: str = Field(..., description="the budget line; blank in a project-year's totals")
    name: str
    budget: Decimal
    committed: Decimal
    paid: Decimal
    execution: float | None = Field(..., description="预算执行率: paid / budget")
    progress: float = Field(..., description="the project's weighted share done, 0–1")
    warnings: list[str] = Field(..., description="ahead_of_progress, overrun, overcommitted")


class FundsOut(Schema):
    programme: str
    lines: list[FundsLineOut]
    projects: list[FundsLineOut]
    warnings: int


class SpendingIn(Schema):
    project_code: str
    year: str | int
    line: str = Field(..., description="the budget line's code")
    kind: str = Field(..., description="commitment or payment (承诺 / 支付)")
    amount: str | int | float = Field(..., description="yuan")
    on: str = Field(..., description="YYYY-MM-DD")
    reference: str = ""
    note: str = ""


class SpendingOut(Schema):
    id: int
    project: str
    year: int
    line: str
    kind: str
    amount: Decimal
    on: dt.date
    reference: str
    note: str
    source: str = Field(..., description="entered or xlsx")


def _yuan(amount: Decimal) -> Decimal:
    # Sums come back from SQLite without their scale ("95000"); amounts are always sent with fen.
    return Decimal(amount).quantize(Decimal("0.01"))


def _figures(f) -> dict:
    return {
        "project": f.project.code,
        "year": f.year,
        "code": f.code,
        "name": f.name,
        "budget": _yuan(f.budget),
        "committed": _yuan(f.committed),
        "paid": _yuan(f.paid),
        "execution": f.execution,
        "progress": f.progress,
        "warnings": f.warnings,
    }


def _spending(s) -> dict:
    return {
        "id": s.pk,
        "project": s.line.project.code,
        "year": s.line.year,
        "line": s.line.code,
        "kind": s.kind,
        "amount": _yuan(s.amount),
        "on": s.on,
        "reference": s.reference,
        "note": s.note,
        "source": s.source,
    }


@router.get(
    "/programme/programmes/{code}/funds",
    response=FundsOut,
    summary="Budget lines with commitments, payments, execution rate and warnings; totals per project-year",
)
def funds_overview(request, code: str, year: int | None = Query(None, ge=2000, le=2099)):
    data = funds.overview(request.auth, code, year=year)
    return {
        "programme": data["programme"].code,
        "lines": [_figures(f) for f in data["lines"]],
        "projects": [_figures(f) for f in data["projects"]],
        "warnings": data["warnings"],
    }


@router.get(
    "/programme/programmes/{code}/funds/spendings",
    response=list[SpendingOut],
    summary="Commitments and payments, newest first (at most 500)",
)
def funds_spendings(request, code: str):
    return [_spending(s) for s in funds.spendings(request.auth, code)]


@router.post(
    "/programme/programmes/{code}/funds/spendings",
    response={201: SpendingOut},
    summary="Enter a commitment or a payment against a budget line (planner)",
)
def funds_record_spending(request, code: str, payload: SpendingIn):
    return Status(201, _spending(funds.record_spending(request.auth, code, **payload.dict())))


# --- risk register (风险台账) -------------------------------------------------------------------------


class RiskIn(Schema):
    name: str
    likelihood: str | int = Field(..., description="1–5")
    impact: str | int = Field(..., description="1–5")
    cause: str = ""
    owner_department: str = Field("", description="a department's code or name")
    response: str = ""
    review_on: str = Field("", description="YYYY-MM-DD; blank: none")
    tasks: list[str] = Field([], description="codes of the tasks the risk threatens")
    status: str = Field("open", description="open or closed")
    note: str = Field("", description="why the likelihood or impact changed (kept in the history)")


class NewRiskIn(RiskIn):
    code: str


class ScoreChangeOut(Schema):
    at: dt.datetime
    likelihood: int
    impact: int
    score: int
    note: str


class RegisterRiskOut(Schema):
    code: str
    name: str
    cause: str
    owner_department: str
    likelihood: int | None
    impact: int | None
    score: int | None
    level: str = Field(..., description="red, yellow, green; none without a score")
    response: str
    review_on: dt.date | None
    review_due: bool = Field(..., description="open and its review date has passed")
    status: str
    tasks: list[str]
    history: list[ScoreChangeOut]


class RegisterOut(Schema):
    programme: str
    risks: list[RegisterRiskOut]
    counts: dict[str, int] = Field(..., description="open risks by level")


def _register_row(row: dict) -> dict:
    r = row["risk"]
    return {
        "code": r.code,
        "name": r.name,
        "cause": r.cause,
        "owner_department": r.owner_department.code if r.owner_department else "",
        "likelihood": r.likelihood,
        "impact": r.impact,
        "score": row["score"],
        "level": row["level"],
        "response": r.response,
        "review_on": r.review_on,
        "review_due": row["review_due"],
        "status": r.status,
        "tasks": sorted(t.code for t in r.tasks.all()),
        "history": [
            {"at": h.at, "likelihood": h.likelihood, "impact": h.impact, "score": h.score, "note": h.note}
            for h in row["history"]
        ],
    }


def _risk_out(request, code: str, risk_code: str) -> dict:
    data = risks.register(request.auth, code)
    return next(_register_row(row) for row in data["rows"] if row["risk"].code == risk_code)


@router.get(
    "/programme/programmes/{code}/risks",
    response=RegisterOut,
    summary="The risk register: open risks first, by score, with their history",
)
def risk_register(request, code: str):
    data = risks.register(request.auth, code)
    return {
        "programme": data["programme"].code,
        "risks": [_register_row(row) for row in data["rows"]],
        "counts": data["counts"],
    }


@router.post(
    "/programme/programmes/{code}/risks",
    response={201: RegisterRiskOut},
    summary="Add a risk to the register (planner); a code already there is a 409",
)
def risk_create(request, code: str, payload: NewRiskIn):
    risk = risks.set_risk(request.auth, code, **payload.dict(), existing=False)
    return Status(201, _risk_out(request, code, risk.code))


@router.put(
    "/programme/programmes/{code}/risks/{risk}",
    response=RegisterRiskOut,
    summary="Update a risk of the register (planner); a new likelihood or impact enters its history",
)
def risk_update(request, code: str, risk: str, payload: RiskIn):
    updated = risks.set_risk(request.auth, code, code=risk, **payload.dict(), existing=True)
    return _risk_out(request, code, updated.code)
