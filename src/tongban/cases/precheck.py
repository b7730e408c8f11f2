"""智能预审: what a scanned material says, and whether it agrees with the application.

Three steps, none of which touches the database: `classify` tells which kind of document the text
is (by the words every such document prints), `extract` pulls out the fields of that kind (names,
ID numbers and credit codes that pass their check character, dates, addresses, a seal), and
`compare` sets them against what the case says (`Facts`: the applicant, the enterprise, the form),
giving one finding per field: match, mismatch, unreadable, expired or wrong document type.

OCR confuses look-alike characters (O and 0, I and 1, S and 5); an ID number or a credit code is
accepted only when its check character (GB 11643, GB 32100) holds, after trying those swaps, so a
misread number is "unreadable", never a false mismatch.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tongban.core.identifiers import is_valid_id_number, is_valid_uscc
from tongban.core.masking import mask_id_number

KIND_LABELS = {
    "id_card": _("resident ID card (居民身份证)"),
    "business_licence": _("business licence (营业执照)"),
    "property_certificate": _("real-estate title certificate (不动产权证书)"),
    "application_form": _("signed application form (申请表)"),
    "household_register": _("household register (户口簿)"),
    "unknown": _("not recognised"),
}
FIELD_LABELS = {
    "kind": pgettext_lazy("precheck", "document type"),
    "name": pgettext_lazy("precheck", "name"),
    "id_number": pgettext_lazy("precheck", "ID number"),
    "uscc": pgettext_lazy("precheck", "unified social credit code"),
    "legal_representative": pgettext_lazy("precheck", "legal representative"),
    "address": pgettext_lazy("precheck", "address"),
    "valid_until": pgettext_lazy("precheck", "valid until"),
    "date": pgettext_lazy("precheck", "date"),
    "seal": pgettext_lazy("precheck", "seal"),
    "text": pgettext_lazy("precheck", "text"),
}
OUTCOMES = ("match", "mismatch", "unreadable", "expired", "wrong_kind")
OUTCOME_LABELS = {
    "match": pgettext_lazy("precheck", "matches"),
    "mismatch": pgettext_lazy("precheck", "does not match"),
    "unreadable": pgettext_lazy("precheck", "unreadable"),
    "expired": pgettext_lazy("precheck", "expired"),
    "wrong_kind": pgettext_lazy("precheck", "wrong document type"),
}
# The worst finding names the material's result.
SEVERITY = {"match": 0, "unreadable": 1, "expired": 2, "mismatch": 3, "wrong_kind": 4}

# Words that mark each kind, with their weight; the kind with the highest total wins if it reaches
# KIND_THRESHOLD.
_MARKS = {
    "id_card": (("居民身份证", 3), ("签发机关", 2), ("有效期限", 2), ("公民身份号码", 1), ("民族", 1)),
    "household_register": (("常住人口登记卡", 3), ("户口簿", 3), ("户主", 2), ("登记日期", 1)),
    "business_licence": (
        ("营业执照", 3),
        ("统一社会信用代码", 2),
        ("法定代表人", 1),
        ("营业期限", 1),
        ("注册资本", 1),
    ),
    "property_certificate": (
        ("不动产权", 3),
        ("权利人", 2),
        ("不动产单元号", 2),
        ("坐落", 1),
        ("权利类型", 1),
    ),
    "application_form": (
        ("申请表", 3),
        ("申请书", 3),
        ("登记表", 2),
        ("签字", 2),
        ("签名", 2),
        ("申请日期", 2),
        ("申请人", 1),
    ),
}
KIND_THRESHOLD = 3

# Which kind a material of the catalogue is, from its name (the catalogue has no type field for
# materials); the first pattern that matches decides. Materials matching none are not pre-checked.
_MATERIAL_KINDS = (
    ("household_register", re.compile(r"户口")),
    ("id_card", re.compile(r"身份证")),
    ("business_licence", re.compile(r"营业执照")),
    ("property_certificate", re.compile(r"不动产权|房产证|房屋所有权证")),
    ("application_form", re.compile(r"申请表|申请书|登记表")),
)

# Which fields each kind carries (what extraction is scored on, and what is expected to be read).
KIND_FIELDS = {
    "id_card": ("name", "id_number", "address", "valid_until"),
    "household_register": ("name", "id_number", "address", "seal"),
    "business_licence": ("name", "uscc", "legal_representative", "address", "valid_until", "seal"),
    "property_certificate": ("name", "address", "date", "seal"),
    "application_form": ("name", "id_number", "address", "date"),
}


def material_kind(material_name: str) -> str | None:
    """The document kind a material of this name should be, or None when we cannot tell."""
    for kind, pattern in _MATERIAL_KINDS:
        if pattern.search(material_name or ""):
            return kind
    return None


def _normal(text: str) -> str:
    """Full-width to half-width, no spaces: how labels and values are matched."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def classify(lines: list[str]) -> str:
    text = _normal("".join(lines))
    scores = {kind: sum(w for word, w in marks if word in text) for kind, marks in _MARKS.items()}
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] >= KIND_THRESHOLD else "unknown"


