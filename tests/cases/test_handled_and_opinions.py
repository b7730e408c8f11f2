"""已办 (what a reviewer has handled), 常用意见 (saved opinions), page sizes and XLSX exports of the
back office's lists (issue 12: reviewers and heads expect them from the consoles they know)."""

import io

import pytest
from openpyxl import load_workbook

from tongban.core.errors import InvalidInput, NotFound, NotPermitted
from tongban.core.models import AuditEntry
from tongban.core.spreadsheet import safe_cell
from tongban.workflow import services as workflow
from tongban.workflow.models import SavedOpinion, WorkItem

from .test_lifecycle import _actor, _item
from .test_office_views import _accepted, _claimed, _html, _login, _rows, _step, _url, colleague

__all__ = ["colleague"]  # a fixture of the office tests, used by the batch claim

DONE = "/work/done/"
OPINIONS = "/work/opinions/"


@pytest.fixture
def item(db):
    return _item(code="DONE-ITEM", limit=5)


def _sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    return [list(r) for r in book.active.iter_rows(values_only=True)]


# --- 已办 -------------------------------------------------------------------------------------------------


def test_handled_lists_the_steps_i_finished_newest_first_with_where_the_case_went(item):
    first, work1, reviewer = _claimed(item)
    reviewer.post(
        _url(work1, "complete"), {"complete-decision": "approve", "complete-opinion": "材料齐全，同意"}
    )
    second, work2, _ = _claimed(item)
    reviewer.post(_url(work2, "claim"))
    reviewer.post(_url(work2, "complete"), {"complete-decision": "reject", "complete-opinion": "不符合条件"})
    html = _html(reviewer.get(DONE))
    rows = [line for line in html.split("<tr ") if 'data-case="' in line]
    assert [second.number in rows[0], first.number in rows[1]] == [True, True]
    assert "材料齐全，同意" in rows[1] and "不符合条件" in rows[0]
    # Filtered by decision: only the rejection.
    rejected = _html(reviewer.get(DONE, {"decision": "reject"}))
    assert second.number in rejected and first.number not in rejected
    # Someone else's 已办 is their own: the head has handled nothing yet.
    assert first.number not in _html(_login("section_head").get(DONE))
    # The row opens the finished step's page (history and decision, no actions).
    assert _login("reviewer").get(_url(work1)).status_code == 200


def test_handled_counts_returns_and_refuses_bad_filters_by_field(item):
    case, work, reviewer = _claimed(item)
    reviewer.post(_url(work, "complete"), {"complete-decision": "approve", "complete-opinion": "同意"})
    head_step = _step(case, "section_head")
    head = _login("section_head")
    head.post(_url(head_step, "claim"))
    head.post(_url(head_step, "return"), {"return-opinion": "请补充现场核查意见"})
    page = _html(head.get(DONE, {"decision": "returned"}))
    assert case.number in page and "请补充现场核查意见" in page
    bad = head.get(DONE, {"since": "2026-12-31", "until": "2026-01-01", "decision": "maybe"})
    assert bad.status_code == 200
    text = _html(bad)
    assert 'data-field="decision"' in text and 'data-field="until"' in text


def test_handled_is_for_staff_only(item):
    assert _login("zhangsan").get(DONE).status_code == 403
    with pytest.raises(NotPermitted):
        workflow.done_work(_actor("zhangsan"))


def test_page_size_choice_keeps_filters_and_is_bounded(item, monkeypatch):
    for _ in range(3):
        _accepted(item)
    reviewer = _login("reviewer")
    monkeypatch.setattr("tongban.cases.views.office.PAGE_SIZES", (1, 20, 50))
    html = _html(reviewer.get("/work/", {"item": "DONE-ITEM", "size": "20"}))
    assert len(_rows(html)) == 3
    # A size not offered is a field error, not a 500 or an unbounded page.
    html = _html(reviewer.get("/work/", {"item": "DONE-ITEM", "size": "100000"}))
    assert 'data-field="size"' in html


