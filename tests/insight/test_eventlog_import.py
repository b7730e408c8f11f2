"""Event logs as other tools write them: interval logs ordered by start time (as PM4Py orders them),
logs without timestamps, traces without a name, OCEL 2.0 with a chosen case notion, and import
problems that name the file line in zh-Hans and in English."""

import gzip
import json
import re
from pathlib import Path

import pytest
from django.utils import translation

from tests.conftest import shared_data_dir
from tongban.insight import eventlog, mining

LOGS = Path(shared_data_dir()) / "eventlogs"

# Two cases of one interval log: 审查 starts before 核验 but completes after it.
INTERVAL_CSV = """case,activity,start,end,who
A,受理,2026-11-02 09:00,2026-11-02 09:10,张
A,审查,2026-11-02 09:20,2026-11-02 11:00,李
A,核验,2026-11-02 09:30,2026-11-02 10:00,王
A,决定,2026-11-02 11:30,2026-11-02 11:40,张
B,受理,2026-11-03 09:00,2026-11-03 09:05,张
B,审查,2026-11-03 09:10,2026-11-03 12:00,李
B,核验,2026-11-03 09:15,2026-11-03 09:45,王
B,决定,2026-11-03 12:10,2026-11-03 12:20,张
"""


def _analyse(path: Path):
    con = eventlog.connect()
    eventlog.load(con, path)
    return mining.directly_follows(con), mining.variants(con)


def _en(message) -> str:
    with translation.override("en"):
        return str(message)


def _zh(message) -> str:
    with translation.override("zh-hans"):
        return str(message)


def _no_english(text: str) -> bool:
    """No English words in a Chinese message (quoted values and field names aside)."""
    return not re.search(r"\b(?:the|is|not|of|line|row|file|empty|no|column)\b", text, re.IGNORECASE)


def test_an_interval_log_is_ordered_by_start_time_inside_a_case(tmp_path):
    source = tmp_path / "interval.csv"
    source.write_text(INTERVAL_CSV, encoding="utf-8")
    by_start = tmp_path / "by_start.parquet"
    eventlog.import_table(
        source, by_start, {"case_id": "case", "activity": "activity", "ts": "end", "start_ts": "start"}
    )
    by_end = tmp_path / "by_end.parquet"
    eventlog.import_table(
        source, by_end, {"case_id": "case", "activity": "activity", "ts": "end", "start_ts": ""}
    )

    graph, variants = _analyse(by_start)
    assert graph.counts() == {("受理", "审查"): 2, ("审查", "核验"): 2, ("核验", "决定"): 2}
    assert [(v.activities, v.count) for v in variants] == [(("受理", "审查", "核验", "决定"), 2)]
    # Hand-over times run from a completion to the next start (PM4Py's flow time): 受理 → 审查
    # waited 10 and 5 minutes; 核验 started 90 and 165 minutes before 审查 completed (negative).
    edges = {(e.source, e.target): e for e in graph.edges}
    assert edges[("受理", "审查")].mean == pytest.approx(7.5 * 60)
    assert edges[("审查", "核验")].mean == pytest.approx(-(90 + 165) / 2 * 60)
    assert edges[("核验", "决定")].mean == pytest.approx((90 + 145) / 2 * 60)
    # The same events without their start times: completion order, another graph and variant.
    graph, variants = _analyse(by_end)
    assert graph.counts() == {("受理", "核验"): 2, ("核验", "审查"): 2, ("审查", "决定"): 2}
    assert [v.activities for v in variants] == [("受理", "核验", "审查", "决定")]


def test_an_interval_xes_log_is_ordered_by_start_time_too(tmp_path):
    events = []
    for line in INTERVAL_CSV.splitlines()[1:5]:
        _case, activity, start, end, who = line.split(",")
        events.append(
            f'<event><string key="concept:name" value="{activity}"/>'
            f'<date key="start_timestamp" value="{start.replace(" ", "T")}:00+08:00"/>'
            f'<date key="time:timestamp" value="{end.replace(" ", "T")}:00+08:00"/>'
            f'<string key="org:resource" value="{who}"/></event>'
        )
    source = tmp_path / "interval.xes"
    source.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n<trace>'
        '<string key="concept:name" value="A"/>' + "\n".join(events) + "</trace>\n</log>\n",
        encoding="utf-8",
    )
    eventlog.import_xes(source, tmp_path / "interval.parquet")
    graph, _variants = _analyse(tmp_path / "interval.parquet")
    assert graph.counts() == {("受理", "审查"): 1, ("审查", "核验"): 1, ("核验", "决定"): 1}


