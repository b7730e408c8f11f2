"""The programme pages and API: import with a per-row report, the Gantt data, dragging through the
API (dependents move, bad dates are field errors in both languages), downloads, schedule risk."""

import io
import json

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from tongban.programme.models import Task

from .conftest import plan_xlsx


def _upload(data: bytes, name: str = "plan.xlsx"):
    return SimpleUploadedFile(
        name, data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def test_planner_creates_imports_and_sees_the_gantt(db, staff_client):
    client = staff_client("supervisor")
    page = client.get("/programme/")
    assert page.status_code == 200 and "programme-form" in page.content.decode()
    bad = client.post("/programme/new", {"code": "bad code!", "name": "", "department_code": "gov"})
    assert bad.status_code == 422
    response = client.post("/programme/new", {"code": "P-2026", "name": "流程再造", "department_code": "gov"})
    assert response.status_code == 302 and response["Location"] == "/programme/P-2026/"
    rows = [("P1", "A", "甲", "任务", "scjgj", "2026-09-28", 2, "Q", "", "", "")]
    refused = client.post("/programme/P-2026/import", {"file": _upload(plan_xlsx(rows))})
    body = refused.content.decode()
    assert refused.status_code == 422 and "import-problems" in body and "前置任务" in body
    assert Task.objects.filter(programme__code="P-2026").count() == 0
    done = client.post("/programme/P-2026/import", {"file": _upload(plan_xlsx())})
    assert done.status_code == 302
    page = client.get("/programme/P-2026/").content.decode()
    assert 'data-testid="gantt"' in page and "A → B → D → E → F → M" in page
    data = client.get("/api/v1/programme/programmes/P-2026/gantt").json()
    assert [t["code"] for t in data["tasks"] if t["critical"]] == ["A", "B", "D", "E", "F", "M"]
    assert {"from": "B", "to": "D", "lag": 1} in data["links"]


def test_reschedule_api_moves_dependents_and_refuses_bad_dates(staff_client, planned):
    client = staff_client("supervisor")
    url = f"/api/v1/programme/programmes/{planned.code}/tasks/B/reschedule"
    moved = client.post(url, json.dumps({"start": "2026-10-12"}), content_type="application/json")
    assert moved.status_code == 200
    assert [m["code"] for m in moved.json()] == ["B", "D", "E", "F", "M"]
    too_early = client.post(
        f"/api/v1/programme/programmes/{planned.code}/tasks/D/reschedule",
        json.dumps({"start": "2026-10-08"}),
        content_type="application/json",
    )
    assert too_early.status_code == 422
    message = too_early.json()["error"]["fields"]["start"][0]["message"]
    assert (
        "2026-10-15" in message["en"]
        and "2026-10-15" in message["zh-Hans"]
        and message["en"] != message["zh-Hans"]
    )
    garbage = client.post(url, json.dumps({"start": "31/31/2026"}), content_type="application/json")
    assert garbage.status_code == 422 and "start" in garbage.json()["error"]["fields"]
    missing = client.post(
        f"/api/v1/programme/programmes/{planned.code}/tasks/NOPE/reschedule",
        json.dumps({"start": "2026-10-12"}),
        content_type="application/json",
    )
    assert missing.status_code == 404


def test_owner_reports_progress_but_may_not_drag(staff_client, planned):
    client = staff_client("bureau_head")
    url = f"/api/v1/programme/programmes/{planned.code}/tasks/A/reschedule"
    assert (
        client.post(url, json.dumps({"start": "2026-10-12"}), content_type="application/json").status_code
        == 403
    )
    ok = client.post(
        f"/api/v1/programme/programmes/{planned.code}/tasks/A/progress",
        json.dumps({"percent": "40"}),
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json() == {"code": "A", "percent": 40, "status": "in_progress"}
    page = client.post(f"/programme/{planned.code}/tasks/A/progress", {"percent": "abc"}, follow=True)
    assert page.status_code == 200
    assert Task.objects.get(programme=planned, code="A").percent == 40


def test_downloads_and_schedule_risk_page(staff_client, planned):
    client = staff_client("supervisor")
    export = client.get(f"/programme/{planned.code}/export.xlsx")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxml")
    assert load_workbook(io.BytesIO(export.content)).sheetnames == ["计划"]
    lists = client.get(f"/programme/{planned.code}/three-lists.xlsx")
    assert load_workbook(io.BytesIO(lists.content)).sheetnames == ["任务清单", "责任清单", "时限清单"]
    risk = client.get(f"/programme/{planned.code}/risk?runs=1000&seed=3")
    assert risk.status_code == 200 and 'data-p="80"' in risk.content.decode()
    bad = client.get(f"/programme/{planned.code}/risk?runs=x&distribution=normal")
    assert bad.status_code == 422 and 'data-field="runs"' in bad.content.decode()
    api = client.get(f"/api/v1/programme/programmes/{planned.code}/schedule-risk?runs=500&seed=1")
    assert api.status_code == 200 and api.json()["deterministic"] == "2026-10-21"
