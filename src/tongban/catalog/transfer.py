"""Import and export of the service catalogue (事项清单) as XLSX and CSV files.

Files carry Chinese column headers (export writes them; import also accepts the English keys of
services.IMPORT_COLUMNS) and Chinese labels for enumerated values (行政许可, 全程网办, 低 …; the codes
are accepted too). An XLSX file has the items on its first sheet and their materials on a sheet
named 申请材料; a CSV file holds either items or, as a separate file, materials.

Import is all or nothing. The file is parsed, every row is checked (by services.import_items and
services.clean_material) and every problem is reported as (row, field, problem); if there is any
problem anywhere, nothing is written. Rows are numbered as services.RowProblem counts them: 1 is
the first row under the header; row 0 is the header or the file as a whole. Problems of the
materials sheet have fields starting with "materials.".

Uploads are untrusted: their size, row count and decompressed size are capped, an .xlsx must be a
real Office Open XML package, formulas are never evaluated (openpyxl only reads the value the
spreadsheet program cached), and a cell text starting with "=" is just text. On export, texts that
a spreadsheet program would run as a formula (CSV injection) are written as text: with a leading
apostrophe in CSV, as quote-prefixed string cells in XLSX.
"""

import codecs
import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms
from tongban.accounts.models import Department
from tongban.core import files
from tongban.core.errors import DomainError, FieldErrors, Formatted, InvalidInput

from . import services
from .models import (
    TASK_TYPE_CODES,
    Audience,
    ItemType,
    ItemVersion,
    MaterialForm,
    OnlineLevel,
    RiskLevel,
    ServiceItem,
    VersionStatus,
)
from .services import ITEM_FIELDS, MATERIAL_FIELDS, ImportReport, RowProblem

MAX_BYTES = 10 * 1024 * 1024
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # an XLSX's parts, decompressed (zip bombs)
MAX_ROWS = 20_000  # data rows per sheet
MAX_COLUMNS = 64
MAX_MATERIALS = 60  # per item, as services.set_materials allows

ITEMS_SHEET = "事项清单"
MATERIALS_SHEET = "申请材料"
MATERIALS_SHEET_NAMES = {MATERIALS_SHEET, "materials"}
MATERIALS_PREFIX = "materials."
FILE = "file"  # the field of problems about the file as a whole

# What services._steps splits a text of steps on. Export joins steps with "→" only, and import splits
# a text with "→" on "→" only, so a step may contain the others (审查、决定).
STEP_SEPARATORS = re.compile(r"[→>\n,，、;；]")

# Leading characters that make a spreadsheet program read a cell as a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


# --- columns ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "text"  # text, int, bool, enum, steps, json
    choices: type | None = None
    aliases: tuple[str, ...] = ()


ITEM_COLUMNS = (
    Column("code", "事项编码"),
    Column("department_code", "实施部门编码"),
    Column("name", "事项名称"),
    Column("parent_name", "主事项"),
    Column("item_type", "事项类型", "enum", ItemType),
    Column("legal_basis", "设定依据"),
    Column("conditions", "受理条件"),
    Column("statutory_limit_days", "法定时限", "int"),
    Column("promised_limit_days", "承诺时限", "int"),
    Column("fee", "收费"),
    Column("risk_level", "风险等级", "enum", RiskLevel),
    Column("online_level", "网办深度", "enum", OnlineLevel),
    Column("visits_required", "跑动次数", "int"),
    Column("high_frequency", "高频事项", "bool"),
    Column("audience", "服务对象", "enum", Audience),
    Column("accepts_with_gaps", "容缺受理", "bool"),
    Column("commitment_allowed", "告知承诺", "bool"),
    Column("auto_approvable", "秒批", "bool"),
    Column("keywords", "搜索关键词"),
    Column("steps", "办理流程", "steps"),
    Column("form_fields", "表单字段", "json"),
    Column("licence_type", "出证类型"),
)
assert {c.key for c in ITEM_COLUMNS} == set(services.IMPORT_COLUMNS), "every import column needs a header"

