"""FEEL's built-in functions of our subset (DMN 1.5, 10.3.4).

Each takes FEEL values and gives a FEEL value; a wrong argument type or count gives null, as the
standard says, never an exception. Regular expressions (matches, replace, split) run on RE2, whose
time is linear in the input, so no pattern a rule author writes can hang an evaluation.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)

import re2
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Formatted

from .errors import EvaluationError, NotRepresentable
from .values import (
    DECIMAL,
    ZERO,
    DaysTime,
    Function,
    Range,
    YearsMonths,
    add,
    compare,
    equal,
    format_date_time,
    format_duration,
    format_number,
    format_time,
    format_value,
    parse_date,
    parse_date_time,
    parse_duration,
    parse_time,
)

MAX_TEXT = 100_000  # longest text a string function builds; longer results are null
MAX_PATTERN = 1_000

REGISTRY: dict[str, Function] = {}


def builtin(name: str, *params: str, variadic: bool = False, overloads: tuple = (), scalar: bool = False):
    """Register a built-in. ``scalar``: it takes no lists, so a one-item list argument is taken as its
    item (DMN 1.4's singleton conversion: ``upper case(names[item = "Bob"])``)."""

    def register(fn):
        call = fn
        if scalar:

            def call(args, fn=fn):
                return fn([a[0] if isinstance(a, list) and len(a) == 1 else a for a in args])

        REGISTRY[name] = Function(name, params, call, variadic, overloads)
        return fn

    return register


def _num(value) -> bool:
    return type(value) is Decimal


def _int(value) -> int | None:
    if _num(value) and value == value.to_integral_value():
        return int(value)
    return None


def _str(value) -> bool:
    return type(value) is str


def _list_arg(args: list) -> list | None:
    """FEEL list functions take a list, or the items as separate arguments."""
    if len(args) == 1 and isinstance(args[0], list):
        return args[0]
    if len(args) == 1 and args[0] is None:
        return None
    return list(args)


# --- boolean ----------------------------------------------------------------------------------


@builtin("not", "negand")
def _not(args):
    if len(args) != 1:
        return None
    value = args[0]
    return (not value) if type(value) is bool else None


# --- conversion -------------------------------------------------------------------------------


@builtin("date", "from", overloads=(("year", "month", "day"),), scalar=True)
def _date(args):
    if len(args) == 1:
        value = args[0]
        if _str(value):
            return parse_date(value)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return None
    if len(args) == 3 and all(_int(a) is not None for a in args):
        year, month, day = (_int(a) for a in args)
        if not 1 <= year <= 9999 and 1 <= month <= 12 and 1 <= day <= 31:
            raise NotRepresentable(
                _("the result lies outside the years 1 to 9999, which this engine supports")
            )
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    return None


@builtin("time", "from", overloads=(("hour", "minute", "second", "offset?"),), scalar=True)
def _time(args):
    if len(args) == 1:
        value = args[0]
        if _str(value):
            return parse_time(value)
        if isinstance(value, dt.datetime):
            return value.timetz() if value.utcoffset() is not None else value.time()
        if isinstance(value, dt.date):
            return dt.time(0, 0, 0, tzinfo=dt.UTC)
        if isinstance(value, dt.time):
            return value
        return None
    if len(args) in (3, 4):
        hour, minute, second = _int(args[0]), _int(args[1]), args[2]
        if hour is None or minute is None or not _num(second):
            return None
        zone = None
        if len(args) == 4 and args[3] is not None:
            if not isinstance(args[3], DaysTime) or abs(args[3].seconds) > 18 * 3600:
                return None
            zone = dt.timezone(args[3].timedelta())
        try:
            whole = int(second)
            micro = int((second - whole) * 1_000_000)
            return dt.time(hour, minute, whole, micro, tzinfo=zone)
        except ValueError:
            return None
    return None


@builtin("date and time", "from", overloads=(("date", "time"),), scalar=True)
def _date_and_time(args):
    if len(args) == 1:
        value = args[0]
        if _str(value):
            return parse_date_time(value)
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, dt.date):
            return dt.datetime.combine(value, dt.time())
        return None
    if len(args) == 2:
        day, clock = args
        if isinstance(day, dt.date) and isinstance(clock, dt.time):
            day = day.date() if isinstance(day, dt.datetime) else day
            return dt.datetime.combine(day, clock)
    return None