def test_a_log_without_timestamps_keeps_the_file_order(tmp_path):
    source = tmp_path / "order.csv"
    source.write_text("case,activity\nB,受理\nA,受理\nA,补正\nB,决定\nA,决定\n", encoding="utf-8")
    summary = eventlog.import_table(source, tmp_path / "order.parquet")
    assert (summary.events, summary.cases, summary.first, summary.last) == (5, 2, None, None)
    graph, variants = _analyse(tmp_path / "order.parquet")
    assert graph.counts() == {("受理", "补正"): 1, ("补正", "决定"): 1, ("受理", "决定"): 1}
    assert sorted(v.activities for v in variants) == [("受理", "决定"), ("受理", "补正", "决定")]
    # An XES log whose events carry no time:timestamp: the same.
    xes = tmp_path / "order.xes"
    xes.write_text(
        "<log><trace><string key='concept:name' value='A'/>"
        "<event><string key='concept:name' value='受理'/></event>"
        "<event><string key='concept:name' value='补正'/></event>"
        "<event><string key='concept:name' value='决定'/></event></trace></log>",
        encoding="utf-8",
    )
    eventlog.import_xes(xes, tmp_path / "order-xes.parquet")
    graph, _variants = _analyse(tmp_path / "order-xes.parquet")
    assert graph.counts() == {("受理", "补正"): 1, ("补正", "决定"): 1}


def test_a_log_where_only_some_events_have_a_time_is_refused_at_their_lines(tmp_path):
    source = tmp_path / "some.csv"
    source.write_text(
        'case,activity,time\nA,受理,2026-11-02 09:00\nA,"审查\n（复核）",\nA,决定,2026-11-02 11:00\n',
        encoding="utf-8",
    )
    with pytest.raises(eventlog.LogError) as refused:
        eventlog.import_table(source, tmp_path / "some.parquet")
    (problem,) = refused.value.problems
    assert (problem.line, problem.field) == (3, "ts")
    assert _zh(problem.message) == "第 3 行：时间戳：为空，而其他事件有时间戳"
    assert _en(problem.message) == "Line 3: timestamp: empty, while other events have one"


def test_traces_without_a_name_are_numbered(tmp_path):
    source = tmp_path / "unnamed.xes"
    source.write_text(
        "<log>"
        "<trace><event><string key='concept:name' value='受理'/>"
        "<date key='time:timestamp' value='2026-11-02T09:00:00Z'/></event></trace>"
        "<trace><string key='concept:name' value='named'/><event><string key='concept:name' value='受理'/>"
        "<date key='time:timestamp' value='2026-11-02T09:00:00Z'/></event></trace>"
        "<trace><event><string key='concept:name' value='决定'/>"
        "<date key='time:timestamp' value='2026-11-02T10:00:00Z'/></event></trace>"
        "</log>",
        encoding="utf-8",
    )
    eventlog.import_xes(source, tmp_path / "unnamed.parquet")
    con = eventlog.connect()
    rows = con.execute(
        f"SELECT case_id, activity FROM read_parquet('{tmp_path / 'unnamed.parquet'}') ORDER BY pos"
    )
    assert rows.fetchall() == [("1", "受理"), ("3", "决定"), ("named", "受理")]


