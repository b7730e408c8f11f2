"""The programme office's API for other systems: consultations (list, detail, comment), weekly
reports (list, file with evidence, download), funds (overview, spending entry) and the risk register
(list, create, update) — the same services as the pages, so the same rules: another department's
objects are refused, bad input is a field-level error in both languages, and nothing is a 500."""

import datetime as dt
import json

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests import samples
from tests.conftest import totp_for
from tongban.accounts import services as account_services
from tongban.core.authz import SYSTEM
from tongban.programme import consultation as cons
from tongban.programme import funds
from tongban.programme.models import Comment, Risk, RiskScoreChange, Spending, Task, WeeklyReport

API = "/api/v1/programme"


@pytest.fixture
def login(db):
    """A separate browser per person, logged in as they would (staff pass their second factor)."""

    def make(username: str, *, staff: bool = True) -> Client:
        client = Client()
        response = client.post(
            "/accounts/login", {"username": username, "password": settings.TONGBAN_DEMO_PASSWORD}
        )
        assert response.status_code == 302, response.content[:300]
        if staff:
            response = client.post("/accounts/mfa/verify", {"otp_token": totp_for(username)})
            assert response.status_code == 302, response.content[:300]
        return client

    return make


def _bureau_planner() -> Client:
    """Another system: a planner whose scope is 市场监管局 only, calling with a bearer token."""
    account_services.create_staff(
        SYSTEM,
        username="sys-scjgj-plan",
        display_name="市监局计划系统",
        department_code="scjgj",
        kind="system",
        roles=[("supervisor", True)],
    )
    raw, _token = account_services.create_api_token(SYSTEM, username="sys-scjgj-plan", name="plan", days=30)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _post(client, path, data):
    return client.post(API + path, json.dumps(data), content_type="application/json")


def _put(client, path, data):
    return client.put(API + path, json.dumps(data), content_type="application/json")


def _ok(response, status=200):
    assert response.status_code == status, response.content[:800]
    return response.json()


def _fields(response) -> dict:
    assert response.status_code == 422, response.content[:800]
    return response.json()["error"]["fields"]


def _both_languages(problem: dict) -> None:
    message = problem["message"]
    assert message["zh-Hans"] and message["en"] and message["zh-Hans"] != message["en"]


# --- consultations --------------------------------------------------------------------------------


@pytest.fixture
def open_consultation(planner):
    today = timezone.localdate()
    c = cons.create_consultation(
        planner,
        title="关于优化食品经营许可流程的征求意见稿",
        draft="一、申请材料由六项减为三项。\n二、审批时限由二十个工作日缩短为五个。",
        department_code="gov",
        opens_on=today,
        closes_on=today + dt.timedelta(days=settings.TONGBAN_CONSULTATION_MIN_DAYS + 2),
    )
    cons.publish(planner, c.code)
    return c


def test_consultations_are_listed_and_read_by_anyone(db, open_consultation, planner):
    anyone = Client()
    listed = _ok(anyone.get(f"{API}/consultations"))
    assert [c["code"] for c in listed] == [open_consultation.code]
    assert listed[0]["phase"] == "open" and listed[0]["feedback_days"] == 15
    assert listed[0]["feedback_due"] == cons.feedback_due(open_consultation).isoformat()
    detail = _ok(anyone.get(f"{API}/consultations/{open_consultation.code}"))
    assert "六项减为三项" in detail["draft"] and detail["comments"] == []
    # a draft nobody published is not there, as on the public page
    draft = cons.create_consultation(
        planner,
        title="未发布",
        draft="草稿",
        department_code="gov",
        opens_on=timezone.localdate(),
        closes_on=timezone.localdate() + dt.timedelta(days=settings.TONGBAN_CONSULTATION_MIN_DAYS),
    )
    assert anyone.get(f"{API}/consultations/{draft.code}").status_code == 404
    assert anyone.get(f"{API}/consultations/ZJ-nowhere").status_code == 404


def test_a_citizen_comments_and_reads_the_comment_once_published(login, open_consultation, planner):
    citizen = login("zhangsan", staff=False)
    url = f"/consultations/{open_consultation.code}/comments"
    sent = _ok(_post(citizen, url, {"text": "建议保留线下窗口办理渠道。", "author_name": "张先生"}), 201)
    comment = Comment.objects.get(consultation=open_consultation, number=sent["number"])
    assert comment.author.username == "zhangsan" and sent["receipt"] == comment.receipt
    assert sent["moderation"] == "pending"
    detail = _ok(Client().get(f"{API}/consultations/{open_consultation.code}"))
    assert detail["comments"] == []  # shown once a moderator has published it
    cons.moderate(planner, open_consultation.code, sent["number"], publish=True)
    (shown,) = _ok(Client().get(f"{API}/consultations/{open_consultation.code}"))["comments"]
    assert (shown["author_name"], shown["text"], shown["decision"]) == ("张先生", comment.text, "")