@builtin("duration", "from", scalar=True)
def _duration(args):
    return parse_duration(args[0]) if len(args) == 1 and _str(args[0]) else None


@builtin("years and months duration", "from", "to", scalar=True)
def _years_and_months(args):
    if len(args) != 2:
        return None
    start, end = args
    if not (isinstance(start, dt.date) and isinstance(end, dt.date)):
        return None
    a = start.date() if isinstance(start, dt.datetime) else start
    b = end.date() if isinstance(end, dt.datetime) else end
    months = (b.year - a.year) * 12 + (b.month - a.month)
    if months > 0 and b.day < a.day:
        months -= 1
    elif months < 0 and b.day > a.day:
        months += 1
    return YearsMonths(months)


@builtin("number", "from", "grouping separator?", "decimal separator?", scalar=True)
def _number(args):
    if not args or not _str(args[0]):
        return None
    text = args[0].strip()
    grouping = args[1] if len(args) > 1 else None
    decimal_sep = args[2] if len(args) > 2 else None
    if grouping not in (None, " ", ",", ".") or decimal_sep not in (None, ",", "."):
        return None
    if grouping is not None and grouping == decimal_sep:
        return None
    if grouping:
        text = text.replace(grouping, "")
    if decimal_sep:
        text = text.replace(decimal_sep, ".")
    from .parser import _NUMBER  # the FEEL number syntax, with an optional sign

    body = text[1:] if text[:1] in "+-" else text
    if not _NUMBER.fullmatch(body):
        return None
    return DECIMAL.plus(Decimal(text))


