"""The case API over HTTP: applicants, the window and the back office, as their clients call it."""

import json
import re
import uuid

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests import samples
from tests.conftest import totp_for
from tongban.accounts import services as account_services
from tongban.accounts.models import Person, User
from tongban.cases import services
from tongban.cases.models import Case, CaseStatus
from tongban.catalog import services as catalog
from tongban.core.authz import SYSTEM
from tongban.workflow.models import WorkItem

from .test_handling import AUTO_TABLE
from .test_lifecycle import FIELDS, RESTAURANT, _actor, _data, _do, _item, _no_longer_an_agent

API = "/api/v1"


@pytest.fixture
def login(db):
    """A separate browser per person, logged in as they would (staff pass their second factor)."""

    def make(username: str) -> Client:
        client = Client()
        response = client.post(
            "/accounts/login", {"username": username, "password": settings.TONGBAN_DEMO_PASSWORD}
        )
        assert response.status_code == 302, response.content[:300]
        if User.objects.get(username=username).kind != "citizen":
            response = client.post("/accounts/mfa/verify", {"otp_token": totp_for(username)})
            assert response.status_code == 302, response.content[:300]
        return client

    return make


def _system_reviewer() -> Client:
    """A second reviewer of 食品经营科: a system account calling with a bearer token."""
    account_services.create_staff(
        SYSTEM,
        username="sys-review",
        display_name="审查系统",
        department_code="scjgj-spjyk",
        kind="system",
        roles=[("reviewer", False)],
    )
    raw, _token = account_services.create_api_token(SYSTEM, username="sys-review", name="review", days=30)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _post(client, path, data=None, **extra):
    return client.post(
        API + path, json.dumps({} if data is None else data), content_type="application/json", **extra
    )


def _put(client, path, data):
    return client.put(API + path, json.dumps(data), content_type="application/json")


def _get(client, path, **params):
    return client.get(API + path, params)


def _ok(response, status=200):
    assert response.status_code == status, response.content[:800]
    return response.json()


def _error(response, status, code):
    assert response.status_code == status, response.content[:800]
    body = response.json()["error"]
    assert body["code"] == code
    assert set(body["message"]) == {"zh-Hans", "en"} and all(body["message"].values())
    assert body["request_id"] == response["X-Request-ID"]
    return body


def _pdf(name="material.pdf", text="sample"):
    return SimpleUploadedFile(name, samples.pdf(text), content_type="application/pdf")


def _accepted(code=None, **apply):
    code = code or _item()
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data(), **apply)
    services.accept(_actor("clerk"), case.number)
    return case.number


def _open_step(number, role="reviewer"):
    return WorkItem.objects.get(subject=number, role=role, status__in=("open", "claimed")).public_id


# --- applicants ------------------------------------------------------------------------------------


def test_applying_is_idempotent_and_the_applicant_follows_the_case(login):
    code = _item()
    zhangsan = login("zhangsan")
    body = {"item_code": code, "data": _data(), "enterprise_uscc": RESTAURANT}
    case = _ok(_post(zhangsan, "/cases", body, HTTP_IDEMPOTENCY_KEY="k-1"), 201)
    assert (case["status"], case["channel"], case["item_code"]) == ("submitted", "online", code)
    assert case["applicant"] == {
        "public_id": str(Person.objects.get(user__username="zhangsan").public_id),
        "name": "张三",
        "masked": False,
    }
    assert case["enterprise"] == {"uscc": RESTAURANT, "name": "广安区示例餐饮有限公司"}
    again = _ok(_post(zhangsan, "/cases", body, HTTP_IDEMPOTENCY_KEY="k-1"), 201)
    assert again["number"] == case["number"] and Case.objects.count() == 1  # a double submit makes one case

    mine = _ok(_get(zhangsan, "/my/cases"))
    assert mine["count"] == 1 and mine["items"][0]["number"] == case["number"]
    assert _ok(_get(zhangsan, "/my/cases", status="issued"))["count"] == 0
    detail = _ok(_get(zhangsan, f"/cases/{case['number']}"))
    assert detail["is_applicant"] and detail["data"]["uscc"] == RESTAURANT
    assert {m["name"]: m["status"] for m in detail["materials"]} == {
        "营业执照": "pending",
        "平面图": "pending",
        "管理制度": "pending",
    }
    assert [(e["activity"], e["actor"]) for e in detail["events"]] == [("case.submitted", "applicant")]
    # 李四 represents the enterprise, so the case is his to see too; a stranger's case is not.
    assert _ok(_get(login("lisi"), f"/cases/{case['number']}"))["is_applicant"]


