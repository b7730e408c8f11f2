"""Use cases of efficiency insight: import event logs (ours and other systems'), mine them, export.

Who may: holders of insight.analyse (supervisors, data officers, administrators). A log is read
by one DuckDB connection per analysis; nothing here writes into another app's tables.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms
from tongban.core import audit
from tongban.core import events as core_events
from tongban.core.authz import require
from tongban.core.errors import Conflict, FieldErrors, Formatted, InvalidInput, NotFound
from tongban.core.replicas import analytics

from . import eventlog, mining
from .models import EventLog, LogSource


def _folder() -> Path:
    return Path(settings.VAR_DIR) / "insight" / "logs"


def log_path(log: EventLog) -> Path:
    return _folder() / f"{log.public_id}.parquet"


def _source_of(path: Path) -> str:
    kind = eventlog.sniff(path)
    return LogSource.OCEL if kind.startswith("ocel") else LogSource(kind)


def _invalid(error: eventlog.LogError) -> InvalidInput:
    """Field-level errors from an import's problems: a mapping field's (no line), the object type's
    (OCEL), or the file's (with the line), all translated."""
    errors = FieldErrors()
    if error.problems:
        for problem in error.problems[:20]:
            if problem.field == "object_type":
                key = "object_type"
            elif not problem.line and problem.field in eventlog.MAPPABLE:
                key = f"mapping.{problem.field}"
            else:
                key = "file"
            errors.add(key, "invalid", problem.message)
    else:
        errors.add(
            "file",
            "invalid",
            Formatted(_("The file is not a readable event log: %(detail)s"), {"detail": error}),
        )
    return InvalidInput(errors.fields)


def import_log(
    actor,
    path: Path,
    *,
    name: str = "",
    mapping: dict[str, str] | None = None,
    object_type: str = "",
    progress: Callable[[int], None] | None = None,
) -> EventLog:
    """An XES (plain or .gz), OCEL 2.0 (JSON or XML), CSV or Parquet file becomes an event log; CSV
    and Parquet columns by `mapping` (field → column), guessed from common names where it leaves
    them out; OCEL flattened on `object_type` (the case notion; refused with the types to choose
    from when not given). All or nothing: a file with unreadable events is refused with the file
    lines that are wrong."""
    require(actor, perms.INSIGHT_ANALYSE)
    path = Path(path)
    if not path.is_file():
        raise InvalidInput.single("file", "missing", _("There is no such file."))
    source = _source_of(path)
    log = EventLog(
        name=(name or path.name)[:120],
        source=source,
        file_name=path.name[:200],
        created_by=getattr(actor, "user", None),
        created_at=timezone.now(),
    )
    out = log_path(log)
    try:
        if source == LogSource.XES:
            summary = eventlog.import_xes(path, out, progress)
        elif source == LogSource.OCEL:
            summary = eventlog.import_ocel(path, out, object_type)
        else:
            summary = eventlog.import_table(path, out, mapping)
    except eventlog.LogError as error:
        audit.record(
            "insight.log.import",
            actor=actor,
            outcome=audit.AuditOutcome.INVALID,
            object_type="event_log",
            detail={"file": path.name[:200], "error": _english(error)[:200]},
        )
        raise _invalid(error) from None
    return _save(actor, log, summary)


def _english(error: eventlog.LogError) -> str:
    """The error as the audit journal keeps it (one language, whoever imported)."""
    from django.utils import translation

    with translation.override("en"):
        return "; ".join([str(error), *(str(p.message) for p in error.problems[:3])])


def object_types(actor, path: Path) -> dict[str, int]:
    """The object types of an OCEL 2.0 file and their number of objects: the case notions a user
    chooses from before importing it."""
    require(actor, perms.INSIGHT_ANALYSE)
    try:
        return eventlog.ocel_object_types(Path(path))
    except eventlog.LogError as error:
        raise _invalid(error) from None


def _save(actor, log: EventLog, summary: eventlog.LogSummary) -> EventLog:
    tz = timezone.get_fixed_timezone(0)
    log.mapping = summary.columns
    log.events, log.cases, log.activities = summary.events, summary.cases, summary.activities
    log.first_at = summary.first.replace(tzinfo=tz) if summary.first else None
    log.last_at = summary.last.replace(tzinfo=tz) if summary.last else None
    with audit.audited(
        "insight.log.import",
        actor=actor,
        object_type="event_log",
        object_ref=str(log.public_id),
        detail={"file": log.file_name, "source": log.source, "events": log.events, "cases": log.cases},
    ):
        log.save()
    return log


@analytics
def case_items() -> list[tuple[str, str]]:
    """(code, name) of the items that have cases: what a process map of one item can be made of.
    Each case's submission on the event log names its item version; the names are the catalogue's."""
    from tongban.catalog.models import ItemVersion

    versions = {
        e.detail.get("item_version")
        for e in core_events.stream(subject_kind="case", activities=["case.submitted"])
    } - {None}
    rows = (
        ItemVersion.objects.filter(pk__in=versions)
        .values_list("item__code", "name")
        .distinct()
        .order_by("item__code")
    )
    return list(dict(rows).items())