# --- identifiers ---------------------------------------------------------------------------------

# OCR look-alikes, read as the character they most likely are.
_TO_DIGIT = str.maketrans(
    {
        "O": "0",
        "o": "0",
        "D": "0",
        "Q": "0",
        "I": "1",
        "l": "1",
        "|": "1",
        "Z": "2",
        "S": "5",
        "B": "8",
        "G": "6",
        "x": "X",
        "×": "X",
    }
)
_ID_CANDIDATE = re.compile(r"[0-9OoDQIl|ZSBG]{17}[0-9Xx×OoDQIl|ZSBG]")
_USCC_CANDIDATE = re.compile(r"[0-9A-Z]{18}")
_USCC_SWAPS = str.maketrans({"O": "0", "I": "1", "Z": "2", "S": "5", "V": "U"})


def find_id_numbers(text: str) -> tuple[list[str], bool]:
    """Valid 18-character ID numbers in the text (check character holds), and whether something
    shaped like one was seen that did not pass (a misread, or a forged number)."""
    text = _normal(text)
    found, seen = [], False
    for match in _ID_CANDIDATE.finditer(text):
        seen = True
        raw = match.group(0)
        head, last = raw[:17].translate(_TO_DIGIT), raw[17].translate(_TO_DIGIT)
        candidate = head + last.upper()
        valid = candidate.isascii() and candidate[:17].isdigit() and is_valid_id_number(candidate)
        if valid and candidate not in found:
            found.append(candidate)
    return found, seen and not found


def find_uscc(text: str) -> tuple[list[str], bool]:
    text = _normal(text).upper()
    found, seen = [], False
    for match in _USCC_CANDIDATE.finditer(text):
        raw = match.group(0)
        if raw.isdigit() and is_valid_id_number(raw):
            continue  # an ID number, not a credit code
        seen = True
        candidate = raw.translate(_USCC_SWAPS)
        if is_valid_uscc(candidate) and candidate not in found:
            found.append(candidate)
    return found, seen and not found


# --- fields --------------------------------------------------------------------------------------

_CN_DATE = re.compile(r"(\d{4})[年.\-/](\d{1,2})[月.\-/](\d{1,2})日?")
_STOP_LABELS = (
    "性别", "民族", "出生", "住址", "公民身份号码", "户主或与户主关系", "户主", "类型", "法定代表人",
    "注册资本", "成立日期", "营业期限", "住所", "登记机关", "共有情况", "坐落", "不动产单元号", "权利类型",
    "用途", "面积", "登记日期", "身份证号码", "联系电话", "联系地址", "申请事项", "申请日期", "签发机关",
    "有效期限", "经营范围", "统一社会信用代码", "名称",
)  # fmt: skip