def test_xes_problems_name_the_line_of_the_element_in_both_languages(tmp_path):
    source = tmp_path / "bad.xes"
    source.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n"  # 1
        "<log>\n"  # 2
        "  <trace>\n"  # 3
        "    <string key='concept:name' value='A'/>\n"  # 4
        "    <event>\n"  # 5
        "      <string key='concept:name' value='受理'/>\n"  # 6
        "      <date key='time:timestamp' value='2026-11-02T09:00:00Z'/>\n"  # 7
        "    </event>\n"  # 8
        "    <event>\n"  # 9
        "      <date key='time:timestamp' value='2026-11-02T10:00:00Z'/>\n"  # 10
        "    </event>\n"  # 11
        "    <event>\n"  # 12
        "      <string key='concept:name' value='决定'/>\n"  # 13
        "      <date key='time:timestamp' value='yesterday'/>\n"  # 14
        "    </event>\n"  # 15
        "  </trace>\n"
        "</log>\n",
        encoding="utf-8",
    )
    out = tmp_path / "bad.parquet"
    with pytest.raises(eventlog.LogError) as refused:
        eventlog.import_xes(source, out)
    assert [(p.line, p.field) for p in refused.value.problems] == [(9, "activity"), (12, "ts")]
    assert [_zh(p.message) for p in refused.value.problems] == [
        "第 9 行：活动：为空",
        "第 12 行：时间戳：“yesterday”不是日期时间",
    ]
    assert _en(refused.value.problems[1].message) == "Line 12: timestamp: “yesterday” is not a date and time"
    assert _zh(refused.value) == "2 个事件不完整，未导入任何内容。"
    assert not out.exists()

    broken = tmp_path / "broken.xes.gz"
    broken.write_bytes(gzip.compress(b"<log>\n<trace>\n<event>\n</trace>\n</log>\n"))
    with pytest.raises(eventlog.LogError) as unreadable:
        eventlog.import_xes(broken, out)
    zh = _zh(unreadable.value)
    assert zh == "第 4 行第 9 列：文件不是格式正确的 XML。" and _no_english(zh)
    assert _en(unreadable.value).startswith("Line 4, column 9: the file is not well-formed XML (")
    assert unreadable.value.problems[0].line == 4


def test_csv_problems_name_file_lines_and_the_mapping_fields(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        'case,activity,time,note\nA,受理,2026-11-02 09:00,"two\nlines"\n'
        "A,,2026-11-02 10:00,\nB,受理,not a time,\n",
        encoding="utf-8",
    )
    out = tmp_path / "bad.parquet"
    with pytest.raises(eventlog.LogError) as refused:
        eventlog.import_table(bad, out, {"case_id": "case", "activity": "activity", "ts": "time"})
    assert [(p.line, p.field) for p in refused.value.problems] == [(4, "activity"), (5, "ts")]
    assert _zh(refused.value.problems[1].message) == "第 5 行：时间戳：“not a time”不是日期时间"
    with pytest.raises(eventlog.LogError) as unmapped:
        eventlog.import_table(bad, out, {"case_id": "case", "activity": "nope"})
    assert [(p.line, p.field) for p in unmapped.value.problems] == [(0, "activity")]
    assert _zh(unmapped.value.problems[0].message) == "活动：文件中没有“nope”列"
    assert _en(unmapped.value.problems[0].message) == "activity: the file has no column “nope”"
    assert _zh(unmapped.value) == "列映射与文件不符。"
    assert not out.exists() and not out.with_suffix(".partial").exists()


def test_a_parquet_problem_names_the_record(tmp_path):
    con = eventlog.connect()
    source = tmp_path / "bad.parquet"
    con.sql(
        "COPY (SELECT * FROM (VALUES ('A', '受理', '2026-11-02 09:00'), ('A', '决定', 'soon')) "
        f"t(case_id, activity, timestamp)) TO '{source}' (FORMAT PARQUET)"
    )
    with pytest.raises(eventlog.LogError) as refused:
        eventlog.import_table(source, tmp_path / "out.parquet")
    assert _zh(refused.value.problems[0].message) == "第 2 条记录：时间戳：“soon”不是日期时间"


def test_a_dtd_is_refused_before_parsing(tmp_path):
    bomb = tmp_path / "bomb.xes"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE log [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<log><trace><string key="concept:name" value="&b;"/></trace></log>'
    )
    with pytest.raises(eventlog.LogError) as refused:
        eventlog.import_xes(bomb, tmp_path / "out.parquet")
    assert _zh(refused.value) == "文件声明了 DTD 或实体；出于安全考虑不予接受。"
    with pytest.raises(eventlog.LogError) as not_xes:
        eventlog.import_xes(LOGS / "receipt.bpmn", tmp_path / "out.parquet")
    assert "<definitions>" in _zh(not_xes.value) and "<log>" in _en(not_xes.value)
    with pytest.raises(eventlog.LogError) as missing:
        eventlog.import_xes(tmp_path / "nowhere.xes.gz", tmp_path / "out.parquet")
    assert _zh(missing.value) == "无法读取该文件。" and "No such file" in _en(missing.value)
    with pytest.raises(eventlog.LogError) as csv_as_xes:
        eventlog.import_xes(LOGS / "receipt.csv", tmp_path / "out.parquet")
    assert _zh(csv_as_xes.value) == "第 1 行第 1 列：文件不是格式正确的 XML。"
    assert not (tmp_path / "out.parquet").exists()