@analytics
def import_case_events(actor, *, name: str = "", since=None, item_code: str = "") -> EventLog:
    """Our own case event log (every case's domain events) as an event log to analyse, the same way
    as an imported one: of all items, or of one (its process map). `since` limits it to events from
    that instant on."""
    require(actor, perms.INSIGHT_ANALYSE)
    if item_code and item_code not in dict(case_items()):
        raise InvalidInput.single("item", "unknown", _("No cases of this item."))
    numbers = None
    if item_code:
        numbers = {
            e.subject_id
            for e in core_events.stream(subject_kind="case", activities=["case.submitted"])
            if e.detail.get("item") == item_code
        }
        name = name or f"{_('Case events')}：{dict(case_items())[item_code]}"
    return _import_events(
        actor,
        "case",
        name=name or str(_("Case events")),
        source=LogSource.CASES,
        since=since,
        subjects=numbers,
    )


@analytics
def import_subject_events(actor, subject_kind: str, *, name: str = "", since=None) -> EventLog:
    """The events of any kind of subject on the core event log (cases, hotline work orders,
    documents, …) as an event log to analyse: mined the same way whatever app wrote them."""
    require(actor, perms.INSIGHT_ANALYSE)
    kind = core_events.registry.kind(subject_kind)
    if kind is None:
        raise InvalidInput.single("subject_kind", "unknown", _("No such kind of subject."))
    return _import_events(
        actor, subject_kind, name=name or str(kind.label), source=LogSource.EVENTS, since=since, subjects=None
    )


def _import_events(actor, subject_kind: str, *, name: str, source: str, since, subjects) -> EventLog:
    """One subject kind's events (of some subjects, from `since`) staged as CSV, then imported."""
    log = EventLog(
        name=name[:120],
        source=source,
        created_by=getattr(actor, "user", None),
        created_at=timezone.now(),
    )
    with tempfile.TemporaryDirectory(prefix="tongban-events-") as tmp:
        staged = Path(tmp) / "events.csv"
        with open(staged, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["case_id", "activity", "ts", "resource", "grp", "channel", "lifecycle"])
            for e in core_events.stream(subject_kind=subject_kind):
                if (subjects is not None and e.subject_id not in subjects) or (
                    since is not None and e.occurred_at < since
                ):
                    continue
                at, who = e.occurred_at.isoformat(), e.actor_label
                writer.writerow(
                    [e.subject_id, e.activity, at, who, e.department_code, e.channel, e.lifecycle]
                )
        mapping = {k: k for k in ("case_id", "activity", "ts", "resource", "grp", "channel", "lifecycle")}
        try:
            summary = eventlog.import_table(staged, log_path(log), mapping)
        except eventlog.LogError as error:
            raise _invalid(error) from None
    return _save(actor, log, summary)


def logs(actor):
    require(actor, perms.INSIGHT_ANALYSE)
    return EventLog.objects.all()


def get_log(actor, public_id) -> EventLog:
    require(actor, perms.INSIGHT_ANALYSE)
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound() from None
    log = EventLog.objects.filter(public_id=key).first()
    if log is None or not log_path(log).exists():
        raise NotFound()
    return log


@dataclass
class Analysis:
    log: EventLog
    overview: mining.Overview
    graph: mining.DirectlyFollows
    variants: list[mining.Variant]
    rework: list[mining.Rework]
    bottlenecks: list[mining.Edge]
    handoffs: mining.Handoffs
    map: dict  # nodes placed and edges to draw (mining.process_map)
    value_stream: mining.ValueStream | None = None


def _loaded(log: EventLog):
    """A DuckDB connection with the log as its `events` table."""
    con = eventlog.connect()
    eventlog.load(con, log_path(log))
    return con


def activities(actor, public_id) -> list[str]:
    """The log's steps, sorted: what the what-if and the value-stream forms offer."""
    log = get_log(actor, public_id)
    query = f"SELECT DISTINCT activity FROM read_parquet('{log_path(log)}') ORDER BY 1"  # noqa: S608
    return [a for (a,) in eventlog.connect().execute(query).fetchall()]


def analyse(actor, public_id, *, top_variants: int = 20, max_edges: int = 40) -> Analysis:
    """The process map (DFG with performance), variants, rework loops, bottlenecks and hand-offs."""
    log = get_log(actor, public_id)
    con = _loaded(log)
    graph = mining.directly_follows(con)
    return Analysis(
        log=log,
        overview=mining.overview(con),
        graph=graph,
        variants=mining.variants(con, limit=top_variants),
        rework=mining.rework(con),
        bottlenecks=mining.bottlenecks(graph),
        handoffs=mining.handoffs(con),
        map=mining.process_map(graph, mining.positions(con), max_edges=max_edges),
        value_stream=_value_stream(con, log) if log.first_at else None,  # no times, no value stream
    )


def _value_stream(con, log: EventLog):
    from . import simulation

    # Work estimates read only the hand-over times: no distributions to fit on a page view.
    estimates = simulation.work_minutes(simulation.fit(con, distributions=False))
    return mining.value_stream(con, set(log.value_adding or []), estimates)


def set_value_adding(actor, public_id, steps: list[str]) -> EventLog:
    """Which steps of the log add value for the applicant (the rest is overhead): the supervisor says."""
    log = get_log(actor, public_id)
    known = set(activities(actor, public_id))
    unknown = [s for s in steps if s not in known]
    if unknown:
        raise InvalidInput.single("value_adding", "unknown", _("There is no such step in this process."))
    with audit.audited(
        "insight.value_adding.set", actor=actor, object_type="event_log", object_ref=str(log.public_id)
    ):
        log.value_adding = sorted(set(steps))
        log.save(update_fields=["value_adding"])
    return log