def test_a_citizen_gets_404_for_another_persons_case_and_its_files(login):
    _no_longer_an_agent("lisi")
    number = _accepted(files={"营业执照": samples.upload("licence.pdf", "L")})
    lisi = login("lisi")
    _error(_get(lisi, f"/cases/{number}"), 404, "not_found")
    _error(_get(lisi, f"/cases/{number}/document"), 404, "not_found")
    material = Case.objects.get(number=number).materials.get(name="营业执照")
    _error(_get(lisi, f"/cases/{number}/materials/{material.pk}/file"), 404, "not_found")
    _error(_post(lisi, f"/cases/{number}/withdraw"), 404, "not_found")
    _error(_get(lisi, "/cases/no-such-case"), 404, "not_found")
    assert _ok(_get(lisi, "/my/cases"))["count"] == 0
    _error(Client().get(f"{API}/cases/{number}"), 401, "not_authenticated")


def test_accept_with_gaps_then_the_applicant_supplies_the_missing_material(login):
    code = _item()
    zhangsan = login("zhangsan")
    payload = json.dumps({"item_code": code, "data": _data()}, ensure_ascii=False)
    created = zhangsan.post(
        f"{API}/cases/multipart",
        {"payload": payload, "files[营业执照]": _pdf("licence.pdf", "L")},
        HTTP_IDEMPOTENCY_KEY="m-1",
    )
    number = _ok(created, 201)["number"]

    clerk = login("clerk")
    queue = _ok(_get(clerk, "/window/cases", item_code=code))
    (row,) = queue["items"]
    assert row["number"] == number and row["applicant"]["name"] == "张*" and row["applicant"]["masked"]
    _error(_get(zhangsan, "/window/cases"), 403, "not_permitted")
    # 平面图 is core: it cannot be left out.
    refused = _error(_post(clerk, f"/cases/{number}/accept", {"missing": ["平面图"]}), 422, "invalid_input")
    assert refused["fields"]["missing"][0]["code"] == "core"
    accepted = _ok(
        _post(clerk, f"/cases/{number}/accept", {"missing": ["管理制度"], "paper": ["平面图"], "gap_days": 2})
    )
    assert accepted["status"] == "in_progress" and accepted["colour"] == "green"
    assert _ok(_get(clerk, "/window/cases"))["count"] == 0
    assert [c["number"] for c in _ok(_get(clerk, "/window/cases", queue="gaps", q=number[-6:]))["items"]] == [
        number
    ]
    assert set(_error(_get(clerk, "/window/cases", queue="lost"), 422, "invalid_input")["fields"]) == {
        "queue"
    }
    _error(_post(clerk, f"/cases/{number}/accept", {}), 409, "conflict")

    detail = _ok(_get(clerk, f"/cases/{number}"))
    assert not detail["is_applicant"] and detail["case"]["applicant"]["name"] == "张*"
    materials = {m["name"]: m for m in detail["materials"]}
    assert materials["管理制度"]["status"] == "missing" and materials["管理制度"]["due_at"]
    assert (materials["平面图"]["source"], materials["平面图"]["download"]) == ("paper", None)
    download = clerk.get(materials["营业执照"]["download"])
    assert download.status_code == 200 and download.content == samples.pdf("L")
    assert download["Content-Type"] == "application/pdf" and "licence.pdf" in download["Content-Disposition"]

    supplied = zhangsan.post(f"{API}/cases/{number}/materials/管理制度", {"file": _pdf("rules.pdf")})
    assert _ok(supplied)["number"] == number
    detail = _ok(_get(zhangsan, f"/cases/{number}"))
    assert {m["name"]: m["status"] for m in detail["materials"]}["管理制度"] == "provided"
    assert detail["events"][-1]["activity"] == "case.material_supplied"
    _error(zhangsan.post(f"{API}/cases/{number}/materials/管理制度", {}), 422, "invalid_input")


