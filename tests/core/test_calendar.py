"""The working-day calendar: package data for 2026, the weekday rule for unknown years,
administrators' overrides, deadline arithmetic, the service checks and the public API.

2026 follows the State Council notice as chinesecalendar 1.11.0 carries it; the sets below are
written out by hand and checked against the package, and a brute-force day-by-day counter is the
reference for the O(1) arithmetic.
"""

import datetime as dt
import random
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from tongban.accounts.actors import Actor
from tongban.accounts.models import User
from tongban.core import calendar
from tongban.core.authz import SYSTEM
from tongban.core.calendar import WorkingCalendar, get_calendar, unknown_years
from tongban.core.errors import InvalidInput, NotPermitted
from tongban.core.models import CalendarOverride, CalendarYear
from tongban.core.services import clear_calendar_day, confirm_calendar_year, set_calendar_day

SH = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
D = dt.date


def _span(first: dt.date, last: dt.date) -> set[dt.date]:
    return {first + dt.timedelta(days=k) for k in range((last - first).days + 1)}


HOLIDAYS_2026 = (
    _span(D(2026, 1, 1), D(2026, 1, 3))  # 元旦
    | _span(D(2026, 2, 15), D(2026, 2, 23))  # 春节
    | _span(D(2026, 4, 4), D(2026, 4, 6))  # 清明
    | _span(D(2026, 5, 1), D(2026, 5, 5))  # 劳动节
    | _span(D(2026, 6, 19), D(2026, 6, 21))  # 端午
    | _span(D(2026, 9, 25), D(2026, 9, 27))  # 中秋
    | _span(D(2026, 10, 1), D(2026, 10, 7))  # 国庆
)
ADJUSTED_WORKDAYS_2026 = {
    D(2026, 1, 4),
    D(2026, 2, 14),
    D(2026, 2, 28),
    D(2026, 5, 9),
    D(2026, 9, 20),
    D(2026, 10, 10),
}


def ref_is_working(day: dt.date) -> bool:
    """Reference for 2026 (hand-written sets) and 2027 (no data yet: Monday–Friday)."""
    assert D(2026, 1, 1) <= day <= D(2027, 12, 31)
    if day in ADJUSTED_WORKDAYS_2026:
        return True
    if day in HOLIDAYS_2026:
        return False
    return day.weekday() < 5


def ref_between(start: dt.date, end: dt.date) -> int:
    if end < start:
        return -ref_between(end, start)
    return sum(ref_is_working(d) for d in _span(start + dt.timedelta(days=1), end)) if end > start else 0


def ref_add(start: dt.date, n: int) -> dt.date:
    day = start
    if n == 0:
        while not ref_is_working(day):
            day += dt.timedelta(days=1)
        return day
    step = dt.timedelta(days=1 if n > 0 else -1)
    left = abs(n)
    while left:
        day += step
        if ref_is_working(day):
            left -= 1
    return day


@pytest.fixture(scope="module")
def cal():
    """The calendar as the package alone defines it (no overrides)."""
    return WorkingCalendar()


@pytest.fixture(autouse=True)
def fresh_calendar_cache():
    # The shared snapshot outlives a test's rolled-back transaction; never let one leak.
    calendar.invalidate()
    yield
    calendar.invalidate()


@pytest.fixture
def clerk(db):
    return Actor(User.objects.get(username="clerk"))


# --- the package data this file relies on -----------------------------------------------------------


def test_package_agrees_with_the_hand_written_2026_arrangement():
    assert {d for d in chinese_calendar.holidays if d.year == 2026} == HOLIDAYS_2026
    assert {d for d in chinese_calendar.workdays if d.year == 2026} == ADJUSTED_WORKDAYS_2026
    assert chinese_calendar.holidays[D(2026, 2, 17)] == "Spring Festival"
    assert max(d.year for d in chinese_calendar.holidays) == 2026


