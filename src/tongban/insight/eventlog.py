"""Event logs in one shape, stored as Parquet and read with DuckDB — ours and imported ones alike.

Every log, whatever it came from, becomes one Parquet file of events with these columns:

    case_id   VARCHAR     the case (XES trace concept:name or the trace's number, CSV case column,
                          the OCEL object of the chosen type, our case number)
    activity  VARCHAR     what happened
    ts        TIMESTAMP   when it completed, in UTC (NULL in a log without timestamps: file order)
    start_ts  TIMESTAMP   when it started, if the log knows (NULL otherwise)
    resource  VARCHAR     who did it
    grp       VARCHAR     their department / group
    channel   VARCHAR     online, window, … (case attribute), if known
    lifecycle VARCHAR     XES lifecycle:transition, if any
    seq       BIGINT      the event's position in the source: ties in ts keep the source's order
    case_no   INTEGER     the case's number in case-id order (1, 2, …)
    pos       BIGINT      the event's position in (case, start_ts or ts, ts, seq) order — start-time
                          order where the log has start times, as PM4Py orders interval logs: a
                          case's events are consecutive, so "directly follows" is "the next pos,
                          same case_no"
    attrs     VARCHAR     the source's other columns (CSV, Parquet), as a JSON object

The file is written in `pos` order. Computing case_no and pos once at import makes every analysis a
scan over integers instead of a sort of text, and one analysis path (insight.mining) serves every
log. Parsing is safe: XES and OCEL XML through lxml with DTDs refused before parsing (so no
entities) and no network, CSV and Parquet through DuckDB's own readers. Every problem names the file
line (CSV, XES, OCEL) or the record (Parquet) and is translated (zh-Hans, English); nothing is stored
from a file with a problem.

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
import re
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import duckdb
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from lxml import etree

from tongban.core.errors import Formatted

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


class Problem(NamedTuple):
    """One thing wrong in the source: where (a file line; 0 when it is not tied to one), which field
    (a MAPPABLE field, "object_type" or "file") and what, translated when shown."""

    line: int
    field: str
    message: object


class LogError(ValueError):
    """The source cannot become an event log: says which line or column and why, in the language
    active when it is shown (zh-Hans or English)."""

    def __init__(self, message, problems: list[Problem] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []

    def __str__(self) -> str:
        return str(self.message)


# The names users know the fields by (in problems: "时间：…").
FIELD_LABELS = {
    "case_id": pgettext_lazy("event log field", "case id"),
    "activity": pgettext_lazy("event log field", "activity"),
    "ts": pgettext_lazy("event log field", "timestamp"),
    "start_ts": pgettext_lazy("event log field", "start timestamp"),
    "resource": pgettext_lazy("event log field", "resource"),
    "grp": pgettext_lazy("event log field", "group"),
    "channel": pgettext_lazy("event log field", "channel"),
    "lifecycle": pgettext_lazy("event log field", "lifecycle"),
}


class _Detailed(Formatted):
    """A message with a parser's own words (English, technical) added when shown in English only:
    a Chinese message carries no English detail."""

    def __init__(self, message, params, detail: str):
        super().__init__(message, params)
        self.detail = detail

    def __str__(self) -> str:
        text = str(self.message) % self.params if self.params else str(self.message)
        if self.detail and (translation.get_language() or "en").startswith("en"):
            return f"{text.rstrip('.')} ({self.detail})."
        return text


def _label(name: str):
    return FIELD_LABELS.get(name, name)


def _at(line: int, problem, *, records: bool = False):
    """A problem with its position: a file line, or a record number for formats without lines."""
    if not line:
        return problem
    if records:
        return Formatted(_("Record %(row)s: %(problem)s"), {"row": line, "problem": problem})
    return Formatted(_("Line %(line)s: %(problem)s"), {"line": line, "problem": problem})


def _unreadable(exc: Exception) -> LogError:
    """DuckDB's own message names server paths and its internals: logged, never shown (issue 9)."""
    import logging

    logging.getLogger(__name__).warning("event log file unreadable: %s", exc)
    return LogError(_("The file cannot be read as CSV or Parquet."))


@dataclass
class LogSummary:
    events: int
    cases: int
    activities: int
    first: dt.datetime | None  # None: the log has no timestamps (events in file order)
    last: dt.datetime | None
    columns: dict = field(default_factory=dict)  # source column per mapped field (OCEL: object_type)


