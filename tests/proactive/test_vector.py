"""The column evaluator agrees with the rule language's own, row by row, on generated data: every
condition shape it vectorises, every missing-value case, and the shapes it hands back."""

import datetime as dt
import random
from decimal import Decimal

import pytest

from tongban.proactive.vector import Evaluator
from tongban.rules import compile_expression

SIZE = 400


def _table(seed: int) -> dict[str, list]:
    rng = random.Random(seed)

    def maybe(value):
        return None if rng.random() < 0.15 else value

    return {
        "employees": [maybe(rng.randrange(0, 400)) for _ in range(SIZE)],
        "rate": [maybe(round(rng.random() * 10, 2)) for _ in range(SIZE)],
        "status": [maybe(rng.choice(["存续", "注销", "吊销"])) for _ in range(SIZE)],
        "arrears": [maybe(rng.random() < 0.2) for _ in range(SIZE)],
        "founded": [
            maybe(dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(0, 4000))) for _ in range(SIZE)
        ],
        "capital": [maybe(Decimal(rng.randrange(0, 5000)) / 10) for _ in range(SIZE)],
        # a name whose values are of two kinds: only the row evaluator takes it
        "mixed": [maybe(rng.choice([1, "1", True])) for _ in range(SIZE)],
    }


CONDITIONS = [
    "employees <= 100",
    "100 > employees",
    "employees = 0",
    "employees != 5",
    "employees = null",
    "null != employees",
    "employees between 10 and 300",
    "rate < 5.5 and employees >= 20",
    "rate < 5.5 or arrears",
    "not(arrears)",
    "arrears = false",
    "arrears != true",
    "arrears",
    'status = "存续"',
    'status != "存续"',
    'status in ["存续", "吊销"]',
    'status in ["存续", null]',
    'status in ("存续", "注销")',
    'status < "存"',
    "employees in [1..50]",
    "employees in (< 10, > 300)",
    "employees in (1..50]",
    "employees in [1, 2, 3, [4..9]]",
    'founded >= date("2020-01-01")',
    'founded in [date("2018-01-01")..date("2021-12-31")]',
    'founded > today() - duration("P3Y")',
    'employees = "10"',
    "employees < true",
    "status > 5",
    "capital >= 250.5",
    "capital * 2 > 300",
    "mixed = 1",
    'mixed != "1"',
    "employees + rate > 50",
    "if arrears then false else employees < 100",
    'not(employees > 10 and status = "存续") or rate >= 9',
    "unknown_name > 3",
    "unknown_name = null",
    "true",
    "1 = 2",
    "arrears and arrears",
]


@pytest.mark.parametrize("source", CONDITIONS)
@pytest.mark.parametrize("seed", [1, 2])
def test_columns_agree_with_the_rule_language_row_by_row(source, seed):
    table = _table(seed)
    expression = compile_expression(source)
    true, false = Evaluator(table, SIZE).evaluate(expression)
    for i in range(SIZE):
        row = {name: values[i] for name, values in table.items()}
        value = expression.evaluate(row)
        expected = value if type(value) is bool else None
        got = True if true[i] else False if false[i] else None
        assert not (true[i] and false[i])
        assert got is expected, (source, row, expected, got)


def test_common_shapes_are_vectorised_and_the_rest_evaluated_per_distinct_value():
    table = _table(3)
    evaluator = Evaluator(table, SIZE)
    for source in ["employees <= 100", 'status in ["存续"]', "not(arrears)", 'founded >= date("2020-01-01")']:
        evaluator.evaluate(compile_expression(source))
    assert (evaluator.vectorised, evaluator.row_wise) == (4, 0)
    for source in ["capital * 2 > 300", "mixed = 1"]:
        evaluator.evaluate(compile_expression(source))
    assert (evaluator.vectorised, evaluator.row_wise) == (4, 2)
