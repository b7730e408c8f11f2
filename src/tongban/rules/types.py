"""DMN types: FEEL's built-in types and a model's item definitions, and whether a value conforms.

A value that does not conform to the type its variable declares becomes null, with an error the
caller sees (DMN 1.5, 7.3.2). The two singleton conversions of DMN 1.4 apply: a one-item list
where a single value is expected becomes that value, and a single value where a collection is
expected becomes a one-item list. For callers that send JSON, text in ISO 8601 form is read as a
date, time, date and time or duration where the type asks for one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from .values import (
    DaysTime,
    Function,
    Range,
    YearsMonths,
    parse_date,
    parse_date_time,
    parse_duration,
    parse_time,
)

# FEEL type names, and the names other tools write for them (DMN 1.1 QNames, XML Schema, Camunda).
BUILTIN_TYPES = {
    "any": "Any",
    "number": "number",
    "integer": "number",
    "int": "number",
    "long": "number",
    "double": "number",
    "decimal": "number",
    "float": "number",
    "string": "string",
    "boolean": "boolean",
    "date": "date",
    "time": "time",
    "datetime": "date and time",
    "date and time": "date and time",
    "dateandtime": "date and time",
    "daytimeduration": "days and time duration",
    "days and time duration": "days and time duration",
    "dt duration": "days and time duration",
    "yearmonthduration": "years and months duration",
    "years and months duration": "years and months duration",
    "ym duration": "years and months duration",
    "context": "context",
    "list": "list",
    "function": "function",
    "range": "range",
}


def builtin_type(type_ref: str | None) -> str | None:
    """The FEEL type a typeRef names (``feel:number``, ``xsd:dateTime``, ``integer``), or None."""
    if not type_ref:
        return None
    name = type_ref.strip()
    if ":" in name and not name.lower().startswith(("date and time",)):
        name = name.rsplit(":", 1)[-1]
    return BUILTIN_TYPES.get(" ".join(name.split()).lower())


@dataclass
class ItemType:
    """An item definition: a base type (FEEL or another item definition), or components; maybe a
    collection; maybe restricted by allowed values (unary tests)."""

    name: str
    base: str | None = None  # a FEEL type name, or the name of another ItemType
    is_collection: bool = False
    components: dict[str, ItemType] = field(default_factory=dict)
    allowed: object = None  # a compiled UnaryTests, or None
    allowed_source: str = ""


class TypeSystem:
    """The types of one model: resolves typeRefs and checks values against them."""

    def __init__(self, items: dict[str, ItemType]):
        self.items = items

    def resolve(self, type_ref: str | None) -> ItemType | str | None:
        """An ItemType, a FEEL type name, or None for no type (anything goes)."""
        if not type_ref:
            return None
        name = type_ref.strip()
        if name in self.items:
            return self.items[name]
        local = name.rsplit(":", 1)[-1] if ":" in name else name
        if local in self.items:
            return self.items[local]
        return builtin_type(name)

    def known(self, type_ref: str | None) -> bool:
        return not type_ref or self.resolve(type_ref) is not None

    def conform(self, value, type_ref, depth: int = 0) -> tuple[object, bool]:
        """(the value, possibly converted; whether it conforms). Null conforms to every type."""
        kind = self.resolve(type_ref) if isinstance(type_ref, str) else type_ref
        return self._conform(value, kind, depth)

    def _conform(self, value, kind, depth: int) -> tuple[object, bool]:
        if value is None or kind is None or depth > 30:
            return value, True
        if isinstance(kind, str):
            return _conform_builtin(value, kind)
        if kind.is_collection:
            if not isinstance(value, list):
                value = [value]  # to a singleton list
            element = ItemType(kind.name, kind.base, False, kind.components, kind.allowed)
            out = []
            for item in value:
                converted, ok = self._conform(item, element, depth + 1)
                if not ok:
                    return None, False
                out.append(converted)
            return out, True
        if isinstance(value, list) and len(value) == 1:
            value = value[0]  # from a singleton list
        if kind.components:
            if not isinstance(value, dict):
                return None, False
            out = dict(value)
            for name, component in kind.components.items():
                converted, ok = self._conform(value.get(name), component, depth + 1)
                if not ok:
                    return None, False
                if name in value:
                    out[name] = converted
            value = out
        elif kind.base is not None:
            base = self.items.get(kind.base) or builtin_type(kind.base)
            if base is None:
                return None, False
            value, ok = self._conform(value, base, depth + 1)
            if not ok:
                return None, False
        if kind.allowed is not None and value is not None and kind.allowed.test(value) is not True:
            return None, False
        return value, True


def _conform_builtin(value, name: str) -> tuple[object, bool]:
    if isinstance(value, list) and len(value) == 1 and name not in ("list", "Any"):
        value = value[0]
    if name == "Any":
        return value, True
    if name == "number":
        return value, type(value) is Decimal
    if name == "string":
        return value, type(value) is str
    if name == "boolean":
        return value, type(value) is bool
    if name == "date":
        if isinstance(value, str):
            value = parse_date(value)
        if isinstance(value, dt.datetime):
            return value, False
        return value, isinstance(value, dt.date)
    if name == "time":
        if isinstance(value, str):
            value = parse_time(value)
        return value, isinstance(value, dt.time)
    if name == "date and time":
        if isinstance(value, str):
            value = parse_date_time(value)
        return value, isinstance(value, dt.datetime)
    if name == "days and time duration":
        if isinstance(value, str):
            value = parse_duration(value)
        return value, isinstance(value, DaysTime)
    if name == "years and months duration":
        if isinstance(value, str):
            value = parse_duration(value)
        return value, isinstance(value, YearsMonths)
    if name == "context":
        return value, isinstance(value, dict)
    if name == "list":
        return (value if isinstance(value, list) else [value]), True
    if name == "function":
        return value, isinstance(value, Function)
    if name == "range":
        return value, isinstance(value, Range)
    return value, False
