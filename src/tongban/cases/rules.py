"""秒批 decision tables: the declarative rules that approve a case with no human step, or hand it on.

A service item marked auto-approvable carries one decision table. Administrators edit it (as JSON
in our editor, or as DMN 1.3 XML in any DMN modeler); the case service evaluates it over the case
form and the verification results. The table can only *approve* or send the case to a person
(``manual``): a machine never rejects, because a refusal is an administrative act a person signs.
Every evaluation says which rule decided and which values it saw, so the decision record can be
audited, and when the case goes to a person it lists the checks that failed.

Table format (JSON; ``validate_table`` returns it normalised, which is what should be stored)::

    {
      "name": "老年人优待证秒批",                       # required, ≤ 200 characters
      "description": "…",                                # optional
      "hit_policy": "FIRST",                             # UNIQUE (default, as in DMN) | FIRST | ANY
      "inputs": [                                        # 1 to 30 columns
        {"key": "data.age", "label": "申请人年龄", "type": "number"},
        {"key": "check.id_valid", "label": "身份核验", "type": "boolean"},
        {"key": "data.birth_date", "label": "出生日期", "type": "date"}
      ],
      "outputs": [                                       # must include "decision"
        {"key": "decision", "label": "结论", "type": "string"},
        {"key": "reason", "label": "理由", "type": "string"}
      ],
      "rules": [                                         # 1 to 200 rules, tried in order
        {"id": "r1", "when": ["[60..150]", "true", "-"], "then": ["approve", "年满60周岁"], "note": "…"},
        {"id": "r2", "when": ["-", "-", "-"], "then": ["manual", "其他情形人工审核"]}
      ]
    }

Input keys are dotted paths into the evaluation context ``{"data": {…case form…}, "check": {…
verification results…}}``; a path walks nested objects only, never attributes or lists. Input
types are number, string, boolean and date. Output cells are plain values: text as written (a
FEEL string literal such as ``"approve"`` is unquoted), numbers, ``true``/``false``,
``date("2026-01-01")``, or empty for no value. The ``decision`` output is text, either
``approve`` or ``manual``.

Hit policies (as in DMN): UNIQUE — at most one rule may match; FIRST — the first matching rule in
table order decides; ANY — several rules may match if they give the same outputs. Two rules that
disagree under UNIQUE or ANY, or no matching rule at all, send the case to a person.

Input cells are DMN FEEL *unary tests*: the small parser below checks them when a table is
saved (literal types against the column, range bounds, errors in both languages), and
tongban.rules — the platform's one FEEL implementation — tests values against them (nothing is
evaluated as code):

    -                          any value (an empty cell means the same)
    "text"  42  -1.5  true  false  date("2026-01-01")  null      equal to this value
    < 5   <= 5   > 5   >= 5   = "x"   != "x"                      comparisons
    [18..60]  (18..60)  ]18..60[  [18..60)                        ranges; [ ] closed, ( ) or ] [ open
    "a", "b", [1..5]                                              a list: any of them
    not("a", "b")                                                 none of them (whole cell only)

Order comparisons and ranges work on numbers, dates and text (by code point), not on yes/no
values. Values from the context are taken as their column's type: numbers may also arrive as
number text ("35"), dates as "YYYY-MM-DD" text or date objects. A missing value (absent, None or
blank text) and a value of the wrong type fail every cell except ``-``; only a test that names
``null`` (``null`` or ``= null``) matches a missing value. So ``not(…)`` never approves a case on
a value that is not there — a deliberate, safer choice than FEEL's null logic.
"""

import datetime as dt
import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.core.crypto import sm3_hex
from tongban.core.errors import FieldErrors, Formatted, InvalidInput
from tongban.core.i18n import bilingual
from tongban.rules import UnaryTests, compile_unary_tests
from tongban.rules.values import from_python

__all__ = [
    "HIT_POLICIES",
    "CellError",
    "DecisionTable",
    "Evaluation",
    "compile_table",
    "evaluate",
    "parse_cell",
    "table_from_dmn",
    "table_to_dmn",
    "validate_dmn_table",
    "validate_table",
]

APPROVE = "approve"
MANUAL = "manual"
DECISIONS = (APPROVE, MANUAL)
HIT_POLICIES = ("UNIQUE", "FIRST", "ANY")
DMN_ONLY_HIT_POLICIES = ("COLLECT", "PRIORITY", "RULE ORDER", "OUTPUT ORDER")
DEFAULT_HIT_POLICY = "UNIQUE"  # DMN's default when a table names none
TYPES = ("number", "string", "boolean", "date")
CONTEXT_ROOTS = ("data", "check")

MAX_RULES = 200
MAX_INPUTS = 30
MAX_OUTPUTS = 10
MAX_CELL_LENGTH = 500
MAX_NAME_LENGTH = 200
MAX_LABEL_LENGTH = 200
MAX_NOTE_LENGTH = 1000
MAX_DESCRIPTION_LENGTH = 2000
MAX_KEY_LENGTH = 200
MAX_DMN_BYTES = 1024 * 1024
MAX_DMN_ELEMENTS = 30000

TABLE_FIELDS = {"name", "description", "hit_policy", "inputs", "outputs", "rules"}
COLUMN_FIELDS = {"key", "label", "type"}
RULE_FIELDS = {"id", "when", "then", "note"}

_PATH_SEGMENT = re.compile(r"[\w-]+")
_OUTPUT_KEY = re.compile(r"[A-Za-z_]\w*", re.ASCII)
_RULE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")  # an XML NCName, so it survives DMN export
_NUMBER_TEXT = re.compile(r"-?\d+(?:\.\d+)?")
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")

TYPE_NAMES = {
    "number": _("number"),
    "string": _("text"),
    "boolean": _("yes/no"),
    "date": _("date"),
    "null": "null",
}


# --------------------------------------------------------------------------------------------
# Cells: a tokenizer and a recursive-descent parser for FEEL unary tests


class CellError(ValueError):
    """A cell that cannot be read; ``message`` is a lazy, translatable explanation."""

    def __init__(self, message):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Test:
    """One positive unary test as the cell parser read it: a comparison with ``value``, or a range
    from ``value`` to ``high``. What validation checks (types of literals, range bounds); matching
    is tongban.rules' (Cell.matches)."""

    op: str  # "=", "!=", "<", "<=", ">", ">=" or "range"
    value: object = None
    high: object = None
    low_closed: bool = True
    high_closed: bool = True

    @property
    def literals(self) -> tuple:
        return (self.value, self.high) if self.op == "range" else (self.value,)