def test_bad_comments_are_field_errors_and_anonymous_callers_use_the_page(login, open_consultation):
    citizen = login("zhangsan", staff=False)
    url = f"/consultations/{open_consultation.code}/comments"
    fields = _fields(_post(citizen, url, {"text": "  ", "author_name": "名" * 41}))
    assert set(fields) == {"text", "author_name"}
    _both_languages(fields["text"][0])
    assert set(_fields(_post(citizen, url, {"section": "一"}))) == {"text"}  # schema: text missing
    assert _post(citizen, "/consultations/ZJ-nowhere/comments", {"text": "x"}).status_code == 404
    anonymous = _post(Client(), url, {"text": "匿名意见"})
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"]
    assert not Comment.objects.exists()


# --- weekly reports -------------------------------------------------------------------------------


def test_an_owner_files_a_weekly_report_with_evidence_and_reads_it_back(login, planned):
    owner = login("bureau_head")  # 市监局, which owns A
    url = f"{API}/programmes/{planned.code}/tasks/A/weekly-reports"
    name, data = samples.upload("清单初稿.pdf", "draft list")
    filed = _ok(
        owner.post(url, {"text": "完成清单初稿。", "percent": "60", "files": [_file(name, data)]}), 201
    )
    assert (filed["percent"], filed["text"], filed["author"]) == (60, "完成清单初稿。", "孙局长")
    (evidence,) = filed["evidence"]
    assert evidence["name"] == "清单初稿.pdf" and evidence["kind"] == "pdf"
    assert Task.objects.get(programme=planned, code="A").percent == 60
    listed = _ok(login("supervisor").get(url))
    assert [r["week"] for r in listed] == [filed["week"]]
    files = f"{API}/programmes/{planned.code}/tasks/A/evidence"
    download = owner.get(f"{files}/{filed['week']}/1")
    assert download.status_code == 200 and download.content == samples.pdf("draft list")
    assert owner.get(f"{files}/{filed['week']}/2").status_code == 404
    assert owner.get(f"{files}/not-a-week/1").status_code == 404
    assert owner.get(f"{files}/{filed['week']}/x").status_code == 404


