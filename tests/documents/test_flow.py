"""Documents on the workflow engine: the shipped outgoing process from 起草 to 归档 with 会签 by two
departments in parallel, 退回, 撤回 and 催办; 分发 to the 收文 queues with read receipts, and the
incoming process 拟办 → 批办 → 承办 → 归档."""

import pytest
from django.utils import translation

from tongban.accounts.models import Notification
from tongban.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from tongban.core.models import DomainEvent as Event
from tongban.documents import demo, flow, services
from tongban.documents.models import Receipt, ReceiptStatus, Sealing, Status
from tongban.workflow.models import ProcessDefinition, WorkItem

from ..conftest import actor
from .conftest import make_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(db):
    demo.load_documents()


def open_step(subject: str, node: str) -> WorkItem:
    return WorkItem.objects.get(subject=subject, node_id=node, status__in=["open", "claimed"])


def step(who: str, ref: str, node: str, **kwargs):
    items = WorkItem.objects.filter(subject=ref, node_id=node, status__in=["open", "claimed"])
    mine = [w for w in items if w.assignee is not None and w.assignee.username == who] or list(items)
    return flow.complete_step(actor(who), ref, mine[0].public_id, **kwargs)


def test_the_shipped_processes_are_published_once_as_editable_bpmn(loaded):
    assert flow.load_definitions() == 0
    outgoing = ProcessDefinition.objects.get(key=flow.OUTGOING_KEY)
    assert (
        outgoing.status == "published"
        and "会签" in outgoing.bpmn_xml
        and "bpmndi:BPMNShape" in outgoing.bpmn_xml
    )
    assert ProcessDefinition.objects.filter(key=flow.INCOMING_KEY).count() == 1


def test_without_a_published_process_a_draft_stays_off_the_flow(db):
    document = make_draft()
    assert not document.on_flow and not WorkItem.objects.filter(subject=document.ref).exists()


def test_draft_to_archive_with_countersign_by_two_departments_and_incoming_handling(loaded):
    document = make_draft()
    assert document.on_flow
    draft = open_step(document.ref, "draft")
    assert draft.assignee.username == "reviewer" and draft.due_at is not None  # 起草 held by the drafter
    # The direct steps are closed to a document on its process.
    with pytest.raises(Conflict):
        services.sign(actor("bureau_head"), document.ref)

    step("reviewer", document.ref, "draft", opinion="请核稿", countersign_departments=["rsj", "zjj"])
    step("section_head", document.ref, "review", opinion="同意")
    countersigns = WorkItem.objects.filter(subject=document.ref, node_id="countersign", status="claimed")
    assert sorted(w.assignee.username for w in countersigns) == [
        "handler_zj",
        "rs_head",
    ]  # the heads, in parallel
    # A countersigning department sees the draft; one that does not countersign does not.
    assert services.access_document(actor("handler_zj"), document.ref)
    with pytest.raises(NotFound):
        services.access_document(actor("reviewer_rs"), document.ref + "X")
    step("rs_head", document.ref, "countersign", opinion="人社局无意见")
    assert not WorkItem.objects.filter(subject=document.ref, node_id="signoff").exists()  # waits for both
    from tongban.accounts.models import Department

    assert {s.department for s in flow.steps(document.ref) if s.node_id == "countersign"} == set(
        Department.objects.filter(code__in=["rsj", "zjj"]).values_list("name", flat=True)
    )
    step("handler_zj", document.ref, "countersign", opinion="住建局同意")
    step("bureau_head", document.ref, "signoff", opinion="同意印发")
    document.refresh_from_db()
    assert document.status == Status.SIGNED and document.signed_by.username == "bureau_head"
    assert document.number == ""  # 编号 is the office's next step
    step("division_head", document.ref, "numbering")
    document.refresh_from_db()
    assert document.number.startswith("市监发〔") or document.number.endswith("号")
    step("division_head", document.ref, "sealing", seal_code=demo.SEAL_CODE)
    assert Sealing.objects.filter(document=document).exists()
    step("division_head", document.ref, "printing")
    step("division_head", document.ref, "distribution", main_agencies=["rsj"], cc_agencies=["zjj"])
    receipts = {r.agency.code: r for r in Receipt.objects.filter(document=document)}
    assert set(receipts) == {"rsj", "zjj"} and receipts["rsj"].kind == "main" and receipts["zjj"].kind == "cc"
    notice = Notification.objects.get(recipient__username="handler_rs", subject=receipts["rsj"].ref)
    with translation.override("en"):  # a message key: each reader reads it in their language
        assert notice.title_text.startswith(f"New document to sign for (收文): {document.number}")
    with translation.override("zh-hans"):
        assert "New document" not in notice.title_text
    step("division_head", document.ref, "filing")
    document.refresh_from_db()
    assert document.status == Status.ARCHIVED
    assert not WorkItem.objects.filter(subject=document.ref, status__in=["open", "claimed"]).exists()
    opinions = {s.node_id: s.opinion for s in flow.steps(document.ref)}
    assert opinions["review"] == "同意" and opinions["signoff"] == "同意印发"
    done = list(
        Event.objects.filter(subject_id=document.ref, activity="document.step_done")
        .order_by("id")
        .values_list("detail__step", flat=True)
    )
    assert done == [
        "draft",
        "review",
        "countersign",
        "countersign",
        "signoff",
        "numbering",
        "sealing",
        "printing",
        "distribution",
        "filing",
    ]

    # 收文 at the human resources bureau: in its queue, signed for (the read receipt), handled.
    handler = actor("handler_rs")
    receipt = receipts["rsj"]
    assert list(flow.receipts(handler).values_list("ref", flat=True)) == [receipt.ref]
    assert receipts["zjj"].ref not in set(flow.receipts(handler).values_list("ref", flat=True))
    flow.read_receipt(handler, receipt.ref)
    flow.read_receipt(handler, receipt.ref)
    assert receipt.readings.count() == 1
    flow.sign_for(handler, receipt.ref)
    with pytest.raises(Conflict):
        flow.sign_for(handler, receipt.ref)
    [(seen, readings)] = [
        (r, rd) for r, rd in flow.receipts_of(actor("reviewer"), document) if r.agency.code == "rsj"
    ]
    assert seen.signed_for_by.username == "handler_rs" and [r.user.username for r in readings] == [
        "handler_rs"
    ]
    flow.complete_incoming(
        handler, receipt.ref, open_step(receipt.ref, "proposal").public_id, opinion="拟请局长阅示"
    )
    with pytest.raises(InvalidInput):  # 批办 names a section of the receiving agency
        flow.complete_incoming(
            actor("rs_head"),
            receipt.ref,
            open_step(receipt.ref, "instruction").public_id,
            opinion="请社保科办理",
            handling_department="zjj",
        )
    flow.complete_incoming(
        actor("rs_head"),
        receipt.ref,
        open_step(receipt.ref, "instruction").public_id,
        opinion="请社保科办理",
        handling_department="rsj-shbxk",
    )
    handling = open_step(receipt.ref, "handling")
    assert handling.department.code == "rsj-shbxk"
    flow.complete_incoming(actor("reviewer_rs"), receipt.ref, handling.public_id, opinion="已按要求落实")
    flow.complete_incoming(handler, receipt.ref, open_step(receipt.ref, "filing").public_id)
    receipt.refresh_from_db()
    assert receipt.status == ReceiptStatus.ARCHIVED and receipt.archived_at is not None