def one(con: duckdb.DuckDBPyConnection, sql: str, params=None) -> tuple:
    """The first row of a query (DuckDB 2 wants every result read to the end)."""
    rows = con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()
    return rows[0] if rows else ()


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB; each analysis gets its own (they are cheap and share nothing)."""
    return duckdb.connect(":memory:")


# --- XML (XES, OCEL 2.0 XML) ----------------------------------------------------------------------


def _open(path: Path):
    with open(path, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


_ROOT_START = re.compile(rb"<[A-Za-z_]")


def _refuse_dtd(path: Path) -> None:
    """A DOCTYPE (and with it any entity) comes before the root element: refuse the file if its
    prolog has one, before the parser sees it (no entity expansion, no external references)."""
    try:
        with _open(path) as handle:
            head = handle.read(65536)
    except (EOFError, gzip.BadGzipFile, zlib.error):
        raise LogError(_("The file is compressed but not a readable gzip file.")) from None
    except OSError as exc:
        raise LogError(_Detailed(_("The file cannot be read."), {}, str(exc)[:200])) from None
    root = _ROOT_START.search(head)
    prolog = head[: root.start()] if root else head
    if b"<!DOCTYPE" in prolog.upper() or b"<!ENTITY" in prolog.upper():
        raise LogError(_("The file declares a DTD or entities; they are refused for safety."))


def _xml_error(exc: Exception) -> LogError:
    if isinstance(exc, etree.XMLSyntaxError):
        line, column = exc.position if exc.position else (exc.lineno or 0, 0)
        return LogError(
            _Detailed(
                _("Line %(line)s, column %(column)s: the file is not well-formed XML."),
                {"line": line, "column": column},
                exc.msg,
            ),
            [Problem(line, "file", _("the file is not well-formed XML"))],
        )
    if isinstance(exc, (EOFError, gzip.BadGzipFile, zlib.error)):
        return LogError(_("The file is compressed but not a readable gzip file."))
    return LogError(_Detailed(_("The file cannot be read."), {}, str(exc)[:200]))


def _iterparse(handle, tags):
    # lxml (libxml2): element source lines for the messages; no network, no DTD, no entities
    # (refused before, see _refuse_dtd), no huge-tree mode.
    return etree.iterparse(
        handle,
        events=("end",),
        tag=tags,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )


_XES_VALUES = frozenset(("string", "date", "int", "float", "boolean", "id"))


def iter_xes(path: Path, progress: Callable[[int], None] | None = None) -> Iterator[tuple]:
    """(case_id, activity, ts, start_ts, resource, grp, channel, lifecycle, line) per event, in file
    order; `line` is the line of the event's element. A trace without a name is numbered by its
    position in the file (1, 2, …).

    Streams the file (memory stays flat for any size): each finished trace is dropped."""
    _refuse_dtd(path)
    count, traces, pending, root_seen = 0, 0, [], False
    with _open(path) as handle:
        parsing = _iterparse(handle, ("{*}event", "{*}trace"))
        for _kind, element in parsing:
            if not root_seen:
                root_seen = True
                _must_be_log(element.getroottree().getroot())
            if _local(element.tag) == "event":
                event = {}
                for child in element.iter():
                    if _local(child.tag) in _XES_VALUES:
                        name = XES_KEYS.get(child.get("key", ""))
                        if name and name not in event:
                            event[name] = child.get("value", "")
                pending.append((event, element.sourceline))
                continue
            traces += 1
            case_id, channel = "", ""
            for child in element:
                if _local(child.tag) in _XES_VALUES:
                    key = child.get("key", "")
                    if key == "concept:name":
                        case_id = child.get("value", "")
                    elif key in ("channel", "case:channel"):
                        channel = child.get("value", "")
            case_id = case_id or str(traces)
            for event, line in pending:
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
                    line,
                )
            pending = []
            element.clear()
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
    if not root_seen:
        if parsing.root is not None:
            _must_be_log(parsing.root)
        raise LogError(_("The file holds no events."))


def _must_be_log(root) -> None:
    if _local(root.tag) != "log":
        raise LogError(
            Formatted(
                _("The file is not an XES log: its root element is <%(tag)s>, not <log>."),
                {"tag": _local(root.tag)},
            )
        )


_STAGED = (*MAPPABLE, "line")


def _write_staged(path: Path, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(_STAGED)
        writer.writerows(rows)


def import_xes(path: Path, out: Path, progress: Callable[[int], None] | None = None) -> LogSummary:
    """An XES file (plain or gzip) to a Parquet event log."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="tongban-xes-") as tmp:
        staged = Path(tmp) / "events.csv"
        try:
            _write_staged(staged, iter_xes(path, progress))
        except LogError:
            raise
        except Exception as exc:  # lxml, gzip and zlib raise several kinds for a broken file
            raise _xml_error(exc) from None
        mapping = {name: name for name in MAPPABLE}
        return _store(_staged_reader(staged), mapping, out, [], line_column="line")