# --- OCEL 2.0 ----------------------------------------------------------------------------------------

OCEL = {
    "objectTypes": [
        {"name": "order", "attributes": []},
        {"name": "item", "attributes": []},
        {"name": "package", "attributes": []},
    ],
    "eventTypes": [
        {"name": n, "attributes": []} for n in ("place order", "pick item", "pay", "send package")
    ],
    "objects": [
        {"id": "o1", "type": "order"},
        {"id": "o2", "type": "order"},
        {"id": "i1", "type": "item"},
        {"id": "i2", "type": "item"},
        {"id": "i3", "type": "item"},
        {"id": "p1", "type": "package"},
    ],
    "events": [
        {
            "id": "e1",
            "type": "place order",
            "time": "2026-11-02T09:00:00Z",
            "attributes": [{"name": "org:resource", "value": "张"}],
            "relationships": [
                {"objectId": "o1", "qualifier": "order"},
                {"objectId": "i1", "qualifier": "item"},
                {"objectId": "i2", "qualifier": "item"},
            ],
        },
        {
            "id": "e2",
            "type": "place order",
            "time": "2026-11-02T09:30:00Z",
            "attributes": [],
            "relationships": [
                {"objectId": "o2", "qualifier": "order"},
                {"objectId": "i3", "qualifier": "item"},
            ],
        },
        {
            "id": "e3",
            "type": "pick item",
            "time": "2026-11-02T10:00:00Z",
            "attributes": [],
            "relationships": [
                {"objectId": "i1", "qualifier": "item"},
                {"objectId": "i3", "qualifier": "item"},
            ],
        },
        {
            "id": "e4",
            "type": "pay",
            "time": "2026-11-02T18:30:00+08:00",
            "relationships": [{"objectId": "o1"}],
        },
        {
            "id": "e5",
            "type": "send package",
            "time": "2026-11-02T11:00:00Z",
            "relationships": [
                {"objectId": "p1", "qualifier": "package"},
                {"objectId": "i1", "qualifier": "content"},
                {"objectId": "i2", "qualifier": "content"},
            ],
        },
    ],
}

OCEL_XML = """<?xml version="1.0" encoding="UTF-8"?>
<log>
  <object-types>
    <object-type name="order"><attributes/></object-type>
    <object-type name="item"><attributes/></object-type>
  </object-types>
  <event-types>
    <event-type name="place order"><attributes/></event-type>
    <event-type name="pick item"><attributes/></event-type>
  </event-types>
  <objects>
    <object id="o1" type="order"><attributes/>
      <objects><relationship object-id="i1" qualifier="has"/></objects></object>
    <object id="i1" type="item"><attributes/></object>
    <object id="i2" type="item"><attributes/></object>
  </objects>
  <events>
    <event id="e1" type="place order" time="2026-11-02T09:00:00Z">
      <attributes><attribute name="org:resource">张</attribute></attributes>
      <objects>
        <relationship object-id="o1" qualifier="order"/>
        <relationship object-id="i1" qualifier="item"/>
        <relationship object-id="i2" qualifier="item"/>
      </objects>
    </event>
    <event id="e2" type="pick item" time="2026-11-02T10:00:00Z">
      <objects><relationship object-id="i1" qualifier="item"/></objects>
    </event>
    <event id="e3" type="pick item" time="in a while">
      <objects><relationship object-id="i2" qualifier="item"/></objects>
    </event>
  </events>
</log>
"""


def _cases(path: Path) -> dict[str, list[str]]:
    con = eventlog.connect()
    rows = con.execute(f"SELECT case_id, activity FROM read_parquet('{path}') ORDER BY pos").fetchall()
    cases: dict[str, list[str]] = {}
    for case_id, activity in rows:
        cases.setdefault(case_id, []).append(activity)
    return cases


