"""秒批 tables decide with tongban.rules' FEEL unary tests and decide as before: every demo table
(and a table using every cell form) over contexts at and around each cell's values, with missing,
blank and wrong-typed values, against the decisions the tables' own evaluator gave before the move
(recorded in data/rules_golden.json with cases/rules.py as of commit 3537086)."""

import contextlib
import itertools
import json
import random
from decimal import Decimal
from pathlib import Path

from tongban.cases import demo, rules

GOLDEN = Path(__file__).parent / "data" / "rules_golden.json"

EVERY_CELL_FORM = {
    "name": "各种单元格",
    "hit_policy": "UNIQUE",
    "inputs": [
        {"key": "data.age", "label": "年龄", "type": "number"},
        {"key": "data.kind", "label": "类别", "type": "string"},
        {"key": "data.born", "label": "出生日期", "type": "date"},
        {"key": "check.ok", "label": "核验", "type": "boolean"},
    ],
    "outputs": [{"key": "decision", "label": "结论", "type": "string"}],
    "rules": [
        {"id": "r1", "when": ["[18..60)", '"a", "b"', '>= date("1990-01-01")', "true"], "then": ["approve"]},
        {"id": "r2", "when": ["]60..150]", 'not("a", "b")', "-", "true"], "then": ["approve"]},
        {"id": "r3", "when": ["< 18", '= "c"', '< date("2010-01-01")', "-"], "then": ["manual"]},
        {"id": "r4", "when": ["-1.5, 0, (100..200)", '!= "z"', "null", "false"], "then": ["approve"]},
        {"id": "r5", "when": ["null", "-", "-", "null"], "then": ["manual"]},
    ],
}

FIRST_AND_ANY = [
    dict(EVERY_CELL_FORM, name="各种单元格 FIRST", hit_policy="FIRST"),
    dict(EVERY_CELL_FORM, name="各种单元格 ANY", hit_policy="ANY"),
]

_MISSING = "__missing__"


def _pool(column: dict, cells: list[str]) -> list:
    """The values a form or a check may give a column: at and around the cell's literals, as text
    too, blank, missing and of the wrong type."""
    kind = column["type"]
    if kind == "boolean":
        return [True, False, "true", 1, None, _MISSING]
    if kind == "number":
        numbers = {0, 18, 60, 80, 3000, 30000, 150}
        for cell in cells:
            for token in cell.replace("[", " ").replace("]", " ").replace("(", " ").replace(")", " ").split():
                token = token.strip(",.<>=")
                with contextlib.suppress(ValueError):
                    numbers.add(float(token))
        values = []
        for n in sorted(numbers):
            values.extend([n - 1, n, n + 0.5])
        return [*values, "80", " 60 ", "abc", "", True, None, _MISSING]
    if kind == "string":
        return ["a", "b", "c", "z", "其他", "", 5, None, _MISSING]
    return [
        "1989-12-31",
        "1990-01-01",
        "2009-12-31",
        "2010-01-01",
        "2026-13-01",
        "",
        19900101,
        None,
        _MISSING,
    ]


def contexts(table: dict) -> list[dict]:
    """Every combination of the columns' values, or a fixed sample of 800 where there are more."""
    inputs = table["inputs"]
    pools = [_pool(c, [r["when"][i] for r in table["rules"]]) for i, c in enumerate(inputs)]
    combinations = list(itertools.product(*pools))
    if len(combinations) > 800:
        combinations = random.Random(11).sample(combinations, 800)
    found = []
    for combination in combinations:
        context: dict = {"data": {}, "check": {}}
        for column, value in zip(inputs, combination, strict=True):
            if value is not _MISSING:
                scope, key = column["key"].split(".", 1)
                context[scope][key] = value
        found.append(context)
    return found


def tables() -> list[dict]:
    return [*demo.DEMO_TABLES.values(), EVERY_CELL_FORM, *FIRST_AND_ANY]


def outcome(table: dict, context: dict) -> str:
    """What a table decided and why, in one line: decision, rule, cause, matching rules, the
    approving rule the case came nearest to, and the checks it failed there."""
    e = rules.evaluate(rules.validate_table(table), context)
    failed = ",".join(f"{f.key}:{f.problem}" for f in e.failed)
    return f"{e.decision}|{e.rule_id}|{e.cause}|{'/'.join(e.matched)}|{e.closest_rule_id}|{failed}"


def test_every_table_decides_as_before():
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    checked = 0
    for table in tables():
        expected = golden[table["name"]]
        found = contexts(table)
        assert len(found) == len(expected), table["name"]
        for context, before in zip(found, expected, strict=True):
            assert outcome(table, context) == before, (table["name"], context)
            checked += 1
    assert checked > 3000


def test_cells_are_feel_unary_tests():
    cell = rules.parse_cell('not("a", "b")')
    assert cell.feel.source == 'not("a", "b")' and cell.matches("c") and not cell.matches("a")
    assert not cell.matches(None)  # a missing value never passes a cell that does not name null
    assert rules.parse_cell("null").matches(None) and rules.parse_cell("-").matches(None)
    assert rules.parse_cell("[3000..30000]").matches(Decimal("30000"))
    assert not rules.parse_cell("[3000..30000]").matches(rules.UNUSABLE)
