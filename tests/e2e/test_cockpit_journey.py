"""A supervisor opens the leaders' cockpit in the browser and reads the forecast of the next two
weeks with its backtest error beside the seasonal-naive baseline's, then the large display; a
bureau head sees their bureau only; a clerk is refused. The history is real: a year of a city's
message board as hotline work orders (dispatched to the housing bureau) and the receipts of a
permit process as cases of the market regulator, shifted to end yesterday.
Screenshots: /tmp/shots/cockpit-*.png."""

import datetime as dt
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from tests.conftest import shared_data_dir
from tests.e2e.test_login_journey import _login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")  # noqa: S108  (where reviewers look at the pictures; nothing is read back)


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"cockpit-{name}.png"), full_page=True)


def _daily(timestamps) -> list[int]:
    import pandas as pd

    days = timestamps.dt.floor("D").value_counts().sort_index()
    return days.reindex(pd.date_range(days.index.min(), days.index.max()), fill_value=0).astype(int).tolist()


def _real_history(today: dt.date) -> None:
    import pandas as pd

    from tongban.core import calendar
    from tongban.core import events as core_events

    folder = shared_data_dir()
    if folder is None:
        pytest.skip("../shared/data is absent: the journey replays real volumes")
    board = pd.read_csv(Path(folder) / "hotline" / "messages_votes.csv", usecols=["留言时间"])
    at = pd.to_datetime(board["留言时间"].astype(str).str.strip(), format="mixed")
    orders = _daily(at[(at >= "2019-01-01") & (at < "2020-01-01")])
    log = pd.read_csv(
        Path(folder) / "eventlogs" / "receipt.csv", usecols=["case:concept:name", "time:timestamp"]
    )
    first = (
        pd.to_datetime(log["time:timestamp"], utc=True, format="mixed")
        .groupby(log["case:concept:name"])
        .min()
    )
    cases = _daily(first.dt.tz_convert("Europe/Amsterdam").dt.tz_localize(None))[-365:]
    tz = calendar.local_tz()
    written = []
    # Shifted so that each series ends yesterday, weekday for weekday (a whole number of weeks).
    for series, make in (
        (
            orders,
            lambda day, i: [
                core_events.make("work_order", f"W{day:%Y%m%d}{i}", "work_order.received", at=day),
                core_events.make(
                    "work_order",
                    f"W{day:%Y%m%d}{i}",
                    "work_order.dispatched",
                    at=day,
                    department_code="zjj",
                    detail={"role": "lead", "round": 0},
                ),
            ],
        ),
        (
            cases,
            lambda day, i: [
                core_events.make(
                    "case", f"C{day:%Y%m%d}{i}", "case.submitted", at=day, department_code="scjgj-spjyk"
                )
            ],
        ),
    ):
        weeks_back = -(-len(series) // 7) * 7
        start = today - dt.timedelta(days=weeks_back)
        offset = weeks_back - len(series)
        for n, count in enumerate(series):
            day = dt.datetime.combine(start + dt.timedelta(days=offset + n), dt.time(10), tzinfo=tz)
            for i in range(count):
                written += make(day, i)
    with transaction.atomic():
        core_events.write(written)
    # As the nightly job would have done (the page asks the queue only when it did not run).
    from tongban.insight import cockpit

    assert cockpit.make_forecasts(today) == 4  # cases and orders, for the region and one bureau each


def test_a_supervisor_reads_the_forecast_on_the_cockpit(page, settings, tmp_path):
    settings.VAR_DIR = str(tmp_path)
    today = timezone.localdate()
    _real_history(today)
    from tests.insight.factories import three_bureaus, write_facts

    write_facts(tmp_path / "insight" / "facts.parquet", three_bureaus())  # closed cases, one bureau red

    _login(page, "supervisor")
    page.click("nav >> text=领导驾驶舱")
    page.wait_for_selector("#cockpit-trend[data-state=rendered]")
    assert page.locator("#cockpit-trend").get_attribute("data-forecast-days") == "14"
    assert page.locator("#cockpit-trend svg").count() == 1
    table = page.locator("[data-testid=cockpit-forecasts]")
    housing = table.locator("tr[data-unit=zjj][data-measure=orders_dispatched]")
    assert housing.get_attribute("data-method") == "ets"
    model = housing.locator("[data-testid=forecast-error]").inner_text()
    naive = housing.locator("[data-testid=baseline-error]").inner_text()
    # MASE / WAPE of the model against the seasonal-naive forecast's, over the same origins.
    model_mase, naive_mase = float(model.split("/")[0]), float(naive.split("/")[0])
    assert 0 < model_mase < naive_mase
    assert "季节性指数平滑" in housing.inner_text()
    counters = page.locator("[data-testid=cockpit-counters]").inner_text()
    assert "今日办件" in counters and "今日热线工单" in counters
    assert page.locator("[data-testid=cockpit-alerts] li[data-unit=rsj][data-kpi=on_time_rate]").count() == 1
    assert page.locator("#cockpit-regions[data-state=rendered] svg").count() == 1
    _shot(page, "console")

    # One bureau's trend and forecast.
    page.select_option("[data-testid=cockpit-department]", "zjj")
    page.click("[data-testid=cockpit-filter] button")
    page.wait_for_selector("#cockpit-trend[data-state=rendered]")
    assert page.locator("#cockpit-trend").get_attribute("data-forecast-days") == "14"

    # The large display: no navigation, the same figures, big.
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.click("[data-testid=wall-link]")
    page.wait_for_selector("body.cockpit-wall #cockpit-trend[data-state=rendered]")
    assert page.locator("#sidenav").count() == 0
    assert page.locator("[data-testid=cockpit-forecasts] tr[data-method=ets]").count() >= 1
    _shot(page, "wall")


def test_a_bureau_head_sees_their_bureau_and_a_clerk_is_refused(page, settings, tmp_path):
    settings.VAR_DIR = str(tmp_path)
    _real_history(timezone.localdate())
    _login(page, "bureau_head")
    page.click("nav >> text=领导驾驶舱")
    page.wait_for_selector("#cockpit-trend[data-state=rendered]")
    units = {
        page.locator("[data-testid=cockpit-forecasts] tbody tr").nth(i).get_attribute("data-unit")
        for i in range(page.locator("[data-testid=cockpit-forecasts] tbody tr").count())
    }
    assert units == {"scjgj"}
    assert page.locator("[data-testid=cockpit-department] option").count() == 1
    _shot(page, "bureau-head")
    page.context.clear_cookies()
    _login(page, "clerk")
    assert "领导驾驶舱" not in page.locator("#sidenav").inner_text()
    response = page.goto(page.base_url + "/insight/cockpit")
    assert response.status == 403