MATERIAL_COLUMNS = (
    Column("code", "事项编码", aliases=("item_code",)),
    Column("position", "序号", "int"),
    Column("name", "材料名称", aliases=("material_name",)),
    Column("required", "必要", "bool"),
    Column("core", "核心", "bool"),
    Column("form", "形式", "enum", MaterialForm),
    Column("copies", "份数", "int"),
    Column("licence_type", "可由证照替代"),
    Column("data_query", "可由共享数据替代"),
    Column("notes", "备注"),
)
assert {c.key for c in MATERIAL_COLUMNS} == {"code", "position", *MATERIAL_FIELDS}

ITEM_REQUIRED = ("code", "department_code")
MATERIAL_REQUIRED = ("code", "name")

# The Chinese label each value is exported as; import accepts these, the codes, the English labels
# and the extra spellings below.
ENUM_LABELS = {
    ItemType: {
        ItemType.LICENSING: "行政许可",
        ItemType.PENALTY: "行政处罚",
        ItemType.ENFORCEMENT: "行政强制",
        ItemType.LEVY: "行政征收",
        ItemType.BENEFIT: "行政给付",
        ItemType.INSPECTION: "行政检查",
        ItemType.CONFIRMATION: "行政确认",
        ItemType.REWARD: "行政奖励",
        ItemType.ADJUDICATION: "行政裁决",
        ItemType.OTHER_POWER: "其他行政权力",
        ItemType.PUBLIC_SERVICE: "公共服务",
    },
    OnlineLevel: {
        OnlineLevel.FULL_ONLINE: "全程网办",
        OnlineLevel.PRE_REVIEW: "网上预审",
        OnlineLevel.OFFLINE: "线下办理",
    },
    RiskLevel: {RiskLevel.LOW: "低", RiskLevel.MEDIUM: "中", RiskLevel.HIGH: "高"},
    Audience: {Audience.PERSON: "个人", Audience.ENTERPRISE: "法人", Audience.BOTH: "个人和法人"},
    MaterialForm: {
        MaterialForm.ORIGINAL: "原件",
        MaterialForm.COPY: "复印件",
        MaterialForm.ELECTRONIC: "电子件",
    },
}
ENUM_ALIASES = {
    ItemType: dict(TASK_TYPE_CODES),  # the national platform's taskType numbers
    OnlineLevel: {"线下": OnlineLevel.OFFLINE, "网办": OnlineLevel.FULL_ONLINE},
    RiskLevel: {"低风险": RiskLevel.LOW, "中风险": RiskLevel.MEDIUM, "高风险": RiskLevel.HIGH},
    Audience: {"自然人": Audience.PERSON, "企业": Audience.ENTERPRISE, "法人和其他组织": Audience.ENTERPRISE},
    MaterialForm: {
        "复印": MaterialForm.COPY,
        "电子": MaterialForm.ELECTRONIC,
        "电子版": MaterialForm.ELECTRONIC,
    },
}
TRUE_WORDS = {"是", "true", "1", "yes", "y", "on", "√", "✓"}
FALSE_WORDS = {"否", "false", "0", "no", "n", "off", "×", "✗"}


def _normalise_header(text: str) -> str:
    """Header text as looked up: no spaces, lower case, without a trailing note such as （工作日）."""
    text = "".join(str(text).split()).lower()
    for opening, closing in (("（", "）"), ("(", ")")):
        if text.endswith(closing) and opening in text and not text.startswith(opening):
            text = text[: text.rindex(opening)]
    return text


@cache
def _header_lookup(columns: tuple[Column, ...]) -> dict[str, Column]:
    lookup = {}
    for column in columns:
        for name in (column.key, column.header, *column.aliases):
            lookup[_normalise_header(name)] = column
    return lookup


@cache
def _enum_lookup(choices: type) -> dict[str, str]:
    lookup = {}
    with translation.override("en"):
        for value, label in zip(choices.values, choices.labels, strict=True):
            lookup[str(label).lower()] = value
    for value, label in ENUM_LABELS[choices].items():
        lookup[label] = value
    lookup.update({k.lower(): v for k, v in ENUM_ALIASES.get(choices, {}).items()})
    lookup.update({value: value for value in choices.values})
    return lookup


