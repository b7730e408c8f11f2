"""补正, 容缺, 告知承诺, special procedures, refusal, ratings and the deadline sweep, through the services."""

import datetime as dt

import pytest

from tests import samples
from tongban.accounts.models import Notification
from tongban.cases import services
from tongban.cases.models import (
    Case,
    CaseStatus,
    MaterialStatus,
    Rating,
    SpecialProcedure,
    Supplement,
)
from tongban.catalog import services as catalog
from tongban.core import calendar, crypto, events
from tongban.core.authz import SYSTEM
from tongban.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from tongban.workflow.models import WorkItem, WorkStatus

from .test_lifecycle import FIELDS, MONDAY, RESTAURANT, SH, _actor, _data, _do, _item, _open_work


def _activities(case):
    return [e.activity for e in events.stream(subject_kind="case", subject_ids=[case.number])]


def _accepted(code=None, now=MONDAY, **apply):
    code = code or _item()
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data(), now=now, **apply)
    services.accept(_actor("clerk"), case.number, now=now)
    return Case.objects.get(pk=case.pk)


def _reviewer_step(case):
    (work,) = _open_work(case, "reviewer")
    return work


# --- 补正 ------------------------------------------------------------------------------------------


def test_a_supplement_request_pauses_the_clock_until_the_applicant_answers(db):
    case = _accepted()
    assert case.due_at == dt.datetime(2026, 11, 10, 0, tzinfo=SH)
    step = _reviewer_step(case)
    services.claim_work(_actor("reviewer"), step.public_id)
    asked = MONDAY
    services.request_supplement(
        _actor("reviewer"),
        case.number,
        items=[
            {"material": "平面图", "reason": "比例尺不清"},
            {"material": "消防验收意见", "reason": "缺少"},
        ],
        note="请一次补齐",
        work_id=step.public_id,
        now=asked,
    )
    case.refresh_from_db()
    assert (case.status, case.pause_reason, case.paused_since) == (CaseStatus.SUPPLEMENT, "supplement", asked)
    assert set(case.materials.filter(status=MaterialStatus.REQUESTED).values_list("name", flat=True)) == {
        "平面图",
        "消防验收意见",
    }
    assert Notification.objects.filter(recipient__username="zhangsan", subject=case.number).exists()
    # Staff cannot go on while the case waits on the applicant.
    with pytest.raises(Conflict):
        services.complete_work(_actor("reviewer"), step.public_id, decision="approve")
    # The answer must cover everything asked for, in one go.
    with pytest.raises(InvalidInput) as exc:
        services.respond_supplement(
            _actor("zhangsan"), case.number, files={"平面图": samples.upload()}, now=asked
        )
    assert "files.消防验收意见" in exc.value.fields
    # While it waits the clock has its own colour (not a green "on track"), and the promised date
    # shown moves out day by day (issue 12, defect 7).
    case.refresh_from_db()
    thursday = dt.datetime(2026, 11, 5, 9, tzinfo=SH)
    assert services.status_colour(case, thursday) == "paused"
    assert case.due_at == dt.datetime(2026, 11, 10, 0, tzinfo=SH)
    assert services.current_due(case, thursday) == dt.datetime(2026, 11, 13, 0, tzinfo=SH)
    answered = thursday  # three working days later
    services.respond_supplement(
        _actor("zhangsan"),
        case.number,
        files={"平面图": samples.upload("plan.pdf", "v2"), "消防验收意见": samples.upload("fire.pdf")},
        note="已补齐",
        now=answered,
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS and case.paused_since is None
    assert case.paused_days == pytest.approx(3.0)
    assert case.due_at == dt.datetime(2026, 11, 13, 0, tzinfo=SH)  # moved out by the three paused days
    # The open step's own deadline moved too, and paused time never counts for RYG.
    step = WorkItem.objects.get(pk=step.pk)
    assert step.paused_days == pytest.approx(3.0)
    assert services.status_colour(case, dt.datetime(2026, 11, 10, 9, tzinfo=SH)) == "green"
    assert Supplement.objects.get(case=case).responded_at == answered
    assert _activities(case)[-2:] == ["case.supplement_requested", "case.supplement_received"]
    services.complete_work(_actor("reviewer"), step.public_id, decision="approve", opinion="同意")


def test_supplement_requests_are_checked_field_by_field(db):
    case = _accepted()
    step = _reviewer_step(case)
    with pytest.raises(InvalidInput) as exc:
        services.request_supplement(
            _actor("reviewer"),
            case.number,
            items=[{"material": "", "reason": "x"}, {"material": "平面图", "reason": ""}],
            work_id=step.public_id,
        )
    assert set(exc.value.fields) == {"items[0].material", "items[1].reason"}
    with pytest.raises(InvalidInput):
        services.request_supplement(_actor("reviewer"), case.number, items=[], work_id=step.public_id)
    # From the case, not a step: only the window, and only before acceptance.
    with pytest.raises(NotPermitted):
        services.request_supplement(_actor("reviewer"), case.number, items=[{"material": "a", "reason": "b"}])
    with pytest.raises(Conflict):
        services.request_supplement(_actor("clerk"), case.number, items=[{"material": "a", "reason": "b"}])
    assert Supplement.objects.count() == 0


def test_a_supplement_before_acceptance_does_not_start_the_clock(db):
    code = _item()
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data(), now=MONDAY)
    services.request_supplement(
        _actor("clerk"), case.number, items=[{"material": "平面图", "reason": "看不清"}], now=MONDAY
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.SUPPLEMENT and case.paused_since is None
    # The window records the originals brought in on paper.
    services.respond_supplement(
        _actor("clerk"), case.number, paper=["平面图"], now=MONDAY + dt.timedelta(days=2)
    )
    case.refresh_from_db()
    assert (case.status, case.paused_days, case.visits) == (CaseStatus.SUBMITTED, 0.0, 1)
    with pytest.raises(NotPermitted):
        services.respond_supplement(_actor("zhangsan"), case.number, paper=["平面图"])


# --- 容缺 ------------------------------------------------------------------------------------------


def test_a_gap_can_be_supplied_and_an_overdue_gap_alerts_the_clerk(db):
    code = _item()
    case = services.apply_online(
        _actor("zhangsan"), item_code=code, data=_data(), files={"营业执照": samples.upload()}, now=MONDAY
    )
    services.accept(_actor("clerk"), case.number, missing=["管理制度"], gap_days=2, now=MONDAY)
    gap = case.materials.get(name="管理制度")
    assert gap.status == MaterialStatus.MISSING and gap.due_at == dt.datetime(2026, 11, 5, 0, tzinfo=SH)
    assert case.materials.get(name="平面图").source == "paper"  # checked at acceptance
    assert services.alert_overdue_gaps(dt.datetime(2026, 11, 4, 12, tzinfo=SH)) == 0
    assert services.alert_overdue_gaps(dt.datetime(2026, 11, 5, 9, tzinfo=SH)) == 1
    assert services.alert_overdue_gaps(dt.datetime(2026, 11, 6, 9, tzinfo=SH)) == 0  # once
    assert (
        Notification.objects.filter(recipient__username="clerk", kind="alert", subject=case.number).count()
        == 1
    )
    services.supply_material(
        _actor("zhangsan"), case.number, material="管理制度", upload=samples.upload("rules.pdf")
    )
    gap.refresh_from_db()
    assert (gap.status, gap.source, gap.due_at) == (MaterialStatus.PROVIDED, "upload", None)
    with pytest.raises(InvalidInput):
        services.supply_material(
            _actor("zhangsan"), case.number, material="管理制度", upload=samples.upload()
        )


def test_acceptance_names_what_is_still_missing(db):
    code = _item()
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data())
    with pytest.raises(InvalidInput) as exc:
        services.accept(_actor("clerk"), case.number, paper=["营业执照"])
    assert exc.value.fields["materials"][0].code == "not_provided"
    assert "平面图" in str(exc.value.fields["materials"][0].message)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED


