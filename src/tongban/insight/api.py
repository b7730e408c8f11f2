"""Insight endpoints: the event logs held and a log's process mining, for dashboards of other systems."""

import datetime as dt
import uuid

from ninja import Field, Router, Schema

from . import services

router = Router(tags=["insight"])


class LogOut(Schema):
    id: uuid.UUID = Field(..., alias="public_id")
    name: str
    source: str
    events: int
    cases: int
    activities: int
    first_at: dt.datetime | None
    last_at: dt.datetime | None
    created_at: dt.datetime


@router.get("/insight/logs", response=list[LogOut], summary="Event logs held for analysis")
def list_logs(request):
    return list(services.logs(request.auth))


class EdgeOut(Schema):
    source: str
    target: str
    count: int
    mean: float = Field(..., description="seconds from the source's completion to the target's")
    median: float
    p90: float


class VariantOut(Schema):
    activities: list[str]
    count: int
    share: float
    mean_duration: float
    median_duration: float


class AnalysisOut(Schema):
    cases: int
    events: int
    activities: int
    mean_duration: float
    median_duration: float
    p90_duration: float
    edges: list[EdgeOut]
    start: dict[str, int]
    end: dict[str, int]
    variants: list[VariantOut]
    handoff_share: float | None = Field(None, description="time between departments / cycle time")


@router.get(
    "/insight/logs/{log_id}/analysis",
    response=AnalysisOut,
    summary="Directly-follows graph with performance, variants and hand-off share of one log",
)
def analysis(request, log_id: str, variants: int = 20):
    a = services.analyse(request.auth, log_id, top_variants=max(1, min(variants, 500)))
    o = a.overview
    return {
        "cases": o.cases,
        "events": o.events,
        "activities": o.activities,
        "mean_duration": o.mean_duration,
        "median_duration": o.median_duration,
        "p90_duration": o.p90_duration,
        "edges": [e.__dict__ for e in a.graph.edges],
        "start": a.graph.start,
        "end": a.graph.end,
        "variants": [{**v.__dict__, "activities": list(v.activities)} for v in a.variants],
        "handoff_share": a.handoffs.share,
    }


class UnitKpis(Schema):
    unit: str = Field(..., description="The bureau's code, or '' for the region")
    name: str = ""
    figures: dict[str, float | int | None] = Field(..., description="Every KPI of DOMAIN.md; rates 0–1")
    status: dict[str, str] = Field(
        default_factory=dict, description="green / yellow / red against the targets"
    )
    rank: int | None = None


class KpisOut(Schema):
    start: dt.date
    end: dt.date
    region: UnitKpis
    units: list[UnitKpis]


@router.get("/insight/kpis", response=KpisOut, summary="The KPIs for a period: the region and each bureau")
def kpis(request, start: dt.date, end: dt.date, kpi: str = "on_time_rate"):
    from . import kpis as formulas

    board = services.dashboard(request.auth, start, end, league_kpi=kpi)

    def figures(row: dict) -> dict:
        keep = [*formulas.LABELS, "submitted_cases", "closed_cases"]
        return {k: row.get(k) for k in keep}

    return {
        "start": start,
        "end": end,
        "region": {"unit": "", "name": "", "figures": figures(board.region)},
        "units": [
            {
                "unit": u["unit"],
                "name": u["name"],
                "figures": figures(u),
                "status": u["status"],
                "rank": u["rank"],
            }
            for u in board.units
        ],
    }


class SupervisionLineOut(Schema):
    department: str = Field(..., description="The lead department's code, or '' for the whole government")
    name: str = ""
    tasks: int = Field(..., description="Tasks put under supervision in the period")
    closed: int = Field(..., description="Of those, closed by the period's end")
    closed_on_time: int
    closing_rate: float | None = Field(None, description="办结率, 0–1")
    on_time_rate: float | None = Field(None, description="按时办结率 (of the closed), 0–1")


@router.get(
    "/insight/supervision",
    response=list[SupervisionLineOut],
    summary="督查督办 KPIs for a period: the whole government, then each lead department",
)
def supervision_kpis(request, start: dt.date, end: dt.date):
    from . import supervision

    return [
        {
            "department": line.department_code,
            "name": line.department_name,
            "tasks": line.tasks,
            "closed": line.closed,
            "closed_on_time": line.closed_on_time,
            "closing_rate": line.closing_rate,
            "on_time_rate": line.on_time_rate,
        }
        for line in supervision.figures(request.auth, start, end)
    ]


class BacktestOut(Schema):
    origins: int = 0
    mase: float | None = None
    wape: float | None = Field(None, description="%")


class ForecastOut(Schema):
    bureau: str = Field(..., description="The bureau's code, or '' for the region")
    measure: str = Field(..., description="cases or orders_dispatched (the region: all orders received)")
    method: str = Field(..., description="ets, seasonal_naive (history too short) or none")
    history_days: int
    first_day: dt.date
    values: list[float] = Field(..., description="daily volume from first_day on")
    backtest: BacktestOut
    baseline: BacktestOut = Field(..., description="the seasonal-naive forecast over the same origins")


class CockpitOut(Schema):
    today: dt.date
    counters: dict[str, float | int | None]
    forecasts_made_on: dt.date | None
    forecasts: list[ForecastOut]
    alerts: list[dict]


@router.get(
    "/insight/cockpit", response=CockpitOut, summary="The leaders' cockpit: counters, forecasts, alerts"
)
def cockpit(request, department: str = ""):
    from . import cockpit as screen

    screen.scope_of(request.auth)
    screen.ensure_counted()
    view = screen.cockpit(request.auth, bureau=department[:40])
    return {
        "today": view.today,
        "counters": view.counters,
        "forecasts_made_on": view.forecasts_made_on,
        "forecasts": view.forecasts,
        "alerts": [
            {k: (str(v) if k == "label" else v) for k, v in a.items() if k != "rate"} for a in view.alerts
        ],
    }