def _staged_reader(staged: Path) -> str:
    return f"read_csv('{_sql_path(staged)}', header=true, all_varchar=true)"


# --- OCEL 2.0 --------------------------------------------------------------------------------------


@dataclass
class _Ocel:
    object_types: dict[str, int]  # type → number of objects
    object_type_of: dict[str, str]  # object id → type
    events: list[tuple]  # (event id, activity, time, attributes {name: value}, [object ids], line)


def _is_ocel_json(head: bytes) -> bool:
    return head.lstrip()[:1] == b"{" and (b'"objectTypes"' in head or b'"eventTypes"' in head)


def sniff(path: Path) -> str:
    """What kind of event log a file is: "xes", "ocel-json", "ocel-xml", "parquet" or "csv"."""
    name = path.name.lower()
    if name.endswith((".jsonocel", ".ocel.json", ".json")):
        return "ocel-json"
    if name.endswith((".xmlocel", ".ocel.xml")):
        return "ocel-xml"
    if name.endswith((".xes", ".xes.gz")):
        return "xes"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".csv", ".txt")):
        return "csv"
    try:
        with _open(path) as probe:
            head = probe.read(8192)
    except (OSError, EOFError, gzip.BadGzipFile):
        return "csv"
    if head[:4] == b"PAR1":
        return "parquet"
    if _is_ocel_json(head):
        return "ocel-json"
    if b"<object-types" in head or b"<object-type " in head:
        return "ocel-xml"
    if b"<log" in head or b"<?xml" in head:
        return "xes"
    return "csv"


def _json_line(text: str, event_id: str, start: int) -> int:
    """The line of an event's `"id": "…"` in the JSON text (0 if it cannot be found)."""
    for literal in (json.dumps(event_id, ensure_ascii=False), json.dumps(event_id)):
        found = re.compile(r'"id"\s*:\s*' + re.escape(literal)).search(text, start)
        if found:
            return text.count("\n", 0, found.start()) + 1
    return 0


def _read_ocel_json(path: Path) -> _Ocel:
    try:
        with _open(path) as handle:
            text = handle.read().decode("utf-8-sig")
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LogError(
            _Detailed(
                _("Line %(line)s, column %(column)s: the file is not valid JSON."),
                {"line": exc.lineno, "column": exc.colno},
                exc.msg,
            ),
            [Problem(exc.lineno, "file", _("the file is not valid JSON"))],
        ) from None
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile, zlib.error):
        raise LogError(_("The file is not UTF-8 text.")) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("events"), list):
        raise LogError(Formatted(_("The file is not OCEL 2.0: %(what)s is missing."), {"what": '"events"'}))
    if not isinstance(doc.get("objects"), list):
        raise LogError(Formatted(_("The file is not OCEL 2.0: %(what)s is missing."), {"what": '"objects"'}))
    type_of, counts = {}, {}
    for obj in doc["objects"]:
        if isinstance(obj, dict) and obj.get("id") is not None and obj.get("type"):
            type_of[str(obj["id"])] = str(obj["type"])
            counts[str(obj["type"])] = counts.get(str(obj["type"]), 0) + 1
    events_at = text.find('"events"')
    events = []
    for number, ev in enumerate(doc["events"], 1):
        ev = ev if isinstance(ev, dict) else {}
        eid = str(ev.get("id", number))
        attributes = {
            str(a.get("name")): a.get("value")
            for a in ev.get("attributes") or []
            if isinstance(a, dict) and a.get("name")
        }
        related = [
            str(r.get("objectId"))
            for r in ev.get("relationships") or []
            if isinstance(r, dict) and r.get("objectId") is not None
        ]
        events.append((eid, str(ev.get("type") or ""), str(ev.get("time") or ""), attributes, related, 0))
    ocel = _Ocel(counts, type_of, events)
    ocel.line_of = lambda eid: _json_line(text, eid, max(events_at, 0))  # type: ignore[attr-defined]
    return ocel