@builtin("string", "from")
def _string(args):
    if len(args) != 1:
        return None
    value = args[0]
    if value is None:
        return None
    if _str(value):
        return value
    if _num(value):
        return format_number(value)
    if isinstance(value, dt.datetime):
        return format_date_time(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return format_time(value)
    if isinstance(value, YearsMonths | DaysTime):
        return format_duration(value)
    return format_value(value)


# --- strings ----------------------------------------------------------------------------------


@builtin("substring", "string", "start position", "length?", scalar=True)
def _substring(args):
    if len(args) not in (2, 3) or not _str(args[0]):
        return None
    text = args[0]
    start = int(args[1]) if _num(args[1]) else None
    if start is None or start == 0:
        return None
    chars = list(text)  # code points, as FEEL counts them
    begin = start - 1 if start > 0 else len(chars) + start
    if begin < 0:
        begin = 0
    if len(args) == 3:
        if not _num(args[2]) or args[2] < 0:
            return None
        length = int(args[2])  # a fractional length is truncated, as the TCK expects
        return "".join(chars[begin : begin + length])
    return "".join(chars[begin:])


@builtin("string length", "string", scalar=True)
def _string_length(args):
    return Decimal(len(args[0])) if len(args) == 1 and _str(args[0]) else None


@builtin("upper case", "string", scalar=True)
def _upper(args):
    return args[0].upper() if len(args) == 1 and _str(args[0]) else None


@builtin("lower case", "string", scalar=True)
def _lower(args):
    return args[0].lower() if len(args) == 1 and _str(args[0]) else None


def _two_strings(args) -> bool:
    return len(args) == 2 and _str(args[0]) and _str(args[1])


@builtin("substring before", "string", "match", scalar=True)
def _before(args):
    if not _two_strings(args):
        return None
    text, match = args
    index = text.find(match)
    return text[:index] if index >= 0 else ""


@builtin("substring after", "string", "match", scalar=True)
def _after(args):
    if not _two_strings(args):
        return None
    text, match = args
    index = text.find(match)
    return text[index + len(match) :] if index >= 0 else ""


@builtin("contains", "string", "match", scalar=True)
def _contains(args):
    return args[1] in args[0] if _two_strings(args) else None


@builtin("starts with", "string", "match", scalar=True)
def _starts_with(args):
    return args[0].startswith(args[1]) if _two_strings(args) else None


@builtin("ends with", "string", "match", scalar=True)
def _ends_with(args):
    return args[0].endswith(args[1]) if _two_strings(args) else None


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a bad pattern is null with no noise on stderr


def _unsupported_regex(feature):
    return EvaluationError(
        Formatted(_("regular expressions with %(feature)s are not supported"), {"feature": feature})
    )


def _strip_spaces(pattern: str) -> str:
    """The x flag: whitespace goes, except inside character classes (XPath 3.1)."""
    out, in_class = [], False
    for char in pattern:
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        if in_class or not char.isspace():
            out.append(char)
    return "".join(out)


def _translate(pattern: str, flags: str) -> str:
    """An XPath (XML Schema) regular expression as RE2 reads it. Back-references and character-class
    subtraction, which RE2 cannot run, raise EvaluationError rather than match differently."""
    if "x" in flags:
        pattern = _strip_spaces(pattern)
    out: list[str] = []
    in_class = 0
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            nxt = pattern[i + 1 : i + 2]
            if nxt.isdigit():
                raise _unsupported_regex(_("back-references"))
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if char == "-" and pattern[i + 1 : i + 2] == "[":
                raise _unsupported_regex(_("character class subtraction"))
            if char == "[":
                out.append("\\[")
            else:
                out.append(char)
                if char == "]":
                    in_class -= 1
            i += 1
            continue
        if char == "[":
            in_class += 1
            out.append(char)
            if pattern[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1 : i + 2] == "]":
                out.append("\\]")
                i += 1
        elif char == "." and "s" not in flags:
            out.append("[^\\n\\r]")  # XPath's dot matches neither line feed nor carriage return
        else:
            out.append(char)
        i += 1
    return "".join(out)


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a bad pattern is null with no noise on stderr


@functools.lru_cache(maxsize=256)
def _regex(pattern: str, flags: str):
    """An RE2 pattern for an XPath-style pattern and flags (s, m, i, x; q for a literal)."""
    if len(pattern) > MAX_PATTERN or any(f not in "smixq" for f in flags):
        return None
    pattern = re2.escape(pattern) if "q" in flags else _translate(pattern, flags)
    inline = "".join(f for f in flags if f in "smi")
    if inline:
        pattern = f"(?{inline}){pattern}"
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error:
        return None


@builtin("matches", "input", "pattern", "flags?", scalar=True)
def _matches(args):
    if len(args) not in (2, 3) or not (_str(args[0]) and _str(args[1])):
        return None
    flags = args[2] if len(args) == 3 else ""
    if flags is None:
        flags = ""
    if not _str(flags):
        return None
    compiled = _regex(args[1], flags)
    if compiled is None:
        return None
    return compiled.search(args[0]) is not None


_GROUP = re2.compile(r"\$(\d+)")


@builtin("replace", "input", "pattern", "replacement", "flags?", scalar=True)
def _replace(args):
    if len(args) not in (3, 4) or not all(_str(a) for a in args[:3]):
        return None
    flags = args[3] if len(args) == 4 and args[3] is not None else ""
    if not _str(flags):
        return None
    compiled = _regex(args[1], flags)
    if compiled is None:
        return None
    # XPath writes groups as $1; RE2 (like Python) as \1
    replacement = args[2].replace("\\", "\\\\")
    if "q" not in flags:
        replacement = _GROUP.sub(r"\\g<\1>", replacement)
    try:
        result = compiled.sub(replacement, args[0])
    except (re2.error, IndexError, ValueError):
        return None
    return result if len(result) <= MAX_TEXT else None


@builtin("split", "string", "delimiter", scalar=True)
def _split(args):
    if not _two_strings(args):
        return None
    compiled = _regex(args[1], "")
    if compiled is None or compiled.search("") is not None:
        return None
    return compiled.split(args[0])


@builtin("string join", "list", "delimiter?")
def _string_join(args):
    if args and _str(args[0]):
        args = [[args[0]], *args[1:]]  # a single text is a one-item list
    if len(args) not in (1, 2) or not isinstance(args[0], list):
        return None
    delimiter = args[1] if len(args) == 2 and args[1] is not None else ""
    if not _str(delimiter) or any(x is not None and not _str(x) for x in args[0]):
        return None
    result = delimiter.join(x for x in args[0] if x is not None)
    return result if len(result) <= MAX_TEXT else None


# --- lists ------------------------------------------------------------------------------------


@builtin("list contains", "list", "element")
def _list_contains(args):
    if len(args) != 2 or not isinstance(args[0], list):
        return None
    return any(equal(item, args[1]) is True for item in args[0])


@builtin("count", "list", variadic=True)
def _count(args):
    items = _list_arg(args)
    return Decimal(len(items)) if items is not None else None


def _extreme(args, sign: int):
    items = _list_arg(args)
    if not items:
        return None
    best = items[0]
    for item in items[1:]:
        order = compare(item, best)
        if order is None:
            return None
        if order == sign:
            best = item
    if len(items) == 1 and compare(best, best) is None:
        return None
    return best


@builtin("min", "list", variadic=True)
def _min(args):
    return _extreme(args, -1)


@builtin("max", "list", variadic=True)
def _max(args):
    return _extreme(args, 1)


@builtin("sum", "list", variadic=True)
def _sum(args):
    items = _list_arg(args)
    if not items:
        return None
    total = items[0]
    if not (_num(total) or isinstance(total, YearsMonths | DaysTime)):
        return None
    for item in items[1:]:
        total = add(total, item)
        if total is None:
            return None
    return total


@builtin("product", "list", variadic=True)
def _product(args):
    items = _list_arg(args)
    if not items or not all(_num(x) for x in items):
        return None
    result = items[0]
    try:
        for item in items[1:]:
            result = DECIMAL.multiply(result, item)
    except ArithmeticError:
        return None
    return result


@builtin("mean", "list", variadic=True)
def _mean(args):
    items = _list_arg(args)
    if not items or not all(_num(x) for x in items):
        return None
    try:
        return DECIMAL.divide(functools.reduce(DECIMAL.add, items, ZERO), Decimal(len(items)))
    except ArithmeticError:
        return None


@builtin("median", "list", variadic=True)
def _median(args):
    items = _list_arg(args)
    if items is None or not all(_num(x) for x in items):
        return None
    if not items:
        return None
    ordered = sorted(items)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return DECIMAL.divide(DECIMAL.add(ordered[middle - 1], ordered[middle]), Decimal(2))


@builtin("all", "list", variadic=True)
def _all(args):
    items = _list_arg(args) if args else None
    if items is None:
        return None
    if any(x is False for x in items):
        return False
    if all(x is True for x in items):
        return True
    return None


@builtin("any", "list", variadic=True)
def _any(args):
    items = _list_arg(args) if args else None
    if items is None:
        return None
    if any(x is True for x in items):
        return True
    if all(x is False for x in items):
        return False
    return None


def _position(items: list, position) -> int | None:
    index = _int(position)
    if index is None or index == 0 or abs(index) > len(items):
        return None
    return index - 1 if index > 0 else len(items) + index


@builtin("sublist", "list", "start position", "length?")
def _sublist(args):
    if len(args) not in (2, 3) or not isinstance(args[0], list):
        return None
    items = args[0]
    begin = _position(items, args[1])
    if begin is None:
        return None
    if len(args) == 3:
        length = _int(args[2])
        if length is None or length < 0 or begin + length > len(items):
            return None
        return items[begin : begin + length]
    return items[begin:]


@builtin("append", "list", "item", variadic=True)
def _append(args):
    if not args or not isinstance(args[0], list):
        return None
    return [*args[0], *args[1:]]


@builtin("concatenate", "lists", variadic=True)
def _concatenate(args):
    if not all(isinstance(a, list) for a in args):
        return None
    return [item for a in args for item in a]


@builtin("insert before", "list", "position", "newItem")
def _insert_before(args):
    if len(args) != 3 or not isinstance(args[0], list):
        return None
    index = _position(args[0], args[1])
    if index is None:
        return None
    return [*args[0][:index], args[2], *args[0][index:]]


@builtin("remove", "list", "position")
def _remove(args):
    if len(args) != 2 or not isinstance(args[0], list):
        return None
    index = _position(args[0], args[1])
    if index is None:
        return None
    return [*args[0][:index], *args[0][index + 1 :]]


@builtin("reverse", "list")
def _reverse(args):
    return list(reversed(args[0])) if len(args) == 1 and isinstance(args[0], list) else None


@builtin("index of", "list", "match")
def _index_of(args):
    if len(args) != 2 or not isinstance(args[0], list):
        return None
    return [Decimal(i + 1) for i, item in enumerate(args[0]) if equal(item, args[1]) is True]


def _distinct(items: list) -> list:
    out: list = []
    for item in items:
        if not any(equal(item, seen) is True for seen in out):
            out.append(item)
    return out


@builtin("union", "lists", variadic=True)
def _union(args):
    if not all(isinstance(a, list) for a in args):
        return None
    return _distinct([item for a in args for item in a])


@builtin("distinct values", "list")
def _distinct_values(args):
    return _distinct(args[0]) if len(args) == 1 and isinstance(args[0], list) else None


@builtin("flatten", "list")
def _flatten(args):
    if len(args) != 1 or not isinstance(args[0], list):
        return None

    def flat(items):
        for item in items:
            if isinstance(item, list):
                yield from flat(item)
            else:
                yield item

    return list(flat(args[0]))


@builtin("sort", "list", "precedes?")
def _sort(args):
    if not args or not isinstance(args[0], list):
        return None
    items = list(args[0])
    if len(args) == 1 or args[1] is None:
        for item in items[1:]:
            if compare(items[0], item) is None:
                return None
        return sorted(items, key=functools.cmp_to_key(lambda a, b: compare(a, b)))
    precedes = args[1]
    if not isinstance(precedes, Function):
        return None

    def order(a, b):
        if precedes.call([a, b]) is True:
            return -1
        if precedes.call([b, a]) is True:
            return 1
        return 0

    return sorted(items, key=functools.cmp_to_key(order))


# --- numbers ----------------------------------------------------------------------------------


def _scaled(args, rounding) -> Decimal | None:
    if len(args) not in (1, 2) or not _num(args[0]):
        return None
    scale = 0
    if len(args) == 2:
        if not _num(args[1]):
            return None
        scale = int(args[1])  # a fractional scale is truncated
        if not -6111 <= scale <= 6176:
            return None
    if -args[0].as_tuple().exponent <= scale:
        return args[0]  # already no finer than the scale: nothing to round
    try:
        return args[0].quantize(Decimal(1).scaleb(-scale), rounding=rounding, context=DECIMAL)
    except ArithmeticError:
        return None


@builtin("decimal", "n", "scale", scalar=True)
def _decimal(args):
    return _scaled(args, ROUND_HALF_EVEN) if len(args) == 2 else None


@builtin("floor", "n", "scale?", scalar=True)
def _floor(args):
    return _scaled(args, ROUND_FLOOR)


@builtin("ceiling", "n", "scale?", scalar=True)
def _ceiling(args):
    return _scaled(args, ROUND_CEILING)


@builtin("round up", "n", "scale", scalar=True)
def _round_up(args):
    return _scaled(args, ROUND_UP)


@builtin("round down", "n", "scale", scalar=True)
def _round_down(args):
    return _scaled(args, ROUND_DOWN)


@builtin("round half up", "n", "scale", scalar=True)
def _round_half_up(args):
    return _scaled(args, ROUND_HALF_UP)


@builtin("round half down", "n", "scale", scalar=True)
def _round_half_down(args):
    return _scaled(args, ROUND_HALF_DOWN)


@builtin("abs", "n", scalar=True)
def _abs(args):
    if len(args) != 1:
        return None
    value = args[0]
    if _num(value):
        return abs(value)
    if isinstance(value, YearsMonths):
        return YearsMonths(abs(value.months))
    if isinstance(value, DaysTime):
        return DaysTime(abs(value.seconds))
    return None


@builtin("modulo", "dividend", "divisor", scalar=True)
def _modulo(args):
    if len(args) != 2 or not (_num(args[0]) and _num(args[1])) or args[1] == 0:
        return None
    dividend, divisor = args
    try:
        # FEEL: the result has the sign of the divisor (floored division)
        quotient = DECIMAL.divide(dividend, divisor).to_integral_value(ROUND_FLOOR)
        return DECIMAL.subtract(dividend, DECIMAL.multiply(divisor, quotient))
    except ArithmeticError:
        return None


@builtin("sqrt", "number", scalar=True)
def _sqrt(args):
    if len(args) != 1 or not _num(args[0]) or args[0] < 0:
        return None
    return DECIMAL.sqrt(args[0])


@builtin("log", "number", scalar=True)
def _log(args):
    if len(args) != 1 or not _num(args[0]) or args[0] <= 0:
        return None
    return DECIMAL.ln(args[0])


@builtin("exp", "number", scalar=True)
def _exp(args):
    if len(args) != 1 or not _num(args[0]):
        return None
    try:
        return DECIMAL.exp(args[0])
    except ArithmeticError:
        return None


@builtin("odd", "number", scalar=True)
def _odd(args):
    value = _int(args[0]) if len(args) == 1 else None
    return value % 2 == 1 if value is not None else None


@builtin("even", "number", scalar=True)
def _even(args):
    value = _int(args[0]) if len(args) == 1 else None
    return value % 2 == 0 if value is not None else None


# --- contexts ---------------------------------------------------------------------------------


@builtin("get value", "m", "key")
def _get_value(args):
    if len(args) != 2 or not isinstance(args[0], dict) or not _str(args[1]):
        return None
    return args[0].get(args[1])


@builtin("get entries", "m")
def _get_entries(args):
    if len(args) != 1 or not isinstance(args[0], dict):
        return None
    return [{"key": k, "value": v} for k, v in args[0].items()]


@builtin("context put", "context", "key", "value", overloads=(("context", "keys", "value"),))
def _context_put(args):
    if len(args) != 3 or not isinstance(args[0], dict):
        return None
    context, key, value = args
    if isinstance(key, list):  # DMN 1.5: a path of keys into nested contexts
        if not key or not all(_str(k) for k in key):
            return None
        if len(key) == 1:
            return {**context, key[0]: value}
        inner = context.get(key[0])
        nested = _context_put([inner if isinstance(inner, dict) else {}, key[1:], value])
        if nested is None or (key[0] in context and not isinstance(inner, dict)):
            return None
        return {**context, key[0]: nested}
    if not _str(key):
        return None
    return {**context, key: value}


@builtin("context merge", "contexts")
def _context_merge(args):
    if len(args) == 1 and isinstance(args[0], dict):
        args = [[args[0]]]  # a single context is a one-item list
    if len(args) != 1 or not isinstance(args[0], list) or not all(isinstance(c, dict) for c in args[0]):
        return None
    merged: dict = {}
    for context in args[0]:
        merged.update(context)
    return merged


# --- dates ------------------------------------------------------------------------------------


def _day(args) -> dt.date | None:
    if len(args) != 1 or not isinstance(args[0], dt.date):
        return None
    return args[0].date() if isinstance(args[0], dt.datetime) else args[0]


@builtin("day of year", "date", scalar=True)
def _day_of_year(args):
    day = _day(args)
    return Decimal(day.timetuple().tm_yday) if day else None


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


@builtin("day of week", "date", scalar=True)
def _day_of_week(args):
    day = _day(args)
    return _WEEKDAYS[day.weekday()] if day else None


@builtin("month of year", "date", scalar=True)
def _month_of_year(args):
    day = _day(args)
    return _MONTHS[day.month - 1] if day else None


@builtin("week of year", "date", scalar=True)
def _week_of_year(args):
    day = _day(args)
    return Decimal(day.isocalendar()[1]) if day else None


@builtin("today")
def _today(args):
    return timezone.localdate() if not args else None


@builtin("now")
def _now(args):
    return timezone.localtime() if not args else None


# --- ranges (DMN 1.4) -------------------------------------------------------------------------


def _as_range(value) -> Range | None:
    if isinstance(value, Range):
        return value
    if value is None:
        return None
    return Range(value, value, True, True)


@builtin("before", "point1", "point2")
def _before_fn(args):
    if len(args) != 2:
        return None
    a, b = _as_range(args[0]), _as_range(args[1])
    if a is None or b is None or a.end_unbounded or b.start_unbounded:
        return None if a is None or b is None else False
    order = compare(a.end, b.start)
    if order is None:
        return None
    return order < 0 or (order == 0 and not (a.end_included and b.start_included))


@builtin("after", "point1", "point2")
def _after_fn(args):
    return _before_fn([args[1], args[0]]) if len(args) == 2 else None