def _after(text: str, labels: tuple[str, ...]) -> str | None:
    """The value printed after the first of `labels` found in `text`, up to the next label."""
    for label in labels:
        index = text.find(label)
        if index < 0:
            continue
        value = text[index + len(label) :].lstrip(":：")
        cut = len(value)
        for stop in _STOP_LABELS:
            if stop == label:
                continue
            found = value.find(stop)
            if 0 <= found < cut:
                cut = found
        value = value[:cut].strip(":：")
        if value:
            return value
    return None


def _line_after(lines: list[str], labels: tuple[str, ...], *, joined_with_next: bool = False) -> str | None:
    """Like _after, line by line (a label's value is on its line); with `joined_with_next`, lines
    that follow and carry no label are added (an address wraps on an ID card)."""
    normal = [_normal(line) for line in lines]
    for i, line in enumerate(normal):
        value = _after(line, labels)
        if value is None:
            continue
        if joined_with_next:
            for following in normal[i + 1 : i + 3]:
                if any(stop in following for stop in _STOP_LABELS) or find_id_numbers(following)[0]:
                    break
                if len(following) >= 2 and not _CN_DATE.search(following):
                    value += following
        return value
    return None


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    match = _CN_DATE.search(text)
    if not match:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


_FOREVER = "长期"


def _until(text: str | None):
    """The end of a validity period ("2016.02.18-2036.02.18", "…至2045年7月20日", "…至长期"):
    a date, the string "长期" (no end), or None when not read."""
    if not text:
        return None
    if _FOREVER in text:
        return _FOREVER
    dates = list(_CN_DATE.finditer(text))
    return _date(dates[-1].group(0)) if len(dates) >= 2 or "至" in text or "-" in text else None


_NAME = re.compile(r"[\u4e00-\u9fff·]{2,30}")


def _name(value: str | None, *, longest: int = 5) -> str | None:
    if not value:
        return None
    match = _NAME.match(value)
    if not match:
        return None
    return match.group(0)[: longest if longest else None]


@dataclass
class Extracted:
    kind: str
    fields: dict = field(default_factory=dict)
    unreadable: set = field(default_factory=set)  # fields the kind carries that could not be read


def extract(lines: list[str], seal: bool, kind: str | None = None) -> Extracted:
    """The fields of a document of `kind` (classified from the text when not given)."""
    kind = kind or classify(lines)
    text = _normal("".join(lines))
    found: dict = {}
    if kind in ("id_card", "household_register", "application_form"):
        ids, _bad = find_id_numbers(text)
        if ids:
            found["id_number"] = ids[0]
    if kind == "business_licence":
        codes, _bad = find_uscc(text)
        if codes:
            found["uscc"] = codes[0]
    if kind in ("id_card", "household_register"):
        found["name"] = _name(_line_after(lines, ("姓名",)))
        found["address"] = _line_after(lines, ("住址",), joined_with_next=kind == "id_card")
    if kind == "id_card":
        found["valid_until"] = _until(_after(text, ("有效期限",)))
    if kind == "business_licence":
        found["name"] = _name(_line_after(lines, ("名称",)), longest=0)
        found["legal_representative"] = _name(_line_after(lines, ("法定代表人", "经营者", "负责人")))
        found["address"] = _line_after(lines, ("住所", "经营场所"))
        found["valid_until"] = _until(_after(text, ("营业期限",)))
    if kind == "property_certificate":
        found["name"] = _name(_line_after(lines, ("权利人",)), longest=0)
        found["address"] = _line_after(lines, ("坐落",))
        found["date"] = _date(_after(text, ("登记日期",)))
    if kind == "application_form":
        found["name"] = _name(_line_after(lines, ("申请人姓名", "姓名", "申请人")))
        found["address"] = _line_after(lines, ("联系地址", "住址", "地址"))
        found["date"] = _date(_after(text, ("申请日期", "日期")))
    if kind in ("business_licence", "property_certificate", "household_register"):
        found["seal"] = seal
    fields = {k: v for k, v in found.items() if v not in (None, "")}
    unreadable = {f for f in KIND_FIELDS.get(kind, ()) if f not in fields and f != "seal"}
    return Extracted(kind=kind, fields=fields, unreadable=unreadable)