def test_the_window_accepts_on_behalf_refuses_and_the_applicant_withdraws(login):
    code = _item()
    clerk = login("clerk")
    lisi_id = Person.objects.get(user__username="lisi").id_number
    taken = _ok(
        _post(
            clerk,
            "/window/cases",
            {
                "item_code": code,
                "id_number": lisi_id,
                "data": _data(),
                "missing": ["管理制度"],
                "window_code": "gaq-zwzx/01",
            },
        ),
        201,
    )
    assert (taken["channel"], taken["status"], taken["visits"]) == ("window", "in_progress", 1)
    assert taken["applicant"]["name"] == "李*"
    assert lisi_id not in json.dumps(taken, ensure_ascii=False)

    online = services.apply_online(_actor("zhangsan"), item_code=code, data=_data())
    _error(_post(clerk, f"/cases/{online.number}/refuse", {"reason": "  "}), 422, "invalid_input")
    refused = _ok(_post(clerk, f"/cases/{online.number}/refuse", {"reason": "不属于本事项受理范围"}))
    assert refused["status"] == "not_accepted"

    other = services.apply_online(_actor("zhangsan"), item_code=code, data=_data())
    zhangsan = login("zhangsan")
    _error(_post(clerk, f"/cases/{other.number}/withdraw"), 403, "not_permitted")
    assert (
        _ok(_post(zhangsan, f"/cases/{other.number}/withdraw", {"reason": "不办了"}))["status"] == "withdrawn"
    )
    _error(_post(zhangsan, f"/cases/{other.number}/withdraw"), 409, "conflict")


# --- the back office -------------------------------------------------------------------------------


def test_worklist_claim_and_complete_where_two_staff_race_for_one_step(login):
    number = _accepted()
    reviewer, robot = login("reviewer"), _system_reviewer()
    listed = _ok(_get(reviewer, "/work"))
    (row,) = listed["items"]
    assert (
        listed["count"] == 1
        and listed["count_exact"]
        and row["case_number"] == number
        and row["colour"] == "green"
    )
    assert row["case"]["applicant"] == "张*" and row["case"]["title"] == "测试食品许可"
    assert _ok(_get(robot, "/work"))["items"][0]["id"] == row["id"]  # the token caller sees it too
    assert _ok(_get(reviewer, "/work", item_code="OTHER"))["count"] == 0
    assert _ok(_get(reviewer, "/work", colour="red"))["count"] == 0
    assert _ok(_get(reviewer, "/work", due_before="2000-01-01"))["count"] == 0
    assert _ok(_get(reviewer, "/work", due_before="2100-01-01T00:00:00+08:00"))["count"] == 1
    step = _ok(_get(reviewer, f"/work/{row['id']}"))
    assert step["can_act"] and step["case"]["number"] == number and step["case"]["applicant"]["masked"]
    _error(_get(login("reviewer_rs"), f"/work/{row['id']}"), 404, "not_found")

    done = _ok(_post(reviewer, f"/work/{row['id']}/complete", {"decision": "approve", "opinion": "同意"}))
    assert done["work"]["status"] == "completed" and [w["role"] for w in done["next"]] == ["section_head"]
    lost = _error(
        _post(robot, f"/work/{row['id']}/complete", {"decision": "approve", "opinion": "同意"}),
        409,
        "conflict",
    )
    assert "already" in lost["message"]["en"]

    head = login("section_head")
    approve = done["next"][0]["id"]
    claimed = _ok(_post(head, f"/work/{approve}/claim"))
    assert claimed["mine"] and claimed["status"] == "claimed"
    assert _ok(_get(head, "/work", mine="true"))["count"] == 1
    _error(
        _post(head, f"/work/{approve}/complete", {"decision": "reject"}), 422, "invalid_input"
    )  # a rejection gives reasons
    final = _ok(_post(head, f"/work/{approve}/complete", {"decision": "approve", "opinion": "准予许可"}))
    assert (final["case"]["status"], final["case"]["decision"]) == ("decided", "approve") and not final[
        "next"
    ]
    _error(_get(login("zhangsan"), "/work"), 403, "not_permitted")


