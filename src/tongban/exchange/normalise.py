"""Field mapping and normalisation, driven by a resource's `mapping` JSON rather than code per provider.

    {"columns": {"公民身份号码": "id_number", "姓名": "name", ...},     # source column → field
     "rules": {"id_number": ["id_number"], "birth_date": ["date:%Y/%m/%d|%Y年%m月%d日"],
               "status": ["code:status"], "name": ["halfwidth", "strip"]},
     "codes": {"status": {"1": "正常", "2": "死亡"}},
     "updated_on": "last_change"}                                     # optional: the record's date field

Rules run in order. A rule that cannot make sense of a value (a date in none of the formats, a code
not in its table) is a malformed value: the file is rejected with a per-row report. A value that
parses but fails its check (an ID number with a wrong check character) is kept and flagged by the
quality check, because registries really hold such numbers and the report must show them.
"""

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Formatted
from tongban.core.identifiers import id_check_char, normalize_id_number, normalize_uscc


class Malformed(Exception):
    def __init__(self, field: str, message):
        super().__init__(field)
        self.field, self.message = field, message


def halfwidth(value: str) -> str:
    """Full-width digits, letters and punctuation (１２３Ｘ，) to their ASCII forms."""
    return unicodedata.normalize("NFKC", value)


def id_number_form(value: str) -> str:
    """Canonical shape of an ID number without judging it: half-width, no spaces, upper-case X, and a
    15-digit legacy number converted to 18 digits (insert "19", append the check character)."""
    raw = re.sub(r"[\s\-]", "", halfwidth(value)).upper()
    if len(raw) == 15 and raw.isascii() and raw.isdigit():
        first17 = raw[:6] + "19" + raw[6:]
        raw = first17 + id_check_char(first17)
    return raw


def uscc_form(value: str) -> str:
    return re.sub(r"[\s\-]", "", halfwidth(value)).upper()


def _date(value: str, formats: str, field: str) -> str:
    text = halfwidth(value).strip()
    if formats.startswith("%Y-%m-%d") and len(text) == 10:
        try:  # ISO dates are the common case and parse in C
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    for fmt in [*formats.split("|"), "%Y-%m-%d"]:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise Malformed(field, Formatted(_("%(value)s is not a date in the expected format."), {"value": text}))


def _apply(rule: str, value, field: str, codes: dict):
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    name, _sep, arg = rule.partition(":")
    if name == "strip":
        return value.strip()
    if name == "halfwidth":
        return halfwidth(value)
    if name == "upper":
        return value.upper()
    if name == "id_number":
        return id_number_form(value)
    if name == "uscc":
        return uscc_form(value)
    if name == "date":
        return _date(value, arg or "%Y-%m-%d", field) if value.strip() else ""
    if name == "code":
        table = codes.get(arg, {})
        key = halfwidth(value).strip()
        if key == "":
            return ""
        if key not in table:
            raise Malformed(field, Formatted(_("%(value)s is not in the code table."), {"value": key}))
        return table[key]
    if name == "int":
        text = halfwidth(value).strip()
        if text == "":
            return None
        try:
            return int(text)
        except ValueError:
            raise Malformed(
                field, Formatted(_("%(value)s is not a whole number."), {"value": text})
            ) from None
    if name == "bool":
        text = halfwidth(value).strip().lower()
        if text in ("1", "true", "是", "y", "yes"):
            return True
        if text in ("0", "false", "否", "n", "no"):
            return False
        if text == "":
            return None
        raise Malformed(field, Formatted(_("%(value)s is not yes or no."), {"value": text}))
    raise Malformed(field, Formatted(_("Unknown normalisation rule %(rule)s."), {"rule": rule}))


def normalise_row(raw: dict, mapping: dict, field_keys: set[str]) -> tuple[dict, list[Malformed]]:
    """Map a provider's row to our fields and normalise each value; returns (record, problems)."""
    columns = mapping.get("columns") or {k: k for k in raw}
    rules = mapping.get("rules", {})
    codes = mapping.get("codes", {})
    record: dict = {}
    problems: list[Malformed] = []
    for source, field in columns.items():
        if field not in field_keys:
            continue
        value = raw.get(source)
        if isinstance(value, dt.date):  # XLSX cells come as dates (or datetimes, a date subclass)
            value = value.strftime("%Y-%m-%d")
        try:
            for rule in rules.get(field, ["strip"]):
                value = _apply(rule, value, field, codes)
        except Malformed as exc:
            problems.append(exc)
            continue
        record[field] = value.strip() if isinstance(value, str) else value
    return record, problems


def key_check(kind: str, value: str) -> str | None:
    """The check the key fails ("checksum", "format", …), or None when it is a valid identifier."""
    try:
        if kind == "enterprise":
            normalize_uscc(value)
        else:
            normalize_id_number(value)
    except ValidationError as exc:
        return exc.code or "invalid"
    return None


def kind_of(declared: str, key: str) -> str:
    """Person or enterprise, for a key of a resource keyed by `declared` (person, enterprise, any).
    For "any", a valid ID number is a person first: an all-digit string passes the credit code's
    pattern, and about one in 31 would pass its check as well."""
    if declared != "any":
        return declared
    if key_check("person", key) is None:
        return "person"
    return "enterprise" if key_check("enterprise", key) is None else "person"
