"""rules_speed: evaluations per second of compiled rules, against the languages they will replace.

Measured in the same process, after compilation (both sides cache their compiled forms):
- a typical 秒批 decision table, 10 rules × 5 inputs (age, residence, ID verified, income,
  application date), evaluated by tongban.rules as a DMN model and by today's cases/rules.py;
- a gateway condition (``amount > 500000 and kind = "enterprise"``), evaluated by tongban.rules,
  directly and through workflow/expressions.py (the older syntax, rewritten into FEEL since
  gateway conditions moved onto tongban.rules; printed, not compared: it is the same engine).

Each side runs the same mix of applications (approved, sent to a person, missing data). The BENCH
figure is the table's evaluations per second; the ratio is ours/theirs for the table.
Target: ratio ≥ 1 (at least as fast as today).
"""

import datetime as dt
import os
import secrets
import sys
import time

ROUNDS = 20_000

TABLE = {
    "name": "老年人优待证秒批",
    "hit_policy": "FIRST",
    "inputs": [
        {"key": "data.age", "label": "年龄", "type": "number"},
        {"key": "data.district", "label": "户籍区县", "type": "string"},
        {"key": "check.id_valid", "label": "身份核验", "type": "boolean"},
        {"key": "data.income", "label": "月收入", "type": "number"},
        {"key": "data.applied", "label": "申请日期", "type": "date"},
    ],
    "outputs": [{"key": "decision", "label": "结论", "type": "string"}],
    "rules": [
        {"id": f"r{i}", "when": when, "then": [then]}
        for i, (when, then) in enumerate(
            [
                (["< 60", "-", "-", "-", "-"], "manual"),
                (["-", "-", "false", "-", "-"], "manual"),
                (["[60..69]", '"511602","511603"', "true", "< 3000", '>= date("2026-01-01")'], "approve"),
                (["[70..79]", '"511602","511603"', "true", "< 5000", '>= date("2026-01-01")'], "approve"),
                (["[80..150]", '"511602","511603"', "true", "-", '>= date("2026-01-01")'], "approve"),
                (["[60..69]", '"511621"', "true", "< 2500", '>= date("2026-01-01")'], "approve"),
                (["[70..150]", '"511621"', "true", "< 4000", '>= date("2026-01-01")'], "approve"),
                (["[60..150]", 'not("511602","511603","511621")', "true", "-", "-"], "manual"),
                (["-", "-", "true", ">= 20000", "-"], "manual"),
                (["-", "-", "-", "-", "-"], "manual"),
            ],
            start=1,
        )
    ],
}

APPLICATIONS = [
    ({"age": 65, "district": "511602", "income": 2000, "applied": "2026-03-01"}, {"id_valid": True}),
    ({"age": 85, "district": "511603", "income": 9000, "applied": "2026-03-01"}, {"id_valid": True}),
    ({"age": 72, "district": "511621", "income": 6000, "applied": "2026-03-01"}, {"id_valid": True}),
    ({"age": 45, "district": "511602", "income": 2000, "applied": "2026-03-01"}, {"id_valid": True}),
    ({"age": 66, "district": "511602", "applied": "2026-03-01"}, {"id_valid": False}),
    ({"district": "511602"}, {}),
]