@pytest.mark.parametrize(
    ("day", "working", "name"),
    [
        (D(2026, 10, 1), False, "National Day"),  # Thursday, 国庆
        (D(2026, 10, 7), False, "National Day"),  # Wednesday
        (D(2026, 10, 8), True, ""),
        (D(2026, 10, 10), True, "National Day"),  # Saturday, 调休上班
        (D(2026, 9, 20), True, "National Day"),  # Sunday, 调休上班
        (D(2026, 2, 14), True, "Spring Festival"),  # Saturday before the festival
        (D(2026, 2, 15), False, "Spring Festival"),
        (D(2026, 2, 23), False, "Spring Festival"),  # Monday
        (D(2026, 2, 24), True, ""),
        (D(2026, 2, 28), True, "Spring Festival"),  # Saturday after
        (D(2026, 1, 1), False, "New Year's Day"),
        (D(2026, 1, 4), True, "New Year's Day"),  # Sunday
        (D(2026, 11, 21), False, ""),  # an ordinary Saturday
        (D(2026, 11, 22), False, ""),  # an ordinary Sunday
        (D(2026, 11, 23), True, ""),  # an ordinary Monday
    ],
)
def test_2026_days(cal, day, working, name):
    assert cal.is_working_day(day) is working
    info = cal.day(day)
    assert (info.date, info.is_working_day, info.name, info.source) == (day, working, name, "package")


def test_every_day_of_2026_matches_the_reference(cal):
    for day in sorted(_span(D(2026, 1, 1), D(2026, 12, 31))):
        assert cal.is_working_day(day) is ref_is_working(day), day
    # 261 weekdays, 19 of them holidays, 6 adjusted weekend days.
    assert sum(ref_is_working(d) for d in _span(D(2026, 1, 1), D(2026, 12, 31))) == 248
    assert cal.working_days_between(D(2025, 12, 31), D(2026, 12, 31)) == 248


def test_is_working_day_takes_the_date_in_shanghai(cal):
    # 2026-09-30 16:30 UTC is 1 October 00:30 in Shanghai: a holiday, although 30 September works.
    assert cal.is_working_day(dt.datetime(2026, 9, 30, 16, 30, tzinfo=UTC)) is False
    assert cal.is_working_day(dt.datetime(2026, 9, 30, 15, 30, tzinfo=UTC)) is True
    assert cal.is_working_day(dt.datetime(2026, 10, 1, 0, 30, tzinfo=SH)) is False


# --- arithmetic --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (D(2026, 9, 30), D(2026, 9, 30), 0),
        (D(2026, 9, 29), D(2026, 9, 30), 1),  # start excluded, end included
        (D(2026, 9, 30), D(2026, 10, 7), 0),  # the whole holiday
        (D(2026, 9, 30), D(2026, 10, 8), 1),
        (D(2026, 9, 30), D(2026, 10, 10), 3),  # 8, 9 and the adjusted Saturday 10
        (D(2026, 9, 30), D(2026, 10, 12), 4),
        (D(2026, 10, 10), D(2026, 9, 30), -3),
        (D(2026, 10, 1), D(2026, 10, 8), 1),
        (D(2026, 2, 12), D(2026, 2, 24), 3),  # 13, 14 (Saturday, adjusted) and 24
        (D(2026, 2, 13), D(2026, 3, 2), 7),  # 14, 24, 25, 26, 27, 28 (Saturday), 2 March
        (D(2026, 11, 20), D(2026, 11, 22), 0),  # Friday to Sunday
        (D(2026, 11, 20), D(2026, 11, 23), 1),
    ],
)
def test_working_days_between(cal, start, end, count):
    assert ref_between(start, end) == count
    assert cal.working_days_between(start, end) == count


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 9, 30), 2, D(2026, 10, 9)),
        (D(2026, 9, 30), 3, D(2026, 10, 10)),  # an adjusted Saturday counts
        (D(2026, 9, 30), 4, D(2026, 10, 12)),
        (D(2026, 10, 3), 1, D(2026, 10, 8)),  # from inside the holiday
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        (D(2026, 2, 14), 1, D(2026, 2, 24)),
        (D(2026, 2, 13), 20, D(2026, 3, 19)),
        # n == 0: the day itself if it works, else the next working day.
        (D(2026, 11, 23), 0, D(2026, 11, 23)),
        (D(2026, 11, 21), 0, D(2026, 11, 23)),  # Saturday
        (D(2026, 11, 22), 0, D(2026, 11, 23)),  # Sunday
        (D(2026, 10, 1), 0, D(2026, 10, 8)),  # holiday
        (D(2026, 10, 10), 0, D(2026, 10, 10)),  # adjusted Saturday
        (D(2026, 2, 14), 0, D(2026, 2, 14)),
        # negative n: the n-th working day before.
        (D(2026, 10, 8), -1, D(2026, 9, 30)),
        (D(2026, 10, 12), -1, D(2026, 10, 10)),
        (D(2026, 10, 11), -1, D(2026, 10, 10)),  # from a Sunday
        (D(2026, 10, 11), -2, D(2026, 10, 9)),
        (D(2026, 10, 5), -1, D(2026, 9, 30)),  # from inside the holiday
        (D(2026, 2, 24), -1, D(2026, 2, 14)),
        (D(2026, 2, 24), -2, D(2026, 2, 13)),
        (D(2026, 11, 25), -2, D(2026, 11, 23)),
    ],
)
def test_add_working_days(cal, start, n, expected):
    assert ref_add(start, n) == expected
    assert cal.add_working_days(start, n) == expected


