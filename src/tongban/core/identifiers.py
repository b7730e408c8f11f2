"""National identifiers: GB 11643 citizen ID numbers, GB 32100 unified social credit codes,
mobile numbers and GB/T 2260 region codes.

Each `normalize_*` function accepts what people really type (full-width characters, spaces,
lower-case x, 15-digit legacy IDs, +86 prefixes), returns the canonical form, and raises a
Django ValidationError whose code says which rule failed, so forms, the API and imports can
all report it per field.
"""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB/T 2260 province-level prefixes; 81/82/83 appear in residence permits for Hong Kong,
# Macao and Taiwan residents.
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}
USCC_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$", re.ASCII)

MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$", re.ASCII)


def _half_width(value: str) -> str:
    # NFKC folds full-width digits and letters (１２３Ｘ) to ASCII.
    return unicodedata.normalize("NFKC", value)


def _digits(value: str) -> bool:
    # str.isdigit() also accepts non-ASCII digits (Arabic-Indic, Ethiopic …) that NFKC leaves alone.
    return value.isascii() and value.isdigit()


def _compact(value) -> str:
    if value is None:
        return ""
    return re.sub(r"[\s\-]", "", _half_width(str(value)))


# --- GB 11643 citizen identity number -----------------------------------------------------------


def id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def _birth_date(yyyymmdd: str, today: dt.date | None = None) -> dt.date:
    try:
        born = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        raise ValidationError(
            _("The date of birth in the ID number (%(date)s) is not a real date."),
            code="birth_date",
            params={"date": yyyymmdd},
        ) from None
    today = today or dt.date.today()
    if born.year < 1900 or born > today:
        raise ValidationError(
            _("The date of birth in the ID number (%(date)s) is out of range."),
            code="birth_date",
            params={"date": yyyymmdd},
        )
    return born


def normalize_id_number(value, today: dt.date | None = None) -> str:
    """Return the 18-digit form of a GB 11643 number, converting a 15-digit legacy number."""
    raw = _compact(value).upper()
    if not raw:
        raise ValidationError(_("Enter an ID number."), code="required")
    if len(raw) == 15:
        if not _digits(raw):
            raise ValidationError(_("A 15-digit ID number has digits only."), code="format")
        first17 = raw[:6] + "19" + raw[6:]
        raw = first17 + id_check_char(first17)
    elif len(raw) != 18:
        raise ValidationError(
            _("An ID number has 18 characters (or 15 for old numbers); this one has %(n)d."),
            code="length",
            params={"n": len(raw)},
        )
    if not (_digits(raw[:17]) and (_digits(raw[17]) or raw[17] == "X")):
        raise ValidationError(_("An ID number is 17 digits followed by a digit or X."), code="format")
    if raw[:2] not in PROVINCE_PREFIXES:
        raise ValidationError(
            _("The ID number starts with an unknown region code (%(code)s)."),
            code="region",
            params={"code": raw[:6]},
        )
    _birth_date(raw[6:14], today)
    expected = id_check_char(raw[:17])
    if raw[17] != expected:
        raise ValidationError(
            _("The ID number's check character is wrong: expected %(expected)s, got %(got)s."),
            code="checksum",
            params={"expected": expected, "got": raw[17]},
        )
    return raw


@dataclass(frozen=True)
class IdNumberFacts:
    region_code: str
    birth_date: dt.date
    sex: str  # "M" or "F": an odd sequence number means male


def id_number_facts(id_number: str) -> IdNumberFacts:
    number = normalize_id_number(id_number)
    return IdNumberFacts(
        region_code=number[:6],
        birth_date=_birth_date(number[6:14]),
        sex="M" if int(number[16]) % 2 == 1 else "F",
    )


def is_valid_id_number(value) -> bool:
    try:
        normalize_id_number(value)
    except ValidationError:
        return False
    return True


# --- GB 32100 unified social credit code --------------------------------------------------------


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def normalize_uscc(value) -> str:
    raw = _compact(value).upper()
    if not raw:
        raise ValidationError(_("Enter a unified social credit code."), code="required")
    if len(raw) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(n)d."),
            code="length",
            params={"n": len(raw)},
        )
    if not USCC_PATTERN.match(raw):
        raise ValidationError(
            _(
                "A unified social credit code uses digits and capital letters except I, O, S, V and Z, "
                "with a six-digit region code in positions 3–8."
            ),
            code="format",
        )
    expected = uscc_check_char(raw[:17])
    if raw[17] != expected:
        raise ValidationError(
            _("The credit code's check character is wrong: expected %(expected)s, got %(got)s."),
            code="checksum",
            params={"expected": expected, "got": raw[17]},
        )
    return raw


def is_valid_uscc(value) -> bool:
    try:
        normalize_uscc(value)
    except ValidationError:
        return False
    return True


# --- mobile numbers -----------------------------------------------------------------------------


def normalize_mobile(value) -> str:
    raw = _compact(value)
    raw = re.sub(r"^(\+86|0086)", "", raw)
    if not raw:
        raise ValidationError(_("Enter a mobile number."), code="required")
    if not MOBILE_PATTERN.match(raw):
        raise ValidationError(
            _("A mainland mobile number has 11 digits and starts with 13–19."), code="format"
        )
    return raw


# --- GB/T 2260 region codes ---------------------------------------------------------------------

REGION_LEVELS = ("province", "city", "county", "township", "village")


def normalize_region_code(value) -> str:
    """Six digits for province/city/county (GB/T 2260); 9 or 12 for township and village levels."""
    raw = _compact(value)
    if not _digits(raw) or len(raw) not in (6, 9, 12):
        raise ValidationError(_("A region code has 6 digits (9 or 12 below county level)."), code="format")
    if raw[:2] not in PROVINCE_PREFIXES:
        raise ValidationError(_("Unknown province code %(code)s."), code="region", params={"code": raw[:2]})
    if raw[2:4] == "00" and raw[4:6] != "00":
        raise ValidationError(
            _("A county code needs a city part; %(code)s has none."),
            code="structure",
            params={"code": raw[:6]},
        )
    if len(raw) > 6 and raw[4:6] == "00":
        raise ValidationError(_("Township and village codes extend a county code."), code="structure")
    return raw


def region_level(code: str) -> str:
    code = normalize_region_code(code)
    if len(code) == 9:
        return "township"
    if len(code) == 12:
        return "village"
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "city"
    return "county"


def region_parent_code(code: str) -> str | None:
    """The code of the enclosing region, by GB/T 2260's positional structure."""
    code = normalize_region_code(code)
    level = region_level(code)
    if level == "province":
        return None
    if level == "city":
        return code[:2] + "0000"
    if level == "county":
        # Counties directly under a province-level municipality still have a city part (e.g. 1101xx).
        return code[:4] + "00"
    if level == "township":
        return code[:6]
    return code[:9]
