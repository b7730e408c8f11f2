"""The back office pages: worklist, a step's page and its actions, the heads' overdue list, and the
秒批 rule editor — as staff meet them through the browser's requests."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django.utils.translation import gettext

from tests import samples
from tests.conftest import totp_for
from tongban.accounts import services as account_services
from tongban.accounts.models import Notification
from tongban.cases import services
from tongban.cases.models import Case, CaseStatus, DecisionTable, Rating, SpecialProcedure, Supplement
from tongban.cases.views import office
from tongban.catalog import services as catalog
from tongban.core.authz import SYSTEM
from tongban.workflow.models import WorkItem

from .test_handling import AUTO_TABLE, _commitment_item
from .test_lifecycle import FIELDS, _actor, _data, _item

WORK = "/work/"
OVERDUE = "/work/overdue"


def _login(username: str) -> Client:
    """A browser of its own per person, logged in with password and TOTP."""
    from django.conf import settings

    client = Client()
    response = client.post(
        "/accounts/login", {"username": username, "password": settings.TONGBAN_DEMO_PASSWORD}
    )
    assert response.status_code == 302
    if username not in ("zhangsan", "lisi"):
        response = client.post("/accounts/mfa/verify", {"otp_token": totp_for(username)})
        assert response.status_code == 302
    return client


def _accepted(code, *, days_ago=0, files=None):
    """A case accepted `days_ago` calendar days ago: long enough ago, its first step is overdue."""
    when = timezone.now() - dt.timedelta(days=days_ago)
    case = services.apply_online(_actor("zhangsan"), item_code=code, data=_data(), files=files, now=when)
    services.accept(_actor("clerk"), case.number, now=when)
    return Case.objects.get(pk=case.pk)


def _step(case, role="reviewer"):
    return WorkItem.objects.get(subject=case.number, role=role, status__in=("open", "claimed"))


def _url(work, action=""):
    return f"/work/{work.public_id}/{action}"


def _html(response) -> str:
    return response.content.decode()


def _rows(html: str) -> list[str]:
    """The case numbers of the worklist's rows, in order."""
    return re.findall(r'<tr data-work="[^"]+" data-colour="[^"]*" data-case="([^"]+)"', html)


def _field_errors(html: str, field: str) -> list[str]:
    return re.findall(
        rf'<p class="field-error"[^>]*data-field="{re.escape(field)}"[^>]*>(.*?)</p>', html, re.S
    )


@pytest.fixture
def item(db):
    return _item(code="OFFICE-ITEM", limit=5)


@pytest.fixture
def colleague(db):
    """A second reviewer of the same section, who can log in like the demo staff."""
    from django.conf import settings
    from django_otp.plugins.otp_totp.models import TOTPDevice

    staff = account_services.create_staff(
        SYSTEM,
        username="reviewer2",
        display_name="审查员二",
        department_code="scjgj-spjyk",
        password=settings.TONGBAN_DEMO_PASSWORD,
        roles=[("reviewer", False)],
    )
    TOTPDevice.objects.create(user=staff.user, name="authenticator", confirmed=True)
    return "reviewer2"


