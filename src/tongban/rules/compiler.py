"""Turning a FEEL syntax tree into Python closures, once, so that evaluating it is a few calls.

Each node becomes a function of the scope (a dict of names to FEEL values); constant sub-trees
(``date("2026-01-01")``, ``1 + 2``) are computed when the expression is compiled. Unary tests
become functions of the tested value that answer True, False or None (unknown), with fast paths for
the comparisons with constants that fill most decision tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Formatted

from . import syntax as s
from .builtins import REGISTRY
from .errors import EvaluationError, FeelSyntaxError, FeelUnsupported, NotRepresentable
from .values import (
    DaysTime,
    Function,
    Range,
    YearsMonths,
    add,
    compare,
    divide,
    equal,
    from_python,
    multiply,
    negate,
    parse_date,
    parse_date_time,
    parse_duration,
    parse_time,
    power,
    subtract,
    type_name,
)

MAX_ITERATIONS = 100_000  # items a for/some/every may visit in one evaluation

_MISSING = object()
_IMPURE = frozenset({"now", "today"})
Compiled = Callable[["Scope"], object]
Test = Callable[[object, "Scope"], "bool | None"]


class Scope(dict):
    """Names → FEEL values. Values a caller passed (``raw``) are converted on first use, so a large
    case form costs nothing for the fields an expression never reads. A name nobody defined is null."""

    __slots__ = ("raw",)

    def __init__(self, values=(), raw=None):
        super().__init__(values)
        self.raw = raw

    def __missing__(self, key):
        raw = self.raw
        value = from_python(raw[key]) if raw is not None and key in raw else None
        self[key] = value
        return value

    def child(self, bindings: dict | None = None) -> Scope:
        scope = Scope(self, self.raw)
        if bindings:
            scope.update(bindings)
        return scope


def _constant(value) -> Compiled:
    def constant(_env):
        return value

    constant.value = value  # type: ignore[attr-defined]
    return constant


def _is_constant(fn) -> bool:
    return hasattr(fn, "value")


class Compiler:
    """Compiles one expression. ``functions`` are names that hold functions although nothing in the
    expression defines them (a DMN model's knowledge models)."""

    def __init__(self, source: str, functions: frozenset[str] = frozenset()):
        self.source = source
        self.functions = functions
        self.bound: list[set[str]] = [set()]
        self.free: set[str] = set()
        self.uses_input = False

    def error(self, node: s.Node, problem) -> FeelSyntaxError:
        return FeelSyntaxError(self.source, node.pos or 1, problem)

    def is_bound(self, name: str) -> bool:
        return any(name in frame for frame in self.bound)

    def compile(self, node: s.Node) -> Compiled:
        method = getattr(self, "_" + type(node).__name__)
        fn = method(node)
        return fn

    def fold(self, node: s.Node, fn: Compiled, *parts: Compiled) -> Compiled:
        """``fn`` computed now when all its parts are constants."""
        if all(_is_constant(p) for p in parts):
            try:
                return _constant(fn(Scope()))
            except EvaluationError as exc:  # a value this engine cannot hold, or a feature it refuses
                raise FeelUnsupported(self.source, node.pos or 1, exc.message) from None
        return fn

    # -- leaves --------------------------------------------------------------------------------

    def _Literal(self, node: s.Literal) -> Compiled:
        return _constant(node.value)

    def _TemporalLiteral(self, node: s.TemporalLiteral) -> Compiled:
        text = node.text
        value = self._temporal(text)
        if value is None:
            raise self.error(node, Formatted(_("“%(text)s” is not a date, time or duration"), {"text": text}))
        return _constant(value)

    def _temporal(self, text: str):
        try:
            if text.startswith(("P", "-P")):
                return parse_duration(text)
            if "T" in text:
                return parse_date_time(text)
            if ":" in text:
                return parse_time(text)
            return parse_date(text)
        except NotRepresentable as exc:
            raise FeelUnsupported(self.source, 1, exc.message) from None

    def _InputValue(self, node: s.InputValue) -> Compiled:
        self.uses_input = True

        def input_value(env):
            return env["?"]

        return input_value

    def _Name(self, node: s.Name) -> Compiled:
        name = node.name
        if not self.is_bound(name):
            self.free.add(name)
        builtin = REGISTRY.get(name)
        if builtin is not None:

            def name_or_builtin(env):
                value = env[name]
                return builtin if value is None else value

            return name_or_builtin

        def lookup(env):
            return env[name]

        return lookup

    # -- postfix -------------------------------------------------------------------------------

    def _Path(self, node: s.Path) -> Compiled:
        target = self.compile(node.target)
        member = node.member

        def path(env):
            return member_of(target(env), member)

        return self.fold(node, path, target)

    def _Filter(self, node: s.Filter) -> Compiled:
        target = self.compile(node.target)
        self.bound.append({"item"})
        try:
            condition = self.compile(node.condition)
        finally:
            self.bound.pop()
        if _is_constant(condition) and type(condition.value) is Decimal:
            index = condition.value

            def pick(env):
                items = target(env)
                if not isinstance(items, list):
                    items = [items]
                return _at(items, index)

            return pick

        def filter_(env):
            items = target(env)
            if items is None:
                return None
            if not isinstance(items, list):
                items = [items]
            kept = []
            for position, item in enumerate(items):
                scope = env.child({"item": item})
                if isinstance(item, dict):
                    scope.update(item)
                    scope["item"] = item.get("item", item)
                verdict = condition(scope)
                if position == 0 and type(verdict) is Decimal:
                    return _at(items, verdict)  # a number is an index, not a condition
                if verdict is True:
                    kept.append(item)
            return kept

        return filter_

    def _Call(self, node: s.Call) -> Compiled:
        target = node.function
        if isinstance(target, s.Name):
            name = target.name
            if name not in REGISTRY and not self.is_bound(name) and name not in self.functions:
                raise self.error(
                    target,
                    Formatted(_("“%(name)s” is not a function of this FEEL subset"), {"name": name}),
                )
        function = self.compile(target)
        args = [self.compile(a) for a in node.args]
        names = node.names
        named_builtin = isinstance(target, s.Name) and target.name in REGISTRY and names is not None
        if named_builtin and REGISTRY[target.name].bind(names, [None] * len(names)) is None:
            raise self.error(
                node,
                Formatted(
                    _("%(name)s() has no parameters named %(params)s"),
                    {"name": target.name, "params": ", ".join(names)},
                ),
            )

        def call(env):
            fn = function(env)
            if not isinstance(fn, Function):
                return None
            values = [a(env) for a in args]
            if names is not None:
                values = fn.bind(names, values)
                if values is None:
                    return None
            elif not fn.variadic:
                required = sum(1 for p in fn.params if not p.endswith("?"))
                if not fn.overloads and not required <= len(values) <= len(fn.params):
                    return None
            return fn.call(values)

        pure = isinstance(target, s.Name) and target.name in REGISTRY and target.name not in _IMPURE
        if pure and not self.is_bound(target.name):
            return self.fold(node, call, *args)
        return call

    # -- operators -----------------------------------------------------------------------------

    def _Negation(self, node: s.Negation) -> Compiled:
        operand = self.compile(node.operand)

        def negation(env):
            return negate(operand(env))

        return self.fold(node, negation, operand)

    _ARITHMETIC = {"+": add, "-": subtract, "*": multiply, "/": divide, "**": power}

    def _Arithmetic(self, node: s.Arithmetic) -> Compiled:
        left, right = self.compile(node.left), self.compile(node.right)
        op = self._ARITHMETIC[node.op]

        def arithmetic(env):
            return op(left(env), right(env))

        return self.fold(node, arithmetic, left, right)

    def _Comparison(self, node: s.Comparison) -> Compiled:
        left, right = self.compile(node.left), self.compile(node.right)
        test = comparison_test(node.op)

        def comparison(env):
            return test(left(env), right(env))

        return self.fold(node, comparison, left, right)

    def _Between(self, node: s.Between) -> Compiled:
        value, low, high = self.compile(node.value), self.compile(node.low), self.compile(node.high)

        def between(env):
            x = value(env)
            return and3(_le(low(env), x), _le(x, high(env)))

        return self.fold(node, between, value, low, high)

    def _In(self, node: s.In) -> Compiled:
        value = self.compile(node.value)
        tests = [self.positive_test(t) for t in node.tests]

        def in_(env):
            return disjunction(tests, value(env), env)

        return in_

    def _InstanceOf(self, node: s.InstanceOf) -> Compiled:
        value = self.compile(node.value)
        wanted = node.type_name
        if wanted not in _TYPE_NAMES:
            raise self.error(
                node, Formatted(_("“%(type)s” is not a type of this FEEL subset"), {"type": wanted})
            )

        def instance_of(env):
            found = type_name(value(env))
            if wanted == "Any":
                return found != "Null"
            return found == wanted

        return instance_of

    def _And(self, node: s.And) -> Compiled:
        left, right = self.compile(node.left), self.compile(node.right)

        def and_(env):
            a = left(env)
            if a is False:
                return False
            return and3(a, right(env))

        return self.fold(node, and_, left, right)

    def _Or(self, node: s.Or) -> Compiled:
        left, right = self.compile(node.left), self.compile(node.right)

        def or_(env):
            a = left(env)
            if a is True:
                return True
            return or3(a, right(env))

        return self.fold(node, or_, left, right)

    # -- textual -------------------------------------------------------------------------------

    def _If(self, node: s.If) -> Compiled:
        condition, then, otherwise = (
            self.compile(node.condition),
            self.compile(node.then),
            self.compile(node.otherwise),
        )

        def if_(env):
            return then(env) if condition(env) is True else otherwise(env)

        return if_

    def _iterations(self, iterations) -> list[tuple[str, Compiled, Compiled | None]]:
        compiled = []
        frame: set[str] = set()
        self.bound.append(frame)
        for iteration in iterations:
            domain = self.compile(iteration.domain)
            end = self.compile(iteration.end) if iteration.end is not None else None
            compiled.append((iteration.name, domain, end))
            frame.add(iteration.name)
        return compiled

    def _For(self, node: s.For) -> Compiled:
        iterations = self._iterations(node.iterations)
        self.bound[-1].add("partial")
        try:
            body = self.compile(node.body)
        finally:
            self.bound.pop()

        def for_(env):
            results: list = []
            for scope in _bindings(iterations, env):
                if scope is None:
                    return None
                scope["partial"] = results
                results.append(body(scope))
            return results

        return for_

    def _Quantified(self, node: s.Quantified) -> Compiled:
        iterations = self._iterations(node.iterations)
        try:
            condition = self.compile(node.condition)
        finally:
            self.bound.pop()
        every = node.kind == "every"

        def quantified(env):
            for scope in _bindings(iterations, env):
                if scope is None:
                    return None
                verdict = condition(scope) is True
                if verdict != every:
                    return verdict
            return every

        return quantified

    def _ListNode(self, node: s.ListNode) -> Compiled:
        items = [self.compile(i) for i in node.items]

        def list_(env):
            return [i(env) for i in items]

        return self.fold(node, list_, *items)

    def _ContextNode(self, node: s.ContextNode) -> Compiled:
        frame: set[str] = set()
        self.bound.append(frame)
        entries = []
        try:
            for key, value in node.entries:
                entries.append((key, self.compile(value)))
                frame.add(key)
        finally:
            self.bound.pop()

        def context(env):
            scope = env.child()
            result = {}
            for key, value in entries:
                result[key] = scope[key] = value(scope)
            return result

        return context

    def _RangeNode(self, node: s.RangeNode) -> Compiled:
        start, end = self.compile(node.start), self.compile(node.end)
        start_included, end_included = node.start_included, node.end_included

        def range_(env):
            low, high = start(env), end(env)
            if low is not None and high is not None and compare(low, high) is None:
                return None  # ends of different kinds
            return Range(low, high, start_included, end_included)

        return self.fold(node, range_, start, end)

    def _FunctionDefinition(self, node: s.FunctionDefinition) -> Compiled:
        params = node.params
        self.bound.append(set(params))
        try:
            body = self.compile(node.body)
        finally:
            self.bound.pop()

        def definition(env):
            def call(args):
                return body(env.child(dict(zip(params, args, strict=False))))

            return Function("anonymous", params, call)

        return definition

    # -- unary tests ---------------------------------------------------------------------------

    def positive_test(self, node: s.PositiveTest) -> Test:
        was_using = self.uses_input
        self.uses_input = False
        operand = self.compile(node.operand)
        uses_input = self.uses_input
        self.uses_input = was_using or uses_input
        if node.op is not None:
            return _comparison_with(node.op, operand)
        if uses_input:

            def boolean_test(x, env):
                verdict = operand(env.child({"?": x}))
                return verdict if type(verdict) is bool else None

            return boolean_test
        if _is_constant(operand):
            return _constant_test(operand.value)

        def expression_test(x, env):
            return value_test(operand(env), x)

        return expression_test

    def _UnaryTests(self, node: s.UnaryTests) -> Test:
        if node.is_any:
            return _any_value
        tests = [self.positive_test(t) for t in node.tests]
        if len(tests) == 1 and not node.negated:
            return tests[0]
        if node.negated:

            def negated(x, env):
                verdict = disjunction(tests, x, env)
                return None if verdict is None else not verdict

            return negated

        def any_of(x, env):
            return disjunction(tests, x, env)

        return any_of


def _any_value(_x, _env):
    return True


def _at(items: list, index) -> object:
    if type(index) is not Decimal or index != index.to_integral_value():
        return None
    position = int(index)
    if position > 0 and position <= len(items):
        return items[position - 1]
    if position < 0 and -position <= len(items):
        return items[position]
    return None


def _domain(domain, end, env) -> list | None:
    """The values an iteration visits: a list, a range of integers or of dates; None otherwise."""
    start = domain(env)
    if end is not None:
        return _steps(start, end(env), True, True)
    if isinstance(start, list):
        return start
    if isinstance(start, Range):
        if start.start_unbounded or start.end_unbounded:
            return None
        return _steps(start.start, start.end, start.start_included, start.end_included, ascending_only=True)
    if start is None:
        return None
    return [start]


def _steps(
    first, last, first_included: bool, last_included: bool, ascending_only: bool = False
) -> list | None:
    if type(first) is Decimal and type(last) is Decimal:
        if first != first.to_integral_value() or last != last.to_integral_value():
            return None
        a, b = int(first), int(last)
        make = Decimal
    elif type(first) is dt.date and type(last) is dt.date:
        a, b = first.toordinal(), last.toordinal()
        make = dt.date.fromordinal
    else:
        return None  # FEEL iterates over ranges of numbers and dates only
    if ascending_only and a > b:
        return None
    step = 1 if b >= a else -1
    if not first_included:
        a += step
    if not last_included:
        b -= step
    if abs(b - a) >= MAX_ITERATIONS:
        return None
    if (b - a) * step < 0:
        return []
    return [make(i) for i in range(a, b + step, step)]


def _bindings(iterations, env, index: int = 0, visited: list | None = None):
    """Scopes for every combination of the iteration domains, later domains seeing earlier names;
    one None when a domain is not something FEEL iterates over."""
    if visited is None:
        visited = [0]
    if index == len(iterations):
        visited[0] += 1
        yield env if visited[0] <= MAX_ITERATIONS else None
        return
    name, domain, end = iterations[index]
    values = _domain(domain, end, env)
    if values is None:
        yield None
        return
    for value in values:
        for scope in _bindings(iterations, env.child({name: value}), index + 1, visited):
            yield scope
            if scope is None:
                return


_TYPE_NAMES = frozenset(
    {
        "Any", "Null", "number", "string", "boolean", "date", "time", "date and time",
        "years and months duration", "days and time duration", "list", "context", "range", "function",
    }
)  # fmt: skip


# --- three-valued logic and comparison --------------------------------------------------------


def and3(a, b):
    if a is False or b is False:
        return False
    if a is True and b is True:
        return True
    return None


def or3(a, b):
    if a is True or b is True:
        return True
    if a is False and b is False:
        return False
    return None


def _le(a, b):
    order = compare(a, b)
    return None if order is None else order <= 0


def _ne(a, b):
    same = equal(a, b)
    return None if same is None else not same


def _lt(a, b):
    order = compare(a, b)
    return None if order is None else order < 0


def _gt(a, b):
    order = compare(a, b)
    return None if order is None else order > 0


def _ge(a, b):
    order = compare(a, b)
    return None if order is None else order >= 0


_COMPARISONS = {"=": equal, "!=": _ne, "<": _lt, "<=": _le, ">": _gt, ">=": _ge}


def comparison_test(op: str):
    return _COMPARISONS[op]


def _comparison_with(op: str, operand: Compiled) -> Test:
    """``< 18`` as a test of x. With a constant number or text, the common case is one Python compare."""
    test = _COMPARISONS[op]
    if _is_constant(operand):
        c = operand.value
        kind = type(c)
        if kind in (Decimal, str):
            if op == "<":
                return lambda x, _e: (x < c) if type(x) is kind else test(x, c)
            if op == "<=":
                return lambda x, _e: (x <= c) if type(x) is kind else test(x, c)
            if op == ">":
                return lambda x, _e: (x > c) if type(x) is kind else test(x, c)
            if op == ">=":
                return lambda x, _e: (x >= c) if type(x) is kind else test(x, c)
        return lambda x, _e: test(x, c)
    return lambda x, env: test(x, operand(env))


def _constant_test(c) -> Test:
    """A test by a constant: equality for plain values, membership for lists, inclusion for ranges."""
    kind = type(c)
    if kind in (Decimal, str, bool):
        return lambda x, _e: (x == c) if type(x) is kind else equal(x, c)
    return lambda x, _e: value_test(c, x)


def value_test(expected, x) -> bool | None:
    """Whether ``x`` passes a test whose expression evaluated to ``expected`` (DMN 1.5, 10.3.2.9)."""
    if isinstance(expected, Range):
        return expected.contains(x)
    if isinstance(expected, list) and not isinstance(x, list):
        if x is None and None not in expected:
            return None  # a missing value is not known to be outside the list
        for item in expected:
            verdict = item.contains(x) if isinstance(item, Range) else equal(x, item)
            if verdict is True:
                return True
        return False  # as list contains(): items of other types are simply not equal
    if isinstance(expected, list) and isinstance(x, list):
        same = equal(x, expected)
        if same is True:
            return True
        return any(equal(x, item) is True for item in expected) or same
    return equal(x, expected)


def disjunction(tests: list[Test], x, env) -> bool | None:
    unknown = False
    for test in tests:
        verdict = test(x, env)
        if verdict is True:
            return True
        if verdict is not False:
            unknown = True
    return None if unknown else False


# --- members of values ------------------------------------------------------------------------


def member_of(value, name: str):
    if isinstance(value, dict):
        return value.get(name)
    if isinstance(value, list):
        return [member_of(v, name) for v in value]
    if value is None:
        return None
    getter = _PROPERTIES.get((type(value), name))
    if getter is None:
        for kind, prop in _PROPERTIES:
            if prop == name and isinstance(value, kind):
                getter = _PROPERTIES[(kind, prop)]
                break
    return getter(value) if getter else None


def _offset(value):
    offset = value.utcoffset()
    if offset is None:
        return None
    return DaysTime(Decimal(int(offset.total_seconds())))


def _zone_name(value):
    tz = value.tzinfo
    return getattr(tz, "key", None)


def _seconds_of(value) -> Decimal:
    return Decimal(value.second) + (
        Decimal(value.microsecond) / Decimal(1_000_000) if value.microsecond else 0
    )


_PROPERTIES = {
    (dt.date, "year"): lambda v: Decimal(v.year),
    (dt.date, "month"): lambda v: Decimal(v.month),
    (dt.date, "day"): lambda v: Decimal(v.day),
    (dt.date, "weekday"): lambda v: Decimal(v.isoweekday()),
    (dt.datetime, "year"): lambda v: Decimal(v.year),
    (dt.datetime, "month"): lambda v: Decimal(v.month),
    (dt.datetime, "day"): lambda v: Decimal(v.day),
    (dt.datetime, "weekday"): lambda v: Decimal(v.isoweekday()),
    (dt.datetime, "hour"): lambda v: Decimal(v.hour),
    (dt.datetime, "minute"): lambda v: Decimal(v.minute),
    (dt.datetime, "second"): _seconds_of,
    (dt.datetime, "time offset"): _offset,
    (dt.datetime, "timezone"): _zone_name,
    (dt.time, "hour"): lambda v: Decimal(v.hour),
    (dt.time, "minute"): lambda v: Decimal(v.minute),
    (dt.time, "second"): _seconds_of,
    (dt.time, "time offset"): _offset,
    (dt.time, "timezone"): _zone_name,
    (YearsMonths, "years"): lambda v: Decimal(int(v.months / 12)),
    (YearsMonths, "months"): lambda v: Decimal(v.months - int(v.months / 12) * 12),
    (DaysTime, "days"): lambda v: Decimal(int(v.seconds / 86400)),
    (DaysTime, "hours"): lambda v: Decimal(
        int((abs(v.seconds) % 86400) // 3600) * (1 if v.seconds >= 0 else -1)
    ),
    (DaysTime, "minutes"): lambda v: Decimal(
        int((abs(v.seconds) % 3600) // 60) * (1 if v.seconds >= 0 else -1)
    ),
    (DaysTime, "seconds"): lambda v: (abs(v.seconds) % 60) * (1 if v.seconds >= 0 else -1),
    (Range, "start"): lambda v: v.start,
    (Range, "end"): lambda v: v.end,
    (Range, "start included"): lambda v: v.start_included,
    (Range, "end included"): lambda v: v.end_included,
}