def _file(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_weekly_reports_of_another_departments_task_are_refused(login, planned):
    owner = login("bureau_head")
    base = f"{API}/programmes/{planned.code}/tasks"
    refused = owner.post(f"{base}/C/weekly-reports", {"text": "代报", "percent": "10"})  # C: 行政审批局
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_permitted"
    assert owner.post(f"{base}/NOPE/weekly-reports", {"text": "x", "percent": "1"}).status_code == 404
    # 人社局's reviewer owns no task of the programme: it does not exist for them
    assert login("reviewer_rs").get(f"{base}/A/weekly-reports").status_code == 404
    fields = _fields(owner.post(f"{base}/A/weekly-reports", {"text": "", "percent": "120"}))
    assert set(fields) == {"text", "percent"}
    _both_languages(fields["percent"][0])
    assert not WeeklyReport.objects.exists()


# --- funds ----------------------------------------------------------------------------------------


def test_a_planner_enters_spending_and_sees_the_execution_rate_and_warnings(login, planner, planned):
    funds.set_budget_line(
        planner, planned.code, project_code="P1", year=2026, code="301", name="系统改造", amount="100000"
    )
    client = login("supervisor")
    url = f"{API}/programmes/{planned.code}/funds"
    spent = _ok(
        _post(
            client,
            "/programmes/" + planned.code + "/funds/spendings",
            {
                "project_code": "P1",
                "year": 2026,
                "line": "301",
                "kind": "支付",
                "amount": "95,000",
                "on": "2026-10-09",
            },
        ),
        201,
    )
    assert (spent["kind"], spent["amount"], spent["line"]) == ("payment", "95000.00", "301")
    overview = _ok(client.get(url))
    (line,) = overview["lines"]
    assert line["execution"] == pytest.approx(0.95) and line["warnings"] == ["ahead_of_progress"]
    assert (line["budget"], line["paid"], line["committed"]) == ("100000.00", "95000.00", "0.00")
    assert overview["projects"][0]["paid"] == "95000.00" and overview["warnings"] == 1
    assert [s["id"] for s in _ok(client.get(url + "/spendings"))] == [spent["id"]]
    assert _ok(client.get(url, {"year": 2025}))["lines"] == []
    assert set(_fields(client.get(url, {"year": "soon"}))) == {"year"}


def test_spending_entries_are_checked_and_only_planners_of_the_programme_enter_them(login, planner, planned):
    funds.set_budget_line(
        planner, planned.code, project_code="P1", year=2026, code="301", name="系统改造", amount="100000"
    )
    path = f"/programmes/{planned.code}/funds/spendings"
    good = {
        "project_code": "P1",
        "year": 2026,
        "line": "301",
        "kind": "payment",
        "amount": "10",
        "on": "2026-10-09",
    }
    fields = _fields(
        _post(
            login("supervisor"), path, {**good, "year": "明年", "kind": "赠送", "amount": "-5", "on": "9/10"}
        )
    )
    assert set(fields) == {"year", "kind", "amount", "on"}
    _both_languages(fields["amount"][0])
    assert set(_fields(_post(login("supervisor"), path, {"project_code": "P1"}))) >= {"year", "line", "kind"}
    # 市监局's head reads the programme (it owns tasks in it) but does not keep its books
    assert _post(login("bureau_head"), path, good).status_code == 403
    # a planner of 市监局 alone plans nothing led by the city government
    assert _post(_bureau_planner(), path, good).status_code == 403
    assert login("reviewer_rs").get(f"{API}/programmes/{planned.code}/funds").status_code == 404
    assert not Spending.objects.exists()


# --- risks ----------------------------------------------------------------------------------------


def test_a_planner_creates_and_updates_a_risk_with_its_history(login, planned):
    client = login("supervisor")
    path = f"/programmes/{planned.code}/risks"
    created = _ok(
        _post(
            client,
            path,
            {
                "code": "R1",
                "name": "系统改造延期",
                "likelihood": 3,
                "impact": "4",
                "owner_department": "xzspj",
                "review_on": "2026-10-20",
                "tasks": ["C", "E"],
                "cause": "供应商人手不足",
            },
        ),
        201,
    )
    assert (created["score"], created["level"], created["tasks"]) == (12, "yellow", ["C", "E"])
    assert created["owner_department"] == "xzspj" and len(created["history"]) == 1
    taken = _post(client, path, {"code": "R1", "name": "again", "likelihood": 1, "impact": 1})
    assert (
        taken.status_code == 409
        and taken.json()["error"]["message"]["zh-Hans"] == "登记册中已有此编号的风险。"
    )
    assert Risk.objects.get(code="R1").name == "系统改造延期"
    updated = _ok(
        _put(
            client, f"{path}/R1", {"name": "系统改造延期", "likelihood": 4, "impact": 4, "note": "供应商换人"}
        )
    )
    assert (updated["score"], updated["level"], updated["tasks"]) == (16, "red", [])
    assert [h["score"] for h in updated["history"]] == [12, 16] and updated["history"][1][
        "note"
    ] == "供应商换人"
    register = _ok(login("bureau_head").get(API + path))  # a reader of the programme sees the register
    assert [r["code"] for r in register["risks"]] == ["R1"] and register["counts"]["red"] == 1
    missing = _put(client, f"{path}/R9", {"name": "x", "likelihood": 1, "impact": 1})
    assert missing.status_code == 404 and not Risk.objects.filter(code="R9").exists()


def test_bad_risks_are_field_errors_and_other_departments_are_refused(login, planned):
    client = login("supervisor")
    path = f"/programmes/{planned.code}/risks"
    fields = _fields(
        _post(
            client,
            path,
            {
                "code": "R 1",
                "name": "",
                "likelihood": 0,
                "impact": "六",
                "review_on": "someday",
                "tasks": ["Z"],
            },
        )
    )
    assert set(fields) == {"code", "name", "likelihood", "impact", "review_on", "tasks"}
    _both_languages(fields["impact"][0])
    assert set(_fields(_post(client, path, {"code": "R1"}))) == {"name", "likelihood", "impact"}
    good = {"code": "R1", "name": "延期", "likelihood": 2, "impact": 2}
    assert _post(login("bureau_head"), path, good).status_code == 403
    assert _post(_bureau_planner(), path, good).status_code == 403
    assert login("reviewer_rs").get(API + path).status_code == 404
    assert not Risk.objects.exists() and not RiskScoreChange.objects.exists()
