"""Event logs in one shape, stored as Parquet and read with DuckDB — ours and imported ones alike.

Every log, whatever it came from, becomes one Parquet file of events with these columns:

    case_id   VARCHAR     the case (XES trace concept:name, CSV case column, our case number)
    activity  VARCHAR     what happened
    ts        TIMESTAMP   when it completed, in UTC
    start_ts  TIMESTAMP   when it started, if the log knows (NULL otherwise)
    resource  VARCHAR     who did it
    grp       VARCHAR     their department / group
    channel   VARCHAR     online, window, … (case attribute), if known
    lifecycle VARCHAR     XES lifecycle:transition, if any
    seq       BIGINT      the event's position in the source: ties in ts keep the source's order
    case_no   INTEGER     the case's number in case-id order (1, 2, …)
    pos       BIGINT      the event's position in (case, ts, seq) order: a case's events are
                          consecutive, so "directly follows" is "the next pos, same case_no"
    attrs     VARCHAR     the source's other columns (CSV, Parquet), as a JSON object

The file is written in `pos` order. Computing case_no and pos once at import makes every analysis a
scan over integers instead of a sort of text, and one analysis path (insight.mining) serves every
log. Parsing is safe: XES through defusedxml (no entities, no external references), CSV and Parquet
through DuckDB's own readers; bad rows are reported with their line and nothing is stored.

SQL here is assembled from our own identifiers and file paths (quoted by _sql_path); no value of a
file's content ever becomes SQL text.
"""

# ruff: noqa: S608  (see above: SQL text from our own identifiers and quoted paths only)

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from defusedxml.ElementTree import iterparse

COLUMNS = (
    "case_id",
    "activity",
    "ts",
    "start_ts",
    "resource",
    "grp",
    "channel",
    "lifecycle",
    "seq",
    "case_no",
    "pos",
    "attrs",
)

# What a CSV/Parquet mapping may name, and the XES keys each comes from.
MAPPABLE = ("case_id", "activity", "ts", "start_ts", "resource", "grp", "channel", "lifecycle")
XES_KEYS = {
    "concept:name": "activity",
    "time:timestamp": "ts",
    "start_timestamp": "start_ts",
    "time:start": "start_ts",
    "org:resource": "resource",
    "org:group": "grp",
    "org:role": "grp",
    "lifecycle:transition": "lifecycle",
}
# Column names other tools use, recognised when no mapping is given.
GUESSES = {
    "case_id": ("case:concept:name", "case_id", "case", "caseid", "case id", "办件编号"),
    "activity": ("concept:name", "activity", "event", "环节", "活动"),
    "ts": ("time:timestamp", "timestamp", "complete_timestamp", "end_timestamp", "time", "时间"),
    "start_ts": ("start_timestamp", "time:start", "start"),
    "resource": ("org:resource", "resource", "user", "办理人"),
    "grp": ("org:group", "case:department", "department", "group", "部门"),
    "channel": ("case:channel", "channel", "渠道"),
    "lifecycle": ("lifecycle:transition", "lifecycle"),
}


class LogError(ValueError):
    """The source cannot become an event log: says which line or column and why."""

    def __init__(self, message: str, problems: list[tuple[int, str]] | None = None):
        super().__init__(message)
        self.problems = problems or []


@dataclass
class LogSummary:
    events: int
    cases: int
    activities: int
    first: dt.datetime | None
    last: dt.datetime | None
    columns: dict = field(default_factory=dict)  # source column per mapped field


