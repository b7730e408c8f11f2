import io

import pytest
from openpyxl import Workbook

from tongban.programme import services
from tongban.programme.transfer import COLUMNS, RISK_COLUMNS

from ..conftest import actor

HEADERS = list(COLUMNS.values())

# The hand-computed network of test_schedule (dates on the 2026 calendar: 中秋 and 国庆 off from
# 25 Sep to 7 Oct, Saturday 10 Oct a working day).
NETWORK = [
    # project, code, name, kind, owner, start, duration, predecessors, o, m, p
    ("P1", "A", "梳理事项清单", "任务", "scjgj", "2026-09-28", 3, "", 2, 3, 5),
    ("P1", "B", "精简申请材料", "任务", "scjgj", "2026-09-28", 2, "A", "", "", ""),
    ("P1", "C", "改造系统", "任务", "xzspj", "2026-09-28", 4, "A", "", "", ""),
    ("P1", "D", "培训窗口人员", "任务", "xzspj", "2026-09-28", 2, "B+1", "", "", ""),
    ("P2", "E", "试运行", "任务", "scjgj", "2026-09-28", 3, "C, D", "", "", ""),
    ("P2", "F", "评估", "任务", "ggb", "2026-09-28", 1, "E+2", "", "", ""),
    ("P2", "M", "全面上线", "里程碑", "scjgj", "2026-09-28", "", "F", "", "", ""),
]


def plan_xlsx(rows=NETWORK, risks=(), extra_rows=(), header=None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "计划"
    sheet.append(header or HEADERS)
    for project, code, name, kind, owner, start, duration, preds, o, m, p in rows:
        record = dict.fromkeys(COLUMNS, "")
        record.update(
            project_code=project,
            project_name={"P1": "食品经营许可流程再造", "P2": "上线与评估"}.get(project, project),
            code=code,
            name=name,
            kind=kind,
            owner_department=owner,
            start=start,
            duration=duration,
            predecessors=preds,
            optimistic=o,
            likely=m,
            pessimistic=p,
        )
        sheet.append([record[k] for k in COLUMNS])
    for row in extra_rows:
        sheet.append(row)
    if risks:
        rs = book.create_sheet("风险")
        rs.append(list(RISK_COLUMNS.values()))
        for r in risks:
            rs.append(list(r))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def planner(db):
    return actor("supervisor")


@pytest.fixture
def programme(planner):
    return services.create_programme(planner, code="LCZZ-2026", name="2026年流程再造", department_code="gov")


@pytest.fixture
def planned(planner, programme):
    services.import_plan(planner, programme.code, plan_xlsx())
    return programme
