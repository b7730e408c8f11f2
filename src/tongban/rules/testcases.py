"""Test cases for DMN models in the format of the DMN TCK (dmn-tck/tck, testCases XML).

A test file names a model and lists cases: input values per input data, and the expected value of
one or more decisions. Values are typed with XML Schema types (xsd:decimal, xsd:date, …), may be
null (xsi:nil), contexts (``component``) or lists (``list``/``item``). Results are compared as the
TCK's own runners compare them: numbers by value within 1e-8, lists item by item, contexts key by
key, null only equal to null.

A case ends in one of four ways: passed; ``error`` — the engine reported an error and its value
differs from the one expected; ``wrong`` — the engine reported nothing and its value differs (a
wrong answer, which must never happen); ``refused`` — the model or the case uses a feature this
engine refuses as unsupported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from defusedxml import ElementTree as SafeElementTree
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Formatted

from .errors import DmnError, NotRepresentable, RuleError, Unsupported
from .values import equal, format_value, parse_any_duration, parse_date, parse_date_time, parse_time

TESTCASE_NS = "http://www.omg.org/spec/DMN/20160719/testcase"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
TOLERANCE = Decimal("0.00000001")  # the TCK runners' NUMBER_COMPARISON_PRECISION

_NUMBER_TYPES = {"decimal", "integer", "int", "long", "double", "float", "short", "byte"}


@dataclass
class ExpectedResult:
    name: str
    value: object
    error_result: bool = False


@dataclass
class TestCase:
    id: str
    description: str
    kind: str  # decision | bkm | decisionService
    inputs: dict
    results: list[ExpectedResult]


@dataclass
class TestSuite:
    model_name: str
    cases: list[TestCase]


@dataclass
class ResultCheck:
    name: str
    expected: object
    actual: object
    passed: bool
    errors: list = field(default_factory=list)


@dataclass
class CaseOutcome:
    suite: str
    case_id: str
    status: str  # passed | wrong | error | refused
    checks: list[ResultCheck] = field(default_factory=list)
    problem: object = None  # the refusal or error message

    def describe(self) -> str:
        if self.problem is not None:
            return str(self.problem)
        parts = []
        for check in self.checks:
            if check.passed:
                continue
            text = f"{check.name}: expected {format_value(check.expected)}, got {format_value(check.actual)}"
            if check.errors:
                text += " (" + "; ".join(str(e) for e in check.errors) + ")"
            parts.append(text)
        return "; ".join(parts)


def _q(tag: str) -> str:
    return f"{{{TESTCASE_NS}}}{tag}"


def read_suite(xml: bytes) -> TestSuite:
    root = SafeElementTree.fromstring(xml, forbid_dtd=True)
    if root.tag != _q("testCases"):
        raise DmnError("", _("this is not a DMN TCK testCases document"))
    model = root.findtext(_q("modelName")) or ""
    cases = []
    for index, element in enumerate(root.findall(_q("testCase")), start=1):
        inputs = {node.get("name"): _value_of(node) for node in element.findall(_q("inputNode"))}
        results = []
        for node in element.findall(_q("resultNode")):
            expected = node.find(_q("expected"))
            results.append(
                ExpectedResult(
                    node.get("name") or "",
                    _value_of(expected) if expected is not None else None,
                    node.get("errorResult") == "true",
                )
            )
        cases.append(
            TestCase(
                element.get("id") or str(index),
                (element.findtext(_q("description")) or "").strip(),
                element.get("type") or "decision",
                inputs,
                results,
            )
        )
    return TestSuite(model.strip(), cases)


def _value_of(node):
    """The FEEL value held by an inputNode, expected, component or item element."""
    value = node.find(_q("value"))
    if value is not None:
        return _scalar(value)
    listed = node.find(_q("list"))
    if listed is not None:
        return [_value_of(item) for item in listed.findall(_q("item"))]
    components = node.findall(_q("component"))
    if components:
        return {c.get("name"): _value_of(c) for c in components}
    if node.get(f"{{{XSI}}}nil") == "true":
        return None
    return None


class _Unrepresentable:
    """A value in a test file this engine cannot hold (e.g. a date in year 10000)."""

    def __init__(self, message):
        self.message = message

    def __repr__(self) -> str:
        return "UNREPRESENTABLE"


def _scalar(element):
    try:
        return _read_scalar(element)
    except NotRepresentable as exc:
        return _Unrepresentable(exc.message)


def _read_scalar(element):
    if element.get(f"{{{XSI}}}nil") == "true":
        return None
    kind = (element.get(f"{{{XSI}}}type") or "").rsplit(":", 1)[-1]
    text = element.text or ""
    if kind in _NUMBER_TYPES:
        try:
            return Decimal(text.strip())
        except InvalidOperation:
            raise DmnError("", Formatted(_("“%(text)s” is not a number"), {"text": text})) from None
    if kind == "boolean":
        return text.strip() == "true"
    if kind == "date":
        return parse_date(text)
    if kind == "dateTime":
        return parse_date_time(text)
    if kind == "time":
        return parse_time(text)
    if kind in ("duration", "dayTimeDuration", "yearMonthDuration"):
        return parse_any_duration(text)
    if len(element):
        # a value element wrapping a list or components (some TCK files nest them so)
        return _value_of(element)
    return text


def same(expected, actual) -> bool:
    """Equality as the TCK runners judge it."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if type(expected) is Decimal and type(actual) is Decimal:
        return abs(expected - actual) < TOLERANCE
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(same(e, a) for e, a in zip(expected, actual, strict=True))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return len(expected) == len(actual) and all(
            k in actual and same(v, actual[k]) for k, v in expected.items()
        )
    return equal(expected, actual) is True and type(expected) is type(actual)