def _read_ocel_xml(path: Path) -> _Ocel:
    _refuse_dtd(path)
    type_of, counts, events = {}, {}, []
    try:
        with _open(path) as handle:
            for _kind, element in _iterparse(handle, ("{*}object", "{*}event")):
                tag = _local(element.tag)
                parent = element.getparent()
                if parent is None or _local(parent.tag) not in ("objects", "events"):
                    continue  # an <object> of another element (a relationship list), not a declaration
                if tag == "object":
                    kind = element.get("type", "")
                    if element.get("id") is not None and kind:
                        type_of[element.get("id")] = kind
                        counts[kind] = counts.get(kind, 0) + 1
                    element.clear()
                    continue
                attributes, related = {}, []
                for child in element.iter():
                    local = _local(child.tag)
                    if local == "attribute" and child.get("name"):
                        attributes[child.get("name")] = (child.text or "").strip()
                    elif local == "relationship" and child.get("object-id") is not None:
                        related.append(child.get("object-id"))
                events.append(
                    (
                        element.get("id", ""),
                        element.get("type", ""),
                        element.get("time", ""),
                        attributes,
                        related,
                        element.sourceline or 0,
                    )
                )
                element.clear()
    except LogError:
        raise
    except Exception as exc:  # lxml, gzip and zlib raise several kinds for a broken file
        raise _xml_error(exc) from None
    if not counts and not events:
        raise LogError(
            Formatted(_("The file is not OCEL 2.0: %(what)s is missing."), {"what": "<objects>, <events>"})
        )
    return _Ocel(counts, type_of, events)


def _read_ocel(path: Path) -> _Ocel:
    return _read_ocel_json(path) if sniff(Path(path)) == "ocel-json" else _read_ocel_xml(path)


def ocel_object_types(path: Path) -> dict[str, int]:
    """The object types of an OCEL 2.0 file with their number of objects: the case notions to
    choose from."""
    return dict(sorted(_read_ocel(Path(path)).object_types.items()))


def _types_text(types) -> str:
    return "、".join(sorted(types)) or "—"