def test_rejection_returns_the_draft_and_withdrawal_takes_it_back(loaded):
    document = make_draft()
    with pytest.raises(InvalidInput):  # the drafting section does not countersign itself
        step("reviewer", document.ref, "draft", countersign_departments=["scjgj-spjyk"])
    step("reviewer", document.ref, "draft")
    with pytest.raises(InvalidInput) as exc:  # sending back needs a reason
        step("section_head", document.ref, "review", decision="reject")
    assert "opinion" in exc.value.fields
    step("section_head", document.ref, "review", decision="reject", opinion="标题不准确")
    again = open_step(document.ref, "draft")
    assert again.role == "reviewer"
    step("reviewer", document.ref, "draft", opinion="已修改")
    # 撤回: the drafter takes it back from 核稿; the process starts again at 起草.
    assert flow.may_withdraw(actor("reviewer"), document)
    with pytest.raises(Conflict):
        flow.withdraw(actor("section_head"), document.ref)
    flow.withdraw(actor("reviewer"), document.ref, reason="补充附件")
    assert open_step(document.ref, "draft").assignee.username == "reviewer"
    assert not WorkItem.objects.filter(subject=document.ref, node_id="review", status__in=["open", "claimed"])
    # No countersign: 核稿 goes straight to 签发; the leader may refuse.
    step("reviewer", document.ref, "draft")
    step("section_head", document.ref, "review")
    with pytest.raises(NotFound):  # not the reviewer's step to see, let alone take
        flow.complete_step(actor("reviewer"), document.ref, open_step(document.ref, "signoff").public_id)
    # 退回 to the previous step's person, with the reason.
    flow.return_step(
        actor("bureau_head"), document.ref, open_step(document.ref, "signoff").public_id, opinion="请再核"
    )
    assert open_step(document.ref, "review").assignee.username == "section_head"


def test_a_head_reminds_whoever_holds_the_step(loaded):
    document = make_draft()
    step("reviewer", document.ref, "draft")
    review = open_step(document.ref, "review")
    with pytest.raises((NotFound, NotPermitted)):  # 催办 is for heads and supervisors over the step
        flow.remind(actor("reviewer"), document.ref, review.public_id)
    flow.remind(actor("bureau_head"), document.ref, review.public_id, message="请尽快核稿")
    assert Notification.objects.filter(recipient__username="section_head", kind="reminder").exists()
    assert Event.objects.filter(subject_id=document.ref, activity="document.reminded").exists()


def test_the_documents_worklist_shows_document_steps_and_the_case_worklist_does_not(loaded):
    from tongban.cases import services as cases

    document = make_draft()
    step("reviewer", document.ref, "draft")
    rows, total = flow.worklist(actor("section_head"))
    assert [(r.ref, r.step, r.kind) for r in rows] == [(document.ref, "核稿", "outgoing")] and total == 1
    assert rows[0].colour == "green"
    case_rows, _total = cases.worklist(actor("section_head"))
    assert document.ref not in {r.work.subject for r in case_rows}