def test_ocel_json_is_flattened_on_the_chosen_object_type(tmp_path):
    source = tmp_path / "orders.jsonocel"
    source.write_text(json.dumps(OCEL, ensure_ascii=False, indent=1), encoding="utf-8")
    assert eventlog.sniff(source) == "ocel-json"
    assert eventlog.ocel_object_types(source) == {"item": 3, "order": 2, "package": 1}

    summary = eventlog.import_ocel(source, tmp_path / "orders.parquet", "order")
    assert (summary.events, summary.cases, summary.columns) == (3, 2, {"object_type": "order"})
    assert _cases(tmp_path / "orders.parquet") == {"o1": ["place order", "pay"], "o2": ["place order"]}
    # Each event goes to every item it relates to: e1 to i1 and i2, e3 to i1 and i3.
    summary = eventlog.import_ocel(source, tmp_path / "items.parquet", "item")
    assert summary.events == 7
    assert _cases(tmp_path / "items.parquet") == {
        "i1": ["place order", "pick item", "send package"],
        "i2": ["place order", "send package"],
        "i3": ["place order", "pick item"],
    }
    con = eventlog.connect()
    resource = con.execute(
        f"SELECT resource FROM read_parquet('{tmp_path / 'items.parquet'}') WHERE case_id = 'i1' ORDER BY pos"
    ).fetchall()
    assert resource[0] == ("张",)


def test_ocel_json_asks_for_the_case_notion_and_names_bad_events_by_line(tmp_path):
    source = tmp_path / "orders.json"
    broken = json.loads(json.dumps(OCEL))
    broken["events"][3]["time"] = "later"
    source.write_text(json.dumps(broken, ensure_ascii=False, indent=1), encoding="utf-8")
    with pytest.raises(eventlog.LogError) as unchosen:
        eventlog.import_ocel(source, tmp_path / "out.parquet", "")
    (problem,) = unchosen.value.problems
    assert problem.field == "object_type"
    assert _zh(problem.message) == "请选择作为案件的对象类型：item、order、package。"
    with pytest.raises(eventlog.LogError) as unknown:
        eventlog.import_ocel(source, tmp_path / "out.parquet", "customer")
    assert (
        _zh(unknown.value.problems[0].message)
        == "日志中没有“customer”类型的对象；已有类型：item、order、package。"
    )
    with pytest.raises(eventlog.LogError) as refused:
        eventlog.import_ocel(source, tmp_path / "out.parquet", "order")
    text = source.read_text(encoding="utf-8").splitlines()
    (problem,) = refused.value.problems
    assert '"id": "e4"' in text[problem.line - 1]
    assert _zh(problem.message) == f"第 {problem.line} 行：时间戳：“later”不是日期时间"

    source.write_text('{"objectTypes": [],\n "events": [,]}', encoding="utf-8")
    with pytest.raises(eventlog.LogError) as not_json:
        eventlog.import_ocel(source, tmp_path / "out.parquet", "order")
    assert _zh(not_json.value) == "第 2 行第 13 列：文件不是有效的 JSON。"
    assert _en(not_json.value).startswith("Line 2, column 13: the file is not valid JSON (")


def test_ocel_xml_is_flattened_and_its_problems_name_the_event_line(tmp_path):
    source = tmp_path / "orders.xmlocel"
    source.write_text(OCEL_XML, encoding="utf-8")
    assert eventlog.sniff(source) == "ocel-xml"
    assert eventlog.ocel_object_types(source) == {"item": 2, "order": 1}
    summary = eventlog.import_ocel(source, tmp_path / "orders.parquet", "order")
    assert summary.events == 1 and _cases(tmp_path / "orders.parquet") == {"o1": ["place order"]}
    with pytest.raises(eventlog.LogError) as refused:
        eventlog.import_ocel(source, tmp_path / "items.parquet", "item")
    (problem,) = refused.value.problems
    assert problem.line == 29 and '<event id="e3"' in OCEL_XML.splitlines()[28]
    assert _zh(problem.message) == "第 29 行：时间戳：“in a while”不是日期时间"


def test_the_real_logs_still_import_as_before(tmp_path):
    summary = eventlog.import_xes(LOGS / "roadtraffic100traces.xes", tmp_path / "road.parquet")
    assert (summary.events, summary.cases) == (390, 100)
    summary = eventlog.import_table(LOGS / "receipt.csv", tmp_path / "receipt.parquet")
    assert (summary.events, summary.cases, summary.activities) == (8577, 1434, 27)
    graph, variants = _analyse(tmp_path / "receipt.parquet")
    assert len(graph.edges) == 99 and len(variants) == 116
