"""The leaders' cockpit (领导驾驶舱): today's counters, trends, the league table, the region chart,
units turning red, and the next two weeks' case and hotline volume per bureau with the error of
each forecast in its backtest.

Everything is read from the core event log (and the case-facts snapshot the dashboard uses), never
from another app: cases are `case.*` events and hotline work orders `work_order.*` events, named
here by their codes because insight imports neither app. A refresh job counts the events into
DailyVolume rows (per measure, bureau and local day) from where it last stopped; the page adds
only the events since, so its counters are live without reading the whole log. Forecasts are
fitted once a day (insight.forecast) by the nightly job and kept in VolumeForecast.

Who may: holders of insight.cockpit (supervisors, bureau and division heads, administrators), each
for the bureaus in their scope; a grant at the top of the tree sees the whole region.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms
from tongban.core import audit, calendar
from tongban.core import events as core_events
from tongban.core.authz import require
from tongban.core.errors import InvalidInput, NotPermitted
from tongban.core.replicas import analytics

from . import forecast as fc
from .models import CockpitState, DailyVolume, VolumeForecast

# Measures counted per bureau and day.
CASES = "cases"  # applications submitted (case.submitted)
ORDERS = "orders"  # work orders received by the hotline (work_order.received)
ORDERS_DISPATCHED = "orders_dispatched"  # work orders a bureau was made lead of (work_order.dispatched)
ORDERS_CLOSED = "orders_closed"  # work orders closed (work_order.closed)
ORDERS_ON_TIME = "orders_on_time"  # … of them within the time limit
RATINGS = "ratings"  # ratings given by applicants (case.rated)
RATING_POINTS = "rating_points"  # the sum of their scores (1–5)
GOOD_RATINGS = "good_ratings"  # ratings of 4 or 5

ACTIVITIES = (
    "case.submitted",
    "case.rated",
    "work_order.received",
    "work_order.dispatched",
    "work_order.closed",
)
# What the forecasts are made of: cases per bureau, hotline orders per lead bureau; the region's
# hotline total counts every order received, dispatched or not.
FORECASTS = ((CASES, CASES), (ORDERS_DISPATCHED, ORDERS))  # (per bureau, region total)
LABELS = {
    CASES: _("Cases submitted"),
    ORDERS: _("Hotline work orders"),
    ORDERS_DISPATCHED: _("Hotline work orders"),
}
METHOD_LABELS = {
    fc.ETS: _("seasonal exponential smoothing (ETS)"),
    fc.SEASONAL_NAIVE: _("seasonal naive: history too short for the model"),
    fc.NONE: _("no forecast: less than a week of history"),
}
PERIOD_DAYS = 30  # the counters' and league table's window
TREND_DAYS = 56  # the days of history the trend charts show
KEEP_FORECASTS_DAYS = 30


def _today() -> dt.date:
    return timezone.localdate()


def _bureau_of_codes() -> dict[str, str]:
    """Department code → the code of the bureau it belongs to (the second level of the tree); the
    top of the tree and unknown codes → "" (the region as a whole)."""
    from tongban.accounts.models import Department

    found = {}
    for code, path in Department.objects.values_list("code", "path"):
        parts = [p for p in path.split("/") if p]
        found[code] = parts[1] if len(parts) >= 2 else ""
    return found


def _tally(since_id: int) -> tuple[Counter, int]:
    """Counts of every measure per (measure, bureau, local day) from the events after `since_id`,
    and the last event id read."""
    tz = calendar.local_tz()
    bureau_of = _bureau_of_codes()
    counts: Counter = Counter()
    last = since_id
    for e in core_events.stream(since_id=since_id, activities=ACTIVITIES):
        last = max(last, e.id or last)
        day = e.occurred_at.astimezone(tz).date()
        bureau = bureau_of.get(e.department_code, "")
        if e.activity == "case.submitted":
            counts[(CASES, bureau, day)] += 1
        elif e.activity == "case.rated":
            score = e.detail.get("score")
            if isinstance(score, int):
                counts[(RATINGS, bureau, day)] += 1
                counts[(RATING_POINTS, bureau, day)] += score
                counts[(GOOD_RATINGS, bureau, day)] += score >= 4
        elif e.activity == "work_order.received":
            counts[(ORDERS, bureau, day)] += 1
        elif e.activity == "work_order.dispatched" and e.detail.get("role") == "lead":
            counts[(ORDERS_DISPATCHED, bureau, day)] += 1
        elif e.activity == "work_order.closed":
            counts[(ORDERS_CLOSED, bureau, day)] += 1
            counts[(ORDERS_ON_TIME, bureau, day)] += e.detail.get("within_limit") is True
    return counts, last


def refresh(*, rebuild: bool = False) -> int:
    """Count the events written since the last run into DailyVolume (all of them again when
    `rebuild`, which also mends what a transaction committed late under an earlier id could have
    left out). Returns the number of events' worth of counts added. Run by the queue."""
    with transaction.atomic():
        state, _created = CockpitState.objects.select_for_update().get_or_create(pk=1)
        since = 0 if rebuild else state.last_event_id
        counts, last = _tally(since)
        if rebuild:
            DailyVolume.objects.all().delete()
        existing = {
            (v.measure, v.bureau, v.day): v
            for v in DailyVolume.objects.filter(day__in={day for _m, _b, day in counts})
        }
        changed, new = [], []
        for (measure, bureau, day), value in counts.items():
            row = existing.get((measure, bureau, day))
            if row is None:
                new.append(DailyVolume(measure=measure, bureau=bureau, day=day, value=value))
            else:
                row.value += value
                changed.append(row)
        DailyVolume.objects.bulk_create(new, batch_size=2000)
        DailyVolume.objects.bulk_update(changed, ["value"], batch_size=2000)
        state.last_event_id, state.refreshed_at = last, timezone.now()
        state.save()
    return sum(counts[k] for k in counts if k[0] in (CASES, ORDERS))