def export_xes(actor, public_id) -> tuple[str, bytes]:
    log = get_log(actor, public_id)
    out = io.StringIO()
    eventlog.export_xes(log_path(log), out)
    audit.record("insight.log.export", actor=actor, object_type="event_log", object_ref=str(log.public_id))
    return f"{Path(log.name).stem or 'log'}.xes", out.getvalue().encode()


def export_ocel(actor, public_id) -> tuple[str, bytes]:
    log = get_log(actor, public_id)
    audit.record("insight.log.export", actor=actor, object_type="event_log", object_ref=str(log.public_id))
    return f"{Path(log.name).stem or 'log'}.ocel.json", eventlog.ocel_json(log_path(log)).encode()


def validate_simulation(actor, source, *, replications: int = 50, progress=None):
    """Fit the as-is simulation model on a log (a held log's id, or a file, read without keeping it),
    simulate it and compare with the log (insight.simulation.validate)."""
    from . import simulation

    require(actor, perms.INSIGHT_ANALYSE)
    path = Path(str(source))
    if path.is_file():
        con = eventlog.connect()
        with tempfile.TemporaryDirectory(prefix="tongban-validate-") as tmp:
            staged = Path(tmp) / "log.parquet"
            try:
                if _source_of(path) == LogSource.OCEL:
                    raise InvalidInput.single(
                        "file",
                        "case_notion",
                        _(
                            "An OCEL 2.0 file needs its case notion: import it (choosing the object type), "
                            "then validate on the imported log."
                        ),
                    )
                if _source_of(path) == LogSource.XES:
                    eventlog.import_xes(path, staged)
                else:
                    eventlog.import_table(path, staged)
            except eventlog.LogError as error:
                raise _invalid(error) from None
            eventlog.load(con, staged)
    else:
        con = _loaded(get_log(actor, source))
    return simulation.validate(con, replications=replications, progress=progress)


# --- KPIs ---------------------------------------------------------------------------------------------


@dataclass
class KpiReport:
    start: object
    end: object
    region: dict
    units: list[dict]  # by department (the league table's rows)
    cases: int  # cases in the snapshot


def _unit_costs():
    from .kpis import UnitCosts

    return UnitCosts(
        staff_hour=float(getattr(settings, "TONGBAN_COST_STAFF_HOUR", 80.0)),
        page=float(getattr(settings, "TONGBAN_COST_PAGE", 0.5)),
        visit=float(getattr(settings, "TONGBAN_COST_VISIT", 100.0)),
    )


FACTS_MAX_AGE = 600  # seconds a facts snapshot serves the dashboard before it is taken again


def _facts(refresh: bool = False, progress=None) -> tuple[Path, int]:
    """The case-facts snapshot (insight.facts), taken again when older than FACTS_MAX_AGE."""
    import time as _time

    from . import facts

    snapshot = Path(settings.VAR_DIR) / "insight" / "facts.parquet"
    if not refresh and snapshot.exists() and _time.time() - snapshot.stat().st_mtime < FACTS_MAX_AGE:
        con = eventlog.connect()
        return snapshot, eventlog.one(con, f"SELECT COUNT(*) FROM read_parquet('{snapshot}')")[0]  # noqa: S608
    return snapshot, facts.export(snapshot, progress)


def _facts_table(snapshot: Path):
    con = eventlog.connect()
    con.execute(f"CREATE TABLE facts AS SELECT * FROM read_parquet('{snapshot}')")  # noqa: S608
    return con


@analytics
def kpi_report(
    actor,
    start,
    end,
    *,
    department_path: str = "",
    item: str = "",
    channel: str = "",
    region: str = "",
    progress=None,
):
    """Every KPI of DOMAIN.md for the period (and filters), for the region and per department, from a
    fresh snapshot of the case facts (insight.facts)."""
    from . import kpis

    require(actor, perms.INSIGHT_ANALYSE)
    if start > end:
        raise InvalidInput.single("end", "before_start", _("The period ends before it starts."))
    snapshot, cases = _facts(refresh=True, progress=progress)
    con = _facts_table(snapshot)
    options = {
        "department_path": department_path,
        "item": item,
        "channel": channel,
        "region": region,
        "costs": _unit_costs(),
    }
    region = kpis.compute(con, start, end, **options)
    units = kpis.compute(con, start, end, by="department", **options)
    audit.record(
        "insight.kpi.report",
        actor=actor,
        detail={"start": str(start), "end": str(end), "department": department_path, "item": item},
    )
    return KpiReport(start, end, region[0] if region else {}, units, cases)


def targets(actor) -> dict[tuple[str, str], tuple[float, float]]:
    """(kpi, department code or "") → (target, yellow margin): the defaults of the plans, overridden
    by what supervisors set."""
    require(actor, perms.INSIGHT_ANALYSE)
    return _all_targets()


def _all_targets() -> dict[tuple[str, str], tuple[float, float]]:
    """The targets whoever reads them (the cockpit's readers check their own permission)."""
    from . import kpis
    from .models import KpiTarget

    found = {(kpi, ""): (value, 0.05) for kpi, value in kpis.DEFAULT_TARGETS.items()}
    for t in KpiTarget.objects.all():
        found[(t.kpi, t.department_code)] = (t.target, t.yellow_margin)
    return found