class _Unusable:
    """The value of an input that is present but not of its column's type."""

    def __repr__(self) -> str:
        return "UNUSABLE"


UNUSABLE = _Unusable()


@dataclass(frozen=True)
class Cell:
    """A parsed input cell. ``tests`` is empty for ``-`` (any value)."""

    source: str
    tests: tuple[Test, ...] = ()
    negated: bool = False

    @property
    def is_any(self) -> bool:
        return not self.tests

    @property
    def feel(self) -> UnaryTests:
        """The cell as tongban.rules reads it (FEEL unary tests; compiled once per process)."""
        return compile_unary_tests(self.source.strip() or "-")

    def matches(self, value) -> bool:
        """Whether a value passes this cell. None is a missing value, UNUSABLE one of the wrong type.

        A present value of the column's type is tested by tongban.rules (FEEL unary tests). A
        missing or unusable one is decided here, before FEEL sees it: it passes only ``-`` and a
        test that names null — the 秒批 safety rule (FEEL would let ``not("a")`` pass a null)."""
        if self.is_any:
            return True
        if value is None:
            return not self.negated and any(t.op == "=" and t.value is None for t in self.tests)
        if value is UNUSABLE:
            return False
        return self.feel.test(from_python(value)) is True


@dataclass(frozen=True)
class _Token:
    kind: str  # string number name op range comma open close end
    text: str
    pos: int  # 1-based character position, for messages
    value: object = None


_WORD = re.compile(r"[^\W\d]\w*")
_FULL_WIDTH = "，。“”‘’（）【】［］＜＞＝！－：；"
_SINGLE = {",": "comma", "(": "open", "[": "open", "]": "close", ")": "close"}


def _where(pos: int, source: str):
    if pos > len(source):
        return _("the end")
    return Formatted(_("position %(pos)d"), {"pos": pos})


def _tokenize(source: str) -> Iterator[_Token]:
    """Tokens one at a time, so a problem is reported where reading stops, in reading order."""
    i = 0
    while i < len(source):
        char = source[i]
        if char.isspace():
            i += 1
            continue
        if char == '"':
            value, end = _read_string(source, i)
            yield _Token("string", source[i:end], i + 1, value)
            i = end
            continue
        number = _NUMBER_TEXT.match(source, i)
        if number:
            yield _Token("number", number.group(), i + 1, Decimal(number.group()))
            i = number.end()
            continue
        word = _WORD.match(source, i)
        if word:
            yield _Token("name", word.group(), i + 1)
            i = word.end()
            continue
        if source.startswith("..", i):
            yield _Token("range", "..", i + 1)
            i += 2
            continue
        op = next((o for o in ("<=", ">=", "!=", "<", ">", "=") if source.startswith(o, i)), None)
        if op:
            yield _Token("op", op, i + 1)
            i += len(op)
            continue
        if char in _SINGLE:
            yield _Token(_SINGLE[char], char, i + 1)
            i += 1
            continue
        raise CellError(_unexpected_character(char, i + 1))
    yield _Token("end", "", len(source) + 1)


def _unexpected_character(char: str, pos: int):
    if char in _FULL_WIDTH:
        return Formatted(
            _("full-width “%(char)s” at position %(pos)d; type the half-width (English) form"),
            {"char": char, "pos": pos},
        )
    if char == "-":
        return _("“-” (any value) must stand alone in its cell")
    return Formatted(_("unexpected “%(char)s” at position %(pos)d"), {"char": char, "pos": pos})


_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


def _read_string(source: str, start: int) -> tuple[str, int]:
    """The text of the FEEL string literal opening at ``start``, and the index just after it."""
    out: list[str] = []
    i = start + 1
    while i < len(source):
        char = source[i]
        if char == '"':
            return "".join(out), i + 1
        if char == "\\":
            escaped = source[i + 1 : i + 2]
            if escaped not in _ESCAPES:
                raise CellError(
                    Formatted(
                        _("unknown escape “\\%(char)s” at position %(pos)d"), {"char": escaped, "pos": i + 1}
                    )
                )
            out.append(_ESCAPES[escaped])
            i += 2
            continue
        out.append(char)
        i += 1
    raise CellError(Formatted(_("the text at position %(pos)d has no closing quote"), {"pos": start + 1}))


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.tokens = _tokenize(source)
        self.token = next(self.tokens)

    def take(self) -> _Token:
        token = self.token
        if token.kind != "end":
            self.token = next(self.tokens)
        return token

    def expect(self, kind: str, text: str | None = None) -> _Token:
        token = self.token
        if token.kind != kind or (text is not None and token.text != text):
            raise CellError(
                Formatted(
                    _("expected “%(expected)s” at %(where)s"),
                    {"expected": text or kind, "where": _where(token.pos, self.source)},
                )
            )
        return self.take()

    def unexpected(self) -> CellError:
        token = self.token
        if token.kind == "end":
            return CellError(_("the condition stops where a value is expected"))
        return CellError(
            Formatted(
                _("unexpected “%(token)s” at %(where)s"),
                {"token": token.text, "where": _where(token.pos, self.source)},
            )
        )

    def cell(self) -> tuple[tuple[Test, ...], bool]:
        negated = self.token.kind == "name" and self.token.text == "not"
        if negated:
            self.take()
            self.expect("open", "(")
        tests = self.positive_list()
        if negated:
            self.expect("close", ")")
        if self.token.kind != "end":
            raise self.unexpected()
        return tests, negated

    def positive_list(self) -> tuple[Test, ...]:
        tests = [self.positive()]
        while self.token.kind == "comma":
            self.take()
            tests.append(self.positive())
        return tuple(tests)

    def positive(self) -> Test:
        token = self.token
        if token.kind == "op":
            self.take()
            return Test(token.text, self.literal())
        if token.kind == "open" or token.text == "]":
            return self.interval()
        if token.kind == "name" and token.text == "not":
            raise CellError(_("not(…) must wrap the whole condition"))
        return Test("=", self.literal())

    def interval(self) -> Test:
        start = self.take()
        low = self.literal()
        self.expect("range", "..")
        high = self.literal()
        end = self.token
        if end.text not in ("]", ")", "["):
            raise CellError(
                Formatted(
                    _("a range must end with “]”, “)” or “[” at %(where)s"),
                    {"where": _where(end.pos, self.source)},
                )
            )
        self.take()
        test = Test("range", low, high, low_closed=start.text == "[", high_closed=end.text == "]")
        _check_range(test)
        return test

    def literal(self):
        token = self.token
        if token.kind in ("string", "number"):
            self.take()
            return token.value
        if token.kind == "name" and token.text in ("true", "false", "null"):
            self.take()
            return {"true": True, "false": False, "null": None}[token.text]
        if token.kind == "name" and token.text == "date":
            self.take()
            self.expect("open", "(")
            if self.token.kind != "string":
                raise CellError(_('write a date in quotes, like date("2026-01-01")'))
            text = self.take()
            self.expect("close", ")")
            return _parse_date_literal(text.value)
        if token.kind == "name" and token.text not in ("not",):
            raise CellError(
                Formatted(
                    _("unknown word “%(word)s” at %(where)s; put text in double quotes"),
                    {"word": token.text, "where": _where(token.pos, self.source)},
                )
            )
        raise self.unexpected()


