"""Programme office endpoints: programmes, the plan workbook, the Gantt data, rescheduling (the
Gantt chart's drag), progress and the schedule risk. Thin over programme.services."""

import datetime as dt

import pydantic_core
from django.http import HttpResponse
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile

from . import services

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
