"""The leaders' cockpit (insight.cockpit): counts from the core event log (cases and hotline work
orders as subjects of their own kind), live counters between refreshes, the daily forecasts per
bureau with their backtest, units turning red, scope by role, and the page and API — also on an
empty database."""

import datetime as dt
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from tests.conftest import actor
from tests.insight.factories import fact, write_facts
from tongban.core import calendar
from tongban.core import events as core_events
from tongban.core.errors import InvalidInput, NotPermitted
from tongban.insight import cockpit
from tongban.insight import forecast as fc
from tongban.insight.models import DailyVolume, VolumeForecast

# Monday … Sunday: cases per day at the market regulator, and hotline orders for the housing bureau
CASES_WEEK = [12, 14, 13, 15, 11, 2, 1]
ORDERS_WEEK = [6, 7, 7, 6, 8, 4, 3]


@pytest.fixture
def var(db, settings, tmp_path):
    settings.VAR_DIR = str(tmp_path)
    return Path(tmp_path)


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=calendar.local_tz())


def _write(kind, activity, day, n, *, department="", prefix="X", **detail):
    with transaction.atomic():
        core_events.write(
            core_events.make(
                kind,
                f"{prefix}-{day:%Y%m%d}-{i}",
                activity,
                at=_at(day),
                department_code=department,
                detail=detail,
            )
            for i in range(n)
        )


def _history(today: dt.date, days: int, *, cases_dept="scjgj-spjyk", orders_dept="zjj") -> None:
    """`days` days before today of cases submitted (market regulator's approval section) and hotline
    work orders received and dispatched to the housing bureau, each with its weekly rhythm."""
    for back in range(days, 0, -1):
        day = today - dt.timedelta(days=back)
        _write("case", "case.submitted", day, CASES_WEEK[day.weekday()], department=cases_dept, prefix="C")
        n = ORDERS_WEEK[day.weekday()]
        _write("work_order", "work_order.received", day, n, prefix="W")
        _write(
            "work_order",
            "work_order.dispatched",
            day,
            n,
            department=orders_dept,
            prefix="W",
            role="lead",
            round=0,
        )


def test_an_empty_database_gives_an_empty_cockpit(var):
    assert cockpit.make_forecasts() == 0
    view = cockpit.cockpit(actor("supervisor"))
    assert view.counters["cases_today"] == 0 and view.counters["orders_today"] == 0
    assert view.counters["on_time_rate"] is None and view.counters["rating_mean"] is None
    assert view.forecasts == [] and view.alerts == [] and view.league == [] and view.regions == []
    assert len(view.trend["days"]) == cockpit.TREND_DAYS and sum(view.trend["cases"]) == 0


def test_the_counts_come_from_the_event_log_and_today_is_live(var):
    today = timezone.localdate()
    _history(today, 14)
    _write("case", "case.rated", today, 1, department="scjgj-spjyk", prefix="C", score=5)
    _write("case", "case.rated", today, 1, department="scjgj-spjyk", prefix="D", score=2)
    _write("work_order", "work_order.closed", today, 3, department="zjj", prefix="W", within_limit=True)
    _write("work_order", "work_order.closed", today, 1, department="zjj", prefix="V", within_limit=False)
    cockpit.refresh()
    cases = DailyVolume.objects.filter(measure=cockpit.CASES)
    assert {v.bureau for v in cases} == {"scjgj"}  # the section's cases count for its bureau
    assert sum(v.value for v in cases) == 2 * sum(CASES_WEEK)
    # Written after the refresh: the page counts them at once.
    _write("case", "case.submitted", today, 4, department="scjgj-spjyk", prefix="T")
    _write("work_order", "work_order.received", today, 2, prefix="T")
    view = cockpit.cockpit(actor("supervisor"), today=today)
    c = view.counters
    assert c["cases_today"] == 4 and c["orders_today"] == 2
    assert c["cases_last_week"] == CASES_WEEK[today.weekday()]
    assert c["ratings_today"] == 2 and c["rating_mean"] == pytest.approx(3.5) and c["good_rating_rate"] == 0.5
    assert c["orders_on_time_rate"] == pytest.approx(0.75)
    assert view.trend["cases"][-1] == 4 and view.trend["cases"][-8] == CASES_WEEK[today.weekday()]
    # A refresh takes them in once; running it again adds nothing, and a rebuild counts the same.
    cockpit.refresh()
    cockpit.refresh()
    counted = {(v.measure, v.bureau, v.day): v.value for v in DailyVolume.objects.all()}
    cockpit.refresh(rebuild=True)
    assert counted == {(v.measure, v.bureau, v.day): v.value for v in DailyVolume.objects.all()}
    assert counted[(cockpit.CASES, "scjgj", today)] == 4