def test_arithmetic_matches_brute_force_on_random_dates(cal):
    rng = random.Random(82)
    first, last = D(2026, 1, 12).toordinal(), D(2026, 12, 20).toordinal()
    for _ in range(1500):
        start = D.fromordinal(rng.randint(first, last))
        end = D.fromordinal(rng.randint(first, last))
        n = rng.randint(-4, 25)
        assert cal.add_working_days(start, n) == ref_add(start, n), (start, n)
        assert cal.working_days_between(start, end) == ref_between(start, end), (start, end)
        if n > 0:
            # Adding n and counting back agree: the n-th working day is exactly n days on.
            assert cal.working_days_between(start, cal.add_working_days(start, n)) == n


def test_calendar_edges(cal):
    with pytest.raises(ValueError):
        cal.is_working_day(D(1999, 12, 31))
    with pytest.raises(ValueError):
        cal.day(D(2101, 1, 1))
    with pytest.raises(ValueError):
        cal.add_working_days(D(2100, 12, 29), 5)
    with pytest.raises(ValueError):
        cal.add_working_days(D(2000, 1, 4), -5)
    assert cal.add_working_days(D(2000, 1, 5), -1) == D(2000, 1, 4)


def test_deadline_is_midnight_after_the_last_working_day(cal):
    start = dt.datetime(2026, 9, 30, 15, 0, tzinfo=SH)
    deadline = cal.deadline(start, 1)
    assert deadline == dt.datetime(2026, 10, 9, 0, 0, tzinfo=SH)
    assert deadline.utcoffset() == dt.timedelta(hours=8)
    assert deadline == dt.datetime(2026, 10, 8, 16, 0, tzinfo=UTC)
    assert cal.deadline(start, 3) == dt.datetime(2026, 10, 11, 0, 0, tzinfo=SH)
    # A 即办件 (n = 0) accepted on a Sunday is due at the end of Monday.
    assert cal.deadline(dt.datetime(2026, 11, 22, 10, 0, tzinfo=SH), 0) == dt.datetime(
        2026, 11, 24, tzinfo=SH
    )
    # The start date is the Shanghai date of the instant: 16:30 UTC on 9 Oct is Saturday 10 Oct, 00:30.
    start_utc = dt.datetime(2026, 10, 9, 16, 30, tzinfo=UTC)
    assert cal.deadline(start_utc, 1) == dt.datetime(2026, 10, 13, 0, 0, tzinfo=SH)