# --- comparing with the application ----------------------------------------------------------------


@dataclass
class Facts:
    """What the case says, to compare a document with. Each set holds every value the case accepts
    for the field (the applicant's own, the form's); empty means nothing to compare with."""

    names: set = field(default_factory=set)
    id_numbers: set = field(default_factory=set)
    uscc: set = field(default_factory=set)
    enterprise_names: set = field(default_factory=set)
    legal_representatives: set = field(default_factory=set)
    today: dt.date = field(default_factory=dt.date.today)


def _finding(field_name: str, outcome: str, *, read="", expected="", source="") -> dict:
    return {"field": field_name, "outcome": outcome, "read": read, "expected": expected, "source": source}


def _shown(field_name: str, value) -> str:
    """A value as it may be stored and shown: ID numbers masked (personal data, DOMAIN rules)."""
    if value is None:
        return ""
    if field_name == "id_number":
        return mask_id_number(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)[:120]


def _same_name(a: str, b: str) -> bool:
    return _normal(a) == _normal(b)


def compare(extracted: Extracted, expected_kind: str | None, facts: Facts) -> list[dict]:
    """Findings for one material: the kind first; when the kind is wrong nothing else is judged."""
    findings = []
    if extracted.kind == "unknown":
        return [_finding("kind", "unreadable" if expected_kind else "match")]
    if expected_kind and extracted.kind != expected_kind:
        return [_finding("kind", "wrong_kind", read=extracted.kind, expected=expected_kind)]
    findings.append(_finding("kind", "match", read=extracted.kind))
    got = extracted.fields
    person_kind = extracted.kind in ("id_card", "household_register", "application_form")

    def against(field_name, value, accepted, same=lambda a, b: a == b, source="application"):
        if value is None:
            if field_name in extracted.unreadable:
                findings.append(_finding(field_name, "unreadable"))
            return
        if not accepted:
            findings.append(_finding(field_name, "match", read=_shown(field_name, value), source="read"))
            return
        ok = any(same(value, a) for a in accepted)
        expected = sorted(accepted)[0]
        findings.append(
            _finding(
                field_name,
                "match" if ok else "mismatch",
                read=_shown(field_name, value),
                expected=_shown(field_name, expected),
                source=source,
            )
        )

    if person_kind:
        against("name", got.get("name"), facts.names, _same_name)
        against("id_number", got.get("id_number"), facts.id_numbers)
    elif extracted.kind == "business_licence":
        against("name", got.get("name"), facts.enterprise_names, _same_name, source="register")
        against("uscc", got.get("uscc"), facts.uscc)
        against(
            "legal_representative",
            got.get("legal_representative"),
            facts.legal_representatives,
            _same_name,
            source="register",
        )
    elif extracted.kind == "property_certificate":
        against("name", got.get("name"), facts.names | facts.enterprise_names, _same_name)
    if "address" in got:
        findings.append(_finding("address", "match", read=_shown("address", got["address"]), source="read"))
    elif "address" in extracted.unreadable:
        findings.append(_finding("address", "unreadable"))
    until = got.get("valid_until")
    if isinstance(until, dt.date):
        outcome = "expired" if until < facts.today else "match"
        findings.append(_finding("valid_until", outcome, read=until.isoformat()))
    elif until == _FOREVER:
        findings.append(_finding("valid_until", "match", read=_FOREVER))
    elif "valid_until" in extracted.unreadable:
        findings.append(_finding("valid_until", "unreadable"))
    if "date" in got:
        findings.append(_finding("date", "match", read=_shown("date", got["date"]), source="read"))
    if extracted.kind in ("business_licence", "property_certificate"):
        findings.append(
            _finding("seal", "match" if got.get("seal") else "mismatch", read=_shown("seal", got.get("seal")))
        )
    return findings


def outcome_of(findings: list[dict]) -> str:
    """The material's result: its worst finding."""
    if not findings:
        return "unreadable"
    return max((f["outcome"] for f in findings), key=lambda o: SEVERITY[o])