def test_supplement_requested_from_a_step_and_answered_with_files(login):
    number = _accepted()
    reviewer, zhangsan = login("reviewer"), login("zhangsan")
    step = _open_step(number)
    _ok(_post(reviewer, f"/work/{step}/claim"))
    bad = _error(
        _post(reviewer, f"/work/{step}/supplement", {"items": [{"material": "", "reason": "x"}]}),
        422,
        "invalid_input",
    )
    assert set(bad["fields"]) == {"items[0].material"}
    asked = _ok(
        _post(
            reviewer,
            f"/work/{step}/supplement",
            {
                "items": [
                    {"material": "平面图", "reason": "比例尺不清"},
                    {"material": "消防验收意见", "reason": "缺少"},
                ],
                "note": "请一次补齐",
            },
        ),
        201,
    )
    assert asked["work_item"] == str(step) and [i["material"] for i in asked["items"]] == [
        "平面图",
        "消防验收意见",
    ]
    inbox = _ok(_get(zhangsan, "/me/notifications", unread_only="true"))
    assert inbox["unread"] >= 1 and any(n["subject"] == number for n in inbox["items"])

    partial = zhangsan.post(f"{API}/cases/{number}/supplement-response", {"files[平面图]": _pdf("plan.pdf")})
    assert "files.消防验收意见" in _error(partial, 422, "invalid_input")["fields"]
    answered = zhangsan.post(
        f"{API}/cases/{number}/supplement-response",
        {"files[平面图]": _pdf("plan.pdf", "v2"), "files[消防验收意见]": _pdf("fire.pdf"), "note": "已补齐"},
    )
    assert _ok(answered)["status"] == "in_progress"
    detail = _ok(_get(reviewer, f"/cases/{number}"))
    (supplement,) = detail["supplements"]
    assert supplement["responded_at"] and supplement["response_note"] == "已补齐"
    assert {m["name"]: m["status"] for m in detail["materials"]}["消防验收意见"] == "provided"
    assert _ok(_post(zhangsan, "/me/notifications/read"))["marked"] >= 1
    assert _ok(_get(zhangsan, "/me/notifications"))["unread"] == 0


def test_procedures_and_hand_offs_between_staff(login):
    number = _accepted()
    reviewer, robot = login("reviewer"), _system_reviewer()
    step = _open_step(number)
    _ok(_post(reviewer, f"/work/{step}/claim"))
    started = _ok(
        _post(
            reviewer,
            f"/cases/{number}/procedures",
            {"kind": "testing", "reason": "送检", "expected_days": 5, "work_id": str(step)},
        ),
        201,
    )
    assert started["kind"] == "testing" and started["ended_at"] is None
    assert _error(
        _post(reviewer, f"/cases/{number}/procedures", {"kind": "party", "reason": "x"}), 422, "invalid_input"
    )["fields"]["kind"]
    assert _ok(_get(reviewer, f"/cases/{number}"))["case"]["pause_reason"] == "special"
    ended = _ok(
        _post(reviewer, f"/cases/{number}/procedures/end", {"result": "检测合格", "work_id": str(step)})
    )
    assert ended["result"] == "检测合格" and ended["ended_at"]

    moved = _ok(_post(reviewer, f"/work/{step}/transfer", {"to_username": "sys-review", "opinion": "请协助"}))
    assert moved["status"] == "claimed" and not moved["mine"]
    signer = _ok(_post(robot, f"/work/{step}/countersigners", {"username": "reviewer"}), 201)
    assert signer["mine"] is False and signer["node_id"] == moved["node_id"]
    _error(_post(robot, f"/work/{step}/countersigners", {"username": "reviewer"}), 422, "invalid_input")
    head = login("section_head")
    assert _ok(_post(head, f"/work/{step}/remind", {"message": "请今天办结"}))["recipients"] == 1
    _error(_post(reviewer, f"/work/{step}/remind", {}), 403, "not_permitted")
    assert _ok(_get(head, "/work/overdue"))["count"] == 0
    activities = [e["activity"] for e in _ok(_get(head, f"/cases/{number}"))["events"]]
    assert {"case.procedure_started", "work.transferred", "work.countersigner_added", "work.reminded"} <= set(
        activities
    )