def _find_unrepresentable(value):
    if isinstance(value, _Unrepresentable):
        return value
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = _find_unrepresentable(item)
            if found is not None:
                return found
    return None


def run_suite(model, suite: TestSuite, name: str = "") -> list[CaseOutcome]:
    outcomes = []
    for case in suite.cases:
        if case.kind != "decision":
            outcomes.append(
                CaseOutcome(
                    name,
                    case.id,
                    "refused",
                    problem=Formatted(
                        _("test cases of type %(kind)s are not supported"), {"kind": case.kind}
                    ),
                )
            )
            continue
        unrepresentable = _find_unrepresentable([case.inputs, [r.value for r in case.results]])
        if unrepresentable is not None:
            outcomes.append(CaseOutcome(name, case.id, "refused", problem=unrepresentable.message))
            continue
        try:
            evaluation = model.evaluate(case.inputs, [r.name for r in case.results])
        except RuleError as exc:
            outcomes.append(CaseOutcome(name, case.id, "error", problem=exc.message))
            continue
        checks = []
        refused = None
        for result in case.results:
            decision = model.decision(result.name)
            outcome = evaluation.decisions[decision.name]
            errors = [*evaluation.input_errors, *outcome.errors]
            checks.append(
                ResultCheck(
                    result.name, result.value, outcome.value, same(result.value, outcome.value), errors
                )
            )
            if isinstance(decision.problem, Unsupported) and not checks[-1].passed:
                refused = decision.problem.message
        if refused is not None:
            outcomes.append(CaseOutcome(name, case.id, "refused", checks, refused))
            continue
        if all(c.passed for c in checks):
            status = "passed"
        elif any(not c.passed and not c.errors for c in checks):
            status = "wrong"
        else:
            status = "error"
        outcomes.append(CaseOutcome(name, case.id, status, checks))
    return outcomes


def run_folder(folder) -> list[CaseOutcome]:
    """Every case of a TCK-style folder: one sub-folder per model, its .dmn and *-test-*.xml files."""
    from pathlib import Path

    from .dmn import load

    outcomes: list[CaseOutcome] = []
    for case_dir in sorted(p for p in Path(folder).iterdir() if p.is_dir()):
        for test_file in sorted(case_dir.glob("*-test-*.xml")):
            suite = read_suite(test_file.read_bytes())
            label = case_dir.name
            try:
                model = load((case_dir / suite.model_name).read_bytes(), strict=False)
            except Unsupported as exc:
                outcomes.extend(CaseOutcome(label, c.id, "refused", problem=exc.message) for c in suite.cases)
                continue
            except (DmnError, OSError) as exc:
                problem = exc.message if isinstance(exc, DmnError) else str(exc)
                outcomes.extend(CaseOutcome(label, c.id, "error", problem=problem) for c in suite.cases)
                continue
            outcomes.extend(run_suite(model, suite, label))
    return outcomes