def set_target(actor, kpi: str, target, *, department_code: str = "", yellow_margin=0.05):
    """A supervisor sets (or changes) the target of a KPI for the region or one department."""
    from . import kpis
    from .models import KpiTarget

    require(actor, perms.INSIGHT_ANALYSE)
    errors = FieldErrors()
    if kpi not in kpis.LABELS:
        errors.add("kpi", "unknown", _("There is no such KPI."))
    try:
        target = float(target)
        if not math.isfinite(target) or target < 0 or (kpi.endswith("_rate") and target > 1):
            raise ValueError
    except (TypeError, ValueError):
        errors.add("target", "invalid", _("Give a number; a rate between 0 and 1."))
    try:
        yellow_margin = float(yellow_margin)
        if not 0 <= yellow_margin <= 1:
            raise ValueError
    except (TypeError, ValueError):
        errors.add("yellow_margin", "invalid", _("Give a margin between 0 and 1."))
    if department_code:
        from tongban.accounts.models import Department

        if not Department.objects.filter(code=department_code).exists():
            errors.add("department_code", "unknown", _("There is no such department."))
    errors.raise_if_any()
    with audit.audited(
        "insight.target.set",
        actor=actor,
        object_type="kpi_target",
        object_ref=f"{kpi}:{department_code or '*'}",
        detail={"target": target, "yellow_margin": yellow_margin},
    ):
        row, _created = KpiTarget.objects.update_or_create(
            kpi=kpi,
            department_code=department_code,
            defaults={
                "target": target,
                "yellow_margin": yellow_margin,
                "set_by": getattr(actor, "user", None),
                "set_at": timezone.now(),
            },
        )
    return row


@dataclass
class Dashboard:
    start: object
    end: object
    region: dict
    selected: dict | None  # the bureau filtered to, if any
    units: list[dict]  # bureaus, each with "name", "status" per KPI, "rank"/"mark" on the league KPI
    league_kpi: str
    cards: list[dict]  # per KPI: key, label, value, target, status
    radar: dict  # {"indicators": [...], "series": [{"name", "values"}]}
    cases: int


@analytics
def dashboard(
    actor,
    start,
    end,
    *,
    department_code: str = "",
    league_kpi: str = "on_time_rate",
    item: str = "",
    channel: str = "",
    region: str = "",
    refresh=False,
):
    """What the supervisor's dashboard shows: the KPI cards against targets (for the region or a
    bureau), the league table of bureaus on one KPI with top-10 / bottom-5, and the radar of the
    five dimensions."""
    from tongban.accounts.models import Department

    from . import kpis

    require(actor, perms.INSIGHT_ANALYSE)
    if start > end:
        raise InvalidInput.single("end", "before_start", _("The period ends before it starts."))
    if league_kpi not in kpis.LABELS:
        raise InvalidInput.single("kpi", "unknown", _("There is no such KPI."))
    snapshot, cases = _facts(refresh)
    con = _facts_table(snapshot)
    filters = {"costs": _unit_costs(), "item": item, "channel": channel, "region": region}
    region_figures = (kpis.compute(con, start, end, **filters) or [{}])[0]
    units = kpis.compute(con, start, end, by="bureau", **filters)
    names = dict(Department.objects.values_list("code", "short_name"))
    full = dict(Department.objects.values_list("code", "name"))
    goal = targets(actor)
    for unit in units:
        unit["name"] = names.get(unit["unit"]) or full.get(unit["unit"]) or unit["unit"]
        unit["status"] = {}
        for key in kpis.LABELS:
            target, margin = goal.get((key, unit["unit"]), goal.get((key, ""), (None, 0.05)))
            unit["status"][key] = kpis.status(
                unit.get(key), target, direction=kpis.DIRECTION[key], yellow_margin=margin
            )
    ranked = {u["unit"]: u for u in kpis.league(units, league_kpi)}
    for unit in units:
        placed = ranked.get(unit["unit"], {})
        unit["rank"], unit["mark"] = placed.get("rank"), placed.get("mark", "")
    units.sort(key=lambda u: (u["rank"] is None, u["rank"] or 0))
    selected = next((u for u in units if u["unit"] == department_code), None) if department_code else None
    shown = selected or region_figures
    cards = []
    for key, label, direction in kpis.KPIS:
        target, margin = goal.get((key, department_code), goal.get((key, ""), (None, 0.05)))
        cards.append(
            {
                "key": key,
                "label": label,
                "value": shown.get(key),
                "target": target,
                "status": kpis.status(shown.get(key), target, direction=direction, yellow_margin=margin),
                "rate": key.endswith("_rate"),
            }
        )
    series = [
        {"name": str(_("Whole region")), "values": kpis.radar(region_figures, [*units, region_figures])}
    ]
    if selected:
        series.append({"name": selected["name"], "values": kpis.radar(selected, [*units, region_figures])})
    return Dashboard(
        start=start,
        end=end,
        region=region_figures,
        selected=selected,
        units=units,
        league_kpi=league_kpi,
        cards=cards,
        radar={"indicators": [str(label) for label, _key in kpis.RADAR], "series": series},
        cases=cases,
    )