def _parse_date_literal(text: str) -> dt.date:
    try:
        if _DATE_TEXT.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise CellError(Formatted(_("“%(text)s” is not a date written as YYYY-MM-DD"), {"text": text}))


def _check_range(test: Test) -> None:
    low, high = test.value, test.high
    if low is None or high is None:
        raise CellError(_("null cannot be an end of a range"))
    if _literal_type(low) != _literal_type(high):
        raise CellError(_("both ends of a range must be of the same kind"))
    if _literal_type(low) == "boolean":
        return  # reported as a type problem against the column
    if low > high or (low == high and not (test.low_closed and test.high_closed)):
        raise CellError(_("the range is empty: its start is not before its end"))


def parse_cell(text: str) -> Cell:
    """Read one input cell (a FEEL unary test). Raises CellError with a readable explanation."""
    source = (text or "").strip()
    if source in ("", "-"):
        return Cell("-")
    if len(source) > MAX_CELL_LENGTH:
        raise CellError(Formatted(_("at most %(n)d characters"), {"n": MAX_CELL_LENGTH}))
    tests, negated = _Parser(source).cell()
    return Cell(source, tests, negated)


def _literal_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, dt.date):
        return "date"
    return "string"


def _cell_type_problem(cell: Cell, column_type: str):
    """Why this cell cannot test values of ``column_type``, or None when it can."""
    for test in cell.tests:
        if column_type == "boolean" and test.op not in ("=", "!="):
            return _("yes/no values cannot be compared with <, <=, >, >= or a range")
        for literal in test.literals:
            found = _literal_type(literal)
            if found == "null":
                if test.op not in ("=", "!="):
                    return _("null can only be tested with = or !=")
                continue
            if found != column_type:
                return Formatted(
                    _("this column holds %(expected)s values, but the condition uses a %(found)s value"),
                    {"expected": TYPE_NAMES[column_type], "found": TYPE_NAMES[found]},
                )
    return None


# --------------------------------------------------------------------------------------------
# Output cells: plain values


def _parse_output(text: str, column_type: str):
    """The value of an output cell of ``column_type`` (None for an empty cell)."""
    source = text.strip()
    if column_type == "string":
        if len(source) >= 2 and source[0] == '"' and source[-1] == '"':
            value, end = _read_string(source, 0)
            if end == len(source):
                return value
        return source
    if source in ("", "null"):
        return None
    parser = _Parser(source)
    value = parser.literal()
    if parser.token.kind != "end":
        raise parser.unexpected()
    found = _literal_type(value)
    if found != column_type:
        raise CellError(
            Formatted(
                _("this column holds %(expected)s values, but the cell has a %(found)s value"),
                {"expected": TYPE_NAMES[column_type], "found": TYPE_NAMES[found]},
            )
        )
    return value


