"""Conformance of cases against the item's BPMN model: which steps the model lets follow which.

The model is read structurally (defusedxml; tasks, events, gateways, sequence flows — no
conditions needed, unlike an executable process): for each task, the tasks that can come next
through gateways alone, which tasks can start a case, and after which tasks it can end. A case
then conforms where each of its steps is one the model allows after the one before. Per case:
fitness = 1 − deviations / (steps + 1) (the end counts as a move), and the deviations themselves.

This is exact for models of tasks and exclusive gateways (receipt.bpmn is one). Parallel
branches are treated as choices, so interleavings the model allows count as fitting, but a case
that skips one branch of a parallel split is not caught: an over-approximation, said so in the
result.
"""

# ruff: noqa: S608  (table names are our own; no input value becomes SQL text)

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
from defusedxml.ElementTree import fromstring

TASKS = {
    "task",
    "userTask",
    "serviceTask",
    "manualTask",
    "scriptTask",
    "businessRuleTask",
    "sendTask",
    "receiveTask",
    "callActivity",
    "subProcess",
}
START, END = "⟨start⟩", "⟨end⟩"


class ModelError(ValueError):
    pass


@dataclass
class Footprint:
    """What the model allows: (step, next step) pairs, START → first steps, last steps → END."""

    pairs: set[tuple[str, str]]
    tasks: set[str]
    parallel: bool  # the model has parallel gateways (see the module's note)


def footprint(xml: bytes) -> Footprint:
    try:
        root = fromstring(xml, forbid_dtd=True)
    except Exception as exc:  # defusedxml and expat raise several kinds for a broken or hostile file
        raise ModelError(f"not a readable BPMN file: {type(exc).__name__}") from None

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    kinds: dict[str, str] = {}
    names: dict[str, str] = {}
    flows: dict[str, list[str]] = {}
    for element in root.iter():
        tag = local(element.tag)
        node_id = element.get("id", "")
        if tag == "sequenceFlow":
            flows.setdefault(element.get("sourceRef", ""), []).append(element.get("targetRef", ""))
        elif node_id and (tag in TASKS or tag.endswith(("Event", "Gateway"))):
            kinds[node_id] = tag
            names[node_id] = (element.get("name") or node_id).strip()
    tasks = {n for n, k in kinds.items() if k in TASKS}
    if not tasks:
        raise ModelError("the model has no tasks")
    starts = [n for n, k in kinds.items() if k == "startEvent"]
    ends = {n for n, k in kinds.items() if k == "endEvent"}

    def next_tasks(node: str) -> tuple[set[str], bool]:
        """Tasks reachable from `node` through non-task nodes, and whether an end is."""
        seen, found, ends_here = set(), set(), False
        stack = list(flows.get(node, []))
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            if current in tasks:
                found.add(names[current])
            elif current in ends:
                ends_here = True
            else:
                stack.extend(flows.get(current, []))
        return found, ends_here

    pairs: set[tuple[str, str]] = set()
    for start in starts:
        found, _end = next_tasks(start)
        pairs |= {(START, t) for t in found}
    for task in tasks:
        found, ends_here = next_tasks(task)
        pairs |= {(names[task], t) for t in found}
        if ends_here or not flows.get(task):
            pairs.add((names[task], END))
    return Footprint(pairs, {names[t] for t in tasks}, any(k == "parallelGateway" for k in kinds.values()))


@dataclass
class Conformance:
    cases: int
    fitting_cases: int
    mean_fitness: float
    deviations: list[dict]  # {"from", "to", "cases", "count"}: the most frequent not-allowed moves
    worst: list[dict]  # {"case", "fitness", "deviations"}: the least fitting cases
    unknown_activities: list[str]  # in the log, not in the model
    approximate: bool = False  # the model has parallel gateways
    per_case: dict[str, float] = field(default_factory=dict)

    @property
    def fitting_share(self) -> float:
        return self.fitting_cases / self.cases if self.cases else 0.0


def check(
    con: duckdb.DuckDBPyConnection, model: Footprint, table: str = "events", *, top: int = 20
) -> Conformance:
    """Every case of the log table (insight.eventlog's shape) against the model's footprint."""
    con.execute("DROP TABLE IF EXISTS allowed")
    con.execute("CREATE TABLE allowed (a VARCHAR, b VARCHAR)")
    con.executemany("INSERT INTO allowed VALUES (?, ?)", sorted(model.pairs))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE moves AS
        WITH steps AS (
            SELECT case_id, pos, CAST(activity AS VARCHAR) AS b,
                   COALESCE(CAST(LAG(activity) OVER w AS VARCHAR), '{START}') AS a,
                   LAG(case_no) OVER w = case_no AS same_case
            FROM {table} WINDOW w AS (ORDER BY pos)
        ),
        moves AS (
            SELECT case_id, CASE WHEN same_case THEN a ELSE '{START}' END AS a, b FROM steps
            UNION ALL
            SELECT case_id, CAST(ARG_MAX(activity, pos) AS VARCHAR), '{END}' FROM {table} GROUP BY case_id
        )
        SELECT m.case_id, m.a, m.b, al.a IS NOT NULL AS ok
        FROM moves m LEFT JOIN allowed al ON al.a = m.a AND al.b = m.b
        """
    )
    per_case = {
        case: 1 - bad / total
        for case, bad, total in con.execute(
            "SELECT case_id, COUNT(*) FILTER (WHERE NOT ok), COUNT(*) FROM moves GROUP BY case_id"
        ).fetchall()
    }
    deviations = [
        {"from": a, "to": b, "cases": cases, "count": n}
        for a, b, cases, n in con.execute(
            "SELECT a, b, COUNT(DISTINCT case_id), COUNT(*) FROM moves WHERE NOT ok "
            f"GROUP BY a, b ORDER BY 4 DESC, 1, 2 LIMIT {int(top)}"
        ).fetchall()
    ]
    worst = [
        {"case": case, "fitness": fitness, "deviations": bad}
        for case, fitness, bad in con.execute(
            "SELECT case_id, 1 - COUNT(*) FILTER (WHERE NOT ok) / COUNT(*), COUNT(*) FILTER (WHERE NOT ok) "
            "FROM moves GROUP BY case_id HAVING COUNT(*) FILTER (WHERE NOT ok) > 0 "
            f"ORDER BY 2, 1 LIMIT {int(top)}"
        ).fetchall()
    ]
    activities = {
        a for (a,) in con.execute(f"SELECT DISTINCT CAST(activity AS VARCHAR) FROM {table}").fetchall()
    }
    return Conformance(
        cases=len(per_case),
        fitting_cases=sum(1 for f in per_case.values() if f >= 1.0),
        mean_fitness=sum(per_case.values()) / len(per_case) if per_case else 0.0,
        deviations=deviations,
        worst=worst,
        unknown_activities=sorted(activities - model.tasks),
        approximate=model.parallel,
        per_case=per_case,
    )