def dmn_document() -> bytes:
    """The same table as a DMN 1.5 model, inputs read from the form (data) and the checks (check)."""
    cells_in = []
    for rule in TABLE["rules"]:
        entries = "".join(f"<inputEntry><text>{_xml(c)}</text></inputEntry>" for c in rule["when"])
        cells_in.append(
            f'<rule id="{rule["id"]}">{entries}'
            f'<outputEntry><text>"{rule["then"][0]}"</text></outputEntry></rule>'
        )
    types = {"number": "number", "string": "string", "boolean": "boolean", "date": "date"}
    inputs = "".join(
        f'<input label="{c["label"]}"><inputExpression typeRef="{types[c["type"]]}"><text>{c["key"]}</text>'
        "</inputExpression></input>"
        for c in TABLE["inputs"]
    )
    return (
        '<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" name="t" namespace="urn:t">'
        '<itemDefinition name="tData"><itemComponent name="age"><typeRef>number</typeRef></itemComponent>'
        '<itemComponent name="district"><typeRef>string</typeRef></itemComponent>'
        '<itemComponent name="income"><typeRef>number</typeRef></itemComponent>'
        '<itemComponent name="applied"><typeRef>date</typeRef></itemComponent></itemDefinition>'
        '<itemDefinition name="tCheck">'
        '<itemComponent name="id_valid"><typeRef>boolean</typeRef></itemComponent>'
        "</itemDefinition>"
        '<inputData id="data" name="data"><variable name="data" typeRef="tData"/></inputData>'
        '<inputData id="check" name="check"><variable name="check" typeRef="tCheck"/></inputData>'
        '<decision id="decision" name="decision"><decisionTable hitPolicy="FIRST">'
        f'{inputs}<output name="decision" typeRef="string"/>{"".join(cells_in)}</decisionTable></decision>'
        "</definitions>"
    ).encode()


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def rate(fn, rounds: int) -> float:
    fn()  # warm: compile and cache
    start = time.perf_counter()
    for _ in range(rounds):
        fn()
    return rounds / (time.perf_counter() - start)


def main() -> int:
    os.environ.setdefault("TONGBAN_SECRET_KEY", secrets.token_hex(32))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()  # settings only; no database is touched
    from tongban.cases import rules as old_tables
    from tongban.rules import dmn
    from tongban.rules.feel import compile_expression
    from tongban.workflow import expressions as old_conditions

    model = dmn.load(dmn_document())
    old_table = old_tables.compile_table(TABLE)

    # Both engines must decide the same cases the same way before their speed means anything.
    for data, check in APPLICATIONS:
        ours = model.evaluate({"data": data, "check": check}).value("decision")
        theirs = old_tables.evaluate(old_table, {"data": data, "check": check})
        expected = theirs.decision if theirs.cause == "rule" else "manual"
        if (ours or "manual") != expected:
            print(f"the engines disagree on {data}, {check}: {ours} vs {expected}", file=sys.stderr)
            print("BENCH rules_speed 0 evals/s ratio=- target=ratio>=1 FAIL", flush=True)
            return 1
    contexts = [
        {"data": dict(d, applied=dt.date.fromisoformat(d["applied"])) if "applied" in d else d, "check": c}
        for d, c in APPLICATIONS
    ]
    count = len(contexts)

    def ours_table():
        for context in contexts:
            model.evaluate(context)

    def old_table_run():
        for context in contexts:
            old_tables.evaluate(old_table, context)

    condition = compile_expression('amount > 500000 and kind = "enterprise"')
    old_condition = old_conditions.compile_condition('amount > 500000 and kind == "enterprise"')
    samples = [{"amount": 600000, "kind": "enterprise"}, {"amount": 100, "kind": "person"}, {}]

    def ours_condition():
        for sample in samples:
            condition.holds(sample)

    def old_condition_run():
        for sample in samples:
            old_condition.evaluate(sample)

    table_ours = rate(ours_table, ROUNDS // count) * count
    table_old = rate(old_table_run, ROUNDS // count) * count
    cond_ours = rate(ours_condition, ROUNDS * 5 // len(samples)) * len(samples)
    cond_old = rate(old_condition_run, ROUNDS * 5 // len(samples)) * len(samples)
    print(
        f"秒批 table 10 rules × 5 inputs: tongban.rules (DMN) {table_ours:,.0f}/s, "
        f"cases/rules.py {table_old:,.0f}/s"
    )
    print(
        f"gateway condition: tongban.rules (FEEL) {cond_ours:,.0f}/s, "
        f"through workflow/expressions.py (older syntax as FEEL) {cond_old:,.0f}/s"
    )
    ratio = table_ours / table_old
    passed = ratio >= 1
    verdict = "PASS" if passed else "FAIL"
    print(
        f"BENCH rules_speed {table_ours:.1f} evals/s ratio={ratio:.2f} target=ratio>=1 {verdict}", flush=True
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