def test_elapsed_working_days(cal):
    def at(y, m, d, h=0, minute=0):
        return dt.datetime(y, m, d, h, minute, tzinfo=SH)

    assert cal.elapsed_working_days(at(2026, 11, 23, 6), at(2026, 11, 23, 18)) == pytest.approx(0.5)
    assert cal.elapsed_working_days(at(2026, 11, 23), at(2026, 11, 24)) == pytest.approx(1.0)
    assert cal.elapsed_working_days(at(2026, 11, 23, 12), at(2026, 11, 24, 18)) == pytest.approx(1.25)
    # Friday noon to Monday noon: the weekend contributes nothing.
    assert cal.elapsed_working_days(at(2026, 11, 20, 12), at(2026, 11, 23, 12)) == pytest.approx(1.0)
    # A Saturday afternoon is not working time; an adjusted Saturday is.
    assert cal.elapsed_working_days(at(2026, 11, 21, 12), at(2026, 11, 21, 18)) == 0.0
    assert cal.elapsed_working_days(at(2026, 10, 10, 12), at(2026, 10, 10, 18)) == pytest.approx(0.25)
    # Across National Day: 30 Sep 18:00 to 8 Oct 06:00 is a quarter day on each side.
    assert cal.elapsed_working_days(at(2026, 9, 30, 18), at(2026, 10, 8, 6)) == pytest.approx(0.5)
    # A week, Monday noon to Monday noon.
    assert cal.elapsed_working_days(at(2026, 11, 23, 12), at(2026, 11, 30, 12)) == pytest.approx(5.0)
    # Across the Spring Festival: Friday 13 Feb noon to Tuesday 24 Feb noon = ½ + 1 (Sat 14) + ½.
    assert cal.elapsed_working_days(at(2026, 2, 13, 12), at(2026, 2, 24, 12)) == pytest.approx(2.0)
    # Reversed or empty intervals.
    assert cal.elapsed_working_days(at(2026, 11, 24), at(2026, 11, 23)) == 0.0
    assert cal.elapsed_working_days(at(2026, 11, 24), at(2026, 11, 24)) == 0.0


def test_elapsed_working_days_counts_in_shanghai_time(cal):
    # Sunday 16:00 UTC is Monday 00:00 in Shanghai; Monday 04:00 UTC is Monday noon.
    start = dt.datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    end = dt.datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    assert cal.elapsed_working_days(start, end) == pytest.approx(0.5)


def test_naive_datetimes_are_rejected(cal):
    naive = dt.datetime(2026, 11, 23, 12, 0)
    aware = naive.replace(tzinfo=SH)
    for call in (
        lambda: cal.is_working_day(naive),
        lambda: cal.add_working_days(naive, 1),
        lambda: cal.working_days_between(naive, aware),
        lambda: cal.working_days_between(aware, naive),
        lambda: cal.deadline(naive, 1),
        lambda: cal.elapsed_working_days(naive, naive + dt.timedelta(hours=6)),
        lambda: cal.elapsed_working_days(aware, naive + dt.timedelta(hours=6)),
        lambda: cal.elapsed_working_days(naive, aware + dt.timedelta(hours=6)),
    ):
        with pytest.raises(ValueError, match="naive"):
            call()


# --- years the package does not know, and overrides ------------------------------------------------


def test_unknown_year_follows_the_weekday_rule(cal):
    assert not cal.is_year_known(2027)
    assert cal.is_year_known(2026)
    assert cal.is_year_known(2004)
    new_year = cal.day(D(2027, 1, 1))  # a Friday
    assert (new_year.is_working_day, new_year.source) == (True, "weekday-rule")
    assert cal.day(D(2027, 1, 2)).is_working_day is False  # Saturday
    assert cal.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 1)
    for day in _span(D(2027, 1, 1), D(2027, 12, 31)):
        assert cal.is_working_day(day) is (day.weekday() < 5)


def test_override_changes_the_answer_immediately(db):
    assert get_calendar().is_working_day(D(2027, 1, 1)) is True
    set_calendar_day(SYSTEM, date=D(2027, 1, 1), is_working_day=False, name="元旦")
    current = get_calendar()
    assert current.is_working_day(D(2027, 1, 1)) is False
    info = current.day(D(2027, 1, 1))
    assert (info.is_working_day, info.name, info.source) == (False, "元旦", "override")
    assert current.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)
    # A weekend made a working day.
    set_calendar_day(SYSTEM, date=D(2027, 1, 2), is_working_day=True, name="调休上班")
    assert get_calendar().add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 2)
    # Setting again updates the same row.
    set_calendar_day(SYSTEM, date=D(2027, 1, 2), is_working_day=False)
    assert CalendarOverride.objects.filter(date=D(2027, 1, 2)).count() == 1
    assert get_calendar().add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)
    # Clearing restores the weekday rule.
    clear_calendar_day(SYSTEM, date=D(2027, 1, 1))
    assert get_calendar().day(D(2027, 1, 1)).source == "weekday-rule"
    assert get_calendar().is_working_day(D(2027, 1, 1)) is True