def one(con: duckdb.DuckDBPyConnection, sql: str, params=None) -> tuple:
    """The first row of a query (DuckDB 2 wants every result read to the end)."""
    rows = con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()
    return rows[0] if rows else ()


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB; each analysis gets its own (they are cheap and share nothing)."""
    return duckdb.connect(":memory:")


# --- XES ------------------------------------------------------------------------------------------


def _open(path: Path):
    with open(path, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def iter_xes(path: Path, progress: Callable[[int], None] | None = None) -> Iterator[tuple]:
    """(case_id, activity, ts, start_ts, resource, grp, channel, lifecycle) per event, in file order.

    Streams the file (memory stays flat for any size): each finished trace is cleared."""
    case_id, channel, in_event, event = "", "", False, {}
    depth = 0
    count = 0
    with _open(path) as handle:
        for kind, element in iterparse(handle, events=("start", "end"), forbid_dtd=True):
            tag = _local(element.tag)
            if kind == "start":
                depth += 1
                if tag == "trace":
                    case_id, channel = "", ""
                elif tag == "event":
                    in_event, event = True, {}
                continue
            depth -= 1
            if tag == "event":
                in_event = False
                count += 1
                if progress and count % 50000 == 0:
                    progress(count)
                yield (
                    case_id,
                    event.get("activity", ""),
                    event.get("ts", ""),
                    event.get("start_ts", ""),
                    event.get("resource", ""),
                    event.get("grp", ""),
                    channel,
                    event.get("lifecycle", ""),
                )
                element.clear()
            elif tag == "trace":
                element.clear()
            elif tag in ("string", "date", "int", "float", "boolean", "id"):
                key, value = element.get("key", ""), element.get("value", "")
                if in_event:
                    name = XES_KEYS.get(key)
                    if name and name not in event:
                        event[name] = value
                elif depth == 2:  # an attribute of the trace itself (log > trace > attribute)
                    if key == "concept:name":
                        case_id = value
                    elif key in ("channel", "case:channel"):
                        channel = value


def import_xes(path: Path, out: Path, progress: Callable[[int], None] | None = None) -> LogSummary:
    """An XES file (plain or gzip) to a Parquet event log."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="tongban-xes-") as tmp:
        staged = Path(tmp) / "events.csv"
        with open(staged, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(MAPPABLE)
            try:
                for row in iter_xes(path, progress):
                    writer.writerow(row)
            except Exception as exc:  # defusedxml and expat raise several kinds for a broken file
                raise LogError(f"not a readable XES file: {type(exc).__name__}: {exc}") from None
        mapping = {name: name for name in MAPPABLE}
        return _store(f"read_csv('{_sql_path(staged)}', header=true, all_varchar=true)", mapping, out, [])


# --- CSV and Parquet ------------------------------------------------------------------------------


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def source_columns(path: Path) -> list[str]:
    """The columns of a CSV or Parquet file (for the mapping form)."""
    con = connect()
    return [d[0] for d in con.execute(f"SELECT * FROM {_reader(Path(path))} LIMIT 0").description]


def _reader(path: Path) -> str:
    if path.suffix.lower() == ".parquet":
        return f"read_parquet('{_sql_path(path)}')"
    return f"read_csv('{_sql_path(path)}', header=true, all_varchar=true, sample_size=-1)"


def guess_mapping(columns: list[str]) -> dict[str, str]:
    """Field → source column, from the names other tools use (case-insensitive)."""
    lowered = {c.lower(): c for c in columns}
    mapping = {}
    for name, candidates in GUESSES.items():
        for candidate in candidates:
            if candidate.lower() in lowered:
                mapping[name] = lowered[candidate.lower()]
                break
    return mapping


def import_table(path: Path, out: Path, mapping: dict[str, str] | None = None) -> LogSummary:
    """A CSV or Parquet file to a Parquet event log, its columns mapped by `mapping` (field →
    source column; guessed from common names when not given)."""
    path = Path(path)
    try:
        columns = source_columns(path)
    except duckdb.Error as exc:
        raise LogError(f"the file cannot be read: {exc}") from None
    mapping = dict(mapping or guess_mapping(columns))
    problems = []
    for name in ("case_id", "activity", "ts"):
        if not mapping.get(name):
            problems.append((0, f"{name}: no column is mapped to it"))
    for name, column in mapping.items():
        if name not in MAPPABLE:
            problems.append((0, f"{name}: not a field of an event log"))
        elif column not in columns:
            problems.append((0, f"{name}: the file has no column {column!r}"))
    if problems:
        raise LogError("the column mapping does not fit the file", problems)
    extra = [c for c in columns if c not in set(mapping.values())]
    return _store(_reader(path), mapping, out, extra)


# --- storing -------------------------------------------------------------------------------------


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _timestamp(expr: str) -> str:
    """Text (or a timestamp) to a UTC TIMESTAMP: with an offset converted, without one taken as UTC;
    NULL when it is not a time at all (reported, see _store)."""
    text = f"CAST({expr} AS VARCHAR)"
    return (
        f"COALESCE(TRY_CAST(TRY_CAST({text} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP), "
        f"TRY_CAST({text} AS TIMESTAMP))"
    )


def _store(source: str, mapping: dict[str, str], out: Path, extra: list[str]) -> LogSummary:
    """Select the mapped columns in the common shape (the `extra` columns kept as a JSON object),
    check them, write Parquet (all or nothing)."""
    con = connect()
    con.sql("SET TimeZone = 'UTC'")

    def column(name: str) -> str:
        return _quote(mapping[name]) if mapping.get(name) else "NULL"

    start = _timestamp(column("start_ts")) if mapping.get("start_ts") else "CAST(NULL AS TIMESTAMP)"
    pairs = ", ".join(
        f"'{c.replace(chr(39), chr(39) * 2)}', CAST({_quote(c)} AS VARCHAR)" for c in extra[:200]
    )
    attrs = f"CAST(json_object({pairs}) AS VARCHAR)" if pairs else "CAST(NULL AS VARCHAR)"

    select = f"""
        SELECT
            CAST({column("case_id")} AS VARCHAR) AS case_id,
            CAST({column("activity")} AS VARCHAR) AS activity,
            CAST({column("ts")} AS VARCHAR) AS ts_text,
            {_timestamp(column("ts"))} AS ts,
            {start} AS start_ts,
            NULLIF(CAST({column("resource")} AS VARCHAR), '') AS resource,
            NULLIF(CAST({column("grp")} AS VARCHAR), '') AS grp,
            NULLIF(CAST({column("channel")} AS VARCHAR), '') AS channel,
            NULLIF(CAST({column("lifecycle")} AS VARCHAR), '') AS lifecycle,
            {attrs} AS attrs,
            ROW_NUMBER() OVER () AS seq
        FROM {source}
    """
    try:
        con.sql(f"CREATE TABLE staged AS {select}")
    except duckdb.Error as exc:
        raise LogError(f"the file cannot be read: {exc}") from None
    bad = con.execute(
        "SELECT seq, CASE WHEN case_id IS NULL OR case_id = '' THEN 'case_id: empty' "
        "WHEN activity IS NULL OR activity = '' THEN 'activity: empty' "
        "ELSE 'ts: not a time: ' || COALESCE(ts_text, '(empty)') END "
        "FROM staged WHERE case_id IS NULL OR case_id = '' OR activity IS NULL OR activity = '' "
        "OR ts IS NULL ORDER BY seq LIMIT 50"
    ).fetchall()
    if bad:
        total = one(
            con,
            "SELECT COUNT(*) FROM staged WHERE case_id IS NULL OR case_id = '' OR activity IS NULL "
            "OR activity = '' OR ts IS NULL",
        )[0]
        raise LogError(f"{total} events are incomplete; nothing was imported", [(int(s), m) for s, m in bad])
    if one(con, "SELECT COUNT(*) FROM staged")[0] == 0:
        raise LogError("the file holds no events")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial")
    con.sql(
        "COPY (SELECT case_id, activity, ts, start_ts, resource, grp, channel, lifecycle, seq, "
        "CAST(DENSE_RANK() OVER (ORDER BY case_id) AS INTEGER) AS case_no, "
        "ROW_NUMBER() OVER (ORDER BY case_id, ts, seq) AS pos, attrs "
        f"FROM staged ORDER BY pos) TO '{_sql_path(partial)}' (FORMAT PARQUET, COMPRESSION ZSTD)"
    )
    partial.replace(out)
    return summarise(out, mapping)


def summarise(path: Path, mapping: dict | None = None) -> LogSummary:
    con = connect()
    events, cases, activities, first, last = one(
        con,
        f"SELECT COUNT(*), COUNT(DISTINCT case_id), COUNT(DISTINCT activity), MIN(ts), MAX(ts) "
        f"FROM read_parquet('{_sql_path(path)}')",
    )
    return LogSummary(events, cases, activities, first, last, dict(mapping or {}))


def load(con: duckdb.DuckDBPyConnection, path: Path, name: str = "events") -> str:
    """Make the log a table of this connection, in memory (the analyses read it several times),
    with the activity as an ENUM: grouping and comparing then work on small integers."""
    source = f"read_parquet('{_sql_path(path)}')"
    encode(con, source, name)
    return name


def encode(con: duckdb.DuckDBPyConnection, source: str, name: str = "events") -> None:
    """CREATE TABLE name from a relation in the common shape, activity as an ENUM type."""
    kind = f"{name}_activity"
    con.sql(f"DROP TABLE IF EXISTS {name}")
    con.sql(f"DROP TYPE IF EXISTS {kind}")
    con.sql(f"CREATE TYPE {kind} AS ENUM (SELECT DISTINCT activity FROM {source} ORDER BY 1)")
    con.sql(
        f"CREATE TABLE {name} AS SELECT case_id, CAST(activity AS {kind}) AS activity, ts, start_ts, "
        f"resource, grp, channel, lifecycle, seq, case_no, pos FROM {source} ORDER BY pos"
    )


# --- export ---------------------------------------------------------------------------------------


def _xes_time(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00" if value else ""


def export_xes(path: Path, out: io.TextIOBase) -> int:
    """Write the log as XES 1.0 (IEEE 1849), traces in case order; returns the number of events."""
    from xml.sax.saxutils import quoteattr

    con = connect()
    rows = con.execute(
        "SELECT case_id, activity, ts, start_ts, resource, grp, lifecycle "
        f"FROM read_parquet('{_sql_path(path)}') ORDER BY pos"
    )
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write('<log xes.version="1.0" xes.features="nested-attributes" openxes.version="1.0RC7">\n')
    out.write(
        '  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>\n'
    )
    out.write('  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>\n')
    out.write(
        '  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>\n'
    )
    out.write(
        '  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>\n'
    )
    current, count = None, 0
    while batch := rows.fetchmany(10000):
        for case_id, activity, ts, start_ts, resource, grp, lifecycle in batch:
            if case_id != current:
                if current is not None:
                    out.write("  </trace>\n")
                out.write(f'  <trace>\n    <string key="concept:name" value={quoteattr(case_id)}/>\n')
                current = case_id
            out.write(f'    <event>\n      <string key="concept:name" value={quoteattr(activity)}/>\n')
            out.write(f'      <date key="time:timestamp" value="{_xes_time(ts)}"/>\n')
            if start_ts:
                out.write(f'      <date key="time:start" value="{_xes_time(start_ts)}"/>\n')
            if resource:
                out.write(f'      <string key="org:resource" value={quoteattr(resource)}/>\n')
            if grp:
                out.write(f'      <string key="org:group" value={quoteattr(grp)}/>\n')
            if lifecycle:
                out.write(f'      <string key="lifecycle:transition" value={quoteattr(lifecycle)}/>\n')
            out.write("    </event>\n")
            count += 1
    if current is not None:
        out.write("  </trace>\n")
    out.write("</log>\n")
    return count


def export_ocel(path: Path) -> dict:
    """The log as OCEL 2.0 JSON: each event relates to its case object (type "case") and, where
    known, its resource (type "resource") — what object-centric tools take in."""
    con = connect()
    rows = con.execute(
        f"SELECT case_id, activity, ts, resource, grp, seq FROM read_parquet('{_sql_path(path)}') "
        "ORDER BY ts, seq"
    ).fetchall()
    activities = sorted({r[1] for r in rows})
    cases = sorted({r[0] for r in rows})
    resources = sorted({r[3] for r in rows if r[3]})
    events = []
    for case_id, activity, ts, resource, grp, seq in rows:
        relationships = [{"objectId": f"case:{case_id}", "qualifier": "case"}]
        if resource:
            relationships.append({"objectId": f"resource:{resource}", "qualifier": "performed by"})
        events.append(
            {
                "id": f"e{seq}",
                "type": activity,
                "time": ts.isoformat() + "Z",
                "attributes": [{"name": "department", "value": grp}] if grp else [],
                "relationships": relationships,
            }
        )
    return {
        "objectTypes": [{"name": "case", "attributes": []}, {"name": "resource", "attributes": []}],
        "eventTypes": [
            {"name": a, "attributes": [{"name": "department", "type": "string"}]} for a in activities
        ],
        "objects": [{"id": f"case:{c}", "type": "case", "attributes": []} for c in cases]
        + [{"id": f"resource:{r}", "type": "resource", "attributes": []} for r in resources],
        "events": events,
    }


def ocel_json(path: Path) -> str:
    return json.dumps(export_ocel(path), ensure_ascii=False)