def _json_value(value):
    """A value as JSON can hold it: numbers as int or float, dates as ISO text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------------------------
# Compiled tables


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    type: str

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.key.split("."))


@dataclass(frozen=True)
class Rule:
    id: str
    when: tuple[Cell, ...]
    then: tuple[str, ...]  # the normalised cell texts
    values: tuple  # the output values, in output order
    note: str = ""

    def output(self, outputs: tuple[Column, ...]) -> dict:
        return {column.key: _json_value(value) for column, value in zip(outputs, self.values, strict=True)}


@dataclass(frozen=True)
class DecisionTable:
    """A validated table, ready to evaluate. Immutable, so compiled tables can be cached and shared."""

    name: str
    description: str
    hit_policy: str
    inputs: tuple[Column, ...]
    outputs: tuple[Column, ...]
    rules: tuple[Rule, ...]

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "hit_policy": self.hit_policy,
            "inputs": [{"key": c.key, "label": c.label, "type": c.type} for c in self.inputs],
            "outputs": [{"key": c.key, "label": c.label, "type": c.type} for c in self.outputs],
            "rules": [
                {"id": r.id, "when": [c.source for c in r.when], "then": list(r.then), "note": r.note}
                for r in self.rules
            ],
        }

    @functools.cached_property
    def digest(self) -> str:
        """SM3 of the normalised table, so a decision record names the exact rules it applied."""
        text = json.dumps(self.as_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return sm3_hex(text.encode())

    @property
    def decision_index(self) -> int:
        return next(i for i, c in enumerate(self.outputs) if c.key == "decision")


def validate_table(table: dict) -> dict:
    """The table in normalised form, or InvalidInput naming every problem (e.g. ``rules[2].when[1]``).
    A DMN model with its contract (``"format": "dmn"``) is checked by validate_dmn_table."""
    if is_dmn_table(table):
        return validate_dmn_table(table.get("dmn"), table.get("contract"), table.get("name", ""))
    return compile_table(table).as_dict()


def compile_table(table) -> DecisionTable:
    """A DecisionTable from its JSON form; the same JSON is compiled only once per process."""
    if isinstance(table, DecisionTable):
        return table
    try:
        key = json.dumps(table, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return _compile(table)  # not plain JSON: _compile reports what is wrong with it
    return _compile_json(key)


@functools.lru_cache(maxsize=64)
def _compile_json(text: str) -> DecisionTable:
    return _compile(json.loads(text))


def _compile(table) -> DecisionTable:
    if not isinstance(table, dict):
        raise InvalidInput.single("table", "invalid", _("A decision table must be a JSON object."))
    errors = FieldErrors()
    _unknown_fields(errors, "", table, TABLE_FIELDS)
    name = _text(errors, "name", table.get("name"), MAX_NAME_LENGTH, required=True)
    description = _text(errors, "description", table.get("description"), MAX_DESCRIPTION_LENGTH)
    hit_policy = _hit_policy(errors, table.get("hit_policy"))
    inputs = _columns(errors, "inputs", table.get("inputs"), MAX_INPUTS, _input_key)
    outputs = _columns(errors, "outputs", table.get("outputs"), MAX_OUTPUTS, _output_key)
    _check_decision_output(errors, outputs)
    rules = _rules(errors, table.get("rules"), inputs, outputs)
    errors.raise_if_any()
    return DecisionTable(name, description, hit_policy, tuple(inputs), tuple(outputs), tuple(rules))


def _unknown_fields(errors: FieldErrors, prefix: str, obj: dict, allowed: set[str]) -> None:
    for name in obj:
        if name not in allowed:
            errors.add(
                f"{prefix}{name}",
                "unknown_field",
                Formatted(
                    _("Unknown field; expected one of: %(fields)s."), {"fields": ", ".join(sorted(allowed))}
                ),
            )


def _text(errors: FieldErrors, path: str, value, max_length: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(path, "invalid", _("This must be text."))
        return ""
    text = value.strip()
    if required and not text:
        errors.add(path, "required", _("This field is required."))
    elif len(text) > max_length:
        errors.add(path, "max_length", Formatted(_("At most %(n)d characters."), {"n": max_length}))
    return text


def _hit_policy(errors: FieldErrors, value) -> str:
    if value in (None, ""):
        return DEFAULT_HIT_POLICY
    policy = value.strip().upper() if isinstance(value, str) else ""
    if policy in HIT_POLICIES:
        return policy
    if policy in DMN_ONLY_HIT_POLICIES:
        message = _(
            "This hit policy can give several results; a 秒批 table needs one. Use UNIQUE, FIRST or ANY."
        )
    else:
        message = Formatted(_("Unknown hit policy “%(value)s”; use UNIQUE, FIRST or ANY."), {"value": value})
    errors.add("hit_policy", "hit_policy", message)
    return DEFAULT_HIT_POLICY


def _list(errors: FieldErrors, path: str, value, maximum: int) -> list:
    if not isinstance(value, list) or not value:
        errors.add(path, "required", _("Give at least one."))
        return []
    if len(value) > maximum:
        errors.add(path, "too_many", Formatted(_("At most %(n)d."), {"n": maximum}))
        return []
    return value


def _columns(errors: FieldErrors, path: str, value, maximum: int, check_key) -> list[Column]:
    """Columns in order; a column with a problem is kept as None so later indexes stay right."""
    columns = []
    seen: set[str] = set()
    for index, item in enumerate(_list(errors, path, value, maximum)):
        where = f"{path}[{index}]"
        if not isinstance(item, dict):
            errors.add(where, "invalid", _("A column must be an object with key, label and type."))
            columns.append(None)
            continue
        _unknown_fields(errors, f"{where}.", item, COLUMN_FIELDS)
        key = check_key(errors, f"{where}.key", item.get("key"))
        if key and path == "outputs" and key in seen:
            errors.add(f"{where}.key", "duplicate", _("Each output needs its own key."))
            key = ""  # so its cells are not read a second time as that output's
        seen.add(key)
        label = _text(errors, f"{where}.label", item.get("label"), MAX_LABEL_LENGTH) or key
        column_type = _column_type(errors, f"{where}.type", item.get("type"))
        columns.append(Column(key, label, column_type) if key and column_type else None)
    return columns


def _input_key(errors: FieldErrors, path: str, value) -> str:
    key = _text(errors, path, value, MAX_KEY_LENGTH, required=True)
    if not key:
        return ""
    parts = key.split(".")
    if (
        len(parts) < 2
        or parts[0] not in CONTEXT_ROOTS
        or not all(_PATH_SEGMENT.fullmatch(p) for p in parts[1:])
    ):
        errors.add(
            path,
            "invalid",
            _("Write the key as a dotted path that starts with data. or check., such as data.age."),
        )
        return ""
    return key


def _output_key(errors: FieldErrors, path: str, value) -> str:
    key = _text(errors, path, value, MAX_KEY_LENGTH, required=True)
    if key and not _OUTPUT_KEY.fullmatch(key):
        errors.add(path, "invalid", _("Use letters, digits and _ only, starting with a letter."))
        return ""
    return key


def _column_type(errors: FieldErrors, path: str, value) -> str:
    column_type = value.strip().lower() if isinstance(value, str) else ""
    if column_type not in TYPES:
        errors.add(
            path,
            "type",
            Formatted(_("Unknown type “%(value)s”; use number, string, boolean or date."), {"value": value}),
        )
        return ""
    return column_type


def _check_decision_output(errors: FieldErrors, outputs: list) -> None:
    if not outputs or None in outputs:
        return  # the broken column may be the decision: its own problem is reported already
    for index, column in enumerate(outputs):
        if column.key == "decision":
            if column.type != "string":
                errors.add(
                    f"outputs[{index}].type", "type", _("The decision output holds text: approve or manual.")
                )
            return
    errors.add("outputs", "no_decision", _("The table needs an output with the key “decision”."))


def _rules(errors: FieldErrors, value, inputs: list, outputs: list) -> list[Rule]:
    rules = []
    seen: set[str] = set()
    for index, item in enumerate(_list(errors, "rules", value, MAX_RULES)):
        where = f"rules[{index}]"
        if not isinstance(item, dict):
            errors.add(where, "invalid", _("A rule must be an object with id, when and then."))
            continue
        _unknown_fields(errors, f"{where}.", item, RULE_FIELDS)
        rule_id = _rule_id(errors, f"{where}.id", item.get("id"), index)
        if rule_id in seen:
            errors.add(
                f"{where}.id", "duplicate", Formatted(_("The rule id %(id)s is used twice."), {"id": rule_id})
            )
        seen.add(rule_id)
        when = _row(errors, f"{where}.when", item.get("when"), inputs, _input_cell)
        then = _row(errors, f"{where}.then", item.get("then"), outputs, _output_cell)
        note = _text(errors, f"{where}.note", item.get("note"), MAX_NOTE_LENGTH)
        if when is not None and then is not None:
            texts, values = zip(*then, strict=True) if then else ((), ())
            rules.append(Rule(rule_id, tuple(when), tuple(texts), tuple(values), note))
    return rules


def _rule_id(errors: FieldErrors, path: str, value, index: int) -> str:
    if value in (None, ""):
        return f"rule_{index + 1}"
    if not isinstance(value, str) or not _RULE_ID.fullmatch(value):
        errors.add(
            path,
            "invalid",
            _("A rule id starts with a letter and has at most 64 letters, digits, _, - or dots."),
        )
        return f"rule_{index + 1}"
    return value


def _row(errors: FieldErrors, path: str, value, columns: list, read_cell):
    """The cells of one side of a rule, or None when any of them has a problem."""
    if not isinstance(value, list):
        errors.add(path, "invalid", _("This must be a list of cells."))
        return None
    if columns and len(value) != len(columns):
        errors.add(
            path,
            "cell_count",
            Formatted(
                _("Cells here: %(found)d; columns in the table: %(expected)d. Give one cell per column."),
                {"found": len(value), "expected": len(columns)},
            ),
        )
        return None
    cells = []
    for index, (raw, column) in enumerate(zip(value, columns, strict=False)):
        cell = read_cell(errors, f"{path}[{index}]", raw, column)
        cells.append(cell)
    if not columns or any(c is None for c in cells):
        return None
    return cells


def _cell_text(errors: FieldErrors, path: str, raw) -> str | None:
    """Cells are text; plain JSON numbers and booleans are taken as what they would be written as."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float) and raw == raw and raw not in (float("inf"), float("-inf")):
        return str(raw)
    if not isinstance(raw, str):
        errors.add(path, "invalid", _("A cell must be text."))
        return None
    if len(raw.strip()) > MAX_CELL_LENGTH:
        errors.add(path, "max_length", Formatted(_("At most %(n)d characters."), {"n": MAX_CELL_LENGTH}))
        return None
    return raw.strip()