def test_overrides_beat_package_data(db):
    set_calendar_day(SYSTEM, date=D(2026, 10, 10), is_working_day=False, name="更正")
    set_calendar_day(SYSTEM, date=D(2026, 10, 1), is_working_day=True, name="")
    current = get_calendar()
    assert current.day(D(2026, 10, 10)).source == "override"
    assert current.is_working_day(D(2026, 10, 10)) is False
    assert current.is_working_day(D(2026, 10, 1)) is True
    assert current.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 1)
    assert current.add_working_days(D(2026, 10, 9), 1) == D(2026, 10, 12)
    assert current.working_days_between(D(2026, 9, 30), D(2026, 10, 12)) == 4  # 1, 8, 9, 12
    clear_calendar_day(SYSTEM, date=D(2026, 10, 10))
    assert get_calendar().is_working_day(D(2026, 10, 10)) is True


def test_snapshot_override_precedence_without_database():
    snapshot = WorkingCalendar({D(2026, 10, 8): (False, "extra"), D(2026, 10, 11): (True, "")})
    assert snapshot.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 9)
    assert snapshot.working_days_between(D(2026, 9, 30), D(2026, 10, 12)) == 4  # 9, 10, 11, 12
    assert snapshot.is_working_day(D(2026, 10, 11)) is True


def test_change_by_another_process_is_seen_after_the_recheck_interval(db, monkeypatch):
    assert get_calendar().is_working_day(D(2027, 3, 1)) is True
    # Another process writes the row; this one has not invalidated its snapshot.
    CalendarOverride.objects.create(date=D(2027, 3, 1), is_working_day=False, name="")
    monkeypatch.setattr(calendar, "RECHECK_SECONDS", 0)
    assert get_calendar().is_working_day(D(2027, 3, 1)) is False


def _target_year() -> tuple[int, int]:
    """A year the package does not know, and a horizon from today that reaches it."""
    today = dt.date.today()
    year = max(max(d.year for d in chinese_calendar.holidays) + 1, today.year + 1)
    return year, (D(year, 6, 30) - today).days


def test_confirm_calendar_year(db):
    year, horizon = _target_year()
    assert not get_calendar().is_year_known(year)
    assert year in unknown_years(horizon)
    item = confirm_calendar_year(SYSTEM, year=year, source="国办发明电〔2026〕X号")
    assert (item.year, item.confirmed) == (year, True)
    assert get_calendar().is_year_known(year)
    assert year not in unknown_years(horizon)
    # Confirming again keeps one row.
    confirm_calendar_year(SYSTEM, year=year, source="again")
    assert CalendarYear.objects.filter(year=year).count() == 1


def test_unknown_years_default_horizon(db):
    today = dt.date.today()
    expected = [
        y
        for y in range(today.year, (today + dt.timedelta(days=400)).year + 1)
        if y not in {d.year for d in chinese_calendar.holidays}
    ]
    assert unknown_years() == expected


# --- service checks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("day", [D(1999, 12, 31), D(2101, 1, 1), D(1, 1, 1)])
def test_set_day_out_of_range(db, day):
    with pytest.raises(InvalidInput) as info:
        set_calendar_day(SYSTEM, date=day, is_working_day=False)
    assert set(info.value.fields) == {"date"}
    assert info.value.fields["date"][0].code == "range"
    assert info.value.as_dict()["fields"]["date"][0]["message"] == {
        "zh-Hans": "日期超出日历支持的范围。",
        "en": "The date is outside the supported calendar range.",
    }
    assert not CalendarOverride.objects.filter(date=day).exists()


