"""Verify-only predicates (可用不可见) evaluated as FEEL by tongban.rules.

A predicate is stored as its conditions, `[field, op, value]` triples that must all hold (ops eq
ne in startswith gte lte contains not_empty; a value `$p` is the caller's parameter p), and as the
same rule in FEEL (`feel`), written when the resource is saved (stored ones by migration 0003):

    [["contribution_months", "gte", "$months"]]   →   contribution_months >= param.months
    [["status", "eq", "正常"], ["region", "eq", "$district"]]
                                                  →   (status = "正常") and (region = param.district)

The FEEL rule is what is evaluated, so predicates follow the platform's one rule for missing
values (docs/rules.md); the triples stay the form a provider edits and say which fields a
predicate reads. Parameters arrive as text from forms and query strings: compared with a number
of the record, a numeric text is taken as that number, as before.
"""

import json
import re

from tongban.rules import compile_expression

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _literal(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format(value, "f") if "e" in repr(value).lower() else repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _operand(field: str, expected) -> str:
    """The compared value in FEEL: the caller's parameter, or a literal. A numeric text literal
    compared with a number of the record is that number (parameters: see _bind)."""
    if isinstance(expected, str) and expected.startswith("$"):
        return f"param.{expected[1:]}"
    if isinstance(expected, str) and _NUMBER.match(expected.strip()):
        return f"(if {field} instance of number then {expected.strip()} else {_literal(expected)})"
    return _literal(expected)


def _text_or_list(tested: str, container: str, item: str) -> str:
    """Python's `in` on text (a substring) or on a list (a member), as the older predicates meant it."""
    return (
        f"(if {tested} instance of string then contains({container}, {item}) "
        f"else list contains({container}, {item}))"
    )


def condition_to_feel(field: str, op: str, expected) -> str:
    value = _operand(field, expected)
    if op == "eq":
        return f"{field} = {value}"
    if op == "ne":
        return f"{field} != {value}"
    if op in ("gte", "lte"):
        return f"{field} {'>=' if op == 'gte' else '<='} {value}"
    if op == "startswith":
        return f"starts with({field}, {value})"
    if op == "in":
        if isinstance(expected, list | tuple):
            return f"list contains({value}, {field})"
        return _text_or_list(value, value, field)
    if op == "contains":
        return _text_or_list(field, field, value)
    if op == "not_empty":
        return (
            f'(if {field} = null then false else if {field} instance of string then {field} != "" '
            f"else if {field} instance of list then count({field}) > 0 else true)"
        )
    raise ValueError(f"unknown operator {op!r}")


def to_feel(conditions: list) -> str:
    """The FEEL text of a predicate's conditions (all of them must hold)."""
    parts = [condition_to_feel(field, op, expected) for field, op, expected in conditions]
    return parts[0] if len(parts) == 1 else " and ".join(f"({p})" for p in parts)


def _bind(record: dict, conditions: list, params: dict) -> dict:
    """The parameters as FEEL sees them: text compared with a number of the record becomes that
    number when it is one (otherwise it stays text, and the comparison does not hold)."""
    bound = {}
    for field, _op, expected in conditions:
        if not (isinstance(expected, str) and expected.startswith("$")):
            continue
        name = expected[1:]
        value = params.get(name)
        number = record.get(field)
        numeric = isinstance(number, int | float) and not isinstance(number, bool)
        if numeric and isinstance(value, str) and _NUMBER.match(value.strip()):
            value = float(value)
        bound.setdefault(name, value)
    return bound


def holds(spec: dict, record: dict, params: dict | None = None) -> bool:
    """Whether the predicate holds for the record: its FEEL rule is true (false and null are not)."""
    conditions = spec.get("all") or []
    text = spec.get("feel") or to_feel(conditions)
    data = {**record, "param": _bind(record, conditions, params or {})}
    fields = frozenset(str(c[0]) for c in conditions)  # keys with symbols or spaces are names too
    try:
        return compile_expression(text, fields).holds(data)
    except Exception:  # a value FEEL cannot take: the predicate does not hold
        return False