@analytics
def warning_letter(actor, department_code: str, kpi: str, start, end) -> tuple[str, bytes]:
    """预警函: a letter to a bureau that is red on a KPI, with the figure, the target and the period,
    rendered as PDF (core.pdf) and journalled."""
    from tongban.accounts.models import Department
    from tongban.core.pdf import SIZE_3HAO, cjk_pdf

    from . import kpis

    board = dashboard(actor, start, end, department_code=department_code, league_kpi=kpi)
    unit = board.selected
    department = Department.objects.filter(code=department_code).first()
    if unit is None or department is None:
        raise NotFound()
    if unit["status"].get(kpi) != "red":
        raise InvalidInput.single("kpi", "not_red", _("Warning letters go to units that are red on the KPI."))
    card = next(c for c in board.cards if c["key"] == kpi)

    def shown(v):
        return "—" if v is None else (f"{v:.1%}" if kpi.endswith("_rate") else f"{v:,.2f}")

    letter = _register_letter(actor, department_code, kpi, start, end, unit.get(kpi), card["target"])
    today = timezone.localdate()
    ranked = sum(1 for u in board.units if u.get("rank") is not None)
    # A rank says something only among several units; alone, the letter gives the region's figure.
    standing = f"，在{ranked}个单位中排第{unit['rank']}名" if ranked >= 2 and unit.get("rank") else ""
    pdf = cjk_pdf(title="效能预警函", created=today, author="效能监察", subject=department.name)
    pdf.paragraph("效能预警函", size=22, bold=True, align="center", indent=0)
    pdf.paragraph(letter.number, size=SIZE_3HAO, align="center", indent=0)
    pdf.paragraph(f"{department.name}：", size=SIZE_3HAO, indent=0)
    pdf.paragraph(
        f"经效能监测，{start:%Y年%m月%d日}至{end:%Y年%m月%d日}期间，你单位“{kpis.label_zh(kpi)}”为"
        f"{shown(unit.get(kpi))}，目标值为{shown(card['target'])}，处于红色预警区间"
        f"（全区为{shown(board.region.get(kpi))}{standing}）。"
    )
    pdf.paragraph(
        "请你单位自收到本函之日起五个工作日内查明原因，制定整改措施，并将整改情况书面报送效能监察机构。"
        "逾期未整改或整改不到位的，将按有关规定予以通报。"
    )
    pdf.sign_off("效能监察", f"{today:%Y年%m月%d日}")
    audit.record(
        "insight.warning_letter",
        actor=actor,
        object_type="department",
        object_ref=department_code,
        department_code=department_code,
        detail={
            "kpi": kpi,
            "value": unit.get(kpi),
            "start": str(start),
            "end": str(end),
            "number": letter.number,
        },
    )
    return f"warning-{department_code}-{kpi}.pdf", pdf.to_bytes()


def _register_letter(actor, department_code: str, kpi: str, start, end, value, target):
    """The letter's entry in the register: the same finding keeps its number when fetched again; a
    new one takes the year's next number (retried when two supervisors take it at once)."""
    from django.db import IntegrityError, transaction
    from django.db.models import Max

    from .models import WarningLetter

    finding = {"department_code": department_code, "kpi": kpi, "period_start": start, "period_end": end}
    letters = WarningLetter.objects.using("default")  # the register is read where it is written
    for _attempt in range(5):
        existing = letters.filter(**finding).first()
        if existing is not None:
            return existing
        now = timezone.now()
        year = timezone.localdate(now).year
        try:
            with transaction.atomic():
                last = letters.filter(year=year).aggregate(n=Max("sequence"))["n"] or 0
                return letters.create(
                    **finding,
                    year=year,
                    sequence=last + 1,
                    value=value,
                    target=target,
                    issued_by=getattr(actor, "user", None),
                    issued_at=now,
                )
        except IntegrityError:
            continue
    raise Conflict(_("The warning letter could not be numbered; try again."))


@analytics
def warning_letters(actor, *, limit: int = 50) -> list:
    """The register of 预警函 sent, newest first."""
    from .models import WarningLetter

    require(actor, perms.INSIGHT_ANALYSE)
    return list(WarningLetter.objects.all()[:limit])


