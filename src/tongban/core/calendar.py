"""The working-day calendar: statutory limits count 工作日 (行政许可法 art. 82).

Statutory holidays and adjusted working days (调休) come from the chinesecalendar package; an
administrator's CalendarOverride rows win over it, which is how years the package does not know
yet get their holidays. A year neither knows falls back to Monday–Friday, and `unknown_years()`
lets the UI warn administrators before that matters.

The calendar is a snapshot with a cumulative count of working days per date, so counting
between two dates is O(1) and adding N working days is a binary search: cheap enough to compute
the red/yellow/green status of every open case on every page.
"""

import bisect
import datetime as dt
import threading
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings

FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)
_FIRST_ORD = FIRST_DAY.toordinal()

PACKAGE_HOLIDAYS: dict[dt.date, str] = chinese_calendar.holidays
PACKAGE_WORKDAYS: dict[dt.date, str] = chinese_calendar.workdays
PACKAGE_YEARS = range(min(d.year for d in PACKAGE_HOLIDAYS), max(d.year for d in PACKAGE_HOLIDAYS) + 1)


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class DayInfo:
    date: dt.date
    is_working_day: bool
    name: str  # holiday or adjusted-working-day name, if any
    source: str  # "override", "package" or "weekday-rule"


@dataclass(frozen=True)
class Status:
    colour: str  # "green" | "yellow" | "red"
    share_used: float  # of the limit, 1.0 = all of it
    working_days_used: float


class WorkingCalendar:
    """An immutable snapshot of which dates are working days."""

    def __init__(self, overrides: dict[dt.date, tuple[bool, str]] | None = None, confirmed_years=()):
        self.overrides = dict(overrides or {})
        self.confirmed_years = frozenset(confirmed_years)
        cumulative, running = [], 0
        for ordinal in range(_FIRST_ORD, LAST_DAY.toordinal() + 1):
            if self._rule(dt.date.fromordinal(ordinal)).is_working_day:
                running += 1
            cumulative.append(running)
        self._cumulative = cumulative

    def _rule(self, day: dt.date) -> DayInfo:
        if day in self.overrides:
            working, name = self.overrides[day]
            return DayInfo(day, working, name, "override")
        if day.year in PACKAGE_YEARS:
            if day in PACKAGE_WORKDAYS:
                return DayInfo(day, True, PACKAGE_WORKDAYS[day], "package")
            if day in PACKAGE_HOLIDAYS:
                return DayInfo(day, False, PACKAGE_HOLIDAYS[day], "package")
            return DayInfo(day, day.weekday() < 5, "", "package")
        return DayInfo(day, day.weekday() < 5, "", "weekday-rule")

    def _index(self, day: dt.date) -> int:
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(f"{day} is outside the calendar ({FIRST_DAY}–{LAST_DAY})")
        return day.toordinal() - _FIRST_ORD

    # --- questions about one day -----------------------------------------------------------------

    def day(self, day: dt.date) -> DayInfo:
        self._index(day)
        return self._rule(day)

    def is_working_day(self, day: dt.date | dt.datetime) -> bool:
        day = _as_local_date(day)
        i = self._index(day)
        return self._cumulative[i] - (self._cumulative[i - 1] if i else 0) == 1

    def is_year_known(self, year: int) -> bool:
        return year in PACKAGE_YEARS or year in self.confirmed_years

    # --- arithmetic ------------------------------------------------------------------------------

    def working_days_between(self, start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> int:
        """Working days d with start < d ≤ end (negative when end is before start).

        This is how a limit is counted: the day of acceptance is not counted, the last day is.
        """
        a, b = self._index(_as_local_date(start)), self._index(_as_local_date(end))
        return self._cumulative[b] - self._cumulative[a]

    def add_working_days(self, start: dt.date | dt.datetime, n: int) -> dt.date:
        """The n-th working day after `start`'s date; for n == 0, `start` itself if it is a working
        day, else the next one (an 即办件 accepted on a Sunday is due on Monday)."""
        i = self._index(_as_local_date(start))
        cum = self._cumulative
        if n > 0 or (n == 0 and not self.is_working_day(_as_local_date(start))):
            target = cum[i] + max(n, 1)
            j = bisect.bisect_left(cum, target, lo=i + 1)
        elif n == 0:
            j = i
        else:
            # n-th working day before start: the first index whose count reaches cum_before + 1.
            before = (cum[i - 1] if i else 0) + n  # count strictly before start, minus |n|
            if before < 0:
                raise ValueError("result is before the calendar's first day")
            j = bisect.bisect_left(cum, before + 1)
        if j >= len(cum):
            raise ValueError("result is after the calendar's last day")
        return dt.date.fromordinal(_FIRST_ORD + j)

    def deadline(self, start: dt.datetime, n: int) -> dt.datetime:
        """The instant a limit of n working days runs out: the end of the n-th working day."""
        day = self.add_working_days(start, n)
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=local_tz())

    def instant_of(self, start: dt.datetime, working_days: float) -> dt.datetime:
        """The instant `working_days` of working time have passed on a limit's clock started at `start`.

        The inverse of how status() measures use: the clock starts at the end of `start`'s day and
        runs only on working days, so instant_of(start, n) == deadline(start, n) for whole n, and
        instant_of(start, 0.8 * n) is when a step turns yellow.
        """
        tz = local_tz()
        first = _as_local_date(start)
        if working_days <= 0:
            return _midnight_after(first, tz)
        whole = int(working_days)
        part = working_days - whole
        if part < 1e-9:
            return _midnight_after(self.add_working_days(first, whole), tz)
        day = self.add_working_days(first, whole + 1)
        begin = _midnight(day, tz)
        return begin + (_midnight_after(day, tz) - begin) * part

    def elapsed_working_days(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working time between two instants, in working days (fractions for partial days).

        Used for how much of a limit is used up; non-working days contribute nothing.
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware instant")
        if end <= start:
            return 0.0
        tz = local_tz()
        start, end = start.astimezone(tz), end.astimezone(tz)
        d0, d1 = start.date(), end.date()
        if d0 == d1:
            return _fraction(start, end) if self.is_working_day(d0) else 0.0
        total = 0.0
        if self.is_working_day(d0):
            total += _fraction(start, _midnight_after(d0, tz))
        total += self.working_days_between(d0, d1 - dt.timedelta(days=1))
        if self.is_working_day(d1):
            total += _fraction(_midnight(d1, tz), end)
        return total

    def status(
        self,
        start: dt.datetime,
        limit_days: int,
        now: dt.datetime,
        paused: float = 0.0,
        yellow_at: float | None = None,
    ) -> "Status":
        """Red/yellow/green of something with a limit of `limit_days` working days (DOMAIN.md):
        green below `yellow_at` (default 80 %) of the limit used, yellow from there, red when the
        deadline has passed. As for the deadline, the day it started is not counted; `paused`
        working days (补正, special procedures) do not count either. A limit of 0 (即办件) is due
        at the end of the day it started."""
        yellow_at = settings.TONGBAN_YELLOW_AT if yellow_at is None else yellow_at
        clock_starts = _midnight_after(_as_local_date(start), local_tz())
        used = max(self.elapsed_working_days(clock_starts, now) - paused, 0.0)
        if limit_days <= 0:
            overdue = now >= self.deadline(start, 0)
            share = 1.0 if overdue else 0.0
        else:
            share = used / limit_days
            overdue = used > limit_days
        colour = "red" if overdue else ("yellow" if share >= yellow_at else "green")
        return Status(colour, round(share, 4), round(used, 4))

    def working_days_in(self, first: dt.date, last: dt.date) -> list[DayInfo]:
        return [self._rule(first + dt.timedelta(days=k)) for k in range((last - first).days + 1)]


def _as_local_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware instant")
        return value.astimezone(local_tz()).date()
    return value


def _midnight(day: dt.date, tz) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz)