def _series(measure: str, bureaus: set[str] | None, first: dt.date, last: dt.date) -> list[float]:
    """Daily values of a measure (summed over `bureaus`, or all when None) from `first` to `last`,
    every day present."""
    rows = DailyVolume.objects.filter(measure=measure, day__gte=first, day__lte=last)
    if bureaus is not None:
        rows = rows.filter(bureau__in=bureaus)
    by_day: Counter = Counter()
    for day, value in rows.values_list("day", "value"):
        by_day[day] += value
    return [float(by_day.get(first + dt.timedelta(days=i), 0)) for i in range((last - first).days + 1)]


def make_forecasts(today: dt.date | None = None) -> int:
    """Recount the event log, then fit the next HORIZON days of cases and hotline orders for the
    region and each bureau on the history up to yesterday (today is not over). Returns the number of
    forecasts made. Run nightly by the queue, or from the page when today's are missing."""
    today = today or _today()
    refresh(rebuild=True)
    yesterday = today - dt.timedelta(days=1)
    first_seen = DailyVolume.objects.order_by("day").values_list("day", flat=True).first()
    made = []
    if first_seen is not None and first_seen <= yesterday:
        start = max(first_seen, yesterday - dt.timedelta(days=fc.WINDOW - 1))
        now = timezone.now()
        for per_bureau, total in FORECASTS:
            bureaus = set(
                DailyVolume.objects.filter(measure=per_bureau)
                .exclude(bureau="")
                .values_list("bureau", flat=True)
            )
            targets = [("", total, None)] + [(b, per_bureau, {b}) for b in sorted(bureaus)]
            for bureau, measure, only in targets:
                found = fc.forecast(_series(measure, only, start, yesterday))
                made.append(
                    VolumeForecast(
                        made_on=today,
                        measure=per_bureau,
                        bureau=bureau,
                        method=found.method,
                        history_days=found.history_days,
                        first_day=today,
                        values=found.values,
                        backtest=found.backtest.__dict__,
                        baseline=found.baseline.__dict__,
                        made_at=now,
                    )
                )
    with transaction.atomic():
        VolumeForecast.objects.filter(made_on=today).delete()
        VolumeForecast.objects.filter(made_on__lt=today - dt.timedelta(days=KEEP_FORECASTS_DAYS)).delete()
        VolumeForecast.objects.bulk_create(made)
    return len(made)