def kpi_workbook(report: KpiReport) -> bytes:
    """The report as XLSX: the region's KPIs, then the league table by department."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from . import kpis
    from .kpis import KPIS

    book = Workbook()
    sheet = book.active
    sheet.title = "全区指标"
    sheet.append(["指标", "数值", "期间", f"{report.start} 至 {report.end}"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for key, _label, _direction in KPIS:
        sheet.append([kpis.label_zh(key), report.region.get(key)])
    sheet.append(["受理件数", report.region.get("submitted_cases")])
    sheet.append(["办结件数", report.region.get("closed_cases")])
    table = book.create_sheet("部门排行")
    table.append(["部门", "受理件数", "办结件数", *[kpis.label_zh(k) for k, _l, _d in KPIS]])
    for cell in table[1]:
        cell.font = Font(bold=True)
    for row in report.units:
        table.append(
            [row["unit"], row["submitted_cases"], row["closed_cases"], *[row.get(k) for k, _l, _d in KPIS]]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def what_if(
    actor,
    public_id,
    *,
    parallel: tuple[str, str] | None = None,
    merge: tuple[str, str] | None = None,
    remove: list[str] | None = None,
    shortcut: tuple[str, float] | None = None,
    volume: float = 1.0,
    staff: dict[str, int] | None = None,
    hours: tuple[float, float] | None = None,
    limit_days: float | None = None,
    replications: int = 20,
    progress=None,
):
    """Simulate a redesign of the log's process against the process as it is (common random
    numbers, `replications` runs each): cycle time, on-time rate, cost per case, utilisation."""
    from . import simulation

    log = get_log(actor, public_id)
    model = simulation.fit(_loaded(log))
    steps = set(model.routes) | set(model.start)
    errors = FieldErrors()
    if parallel and (parallel[0] not in steps or parallel[1] not in steps or parallel[0] == parallel[1]):
        errors.add("parallel", "unknown", _("Choose two different steps of this process."))
    if merge and (merge[0] not in steps or merge[1] not in steps or merge[0] == merge[1]):
        errors.add("merge", "unknown", _("Choose two different steps of this process."))
    for name in remove or []:
        if name not in steps:
            errors.add("remove", "unknown", _("There is no such step in this process."))
    if shortcut and (shortcut[0] not in steps or not 0 <= shortcut[1] <= 1):
        errors.add("shortcut", "invalid", _("Choose a step and a share between 0 and 100 %."))
    if not 0 < volume <= 10:
        errors.add("volume", "range", _("Give a volume between 1 % and 1000 %."))
    for name, workers in (staff or {}).items():
        if name not in steps or not 1 <= workers <= 500:
            errors.add("staff", "invalid", _("Choose a step and between 1 and 500 workers."))
    if hours is not None and not (0 <= hours[0] < hours[1] <= 24):
        errors.add("hours", "range", _("Give working hours as from < to, between 0 and 24."))
    if limit_days is not None and not 0 < limit_days <= 365:
        errors.add("limit_days", "range", _("Give a time limit between 0 and 365 days."))
    if not 2 <= replications <= 200:
        errors.add("replications", "range", _("Between 2 and 200 runs."))
    errors.raise_if_any()
    changes = simulation.Changes(
        parallel=(tuple(parallel),) if parallel else (),
        merge=(tuple(merge),) if merge else (),
        remove=frozenset(remove or []),
        shortcut=shortcut,
        volume=volume,
        staff=dict(staff or {}),
        hours=tuple(hours) if hours else None,
        tz_offset=timezone.localtime().utcoffset().total_seconds(),
    )
    result = simulation.compare(
        model,
        changes,
        replications=replications,
        limit_seconds=limit_days * 86400 if limit_days else None,
        staff_hour_cost=_unit_costs().staff_hour,
        progress=progress,
    )
    audit.record(
        "insight.what_if",
        actor=actor,
        object_type="event_log",
        object_ref=str(log.public_id),
        detail={
            "parallel": list(parallel or []),
            "merge": list(merge or []),
            "remove": sorted(remove or []),
            "volume": volume,
            "staff": staff or {},
            "saving": round(result.cycle_time_saving, 4),
        },
    )
    return log, sorted(steps), result


@dataclass
class CatalogueKpis:
    """The KPIs of DOMAIN.md that describe the catalogue rather than cases, over published items."""

    items: int
    online_items_rate: float | None  # 网办可办率: items fully online / published items
    limit_compression: float | None  # 承诺时限压缩率: mean of 1 − promised / statutory limit
    materials_reduction: (
        float | None
    )  # 材料精简率: 1 − required materials now / in the first published version
    steps_reduction: float | None  # 环节精简率: 1 − steps now / in the first published version


@analytics
def catalogue_kpis(actor, *, department_path: str = "") -> CatalogueKpis:
    from tongban.catalog.models import ItemVersion, OnlineLevel, ServiceItem, VersionStatus

    require(actor, perms.INSIGHT_ANALYSE)
    items = ServiceItem.objects.filter(current__isnull=False).select_related("current")
    if department_path:
        items = items.filter(department__path__startswith=department_path)
    items = list(items)
    if not items:
        return CatalogueKpis(0, None, None, None, None)
    online = sum(1 for i in items if i.current.online_level == OnlineLevel.FULL_ONLINE)
    compressions = [
        1 - i.current.promised_limit_days / i.current.statutory_limit_days
        for i in items
        if i.current.statutory_limit_days and i.current.promised_limit_days is not None
    ]
    first = {}
    for version in (
        ItemVersion.objects.filter(
            item__in=items, status__in=[VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED]
        )
        .order_by("item_id", "number")
        .prefetch_related("materials")
    ):
        first.setdefault(version.item_id, version)
    materials_now = materials_then = steps_now = steps_then = 0
    for item in items:
        baseline = first.get(item.pk, item.current)
        materials_now += sum(1 for m in item.current.materials.all() if m.required)
        materials_then += sum(1 for m in baseline.materials.all() if m.required)
        steps_now += len(item.current.steps or [])
        steps_then += len(baseline.steps or [])
    return CatalogueKpis(
        items=len(items),
        online_items_rate=online / len(items),
        limit_compression=statistics.fmean(compressions) if compressions else None,
        materials_reduction=1 - materials_now / materials_then if materials_then else None,
        steps_reduction=1 - steps_now / steps_then if steps_then else None,
    )


@analytics
def against_baseline(actor, period: tuple, baseline: tuple, *, department_path: str = "") -> dict:
    """降本率 and 提速率 of a period against a baseline period: 1 − cost per case now / then, and
    1 − mean processing time now / then (DOMAIN.md), with the figures they rest on."""
    from . import kpis

    require(actor, perms.INSIGHT_ANALYSE)
    snapshot, _cases = _facts()
    con = _facts_table(snapshot)
    options = {"department_path": department_path, "costs": _unit_costs()}
    now = (kpis.compute(con, *period, **options) or [{}])[0]
    then = (kpis.compute(con, *baseline, **options) or [{}])[0]

    def saving(key):
        if not now.get(key) or not then.get(key):
            return None
        return 1 - now[key] / then[key]

    return {
        "cost_reduction": saving("cost_per_case"),
        "speed_up": saving("mean_processing_days"),
        "now": now,
        "baseline": then,
    }


# --- the monthly report ----------------------------------------------------------------------------


def _month(year: int, month: int):
    import datetime as dt

    first = dt.date(year, month, 1)
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return first, last


def reports_folder() -> Path:
    return Path(settings.VAR_DIR) / "insight" / "reports"


@analytics
def monthly_report(actor, year: int, month: int) -> tuple[Path, Path]:
    """The month's 效能月报 as XLSX (figures, league table) and PDF (the same with a chart), kept in
    var/insight/reports and journalled; the monthly job makes last month's on the 1st."""
    from . import kpis

    require(actor, perms.INSIGHT_ANALYSE)
    if not (2000 <= int(year) <= 2100 and 1 <= int(month) <= 12):
        raise InvalidInput.single("month", "invalid", _("Give a month as YYYY-MM."))
    first, last = _month(int(year), int(month))
    board = dashboard(actor, first, last)  # a snapshot at most FACTS_MAX_AGE old
    a_year_ago = _month(int(year) - 1, int(month))
    baseline = against_baseline(actor, (first, last), a_year_ago)
    catalogue = catalogue_kpis(actor)
    report = KpiReport(first, last, board.region, board.units, board.cases)
    folder = reports_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{int(year):04d}-{int(month):02d}"
    xlsx, pdf = folder / f"{stem}.xlsx", folder / f"{stem}.pdf"
    xlsx.write_bytes(kpi_workbook(report))
    pdf.write_bytes(_report_pdf(board, baseline, catalogue, kpis))
    audit.record("insight.report.monthly", actor=actor, object_type="report", object_ref=stem)
    return xlsx, pdf