def test_bad_uploads_are_refused_per_material_and_nothing_is_created(db):
    code = _item()
    with pytest.raises(InvalidInput) as exc:
        services.apply_online(
            _actor("zhangsan"),
            item_code=code,
            data=_data(),
            files={
                "营业执照": ("licence.pdf", b"<html><script>alert(1)</script></html>"),
                "平面图": ("plan.pdf", b""),
                "不存在": ("x.pdf", samples.pdf()),
            },
        )
    assert {"files.营业执照", "files.平面图", "files.不存在"} <= set(exc.value.fields)
    assert Case.objects.count() == 0


def test_form_files_and_commitment_problems_are_reported_together(db):
    code = _item()
    with pytest.raises(InvalidInput) as exc:
        services.apply_online(
            _actor("zhangsan"),
            item_code=code,
            data={},
            commitment=True,
            files={"平面图": ("plan.pdf", b"")},
            enterprise_uscc="91511602MA62K3LP0X",
        )
    fields = set(exc.value.fields)
    assert any(name.startswith("data.") for name in fields)
    assert {"commitment", "files.平面图", "enterprise_uscc"} <= fields
    assert Case.objects.count() == 0


# --- 告知承诺 and 事后核查 ---------------------------------------------------------------------------


def _commitment_item():
    catalog.create_item(
        SYSTEM,
        code="COMMIT-ITEM",
        department_code="scjgj-spjyk",
        name="承诺制许可",
        item_type="licensing",
        statutory_limit_days=20,
        promised_limit_days=5,
        commitment_allowed=True,
        form_fields=FIELDS,
        materials=[{"name": "承诺书"}],
    )
    catalog.publish_item(SYSTEM, "COMMIT-ITEM")
    return "COMMIT-ITEM"


