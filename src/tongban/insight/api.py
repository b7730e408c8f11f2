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
