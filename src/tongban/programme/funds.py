"""Funds supervision (资金监管): budget lines per project and year, commitments and payments against
them (entered, or imported from XLSX all or nothing with a per-row report), the execution rate, and
the warnings a planner acts on.

The execution rate (预算执行率) of a line is paid / budget. A project's progress is the weighted
percent done of its tasks (the weights of the plan). Warnings, per line and per project-year:
- spending ahead of progress: more than TONGBAN_PROGRAMME_FUNDS_SPENT_AT (default 90 %) of the
  budget paid while the project is less than TONGBAN_PROGRAMME_FUNDS_DONE_BELOW (70 %) done;
- overrun: more paid than budgeted; over-committed: more committed than budgeted.
Planners (programme.plan) keep the budget and the spending; whoever may read the programme sees them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from tongban.core.errors import FieldErrors, Formatted
from tongban.core.uow import current, use_case

from . import services, transfer
from .models import BudgetLine, Project, Spending, SpendingKind, Task, TaskStatus

KIND_WORDS = {
    "承诺": SpendingKind.COMMITMENT,
    "合同": SpendingKind.COMMITMENT,
    "commitment": SpendingKind.COMMITMENT,
    "支付": SpendingKind.PAYMENT,
    "付款": SpendingKind.PAYMENT,
    "payment": SpendingKind.PAYMENT,
}
MAX_AMOUNT = Decimal("999999999999.99")


def _amount(value) -> Decimal | None:
    text = str(value if value is not None else "").replace(",", "").replace("，", "").strip()
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or not Decimal("0.01") <= amount <= MAX_AMOUNT:
        return None
    return amount.quantize(Decimal("0.01"))


def _year(value) -> int | None:
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return year if 2000 <= year <= 2099 else None


def _project(programme, code: str) -> Project | None:
    return Project.objects.filter(programme=programme, code=str(code or "").strip()).first()


@use_case("programme.budget_line", object_type="programme")
def set_budget_line(
    actor, programme_code: str, *, project_code: str, year, code: str, name: str, amount
) -> BudgetLine:
    """A planner adds a budget line, or changes the name and amount of an existing one."""
    programme = services._planned_programme(actor, programme_code)
    errors = FieldErrors()
    project = _project(programme, project_code)
    if project is None:
        errors.add("project_code", "unknown", _("No such project in this programme."))
    number = _year(year)
    if number is None:
        errors.add("year", "invalid", _("Enter a year from 2000 to 2099."))
    code = (code or "").strip()
    if not services.CODE_RE.match(code):
        errors.add("code", "invalid", _("Use 1–40 letters, digits, “.”, “_” or “-”."))
    name = errors.require_text("name", name, max_length=200)
    value = _amount(amount)
    if value is None:
        errors.add("amount", "invalid", _("Enter an amount in yuan, more than 0."))
    errors.raise_if_any()
    line, _created = BudgetLine.objects.update_or_create(
        project=project, year=number, code=code, defaults={"name": name, "amount": value}
    )
    current().audit.object_ref = f"{programme.code}/{project.code}/{number}/{code}"
    current().audit.detail = {"amount": str(value)}
    return line


def _spending_row(programme, row: dict, problem, lines: dict) -> dict | None:
    project = _project(programme, row.get("project_code", ""))
    if project is None:
        problem("project_code", "unknown", _("No such project in this programme."))
    year = _year(row.get("year", ""))
    if year is None:
        problem("year", "invalid", _("Enter a year from 2000 to 2099."))
    line = None
    if project is not None and year is not None:
        key = (project.pk, year, str(row.get("line", "")).strip())
        if key not in lines:
            lines[key] = BudgetLine.objects.filter(project=project, year=year, code=key[2]).first()
        line = lines[key]
        if line is None:
            problem(
                "line",
                "unknown",
                Formatted(_("No budget line %(code)s for this project and year."), {"code": key[2] or "—"}),
            )
    kind = KIND_WORDS.get(str(row.get("kind", "")).strip().lower())
    if kind is None:
        problem("kind", "invalid", _("Use 承诺 (commitment) or 支付 (payment)."))
    amount = _amount(row.get("amount", ""))
    if amount is None:
        problem("amount", "invalid", _("Enter an amount in yuan, more than 0."))
    on = services._date(row.get("on", ""))
    if on is None:
        problem("on", "invalid", _("Enter a date as YYYY-MM-DD."))
    reference = str(row.get("reference", "")).strip()
    if len(reference) > 60:
        problem("reference", "max_length", Formatted(_("At most %(n)d characters."), {"n": 60}))
    note = str(row.get("note", "")).strip()
    if len(note) > 300:
        problem("note", "max_length", Formatted(_("At most %(n)d characters."), {"n": 300}))
    if line is None or kind is None or amount is None or on is None:
        return None
    return {
        "line": line,
        "kind": kind,
        "amount": amount,
        "on": on,
        "reference": reference[:60],
        "note": note[:300],
    }


@use_case("programme.spending", object_type="programme")
def record_spending(actor, programme_code: str, **row) -> Spending:
    """A planner enters one commitment or payment (the fields as the import's columns)."""
    programme = services._planned_programme(actor, programme_code)
    errors = FieldErrors()
    checked = _spending_row(programme, row, lambda f, c, m: errors.add(f, c, m), {})
    errors.raise_if_any()
    spending = Spending.objects.create(**checked, source="entered", created_by=getattr(actor, "user", None))
    current().audit.object_ref = programme.code
    current().audit.detail = {
        "kind": spending.kind,
        "amount": str(spending.amount),
        "line": spending.line.code,
    }
    return spending


@use_case("programme.import_spending", object_type="programme")
def import_spending(actor, programme_code: str, data: bytes) -> int:
    """Commitments and payments from a workbook: every row checked, every problem reported by row
    and column; if there is any, nothing is saved."""
    programme = services._planned_programme(actor, programme_code)
    current().audit.object_ref = programme.code
    book = transfer.read_table(data or b"", transfer.SPENDING_COLUMNS, transfer.SPENDING_REQUIRED, "spending")
    if book.problems:
        raise services.ImportRejected(book.problems)
    lines: dict = {}
    rows = []
    for number, row in book.tasks:

        def problem(key, code, message, number=number):
            book.problem("spending", number, key, code, message)

        rows.append(_spending_row(programme, row, problem, lines))
    if book.problems:
        raise services.ImportRejected(book.problems)
    user = getattr(actor, "user", None)
    Spending.objects.bulk_create(
        [Spending(**r, source="xlsx", created_by=user) for r in rows], batch_size=500
    )
    current().audit.detail = {"rows": len(rows)}
    return len(rows)


# --- the overview and its warnings -----------------------------------------------------------------


@dataclass
class LineFigures:
    project: Project
    year: int
    code: str
    name: str
    budget: Decimal
    committed: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    progress: float = 0.0  # the project's weighted share done, 0–1
    warnings: list[str] = field(default_factory=list)

    @property
    def execution(self) -> float | None:
        """预算执行率: paid / budget."""
        return float(self.paid / self.budget) if self.budget else None

    @property
    def commitment_rate(self) -> float | None:
        return float(self.committed / self.budget) if self.budget else None


def warnings_for(budget: Decimal, committed: Decimal, paid: Decimal, progress: float) -> list[str]:
    """The warnings of a line or a project-year (see the module's docstring)."""
    out = []
    if (
        budget
        and float(paid / budget) > settings.TONGBAN_PROGRAMME_FUNDS_SPENT_AT
        and (progress < settings.TONGBAN_PROGRAMME_FUNDS_DONE_BELOW)
    ):
        out.append("ahead_of_progress")
    if paid > budget:
        out.append("overrun")
    if committed > budget:
        out.append("overcommitted")
    return out


def project_progress(programme) -> dict[int, float]:
    """Project id → weighted share of its tasks done (cancelled tasks left out)."""
    totals: dict[int, list[float]] = {}
    for project_id, weight, percent in (
        Task.objects.filter(programme=programme)
        .exclude(status=TaskStatus.CANCELLED)
        .values_list("project_id", "weight", "percent")
    ):
        t = totals.setdefault(project_id, [0.0, 0.0])
        t[0] += float(weight)
        t[1] += float(weight) * percent / 100
    return {pid: (done / weight if weight else 0.0) for pid, (weight, done) in totals.items()}


def overview(actor, programme_code: str, *, year: int | None = None) -> dict:
    """Every budget line with its commitments, payments, execution rate and warnings; the totals per
    project and year with theirs."""
    programme = services.access_programme(actor, programme_code)
    lines = BudgetLine.objects.filter(project__programme=programme).select_related("project")
    if year is not None:
        lines = lines.filter(year=year)
    sums = {
        (row["line_id"], row["kind"]): row["total"]
        for row in Spending.objects.filter(line__in=lines)
        .values("line_id", "kind")
        .annotate(total=Sum("amount"))
    }
    progress = project_progress(programme)
    rows = []
    totals: dict[tuple[int, int], LineFigures] = {}
    for line in lines.order_by("project__position", "project__code", "year", "code"):
        figures = LineFigures(
            line.project,
            line.year,
            line.code,
            line.name,
            line.amount,
            sums.get((line.pk, SpendingKind.COMMITMENT), Decimal(0)),
            sums.get((line.pk, SpendingKind.PAYMENT), Decimal(0)),
            progress.get(line.project_id, 0.0),
        )
        figures.warnings = warnings_for(figures.budget, figures.committed, figures.paid, figures.progress)
        rows.append(figures)
        total = totals.setdefault(
            (line.project_id, line.year),
            LineFigures(line.project, line.year, "", "", Decimal(0), progress=figures.progress),
        )
        total.budget += figures.budget
        total.committed += figures.committed
        total.paid += figures.paid
    for total in totals.values():
        total.warnings = warnings_for(total.budget, total.committed, total.paid, total.progress)
    return {
        "programme": programme,
        "lines": rows,
        "projects": list(totals.values()),
        "warnings": sum(len(r.warnings) for r in rows),
        "spent_at": round(100 * settings.TONGBAN_PROGRAMME_FUNDS_SPENT_AT),
        "done_below": round(100 * settings.TONGBAN_PROGRAMME_FUNDS_DONE_BELOW),
    }


def spendings(actor, programme_code: str) -> list[Spending]:
    programme = services.access_programme(actor, programme_code)
    return list(
        Spending.objects.filter(line__project__programme=programme)
        .select_related("line__project")
        .order_by("-on", "-id")[:500]
    )
