"""Lists as XLSX files, for the staff who take a working list into a spreadsheet.

Cells that begin like a formula (=, +, -, @, or a tab/carriage return before one) are written as
text with a leading apostrophe: a citizen's text in a cell must never run as a formula on a
clerk's machine (CSV/formula injection, OWASP)."""

import datetime as dt
import io
from collections.abc import Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        from django.utils import timezone

        return timezone.localtime(value).replace(tzinfo=None)  # Excel has no time zones
    return value


def table_workbook(title: str, header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """One sheet: a bold, frozen header row and the rows under it, columns sized to their text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]  # Excel's limit for a sheet name
    sheet.append([str(h) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    widths = [len(str(h)) for h in header]
    for row in rows:
        values = [safe_cell(v) for v in row]
        sheet.append(values)
        for i, v in enumerate(values[: len(widths)]):
            widths[i] = max(widths[i], len(str(v)) if v is not None else 0)
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = min(60, max(8, width * 1.6 + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
