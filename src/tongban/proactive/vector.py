"""Eligibility rules evaluated over many subjects at once: one FEEL condition, a column per name.

A matching run asks the same compiled conditions about a hundred thousand enterprises. Evaluated
one subject at a time that is ten million closure calls for a hundred policies; here the common
shapes of an eligibility condition — names compared with constants, ``between``, ``in`` lists and
ranges, ``and``/``or``/``not`` — become numpy operations over whole columns, with FEEL's rules for
missing values (tongban.rules) kept exactly: a three-valued result is two masks, ``true`` and
``false``, and a row in neither is null.

Anything else (arithmetic, functions of a name, paths, ``if``) is evaluated by the rule language's
own compiled expression, once per distinct combination of the values it reads, so the answer is
the reference compiler's by construction. Constants, ``today()`` included, are computed by that
compiler too. tests/proactive/test_vector.py compares both paths on generated data.

Columns are held factorised (`Factor`: a code per row into the list of distinct values): shared data
repeats the same few statuses, ratings, dates and amounts across a hundred thousand enterprises,
so types are checked and values converted once per distinct value, and a condition the column
evaluator does not take is evaluated once per distinct combination of codes, found with numpy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from tongban.rules import Expression
from tongban.rules import syntax as s
from tongban.rules.builtins import REGISTRY
from tongban.rules.compiler import Compiler, Scope
from tongban.rules.values import Range

NUMBER, STRING, BOOLEAN, DATE, EMPTY, OTHER = "number", "string", "boolean", "date", "empty", "other"
_FLOAT_EXACT = 2**53


class Fallback(Exception):
    """A part of the condition the column evaluator does not take; the row evaluator answers it."""


@dataclass
class Factor:
    """One name's values over all subjects, each distinct value stored once: row i holds
    ``distinct[codes[i]]``, and code 0 is null (``distinct[0] is None``)."""

    codes: np.ndarray
    distinct: list

    def __len__(self) -> int:
        return len(self.codes)

    def tolist(self) -> list:
        """The plain values, one per row."""
        return np.array(self.distinct, dtype=object)[self.codes].tolist()

    @classmethod
    def of(cls, values: list) -> Factor:
        """Factorise plain values. Values equal in Python but of different types (1, 1.0, True) get
        different codes; a value that cannot be hashed (a list, a context) gets a code of its own."""
        distinct: list = [None]
        seen: dict = {}
        codes = np.zeros(len(values), dtype=np.int32)
        for i, value in enumerate(values):
            if value is None:
                continue
            try:
                key = (type(value), value)
                code = seen.get(key)
            except TypeError:
                key, code = None, None
            if code is None:
                code = len(distinct)
                distinct.append(value)
                if key is not None:
                    seen[key] = code
            codes[i] = code
        return cls(codes, distinct)


@dataclass
class Column:
    """One name's values over all subjects: ``present`` marks non-null rows; ``values`` holds them
    (numbers as float64, dates as day ordinals, text as objects, booleans as bool)."""

    kind: str
    values: np.ndarray
    present: np.ndarray

    @classmethod
    def build(cls, factor: Factor) -> Column:
        """From a factorised column: kinds checked and values converted once per distinct value."""
        codes = factor.codes
        present = codes != 0
        values = factor.distinct[1:]
        kinds = {_kind_of(v) for v in values}
        if not kinds:
            return cls(EMPTY, np.zeros(len(codes)), present)
        if len(kinds) > 1 or OTHER in kinds:
            return cls(OTHER, np.empty(0), present)
        kind = kinds.pop()
        if kind == NUMBER:
            # exact as float64, so ordering and equality agree with FEEL's decimals
            if not all(_exact_number(v) for v in values):
                return cls(OTHER, np.empty(0), present)
            converted = np.array([0.0, *(float(v) for v in values)], dtype=np.float64)
        elif kind == DATE:
            converted = np.array([0, *(v.toordinal() for v in values)], dtype=np.int64)
        elif kind == BOOLEAN:
            converted = np.array([False, *values], dtype=bool)
        else:
            # fixed-width text compares in C, by code point as Python does; numpy drops trailing NULs
            dtype = object if any(v.endswith("\x00") for v in values) else None
            converted = np.array(["", *values], dtype=dtype)
        return cls(kind, converted[codes], present)


def _kind_of(value) -> str:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int | float | Decimal):
        return NUMBER
    if isinstance(value, str):
        return STRING
    if isinstance(value, dt.datetime):
        return OTHER
    if isinstance(value, dt.date):
        return DATE
    return OTHER


def _exact_number(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -_FLOAT_EXACT < value < _FLOAT_EXACT
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if isinstance(value, Decimal):
        return value.is_finite() and Decimal(repr(float(value))) == value
    return False


# A three-valued column: (true, false); a row in neither is null.
Tri = tuple[np.ndarray, np.ndarray]


class Evaluator:
    """Evaluates compiled conditions over a table of columns (name → `Factor`, or a list of plain
    values, factorised on first use)."""

    def __init__(self, table: dict[str, Factor | list], size: int):
        self.table = table
        self.size = size
        self.factors: dict[str, Factor] = {}
        self.columns: dict[str, Column] = {}
        self.done: dict[str, Tri] = {}
        self.vectorised = 0
        self.row_wise = 0

    def factor(self, name: str) -> Factor | None:
        found = self.factors.get(name)
        if found is None:
            raw = self.table.get(name)
            if raw is None:
                return None
            found = raw if isinstance(raw, Factor) else Factor.of(raw)
            self.factors[name] = found
        return found

    def column(self, name: str) -> Column:
        found = self.columns.get(name)
        if found is None:
            factor = self.factor(name)
            if factor is None:
                found = Column(EMPTY, np.zeros(self.size), self._none())
            else:
                found = Column.build(factor)
            self.columns[name] = found
        return found

    def _none(self) -> np.ndarray:
        return np.zeros(self.size, dtype=bool)

    def _all(self) -> np.ndarray:
        return np.ones(self.size, dtype=bool)

    # -- entry point ---------------------------------------------------------------------------

    def evaluate(self, expression: Expression) -> Tri:
        """The condition's value for every row, as (true, false) masks; a condition several policies
        share (the same text) is evaluated once."""
        found = self.done.get(expression.source)
        if found is None:
            try:
                found = _Walk(self, expression).truth(expression.tree)
                self.vectorised += 1
            except Fallback:
                found = self._row_wise(expression)
                self.row_wise += 1
            self.done[expression.source] = found
        return found

    def _row_wise(self, expression: Expression) -> Tri:
        """The reference evaluator, once per distinct combination of the values the condition reads
        (rows with the same codes hold the same values)."""
        names = sorted(n for n in expression.names if self.factor(n) is not None)
        factors = [self.factor(n) for n in names]
        if factors:
            combinations, inverse = np.unique(
                np.stack([f.codes for f in factors], axis=1), axis=0, return_inverse=True
            )
        else:
            combinations, inverse = np.zeros((1, 0), dtype=np.int32), np.zeros(self.size, dtype=np.intp)
        verdicts = np.full(len(combinations), 2, dtype=np.int8)  # 1 true, 0 false, 2 null
        for n, codes in enumerate(combinations.tolist()):
            data = {name: f.distinct[c] for name, f, c in zip(names, factors, codes, strict=True)}
            value = expression.evaluate(data)
            if type(value) is bool:
                verdicts[n] = value
        per_row = verdicts[inverse.reshape(-1)]
        return per_row == 1, per_row == 0


class _Walk:
    def __init__(self, evaluator: Evaluator, expression: Expression):
        self.ev = evaluator
        self.source = expression.source

    # -- values: a column, or a constant ---------------------------------------------------------

    def value(self, node: s.Node) -> Column:
        if isinstance(node, s.Name):
            if node.name in REGISTRY and node.name not in self.ev.table:
                raise Fallback  # a built-in function as a value
            return self.ev.column(node.name)
        return self.broadcast(self.constant(node))

    def constant(self, node: s.Node):
        """The value of a sub-expression that reads no names (``date("2024-01-01")``, ``today()``),
        computed once by the rule language's own compiler."""
        called = {id(n.function) for n in node.walk() if isinstance(n, s.Call)}
        for inner in node.walk():
            if isinstance(inner, s.InputValue) or (isinstance(inner, s.Name) and id(inner) not in called):
                raise Fallback
            if isinstance(inner, s.Filter | s.FunctionDefinition | s.For | s.Quantified | s.ContextNode):
                raise Fallback
        try:
            return Compiler(self.source).compile(node)(Scope())
        except Exception:
            raise Fallback from None

    def broadcast(self, value) -> Column:
        n = self.ev.size
        if value is None:
            return Column(EMPTY, np.zeros(n), np.zeros(n, dtype=bool))
        kind = _kind_of(value)
        if kind == NUMBER:
            if not _exact_number(value):
                raise Fallback
            return Column(NUMBER, np.full(n, float(value)), np.ones(n, dtype=bool))
        if kind == DATE:
            return Column(DATE, np.full(n, value.toordinal(), dtype=np.int64), np.ones(n, dtype=bool))
        if kind == BOOLEAN:
            return Column(BOOLEAN, np.full(n, bool(value)), np.ones(n, dtype=bool))
        if kind == STRING:
            if value.endswith("\x00"):  # numpy's fixed-width text would drop it
                values = np.empty(n, dtype=object)
                values.fill(value)
            else:
                values = np.full(n, value)
            return Column(STRING, values, np.ones(n, dtype=bool))
        raise Fallback

    # -- truth: three-valued masks ------------------------------------------------------------------

    def truth(self, node: s.Node) -> Tri:
        if isinstance(node, s.And):
            lt, lf = self.truth(node.left)
            rt, rf = self.truth(node.right)
            return lt & rt, lf | rf
        if isinstance(node, s.Or):
            lt, lf = self.truth(node.left)
            rt, rf = self.truth(node.right)
            return lt | rt, lf & rf
        if isinstance(node, s.Comparison):
            return self.compare(node.op, self.value(node.left), self.value(node.right))
        if isinstance(node, s.Between):
            x = self.value(node.value)
            lt, lf = self.compare("<=", self.value(node.low), x)
            rt, rf = self.compare("<=", x, self.value(node.high))
            return lt & rt, lf | rf
        if isinstance(node, s.In):
            return self.membership(node)
        if (
            isinstance(node, s.Call)
            and isinstance(node.function, s.Name)
            and node.function.name == "not"
            and node.names is None
            and len(node.args) == 1
        ):
            t, f = self.truth(node.args[0])
            return f, t
        if isinstance(node, s.Name):
            column = self.value(node)
            if column.kind == BOOLEAN:
                return column.present & column.values, column.present & ~column.values
            if column.kind in (EMPTY, NUMBER, STRING, DATE):
                return self.ev._none(), self.ev._none()  # null, or not a boolean: neither true nor false
            raise Fallback
        value = self.constant(node)
        if value is True:
            return self.ev._all(), self.ev._none()
        if value is False:
            return self.ev._none(), self.ev._all()
        return self.ev._none(), self.ev._none()

    def compare(self, op: str, a: Column, b: Column) -> Tri:
        """FEEL's =, !=, <, <=, >, >= between two columns (constants broadcast)."""
        if OTHER in (a.kind, b.kind):
            raise Fallback
        both = a.present & b.present
        none = self.ev._none()
        same = a.kind == b.kind and a.kind != EMPTY
        if op in ("=", "!="):
            neither = ~a.present & ~b.present
            one_missing = a.present ^ b.present
            if same:
                eq = both & (a.values == b.values)
                ne = both & (a.values != b.values)
            else:  # values of different types are neither equal nor unequal
                eq, ne = none, none
            eq = eq | neither
            ne = ne | one_missing
            return (eq, ne) if op == "=" else (ne, eq)
        if not same or a.kind == BOOLEAN:
            return none, none.copy()
        av, bv = a.values, b.values
        if op == "<":
            holds = av < bv
        elif op == "<=":
            holds = av <= bv
        elif op == ">":
            holds = av > bv
        else:
            holds = av >= bv
        holds = np.asarray(holds, dtype=bool)
        return both & holds, both & ~holds

    def membership(self, node: s.In) -> Tri:
        """``x in (tests)``: true when a test holds, false when all are false, else null."""
        x = self.value(node.value)
        if x.kind == OTHER:
            raise Fallback
        any_true, all_false = self.ev._none(), self.ev._all()
        for test in node.tests:
            t, f = self.positive(test, x)
            any_true |= t
            all_false &= f
        return any_true, all_false & ~any_true

    def positive(self, test: s.PositiveTest, x: Column) -> Tri:
        if test.op is not None:
            return self.compare(test.op, x, self.value(test.operand))
        for inner in test.operand.walk():
            if isinstance(inner, s.InputValue):
                raise Fallback
        operand = self.constant(test.operand)
        return self.value_test(operand, x)

    def value_test(self, expected, x: Column) -> Tri:
        if isinstance(expected, Range):
            return self.in_range(expected, x)
        if isinstance(expected, list):
            if any(isinstance(item, list | dict) for item in expected):
                raise Fallback
            hit = self.ev._none()
            for item in expected:
                if isinstance(item, Range):
                    t, _f = self.in_range(item, x)
                else:
                    t, _f = self.compare("=", x, self.broadcast(item))
                hit |= t
            missing = ~x.present
            if None in expected:  # a missing value is in a list that holds null
                return hit, ~hit
            # A missing value is not known to be outside the list; other values not found are outside.
            return hit, ~hit & ~missing
        return self.compare("=", x, self.broadcast(expected))

    def in_range(self, r, x: Column) -> Tri:
        none = self.ev._none()
        ends = [
            e for e, unbounded in ((r.start, r.start_unbounded), (r.end, r.end_unbounded)) if not unbounded
        ]
        if not ends:
            return self.ev._all(), none
        low_t = self.ev._all()
        if not r.start_unbounded:
            low_t, _lf = self.compare("<" if not r.start_included else "<=", self.broadcast(r.start), x)
        high_t = self.ev._all()
        if not r.end_unbounded:
            high_t, _hf = self.compare("<" if not r.end_included else "<=", x, self.broadcast(r.end))
        kinds = {_kind_of(e) for e in ends}
        if len(kinds) != 1 or x.kind not in kinds:
            return none, none.copy()  # nothing comparable with the ends: null for every row
        known = x.present
        holds = low_t & high_t
        return holds, known & ~holds