def _input_cell(errors: FieldErrors, path: str, raw, column: Column | None) -> Cell | None:
    text = _cell_text(errors, path, raw)
    if text is None:
        return None
    try:
        cell = parse_cell(text)
    except CellError as exc:
        errors.add(
            path, "syntax", Formatted(_("Cannot read this condition: %(problem)s."), {"problem": exc.message})
        )
        return None
    problem = _cell_type_problem(cell, column.type) if column is not None else None
    if problem is not None:
        errors.add(
            path,
            "type",
            Formatted(_("This condition does not fit its column: %(problem)s."), {"problem": problem}),
        )
        return None
    return cell


def _output_cell(errors: FieldErrors, path: str, raw, column: Column | None) -> tuple[str, object] | None:
    text = _cell_text(errors, path, raw)
    if text is None or column is None or (column.key == "decision" and column.type != "string"):
        return None  # without a sound column there is nothing to read the value as
    try:
        value = _parse_output(text, column.type)
    except CellError as exc:
        errors.add(
            path, "syntax", Formatted(_("Cannot read this value: %(problem)s."), {"problem": exc.message})
        )
        return None
    if column.key == "decision" and value not in DECISIONS:
        errors.add(
            path,
            "decision_value",
            _("The decision is either approve (批准) or manual (转人工); a machine never rejects a case."),
        )
        return None
    return (value if column.type == "string" else text, value)


# --------------------------------------------------------------------------------------------
# Evaluation


@dataclass(frozen=True)
class InputCheck:
    """What one input column saw, and which rules' cells it passed (by rule id)."""

    key: str
    label: str
    type: str
    value: object  # as found in the context
    status: str  # ok | missing | wrong_type
    cells: dict[str, bool]


@dataclass(frozen=True)
class FailedCheck:
    key: str
    label: str
    value: object
    expected: str  # the cell text
    problem: str  # mismatch | missing | wrong_type


@dataclass(frozen=True)
class Evaluation:
    """The result of a table over one case: the decision, why, and everything a reviewer needs to see."""

    table: str
    table_digest: str
    hit_policy: str
    decision: str  # approve | manual
    rule_id: str | None  # the rule that decided; None when no rule matched or rules conflicted
    cause: str  # rule | no_match | conflict | missing (a required input of a DMN model)
    outputs: dict
    matched: tuple[str, ...]  # ids of every matching rule
    checks: tuple[InputCheck, ...]
    closest_rule_id: str | None = None  # the approving rule the case came nearest to
    failed: tuple[FailedCheck, ...] = field(default_factory=tuple)

    @property
    def approved(self) -> bool:
        return self.decision == APPROVE

    @property
    def reason(self):
        if self.cause == "missing":
            return Formatted(
                _("A required value is missing (%(inputs)s); a person decides."),
                {"inputs": ", ".join(f.label for f in self.failed)},
            )
        if self.cause == "conflict":
            return Formatted(
                _("Rules %(rules)s all match but disagree or may not overlap; a person decides."),
                {"rules": ", ".join(self.matched)},
            )
        if self.cause == "no_match":
            return _("No rule matches this case; a person decides.")
        if self.approved:
            return Formatted(_("Approved by rule %(rule)s."), {"rule": self.rule_id})
        return Formatted(_("Rule %(rule)s sends this case to a person."), {"rule": self.rule_id})

    def as_record(self) -> dict:
        """A JSON-serialisable account of the decision, for the case's decision record."""
        return {
            "table": self.table,
            "table_digest": self.table_digest,
            "hit_policy": self.hit_policy,
            "decision": self.decision,
            "rule": self.rule_id,
            "cause": self.cause,
            "matched_rules": list(self.matched),
            "inputs": [
                {"key": c.key, "label": c.label, "value": _record_value(c.value), "status": c.status}
                for c in self.checks
            ],
            "outputs": dict(self.outputs),
            "closest_rule": self.closest_rule_id,
            "failed": [
                {
                    "key": f.key,
                    "label": f.label,
                    "value": _record_value(f.value),
                    "expected": f.expected,
                    "problem": f.problem,
                }
                for f in self.failed
            ],
            "reason": bilingual(self.reason),
        }