def test_commitment_is_approved_at_once_and_a_failed_inspection_revokes_it(db):
    code = _commitment_item()
    case = services.apply_online(
        _actor("zhangsan"), item_code=code, data=_data(), commitment=True, files={"承诺书": samples.upload()}
    )
    assert case.by_commitment and case.commitment_signed_at is not None
    services.accept(_actor("clerk"), case.number, now=MONDAY)
    case.refresh_from_db()
    assert (case.status, case.decision, case.decision_basis["kind"]) == (
        CaseStatus.DECIDED,
        "approve",
        "commitment",
    )
    (inspection,) = WorkItem.objects.filter(subject=case.number, kind="inspection")
    assert inspection.due_at == calendar.get_calendar().deadline(MONDAY, 20)
    services.issue(_actor("clerk"), case.number, delivery="online")
    with pytest.raises(InvalidInput):
        services.complete_inspection(_actor("reviewer"), inspection.public_id, passed=False, opinion="")
    with pytest.raises(NotFound):  # a clerk of the window does not inspect
        services.complete_inspection(_actor("clerk"), inspection.public_id, passed=True, opinion="x")
    services.complete_inspection(
        _actor("reviewer"), inspection.public_id, passed=False, opinion="现场与承诺不符"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.REVOKED and case.revoked_at is not None
    assert _activities(case)[-2:] == ["work:inspection", "case.revoked"]
    with pytest.raises(Conflict):  # done once
        services.complete_inspection(_actor("reviewer"), inspection.public_id, passed=True, opinion="x")


def test_commitment_is_only_for_items_that_allow_it(db):
    code = _item()
    with pytest.raises(InvalidInput) as exc:
        services.apply_online(_actor("zhangsan"), item_code=code, data=_data(), commitment=True)
    assert "commitment" in exc.value.fields


# --- special procedures ---------------------------------------------------------------------------


def test_a_special_procedure_pauses_the_clock_and_tells_the_applicant(db):
    case = _accepted()
    step = _reviewer_step(case)
    services.claim_work(_actor("reviewer"), step.public_id)
    with pytest.raises(NotPermitted):
        services.start_procedure(_actor("clerk"), case.number, kind="expert_review", reason="需专家论证")
    with pytest.raises(InvalidInput) as exc:
        services.start_procedure(_actor("reviewer"), case.number, kind="party", reason="")
    assert set(exc.value.fields) == {"kind", "reason"}
    services.start_procedure(
        _actor("reviewer"),
        case.number,
        kind="expert_review",
        reason="需专家论证",
        expected_days=5,
        now=MONDAY,
    )
    case.refresh_from_db()
    assert case.pause_reason == "special" and case.status == CaseStatus.IN_PROGRESS
    assert Notification.objects.filter(recipient__username="zhangsan", subject=case.number).exists()
    with pytest.raises(Conflict):  # one pause at a time
        services.start_procedure(_actor("reviewer"), case.number, kind="testing", reason="检测")
    services.end_procedure(
        _actor("reviewer"), case.number, result="专家同意", now=dt.datetime(2026, 11, 9, 9, tzinfo=SH)
    )
    case.refresh_from_db()
    assert case.paused_days == pytest.approx(5.0) and case.pause_reason == ""
    assert SpecialProcedure.objects.get(case=case).result == "专家同意"


# --- refusal --------------------------------------------------------------------------------------


def test_an_application_can_be_refused_before_acceptance_only(db):
    code = _item()
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data())
    with pytest.raises(InvalidInput):
        services.refuse(_actor("clerk"), case.number, reason=" ")
    services.refuse(_actor("clerk"), case.number, reason="不属于本机关职权范围")
    case.refresh_from_db()
    assert case.status == CaseStatus.NOT_ACCEPTED and case.closed_at is not None
    accepted = _accepted(code)
    with pytest.raises(Conflict):
        services.refuse(_actor("clerk"), accepted.number, reason="x")