# --- exports ----------------------------------------------------------------------------------------------


def test_the_worklist_exports_as_filtered_and_the_export_is_journalled(item):
    cases = [_accepted(item) for _ in range(2)]
    other = _item(code="DONE-OTHER", limit=5)
    _accepted(other)
    rows = _sheet(_login("reviewer").get("/work/export.xlsx", {"item": "DONE-ITEM"}))
    assert len(rows) == 3  # the header and the two cases of the filtered item
    assert {r[0] for r in rows[1:]} == {c.number for c in cases}
    assert all("*" in (r[3] or "") for r in rows[1:])  # applicants masked, as on the screen
    entry = AuditEntry.objects.filter(action="cases.worklist.export").latest("id")
    assert entry.detail["rows"] == 2 and entry.detail["item_code"] == "DONE-ITEM"


def test_handled_exports_with_opinions(item):
    case, work, reviewer = _claimed(item)
    reviewer.post(
        _url(work, "complete"), {"complete-decision": "approve", "complete-opinion": "=HYPERLINK(1)"}
    )
    rows = _sheet(reviewer.get("/work/done/export.xlsx"))
    assert rows[1][0] == case.number
    # A citizen-typed or reviewer-typed formula is text in the sheet, never a formula.
    assert rows[1][7] == "'=HYPERLINK(1)"


def test_exports_are_refused_to_citizens(item):
    citizen = _login("zhangsan")
    assert citizen.get("/work/export.xlsx").status_code == 403
    assert citizen.get("/work/done/export.xlsx").status_code == 403


def test_cells_that_look_like_formulas_are_written_as_text():
    assert [safe_cell(v) for v in ("=1+1", "+86", "-3", "@SUM", "\t=x", "正常", 5)] == [
        "'=1+1",
        "'+86",
        "'-3",
        "'@SUM",
        "'\t=x",
        "正常",
        5,
    ]


# --- 常用意见 ------------------------------------------------------------------------------------------


def test_a_reviewer_keeps_opinions_and_picks_them_on_a_step(item):
    reviewer = _login("reviewer")
    response = reviewer.post(OPINIONS, {"text": "  材料齐全，符合法定形式，同意。 "})
    assert response.status_code == 302
    assert list(SavedOpinion.objects.values_list("text", flat=True)) == ["材料齐全，符合法定形式，同意。"]
    # Saving it twice keeps one.
    reviewer.post(OPINIONS, {"text": "材料齐全，符合法定形式，同意。"})
    assert SavedOpinion.objects.count() == 1
    _case, work, reviewer = _claimed(item)
    page = _html(reviewer.get(_url(work)))
    assert 'data-testid="opinion-picker"' in page and "材料齐全，符合法定形式，同意。" in page
    # Used on a step: it moves up the list.
    reviewer.post(
        _url(work, "complete"),
        {"complete-decision": "approve", "complete-opinion": "材料齐全，符合法定形式，同意。"},
    )
    assert SavedOpinion.objects.get().uses == 1


def test_an_opinion_is_kept_from_the_step_form_after_the_decision(item):
    _case, work, reviewer = _claimed(item)
    response = reviewer.post(
        _url(work, "complete"),
        {"complete-decision": "approve", "complete-opinion": "经审查，同意。", "complete-keep_opinion": "on"},
    )
    assert response.status_code == 302
    assert WorkItem.objects.get(pk=work.pk).status == "completed"
    assert list(SavedOpinion.objects.values_list("text", flat=True)) == ["经审查，同意。"]