def _record_value(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:200]


_MISSING = object()


def _lookup(context: Mapping, path: tuple[str, ...]):
    node = context
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _coerce(value, column_type: str):
    """(status, value) with the value in the column's type; None when missing, UNUSABLE when unusable."""
    if value is _MISSING or value is None or (isinstance(value, str) and not value.strip()):
        return "missing", None
    converted = _CONVERTERS[column_type](value)
    return ("wrong_type", UNUSABLE) if converted is None else ("ok", converted)


def _to_number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            return None
    return None


def _to_string(value):
    return value if isinstance(value, str) else None


def _to_boolean(value):
    return value if isinstance(value, bool) else None


def _to_date(value):
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE_TEXT.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


_CONVERTERS = {"number": _to_number, "string": _to_string, "boolean": _to_boolean, "date": _to_date}


def evaluate(table, context: Mapping) -> Evaluation:
    """Apply a table (its JSON form or a DecisionTable) to ``{"data": …, "check": …}``."""
    if not isinstance(context, Mapping):
        raise TypeError("the context must be a mapping with data and check")
    if is_dmn_table(table):
        return _evaluate_dmn(table, context)
    compiled = compile_table(table)
    raw = [_lookup(context, column.path) for column in compiled.inputs]
    seen = [_coerce(value, column.type) for value, column in zip(raw, compiled.inputs, strict=True)]
    grid = [
        [cell.matches(value) for cell, (_s, value) in zip(rule.when, seen, strict=True)]
        for rule in compiled.rules
    ]
    matched = [rule for rule, row in zip(compiled.rules, grid, strict=True) if all(row)]
    chosen, cause = _apply_hit_policy(compiled, matched)
    decision = chosen.values[compiled.decision_index] if chosen else MANUAL
    closest = _closest(compiled, grid, chosen if decision == APPROVE else None)
    checks = tuple(
        InputCheck(
            column.key,
            column.label,
            column.type,
            None if value is _MISSING else value,
            status,
            {rule.id: row[i] for rule, row in zip(compiled.rules, grid, strict=True)},
        )
        for i, (column, value, (status, _v)) in enumerate(zip(compiled.inputs, raw, seen, strict=True))
    )
    failed = () if decision == APPROVE or closest is None else _failures(compiled, grid, closest, checks)
    return Evaluation(
        table=compiled.name,
        table_digest=compiled.digest,
        hit_policy=compiled.hit_policy,
        decision=decision,
        rule_id=chosen.id if chosen else None,
        cause=cause,
        outputs=chosen.output(compiled.outputs) if chosen else {"decision": MANUAL},
        matched=tuple(rule.id for rule in matched),
        checks=checks,
        closest_rule_id=compiled.rules[closest].id if closest is not None else None,
        failed=failed,
    )


def _apply_hit_policy(table: DecisionTable, matched: list[Rule]) -> tuple[Rule | None, str]:
    if not matched:
        return None, "no_match"
    if table.hit_policy == "FIRST" or len(matched) == 1:
        return matched[0], "rule"
    if table.hit_policy == "ANY" and len({rule.values for rule in matched}) == 1:
        return matched[0], "rule"
    return None, "conflict"


def _closest(table: DecisionTable, grid: list[list[bool]], chosen: Rule | None) -> int | None:
    """Index of the approving rule with the fewest failed cells (the first of equals), or the chosen one."""
    if chosen is not None:
        return table.rules.index(chosen)
    best = None
    for index, (rule, row) in enumerate(zip(table.rules, grid, strict=True)):
        if rule.values[table.decision_index] != APPROVE:
            continue
        misses = row.count(False)
        if best is None or misses < best[0]:
            best = (misses, index)
    return best[1] if best else None


def _failures(table: DecisionTable, grid, index: int, checks) -> tuple[FailedCheck, ...]:
    rule = table.rules[index]
    return tuple(
        FailedCheck(
            check.key,
            check.label,
            check.value,
            cell.source,
            "mismatch" if check.status == "ok" else check.status,
        )
        for cell, passed, check in zip(rule.when, grid[index], checks, strict=True)
        if not passed
    )


# --------------------------------------------------------------------------------------------
# DMN 1.3 XML

DMN13_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"
DMN_NAMESPACES = (
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",  # 1.1
    "http://www.omg.org/spec/DMN/20180521/MODEL/",  # 1.2
    DMN13_NS,
    "https://www.omg.org/spec/DMN/20211108/MODEL/",  # 1.4
    "https://www.omg.org/spec/DMN/20230324/MODEL/",  # 1.5
)
TB_DMN_NAMESPACE = "https://tongban.dev/schema/dmn"
_DMN_TYPES = {"integer": "number", "long": "number", "double": "number", "int": "number"}


def _dmn_error(code: str, message) -> InvalidInput:
    return InvalidInput.single("dmn", code, message)


def _parse_dmn_document(xml: bytes):
    data = xml.encode() if isinstance(xml, str) else xml
    if len(data) > MAX_DMN_BYTES:
        raise _dmn_error("too_large", _("The DMN file is larger than 1 MB."))
    try:
        root = SafeElementTree.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise _dmn_error("unsafe", _("The DMN file declares entities or a DTD.")) from None
    except SafeElementTree.ParseError as exc:
        raise _dmn_error(
            "xml", Formatted(_("The file is not well-formed XML: %(e)s"), {"e": str(exc)})
        ) from None
    if sum(1 for _e in root.iter()) > MAX_DMN_ELEMENTS:
        raise _dmn_error("too_large", _("The DMN file has too many elements."))
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if namespace not in DMN_NAMESPACES or root.tag != f"{{{namespace}}}definitions":
        raise _dmn_error("not_dmn", _("This is not a DMN definitions document."))
    return root, namespace


