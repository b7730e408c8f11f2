"""Kernel endpoints: health, the working-day calendar, the audit journal."""

import datetime as dt

from django.db import connection
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from . import calendar, services
from .errors import InvalidInput
from .pagination import PageNumberPagination

router = Router(tags=["kernel"])


class HealthOut(Schema):
    status: str
    database: str
    time: dt.datetime


@router.get("/health", auth=None, response=HealthOut, summary="Liveness and database check")
def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": "ok", "database": connection.vendor, "time": timezone.now()}


class DayOut(Schema):
    date: dt.date
    is_working_day: bool
    name: str
    source: str


@router.get(
    "/calendar/days",
    auth=None,
    response=list[DayOut],
    tags=["calendar"],
    summary="Working days and holidays in a date range (at most 400 days)",
)
def calendar_days(request, start: dt.date, end: dt.date):
    if end < start or (end - start).days >= 400:
        raise InvalidInput.single("end", "range", services.RANGE_MESSAGE)
    _check_range(start, "start")
    _check_range(end, "end")
    return calendar.get_calendar().working_days_in(start, end)


class AddOut(Schema):
    start: dt.date
    working_days: int
    date: dt.date
    deadline: dt.datetime = Field(description="End of the last working day, Asia/Shanghai")


@router.get(
    "/calendar/add",
    auth=None,
    response=AddOut,
    tags=["calendar"],
    summary="The date N working days after a start date (how limits are counted)",
)
def calendar_add(request, start: dt.date, days: int = Query(..., ge=-3650, le=3650)):
    _check_range(start, "start")
    try:
        day = calendar.get_calendar().add_working_days(start, days)
    except ValueError:
        raise InvalidInput.single("days", "range", services.RANGE_MESSAGE) from None
    deadline = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=calendar.local_tz())
    return {"start": start, "working_days": days, "date": day, "deadline": deadline}


class BetweenOut(Schema):
    start: dt.date
    end: dt.date
    working_days: int


@router.get(
    "/calendar/between",
    auth=None,
    response=BetweenOut,
    tags=["calendar"],
    summary="Working days d with start < d ≤ end",
)
def calendar_between(request, start: dt.date, end: dt.date):
    _check_range(start, "start")
    _check_range(end, "end")
    return {
        "start": start,
        "end": end,
        "working_days": calendar.get_calendar().working_days_between(start, end),
    }


class OverrideIn(Schema):
    is_working_day: bool
    name: str = ""


@router.put(
    "/calendar/overrides/{day}",
    response=DayOut,
    tags=["calendar"],
    summary="Set a holiday or adjusted working day (administrators)",
)
def calendar_set_day(request, day: dt.date, payload: OverrideIn):
    services.set_calendar_day(
        request.auth, date=day, is_working_day=payload.is_working_day, name=payload.name
    )
    return calendar.get_calendar().day(day)


@router.delete("/calendar/overrides/{day}", response={204: None}, tags=["calendar"])
def calendar_clear_day(request, day: dt.date):
    services.clear_calendar_day(request.auth, date=day)
    return Status(204, None)


def _check_range(day: dt.date, field: str) -> None:
    if not calendar.FIRST_DAY <= day <= calendar.LAST_DAY:
        raise InvalidInput.single(field, "range", services.RANGE_MESSAGE)


class AuditEntryOut(Schema):
    id: int
    chain: int
    seq: int
    occurred_at: dt.datetime
    actor_label: str
    action: str
    object_type: str
    object_ref: str
    department_code: str
    outcome: str
    request_id: str
    detail: dict


@router.get(
    "/audit/entries", response=list[AuditEntryOut], tags=["audit"], summary="The audit journal, newest first"
)
@paginate(PageNumberPagination, page_size=50)
def audit_entries(request, action: str = "", actor: str = "", outcome: str = "", object_ref: str = ""):
    return services.list_journal(
        request.auth, action=action, actor_label=actor, outcome=outcome, object_ref=object_ref
    )


class VerifyOut(Schema):
    ok: bool
    checked: int
    anchor: str = Field(description="SM3 over every chain head; keep it outside the database")
    bad_chain: int | None
    bad_seq: int | None
    problem: str
    message: str


@router.post(
    "/audit/verify", response=VerifyOut, tags=["audit"], summary="Verify the whole journal chain now"
)
def audit_verify(request):
    result = services.verify_journal(request.auth, trigger="api")
    return result.__dict__