def test_issue_download_rating_and_rectification(login):
    number = _accepted(files={n: samples.upload() for n in ("营业执照", "平面图", "管理制度")})
    case = Case.objects.get(number=number)
    _do("reviewer", case)
    _do("section_head", case)
    clerk, zhangsan = login("clerk"), login("zhangsan")
    _error(_get(zhangsan, f"/cases/{number}/document"), 404, "not_found")  # not issued yet
    to_issue = _ok(_get(clerk, "/window/cases", queue="decided"))["items"]
    assert [c["number"] for c in to_issue] == [number] and to_issue[0]["decision"] == "approve"
    posted = _error(_post(clerk, f"/cases/{number}/issue", {"delivery": "post"}), 422, "invalid_input")
    assert set(posted["fields"]) == {"address"}
    assert (
        "delivery"
        in _error(_post(clerk, f"/cases/{number}/issue", {"delivery": "pigeon"}), 422, "invalid_input")[
            "fields"
        ]
    )
    issued = _ok(_post(clerk, f"/cases/{number}/issue", {"delivery": "online"}))
    assert issued["status"] == "issued" and issued["delivery"] == "online"

    document = zhangsan.get(f"{API}/cases/{number}/document")
    assert document.status_code == 200 and document["Content-Type"] == "application/pdf"
    assert document.content.startswith(b"%PDF") and f"{number}.pdf" in document["Content-Disposition"]

    needs_reason = _error(_post(zhangsan, f"/cases/{number}/rating", {"score": 2}), 422, "invalid_input")
    assert set(needs_reason["fields"]) == {"comment"}
    _error(_post(clerk, f"/cases/{number}/rating", {"score": 5}), 403, "not_permitted")
    rating = _ok(_post(zhangsan, f"/cases/{number}/rating", {"score": 2, "comment": "窗口态度差"}), 201)
    assert rating["rectification"] and rating["rectification_due_at"]
    _error(_post(zhangsan, f"/cases/{number}/rating", {"score": 5}), 409, "conflict")

    head = login("section_head")
    (task,) = _ok(_get(head, "/work", kind="rectification"))["items"]
    assert task["id"] == rating["rectification"] and task["case"]["number"] == number
    done = _ok(
        _post(
            head,
            f"/work/{task['id']}/rectification",
            {"measures": "组织窗口人员培训", "callback_result": "satisfied", "callback_note": "申请人认可"},
        )
    )
    assert done["callback_result"] == "satisfied" and done["rectified_at"]
    assert _ok(_get(zhangsan, f"/cases/{number}"))["rating"]["measures"] == "组织窗口人员培训"


def test_a_failed_inspection_revokes_a_commitment_approval(login):
    catalog.create_item(
        SYSTEM,
        code="COMMIT-API",
        department_code="scjgj-spjyk",
        name="承诺制许可",
        item_type="licensing",
        statutory_limit_days=20,
        promised_limit_days=5,
        commitment_allowed=True,
        form_fields=FIELDS,
        materials=[{"name": "承诺书"}],
    )
    catalog.publish_item(SYSTEM, "COMMIT-API")
    zhangsan = login("zhangsan")
    payload = json.dumps({"item_code": "COMMIT-API", "data": _data(), "commitment": True})
    number = _ok(zhangsan.post(f"{API}/cases/multipart", {"payload": payload, "files[承诺书]": _pdf()}), 201)[
        "number"
    ]
    decided = _ok(_post(login("clerk"), f"/cases/{number}/accept"))
    assert (decided["status"], decided["by_commitment"]) == ("decided", True)
    reviewer = login("reviewer")
    (inspection,) = _ok(_get(reviewer, "/work", kind="inspection"))["items"]
    revoked = _ok(
        _post(reviewer, f"/work/{inspection['id']}/inspection", {"passed": False, "opinion": "与承诺不符"})
    )
    assert revoked["status"] == "revoked"


# --- 秒批 tables -----------------------------------------------------------------------------------


