"""The plan as an XLSX workbook: import (all or nothing, with a per-row report), export, and the
三单 (任务清单 / 责任清单 / 时限清单).

A plan workbook has its tasks on the first sheet (Chinese headers as written by export; the
English keys of COLUMNS are accepted too) and, optionally, its schedule risks on a sheet named
风险. Uploads are untrusted: size, row count and decompressed size are capped, the file must be a
real Office Open XML package, openpyxl reads cached values only (no formula is evaluated, and
openpyxl parses the package's XML with defusedxml when it is installed, as it is here), and on
export a text a spreadsheet would run as a formula is written as a quote-prefixed string.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from tongban.core import files
from tongban.core.errors import Formatted

MAX_BYTES = 5 * 1024 * 1024
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024
MAX_ROWS = 5_000
MAX_COLUMNS = 40
FILE = "file"
RISK_SHEET_NAMES = {"风险", "risks"}

# key → Chinese header, in export order
COLUMNS = {
    "project_code": "项目编号",
    "project_name": "项目名称",
    "code": "任务编号",
    "name": "任务名称",
    "kind": "类型",
    "owner_department": "牵头部门",
    "owner": "责任人",
    "co_owners": "协办部门",
    "start": "开始日期",
    "finish": "截止日期",
    "duration": "工期（工作日）",
    "predecessors": "前置任务",
    "weight": "权重",
    "deliverable": "交付成果",
    "status": "状态",
    "percent": "完成率",
    "optimistic": "乐观工期",
    "likely": "最可能工期",
    "pessimistic": "悲观工期",
    "kpi": "考核指标",
    "kpi_department": "指标部门",
    "kpi_item": "指标事项",
    "kpi_region": "指标区域",
    "kpi_target": "目标值",
    "kpi_window": "统计窗口（天）",
    "kpi_hold": "连续达标天数",
}
RISK_COLUMNS = {
    "code": "风险编号",
    "name": "风险名称",
    "probability": "发生概率",
    "delay": "延误（工作日）",
    "tasks": "影响任务",
}
# funds supervision: commitments and payments against budget lines
SPENDING_COLUMNS = {
    "project_code": "项目编号",
    "year": "年度",
    "line": "预算科目编号",
    "kind": "类型",
    "amount": "金额（元）",
    "on": "日期",
    "reference": "凭证号",
    "note": "备注",
}
SPENDING_REQUIRED = ("project_code", "year", "line", "kind", "amount", "on")
REQUIRED = ("project_code", "code", "name", "owner_department", "start")
LIST_SPLIT = re.compile(r"[,，、;；\s]+")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class RowProblem:
    sheet: str  # "tasks" or "risks"
    row: int  # spreadsheet row number (the header is row 1 when it is the first row); 0: the file
    field: str
    code: str
    message: object

    @property
    def column(self) -> str:
        """The column's header as the workbook shows it."""
        columns = {"tasks": COLUMNS, "risks": RISK_COLUMNS, "spending": SPENDING_COLUMNS}.get(self.sheet, {})
        return columns.get(self.field, self.field)

    def as_dict(self) -> dict:
        from tongban.core.i18n import bilingual

        return {"sheet": self.sheet, "row": self.row, "field": self.field, "code": self.code} | {
            "message": bilingual(self.message)
        }


@dataclass
class Workbook:
    tasks: list[tuple[int, dict]] = field(default_factory=list)  # (row number, key → cell text)
    risks: list[tuple[int, dict]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    def problem(self, sheet: str, row: int, field_name: str, code: str, message) -> None:
        self.problems.append(RowProblem(sheet, row, field_name, code, message))


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]  # undo the apostrophe export puts before formula-like texts
    return text


def read_table(data: bytes, columns: dict, required: tuple, sheet_key: str) -> Workbook:
    """The rows of the first sheet of another kind of workbook (spending, budget lines), under the
    same limits as a plan: rows land in `book.tasks`, problems name `sheet_key`."""
    book = Workbook()
    workbook = _open(data, book, sheet_key)
    if workbook is None:
        return book
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is not None:
            book.tasks = _rows(sheet, columns, sheet_key, book, required)
    except Exception:
        book.problem(sheet_key, 0, FILE, "not_xlsx", _("The file is not an XLSX workbook."))
    finally:
        workbook.close()
    if not book.problems and not book.tasks:
        book.problem(sheet_key, 0, FILE, "empty", _("The workbook has no rows."))
    return book