def table_from_dmn(xml: bytes) -> dict:
    """The normalised table of a DMN document holding one decision with one decision table."""
    root, ns = _parse_dmn_document(xml)

    def q(tag: str) -> str:
        return f"{{{ns}}}{tag}"

    decisions = root.findall(q("decision"))
    if len(decisions) != 1:
        raise _dmn_error("decisions", _("The DMN file must hold exactly one decision."))
    decision = decisions[0]
    tables = decision.findall(q("decisionTable"))
    if len(tables) != 1:
        raise _dmn_error("decision_table", _("The decision must be a single decision table."))
    element = tables[0]
    if element.get("aggregation"):
        raise _dmn_error(
            "hit_policy", _("Aggregating hit policies are not supported; use UNIQUE, FIRST or ANY.")
        )
    table = {
        "name": decision.get("name") or decision.get("id") or "",
        "description": _child_text(decision, q("description")),
        "hit_policy": element.get("hitPolicy") or DEFAULT_HIT_POLICY,
        "inputs": [_dmn_input(item, q) for item in element.findall(q("input"))],
        "outputs": [_dmn_output(item) for item in element.findall(q("output"))],
        "rules": [_dmn_rule(item, q) for item in element.findall(q("rule"))],
    }
    return validate_table(table)


def _child_text(element, tag: str) -> str:
    child = element.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _dmn_type(type_ref: str | None) -> str:
    name = (type_ref or "").rsplit(":", 1)[-1].strip()
    return _DMN_TYPES.get(name.lower(), name)


def _dmn_input(item, q) -> dict:
    expression = item.find(q("inputExpression"))
    if expression is None:
        raise _dmn_error("input", _("Every input of the decision table needs an input expression."))
    key = _child_text(expression, q("text"))
    return {"key": key, "label": item.get("label") or key, "type": _dmn_type(expression.get("typeRef"))}


def _dmn_output(item) -> dict:
    key = item.get("name") or ""
    return {"key": key, "label": item.get("label") or key, "type": _dmn_type(item.get("typeRef"))}


def _dmn_rule(item, q) -> dict:
    rule = {
        "when": [_child_text(entry, q("text")) for entry in item.findall(q("inputEntry"))],
        "then": [_child_text(entry, q("text")) for entry in item.findall(q("outputEntry"))],
        "note": _child_text(item, q("description")),
    }
    if item.get("id"):
        rule["id"] = item.get("id")
    return rule


def table_to_dmn(table) -> bytes:
    """A DMN 1.3 document for the table; ``table_from_dmn`` reads it back to the same table. A DMN
    model attached with a contract is given back as it came."""
    if is_dmn_table(table):
        return table["dmn"].encode()
    compiled = compile_table(table)
    new_id = functools.partial(_fresh_id, {rule.id for rule in compiled.rules})
    # Tags stay unprefixed under a default namespace, as DMN modelers write them.
    root = Element(
        "definitions",
        {
            "xmlns": DMN13_NS,
            "id": new_id("definitions"),
            "name": compiled.name,
            "namespace": TB_DMN_NAMESPACE,
        },
    )
    decision = SubElement(root, "decision", {"id": new_id("decision"), "name": compiled.name})
    if compiled.description:
        SubElement(decision, "description").text = compiled.description
    element = SubElement(decision, "decisionTable", {"id": new_id("table"), "hitPolicy": compiled.hit_policy})
    for column in compiled.inputs:
        item = SubElement(element, "input", {"id": new_id("input"), "label": column.label})
        expression = SubElement(item, "inputExpression", {"id": new_id("expression"), "typeRef": column.type})
        SubElement(expression, "text").text = column.key
    for column in compiled.outputs:
        attributes = {
            "id": new_id("output"),
            "label": column.label,
            "name": column.key,
            "typeRef": column.type,
        }
        SubElement(element, "output", attributes)
    for rule in compiled.rules:
        _dmn_rule_element(element, rule, compiled.outputs)
    indent(root)  # people read and diff these files
    return tostring(root, encoding="utf-8", xml_declaration=True)


def _dmn_rule_element(parent, rule: Rule, outputs: tuple[Column, ...]) -> None:
    item = SubElement(parent, "rule", {"id": rule.id})
    if rule.note:
        SubElement(item, "description").text = rule.note
    for cell in rule.when:
        SubElement(SubElement(item, "inputEntry"), "text").text = cell.source
    for column, text in zip(outputs, rule.then, strict=True):
        # String outputs are stored as plain text; in DMN an output entry is a FEEL expression.
        SubElement(SubElement(item, "outputEntry"), "text").text = (
            _feel_string(text) if column.type == "string" else text
        )


def _fresh_id(taken: set[str], prefix: str) -> str:
    """An element id no rule uses, since DMN ids share one namespace per document."""
    number = 1
    while f"{prefix}_{number}" in taken:
        number += 1
    taken.add(f"{prefix}_{number}")
    return f"{prefix}_{number}"


_FEEL_ESCAPES = str.maketrans({value: "\\" + name for name, value in _ESCAPES.items()})


def _feel_string(text: str) -> str:
    return '"' + text.translate(_FEEL_ESCAPES) + '"'


# --- a DMN model from any tool, with the 秒批 contract as a mapping ----------------------------------
#
# A DMN file is taken as its author wrote it: any input data names, any outputs, any hit policy,
# decisions requiring decisions (tongban.rules.dmn). What makes it a 秒批 table is a mapping made
# when it is attached to an item, stored beside the XML (never a constraint on the file):
#
#     {"format": "dmn", "name": "…", "dmn": "<definitions …>",
#      "contract": {"decision": "Eligibility",            # the decision that decides (name or id)
#                   "outcome": "Status",                  # its output that is the decision ("" = its value)
#                   "approve": ["ELIGIBLE"],              # the outcome's values that approve
#                   "inputs": {"Applicant Age": "check.applicant_age", "Income": "data.income"},
#                   "required": ["Applicant Age"]}}       # null sends the case to a person first
#
# Any other outcome — another value, null, an error such as two UNIQUE rules matching — sends the
# case to a person: a machine still never rejects.

CONTRACT_FIELDS = {"decision", "outcome", "approve", "inputs", "required"}
_DMN_KINDS = {
    "number": "number", "integer": "number", "long": "number", "double": "number", "decimal": "number",
    "string": "string", "boolean": "boolean", "date": "date",
}  # fmt: skip


