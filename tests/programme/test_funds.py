"""Funds supervision: budget lines, commitments and payments (entered and imported all or nothing),
the execution rate, and the warnings — spending ahead of progress (> 90 % paid with < 70 % done,
configurable), overruns and over-commitments — per line and per project-year."""

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from tongban.core.errors import InvalidInput, NotPermitted
from tongban.programme import funds, services
from tongban.programme.models import Spending, Task
from tongban.programme.transfer import SPENDING_COLUMNS

from ..conftest import actor


def _progress(programme, project: str, percent: int) -> None:
    Task.objects.filter(programme=programme, project__code=project).update(percent=percent)


def _line(planner, programme, amount="1000000", code="301", project="P1"):
    return funds.set_budget_line(
        planner, programme.code, project_code=project, year=2026, code=code, name="系统改造", amount=amount
    )


def _pay(planner, programme, amount, kind="支付", line="301", project="P1"):
    return funds.record_spending(
        planner,
        programme.code,
        project_code=project,
        year="2026",
        line=line,
        kind=kind,
        amount=amount,
        on="2026-10-15",
        reference="ZF-001",
    )


def _warnings(planner, programme, code="301"):
    data = funds.overview(planner, programme.code)
    return next(r for r in data["lines"] if r.code == code)


def test_spending_ahead_of_progress_is_warned(planner, planned):
    _line(planner, planned)
    _pay(planner, planned, "900000")  # exactly 90 %: not more than 90 %
    _progress(planned, "P1", 50)
    line = _warnings(planner, planned)
    assert (line.paid, line.execution, line.warnings) == (Decimal("900000.00"), 0.9, [])
    _pay(planner, planned, "10000.00")  # 91 % paid, 50 % done
    assert _warnings(planner, planned).warnings == ["ahead_of_progress"]
    _progress(planned, "P1", 69)
    assert _warnings(planner, planned).warnings == ["ahead_of_progress"]
    _progress(planned, "P1", 70)  # 70 % done is not less than 70 %
    assert _warnings(planner, planned).warnings == []


def test_progress_is_weighted_and_thresholds_are_settings(planner, planned, settings):
    _line(planner, planned)
    _pay(planner, planned, "800000")
    # P1's tasks A, B, C, D weigh 1 each: two done, two untouched → 50 %
    Task.objects.filter(programme=planned, code__in=["A", "B"]).update(percent=100)
    line = _warnings(planner, planned)
    assert line.progress == 0.5 and line.warnings == []
    settings.TONGBAN_PROGRAMME_FUNDS_SPENT_AT = 0.75
    settings.TONGBAN_PROGRAMME_FUNDS_DONE_BELOW = 0.6
    assert _warnings(planner, planned).warnings == ["ahead_of_progress"]
    Task.objects.filter(programme=planned, code="C").update(weight=Decimal("3"), percent=100)
    assert _warnings(planner, planned).progress == pytest.approx(5 / 6)
    assert _warnings(planner, planned).warnings == []


def test_overruns_and_overcommitment_per_line_and_project(planner, planned):
    _progress(planned, "P1", 100)
    _line(planner, planned, amount="100000", code="301")
    _line(planner, planned, amount="400000", code="302")
    _pay(planner, planned, "60000", kind="合同")
    _pay(planner, planned, "60000", kind="合同")
    _pay(planner, planned, "100000.01")
    line = _warnings(planner, planned)
    assert line.committed == Decimal("120000.00") and line.warnings == ["overrun", "overcommitted"]
    assert _warnings(planner, planned, "302").warnings == []
    (project,) = funds.overview(planner, planned.code)["projects"]
    # the project-year as a whole stays within its 500,000
    assert (project.budget, project.paid, project.warnings) == (
        Decimal("500000.00"),
        Decimal("100000.01"),
        [],
    )
    assert funds.overview(planner, planned.code)["warnings"] == 2


def test_bad_entries_are_field_errors(planner, planned):
    with pytest.raises(InvalidInput) as caught:
        funds.set_budget_line(
            planner, planned.code, project_code="PX", year="1999", code="a b", name="", amount="-5"
        )
    assert set(caught.value.fields) == {"project_code", "year", "code", "name", "amount"}
    _line(planner, planned)
    with pytest.raises(InvalidInput) as caught:
        funds.record_spending(
            planner,
            planned.code,
            project_code="P1",
            year="2026",
            line="999",
            kind="借款",
            amount="x",
            on="soon",
        )
    assert set(caught.value.fields) == {"line", "kind", "amount", "on"}
    assert str(caught.value.fields["kind"][0].message) == "请填写“承诺”或“支付”。"
    with pytest.raises(NotPermitted):
        _pay(actor("bureau_head"), planned, "1")


def _workbook(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(SPENDING_COLUMNS.values()))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import_is_all_or_nothing_with_a_row_report(planner, planned):
    _line(planner, planned)
    bad = _workbook(
        [
            ["P1", 2026, "301", "支付", 1000, "2026-10-10", "ZF-1", ""],
            ["P1", 2026, "999", "支付", 1000, "2026-10-10", "", ""],
            ["P9", 2026, "301", "借款", "many", "2026-13-01", "", ""],
        ]
    )
    with pytest.raises(services.ImportRejected) as caught:
        funds.import_spending(planner, planned.code, bad)
    found = {(p.row, p.field, p.code) for p in caught.value.problems}
    assert found == {
        (3, "line", "unknown"),
        (4, "project_code", "unknown"),
        (4, "kind", "invalid"),
        (4, "amount", "invalid"),
        (4, "on", "invalid"),
    }
    assert caught.value.problems[0].column in SPENDING_COLUMNS.values()
    assert not Spending.objects.exists()
    good = _workbook(
        [
            ["P1", 2026, "301", "合同", "950,000", "2026-10-09", "HT-7", "系统改造合同"],
            ["P1", 2026, "301", "支付", 950000, "2026-10-10", "ZF-1", ""],
        ]
    )
    assert funds.import_spending(planner, planned.code, good) == 2
    line = _warnings(planner, planned)
    assert (line.committed, line.paid, line.execution, line.warnings) == (
        Decimal("950000.00"),
        Decimal("950000.00"),
        0.95,
        ["ahead_of_progress"],
    )


def test_the_funds_page(staff_client, planned):
    client = staff_client("supervisor")
    url = f"/programme/{planned.code}/funds"
    bad = client.post(
        url, {"action": "line", "line-project_code": "P1", "line-year": "2026", "line-code": "301"}
    )
    assert bad.status_code == 422 and 'data-field="name"' in bad.content.decode()
    ok = client.post(
        url,
        {
            "action": "line",
            "line-project_code": "P1",
            "line-year": "2026",
            "line-code": "301",
            "line-name": "系统改造",
            "line-amount": "100000",
        },
    )
    assert ok.status_code == 302
    paid = {
        "pay-project_code": "P1",
        "pay-year": "2026",
        "pay-line": "301",
        "pay-kind": "支付",
        "pay-on": "2026-10-10",
    }
    wrong = client.post(url, {"action": "spending", **paid, "pay-amount": "0"})
    assert wrong.status_code == 422 and "请输入大于 0 的金额（元）。" in wrong.content.decode()
    assert client.post(url, {"action": "spending", **paid, "pay-amount": "95000"}).status_code == 302
    page = client.get(url).content.decode()
    assert 'data-line="P1/2026/301" data-warnings="ahead_of_progress"' in page and "95%" in page