# --- 好差评 and 整改 -------------------------------------------------------------------------------


def _issued():
    case = _accepted(files={n: samples.upload() for n in ("营业执照", "平面图", "管理制度")})
    _do("reviewer", case)
    _do("section_head", case)
    services.issue(_actor("clerk"), case.number, delivery="online")
    return Case.objects.get(pk=case.pk)


def test_a_good_rating_is_just_recorded(db):
    case = _issued()
    with pytest.raises(NotPermitted):
        services.rate(_actor("clerk"), case.number, score=5)
    services.rate(_actor("zhangsan"), case.number, score=5, comment="很快")
    assert Rating.objects.get(case=case).rectification is None
    with pytest.raises(Conflict):
        services.rate(_actor("zhangsan"), case.number, score=4)


def test_a_bad_rating_opens_a_rectification_with_a_callback(db):
    case = _issued()
    with pytest.raises(InvalidInput) as exc:
        services.rate(_actor("zhangsan"), case.number, score=1)
    assert "comment" in exc.value.fields  # a bad rating says why
    now = dt.datetime(2026, 11, 16, 10, tzinfo=SH)
    rating = services.rate(_actor("zhangsan"), case.number, score=2, comment="窗口态度差", now=now)
    task = WorkItem.objects.get(public_id=rating.rectification)
    assert (task.kind, task.role, task.department.code) == ("rectification", "section_head", "scjgj-spjyk")
    assert task.due_at == calendar.get_calendar().deadline(now, 15)
    assert Notification.objects.filter(recipient__username="section_head", subject=case.number).exists()
    with pytest.raises(NotFound):
        services.complete_rectification(
            _actor("reviewer"), task.public_id, measures="培训", callback_result="satisfied"
        )
    services.complete_rectification(
        _actor("section_head"),
        task.public_id,
        measures="组织窗口人员培训",
        callback_result="satisfied",
        callback_note="申请人认可",
    )
    rating.refresh_from_db()
    assert rating.rectified_at and rating.callback_result == "satisfied"
    assert WorkItem.objects.get(pk=task.pk).status == WorkStatus.COMPLETED
    assert _activities(case)[-3:] == ["case.rated", "work:rectification", "work:rectification"]