def _is_input_path(path) -> bool:
    parts = path.split(".") if isinstance(path, str) and len(path) <= MAX_KEY_LENGTH else []
    return (
        len(parts) >= 2 and parts[0] in CONTEXT_ROOTS and all(_PATH_SEGMENT.fullmatch(p) for p in parts[1:])
    )


def is_dmn_table(table) -> bool:
    return isinstance(table, dict) and table.get("format") == "dmn"


def _dmn_model(xml):
    from tongban.rules import DmnError, Unsupported, dmn

    try:
        return dmn.load(xml)
    except (DmnError, Unsupported) as exc:
        raise _dmn_error("invalid", getattr(exc, "message", str(exc))) from None


def validate_dmn_table(xml, contract: dict, name: str = "") -> dict:
    """A DMN model and the 秒批 contract that maps it onto an item, checked together; the stored
    form (see above), or InvalidInput naming every problem (``contract.inputs.Income``)."""
    text = xml.decode("utf-8", "replace") if isinstance(xml, bytes | bytearray) else str(xml or "")
    model = _dmn_model(text.encode())
    errors = FieldErrors()
    contract = contract if isinstance(contract, dict) else {}
    _unknown_fields(errors, "contract.", contract, CONTRACT_FIELDS)
    decision = None
    try:
        decision = model.decision(str(contract.get("decision") or ""))
    except Exception:
        errors.add(
            "contract.decision",
            "unknown",
            Formatted(
                _("Name the decision that decides; the model has %(names)s."),
                {"names": "、".join(model.decisions) or "—"},
            ),
        )
    approve = contract.get("approve")
    if (
        not isinstance(approve, list)
        or not approve
        or not all(isinstance(v, str | int | bool) for v in approve)
    ):
        errors.add("contract.approve", "required", _("Give the outcome values that approve (at least one)."))
    outcome = contract.get("outcome") or ""
    if not isinstance(outcome, str):
        errors.add("contract.outcome", "invalid", _("The outcome is the name of an output."))
    inputs = contract.get("inputs") if isinstance(contract.get("inputs"), dict) else {}
    for data_name in model.inputs:
        path = inputs.get(data_name)
        if not _is_input_path(path):
            errors.add(
                f"contract.inputs.{data_name}",
                "required",
                Formatted(
                    _("Say where “%(name)s” comes from: data.<form field> or check.<verification>."),
                    {"name": data_name},
                ),
            )
    for data_name in inputs:
        if data_name not in model.inputs:
            errors.add(
                f"contract.inputs.{data_name}",
                "unknown",
                Formatted(_("The model has no input data “%(name)s”."), {"name": data_name}),
            )
    required = contract.get("required") or []
    if not isinstance(required, list) or any(r not in model.inputs for r in required):
        errors.add("contract.required", "unknown", _("Required inputs must be input data of the model."))
    errors.raise_if_any()
    types = {n: (model.inputs[n].type_ref or "") for n in model.inputs}
    return {
        "format": "dmn",
        "name": (name or model.name or decision.name)[:200],
        "dmn": text,
        "contract": {
            "decision": decision.name,
            "outcome": outcome,
            "approve": list(approve),
            "inputs": {n: inputs[n] for n in model.inputs},
            "required": list(required),
        },
        # What the editor and the checks of verification names read, as for a JSON table.
        "inputs": [{"key": inputs[n], "label": n, "type": types[n]} for n in model.inputs],
        "rules": [],
    }


@functools.lru_cache(maxsize=32)
def _loaded(text: str):
    return _dmn_model(text.encode())


def _dmn_digest(table: dict) -> str:
    body = json.dumps(
        {"dmn": table["dmn"], "contract": table["contract"]}, ensure_ascii=False, sort_keys=True
    )
    return sm3_hex(body.encode())


def _evaluate_dmn(table: dict, context: Mapping) -> Evaluation:
    contract = table["contract"]
    model = _loaded(table["dmn"])
    values, checks, missing = {}, [], []
    for data_name, path in contract["inputs"].items():
        raw = _lookup(context, tuple(path.split(".")))
        type_ref = model.inputs[data_name].type_ref or ""
        kind = _DMN_KINDS.get(type_ref.rsplit(":", 1)[-1].lower())
        if kind:  # forms send text: number and date text are taken as the input's type, as in tables
            status, value = _coerce(raw, kind)
            value = None if value is UNUSABLE else value
        else:
            absent = raw is _MISSING or raw is None or (isinstance(raw, str) and not raw.strip())
            status, value = ("missing", None) if absent else ("ok", raw)
        values[data_name] = value
        checks.append(InputCheck(path, data_name, type_ref, None if raw is _MISSING else raw, status, {}))
        if value is None and data_name in contract["required"]:
            missing.append(FailedCheck(path, data_name, None if raw is _MISSING else raw, "!= null", status))
    common = {
        "table": table.get("name", ""),
        "table_digest": _dmn_digest(table),
        "hit_policy": "DMN",
        "checks": tuple(checks),
    }
    if missing:  # the 秒批 safety rule: a required value that is not there never reaches the model
        return Evaluation(
            decision=MANUAL, rule_id=None, cause="missing", outputs={"decision": MANUAL}, matched=(),
            failed=tuple(missing), **common,
        )  # fmt: skip
    result = model.evaluate(values, [contract["decision"]]).decisions[contract["decision"]]
    value = result.value
    outcome = value.get(contract["outcome"]) if contract["outcome"] and isinstance(value, dict) else value
    outcome = _plain(outcome)
    matched = tuple(str(m) for m in result.matched)
    if result.errors:
        cause = "conflict"
    elif outcome is None:
        cause = "no_match"
    else:
        cause = "rule"
    decision = APPROVE if cause == "rule" and outcome in contract["approve"] else MANUAL
    outputs = {"decision": decision, contract["outcome"] or contract["decision"]: _record_value(outcome)}
    return Evaluation(
        decision=decision, rule_id=matched[0] if matched and cause == "rule" else None, cause=cause,
        outputs=outputs, matched=matched, **common,
    )  # fmt: skip


def _plain(value):
    """A FEEL value as Python: numbers as int/float where exact, text and booleans as they are."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