def test_a_table_put_and_published_over_the_api_approves_the_next_application(login):
    catalog.create_item(
        SYSTEM,
        code="AUTO-API",
        department_code="scjgj-spjyk",
        name="秒批测试许可",
        item_type="licensing",
        statutory_limit_days=20,
        promised_limit_days=3,
        auto_approvable=True,
        form_fields=FIELDS,
        materials=[{"name": "营业执照"}],
    )
    catalog.publish_item(SYSTEM, "AUTO-API")
    path = "/catalog/items/AUTO-API/decision-table"
    admin = login("admin")
    _error(_get(admin, path + ".dmn"), 404, "not_found")
    broken = {**AUTO_TABLE, "rules": [{"id": "x", "when": ["[1..", "-", "-"], "then": ["approve"]}]}
    assert "rules[0].when[0]" in _error(_put(admin, path, broken), 422, "invalid_input")["fields"]
    _error(_put(admin, path, [1, 2]), 422, "invalid_input")
    draft = _ok(_put(admin, path, AUTO_TABLE))
    assert (draft["version"], draft["status"]) == (1, "draft")
    tried = _ok(
        _post(
            admin,
            path + "/try",
            {"data": {"area": 100}, "checks": {"applicant_age": 40, "materials_complete": True}},
        )
    )
    assert (tried["decision"], tried["rule"]) == ("approve", "small_shop")
    assert set(tried["reason"]) == {"zh-Hans", "en"}
    dmn = admin.get(f"{API}{path}.dmn")
    assert dmn.status_code == 200 and b"<decisionTable" in dmn.content.replace(b"dmn:", b"")
    again = admin.post(f"{API}{path}/dmn", {"file": SimpleUploadedFile("t.dmn", dmn.content)})
    assert _ok(again)["version"] == 1  # the same draft, now from the DMN file
    _error(
        admin.post(f"{API}{path}/dmn", {"file": SimpleUploadedFile("t.dmn", b"<nope")}), 422, "invalid_input"
    )
    _error(_put(login("clerk"), path, AUTO_TABLE), 403, "not_permitted")
    published = _ok(_post(admin, path + "/publish"))
    assert published["status"] == "published"
    _error(_post(admin, path + "/publish"), 409, "conflict")  # nothing left to publish
    tables = _ok(_get(admin, path))
    assert tables["draft"] is None and tables["published"]["version"] == 1

    payload = json.dumps({"item_code": "AUTO-API", "data": _data()}, ensure_ascii=False)
    case = _ok(
        login("zhangsan").post(f"{API}/cases/multipart", {"payload": payload, "files[营业执照]": _pdf()}), 201
    )
    assert (case["status"], case["decision"], case["delivery"]) == ("issued", "approve", "online")
    assert not WorkItem.objects.filter(subject=case["number"]).exists()


# --- bad input and the document --------------------------------------------------------------------


def test_bad_input_is_422_with_field_names_and_changes_nothing(login):
    code = _item()
    zhangsan = login("zhangsan")
    wrong = _error(
        _post(zhangsan, "/cases", {"item_code": code, "data": {"uscc": "123", "area": "many", "x": 1}}),
        422,
        "invalid_input",
    )
    assert set(wrong["fields"]) == {"data.enterprise_name", "data.uscc", "data.area", "data.x"}
    assert (
        wrong["fields"]["data.uscc"][0]["message"]["zh-Hans"]
        != wrong["fields"]["data.uscc"][0]["message"]["en"]
    )
    assert set(
        _error(_post(zhangsan, "/cases", {"item_code": code, "data": "x"}), 422, "invalid_input")["fields"]
    ) == {"data"}
    assert "item_code" in _error(_post(zhangsan, "/cases", {"data": {}}), 422, "invalid_input")["fields"]
    long_key = _post(zhangsan, "/cases", {"item_code": code, "data": _data()}, HTTP_IDEMPOTENCY_KEY="k" * 81)
    assert "idempotency_key" in _error(long_key, 422, "invalid_input")["fields"]
    _error(_post(zhangsan, "/cases", {"item_code": "NO-SUCH-ITEM", "data": {}}), 404, "not_found")
    # The multipart form of the same request.
    multipart = f"{API}/cases/multipart"
    assert "payload" in _error(zhangsan.post(multipart, {}), 422, "invalid_input")["fields"]
    assert "payload" in _error(zhangsan.post(multipart, {"payload": "[1]"}), 422, "invalid_input")["fields"]
    assert "payload" in _error(zhangsan.post(multipart, {"payload": "{no"}), 422, "invalid_input")["fields"]
    typed = zhangsan.post(multipart, {"payload": json.dumps({"item_code": code, "data": 5})})
    assert set(_error(typed, 422, "invalid_input")["fields"]) == {"data"}
    files = zhangsan.post(
        multipart,
        {
            "payload": json.dumps({"item_code": code, "data": _data()}),
            "files[不存在]": _pdf(),
            "files[平面图]": SimpleUploadedFile("plan.pdf", b"<html><script>x</script></html>"),
            "attachment": _pdf(),
        },
    )
    assert set(_error(files, 422, "invalid_input")["fields"]) == {"attachment"}
    files = zhangsan.post(
        multipart,
        {
            "payload": json.dumps({"item_code": code, "data": _data()}),
            "files[不存在]": _pdf(),
            "files[平面图]": SimpleUploadedFile("plan.pdf", b"<html><script>x</script></html>"),
        },
    )
    assert {"files.不存在", "files.平面图"} <= set(_error(files, 422, "invalid_input")["fields"])
    assert Case.objects.count() == 0

    number = services.apply_online(_actor("zhangsan"), item_code=code, data=_data()).number
    clerk, reviewer = login("clerk"), login("reviewer")
    gap = _error(_post(clerk, f"/cases/{number}/accept", {"gap_days": "abc"}), 422, "invalid_input")
    assert set(gap["fields"]) == {"gap_days"} and gap["fields"]["gap_days"][0]["code"] == "int_parsing"
    listing = _error(_get(reviewer, "/work", colour="blue", page_size=1000), 422, "invalid_input")
    assert set(listing["fields"]) == {"colour", "page_size"}
    assert set(_error(_get(reviewer, "/work/not-a-uuid"), 422, "invalid_input")["fields"]) == {"work_id"}
    _error(_get(reviewer, f"/work/{uuid.uuid4()}"), 404, "not_found")
    assert set(_error(_get(zhangsan, "/my/cases", status="lost"), 422, "invalid_input")["fields"]) == {
        "status"
    }
    assert Case.objects.get(number=number).status == CaseStatus.SUBMITTED