def test_an_unfinished_case_cannot_be_rated(db):
    case = _accepted()
    with pytest.raises(Conflict):
        services.rate(_actor("zhangsan"), case.number, score=5)


# --- the deadline sweep ---------------------------------------------------------------------------


def test_reminders_at_half_and_eighty_percent_then_escalation(db):
    case = _accepted()  # 审查 step: limit from the item's standard process
    step = _reviewer_step(case)
    limit = step.limit_days
    cal = calendar.get_calendar()
    half = cal.instant_of(step.created_at, 0.5 * limit)
    assert services.sweep(half - dt.timedelta(minutes=1))["reminders"] == 0
    assert services.sweep(half + dt.timedelta(minutes=1))["reminders"] == 1
    assert services.sweep(half + dt.timedelta(minutes=2))["reminders"] == 0  # sent once
    reviewers = Notification.objects.filter(
        recipient__username="reviewer", kind="reminder", subject=case.number
    )
    assert reviewers.count() == 1
    late = cal.instant_of(step.created_at, limit) + dt.timedelta(hours=1)
    result = services.sweep(late)
    assert result["escalations"] == 1
    step.refresh_from_db()
    assert step.escalated_at == late and step.next_reminder_at is None
    assert Notification.objects.filter(recipient__username="section_head", kind="escalation").count() == 1
    assert "work.escalated" in _activities(case)


def test_a_paused_case_gets_no_reminders(db):
    case = _accepted()
    step = _reviewer_step(case)
    services.claim_work(_actor("reviewer"), step.public_id)
    services.request_supplement(
        _actor("reviewer"), case.number, items=[{"material": "平面图", "reason": "x"}], work_id=step.public_id
    )
    far = dt.datetime(2026, 12, 31, 9, tzinfo=SH)
    assert services.sweep(far) == {"timers": 0, "reminders": 0, "escalations": 0, "gap_alerts": 0}


def test_heads_send_reminders_by_hand(db):
    case = _accepted()
    step = _reviewer_step(case)
    with pytest.raises(NotPermitted):
        services.remind_work(_actor("reviewer"), step.public_id)
    assert services.remind_work(_actor("section_head"), step.public_id, message="请今天办结") == 1
    assert Notification.objects.get(recipient__username="reviewer", kind="reminder").body == "请今天办结"


# --- the decision document ------------------------------------------------------------------------