def column_header(field: str) -> str:
    """The Chinese header of a problem's field ("department_code" → 实施部门编码), or ""."""
    if field.startswith(MATERIALS_PREFIX):
        columns, key = MATERIAL_COLUMNS, field.removeprefix(MATERIALS_PREFIX)
    else:
        columns, key = ITEM_COLUMNS, field
    return next((c.header for c in columns if c.key == key), "")


# --- reading ---------------------------------------------------------------------------------------


class SheetRow(dict):
    """One data row as import_items takes it, remembering its row number in the file."""

    def __init__(self, number: int, values=()):
        super().__init__(values)
        self.number = number


@dataclass
class _Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (data row number, cell texts)


def _problem(problems: list, row: int, field: str, code: str, message) -> None:
    problems.append(RowProblem(row, field, code, message))


def _cell_text(value) -> str:
    """A cell as text. Numbers keep no spurious ".0"; a text starting with "=" stays text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    text = str(value).strip()
    # Undo the apostrophe that export puts in front of formula-like texts.
    if _quoted_apostrophe(text):
        text = text[1:]
    return text


def read_catalogue(upload_bytes: bytes, filename: str) -> tuple[list[SheetRow], list[SheetRow], list]:
    """Parse an uploaded catalogue: (item rows, material rows, problems found while parsing).

    Item rows have the keys of services.IMPORT_COLUMNS; material rows "code", "position" and
    services.MATERIAL_FIELDS. Values are converted (labels to codes, 是/否 to booleans) but not yet
    checked against the catalogue: import_catalogue does that.
    """
    problems: list[RowProblem] = []
    suffix = (filename or "").lower().rsplit(".", 1)[-1] if "." in (filename or "") else ""
    items_table = materials_table = None
    if len(upload_bytes) > MAX_BYTES:
        message = Formatted(
            _("The file is %(size)s, larger than the limit of %(limit)s."),
            {"size": files.size_text(len(upload_bytes)), "limit": files.size_text(MAX_BYTES)},
        )
        _problem(problems, 0, FILE, "too_large", message)
    elif suffix == "xlsx":
        items_table, materials_table = _read_xlsx(upload_bytes, problems)
    elif suffix == "csv":
        table = _read_csv(upload_bytes, problems)
        if table is not None and _is_materials_header(table.header):
            materials_table = table
        else:
            items_table = table
    else:
        _problem(problems, 0, FILE, "file_type", _("Upload an .xlsx or .csv file."))
    if not problems and items_table is None and materials_table is None:
        _problem(problems, 0, FILE, "empty", _("The file is empty."))
    item_rows = _item_rows(items_table, problems) if items_table is not None else []
    material_rows = _material_rows(materials_table, problems) if materials_table is not None else []
    return item_rows, material_rows, problems


def _is_xlsx(data: bytes, problems: list) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        infos = None
    if not infos or "[Content_Types].xml" not in {i.filename for i in infos}:
        _problem(problems, 0, FILE, "not_xlsx", _("The file is not an XLSX workbook."))
        return False
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_UNZIPPED_BYTES:
        # A zip bomb: small on the wire, huge once unpacked. Say which limit and by how much.
        message = Formatted(
            _("The workbook is %(size)s but unpacks to %(unpacked)s, more than the limit of %(limit)s."),
            {
                "size": files.size_text(len(data)),
                "unpacked": files.size_text(unpacked),
                "limit": files.size_text(MAX_UNZIPPED_BYTES),
            },
        )
        _problem(problems, 0, FILE, "decompression_bomb", message)
        return False
    return True


def _read_xlsx(data: bytes, problems: list) -> tuple[_Table | None, _Table | None]:
    if not _is_xlsx(data, problems):
        return None, None
    from openpyxl import load_workbook

    items = materials = None
    try:
        # read_only streams the sheets; data_only gives a formula cell's cached value (or None), so
        # no formula is ever evaluated; keep_links=False ignores links to other workbooks.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:
        _problem(problems, 0, FILE, "not_xlsx", _("The file is not an XLSX workbook."))
        return None, None
    try:
        sheets = workbook.worksheets
        materials_sheet = next((s for s in sheets if s.title.strip().lower() in MATERIALS_SHEET_NAMES), None)
        items_sheet = next((s for s in sheets if s is not materials_sheet), None)
        if items_sheet is not None:
            items = _sheet_table(items_sheet, problems, "")
        if materials_sheet is not None:
            materials = _sheet_table(materials_sheet, problems, MATERIALS_PREFIX)
    except Exception:
        _problem(problems, 0, FILE, "not_xlsx", _("The file is not an XLSX workbook."))
        return None, None
    finally:
        workbook.close()
    return items, materials


def _sheet_table(sheet, problems: list, prefix: str) -> _Table | None:
    rows = (
        [_cell_text(v) for v in values] for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
    )
    return _table(rows, problems, prefix)


def _table(rows, problems: list, prefix: str) -> _Table | None:
    """Header (the first non-blank row) and the data rows after it, numbered, blank rows dropped."""
    header = None
    data: list[tuple[int, list[str]]] = []
    number = 0
    for cells in rows:
        blank = not any(cells)
        if header is None:
            if not blank:
                header = cells
            continue
        number += 1
        if blank:
            continue
        if len(data) == MAX_ROWS:
            _problem(
                problems,
                0,
                prefix + FILE,
                "too_many_rows",
                Formatted(_("The file has more than %(n)d rows."), {"n": MAX_ROWS}),
            )
            break
        data.append((number, cells))
    if header is None:
        return None
    return _Table(header, data)


def _decode(data: bytes) -> str | None:
    if b"\x00" in data:
        return None  # binary, or UTF-16
    if data.startswith(codecs.BOM_UTF8):
        encodings, data = ("utf-8",), data[len(codecs.BOM_UTF8) :]
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _read_csv(data: bytes, problems: list) -> _Table | None:
    text = _decode(data)
    if text is None:
        _problem(problems, 0, FILE, "encoding", _("A CSV file must be text in UTF-8 or GB18030."))
        return None
    records = csv.reader(io.StringIO(text, newline=""))
    try:
        return _table(([_cell_text(v) for v in record[:MAX_COLUMNS]] for record in records), problems, "")
    except csv.Error:
        _problem(problems, 0, FILE, "csv", _("The CSV file is malformed."))
        return None


def _is_materials_header(header: list[str]) -> bool:
    """A CSV of materials has material columns and no department column."""
    items, materials = _header_lookup(ITEM_COLUMNS), _header_lookup(MATERIAL_COLUMNS)
    keys = {_normalise_header(h) for h in header if h}
    if any(items.get(k) and items[k].key == "department_code" for k in keys):
        return False
    return any(k in materials and k not in items for k in keys)


def _column_keys(table: _Table, columns, required, problems: list, prefix: str) -> list[str | None]:
    """The key of each column of the table (None: ignored), reporting unknown and missing columns."""
    lookup = _header_lookup(columns)
    keys: list[str | None] = []
    for text in table.header:
        column = lookup.get(_normalise_header(text)) if text else None
        if not text:
            keys.append(None)
        elif column is None:
            _problem(problems, 0, prefix + text, "unknown", _("Unknown column."))
            keys.append(None)
        elif column.key in keys:
            _problem(problems, 0, prefix + column.key, "duplicate_column", _("This column appears twice."))
            keys.append(None)
        else:
            keys.append(column.key)
    for key in required:
        if key not in keys:
            _problem(problems, 0, prefix + key, "missing_column", _("This column is required."))
    # Values under no header would be silently lost: say so, once per column.
    named = len(table.header)
    stray = sorted(
        {
            index
            for _number, cells in table.rows
            for index, text in enumerate(cells)
            if text and (index >= named or not table.header[index])
        }
    )
    for index in stray:
        _problem(
            problems,
            0,
            prefix + f"column {index + 1}",
            "no_header",
            _("This column has values but no header."),
        )
    return keys


_INVALID = object()


def _convert(column: Column, text: str, row: int, field: str, problems: list):
    """The value to hand to the services, or _INVALID after reporting a problem."""
    if column.kind == "bool":
        word = text.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        _problem(problems, row, field, "invalid", _("Use 是 or 否 (yes or no)."))
        return _INVALID
    if column.kind == "enum":
        # Unknown labels pass through unchanged: the services report them as not allowed.
        lookup = _enum_lookup(column.choices)
        return lookup.get(text, lookup.get(text.lower(), text))
    if column.kind == "json":
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            _problem(problems, row, field, "invalid", _("Give the form fields as a JSON list."))
            return _INVALID
    if column.kind == "steps" and "→" in text:
        return [step.strip() for step in text.split("→") if step.strip()]
    return text  # text, numbers and other steps are checked by the services


def _rows(table: _Table, columns, required, problems: list, prefix: str) -> list[SheetRow]:
    by_key = {c.key: c for c in columns}
    keys = _column_keys(table, columns, required, problems, prefix)
    out = []
    for number, cells in table.rows:
        row = SheetRow(number)
        for key, text in zip(keys, cells, strict=False):
            if key is None or text == "":
                continue  # an empty cell is "not given": a default for new items, unchanged otherwise
            value = _convert(by_key[key], text, number, prefix + key, problems)
            if value is not _INVALID:
                row[key] = value
        out.append(row)
    return out


def _item_rows(table: _Table, problems: list) -> list[SheetRow]:
    return _rows(table, ITEM_COLUMNS, ITEM_REQUIRED, problems, "")


def _material_rows(table: _Table, problems: list) -> list[SheetRow]:
    rows = _rows(table, MATERIAL_COLUMNS, MATERIAL_REQUIRED, problems, MATERIALS_PREFIX)
    for row in rows:
        if "position" in row:
            try:
                row["position"] = int(row["position"])
            except ValueError:
                _problem(problems, row.number, "materials.position", "invalid", _("Enter a whole number."))
                del row["position"]
    return rows


# --- import ----------------------------------------------------------------------------------------


@dataclass
class CatalogueImportReport(ImportReport):
    material_rows: int = 0
    materials_replaced: int = 0  # items whose materials the file replaced


def import_catalogue(
    actor, upload_bytes: bytes, filename: str, publish: bool = True
) -> CatalogueImportReport:
    """Import an uploaded catalogue file; nothing is written unless the whole file is valid.

    Items go through services.import_items; the materials of an item listed in the file replace
    those of its draft (services.set_materials). With `publish`, every item the file changed is
    published, each as one new version with its content and materials together.
    """
    item_rows, material_rows, problems = read_catalogue(upload_bytes, filename)
    report = CatalogueImportReport(rows=len(item_rows), material_rows=len(material_rows))
    if any(p.row == 0 and p.field in (FILE, MATERIALS_PREFIX + FILE) for p in problems):
        report.problems = _ordered(problems)
        return report
    problems.extend(_duplicate_codes(item_rows))
    existing = {i.code: i for i in ServiceItem.objects.select_related("department", "current")}
    plans = _plan_materials(actor, material_rows, item_rows, existing, problems)
    try:
        with transaction.atomic():
            _import(actor, report, item_rows, plans, existing, problems, publish)
    except DomainError as exc:  # a check the plan missed: everything was rolled back
        report.created = report.updated = report.unchanged = report.materials_replaced = 0
        report.problems = _problems_of(exc)
    return report


def _code(row: dict) -> str:
    return str(row.get("code") or "").strip()


def _import(actor, report, item_rows, plans, existing, problems, publish) -> None:
    # Items whose materials the file lists are imported as drafts and published once their
    # materials are in, so each change is one new version; the others go through import_items'
    # bulk path. Both calls check every row; _duplicate_codes covers duplicates across them.
    plain = [r for r in item_rows if _code(r) not in plans]
    with_materials = [r for r in item_rows if _code(r) in plans]
    # Of those, the items import_items will change (its own rule): they need publishing.
    changed = {
        _code(row)
        for row in with_materials
        if _code(row) not in existing or _differs(existing[_code(row)], row)
    }
    for rows, publish_now in ((plain, publish), (with_materials, False)):
        if not rows:
            continue
        service = services.import_items(actor, [dict(r) for r in rows], publish=publish_now, source="import")
        for p in service.problems:
            if p.field == "code" and p.code == "duplicate":
                continue  # reported by _duplicate_codes with the file's row numbers
            problems.append(RowProblem(rows[p.row - 1].number, p.field, p.code, p.message))
        report.created += service.created
        report.updated += service.updated
        report.unchanged += service.unchanged
    if problems:
        transaction.set_rollback(True)
        report.created = report.updated = report.unchanged = 0
        report.problems = _ordered(problems)
        return
    replaced = set()
    for code, materials in plans.items():
        item = ServiceItem.objects.select_related("current").get(code=code)
        base = item.current or item.versions.filter(status=VersionStatus.DRAFT).first()
        before = [tuple(getattr(m, f) for f in MATERIAL_FIELDS) for m in base.materials.all()] if base else []
        if before != [tuple(m[f] for f in MATERIAL_FIELDS) for m in materials]:
            services.set_materials(actor, code, materials)
            replaced.add(code)
    report.materials_replaced = len(replaced)
    moved = (replaced & {_code(r) for r in with_materials}) - changed  # "unchanged" items, changed now
    report.unchanged -= len(moved)
    report.updated += len(moved)
    if publish:
        for code in plans:
            if code in changed or code in replaced:
                services.publish_item(actor, code)


def _differs(item: ServiceItem, row: dict) -> bool:
    """Whether import_items will write a new draft for this row of an existing item."""
    given = {k: v for k, v in row.items() if k in ITEM_FIELDS and v not in (None, "")}
    content = services.clean_item_fields(given, errors=FieldErrors(), partial=True)
    base = item.current or item.versions.filter(status=VersionStatus.DRAFT).first()
    return (
        base is None
        or item.department.code != str(row.get("department_code") or "").strip()
        or any(getattr(base, k) != v for k, v in content.items())
    )


def _duplicate_codes(item_rows: list[SheetRow]) -> list[RowProblem]:
    problems, seen = [], {}
    for row in item_rows:
        code = _code(row)
        if not code:
            continue
        if code in seen:
            message = Formatted(_("The same code appears in row %(row)s."), {"row": seen[code]})
            problems.append(RowProblem(row.number, "code", "duplicate", message))
        else:
            seen[code] = row.number
    return problems


def _plan_materials(actor, material_rows, item_rows, existing, problems) -> dict[str, list[dict]]:
    """The cleaned materials of each item code, in order; problems are added to `problems`."""
    listed = {_code(r) for r in item_rows}
    no_code_column = any(p.row == 0 and p.field == "materials.code" for p in problems)
    grouped: dict[str, list[tuple]] = {}
    for row in material_rows:
        code = _code(row)
        item = existing.get(code)
        if not code and not no_code_column:
            _problem(problems, row.number, "materials.code", "required", _("This field is required."))
        elif code and code not in listed:
            if item is None:
                _problem(
                    problems,
                    row.number,
                    "materials.code",
                    "unknown",
                    _("No item has this code, in the file or in the catalogue."),
                )
            elif not actor.can(perms.CATALOG_MANAGE, item.department):
                _problem(
                    problems,
                    row.number,
                    "materials.code",
                    "not_permitted",
                    _("You may not manage this department's items."),
                )
        values = {k: v for k, v in row.items() if k in MATERIAL_FIELDS}
        if "core" not in values and values.get("required") is False:
            values["core"] = False  # an optional material is not core unless the file says so
        errors = FieldErrors()
        cleaned = services.clean_material(values, errors, 0)
        for name, field_problems in errors.fields.items():
            field = MATERIALS_PREFIX + name.removeprefix("materials.0.")
            problems.extend(RowProblem(row.number, field, p.code, p.message) for p in field_problems)
        if not code:
            continue
        group = grouped.setdefault(code, [])
        if len(group) == MAX_MATERIALS:
            _problem(problems, row.number, "materials", "too_many", _("Give up to 60 materials as a list."))
        position = row.get("position")
        group.append((position is None, position or 0, row.number, cleaned))
    return {
        code: [entry[-1] for entry in sorted(group, key=lambda e: e[:3])] for code, group in grouped.items()
    }


def _problems_of(exc: DomainError) -> list[RowProblem]:
    if isinstance(exc, InvalidInput) and exc.fields:
        return [
            RowProblem(0, name, p.code, p.message) for name, problems in exc.fields.items() for p in problems
        ]
    return [RowProblem(0, FILE, exc.code, exc.message)]


def _ordered(problems: list[RowProblem]) -> list[RowProblem]:
    """The header and file first, then the items by row, then the materials by row."""
    return sorted(problems, key=lambda p: (p.row > 0, p.field.startswith("materials"), p.row))


# --- export ----------------------------------------------------------------------------------------


def published_versions(department_code: str | None = None):
    """The published versions export writes, by item code; a department includes its sub-tree."""
    versions = (
        ItemVersion.objects.filter(status=VersionStatus.PUBLISHED)
        .select_related("item", "item__department")
        .prefetch_related("materials")
        .order_by("item__code")
    )
    if department_code:
        department = Department.objects.filter(code=department_code).first()
        if department is None:
            raise InvalidInput.single("department_code", "unknown", _("Unknown department."))
        versions = versions.filter(item__department__path__startswith=department.path)
    return versions


def _export_value(column: Column, value):
    if value is None:
        return ""
    if column.kind == "bool":
        return "是" if value else "否"
    if column.kind == "enum":
        return ENUM_LABELS[column.choices].get(value, value)
    if column.kind == "steps":
        # One step that looks like several gets a trailing arrow, so it imports as one.
        single = len(value) == 1 and STEP_SEPARATORS.search(value[0])
        return "→".join(value) + ("→" if single else "")
    if column.kind == "json":
        return json.dumps(value, ensure_ascii=False) if value else ""
    return value


def _item_values(version: ItemVersion) -> list:
    values = {"code": version.item.code, "department_code": version.item.department.code}
    values.update({name: getattr(version, name) for name in ITEM_FIELDS})
    return [_export_value(c, values[c.key]) for c in ITEM_COLUMNS]


def _material_values(versions) -> list[list]:
    rows = []
    for version in versions:
        for position, material in enumerate(version.materials.all(), start=1):
            values = {"code": version.item.code, "position": position}
            values.update({name: getattr(material, name) for name in MATERIAL_FIELDS})
            rows.append([_export_value(c, values[c.key]) for c in MATERIAL_COLUMNS])
    return rows


def _formula_like(value) -> bool:
    """Would a spreadsheet program read this text as a formula?"""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def _quoted_apostrophe(value) -> bool:
    """Does this text start like an apostrophe that import removes? Then export doubles it."""
    return isinstance(value, str) and value[:1] == "'" and value[1:2] in (*FORMULA_TRIGGERS, "'")


def export_catalogue(fmt: str, department_code: str | None = None) -> bytes:
    """The published catalogue as an XLSX workbook (items and materials) or a CSV of the items."""
    versions = list(published_versions(department_code))
    items = [_item_values(v) for v in versions]
    if fmt == "csv":
        return _csv_bytes([c.header for c in ITEM_COLUMNS], items)
    if fmt == "xlsx":
        return _xlsx_bytes(items, _material_values(versions))
    raise ValueError(f"unknown export format {fmt!r}")


def export_materials_csv(department_code: str | None = None) -> bytes:
    """The materials of the published catalogue, as the separate CSV that import accepts."""
    return _csv_bytes(
        [c.header for c in MATERIAL_COLUMNS], _material_values(published_versions(department_code))
    )


def _csv_bytes(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([f"'{v}" if _formula_like(v) or _quoted_apostrophe(v) else v for v in row])
    # With a byte order mark, Excel reads the file as UTF-8 rather than the local code page.
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def _xlsx_bytes(items: list[list], materials: list[list]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def cell(sheet, value, header=False):
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if _quoted_apostrophe(value):
                value = f"'{value}"
        c = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            # A string cell, never a formula; quotePrefix is Excel's own leading apostrophe, so
            # editing the cell in Excel does not turn it into a formula either.
            c.data_type = "s"
            if _formula_like(value):
                c.quotePrefix = True
        if header:
            c.font = bold
        return c

    for title, columns, rows in (
        (ITEMS_SHEET, ITEM_COLUMNS, items),
        (MATERIALS_SHEET, MATERIAL_COLUMNS, materials),
    ):
        sheet = workbook.create_sheet(title)
        sheet.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            wide = column.kind in ("steps", "json") or column.key in ("name", "legal_basis", "conditions")
            sheet.column_dimensions[get_column_letter(index)].width = 40 if wide else 14
        sheet.append([cell(sheet, c.header, header=True) for c in columns])
        for row in rows:
            sheet.append([cell(sheet, v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