def test_a_full_list_warns_but_does_not_undo_the_decision(item, monkeypatch):
    monkeypatch.setattr(workflow, "SAVED_OPINIONS_PER_PERSON", 1)
    workflow.save_opinion(_actor("reviewer"), "同意。")
    _case, work, reviewer = _claimed(item)
    response = reviewer.post(
        _url(work, "complete"),
        {"complete-decision": "approve", "complete-opinion": "另一条意见", "complete-keep_opinion": "on"},
        follow=True,
    )
    assert WorkItem.objects.get(pk=work.pk).status == "completed"
    assert SavedOpinion.objects.count() == 1
    assert "delete one you no longer use" in _html(response) or "删除" in _html(response)


def test_opinions_are_validated_and_private(db):
    reviewer = _actor("reviewer")
    with pytest.raises(InvalidInput) as problem:
        workflow.save_opinion(reviewer, "   ")
    assert "text" in problem.value.fields
    with pytest.raises(InvalidInput):
        workflow.save_opinion(reviewer, "长" * 501)
    mine = workflow.save_opinion(reviewer, "同意。")
    # Another person neither sees nor deletes it.
    head = _actor("section_head")
    assert workflow.saved_opinions(head) == []
    with pytest.raises(NotFound):
        workflow.delete_saved_opinion(head, mine.pk)
    response = _login("section_head").post(f"/work/opinions/{mine.pk}/delete")
    assert response.status_code == 404
    assert SavedOpinion.objects.filter(pk=mine.pk).exists()
    with pytest.raises(NotPermitted):
        workflow.save_opinion(_actor("zhangsan"), "同意。")
    bad = _login("reviewer").post(OPINIONS, {"text": ""})
    assert bad.status_code == 400 and 'data-field="text"' in _html(bad)
    deleted = _login("reviewer").post(f"/work/opinions/{mine.pk}/delete")
    assert deleted.status_code == 302 and not SavedOpinion.objects.exists()


# --- 批量领取 ----------------------------------------------------------------------------------------------


def test_a_reviewer_claims_the_selected_steps_and_hears_about_the_ones_taken_meanwhile(item, colleague):
    steps = [_step(_accepted(item)) for _ in range(3)]
    reviewer = _login("reviewer")
    page = _html(reviewer.get("/work/"))
    assert page.count('data-testid="select-work"') == 3 and 'data-testid="claim-selected"' in page
    _login(colleague).post(_url(steps[0], "claim"))  # someone is quicker with the first
    response = reviewer.post(
        "/work/claim",
        {"work": [str(s.public_id) for s in steps] + ["not-a-uuid"], "next": "/work/?colour=green"},
    )
    assert response.status_code == 302 and response["Location"] == "/work/?colour=green"
    holders = {s.pk: WorkItem.objects.get(pk=s.pk).assignee.username for s in steps}
    assert holders == {steps[0].pk: "reviewer2", steps[1].pk: "reviewer", steps[2].pk: "reviewer"}
    follow = reviewer.post("/work/claim", {"work": [str(steps[0].public_id)]}, follow=True)
    assert "someone else" in _html(follow) or "他人" in _html(follow)


def test_batch_claims_are_bounded_and_an_empty_choice_is_named(item):
    reviewer = _login("reviewer")
    follow = reviewer.post("/work/claim", {}, follow=True)
    assert follow.status_code == 200 and ("Choose the steps" in _html(follow) or "请选择" in _html(follow))
    with pytest.raises(InvalidInput):
        from tongban.cases import services

        services.claim_many(_actor("reviewer"), [f"00000000-0000-0000-0000-{n:012d}" for n in range(101)])
    # A citizen takes nothing.
    step = _step(_accepted(item))
    _login("zhangsan").post("/work/claim", {"work": [str(step.public_id)]})
    assert WorkItem.objects.get(pk=step.pk).status == "open"


def test_lateness_reads_as_working_days_and_hours():
    from tongban.cases.views.office import _days_and_hours

    assert _days_and_hours(0.0) == (0, 0)
    assert _days_and_hours(3.42) == (3, 10)
    assert _days_and_hours(1.999) == (2, 0)