def import_ocel(path: Path, out: Path, object_type: str) -> LogSummary:
    """An OCEL 2.0 file (JSON or XML) to a Parquet event log with `object_type` as the case notion,
    flattened as PM4Py flattens: each event becomes one event of every object of that type it
    relates to (events relating to none are left out)."""
    path = Path(path)
    ocel = _read_ocel(path)
    if not object_type:
        raise LogError(
            _("Choose the object type that is the case."),
            [
                Problem(
                    0,
                    "object_type",
                    Formatted(
                        _("Choose the object type that is the case: %(types)s."),
                        {"types": _types_text(ocel.object_types)},
                    ),
                )
            ],
        )
    if object_type not in ocel.object_types:
        raise LogError(
            _("There is no such object type."),
            [
                Problem(
                    0,
                    "object_type",
                    Formatted(
                        _("The log has no objects of type “%(type)s”; its types are %(types)s."),
                        {"type": object_type, "types": _types_text(ocel.object_types)},
                    ),
                )
            ],
        )
    line_of = getattr(ocel, "line_of", None)

    flattened = 0

    def rows():
        nonlocal flattened
        for eid, activity, time, attributes, related, line in ocel.events:
            seen = set()
            for oid in related:
                if oid in seen or ocel.object_type_of.get(oid) != object_type:
                    continue
                seen.add(oid)
                flattened += 1
                yield (
                    oid,
                    activity,
                    time,
                    attributes.get("start_timestamp", attributes.get("time:start", "")),
                    attributes.get("org:resource", attributes.get("resource", "")),
                    attributes.get("org:group", attributes.get("department", "")),
                    "",
                    attributes.get("lifecycle:transition", ""),
                    line,
                    eid,
                )

    with tempfile.TemporaryDirectory(prefix="tongban-ocel-") as tmp:
        staged = Path(tmp) / "events.csv"
        with open(staged, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow((*_STAGED, "event_id"))
            writer.writerows(rows())
        if not flattened:
            raise LogError(
                Formatted(_("No event relates to an object of type “%(type)s”."), {"type": object_type})
            )
        mapping = {name: name for name in MAPPABLE}
        summary = _store(
            _staged_reader(staged),
            mapping,
            out,
            ["event_id"],
            line_column="line",
            event_line=line_of,
        )
    summary.columns = {"object_type": object_type}
    return summary


# --- CSV and Parquet ------------------------------------------------------------------------------


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def source_columns(path: Path) -> list[str]:
    """The columns of a CSV or Parquet file (for the mapping form)."""
    con = connect()
    return [d[0] for d in con.execute(f"SELECT * FROM {_reader(Path(path))} LIMIT 0").description]


def _reader(path: Path) -> str:
    if path.suffix.lower() == ".parquet" or sniff(path) == "parquet":
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


def _csv_lines(path: Path) -> Callable[[list[int]], dict[int, int]]:
    """Data row number (1 = the first row after the header) → the file line it starts on, read with
    the dialect DuckDB sniffed (quoted fields may span lines). Only run when rows are reported."""

    def lines(rows: list[int]) -> dict[int, int]:
        wanted, found = set(rows), {}
        try:
            delimiter, quote = one(connect(), f"SELECT Delimiter, Quote FROM sniff_csv('{_sql_path(path)}')")
        except duckdb.Error:
            delimiter, quote = ",", '"'
        quote = quote if len(quote or "") == 1 else '"'
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            reader = csv.reader(handle, delimiter=delimiter if len(delimiter) == 1 else ",", quotechar=quote)
            row, started = -1, 1
            for record in reader:
                if record:
                    row += 1
                    if row in wanted:
                        found[row] = started
                        if len(found) == len(wanted):
                            break
                started = reader.line_num + 1
        return found

    return lines


def import_table(path: Path, out: Path, mapping: dict[str, str] | None = None) -> LogSummary:
    """A CSV or Parquet file to a Parquet event log, its columns mapped by `mapping` (field →
    source column; fields it leaves out are guessed from common names). Without a timestamp column
    the events keep the file's order."""
    path = Path(path)
    try:
        columns = source_columns(path)
    except duckdb.Error as exc:
        raise _unreadable(exc) from None
    # Fields the mapping leaves out are guessed, those it maps to "" are not taken; a log with no
    # time column keeps the file's order.
    given, mapping = mapping or {}, guess_mapping(columns)
    for name, column in given.items():
        if column:
            mapping[name] = column
        else:
            mapping.pop(name, None)
    problems = []
    for name in ("case_id", "activity"):
        if not mapping.get(name):
            problems.append(
                Problem(
                    0, name, Formatted(_("%(field)s: no column is mapped to it"), {"field": _label(name)})
                )
            )
    for name, column in mapping.items():
        if name not in MAPPABLE:
            problems.append(
                Problem(0, "file", Formatted(_("%(field)s: not a field of an event log"), {"field": name}))
            )
        elif column not in columns:
            problems.append(
                Problem(
                    0,
                    name,
                    Formatted(
                        _("%(field)s: the file has no column “%(column)s”"),
                        {"field": _label(name), "column": column},
                    ),
                )
            )
    if problems:
        raise LogError(_("The column mapping does not fit the file."), problems)
    extra = [c for c in columns if c not in set(mapping.values())]
    parquet = _reader(path).startswith("read_parquet")
    return _store(_reader(path), mapping, out, extra, row_lines=None if parquet else _csv_lines(path))


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


def _problem(field_name: str, kind: str, value: str | None):
    label = _label(field_name)
    if kind == "empty":
        return Formatted(_("%(field)s: empty"), {"field": label})
    if kind == "missing":
        return Formatted(_("%(field)s: empty, while other events have one"), {"field": label})
    return Formatted(
        _("%(field)s: “%(value)s” is not a date and time"), {"field": label, "value": value or ""}
    )


_BAD = """
    CASE WHEN case_id IS NULL OR case_id = '' THEN 'case_id:empty'
         WHEN activity IS NULL OR activity = '' THEN 'activity:empty'
         WHEN {timed} AND (ts_text IS NULL OR ts_text = '') THEN 'ts:missing'
         WHEN {timed} AND ts IS NULL THEN 'ts:bad'
         WHEN start_ts IS NULL AND start_text IS NOT NULL AND start_text <> '' THEN 'start_ts:bad'
    END
"""


def _store(
    source: str,
    mapping: dict[str, str],
    out: Path,
    extra: list[str],
    *,
    line_column: str | None = None,
    row_lines: Callable[[list[int]], dict[int, int]] | None = None,
    event_line: Callable[[str], int] | None = None,
) -> LogSummary:
    """Select the mapped columns in the common shape (the `extra` columns kept as a JSON object),
    check them, write Parquet (all or nothing). Problems name the file line: `line_column` holds it
    (XES, OCEL XML), `row_lines` finds it from the row number (CSV), `event_line` from the OCEL
    event id (OCEL JSON); without any (Parquet) they name the record number.

    A log whose events all lack a timestamp keeps the file's order; one where only some lack it is
    refused. Inside a case, events are in start-time order where they have a start time (as PM4Py
    orders interval logs), then completion time, then file order."""
    con = connect()
    con.sql("SET TimeZone = 'UTC'")

    def column(name: str) -> str:
        return _quote(mapping[name]) if mapping.get(name) else "NULL"

    start = _timestamp(column("start_ts")) if mapping.get("start_ts") else "CAST(NULL AS TIMESTAMP)"
    pairs = ", ".join(
        f"'{c.replace(chr(39), chr(39) * 2)}', CAST({_quote(c)} AS VARCHAR)" for c in extra[:200]
    )
    attrs = f"CAST(json_object({pairs}) AS VARCHAR)" if pairs else "CAST(NULL AS VARCHAR)"
    line = f"TRY_CAST({_quote(line_column)} AS BIGINT)" if line_column else "CAST(NULL AS BIGINT)"
    event_id = _quote("event_id") if event_line else "CAST(NULL AS VARCHAR)"

    select = f"""
        SELECT
            CAST({column("case_id")} AS VARCHAR) AS case_id,
            CAST({column("activity")} AS VARCHAR) AS activity,
            CAST({column("ts")} AS VARCHAR) AS ts_text,
            {_timestamp(column("ts"))} AS ts,
            CAST({column("start_ts")} AS VARCHAR) AS start_text,
            {start} AS start_ts,
            NULLIF(CAST({column("resource")} AS VARCHAR), '') AS resource,
            NULLIF(CAST({column("grp")} AS VARCHAR), '') AS grp,
            NULLIF(CAST({column("channel")} AS VARCHAR), '') AS channel,
            NULLIF(CAST({column("lifecycle")} AS VARCHAR), '') AS lifecycle,
            {attrs} AS attrs,
            {line} AS line,
            {event_id} AS event_id,
            ROW_NUMBER() OVER () AS seq
        FROM {source}
    """
    try:
        con.sql(f"CREATE TABLE staged AS {select}")
    except duckdb.Error as exc:
        raise _unreadable(exc) from None
    total = one(con, "SELECT COUNT(*) FROM staged")[0]
    if total == 0:
        raise LogError(_("The file holds no events."))
    timed = bool(mapping.get("ts")) and bool(
        one(con, "SELECT COUNT(*) FROM staged WHERE ts_text IS NOT NULL AND ts_text <> ''")[0]
    )
    bad_case = _BAD.format(timed="TRUE" if timed else "FALSE")
    bad = con.execute(
        f"SELECT seq, line, event_id, {bad_case} AS problem, ts_text, start_text FROM staged "
        f"WHERE {bad_case} IS NOT NULL ORDER BY seq LIMIT 50"
    ).fetchall()
    if bad:
        count = one(con, f"SELECT COUNT(*) FROM staged WHERE {bad_case} IS NOT NULL")[0]
        found = row_lines([int(r[0]) for r in bad]) if row_lines else {}
        problems = []
        for seq, at, eid, problem, ts_text, start_text in bad:
            name, kind = problem.split(":")
            if row_lines:
                where, records = found.get(int(seq), 0), False
            elif event_line and eid is not None:
                where, records = event_line(eid), False
            elif line_column:
                where, records = int(at or 0), False
            else:
                where, records = int(seq), True
            value = ts_text if name == "ts" else start_text
            problems.append(Problem(where, name, _at(where, _problem(name, kind, value), records=records)))
        raise LogError(
            Formatted(_("%(count)s events are incomplete; nothing was imported."), {"count": count}), problems
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial")
    con.sql(
        "COPY (SELECT case_id, activity, ts, start_ts, resource, grp, channel, lifecycle, seq, "
        "CAST(DENSE_RANK() OVER (ORDER BY case_id) AS INTEGER) AS case_no, "
        "ROW_NUMBER() OVER (ORDER BY case_id, COALESCE(start_ts, ts), ts, seq) AS pos, attrs "
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
