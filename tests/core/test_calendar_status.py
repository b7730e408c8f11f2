"""Red/yellow/green status against a working-day limit (DOMAIN.md: green < 80 %, yellow ≥ 80 %, red late)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tongban.core.calendar import WorkingCalendar

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()


def at(y, m, d, h=9):
    return dt.datetime(y, m, d, h, tzinfo=SH)


# Accepted Monday 2026-11-02 09:00 with a 10-working-day limit: due at the end of Monday 2026-11-16.
START = at(2026, 11, 2)


@pytest.mark.parametrize(
    "now,colour",
    [
        (at(2026, 11, 3), "green"),  # the day of acceptance is not counted: 0.375 used
        (at(2026, 11, 10, 9), "green"),  # 5.375 used (the weekend does not count)
        (at(2026, 11, 13, 9), "yellow"),  # 8.375 used: over 80 %
        (at(2026, 11, 16, 23), "yellow"),  # the last day, not yet over
        (at(2026, 11, 17, 0), "yellow"),  # exactly the deadline
        (at(2026, 11, 17, 9), "red"),  # deadline passed
    ],
)
def test_status_follows_working_days(now, colour, settings):
    settings.TONGBAN_YELLOW_AT = 0.8
    assert CAL.status(START, 10, now).colour == colour


def test_weekends_and_holidays_do_not_use_up_the_limit():
    # Over the National Day holiday (2026-10-01..07) no working time passes.
    before = CAL.status(at(2026, 9, 30, 18), 5, at(2026, 9, 30, 18)).working_days_used
    after = CAL.status(at(2026, 9, 30, 18), 5, at(2026, 10, 7, 23)).working_days_used
    assert before == after == 0.0


def test_paused_time_is_not_counted(settings):
    settings.TONGBAN_YELLOW_AT = 0.8
    now = at(2026, 11, 17, 9)  # 10.375 working days after START: red...
    assert CAL.status(START, 10, now).colour == "red"
    # ...unless three working days waited on the applicant (补正).
    assert CAL.status(START, 10, now, paused=3).colour == "green"


def test_same_day_items_are_due_the_same_day():
    assert CAL.status(at(2026, 11, 2, 9), 0, at(2026, 11, 2, 17)).colour == "green"
    assert (
        CAL.status(
            at(2026, 11, 2, 9),
            0,
            at(
                2026,
                11,
                3,
                0,
            ),
        ).colour
        == "red"
    )


def test_yellow_threshold_is_a_setting(settings):
    settings.TONGBAN_YELLOW_AT = 0.5
    assert CAL.status(START, 10, at(2026, 11, 10, 9)).colour == "yellow"  # 5.375 used of 10
    assert CAL.status(START, 10, at(2026, 11, 10, 9)).share_used == pytest.approx(0.5375)


def test_red_exactly_when_the_deadline_passes():
    deadline = CAL.deadline(START, 10)
    assert deadline == at(2026, 11, 17, 0)
    assert CAL.status(START, 10, deadline).colour != "red"
    assert CAL.status(START, 10, deadline + dt.timedelta(seconds=1)).colour == "red"