def test_set_day_input_errors(db):
    with pytest.raises(InvalidInput) as info:
        set_calendar_day(SYSTEM, date="2027-01-01", is_working_day=False)
    assert set(info.value.fields) == {"date"}
    with pytest.raises(InvalidInput) as info:
        set_calendar_day(SYSTEM, date=D(2027, 1, 1), is_working_day=False, name="节" * 61)
    assert set(info.value.fields) == {"name"}
    set_calendar_day(SYSTEM, date=D(2027, 1, 1), is_working_day=False, name="节" * 60)
    assert CalendarOverride.objects.get(date=D(2027, 1, 1)).name == "节" * 60


def test_confirm_year_out_of_range(db):
    for year in (1999, 2101):
        with pytest.raises(InvalidInput) as info:
            confirm_calendar_year(SYSTEM, year=year)
        assert set(info.value.fields) == {"year"}


def test_non_admin_may_not_change_the_calendar(clerk):
    with pytest.raises(NotPermitted):
        set_calendar_day(clerk, date=D(2027, 1, 1), is_working_day=False)
    with pytest.raises(NotPermitted):
        clear_calendar_day(clerk, date=D(2027, 1, 1))
    with pytest.raises(NotPermitted):
        confirm_calendar_year(clerk, year=2027)
    assert not CalendarOverride.objects.filter(date=D(2027, 1, 1)).exists()
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert get_calendar().is_working_day(D(2027, 1, 1)) is True


# --- API ---------------------------------------------------------------------------------------------


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert isinstance(error["request_id"], str) and error["request_id"]
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert set(error["message"]) == {"zh-Hans", "en"}
    return error


def test_api_add(client, db):
    response = client.get("/api/v1/calendar/add?start=2026-09-30&days=1")
    assert response.status_code == 200
    body = response.json()
    assert (body["start"], body["working_days"], body["date"]) == ("2026-09-30", 1, "2026-10-08")
    assert dt.datetime.fromisoformat(body["deadline"]) == dt.datetime(2026, 10, 9, tzinfo=SH)
    assert dt.datetime.fromisoformat(body["deadline"]).utcoffset() == dt.timedelta(hours=8)

    assert client.get("/api/v1/calendar/add?start=2026-10-08&days=-1").json()["date"] == "2026-09-30"
    assert client.get("/api/v1/calendar/add?start=2026-11-22&days=0").json()["date"] == "2026-11-23"
    assert client.get("/api/v1/calendar/add?start=2026-02-13&days=2").json()["date"] == "2026-02-24"


def test_api_between(client, db):
    response = client.get("/api/v1/calendar/between?start=2026-09-30&end=2026-10-10")
    assert response.status_code == 200
    assert response.json() == {"start": "2026-09-30", "end": "2026-10-10", "working_days": 3}
    response = client.get("/api/v1/calendar/between?start=2026-10-10&end=2026-09-30")
    assert response.json()["working_days"] == -3


def test_api_days(client, db):
    response = client.get("/api/v1/calendar/days?start=2026-09-30&end=2026-10-10")
    assert response.status_code == 200
    days = response.json()
    assert [d["date"] for d in days] == [
        (D(2026, 9, 30) + dt.timedelta(days=k)).isoformat() for k in range(11)
    ]
    by_date = {d["date"]: d for d in days}
    assert by_date["2026-10-01"] == {
        "date": "2026-10-01",
        "is_working_day": False,
        "name": "National Day",
        "source": "package",
    }
    assert by_date["2026-10-10"]["is_working_day"] is True
    assert by_date["2026-10-08"] == {
        "date": "2026-10-08",
        "is_working_day": True,
        "name": "",
        "source": "package",
    }
    assert [d["is_working_day"] for d in days].count(True) == 4  # 30 Sep, 8, 9, 10 Oct
    year = client.get("/api/v1/calendar/days?start=2026-01-01&end=2026-12-31").json()
    assert len(year) == 365
    assert sum(d["is_working_day"] for d in year) == 248


