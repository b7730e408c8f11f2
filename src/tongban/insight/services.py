"""Use cases of efficiency insight: import event logs (ours and other systems'), mine them, export.

Who may: holders of insight.analyse (supervisors, data officers, administrators). A log is read
by one DuckDB connection per analysis; nothing here writes into another app's tables.
"""

from __future__ import annotations

import csv
import io
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
from tongban.core.authz import require
from tongban.core.errors import FieldErrors, Formatted, InvalidInput, NotFound

from . import eventlog, mining
from .models import EventLog, LogSource


def _folder() -> Path:
    return Path(settings.VAR_DIR) / "insight" / "logs"


def log_path(log: EventLog) -> Path:
    return _folder() / f"{log.public_id}.parquet"


def _source_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".xes", ".xes.gz")):
        return LogSource.XES
    if name.endswith(".parquet"):
        return LogSource.PARQUET
    if name.endswith((".csv", ".txt")):
        return LogSource.CSV
    with open(path, "rb") as probe:
        head = probe.read(512)
    if head[:2] == b"\x1f\x8b" or b"<log" in head:
        return LogSource.XES
    if head[:4] == b"PAR1":
        return LogSource.PARQUET
    return LogSource.CSV


def _invalid(error: eventlog.LogError) -> InvalidInput:
    errors = FieldErrors()
    if error.problems:
        for line, message in error.problems[:20]:
            field_name = message.split(":", 1)[0] if ":" in message else "file"
            key = f"mapping.{field_name}" if line == 0 and field_name in eventlog.MAPPABLE else "file"
            where = (
                Formatted(_("Row %(row)s: %(problem)s"), {"row": line, "problem": message})
                if line
                else message
            )
            errors.add(key, "invalid", where)
    else:
        errors.add(
            "file",
            "invalid",
            Formatted(_("The file is not a readable event log: %(detail)s"), {"detail": str(error)[:300]}),
        )
    return InvalidInput(errors.fields)


def import_log(
    actor,
    path: Path,
    *,
    name: str = "",
    mapping: dict[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> EventLog:
    """An XES (plain or .gz), CSV or Parquet file becomes an event log; CSV and Parquet columns
    by `mapping` (field → column), guessed from common names when not given. All or nothing: a
    file with unreadable events is refused with the rows that are wrong."""
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
        else:
            summary = eventlog.import_table(path, out, mapping)
    except eventlog.LogError as error:
        audit.record(
            "insight.log.import",
            actor=actor,
            outcome=audit.AuditOutcome.INVALID,
            object_type="event_log",
            detail={"file": path.name[:200], "error": str(error)[:200]},
        )
        raise _invalid(error) from None
    return _save(actor, log, summary)


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


def import_case_events(actor, *, name: str = "", since=None) -> EventLog:
    """Our own case event log (every case's domain events) as an event log to analyse, the same way
    as an imported one. `since` limits it to events from that instant on."""
    from tongban.cases.models import CaseEvent

    require(actor, perms.INSIGHT_ANALYSE)
    events = CaseEvent.objects.order_by("id").values_list(
        "case__number", "activity", "occurred_at", "actor_label", "department_code", "channel", "lifecycle"
    )
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    log = EventLog(
        name=(name or str(_("Case events")))[:120],
        source=LogSource.CASES,
        created_by=getattr(actor, "user", None),
        created_at=timezone.now(),
    )
    with tempfile.TemporaryDirectory(prefix="tongban-cases-") as tmp:
        staged = Path(tmp) / "events.csv"
        with open(staged, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["case_id", "activity", "ts", "resource", "grp", "channel", "lifecycle"])
            for number, activity, at, who, department, channel, lifecycle in events.iterator(chunk_size=5000):
                writer.writerow([number, activity, at.isoformat(), who, department, channel, lifecycle])
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


def analyse(actor, public_id, *, top_variants: int = 20, max_edges: int = 40) -> Analysis:
    """The process map (DFG with performance), variants, rework loops, bottlenecks and hand-offs."""
    log = get_log(actor, public_id)
    con = eventlog.connect()
    eventlog.load(con, log_path(log))
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
    )


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
    con = eventlog.connect()
    path = Path(str(source))
    if path.is_file():
        with tempfile.TemporaryDirectory(prefix="tongban-validate-") as tmp:
            staged = Path(tmp) / "log.parquet"
            try:
                if _source_of(path) == LogSource.XES:
                    eventlog.import_xes(path, staged)
                else:
                    eventlog.import_table(path, staged)
            except eventlog.LogError as error:
                raise _invalid(error) from None
            eventlog.load(con, staged)
    else:
        eventlog.load(con, log_path(get_log(actor, source)))
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


def kpi_report(
    actor, start, end, *, department_path: str = "", item: str = "", channel: str = "", progress=None
):
    """Every KPI of DOMAIN.md for the period (and filters), for the region and per department, from a
    fresh snapshot of the case facts (insight.facts)."""
    from . import facts, kpis

    require(actor, perms.INSIGHT_ANALYSE)
    if start > end:
        raise InvalidInput.single("end", "before_start", _("The period ends before it starts."))
    snapshot = Path(settings.VAR_DIR) / "insight" / "facts.parquet"
    cases = facts.export(snapshot, progress)
    con = eventlog.connect()
    con.execute(f"CREATE TABLE facts AS SELECT * FROM read_parquet('{snapshot}')")  # noqa: S608
    options = {"department_path": department_path, "item": item, "channel": channel, "costs": _unit_costs()}
    region = kpis.compute(con, start, end, **options)
    units = kpis.compute(con, start, end, by="department", **options)
    audit.record(
        "insight.kpi.report",
        actor=actor,
        detail={"start": str(start), "end": str(end), "department": department_path, "item": item},
    )
    return KpiReport(start, end, region[0] if region else {}, units, cases)


def kpi_workbook(report: KpiReport) -> bytes:
    """The report as XLSX: the region's KPIs, then the league table by department."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from .kpis import KPIS

    book = Workbook()
    sheet = book.active
    sheet.title = "全区指标"
    sheet.append(["指标", "数值", "期间", f"{report.start} 至 {report.end}"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for key, label, _direction in KPIS:
        sheet.append([label, report.region.get(key)])
    sheet.append(["受理件数", report.region.get("submitted_cases")])
    sheet.append(["办结件数", report.region.get("closed_cases")])
    table = book.create_sheet("部门排行")
    table.append(["部门", "受理件数", "办结件数", *[label for _k, label, _d in KPIS]])
    for cell in table[1]:
        cell.font = Font(bold=True)
    for row in report.units:
        table.append(
            [row["unit"], row["submitted_cases"], row["closed_cases"], *[row.get(k) for k, _l, _d in KPIS]]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