def _report_pdf(board: Dashboard, baseline: dict, catalogue: CatalogueKpis, kpis) -> bytes:
    from tongban.core.pdf import SIZE_SMALL4, cjk_pdf

    def shown(key, value):
        if value is None:
            return "—"
        return f"{value:.1%}" if key.endswith("_rate") else f"{value:,.2f}"

    start, end = board.start, board.end
    pdf = cjk_pdf(title=f"{start:%Y年%m月}政务服务效能月报", created=end, author="效能监察")
    pdf.paragraph(f"{start:%Y年%-m月}政务服务效能月报", size=20, bold=True, align="center", indent=0)
    pdf.paragraph(
        f"统计期间：{start:%Y-%m-%d} 至 {end:%Y-%m-%d}；受理 {board.region.get('submitted_cases') or 0} 件，"
        f"办结 {board.region.get('closed_cases') or 0} 件。",
        size=SIZE_SMALL4,
        indent=0,
    )
    pdf.paragraph("一、主要指标", size=14, bold=True, indent=0)
    status_text = {"green": "达标", "yellow": "临界", "red": "预警", "": "—"}
    for card in board.cards:
        target = shown(card["key"], card["target"]) if card["target"] is not None else "—"
        value, status = shown(card["key"], card["value"]), status_text[card["status"]]
        pdf.paragraph(
            f"{card['label']}：{value}（目标 {target}，{status}）",
            size=SIZE_SMALL4,
            indent=0,
        )
    pdf.paragraph("二、降本增效（与上年同月比）", size=14, bold=True, indent=0)
    pdf.paragraph(
        f"降本率 {shown('cost_reduction_rate', baseline['cost_reduction'])}；"
        f"提速率 {shown('speed_up_rate', baseline['speed_up'])}。",
        size=SIZE_SMALL4,
        indent=0,
    )
    pdf.paragraph("三、各部门按时办结率", size=14, bold=True, indent=0)
    # A bar per bureau, coloured by its status against the target: a chart, drawn as rectangles.
    colours = {"green": (46, 125, 50), "yellow": (242, 169, 0), "red": (198, 40, 40), "": (160, 174, 192)}
    width = pdf.text_width - 60
    for unit in board.units:
        value = unit.get("on_time_rate")
        if pdf.get_y() > pdf.h - 45:
            pdf.add_page()
        y = pdf.get_y()
        pdf.use(SIZE_SMALL4)
        pdf.set_xy(pdf.l_margin, y)
        pdf.text_cell(40, 7, unit["name"][:10])
        pdf.set_fill_color(*colours[unit["status"].get("on_time_rate", "")])
        if value:
            pdf.rect(pdf.l_margin + 42, y + 1, width * value, 5, style="F")
        pdf.set_xy(pdf.l_margin + 44 + width * (value or 0), y)
        pdf.text_cell(20, 7, shown("on_time_rate", value))
        pdf.ln(8)
    pdf.paragraph("四、事项目录", size=14, bold=True, indent=0)
    pdf.paragraph(
        f"已发布事项 {catalogue.items} 项；网办可办率 {shown('x_rate', catalogue.online_items_rate)}；"
        f"承诺时限压缩率 {shown('x_rate', catalogue.limit_compression)}；"
        f"材料精简率 {shown('x_rate', catalogue.materials_reduction)}；"
        f"环节精简率 {shown('x_rate', catalogue.steps_reduction)}。",
        size=SIZE_SMALL4,
        indent=0,
    )
    red = [u for u in board.units if "red" in u["status"].values()]
    if red:
        pdf.paragraph("五、预警单位", size=14, bold=True, indent=0)
        for unit in red:
            keys = [kpis.label_zh(k) for k, v in unit["status"].items() if v == "red"]
            pdf.paragraph(f"{unit['name']}：{'、'.join(keys)}", size=SIZE_SMALL4, indent=0)
    return pdf.to_bytes()