def _open(data: bytes, book: Workbook, sheet_key: str):
    """The workbook opened read-only after the size, package and unpacked-size checks, or None."""
    if len(data) > MAX_BYTES:
        book.problem(
            sheet_key,
            0,
            FILE,
            "too_large",
            Formatted(
                _("The file is %(size)s, larger than the limit of %(limit)s."),
                {"size": files.size_text(len(data)), "limit": files.size_text(MAX_BYTES)},
            ),
        )
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        infos = None
    if not infos or "[Content_Types].xml" not in {i.filename for i in infos}:
        book.problem(sheet_key, 0, FILE, "not_xlsx", _("The file is not an XLSX workbook."))
        return None
    if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
        book.problem(
            sheet_key,
            0,
            FILE,
            "decompression_bomb",
            Formatted(
                _("The workbook unpacks to more than the limit of %(limit)s."),
                {"limit": files.size_text(MAX_UNZIPPED_BYTES)},
            ),
        )
        return None
    from openpyxl import load_workbook

    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:
        book.problem(sheet_key, 0, FILE, "not_xlsx", _("The file is not an XLSX workbook."))
        return None


def read(data: bytes) -> Workbook:
    """The rows of a plan workbook, or the problems that keep it from being read."""
    book = Workbook()
    if len(data) > MAX_BYTES:
        book.problem(
            "tasks",
            0,
            FILE,
            "too_large",
            Formatted(
                _("The file is %(size)s, larger than the limit of %(limit)s."),
                {"size": files.size_text(len(data)), "limit": files.size_text(MAX_BYTES)},
            ),
        )
        return book
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        infos = None
    if not infos or "[Content_Types].xml" not in {i.filename for i in infos}:
        book.problem("tasks", 0, FILE, "not_xlsx", _("The file is not an XLSX workbook."))
        return book
    if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
        book.problem(
            "tasks",
            0,
            FILE,
            "decompression_bomb",
            Formatted(
                _("The workbook unpacks to more than the limit of %(limit)s."),
                {"limit": files.size_text(MAX_UNZIPPED_BYTES)},
            ),
        )
        return book
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:
        book.problem("tasks", 0, FILE, "not_xlsx", _("The file is not an XLSX workbook."))
        return book
    try:
        sheets = workbook.worksheets
        risk_sheet = next((s for s in sheets if s.title.strip().lower() in RISK_SHEET_NAMES), None)
        task_sheet = next((s for s in sheets if s is not risk_sheet), None)
        if task_sheet is not None:
            book.tasks = _rows(task_sheet, COLUMNS, "tasks", book)
        if risk_sheet is not None:
            book.risks = _rows(risk_sheet, RISK_COLUMNS, "risks", book)
    except Exception:
        book.problem("tasks", 0, FILE, "not_xlsx", _("The file is not an XLSX workbook."))
    finally:
        workbook.close()
    if not book.problems and not book.tasks:
        book.problem("tasks", 0, FILE, "empty", _("The workbook has no tasks."))
    return book


def _rows(sheet, columns: dict, sheet_key: str, book: Workbook, required=None) -> list[tuple[int, dict]]:
    by_header = {v: k for k, v in columns.items()} | {k: k for k in columns}
    header: list[str | None] | None = None
    out = []
    for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
        cells = [cell_text(v) for v in values]
        if not any(cells):
            continue
        if header is None:
            header = [by_header.get(c.strip()) for c in cells]
            unknown = [c for c, k in zip(cells, header, strict=True) if c and k is None]
            for name in unknown:
                book.problem(
                    sheet_key,
                    number,
                    FILE,
                    "unknown_column",
                    Formatted(_("Unknown column “%(name)s”."), {"name": name}),
                )
            if required is None and sheet_key == "tasks":
                required = REQUIRED
            if required:
                for key in required:
                    if key not in header:
                        book.problem(
                            sheet_key,
                            number,
                            key,
                            "missing_column",
                            Formatted(_("The column “%(name)s” is missing."), {"name": columns[key]}),
                        )
            continue
        if len(out) >= MAX_ROWS:
            book.problem(
                sheet_key,
                number,
                FILE,
                "too_many_rows",
                Formatted(_("At most %(n)d rows per sheet."), {"n": MAX_ROWS}),
            )
            break
        row = {key: cell for key, cell in zip(header, cells, strict=False) if key}
        out.append((number, row))
    return out


# --- writing ------------------------------------------------------------------------------------


def _safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def workbook_bytes(sheets: list[tuple[str, list[str], list[list]]]) -> bytes:
    """An XLSX of (title, headers, rows) sheets; texts that look like formulas stay text."""
    from openpyxl import Workbook as XWorkbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = XWorkbook()
    book.remove(book.active)
    for title, headers, rows in sheets:
        sheet = book.create_sheet(title)
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_safe(v) for v in row])
        for i, header in enumerate(headers, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = max(10, min(40, 2 * len(header) + 4))
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