# --- the page -------------------------------------------------------------------------------------


@dataclass
class Scope:
    """The bureaus a reader may see: all (a grant at the top of the tree) or some."""

    everything: bool
    bureaus: set[str]

    def covers(self, bureau: str) -> bool:
        return self.everything or bureau in self.bureaus

    @property
    def filter(self) -> set[str] | None:
        """For queries: None for everything, else the bureaus (the region's "" is not theirs)."""
        return None if self.everything else self.bureaus


def scope_of(actor) -> Scope:
    """The bureaus covered by the actor's insight.cockpit grants; refused when there is none."""
    from tongban.accounts.models import Department

    require(actor, perms.INSIGHT_COCKPIT)
    if getattr(actor, "is_system", False):
        return Scope(True, set())
    everything, bureaus = False, set()
    paths = dict(Department.objects.filter(path__regex=r"^/[^/]+/[^/]+/$").values_list("code", "path"))
    for grant in actor.grants:
        if perms.INSIGHT_COCKPIT not in grant.permissions:
            continue
        depth = len([p for p in grant.path.split("/") if p])
        if depth <= 1 and grant.include_subtree:
            everything = True
        for code, path in paths.items():
            if path == grant.path or (grant.include_subtree and path.startswith(grant.path)):
                bureaus.add(code)
    if not everything and not bureaus:
        raise NotPermitted()
    return Scope(everything, bureaus)


@dataclass
class Cockpit:
    today: dt.date
    scope: Scope
    bureau: str  # the bureau the trends and forecast chart show, "" for all in scope
    bureau_names: dict[str, str]
    counters: dict  # cases_today, cases_last_week, orders_today, ratings_today, rating_mean, …
    trend: dict  # days, cases, orders (TREND_DAYS each)
    forecast: dict  # days, cases, orders (the chosen unit's), with methods and errors
    chart: dict  # the trend and the forecast on one axis of days, for the chart
    forecasts: list[dict]  # per bureau and measure: next week, the week after, method, errors
    forecasts_made_on: dt.date | None
    league: list[dict]
    regions: list[dict]
    alerts: list[dict]
    refreshed_at: object = None
    notes: list = field(default_factory=list)