def test_issuing_records_the_decision_documents_digest(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = _issued()
    case.refresh_from_db()
    assert len(case.document_digest) == 64  # rendered by the worker job after commit
    assert crypto.sm3_hex(services.decision_document(case)) == case.document_digest


# --- 秒批 ------------------------------------------------------------------------------------------

AUTO_TABLE = {
    "name": "测试秒批",
    "hit_policy": "FIRST",
    "inputs": [
        {"key": "check.applicant_age", "label": "申请人年龄", "type": "number"},
        {"key": "data.area", "label": "经营面积", "type": "number"},
        {"key": "check.materials_complete", "label": "材料齐全", "type": "boolean"},
    ],
    "outputs": [{"key": "decision", "label": "结论", "type": "string"}],
    "rules": [
        {"id": "small_shop", "when": ["[18..70]", "<= 200", "true"], "then": ["approve"]},
        {"id": "others", "when": ["-", "-", "-"], "then": ["manual"]},
    ],
}


def _auto_item():
    catalog.create_item(
        SYSTEM,
        code="AUTO-ITEM",
        department_code="scjgj-spjyk",
        name="秒批测试许可",
        item_type="licensing",
        statutory_limit_days=20,
        promised_limit_days=3,
        auto_approvable=True,
        form_fields=FIELDS,
        materials=[{"name": "营业执照"}],
    )
    catalog.publish_item(SYSTEM, "AUTO-ITEM")
    services.tables.save_draft(_actor("admin"), "AUTO-ITEM", table=AUTO_TABLE)
    services.tables.publish(_actor("admin"), "AUTO-ITEM")
    return "AUTO-ITEM"


def test_auto_approval_decides_and_issues_with_no_human_step(db):
    code = _auto_item()
    case = services.apply_online(
        _actor("zhangsan"), item_code=code, data=_data(), files={"营业执照": samples.upload()}
    )
    case.refresh_from_db()
    assert (case.status, case.decision, case.delivery) == (CaseStatus.ISSUED, "approve", "online")
    basis = case.decision_basis
    assert basis["kind"] == "rule" and basis["rule"] == "small_shop" and basis["table_version"] == 1
    assert {i["key"]: i["value"] for i in basis["inputs"]}["data.area"] == 120
    assert not WorkItem.objects.filter(subject=case.number).exists()  # no human step at all
    assert _activities(case) == ["case.submitted", "case.accepted", "case.decided", "case.issued"]


def test_a_case_the_rules_do_not_pass_goes_to_a_clerk_with_the_failed_checks(db):
    code = _auto_item()
    case = services.apply_online(
        _actor("zhangsan"),
        item_code=code,
        data={**_data(), "area": "800"},
        files={"营业执照": samples.upload()},
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    assert case.decision_basis["kind"] == "rules_failed"
    assert [f["label"] for f in case.decision_basis["failed"]] == ["经营面积"]
    assert _activities(case) == ["case.submitted", "case.auto_checked"]


def test_decision_tables_are_checked_and_versioned(db):
    code = _auto_item()
    with pytest.raises(InvalidInput) as exc:
        services.tables.save_draft(
            _actor("admin"),
            code,
            table={**AUTO_TABLE, "rules": [{"id": "x", "when": ["[1..", "-", "-"], "then": ["approve"]}]},
        )
    assert "rules[0].when[0]" in exc.value.fields
    with pytest.raises(InvalidInput):
        services.tables.save_draft(
            _actor("admin"),
            code,
            table={
                **AUTO_TABLE,
                "inputs": [
                    *AUTO_TABLE["inputs"][:2],
                    {"key": "check.no_such", "label": "x", "type": "boolean"},
                ],
            },
        )
    with pytest.raises(NotPermitted):
        services.tables.save_draft(_actor("clerk"), code, table=AUTO_TABLE)
    draft = services.tables.save_draft(
        _actor("admin"), code, dmn=services.tables.export_dmn(_actor("admin"), code)
    )
    assert draft.version == 2 and draft.status == "draft"
    services.tables.publish(_actor("admin"), code)
    assert [t.status for t in services.tables.list_tables(_actor("admin"), code)] == [
        "published",
        "superseded",
    ]


# --- the worklist ---------------------------------------------------------------------------------


def test_the_worklist_shows_steps_by_role_and_department_with_filters(db):
    case = _accepted()
    other = _accepted(code=_item(code="OTHER-ITEM"))
    rows, total = services.worklist(_actor("reviewer"))
    assert total == 2 and {r.case["number"] for r in rows} == {case.number, other.number}
    assert rows[0].case["applicant"].startswith("张") and "三" not in rows[0].case["applicant"]  # masked
    rows, total = services.worklist(_actor("reviewer"), item_code="OTHER-ITEM")
    assert [r.case["number"] for r in rows] == [other.number]
    step = WorkItem.objects.get(subject=case.number, status="open")
    # Green on Monday, yellow from 80 % of the step's limit, red once overdue.
    assert {r.colour for r in services.worklist(_actor("reviewer"), now=MONDAY)[0]} == {"green"}
    late = step.due_at + dt.timedelta(hours=1)
    assert services.worklist(_actor("reviewer"), colour="red", now=late)[1] == 2
    assert services.worklist(_actor("reviewer"), colour="green", now=late)[1] == 0
    assert services.worklist(_actor("reviewer"), colour="yellow", now=step.yellow_at)[1] == 2
    # Others in other roles or departments see none of it; a step someone claimed leaves the queue.
    assert services.worklist(_actor("reviewer_rs"))[1] == 0
    assert services.worklist(_actor("clerk"))[1] == 0
    services.claim_work(_actor("reviewer"), step.public_id)
    assert services.worklist(_actor("reviewer"), mine_only=True)[1] == 1
    with pytest.raises(NotPermitted):
        services.worklist(_actor("zhangsan"))
    with pytest.raises(InvalidInput) as exc:
        services.worklist(_actor("reviewer"), colour="blue", per_page=1000)
    assert set(exc.value.fields) == {"colour", "per_page"}


def test_a_paused_step_is_listed_as_paused(db):
    case = _accepted()
    step = _reviewer_step(case)
    services.claim_work(_actor("reviewer"), step.public_id)
    services.request_supplement(
        _actor("reviewer"), case.number, items=[{"material": "平面图", "reason": "x"}], work_id=step.public_id
    )
    rows, _total = services.worklist(_actor("reviewer"), colour="paused")
    assert [r.colour for r in rows] == ["paused"]


# --- reading a case -------------------------------------------------------------------------------


def test_case_detail_material_download_and_document(db, django_capture_on_commit_callbacks):
    case = _accepted(files={"营业执照": samples.upload("licence.pdf", "L")})
    detail = services.case_detail(_actor("zhangsan"), case.number)
    assert detail.is_applicant and detail.process is not None
    assert detail.current_nodes == ["review"]  # the 审查 step of the standard process
    licence = next(m for m in detail.materials if m.name == "营业执照")
    name, content_type, content = services.material_file(_actor("reviewer"), case.number, licence.pk)
    assert (name, content_type, content) == ("licence.pdf", "application/pdf", samples.pdf("L"))
    with pytest.raises(NotFound):
        services.material_file(_actor("reviewer_rs"), case.number, licence.pk)
    with pytest.raises(NotFound):  # no document before the result is issued
        services.document_pdf(_actor("zhangsan"), case.number)
    with django_capture_on_commit_callbacks(execute=True):
        _do("reviewer", case)
        _do("section_head", case)
        services.issue(_actor("clerk"), case.number, delivery="online")
    name, pdf = services.document_pdf(_actor("zhangsan"), case.number)
    assert name == f"{case.number}.pdf" and pdf.startswith(b"%PDF")
    detail = services.case_detail(_actor("zhangsan"), case.number)
    assert detail.current_nodes == [] and detail.completed_nodes == ["approve", "review"]


def test_return_transfer_and_countersign_are_recorded_on_the_case(db):
    from tongban.accounts import services as account_services

    account_services.create_staff(
        SYSTEM,
        username="reviewer2",
        display_name="审查员二",
        department_code="scjgj-spjyk",
        roles=[("reviewer", False)],
    )
    case = _accepted()
    step = _reviewer_step(case)
    services.claim_work(_actor("reviewer"), step.public_id)
    services.transfer_work(_actor("reviewer"), step.public_id, to_username="reviewer2")
    services.add_countersigner(_actor("reviewer2"), step.public_id, username="reviewer")
    _signers = WorkItem.objects.filter(subject=case.number, status="claimed")
    assert _signers.count() == 2
    for signer in ("reviewer2", "reviewer"):
        work = _signers.get(assignee__username=signer)
        services.complete_work(_actor(signer), work.public_id, decision="approve", opinion="同意")
    (approve,) = _open_work(case, "section_head")
    services.return_work(_actor("section_head"), approve.public_id, opinion="请补充审查意见")
    assert "work.returned" in _activities(case) and "work.transferred" in _activities(case)
    assert "work.countersigner_added" in _activities(case)


def test_the_demo_rule_tables_load_once_and_decide(db):
    from tongban.cases.demo import DEMO_TABLES, load_rules
    from tongban.catalog.demo.loader import load_detail

    load_detail()
    published = load_rules()
    assert published == len(DEMO_TABLES)
    assert load_rules() == 0  # idempotent
    # 就业登记 with both materials uploaded is approved and issued at once.
    case = services.apply_online(
        _actor("zhangsan"),
        item_code="512B0066800001-511602000000-000-1151130108778239R-1-00",
        data={
            "applicant_name": "张三",
            "applicant_id_number": "11010519491231002X",
            "enterprise_name": "广安区示例餐饮有限公司",
            "uscc": RESTAURANT,
            "employment_type": "单位就业",
            "phone": "13800000001",
            "employment_date": "2026-11-02",
        },
        files={"劳动者身份证件": samples.upload(), "劳动合同或用工证明": samples.upload("contract.pdf", "c")},
    )
    case.refresh_from_db()
    assert (case.status, case.decision_basis.get("rule")) == (CaseStatus.ISSUED, "approve")


def _timer_item() -> str:
    """An item whose review step has a one-working-day boundary timer leading to the section head."""
    from tongban.accounts.models import Department
    from tongban.workflow import builder
    from tongban.workflow import services as workflow

    code = _item()
    workflow.publish_definition(
        SYSTEM,
        key=builder.item_key(code),
        department=Department.objects.get(code="scjgj-spjyk"),
        bpmn_xml=(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:tb="https://tongban.dev/schema/bpmn" id="d" targetNamespace="https://tongban.dev/t">'
            '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>'
            '<bpmn:userTask id="review" name="审查" tb:department="scjgj-spjyk"/>'
            '<bpmn:boundaryEvent id="late" attachedToRef="review" tb:workingDays="1">'
            "<bpmn:timerEventDefinition/></bpmn:boundaryEvent>"
            '<bpmn:userTask id="head" name="科长督办" tb:role="section_head" tb:department="scjgj-spjyk"/>'
            '<bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="review"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="e1"/>'
            '<bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="head"/>'
            '<bpmn:sequenceFlow id="f4" sourceRef="head" targetRef="e2"/>'
            "</bpmn:process></bpmn:definitions>"
        ),
    )
    return code


def test_a_boundary_timer_on_a_step_moves_the_case_on_when_the_sweep_finds_it_due(db):
    case = _accepted(_timer_item())
    step = _reviewer_step(case)
    assert services.sweep(MONDAY + dt.timedelta(hours=2))["timers"] == 0
    assert services.sweep(MONDAY + dt.timedelta(days=3))["timers"] == 1
    step.refresh_from_db()
    assert step.status == WorkStatus.CANCELLED
    assert [w.node_id for w in _open_work(case, "section_head")] == ["head"]
    assert "work:科长督办" in _activities(case)
    assert services.sweep(MONDAY + dt.timedelta(days=4))["timers"] == 0  # fired once


def test_a_timer_of_a_paused_case_does_not_fire_on_resuming_but_after_the_time_it_stood_still(db):
    from tongban.workflow.models import Timer

    case = _accepted(_timer_item())
    step = _reviewer_step(case)
    services.claim_work(_actor("reviewer"), step.public_id)
    timer = Timer.objects.get(subject=case.number, node_id="late")
    due = timer.due_at  # the end of the first working day
    services.start_procedure(
        _actor("reviewer"),
        case.number,
        kind="expert_review",
        reason="需专家论证",
        now=MONDAY + dt.timedelta(hours=2),
    )
    assert services.sweep(MONDAY + dt.timedelta(days=2))["timers"] == 0  # paused: the timer stands still
    resumed = MONDAY + dt.timedelta(days=3, hours=2)  # Thursday: three working days later
    services.end_procedure(_actor("reviewer"), case.number, result="专家同意", now=resumed)
    timer.refresh_from_db()
    assert timer.due_at > due + dt.timedelta(days=2)  # moved out by the working days it stood still
    assert services.sweep(resumed + dt.timedelta(minutes=5))["timers"] == 0  # not at once on resuming
    step.refresh_from_db()
    assert step.is_open
    assert services.sweep(timer.due_at + dt.timedelta(minutes=1))["timers"] == 1
    step.refresh_from_db()
    assert step.status == WorkStatus.CANCELLED