def _fill(path: str, values: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)


def test_no_endpoint_answers_malformed_json_with_a_500(login):
    number = _accepted(files={"营业执照": samples.upload()})
    values = {
        "number": number,
        "work_id": _open_step(number),
        "code": _item(code="JSON-ITEM"),
        "name": "管理制度",
        "material_id": Case.objects.get(number=number).materials.first().pk,
    }
    spec = Client().get(f"{API}/openapi.json").json()
    ours = [
        (path.removeprefix(API), method)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in ("post", "put")
        and re.match(
            rf"{API}/(cases|my/|window/|work/|me/notifications|catalog/items/\{{code\}}/decision-table)", path
        )
    ]
    assert len(ours) == 28
    clients = {"admin": login("admin"), "reviewer": login("reviewer"), "zhangsan": login("zhangsan")}
    for who, client in clients.items():
        for path, method in ours:
            send = client.post if method == "post" else client.put
            for body in ("{not json", "[1, 2", '"text"', "null", "{}"):
                response = send(API + _fill(path, values), body, content_type="application/json")
                assert response.status_code < 500, (who, method, path, body, response.content[:300])
                if response.status_code >= 400:
                    _error(response, response.status_code, response.json()["error"]["code"])


def test_openapi_documents_the_case_endpoints(db):
    spec = Client().get(f"{API}/openapi.json").json()
    expected = {
        "/cases": {"post"},
        "/cases/multipart": {"post"},
        "/my/cases": {"get"},
        "/cases/{number}": {"get"},
        "/cases/{number}/supplement-response": {"post"},
        "/cases/{number}/materials/{name}": {"post"},
        "/cases/{number}/withdraw": {"post"},
        "/cases/{number}/rating": {"post"},
        "/cases/{number}/document": {"get"},
        "/cases/{number}/materials/{material_id}/file": {"get"},
        "/window/cases": {"get", "post"},
        "/cases/{number}/accept": {"post"},
        "/cases/{number}/refuse": {"post"},
        "/cases/{number}/supplement": {"post"},
        "/cases/{number}/issue": {"post"},
        "/work": {"get"},
        "/work/overdue": {"get"},
        "/work/{work_id}": {"get"},
        "/work/{work_id}/claim": {"post"},
        "/work/{work_id}/complete": {"post"},
        "/work/{work_id}/return": {"post"},
        "/work/{work_id}/transfer": {"post"},
        "/work/{work_id}/countersigners": {"post"},
        "/work/{work_id}/supplement": {"post"},
        "/cases/{number}/procedures": {"post"},
        "/cases/{number}/procedures/end": {"post"},
        "/work/{work_id}/inspection": {"post"},
        "/work/{work_id}/rectification": {"post"},
        "/work/{work_id}/remind": {"post"},
        "/me/notifications": {"get"},
        "/me/notifications/read": {"post"},
        "/catalog/items/{code}/decision-table": {"get", "put"},
        "/catalog/items/{code}/decision-table/dmn": {"post"},
        "/catalog/items/{code}/decision-table/publish": {"post"},
        "/catalog/items/{code}/decision-table.dmn": {"get"},
        "/catalog/items/{code}/decision-table/try": {"post"},
    }
    for path, methods in expected.items():
        operations = spec["paths"][API + path]
        assert methods <= set(operations), path
        for method in methods:
            operation = operations[method]
            assert operation["summary"] and operation["tags"][0] in {
                "cases",
                "work",
                "tables",
                "notifications",
            }
            assert "401" in operation["responses"], (path, method)
    created = spec["paths"][f"{API}/cases"]["post"]
    assert "201" in created["responses"] and "422" in created["responses"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in created["parameters"])
    assert "multipart/form-data" in spec["paths"][f"{API}/cases/multipart"]["post"]["requestBody"]["content"]
    document = spec["paths"][f"{API}/cases/{{number}}/document"]["get"]["responses"]["200"]
    assert "application/pdf" in document["content"]
    assert "zh-Hans" in spec["components"]["schemas"]["MessageOut"]["properties"]