@pytest.mark.parametrize(
    "query",
    ["start=2026-01-01&end=2027-02-06", "start=2026-01-01&end=2030-01-01", "start=2026-10-10&end=2026-10-09"],
)
def test_api_days_range_limit(client, db, query):
    error = _error(client.get(f"/api/v1/calendar/days?{query}"), 422)
    assert error["code"] == "invalid_input"
    assert error["message"] == {
        "zh-Hans": "部分字段填写有误，未保存任何内容。",
        "en": "Some fields are not valid. Nothing was saved.",
    }
    assert error["fields"] == {
        "end": [
            {
                "code": "range",
                "message": {
                    "zh-Hans": "日期超出日历支持的范围。",
                    "en": "The date is outside the supported calendar range.",
                },
            }
        ]
    }


@pytest.mark.parametrize(
    ("url", "field", "code"),
    [
        ("/api/v1/calendar/add?start=2026-02-30&days=1", "start", None),
        ("/api/v1/calendar/add?start=tomorrow&days=1", "start", None),
        ("/api/v1/calendar/add?start=2026-09-30&days=one", "days", "int_parsing"),
        ("/api/v1/calendar/add?start=2026-09-30&days=4000", "days", "less_than_equal"),
        ("/api/v1/calendar/add?start=1999-12-31&days=1", "start", "range"),
        ("/api/v1/calendar/add?start=2100-12-30&days=5", "days", "range"),
        ("/api/v1/calendar/between?start=2026-09-30&end=2026-13-01", "end", None),
        ("/api/v1/calendar/between?start=2026-09-30", "end", "missing"),
        ("/api/v1/calendar/between?start=2101-01-01&end=2026-01-01", "start", "range"),
        ("/api/v1/calendar/days?start=2026-9-30&end=2026-10-01", "start", None),
    ],
)
def test_api_bad_input_names_the_field(client, db, url, field, code):
    error = _error(client.get(url), 422)
    assert error["code"] == "invalid_input"
    assert list(error["fields"]) == [field]
    problem = error["fields"][field][0]
    if code:
        assert problem["code"] == code
    assert set(problem["message"]) == {"zh-Hans", "en"}
    assert problem["message"]["zh-Hans"] != problem["message"]["en"]


def test_api_date_format_message(client, db):
    error = _error(client.get("/api/v1/calendar/add?start=2026-02-30&days=1"), 422)
    assert error["fields"]["start"][0]["message"] == {
        "zh-Hans": "请按 YYYY-MM-DD 格式输入日期。",
        "en": "Enter a date as YYYY-MM-DD.",
    }


def test_api_set_override_needs_login(client, db):
    response = client.put(
        "/api/v1/calendar/overrides/2027-01-01", {"is_working_day": False}, content_type="application/json"
    )
    error = _error(response, 401)
    assert error["code"] == "not_authenticated"
    assert error["message"] == {"zh-Hans": "请先登录。", "en": "Please log in."}
    assert not CalendarOverride.objects.filter(date=D(2027, 1, 1)).exists()
    assert _error(client.delete("/api/v1/calendar/overrides/2027-01-01"), 401)["code"] == "not_authenticated"


def test_api_set_override_as_admin_and_clerk(staff_client, db):
    client = staff_client("clerk")
    response = client.put(
        "/api/v1/calendar/overrides/2027-01-01",
        {"is_working_day": False, "name": "元旦"},
        content_type="application/json",
    )
    assert _error(response, 403)["code"] == "not_permitted"
    client.logout()

    client = staff_client("admin")
    response = client.put(
        "/api/v1/calendar/overrides/2027-01-01",
        {"is_working_day": False, "name": "元旦"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content[:500]
    assert response.json() == {
        "date": "2027-01-01",
        "is_working_day": False,
        "name": "元旦",
        "source": "override",
    }
    assert client.get("/api/v1/calendar/add?start=2026-12-31&days=1").json()["date"] == "2027-01-04"
    assert client.delete("/api/v1/calendar/overrides/2027-01-01").status_code == 204
    assert client.get("/api/v1/calendar/add?start=2026-12-31&days=1").json()["date"] == "2027-01-01"
