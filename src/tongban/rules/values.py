"""FEEL values in Python, and the operations on them that FEEL defines.

    FEEL type                    Python value
    null                         None
    boolean                      bool
    number                       decimal.Decimal, 34 significant digits (IEEE 754 decimal128)
    string                       str
    date                         datetime.date
    time                         datetime.time (local, or with a UTC offset)
    date and time                datetime.datetime (local, with a UTC offset, or with a zone id)
    years and months duration    YearsMonths (a whole number of months)
    days and time duration       DaysTime (Decimal seconds)
    list                         list
    context                      dict (str keys, in entry order)
    range                        Range
    function                     Function

Every operation follows FEEL's rule for missing values: an operand that is null, or of a type the
operation does not take, gives null; it never raises. ``equal`` is the exception the DMN standard
makes: null = null is true and null = 5 is false, while 5 = "5" (two types) is null.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from decimal import (
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Formatted

from .errors import NotRepresentable

# decimal128, as FEEL's number type; traps turn overflow and 0/0 into exceptions we map to null.
DECIMAL = Context(
    prec=34,
    rounding=ROUND_HALF_EVEN,
    Emax=6144,
    Emin=-6143,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
ZERO = Decimal(0)
ONE = Decimal(1)
_MICRO = Decimal("0.000001")
_SECONDS_PER_DAY = 86400


@dataclass(frozen=True, order=True, slots=True)
class YearsMonths:
    """A years and months duration: P1Y2M is 14 months."""

    months: int

    def __str__(self) -> str:
        return format_duration(self)


@dataclass(frozen=True, order=True, slots=True)
class DaysTime:
    """A days and time duration, held as exact seconds (fractions allowed)."""

    seconds: Decimal

    def __str__(self) -> str:
        return format_duration(self)

    def timedelta(self) -> dt.timedelta:
        return dt.timedelta(seconds=int(self.seconds), microseconds=int((self.seconds % 1) * 1_000_000))


@dataclass(frozen=True, slots=True)
class Range:
    """A FEEL range such as [1..10) or, since DMN 1.4, < 10 (an open end is None with ``*_open_end``)."""

    start: object
    end: object
    start_included: bool
    end_included: bool
    start_unbounded: bool = False
    end_unbounded: bool = False

    def contains(self, value) -> bool | None:
        """Three-valued: None when the value cannot be compared with the ends."""
        low = True
        if not self.start_unbounded:
            order = compare(self.start, value)
            if order is None:
                return None
            low = order < 0 or (order == 0 and self.start_included)
        high = True
        if not self.end_unbounded:
            order = compare(value, self.end)
            if order is None:
                return None
            high = order < 0 or (order == 0 and self.end_included)
        return low and high


@dataclass(frozen=True, slots=True)
class Function:
    """A FEEL function value: a built-in, a user-defined ``function(a, b) …`` or a DMN knowledge model.

    ``call`` takes the positional argument values; ``params`` names them, for named invocation.
    """

    name: str
    params: tuple[str, ...]  # a trailing "?" marks an optional parameter
    call: object  # Callable[[list], object]
    variadic: bool = False
    overloads: tuple[tuple[str, ...], ...] = ()  # other signatures, for named arguments

    def bind(self, names: tuple[str, ...], args: list) -> list | None:
        """Positional arguments for a named invocation, or None when no signature takes these names."""
        given = dict(zip(names, args, strict=True))
        for signature in (self.params, *self.overloads):
            plain = [p.rstrip("?") for p in signature]
            required = {p for p in signature if not p.endswith("?")}
            if required <= given.keys() <= set(plain):
                out = [given.get(p) for p in plain]
                while out and plain[len(out) - 1] not in given:
                    out.pop()
                return out
        return None


# --------------------------------------------------------------------------------------------
# Conversion from the Python values callers pass in


def from_python(value):
    """A FEEL value for a plain Python value (JSON types, Decimal, dates); unknown objects are null."""
    if value is None or isinstance(value, str | Decimal | Range | Function | YearsMonths | DaysTime):
        if isinstance(value, Decimal) and not value.is_finite():
            return None
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return Decimal(repr(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value
    if isinstance(value, dt.timedelta):
        return DaysTime(
            Decimal(value.days * _SECONDS_PER_DAY + value.seconds) + Decimal(value.microseconds) * _MICRO
        )
    if isinstance(value, list | tuple):
        return [from_python(v) for v in value]
    if isinstance(value, dict):
        return {str(k): from_python(v) for k, v in value.items()}
    return None


def to_python(value):
    """A JSON-friendly value: numbers as int or float-free Decimal text, temporal values as ISO text."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return value
    if isinstance(value, list):
        return [to_python(v) for v in value]
    if isinstance(value, dict):
        return {k: to_python(v) for k, v in value.items()}
    if isinstance(value, YearsMonths | DaysTime):
        return format_duration(value)
    if isinstance(value, dt.datetime):
        return format_date_time(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return format_time(value)
    if isinstance(value, Range):
        return format_range(value)
    if isinstance(value, Function):
        return f"function {value.name}"
    return value


# --------------------------------------------------------------------------------------------
# Type names


def type_name(value) -> str:
    """The FEEL type of a value, as ``instance of`` and messages name it."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dt.datetime):
        return "date and time"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, YearsMonths):
        return "years and months duration"
    if isinstance(value, DaysTime):
        return "days and time duration"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "context"
    if isinstance(value, Range):
        return "range"
    if isinstance(value, Function):
        return "function"
    return "Any"


# --------------------------------------------------------------------------------------------
# Equality and order


def _comparable_datetimes(a: dt.datetime, b: dt.datetime) -> bool:
    return (a.tzinfo is None) == (b.tzinfo is None)


def _time_key(value: dt.time):
    """Seconds since midnight UTC for a time with an offset; local times compare as they are."""
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1_000_000
    offset = value.utcoffset()
    if offset is not None:
        seconds -= offset.total_seconds()
    return seconds


def equal(a, b) -> bool | None:
    """FEEL ``=``: true, false, or null when the two values are of different types."""
    if a is None or b is None:
        return a is None and b is None
    ta, tb = type(a), type(b)
    if ta is tb and ta in (str, Decimal, bool, YearsMonths, DaysTime):
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return None  # bool is an int subclass in Python: keep it apart from numbers
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b
    if isinstance(a, dt.datetime) or isinstance(b, dt.datetime):
        if not (isinstance(a, dt.datetime) and isinstance(b, dt.datetime)):
            return None
        if not _comparable_datetimes(a, b):
            return None  # a local time and a zoned one: FEEL cannot tell
        return a == b
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        return a == b
    if isinstance(a, dt.time) and isinstance(b, dt.time):
        if (a.utcoffset() is None) != (b.utcoffset() is None):
            return False
        return _time_key(a) == _time_key(b)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return False
        return _all_equal(zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return False
        return _all_equal((a[k], b[k]) for k in a)
    if isinstance(a, Range) and isinstance(b, Range):
        return (
            a.start_unbounded == b.start_unbounded
            and a.end_unbounded == b.end_unbounded
            and a.start_included == b.start_included
            and a.end_included == b.end_included
            and equal(a.start, b.start) is True
            and equal(a.end, b.end) is True
        )
    if isinstance(a, Function) and isinstance(b, Function):
        return a is b
    return None


def _all_equal(pairs) -> bool | None:
    unknown = False
    for x, y in pairs:
        same = equal(x, y)
        if same is False:
            return False
        if same is None:
            unknown = True
    return None if unknown else True


def compare(a, b) -> int | None:
    """-1, 0 or 1 for values FEEL can order (numbers, strings, dates, times, date-times, durations of
    one kind); None for anything else, null included."""
    if a is None or b is None:
        return None
    ta, tb = type(a), type(b)
    if (ta is Decimal and tb is Decimal) or (ta is str and tb is str):
        return (a > b) - (a < b)
    if isinstance(a, bool) or isinstance(b, bool):
        return None
    if isinstance(a, dt.datetime) or isinstance(b, dt.datetime):
        if not (isinstance(a, dt.datetime) and isinstance(b, dt.datetime)) or not _comparable_datetimes(a, b):
            return None
        return (a > b) - (a < b)
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        return (a > b) - (a < b)
    if isinstance(a, dt.time) and isinstance(b, dt.time):
        if (a.utcoffset() is None) != (b.utcoffset() is None):
            return None
        ka, kb = _time_key(a), _time_key(b)
        return (ka > kb) - (ka < kb)
    if ta is tb and ta in (YearsMonths, DaysTime):
        return (a > b) - (a < b)
    return None


# --------------------------------------------------------------------------------------------
# Arithmetic


def _number(value) -> bool:
    return type(value) is Decimal


def add(a, b):
    if a is None or b is None:
        return None
    try:
        if _number(a) and _number(b):
            return DECIMAL.add(a, b)
        if type(a) is str and type(b) is str:
            return a + b
        if isinstance(a, YearsMonths) and isinstance(b, YearsMonths):
            return YearsMonths(a.months + b.months)
        if isinstance(a, DaysTime) and isinstance(b, DaysTime):
            return DaysTime(DECIMAL.add(a.seconds, b.seconds))
        if isinstance(a, YearsMonths | DaysTime) and isinstance(b, dt.date | dt.time):
            a, b = b, a
        if isinstance(b, YearsMonths):
            if isinstance(a, dt.datetime | dt.date):
                return add_months(a, b.months)
            return None
        if isinstance(b, DaysTime):
            if isinstance(a, dt.datetime):
                return a + b.timedelta()
            if isinstance(a, dt.date):
                # a date plus a duration is the date of (midnight of the date + the duration)
                moment = dt.datetime.combine(a, dt.time()) + b.timedelta()
                return moment.date()
            if isinstance(a, dt.time):
                moment = dt.datetime.combine(dt.date(2000, 1, 1), a.replace(tzinfo=None)) + b.timedelta()
                return moment.time().replace(tzinfo=a.tzinfo)
    except OverflowError:
        raise NotRepresentable(
            _("the result lies outside the years 1 to 9999, which this engine supports")
        ) from None
    except (ArithmeticError, ValueError):
        return None
    return None


def negate(a):
    if _number(a):
        return -a
    if isinstance(a, YearsMonths):
        return YearsMonths(-a.months)
    if isinstance(a, DaysTime):
        return DaysTime(-a.seconds)
    return None


def subtract(a, b):
    if a is None or b is None:
        return None
    try:
        if _number(a) and _number(b):
            return DECIMAL.subtract(a, b)
        if isinstance(b, YearsMonths | DaysTime) and isinstance(
            a, dt.date | dt.time | YearsMonths | DaysTime
        ):
            return add(a, negate(b))
        if (
            isinstance(a, dt.datetime) != isinstance(b, dt.datetime)
            and isinstance(a, dt.date)
            and isinstance(b, dt.date)
        ):
            # a date against a date and time: midnight of that date, in UTC when the other has a zone
            other = a if isinstance(a, dt.datetime) else b
            if other.tzinfo is None:
                return None  # the TCK's reading: only a zoned date and time fixes the date's instant
            zone = dt.UTC
            if not isinstance(a, dt.datetime):
                a = dt.datetime.combine(a, dt.time(), tzinfo=zone)
            else:
                b = dt.datetime.combine(b, dt.time(), tzinfo=zone)
        if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
            if not _comparable_datetimes(a, b):
                return None
            return _seconds_between(b, a)
        if isinstance(a, dt.date) and isinstance(b, dt.date):
            if isinstance(a, dt.datetime) or isinstance(b, dt.datetime):
                return None
            return DaysTime(Decimal((a - b).days * _SECONDS_PER_DAY))
        if isinstance(a, dt.time) and isinstance(b, dt.time):
            if (a.utcoffset() is None) != (b.utcoffset() is None):
                return None
            return DaysTime(DECIMAL.subtract(Decimal(repr(_time_key(a))), Decimal(repr(_time_key(b)))))
    except OverflowError:
        raise NotRepresentable(
            _("the result lies outside the years 1 to 9999, which this engine supports")
        ) from None
    except (ArithmeticError, ValueError):
        return None
    return None


def _seconds_between(start: dt.datetime, end: dt.datetime) -> DaysTime:
    delta = end - start
    return DaysTime(
        Decimal(delta.days * _SECONDS_PER_DAY + delta.seconds) + Decimal(delta.microseconds) * _MICRO
    )


def multiply(a, b):
    if a is None or b is None:
        return None
    try:
        if _number(a) and _number(b):
            return DECIMAL.multiply(a, b)
        if _number(a) and isinstance(b, YearsMonths | DaysTime):
            a, b = b, a
        if isinstance(a, YearsMonths) and _number(b):
            return YearsMonths(int(DECIMAL.multiply(Decimal(a.months), b).to_integral_value(ROUND_DOWN)))
        if isinstance(a, DaysTime) and _number(b):
            return DaysTime(DECIMAL.multiply(a.seconds, b))
    except ArithmeticError:
        return None
    return None


def divide(a, b):
    if a is None or b is None:
        return None
    try:
        if _number(a) and _number(b):
            return DECIMAL.divide(a, b)
        if isinstance(a, YearsMonths) and _number(b):
            return YearsMonths(int(DECIMAL.divide(Decimal(a.months), b).to_integral_value(ROUND_DOWN)))
        if isinstance(a, DaysTime) and _number(b):
            return DaysTime(DECIMAL.divide(a.seconds, b))
        if isinstance(a, YearsMonths) and isinstance(b, YearsMonths):
            return DECIMAL.divide(Decimal(a.months), Decimal(b.months))
        if isinstance(a, DaysTime) and isinstance(b, DaysTime):
            return DECIMAL.divide(a.seconds, b.seconds)
    except ArithmeticError:
        return None  # division by zero is null in FEEL
    return None


MAX_EXPONENT = 1_000_000


def power(a, b):
    if not (_number(a) and _number(b)):
        return None
    try:
        if b == b.to_integral_value():
            if abs(b) > MAX_EXPONENT:
                return None
            return DECIMAL.power(a, int(b))
        return DECIMAL.power(a, b)
    except ArithmeticError:
        return None


# --------------------------------------------------------------------------------------------
# Dates, times and durations: parsing and formatting


def add_months(value, months: int):
    """The same day ``months`` later, on the month's last day when it has no such day."""
    total = value.year * 12 + (value.month - 1) + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise NotRepresentable(_("the result lies outside the years 1 to 9999, which this engine supports"))
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


_DATE = re.compile(r"(-?(?:[1-9]\d{4,8}|\d{4}))-(\d{2})-(\d{2})")  # no leading zeros past 4 digits
_TIME = re.compile(
    r"(\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:(Z)|([+-])(\d{2}):(\d{2})(?::(\d{2}))?|@([A-Za-z0-9_/+\-]+))?"
)


def _too_far(text: str):
    return NotRepresentable(
        Formatted(
            _("“%(text)s” lies outside the years 1 to 9999, which this engine supports"), {"text": text}
        )
    )


def _too_fine(text: str):
    return NotRepresentable(
        Formatted(_("“%(text)s” is finer than a microsecond, which this engine supports"), {"text": text})
    )


_YEARS_MONTHS = re.compile(r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?")
_DAYS_TIME = re.compile(r"(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d*)?)S)?)?")
_FULL_DURATION = re.compile(
    r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)


def parse_date(text: str) -> dt.date | None:
    match = _DATE.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match:
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if not 1 <= year <= 9999:
        raise _too_far(text.strip())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _zone(match, offset_at: int) -> dt.tzinfo | bool | None:
    """The time zone of a time match (groups from ``offset_at``), None when local, False when invalid."""
    zulu, sign, hours, minutes, seconds, zone_id = (match[i] for i in range(offset_at, offset_at + 6))
    if zulu:
        return dt.UTC
    if sign:
        total = int(hours) * 3600 + int(minutes) * 60 + int(seconds or 0)
        if total > 18 * 3600:
            return False
        return dt.timezone(dt.timedelta(seconds=total if sign == "+" else -total))
    if zone_id:
        try:
            return ZoneInfo(zone_id)
        except (ZoneInfoNotFoundError, ValueError):
            return False
    return None


def _clock(match, at: int) -> tuple[int, int, int, int] | None:
    hour, minute, second, fraction = int(match[at]), int(match[at + 1]), int(match[at + 2]), match[at + 3]
    if hour > 23 or minute > 59 or second > 59:
        return None
    digits = (fraction or ".")[1:]
    if len(digits.rstrip("0")) > 6:
        raise _too_fine(match.group(0))
    micro = int(digits[:6].ljust(6, "0"))
    return hour, minute, second, micro


def parse_time(text: str) -> dt.time | None:
    match = _TIME.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match:
        return None
    clock = _clock(match, 1)
    zone = _zone(match, 5)
    if clock is None or zone is False:
        return None
    # a time with a zone id keeps it; without a date it has no fixed offset, so it orders as local
    return dt.time(*clock, tzinfo=zone)


def parse_date_time(text: str) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    text = text.strip()
    if "T" not in text:
        day = parse_date(text)
        return dt.datetime.combine(day, dt.time()) if day else None
    day_text, _sep, time_text = text.partition("T")
    day = parse_date(day_text)
    match = _TIME.fullmatch(time_text)
    if day is None or not match:
        return None
    clock = _clock(match, 1)
    zone = _zone(match, 5)
    if clock is None or zone is False:
        return None
    try:
        return dt.datetime(day.year, day.month, day.day, *clock, tzinfo=zone)
    except ValueError:
        return None


def parse_duration(text: str) -> YearsMonths | DaysTime | None:
    if not isinstance(text, str):
        return None
    text = text.strip()
    if text in ("P", "-P") or text.endswith("T"):
        return None
    match = _YEARS_MONTHS.fullmatch(text)
    if match and (match[2] or match[3]):
        months = int(match[2] or 0) * 12 + int(match[3] or 0)
        return YearsMonths(-months if match[1] else months)
    match = _DAYS_TIME.fullmatch(text)
    if match and any(match[i] for i in range(2, 6)):
        seconds = Decimal(
            int(match[2] or 0) * _SECONDS_PER_DAY + int(match[3] or 0) * 3600 + int(match[4] or 0) * 60
        ) + Decimal(match[5] or 0)
        return DaysTime(-seconds if match[1] else seconds)
    return None


def parse_any_duration(text: str) -> YearsMonths | DaysTime | None:
    """A duration that may mix years/months with days/time (XML Schema xsd:duration); the TCK writes
    such values. Mixed ones cannot be a single FEEL duration and give None."""
    found = parse_duration(text)
    if found is not None:
        return found
    match = _FULL_DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match and (match[2] or match[3]) and not any(match[i] for i in range(4, 8)):
        months = int(match[2] or 0) * 12 + int(match[3] or 0)
        return YearsMonths(-months if match[1] else months)
    if match and not (match[2] or match[3]) and any(match[i] for i in range(4, 8)):
        return parse_duration(text)
    return None


def format_duration(value: YearsMonths | DaysTime) -> str:
    if isinstance(value, YearsMonths):
        sign = "-" if value.months < 0 else ""
        years, months = divmod(abs(value.months), 12)
        text = (f"{years}Y" if years else "") + (f"{months}M" if months or not years else "")
        return f"{sign}P{text}"
    seconds = value.seconds
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, _SECONDS_PER_DAY)
    hours, rest = divmod(rest, 3600)
    minutes, rest = divmod(rest, 60)
    clock = ""
    if hours:
        clock += f"{int(hours)}H"
    if minutes:
        clock += f"{int(minutes)}M"
    if rest:
        clock += f"{_plain(rest)}S"
    text = (f"{int(days)}D" if days else "") + (f"T{clock}" if clock else "")
    return f"{sign}P{text or 'T0S'}"


def _plain(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text


def format_time(value: dt.time) -> str:
    text = value.strftime("%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + _format_zone(value.tzinfo, value.utcoffset())


def format_date_time(value: dt.datetime) -> str:
    day = value.date().isoformat()
    clock = value.strftime("%H:%M:%S")
    if value.microsecond:
        clock += f".{value.microsecond:06d}".rstrip("0")
    return f"{day}T{clock}" + _format_zone(value.tzinfo, value.utcoffset())


def _format_zone(tz, offset) -> str:
    if tz is None:
        return ""
    if isinstance(tz, ZoneInfo):
        return f"@{tz.key}"
    if offset == dt.timedelta(0):
        return "Z"
    total = int(offset.total_seconds())
    sign = "+" if total >= 0 else "-"
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")


def format_range(value: Range) -> str:
    if value.start_unbounded:
        return ("<= " if value.end_included else "< ") + format_value(value.end)
    if value.end_unbounded:
        return (">= " if value.start_included else "> ") + format_value(value.start)
    return (
        ("[" if value.start_included else "(")
        + format_value(value.start)
        + ".."
        + format_value(value.end)
        + ("]" if value.end_included else ")")
    )


def format_value(value) -> str:
    """FEEL text for a value (what ``string()`` gives for most types, and how messages show values)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dt.datetime):
        return f'date and time("{format_date_time(value)}")'
    if isinstance(value, dt.date):
        return f'date("{value.isoformat()}")'
    if isinstance(value, dt.time):
        return f'time("{format_time(value)}")'
    if isinstance(value, YearsMonths | DaysTime):
        return f'duration("{format_duration(value)}")'
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{format_key(k)}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Range):
        return format_range(value)
    if isinstance(value, Function):
        return f"function {value.name}"
    return str(value)


_PLAIN_KEY = re.compile(r"[^\W\d][\w]*")


def format_key(key: str) -> str:
    return key if _PLAIN_KEY.fullmatch(key) else format_value(key)


def format_number(value: Decimal) -> str:
    """Plain decimal notation without exponent or trailing zeros: 1.20E+3 → 1200."""
    if value == 0:
        return "0"
    text = format(value.normalize(DECIMAL), "f")
    return text


def floor_decimal(value: Decimal, scale: int = 0) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_FLOOR, context=DECIMAL)