def test_forecasts_per_bureau_recover_the_weekly_rhythm_with_their_backtest(var):
    today = timezone.localdate()
    _history(today, 10 * 7)
    _history(today, 10, cases_dept="rsj-shbxk", orders_dept="rsj")  # the labour bureau: 10 days only
    made = cockpit.make_forecasts(today)
    rows = {(f.measure, f.bureau): f for f in VolumeForecast.objects.filter(made_on=today)}
    assert made == len(rows) == 6  # region, scjgj, rsj (and zjj for orders, not for cases)…
    assert set(rows) == {
        ("cases", ""),
        ("cases", "scjgj"),
        ("cases", "rsj"),
        ("orders_dispatched", ""),
        ("orders_dispatched", "zjj"),
        ("orders_dispatched", "rsj"),
    }
    market = rows[("cases", "scjgj")]
    assert market.method == fc.ETS and market.history_days == 70 and market.first_day == today
    for i, value in enumerate(market.values):
        assert value == pytest.approx(CASES_WEEK[(today + dt.timedelta(days=i)).weekday()], abs=0.5)
    # 70 days, two weeks to test, four to train at least: origins at day 56, 49, 42, 35 and 28.
    assert market.backtest["origins"] == 5 and market.backtest["wape"] < 5
    housing = rows[("orders_dispatched", "zjj")]
    assert housing.method == fc.ETS and sum(housing.values[:7]) == pytest.approx(sum(ORDERS_WEEK), abs=1)
    labour = rows[("cases", "rsj")]
    assert labour.method == fc.SEASONAL_NAIVE and labour.history_days == 10
    assert labour.backtest == labour.baseline  # the same method over the same origins
    region = rows[("cases", "")]
    assert region.method == fc.ETS and region.history_days == 70
    # The page shows them: the region's and each bureau's, with the two errors.
    view = cockpit.cockpit(actor("supervisor"), today=today)
    assert view.forecasts_made_on == today
    assert [(f["bureau"], f["measure"]) for f in view.forecasts][:2] == [
        ("", "cases"),
        ("", "orders_dispatched"),
    ]
    assert view.forecast["cases"] == region.values and len(view.forecast["days"]) == fc.HORIZON
    # Made again the same day: replaced, not doubled.
    cockpit.make_forecasts(today)
    assert VolumeForecast.objects.filter(made_on=today).count() == 6


def test_a_bureau_head_sees_only_their_bureau(var):
    today = timezone.localdate()
    _history(today, 35)
    _history(today, 35, cases_dept="rsj-shbxk", orders_dept="rsj")
    cockpit.make_forecasts(today)
    head = actor("bureau_head")  # 市场监管局
    view = cockpit.cockpit(head, today=today)
    assert view.bureau == "scjgj" and not view.scope.everything
    assert {f["bureau"] for f in view.forecasts} == {"scjgj"}
    assert list(view.bureau_names) == ["scjgj"]
    assert view.counters["cases_last_week"] == CASES_WEEK[today.weekday()]  # not the labour bureau's too
    with pytest.raises(InvalidInput) as refused:
        cockpit.cockpit(head, bureau="rsj")
    assert "department" in refused.value.fields
    whole = cockpit.cockpit(actor("supervisor"), today=today)
    assert whole.scope.everything and whole.counters["cases_last_week"] == 2 * CASES_WEEK[today.weekday()]
    for name in ("clerk", "reviewer", "operator", "zhangsan"):
        with pytest.raises(NotPermitted):
            cockpit.cockpit(actor(name))