# --- messages from other systems --------------------------------------------------------------------

PAYMENT_PROCESS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:tb="https://tongban.dev/schema/bpmn" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
    '<bpmn:message id="m_paid" name="缴费确认"/>'
    '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>'
    '<bpmn:receiveTask id="pay" name="等待缴费" messageRef="m_paid"><bpmn:extensionElements>'
    "<spiffworkflow:messageVariable>payment</spiffworkflow:messageVariable></bpmn:extensionElements>"
    "</bpmn:receiveTask>"
    '<bpmn:userTask id="review" name="审查" tb:department="scjgj-spjyk"/><bpmn:endEvent id="e"/>'
    '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="pay"/>'
    '<bpmn:sequenceFlow id="f2" sourceRef="pay" targetRef="review"/>'
    '<bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="e"/>'
    "</bpmn:process></bpmn:definitions>"
)


def test_another_system_delivers_a_message_to_the_case_process_it_waits_for(login):
    from tongban.accounts.models import Department
    from tongban.core import events
    from tongban.workflow import builder
    from tongban.workflow import services as workflow

    code = _item()
    workflow.publish_definition(
        SYSTEM,
        key=builder.item_key(code),
        department=Department.objects.get(code="scjgj-spjyk"),
        bpmn_xml=PAYMENT_PROCESS,
    )
    number = _accepted(code)
    assert not WorkItem.objects.filter(subject=number, status="open").exists()  # it waits for the payment
    system = _system_reviewer()
    assert _ok(_get(system, f"/cases/{number}"))["current_nodes"] == ["pay"]  # shown waiting on the diagram
    _error(_post(login("zhangsan"), f"/cases/{number}/messages", {"name": "缴费确认"}), 403, "not_permitted")
    _error(_post(system, "/cases/NO-SUCH-CASE/messages", {"name": "缴费确认"}), 404, "not_found")
    body = _error(_post(system, f"/cases/{number}/messages", {"name": "  "}), 422, "invalid_input")
    assert "name" in body["fields"]
    _error(_post(system, f"/cases/{number}/messages", {"name": "退费"}), 409, "conflict")

    answer = _ok(_post(system, f"/cases/{number}/messages", {"name": "缴费确认", "payload": {"amount": 120}}))
    assert answer["event"] == "pay"
    assert [w["node_id"] for w in answer["next"]] == ["review"]
    assert Case.objects.get(number=number).data["payment"] == {"amount": 120}
    activities = [e.activity for e in events.stream(subject_kind="case", subject_ids=[number])]
    assert "case.message_received" in activities and "work:审查" in activities
    _error(_post(system, f"/cases/{number}/messages", {"name": "缴费确认"}), 409, "conflict")  # taken once
    shown = _ok(_get(system, f"/cases/{number}"))
    assert (shown["current_nodes"], shown["completed_nodes"]) == (["review"], ["pay"])