def reports(actor) -> list[dict]:
    """The monthly reports made so far, newest first: month and the files there are."""
    require(actor, perms.INSIGHT_ANALYSE)
    folder = reports_folder()
    months: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*-*.*")) if folder.exists() else []:
        months.setdefault(path.stem, []).append(path.suffix.lstrip("."))
    return [{"month": m, "kinds": sorted(k)} for m, k in sorted(months.items(), reverse=True)]


def report_file(actor, month: str, kind: str) -> Path:
    require(actor, perms.INSIGHT_ANALYSE)
    import re

    if not re.fullmatch(r"\d{4}-\d{2}", month or "") or kind not in ("xlsx", "pdf"):
        raise NotFound()
    path = reports_folder() / f"{month}.{kind}"
    if not path.exists():
        raise NotFound()
    audit.record("insight.report.download", actor=actor, object_type="report", object_ref=f"{month}.{kind}")
    return path


def conformance(actor, public_id, model_xml: bytes | None = None, *, process_key: str = ""):
    """The log's cases against a BPMN model (insight.conformance): fitness per case, deviations.

    The model is an uploaded file, or a published process of the platform by its key (read
    through core.process_models: analysts may read the models they check against)."""
    from tongban.core import process_models

    from . import conformance as checking

    log = get_log(actor, public_id)
    if process_key:
        try:
            model_xml = process_models.xml_of(actor, process_key)
        except NotFound:
            raise InvalidInput.single(
                "process", "unknown", _("There is no published process with this key.")
            ) from None
    if not model_xml:
        raise InvalidInput.single(
            "model", "required", _("Choose a published process or the BPMN file of the process model.")
        )
    if len(model_xml) > 5 * 1024 * 1024:
        raise InvalidInput.single("model", "too_large", _("The model is larger than 5 MB."))
    try:
        footprint = checking.footprint(model_xml)
    except checking.ModelError as exc:
        raise InvalidInput.single(
            "model", "invalid", Formatted(_("The model cannot be read: %(why)s"), {"why": str(exc)})
        ) from None
    result = checking.check(_loaded(log), footprint)
    audit.record(
        "insight.conformance",
        actor=actor,
        object_type="event_log",
        object_ref=str(log.public_id),
        detail={
            "process": process_key,
            "cases": result.cases,
            "fitting": result.fitting_cases,
            "fitness": round(result.mean_fitness, 4),
        },
    )
    return result


# --- redesigns: predicted against measured ----------------------------------------------------------


def save_redesign(actor, public_id, *, name: str, live_from, item_code: str = "", changes: dict, comparison):
    """Keep a what-if as a decided redesign with its prediction and go-live date."""
    from .models import Redesign

    log = get_log(actor, public_id)
    errors = FieldErrors()
    name = errors.require_text("name", name, max_length=120)
    if live_from is None:
        errors.add("live_from", "required", _("Give the date the redesign goes live."))
    if item_code and item_code not in dict(case_items()):
        errors.add("item", "unknown", _("No cases of this item."))
    errors.raise_if_any()
    predicted = {
        "as_is_mean": comparison.as_is.mean_duration[0],
        "to_be_mean": comparison.to_be.mean_duration[0],
        "to_be_half_width": comparison.to_be.mean_duration[1],
        "cycle_time_saving": comparison.cycle_time_saving,
        "cost_saving": comparison.cost_saving,
    }
    with audit.audited(
        "insight.redesign.save", actor=actor, object_type="event_log", object_ref=str(log.public_id)
    ):
        return Redesign.objects.create(
            log=log,
            name=name,
            item_code=item_code,
            changes=changes,
            predicted=predicted,
            live_from=live_from,
            created_by=getattr(actor, "user", None),
            created_at=timezone.now(),
        )


def redesigns(actor) -> list[dict]:
    """Each redesign with its prediction and what was measured since it went live: the mean cycle
    time (submission to closing) of the item's cases submitted and closed since, from the case
    facts — and, before it, over as long a period, for the measured saving."""
    import datetime as dt

    from .models import Redesign

    require(actor, perms.INSIGHT_ANALYSE)
    rows = list(Redesign.objects.select_related("log"))
    if not rows:
        return []
    snapshot, _cases = _facts()
    con = _facts_table(snapshot)
    out = []
    now = timezone.now().astimezone(dt.UTC).replace(tzinfo=None)
    for r in rows:
        local = dt.datetime.combine(r.live_from, dt.time(), tzinfo=timezone.get_current_timezone())
        since = local.astimezone(dt.UTC).replace(tzinfo=None)
        span = now - since
        where = "closed_at IS NOT NULL" + (" AND item = $item" if r.item_code else "")
        params = {"item": r.item_code} if r.item_code else {}

        def mean_between(start, end, where=where, params=params):
            row = con.execute(
                "SELECT AVG(epoch(closed_at) - epoch(submitted_at)), COUNT(*) FROM facts "  # noqa: S608
                f"WHERE {where} AND submitted_at >= $start AND submitted_at < $end",
                {**params, "start": start, "end": end},
            ).fetchall()[0]
            return (float(row[0]) if row[0] is not None else None), row[1]

        after, after_cases = mean_between(since, now)
        before, before_cases = mean_between(since - span, since)
        measured_saving = 1 - after / before if after is not None and before else None
        out.append(
            {
                "redesign": r,
                "predicted_saving": r.predicted.get("cycle_time_saving"),
                "measured_saving": measured_saving,
                "measured_after": after,
                "measured_before": before,
                "cases_after": after_cases,
                "cases_before": before_cases,
            }
        )
    return out