def test_units_turning_red_are_alerted_and_the_league_ranks_them(var):
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    earlier = now - dt.timedelta(days=40)
    rows = [fact(f"S{i}", "scjgj", when=now - dt.timedelta(days=3)) for i in range(10)]
    rows += [fact(f"R{i}", "rsj", on_time=i < 5, when=now - dt.timedelta(days=3)) for i in range(10)]
    rows += [fact(f"Q{i}", "rsj", when=earlier) for i in range(10)]  # on time the month before
    rows += [fact(f"Z{i}", "zjj", on_time=i < 5, when=now - dt.timedelta(days=3)) for i in range(10)]
    rows += [fact(f"Y{i}", "zjj", on_time=i < 5, when=earlier) for i in range(10)]  # red already
    write_facts(var / "insight" / "facts.parquet", rows)
    view = cockpit.cockpit(actor("supervisor"))
    on_time = {a["bureau"]: a for a in view.alerts if a["kpi"] == "on_time_rate"}
    assert set(on_time) == {"rsj", "zjj"}
    assert on_time["rsj"]["new"] and on_time["rsj"]["was"] == "green"
    assert not on_time["zjj"]["new"] and on_time["zjj"]["was"] == "red"
    assert view.alerts[0]["bureau"] == "rsj"  # what turned red comes first
    assert view.league[0]["unit"] == "scjgj"
    assert view.counters["on_time_rate"] == pytest.approx(20 / 30)
    assert view.regions and view.regions[0]["submitted"] == 30


def test_the_page_and_api_for_leaders_and_not_for_others(var, staff_client, citizen_client, client):
    today = timezone.localdate()
    _history(today, 49)
    staff_client("supervisor")
    page = client.get("/insight/cockpit")  # today's forecasts are missing: the page asks the queue
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="cockpit-forecasts"' in body and 'data-method="ets"' in body
    assert "领导驾驶舱" in body and 'id="cockpit-data"' in body
    wall = client.get("/insight/cockpit?display=wall")
    assert wall.status_code == 200 and b"cockpit-wall" in wall.content and b"sidenav" not in wall.content
    assert client.get("/insight/cockpit?department=nowhere").status_code == 200  # said on the page
    api = client.get("/api/v1/insight/cockpit").json()
    assert api["forecasts_made_on"] == today.isoformat()
    region = next(f for f in api["forecasts"] if f["bureau"] == "" and f["measure"] == "cases")
    assert region["method"] == "ets" and len(region["values"]) == fc.HORIZON
    # A rhythm that repeats exactly: last week was perfect, so there is no in-sample error to scale by.
    assert region["backtest"]["origins"] == 2 and region["baseline"]["wape"] == 0.0
    assert region["baseline"]["mase"] is None
    for name, login in (("clerk", staff_client), ("zhangsan", citizen_client)):
        client.logout()
        login(name)
        assert client.get("/insight/cockpit").status_code == 403
        assert client.get("/api/v1/insight/cockpit").status_code == 403
    client.logout()
    assert client.get("/insight/cockpit").status_code in (302, 401, 403)


def test_the_page_on_an_empty_database(var, staff_client, client):
    staff_client("admin")
    page = client.get("/insight/cockpit")
    assert page.status_code == 200
    assert "暂无预测" in page.content.decode()
    assert client.get("/insight/cockpit?display=wall").status_code == 200


def test_the_operator_makes_the_forecasts_from_the_command_line(var, monkeypatch):
    from typer.testing import CliRunner

    from tongban.cli import main as cli
    from tongban.cli.main import app
    from tongban.core.models import AuditEntry

    # The CLI's console took its width when first imported, perhaps in a narrow test: widen it, or
    # the table cuts "(region)" short and the test depends on which test imported it first.
    monkeypatch.setattr(cli.console, "width", 200)

    _history(timezone.localdate(), 49)
    done = CliRunner().invoke(app, ["insight", "forecast"], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "4 forecasts made" in done.output and "(region)" in done.output and "scjgj" in done.output
    assert AuditEntry.objects.filter(action="insight.cockpit.forecast").exists()