def _midnight_after(day: dt.date, tz) -> dt.datetime:
    return _midnight(day + dt.timedelta(days=1), tz)


def _fraction(a: dt.datetime, b: dt.datetime) -> float:
    day_start = _midnight(a.date(), a.tzinfo)
    day_length = (_midnight_after(a.date(), a.tzinfo) - day_start).total_seconds()
    return (b - a).total_seconds() / day_length


# --- the shared snapshot ------------------------------------------------------------------------

_lock = threading.Lock()
_cached: tuple[WorkingCalendar, tuple, float] | None = None
RECHECK_SECONDS = 30


def _fingerprint() -> tuple:
    from django.db.models import Count, Max

    from .models import CalendarOverride, CalendarYear

    o = CalendarOverride.objects.aggregate(n=Count("id"), t=Max("updated_at"))
    y = CalendarYear.objects.aggregate(n=Count("id"), t=Max("updated_at"))
    return (o["n"], o["t"], y["n"], y["t"])


def _load() -> WorkingCalendar:
    from .models import CalendarOverride, CalendarYear

    overrides = {o.date: (o.is_working_day, o.name) for o in CalendarOverride.objects.all()}
    confirmed = CalendarYear.objects.filter(confirmed=True).values_list("year", flat=True)
    return WorkingCalendar(overrides, confirmed)


def get_calendar() -> WorkingCalendar:
    """The current calendar. Other processes see an administrator's change within RECHECK_SECONDS."""
    global _cached
    now = time.monotonic()
    cached = _cached
    if cached is not None and now - cached[2] < RECHECK_SECONDS:
        return cached[0]
    with _lock:
        fingerprint = _fingerprint()
        if _cached is not None and _cached[1] == fingerprint:
            _cached = (_cached[0], fingerprint, now)
        else:
            _cached = (_load(), fingerprint, now)
        return _cached[0]


def invalidate() -> None:
    global _cached
    with _lock:
        _cached = None


def unknown_years(horizon_days: int = 400) -> list[int]:
    """Years within the horizon that neither the package nor an administrator has filled in."""
    cal = get_calendar()
    today = dt.date.today()
    years = range(today.year, (today + dt.timedelta(days=horizon_days)).year + 1)
    return [y for y in years if not cal.is_year_known(y)]