def _rate(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _facts_figures(scope: Scope, start: dt.date, end: dt.date, by: str) -> list[dict]:
    """KPIs from the case-facts snapshot (the dashboard's), restricted to the scope's bureaus."""
    from . import kpis, services

    snapshot, _n = services._facts()
    con = services.eventlog.connect()
    where = ""
    if scope.filter is not None:
        if not scope.filter:
            return []
        where = "WHERE split_part(department_path, '/', 3) IN (" + ", ".join("?" * len(scope.filter)) + ")"
    con.execute(
        f"CREATE TABLE facts AS SELECT * FROM read_parquet('{snapshot}') {where}",  # noqa: S608
        sorted(scope.filter or []),
    )
    return kpis.compute(con, start, end, by=by, costs=services._unit_costs())


def _statuses(units: list[dict], goal: dict) -> None:
    from . import kpis

    for unit in units:
        unit["status"] = {}
        for key in kpis.LABELS:
            target, margin = goal.get((key, unit["unit"]), goal.get((key, ""), (None, 0.05)))
            unit["status"][key] = kpis.status(
                unit.get(key), target, direction=kpis.DIRECTION[key], yellow_margin=margin
            )


@analytics
def cockpit(actor, *, bureau: str = "", today: dt.date | None = None) -> Cockpit:
    """What the cockpit shows the actor today, for the bureaus in their scope (and one of them
    for the charts when `bureau` is given)."""
    from tongban.accounts.models import Department, Region

    from . import kpis, services

    scope = scope_of(actor)
    if bureau and not scope.covers(bureau):
        raise InvalidInput.single("department", "out_of_scope", _("This department is not in your scope."))
    if not bureau and not scope.everything:
        bureau = sorted(scope.bureaus)[0]  # a head's own bureau (the first of several)
    today = today or _today()
    state = CockpitState.objects.filter(pk=1).first() or CockpitState(last_event_id=0)
    live, _last = _tally(state.last_event_id)
    names = dict(Department.objects.values_list("code", "short_name"))
    names.update({c: n for c, n in Department.objects.values_list("code", "name") if not names.get(c)})
    shown = {bureau} if bureau else scope.filter

    def total(measure: str, first: dt.date, last: dt.date, *, only=shown) -> float:
        stored = sum(_series(measure, only, first, last))
        extra = sum(
            v
            for (m, b, d), v in live.items()
            if m == measure and first <= d <= last and (only is None or b in only)
        )
        return stored + extra

    period_start = today - dt.timedelta(days=PERIOD_DAYS - 1)
    hotline = ORDERS if scope.everything and not bureau else ORDERS_DISPATCHED
    ratings = total(RATINGS, period_start, today)
    closed = total(ORDERS_CLOSED, period_start, today)
    facts_region = (_facts_figures(scope, period_start, today, "") or [{}])[0]
    if bureau:
        facts_region = next(
            (u for u in _facts_figures(scope, period_start, today, "bureau") if u["unit"] == bureau), {}
        )
    counters = {
        "cases_today": total(CASES, today, today),
        "cases_last_week": total(CASES, today - dt.timedelta(days=7), today - dt.timedelta(days=7)),
        "cases_period": total(CASES, period_start, today),
        "orders_today": total(hotline, today, today),
        "orders_last_week": total(hotline, today - dt.timedelta(days=7), today - dt.timedelta(days=7)),
        "orders_period": total(hotline, period_start, today),
        "orders_on_time_rate": _rate(total(ORDERS_ON_TIME, period_start, today), closed),
        "ratings_today": total(RATINGS, today, today),
        "rating_mean": _rate(total(RATING_POINTS, period_start, today), ratings),
        "good_rating_rate": _rate(total(GOOD_RATINGS, period_start, today), ratings),
        "on_time_rate": facts_region.get("on_time_rate"),
        "closed_cases": facts_region.get("closed_cases") or 0,
    }

    # Trends, with the live part of today.
    trend_start = today - dt.timedelta(days=TREND_DAYS - 1)
    days = [trend_start + dt.timedelta(days=i) for i in range(TREND_DAYS)]

    def daily(measure: str) -> list[float]:
        stored = _series(measure, shown, trend_start, today)
        for (m, b, d), v in live.items():
            if m == measure and trend_start <= d <= today and (shown is None or b in shown):
                stored[(d - trend_start).days] += v
        return stored

    trend = {"days": [d.isoformat() for d in days], "cases": daily(CASES), "orders": daily(hotline)}

    # Forecasts: the newest made, for the bureaus in scope.
    made_on = (
        VolumeForecast.objects.filter(made_on__lte=today)
        .order_by("-made_on")
        .values_list("made_on", flat=True)
    ).first()
    rows = list(VolumeForecast.objects.filter(made_on=made_on)) if made_on else []
    forecasts = []
    for row in rows:
        if row.bureau and not scope.covers(row.bureau):
            continue
        if not row.bureau and not scope.everything:
            continue
        values = row.values or []
        forecasts.append(
            {
                "bureau": row.bureau,
                "name": names.get(row.bureau, row.bureau) if row.bureau else str(_("Whole region")),
                "measure": row.measure,
                "label": LABELS[row.measure],
                "method": row.method,
                "method_label": METHOD_LABELS.get(row.method, row.method),
                "history_days": row.history_days,
                "first_day": row.first_day,
                "values": values,
                "next_week": round(sum(values[:7])) if values else None,
                "week_after": round(sum(values[7:14])) if len(values) >= 14 else None,
                "backtest": row.backtest,
                "baseline": row.baseline,
            }
        )
    forecasts.sort(key=lambda f: (f["bureau"] != "", f["name"], f["measure"]))
    chosen = {f["measure"]: f for f in forecasts if f["bureau"] == bureau}
    horizon_days = []
    if chosen:
        first = min(f["first_day"] for f in chosen.values())
        horizon_days = [(first + dt.timedelta(days=i)).isoformat() for i in range(fc.HORIZON)]
    forecast_chart = {
        "days": horizon_days,
        "cases": (chosen.get(CASES) or {}).get("values") or [],
        "orders": (chosen.get(ORDERS_DISPATCHED) or {}).get("values") or [],
        "methods": {m: f["method"] for m, f in chosen.items()},
    }
    chart = _chart(trend, forecast_chart)

    # League table and alerts: this period against the one before.
    goal = services._all_targets()
    units = _facts_figures(scope, period_start, today, "bureau")
    _statuses(units, goal)
    previous = _facts_figures(
        scope, period_start - dt.timedelta(days=PERIOD_DAYS), period_start - dt.timedelta(days=1), "bureau"
    )
    _statuses(previous, goal)
    before = {u["unit"]: u["status"] for u in previous}
    for u in units:
        u["name"] = names.get(u["unit"]) or u["unit"]
    ranked = kpis.league(units, "on_time_rate")
    alerts = []
    for u in units:
        for key, status in u["status"].items():
            if status != "red":
                continue
            was = before.get(u["unit"], {}).get(key, "")
            alerts.append(
                {
                    "bureau": u["unit"],
                    "name": u["name"],
                    "kpi": key,
                    "label": kpis.LABELS[key],
                    "value": u.get(key),
                    "rate": key.endswith("_rate"),
                    "target": goal.get((key, u["unit"]), goal.get((key, ""), (None, 0)))[0],
                    "was": was,
                    "new": was != "red",
                }
            )
    alerts.sort(key=lambda a: (not a["new"], a["name"], str(a["label"])))

    # The region chart: cases and on-time by administrative region.
    region_names = dict(Region.objects.values_list("code", "name"))
    regions = [
        {
            "code": r["unit"],
            "name": region_names.get(r["unit"], r["unit"] or "—"),
            "submitted": r["submitted_cases"] or 0,
            "closed": r["closed_cases"] or 0,
            "on_time_rate": r["on_time_rate"],
        }
        for r in _facts_figures(scope, period_start, today, "region")
    ]
    return Cockpit(
        today=today,
        scope=scope,
        bureau=bureau,
        bureau_names={
            b: names.get(b) or b for b in sorted(_bureaus() if scope.everything else scope.bureaus)
        },
        counters=counters,
        trend=trend,
        forecast=forecast_chart,
        chart=chart,
        forecasts=forecasts,
        forecasts_made_on=made_on,
        league=ranked[:15],
        regions=regions,
        alerts=alerts,
        refreshed_at=state.refreshed_at,
    )


def _chart(trend: dict, forecast: dict) -> dict:
    """History and forecast on one axis: the forecast line starts from the last actual day before
    its first day, so the two join; today has both (the count so far and the forecast)."""
    days = list(trend["days"])
    for day in forecast["days"]:
        if day not in days:
            days.append(day)
    index = {day: i for i, day in enumerate(days)}
    out = {"days": days, "forecast_days": len(forecast["days"])}
    for key in ("cases", "orders"):
        actual = trend[key] + [None] * (len(days) - len(trend[key]))
        predicted = [None] * len(days)
        values = forecast[key]
        if values:
            start = index[forecast["days"][0]]
            if start > 0 and actual[start - 1] is not None:
                predicted[start - 1] = actual[start - 1]
            for offset, value in enumerate(values):
                predicted[start + offset] = value
        out[key], out[f"{key}_forecast"] = actual, predicted if values else []
    return out


def _bureaus() -> set[str]:
    from tongban.accounts.models import Department

    return set(Department.objects.filter(path__regex=r"^/[^/]+/[^/]+/$").values_list("code", flat=True))


def ensure_counted() -> None:
    """Before the first page of a new install: count the event log once, on the primary (the page
    itself reads under `analytics`, possibly from a replica, and writes nothing)."""
    if not CockpitState.objects.filter(pk=1).exists():
        refresh()


def needs_forecasts(today: dt.date | None = None) -> bool:
    """Whether today's forecasts are still to be made (the page then asks the queue for them)."""
    return not VolumeForecast.objects.filter(made_on=today or _today()).exists()


def run_forecasts(actor) -> int:
    """An operator or the cockpit's reader asks for today's forecasts now; journalled."""
    scope_of(actor)
    with audit.audited("insight.cockpit.forecast", actor=actor, object_type="volume_forecast"):
        made = make_forecasts()
    return made