# --- who may open the pages ------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, item):
    case = _accepted(item)
    work = _step(case)
    for url in (WORK, OVERDUE, _url(work), _url(work, "process.bpmn"), "/catalog/items/OFFICE-ITEM/rules"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login?next="), url


def test_citizens_and_outsiders_are_refused(item):
    case = _accepted(item)
    work = _step(case)
    citizen = _login("zhangsan")
    assert citizen.get(WORK).status_code == 403
    assert citizen.get(_url(work)).status_code == 404
    assert citizen.get(OVERDUE).status_code == 403
    outsider = _login("reviewer_rs")  # a reviewer of another bureau
    assert outsider.get(_url(work)).status_code == 404
    assert outsider.get(_url(work, "process.bpmn")).status_code == 404
    assert outsider.post(_url(work, "claim")).status_code == 404
    assert _rows(_html(outsider.get(WORK))) == []
    assert WorkItem.objects.get(pk=work.pk).status == "open"


# --- the worklist ---------------------------------------------------------------------------------------


def test_the_worklist_lists_steps_with_their_light_and_filters(item):
    late = _accepted(item, days_ago=40)
    fresh = _accepted(item)
    other = _accepted(_item(code="OFFICE-OTHER"))
    reviewer = _login("reviewer")
    html = _html(reviewer.get(WORK))
    assert set(_rows(html)) == {late.number, fresh.number, other.number}
    assert _rows(html)[0] == late.number  # soonest due first
    assert "张*" in html and "张三" not in html  # the applicant's name is masked
    # The light is spelled out, not only coloured.
    row = re.search(rf'<tr data-work="[^"]+" data-colour="red" data-case="{late.number}".*?</tr>', html, re.S)
    assert row and 'data-testid="ryg" data-colour="red"' in row.group(0)
    assert re.search(r'data-colour="red"><span class="ryg-dot" aria-hidden="true"></span>\S', row.group(0))

    assert _rows(_html(reviewer.get(WORK, {"colour": "red"}))) == [late.number]
    assert set(_rows(_html(reviewer.get(WORK, {"colour": "green"})))) == {fresh.number, other.number}
    assert _rows(_html(reviewer.get(WORK, {"item": "OFFICE-OTHER"}))) == [other.number]
    assert _rows(_html(reviewer.get(WORK, {"kind": "inspection"}))) == []
    due = late.due_at.date()
    assert _rows(_html(reviewer.get(WORK, {"due_before": due.isoformat()}))) == [late.number]
    assert _rows(_html(reviewer.get(WORK, {"mine": "on"}))) == []


def test_bad_filters_are_named_and_the_list_still_shows(item):
    case = _accepted(item)
    html = _html(_login("reviewer").get(WORK, {"colour": "blue", "due_before": "not-a-date"}))
    assert _field_errors(html, "colour") and _field_errors(html, "due_before")
    assert _rows(html) == [case.number]


def test_paging_keeps_the_filters(item, monkeypatch):
    monkeypatch.setattr(office, "PER_PAGE", 1)
    numbers = {_accepted(item).number for _ in range(3)}
    reviewer = _login("reviewer")
    html = _html(reviewer.get(WORK, {"colour": "green", "item": "OFFICE-ITEM"}))
    assert 'href="?colour=green&amp;item=OFFICE-ITEM&page=2" rel="next"' in html
    seen = set()
    for page in (1, 2, 3):
        seen.update(
            _rows(_html(reviewer.get(WORK, {"colour": "green", "item": "OFFICE-ITEM", "page": page})))
        )
    assert seen == numbers


def test_a_long_worklist_says_more_than_the_counted_total(item, monkeypatch):
    from tongban.workflow import store

    monkeypatch.setattr(office, "PER_PAGE", 1)
    monkeypatch.setattr(store, "COUNT_CAP", 2)
    monkeypatch.setattr(office.cases, "WORKLIST_COUNT_CAP", 2)
    for _ in range(4):
        _accepted(item)
    reviewer = _login("reviewer")
    html = _html(reviewer.get(WORK))
    assert "超过 2 条" in html and 'rel="next"' in html
    # Beyond the counted pages the list still pages on.
    assert len(_rows(_html(reviewer.get(WORK, {"page": 4})))) == 1


def test_htmx_filtering_returns_only_the_results(item):
    case = _accepted(item)
    response = _login("reviewer").get(WORK, {"colour": "green"}, HTTP_HX_REQUEST="true")
    html = _html(response)
    assert "<html" not in html and _rows(html) == [case.number]


# --- claiming -------------------------------------------------------------------------------------------


def test_claiming_takes_the_step_and_a_second_claim_is_a_conflict(item, colleague):
    case = _accepted(item)
    work = _step(case)
    reviewer = _login("reviewer")
    response = reviewer.post(_url(work, "claim"))
    assert response.status_code == 302 and response["Location"] == _url(work)
    work.refresh_from_db()
    assert work.status == "claimed" and work.assignee.username == "reviewer"
    html = _html(reviewer.get(WORK))
    assert 'data-testid="handle"' in html and 'data-testid="claim"' not in html

    response = _login(colleague).post(_url(work, "claim"))
    assert response.status_code == 409
    html = _html(response)
    assert 'data-testid="conflict"' in html
    assert gettext("Someone else has already taken or finished this step.") in html
    work.refresh_from_db()
    assert work.assignee.username == "reviewer"


# --- the step page ----------------------------------------------------------------------------------------


def test_the_step_page_shows_the_case_its_materials_history_and_process(item):
    case = _accepted(item, files={"营业执照": samples.upload("licence.pdf", "L")})
    work = _step(case)
    reviewer = _login("reviewer")
    reviewer.post(_url(work, "claim"))
    html = _html(reviewer.get(_url(work)))
    assert case.number in html and "广安区示例餐饮有限公司" in html  # the form data
    licence = case.materials.get(name="营业执照")
    link = re.search(r'<a href="([^"]+)" data-testid="material-link">licence.pdf</a>', html)
    assert link and link.group(1).rstrip("/") == f"/cases/{case.number}/materials/{licence.pk}"
    download = reviewer.get(link.group(1))
    body = b"".join(download.streaming_content) if download.streaming else download.content
    assert download.status_code == 200 and body == samples.pdf("L")
    assert 'data-activity="case.accepted"' in html
    assert 'data-testid="process-diagram"' in html and f'data-bpmn-url="{_url(work, "process.bpmn")}"' in html
    assert 'data-current="review"' in html
    assert 'data-testid="action-complete"' in html and 'data-testid="action-supplement"' in html
    assert 'data-testid="action-claim"' not in html
    xml = reviewer.get(_url(work, "process.bpmn"))
    assert xml.status_code == 200 and b"definitions" in xml.content
    assert xml["Content-Disposition"].startswith("attachment")


def test_an_unclaimed_step_offers_only_to_claim_it(item):
    case = _accepted(item)
    html = _html(_login("reviewer").get(_url(_step(case))))
    assert 'data-testid="action-claim"' in html and 'data-testid="action-complete"' not in html


def _claimed(item, username="reviewer", **kwargs):
    case = _accepted(item, **kwargs)
    work = _step(case)
    client = _login(username)
    client.post(_url(work, "claim"))
    return case, work, client


def test_approving_with_an_opinion_moves_the_case_on(item):
    case, work, reviewer = _claimed(item)
    response = reviewer.post(
        _url(work, "complete"), {"complete-decision": "approve", "complete-opinion": "材料齐全，同意"}
    )
    assert response.status_code == 302 and response["Location"] == WORK
    work.refresh_from_db()
    assert (work.status, work.decision, work.opinion) == ("completed", "approve", "材料齐全，同意")
    head_step = _step(case, "section_head")
    html = _html(_login("section_head").get(_url(head_step)))
    assert "材料齐全，同意" in html  # the earlier opinion, on the timeline
    # The engine's variables (the review's decision) sit in case.data beside the answers; the
    # application shown to the next step lists the answers only (issue 12, defect 6).
    assert any(k.endswith("decision") for k in Case.objects.get(pk=case.pk).data)
    assert "<dt>decision</dt>" not in html and "<dt>review_decision</dt>" not in html


def test_a_rejection_without_reasons_is_refused_next_to_the_opinion(item):
    case, work, reviewer = _claimed(item)
    response = reviewer.post(_url(work, "complete"), {"complete-decision": "reject", "complete-opinion": " "})
    assert response.status_code == 200
    assert _field_errors(_html(response), "opinion")
    work.refresh_from_db()
    assert work.status == "claimed" and Case.objects.get(pk=case.pk).status == CaseStatus.IN_PROGRESS
    response = reviewer.post(_url(work, "complete"), {"complete-decision": "maybe"})
    assert _field_errors(_html(response), "decision")


def test_finishing_a_step_someone_else_holds_is_a_conflict(item, colleague):
    _case, work, _reviewer = _claimed(item)
    response = _login(colleague).post(
        _url(work, "complete"), {"complete-decision": "approve", "complete-opinion": "同意"}
    )
    assert response.status_code == 409 and 'data-testid="conflict"' in _html(response)
    work.refresh_from_db()
    assert work.status == "claimed" and work.assignee.username == "reviewer"


def test_returning_to_the_previous_step(item):
    case, work, reviewer = _claimed(item)
    reviewer.post(_url(work, "complete"), {"complete-decision": "approve", "complete-opinion": "同意"})
    head_step = _step(case, "section_head")
    head = _login("section_head")
    head.post(_url(head_step, "claim"))
    assert 'data-testid="action-return"' in _html(head.get(_url(head_step)))
    response = head.post(_url(head_step, "return"), {"return-opinion": ""})
    assert _field_errors(_html(response), "opinion")
    assert WorkItem.objects.get(pk=head_step.pk).status == "claimed"
    response = head.post(_url(head_step, "return"), {"return-opinion": "请补充现场核查意见"})
    assert response.status_code == 302
    assert WorkItem.objects.get(pk=head_step.pk).status == "returned"
    again = _step(case, "reviewer")
    assert again.assignee.username == "reviewer"
    # Issue 12, defect 9: the reviewer sees why it came back, on the step and in the worklist.
    page = _html(reviewer.get(_url(again)))
    banner = page[page.index('data-testid="returned-banner"') :]
    assert "请补充现场核查意见" in banner[:600] and head_step.name in banner[:600]
    worklist = _html(reviewer.get("/work/"))
    row = worklist[worklist.index(f'data-work="{again.public_id}"') :]
    assert 'data-testid="returned"' in row[: row.index("</tr>")]
    first = _html(reviewer.get(_url(work)))  # the finished first pass is not a returned step
    assert 'data-testid="returned-banner"' not in first


def test_returning_to_the_applicant_for_a_supplement(item):
    case, work, reviewer = _claimed(item)
    html = _html(reviewer.get(_url(work)))
    materials = [m.name for m in case.materials.all()]
    index = materials.index("平面图")
    # Ticked without saying what is wrong: the reason's own field says so, and nothing happens.
    response = reviewer.post(_url(work, "supplement"), {f"supplement-m{index}": "on"})
    assert _field_errors(_html(response), f"m{index}_reason")
    assert Supplement.objects.count() == 0 and Case.objects.get(pk=case.pk).status == CaseStatus.IN_PROGRESS
    assert 'name="supplement-new0"' in html
    response = reviewer.post(
        _url(work, "supplement"),
        {
            f"supplement-m{index}": "on",
            f"supplement-m{index}_reason": "比例尺不清",
            "supplement-new0": "消防验收意见",
            "supplement-new0_reason": "缺少",
            "supplement-note": "请一次补齐",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.SUPPLEMENT and case.pause_reason == "supplement"
    assert Supplement.objects.get(case=case).items == [
        {"material": "平面图", "reason": "比例尺不清"},
        {"material": "消防验收意见", "reason": "缺少"},
    ]
    html = _html(reviewer.get(_url(work)))
    assert 'data-testid="paused"' in html and 'data-colour="paused"' in html
    assert 'data-testid="waiting"' in html and 'data-testid="action-complete"' not in html
    # A decision posted from a page opened before the notice went out: the case is not in progress.
    response = reviewer.post(
        _url(work, "complete"), {"complete-decision": "approve", "complete-opinion": "同意"}
    )
    assert response.status_code == 409 and 'data-testid="conflict"' in _html(response)
    assert WorkItem.objects.get(pk=work.pk).status == "claimed"


def test_transferring_to_a_colleague_of_the_same_role(item, colleague):
    _case, work, reviewer = _claimed(item)
    html = _html(reviewer.get(_url(work)))
    assert '<option value="reviewer2">审查员二</option>' in html
    response = reviewer.post(_url(work, "transfer"), {"transfer-to_username": "section_head"})
    assert _field_errors(_html(response), "to_username")
    assert WorkItem.objects.get(pk=work.pk).assignee.username == "reviewer"
    response = reviewer.post(
        _url(work, "transfer"), {"transfer-to_username": colleague, "transfer-opinion": "休假"}
    )
    assert response.status_code == 302
    assert WorkItem.objects.get(pk=work.pk).assignee.username == colleague


def test_adding_a_countersigner(item, colleague):
    case, work, reviewer = _claimed(item)
    response = reviewer.post(_url(work, "countersign"), {"countersign-username": ""})
    assert _field_errors(_html(response), "username")
    response = reviewer.post(_url(work, "countersign"), {"countersign-username": colleague})
    assert response.status_code == 302
    signers = set(
        WorkItem.objects.filter(subject=case.number, status="claimed").values_list(
            "assignee__username", flat=True
        )
    )
    assert signers == {"reviewer", colleague}


def test_a_special_procedure_pauses_and_resumes_the_case(item):
    case, work, reviewer = _claimed(item)
    response = reviewer.post(_url(work, "procedure"), {"procedure-kind": "", "procedure-reason": ""})
    html = _html(response)
    assert _field_errors(html, "kind") and _field_errors(html, "reason")
    assert not SpecialProcedure.objects.exists()
    response = reviewer.post(
        _url(work, "procedure"),
        {"procedure-kind": "expert_review", "procedure-reason": "需专家论证", "procedure-expected_days": "5"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.pause_reason == "special"
    html = _html(reviewer.get(_url(work)))
    assert 'data-testid="action-procedure-end"' in html and 'data-testid="action-procedure"' not in html
    response = reviewer.post(_url(work, "procedure/end"), {"procedure_end-result": ""})
    assert _field_errors(_html(response), "result")
    response = reviewer.post(_url(work, "procedure/end"), {"procedure_end-result": "专家同意"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.pause_reason == "" and SpecialProcedure.objects.get(case=case).result == "专家同意"


def test_a_failed_follow_up_inspection_revokes_the_approval(db):
    code = _commitment_item()
    case = services.apply_online(
        _actor("zhangsan"), item_code=code, data=_data(), commitment=True, files={"承诺书": samples.upload()}
    )
    services.accept(_actor("clerk"), case.number)
    inspection = WorkItem.objects.get(subject=case.number, kind="inspection")
    reviewer = _login("reviewer")
    assert _rows(_html(reviewer.get(WORK, {"kind": "inspection"}))) == [case.number]
    reviewer.post(_url(inspection, "claim"))
    html = _html(reviewer.get(_url(inspection)))
    assert 'data-testid="action-inspection"' in html and 'data-testid="action-complete"' not in html
    response = reviewer.post(
        _url(inspection, "inspection"), {"inspection-decision": "fail", "inspection-opinion": ""}
    )
    assert _field_errors(_html(response), "opinion")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DECIDED
    response = reviewer.post(
        _url(inspection, "inspection"),
        {"inspection-decision": "fail", "inspection-opinion": "现场与承诺不符"},
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REVOKED


def test_a_rectification_records_measures_and_the_callback(item):
    case = _accepted(item, files={n: samples.upload() for n in ("营业执照", "平面图", "管理制度")})
    for role in ("reviewer", "section_head"):
        work = _step(case, role)
        services.claim_work(_actor(role), work.public_id)
        services.complete_work(_actor(role), work.public_id, decision="approve", opinion="同意")
    services.issue(_actor("clerk"), case.number, delivery="online")
    rating = services.rate(_actor("zhangsan"), case.number, score=1, comment="窗口态度差")
    task = WorkItem.objects.get(public_id=rating.rectification)
    head = _login("section_head")
    head.post(_url(task, "claim"))
    html = _html(head.get(_url(task)))
    assert 'data-testid="rating"' in html and "窗口态度差" in html
    response = head.post(
        _url(task, "rectification"),
        {"rectification-measures": "组织培训", "rectification-callback_result": "nonsense"},
    )
    assert _field_errors(_html(response), "callback_result")
    assert Rating.objects.get(pk=rating.pk).rectified_at is None
    response = head.post(
        _url(task, "rectification"),
        {
            "rectification-measures": "组织窗口人员培训",
            "rectification-callback_result": "satisfied",
            "rectification-callback_note": "申请人认可",
        },
    )
    assert response.status_code == 302
    rating.refresh_from_db()
    assert rating.measures == "组织窗口人员培训" and rating.callback_result == "satisfied"


# --- heads: overdue and 催办 --------------------------------------------------------------------------------


def test_heads_see_overdue_steps_and_send_reminders(item):
    late = _accepted(item, days_ago=40)
    _accepted(item)  # on time: not listed
    services.sweep()  # the overdue step is escalated
    work = _step(late)
    assert _login("reviewer").get(OVERDUE).status_code == 403
    head = _login("section_head")
    html = _html(head.get(OVERDUE))
    rows = re.findall(r'<tr data-work="[^"]+" data-case="([^"]+)"', html)
    assert rows == [late.number]
    assert 'data-testid="escalated"' in html
    assert re.search(r'data-testid="overdue-total">1<', html)
    # How late, in working days and hours (issue 12: heads count the days and the hours).
    assert re.search(r'data-testid="late">\d+ 个工作日 \d{1,2} 小时<', html)
    assert "食品经营" in re.search(r'data-testid="by-department".*?</ul>', html, re.S).group(0)

    before = Notification.objects.filter(recipient__username="reviewer", kind="reminder").count()
    response = head.post(_url(work, "remind"), {"remind-message": "x" * 501, "next": OVERDUE})
    assert _field_errors(_html(response), "message")
    assert Notification.objects.filter(recipient__username="reviewer", kind="reminder").count() == before
    response = head.post(_url(work, "remind"), {"remind-message": "请今天办结", "next": OVERDUE})
    assert response.status_code == 302 and response["Location"] == OVERDUE
    note = Notification.objects.filter(recipient__username="reviewer", kind="reminder").latest("id")
    assert note.body == "请今天办结"


def test_a_reminder_for_a_finished_step_is_a_conflict(item):
    late = _accepted(item, days_ago=40)
    work = _step(late)
    head = _login("section_head")
    services.claim_work(_actor("reviewer"), work.public_id)
    services.complete_work(_actor("reviewer"), work.public_id, decision="approve", opinion="同意")
    response = head.post(_url(work, "remind"), {"remind-message": "", "next": OVERDUE})
    assert response.status_code == 409 and 'data-testid="conflict"' in _html(response)


def test_a_head_reminds_from_the_step_page(item):
    work = _step(_accepted(item))
    head = _login("section_head")
    html = _html(head.get(_url(work)))
    assert 'data-testid="action-remind"' in html and 'data-testid="action-complete"' not in html
    response = head.post(_url(work, "remind"), {"remind-message": "请加快", "next": _url(work)})
    assert response.status_code == 302 and response["Location"] == _url(work)
    assert Notification.objects.filter(
        recipient__username="reviewer", kind="reminder", body="请加快"
    ).exists()
    # Somewhere off the site is not a place to be sent back to.
    response = head.post(_url(work, "remind"), {"next": "https://example.com/"})
    assert response["Location"] == OVERDUE


def test_reminders_are_for_heads_only(item):
    work = _step(_accepted(item, days_ago=40))
    response = _login("reviewer").post(_url(work, "remind"), {"remind-message": "快"})
    assert response.status_code == 403


# --- the 秒批 rule editor ---------------------------------------------------------------------------------

RULES = "/catalog/items/AUTO-OFFICE/rules"


@pytest.fixture
def auto_item(db):
    catalog.create_item(
        SYSTEM,
        code="AUTO-OFFICE",
        department_code="scjgj-spjyk",
        name="秒批视图测试",
        item_type="licensing",
        statutory_limit_days=20,
        promised_limit_days=3,
        auto_approvable=True,
        form_fields=FIELDS,
        materials=[{"name": "营业执照"}],
    )
    catalog.publish_item(SYSTEM, "AUTO-OFFICE")
    return "AUTO-OFFICE"


def _editor_post(table: dict, op="save", samples_=()) -> dict:
    """The editor's form fields for a table, as the page would post them."""
    post = {
        "op": op,
        "name": table["name"],
        "description": table.get("description", ""),
        "hit_policy": table.get("hit_policy", "FIRST"),
        "n_inputs": str(len(table["inputs"])),
        "n_outputs": str(len(table["outputs"])),
        "n_rules": str(len(table["rules"])),
    }
    for prefix, columns in (("in", table["inputs"]), ("out", table["outputs"])):
        for i, column in enumerate(columns):
            for part in ("key", "label", "type"):
                post[f"{prefix}-{i}-{part}"] = column[part]
    for r, rule in enumerate(table["rules"]):
        post[f"r-{r}-id"] = rule["id"]
        post[f"r-{r}-note"] = rule.get("note", "")
        for i, cell in enumerate(rule["when"]):
            post[f"r-{r}-when-{i}"] = cell
        for j, cell in enumerate(rule["then"]):
            post[f"r-{r}-then-{j}"] = cell
    for i, value in enumerate(samples_):
        post[f"s-{i}"] = value
    return post


def test_only_catalogue_managers_of_the_item_edit_its_rules(auto_item):
    assert _login("clerk").get(RULES).status_code == 403
    assert _login("reviewer").post(RULES, _editor_post(AUTO_TABLE)).status_code == 403
    assert not DecisionTable.objects.exists()
    admin = _login("admin")
    assert admin.get("/catalog/items/NO-SUCH-ITEM/rules").status_code == 404


def test_a_manager_saves_tries_and_publishes_a_table(auto_item):
    admin = _login("admin")
    html = _html(admin.get(RULES))
    assert 'data-testid="decision-table"' in html and 'name="r-0-when-0"' in html  # a starter table
    assert "check.applicant_age" in html  # the checks rules may read

    response = admin.post(RULES, _editor_post(AUTO_TABLE))
    assert response.status_code == 302
    (draft,) = DecisionTable.objects.filter(item__code=auto_item)
    assert draft.status == "draft" and draft.table["rules"][0]["id"] == "small_shop"
    html = _html(admin.get(RULES))
    assert 'value="small_shop"' in html and 'data-testid="publish"' in html

    # 试算 with the editor's values: the first rule approves; a large shop goes to a person.
    response = admin.post(RULES, _editor_post(AUTO_TABLE, op="try", samples_=("35", "120", "true")))
    html = _html(response)
    assert 'data-testid="try-result" data-decision="approve"' in html
    assert 'data-testid="unsaved"' not in html  # the same table as the saved draft
    assert re.search(r'data-testid="deciding-rule">small_shop<', html)
    assert re.search(r'<tr data-rule="small_shop" class="rule-row is-chosen', html)
    response = admin.post(RULES, _editor_post(AUTO_TABLE, op="try", samples_=("35", "800", "true")))
    html = _html(response)
    assert 'data-decision="manual"' in html and 'data-testid="failed-checks"' in html and "经营面积" in html

    response = admin.post(f"{RULES}/publish")
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "published"
    dmn = admin.get(f"{RULES}/v1.dmn")
    assert dmn.status_code == 200 and b"decisionTable" in dmn.content


def test_problems_are_shown_next_to_their_cells_and_nothing_is_saved(auto_item):
    admin = _login("admin")
    broken = {
        **AUTO_TABLE,
        "rules": [
            {"id": "small_shop", "when": ["[18..", "<= 200", "true"], "then": ["approve"]},
            {"id": "others", "when": ["-", "-", "-"], "then": ["reject"]},
        ],
    }
    html = _html(admin.post(RULES, _editor_post(broken)))
    assert _field_errors(html, "r-0-when-0")
    assert _field_errors(html, "r-1-then-0")
    assert 'id="r-0-when-0" value="[18.."' in html  # what was typed stays
    assert not DecisionTable.objects.exists()
    html = _html(admin.post(RULES, _editor_post({**AUTO_TABLE, "name": ""})))
    assert _field_errors(html, "rt-name")
    html = _html(
        admin.post(
            RULES,
            _editor_post(
                {
                    **AUTO_TABLE,
                    "inputs": [{"key": "age", "label": "年龄", "type": "number"}, *AUTO_TABLE["inputs"][1:]],
                }
            ),
        )
    )
    assert _field_errors(html, "in-0-key")
    assert not DecisionTable.objects.exists()


def test_editing_the_table_shape_does_not_save(auto_item):
    admin = _login("admin")
    html = _html(admin.post(RULES, _editor_post(AUTO_TABLE, op="add_rule")))
    assert 'name="r-2-id"' in html and 'data-testid="unsaved"' in html
    html = _html(admin.post(RULES, _editor_post(AUTO_TABLE, op="del_in_1")))
    assert 'name="in-1-key" id="in-1-key" value="check.materials_complete"' in html
    assert 'name="r-0-when-2"' not in html
    html = _html(admin.post(RULES, _editor_post(AUTO_TABLE, op="down_rule_0")))
    assert html.index('data-rule="others"') < html.index('data-rule="small_shop"')
    assert not DecisionTable.objects.exists()


def test_publishing_needs_a_draft_and_an_auto_approvable_item(auto_item, item):
    admin = _login("admin")
    response = admin.post(f"{RULES}/publish", follow=True)
    assert "alert-error" in _html(response) and not DecisionTable.objects.exists()
    # A table for an item that is not marked 秒批 can be drafted, but not published.
    plain = "/catalog/items/OFFICE-ITEM/rules"
    admin.post(plain, _editor_post(AUTO_TABLE))
    html = _html(admin.get(plain))
    assert 'data-testid="not-auto"' in html
    response = admin.post(f"{plain}/publish", follow=True)
    assert "alert-error" in _html(response)
    assert DecisionTable.objects.get(item__code=item).status == "draft"


def test_a_dmn_file_is_uploaded_as_the_draft(auto_item):
    services.tables.save_draft(_actor("admin"), auto_item, table=AUTO_TABLE)
    admin = _login("admin")
    exported = admin.get(f"{RULES}/v1.dmn").content
    response = admin.post(f"{RULES}/dmn", {"dmn": SimpleUploadedFile("rules.dmn", b"<not-dmn")})
    html = _html(response)
    assert _field_errors(html, "dmn") and DecisionTable.objects.count() == 1
    response = admin.post(f"{RULES}/dmn", {"dmn": SimpleUploadedFile("rules.dmn", exported)})
    assert response.status_code == 302
    assert (
        DecisionTable.objects.get(item__code=auto_item, status="draft").table["rules"][0]["id"]
        == "small_shop"
    )


def test_the_json_fallback_saves_or_names_its_problems(auto_item):
    import json

    admin = _login("admin")
    html = _html(admin.post(RULES, {"op": "save_json", "json": "{not json"}))
    assert _field_errors(html, "json") and not DecisionTable.objects.exists()
    html = _html(admin.post(RULES, {"op": "save_json", "json": json.dumps({**AUTO_TABLE, "rules": []})}))
    assert _field_errors(html, "rules") and not DecisionTable.objects.exists()
    response = admin.post(RULES, {"op": "save_json", "json": json.dumps(AUTO_TABLE, ensure_ascii=False)})
    assert response.status_code == 302 and DecisionTable.objects.count() == 1


def test_a_case_the_rules_sent_to_a_person_says_why(auto_item):
    services.tables.save_draft(_actor("admin"), auto_item, table=AUTO_TABLE)
    services.tables.publish(_actor("admin"), auto_item)
    case = services.apply_online(
        _actor("zhangsan"),
        item_code=auto_item,
        data={**_data(), "area": "800"},
        files={"营业执照": samples.upload()},
    )
    services.accept(_actor("clerk"), case.number)
    html = _html(_login("reviewer").get(_url(_step(Case.objects.get(pk=case.pk)))))
    section = re.search(r'data-testid="auto-failed".*?</section>', html, re.S)
    assert section and "经营面积" in section.group(0) and "&lt;= 200" in section.group(0)
