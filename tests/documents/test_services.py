"""Drafting, versions, sign-off with the 发文字号, voids, issue and archive, through the services."""

import pytest

from tongban.core import events
from tongban.core.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, NotPermitted
from tongban.core.models import AuditEntry, AuditOutcome
from tongban.documents import services
from tongban.documents.models import DocType, Document, Form, NumberVoid, Status

from ..conftest import actor
from .conftest import BODY, draft_fields, make_draft

pytestmark = pytest.mark.django_db


def activities(document) -> list[str]:
    return [e.activity.removeprefix("document.") for e in events.history("document", document.ref)]


def test_a_reviewer_drafts_a_notice_for_the_bureau_with_its_header_defaults(reviewer):
    document = make_draft()
    assert document.ref.startswith("GW") and document.status == Status.DRAFT
    assert document.drafting_department.code == "scjgj-spjyk"
    assert document.agency.code == "scjgj"  # the section's bureau is the issuing agency
    assert document.mark == "广安区市场监督管理局文件"
    assert document.agency_code == "市监局发"
    assert document.issuer_name == "广安区市场监督管理局"
    assert document.form == Form.DOCUMENT and document.number == ""
    assert [v.number for v in document.versions.all()] == [1]
    assert document.versions.get().content["body"] == BODY
    assert activities(document) == ["drafted"]
    entry = AuditEntry.objects.filter(action="documents.draft").latest("id")
    assert entry.object_ref == document.ref and entry.outcome == AuditOutcome.SUCCESS


def test_all_fifteen_types_exist_and_letters_orders_minutes_take_their_special_forms(reviewer):
    assert len(DocType.values) == 15
    assert make_draft(doc_type="letter").form == Form.LETTER
    assert make_draft(doc_type="order", main_recipients="").form == Form.ORDER
    assert make_draft(doc_type="minutes", main_recipients="").form == Form.MINUTES
    with pytest.raises(InvalidInput) as exc:
        make_draft(doc_type="request", main_recipients="")
    assert "main_recipients" in exc.value.fields


def test_bad_input_is_reported_field_by_field_in_both_languages_and_saves_nothing(reviewer):
    before = Document.objects.count()
    with pytest.raises(InvalidInput) as exc:
        make_draft(doc_type="memo", title="", body="", copy_number="12", urgency="急", date="07/12/2026")
    fields = exc.value.as_dict()["fields"]
    assert set(fields) >= {"doc_type", "title", "body", "copy_number", "urgency", "date"}
    assert fields["title"][0]["message"]["zh-Hans"] and fields["title"][0]["message"]["en"]
    assert fields["title"][0]["message"]["zh-Hans"] != fields["title"][0]["message"]["en"]
    assert Document.objects.count() == before
    assert AuditEntry.objects.filter(action="documents.draft").latest("id").outcome == AuditOutcome.INVALID


@pytest.mark.parametrize(
    "overrides",
    [
        {"classification": "秘密"},
        {"classification": "confidential"},
        {"classification": "绝密"},
        {"body": "机密★1年\n" + BODY},
    ],
)
def test_a_classified_document_is_refused_with_a_clear_message(reviewer, overrides):
    with pytest.raises(InvalidInput) as exc:
        make_draft(**overrides)
    (problems,) = exc.value.fields.values()
    assert problems[0].code == "classified"
    message = exc.value.as_dict()["fields"]
    text = next(iter(message.values()))[0]["message"]
    assert "秘密" in text["zh-Hans"] and "classified network" in text["en"]
    assert not Document.objects.filter(title=draft_fields()["title"]).exists()


def test_every_save_keeps_a_version_and_the_diff_shows_the_changed_words(reviewer):
    document = make_draft()
    services.save_draft(reviewer, document.ref, expected_version=1, title="关于优化食品经营许可审批的通知")
    document = services.save_draft(
        reviewer, document.ref, expected_version=2, body=BODY.replace("认真抓好落实", "确保落实到位")
    )
    assert document.version == 3
    assert [v.number for v in services.versions(reviewer, document.ref)] == [1, 2, 3]
    assert services.versions(reviewer, document.ref)[0].content["title"].startswith("广安区")
    changes = services.diff(reviewer, document.ref, 2, 3)
    assert {c.field for c in changes} == {"body"}
    deleted = "".join(c.text for c in changes if c.op == "delete")
    inserted = "".join(c.text for c in changes if c.op == "insert")
    assert "抓好" in deleted and "到位" in inserted and "优化营商环境" not in deleted + inserted
    # a save that changes nothing keeps no version
    assert services.save_draft(reviewer, document.ref, note=document.note).version == 3
    assert activities(document) == ["drafted", "saved", "saved"]
    with pytest.raises(InvalidInput):
        services.diff(reviewer, document.ref, 1, 9)


def test_a_save_over_someone_elses_newer_version_is_refused(reviewer):
    document = make_draft()
    services.save_draft(actor("section_head"), document.ref, expected_version=1, note="附注改")
    with pytest.raises(Conflict):
        services.save_draft(reviewer, document.ref, expected_version=1, note="我的附注")
    assert Document.objects.get(pk=document.pk).note == "附注改"


def test_sign_off_assigns_consecutive_numbers_per_code_and_year(reviewer, bureau_head):
    first = services.sign(bureau_head, make_draft().ref)
    second = services.sign(bureau_head, make_draft().ref)
    year = first.signed_at.astimezone().year
    assert first.status == Status.SIGNED and first.number_year == year
    assert (first.number_serial, second.number_serial) == (1, 2)
    assert second.number == f"市监局发〔{year}〕2号"
    assert first.date is not None and first.signed_by.username == "bureau_head"
    assert first.signer_names == ""  # a notice is not an upward document
    other = services.sign(bureau_head, make_draft(agency_code="广区市监函").ref)
    assert other.number == f"广区市监函〔{year}〕1号"
    request = services.sign(bureau_head, make_draft(doc_type="request", main_recipients="区政府：").ref)
    assert request.signer_names == "孙局长"  # 上行文 print the 签发人
    assert activities(first) == ["drafted", "signed"]
    ledger = services.number_ledger(bureau_head, "市监局发", year)
    assert [(line.serial, line.state) for line in ledger] == [(1, "used"), (2, "used"), (3, "used")]


def test_only_the_agencys_leader_signs_and_others_may_not_even_see(reviewer, bureau_head):
    document = make_draft()
    with pytest.raises(NotPermitted):
        services.sign(reviewer, document.ref)  # may see and edit, not sign
    with pytest.raises(NotFound):
        services.sign(actor("reviewer_rs"), document.ref)  # another bureau: does not exist for them
    with pytest.raises(NotFound):
        services.access_document(actor("handler_zj"), document.ref)
    with pytest.raises(NotAuthenticated):
        services.access_document(None, document.ref)
    assert services.access_document(actor("supervisor"), document.ref) == document
    assert document in services.documents(actor("supervisor"))
    assert document not in services.documents(actor("reviewer_rs"))
    with pytest.raises(NotPermitted):
        services.documents(actor("zhangsan"))
    assert Document.objects.get(pk=document.pk).number == ""
    denied = AuditEntry.objects.filter(action="documents.sign").order_by("-id")[:2]
    assert {e.outcome for e in denied} == {AuditOutcome.DENIED}


def test_a_voided_number_is_recorded_and_never_reused(reviewer, bureau_head):
    first = services.sign(bureau_head, make_draft().ref)
    with pytest.raises(InvalidInput):
        services.void_number(bureau_head, first.ref, reason=" ")
    with pytest.raises(NotPermitted):
        services.void_number(reviewer, first.ref, reason="内容有误")
    voided = services.void_number(bureau_head, first.ref, reason="正文有误，撤回重签")
    assert voided.status == Status.DRAFT and voided.number == ""
    void = NumberVoid.objects.get()
    assert (void.serial, void.reason, void.document_id) == (1, "正文有误，撤回重签", first.pk)
    services.save_draft(reviewer, first.ref, body=BODY + "\n三、其他事项")
    again = services.sign(bureau_head, first.ref)
    assert again.number_serial == 2
    ledger = services.number_ledger(bureau_head, "市监局发", again.number_year)
    assert [(line.serial, line.state) for line in ledger] == [(1, "void"), (2, "used")]
    assert activities(first) == ["drafted", "signed", "number_voided", "saved", "signed"]


def test_a_signed_issued_or_archived_document_refuses_edits_and_the_refusal_is_journalled(
    reviewer, bureau_head
):
    document = make_draft()
    services.sign(bureau_head, document.ref)
    with pytest.raises(Conflict):
        services.save_draft(reviewer, document.ref, title="改标题")
    services.issue(reviewer, document.ref)
    archived = services.archive(reviewer, document.ref)
    assert archived.status == Status.ARCHIVED and archived.printing_date is not None
    for attempt in (
        lambda: services.save_draft(reviewer, document.ref, title="归档后改标题"),
        lambda: services.sign(bureau_head, document.ref),
        lambda: services.void_number(bureau_head, document.ref, reason="试图作废"),
        lambda: services.issue(reviewer, document.ref),
    ):
        with pytest.raises(Conflict):
            attempt()
    stored = Document.objects.get(pk=document.pk)
    assert stored.title == draft_fields()["title"] and stored.status == Status.ARCHIVED
    refused = AuditEntry.objects.filter(action="documents.save", object_ref=document.ref).order_by("-id")
    assert refused[0].outcome == AuditOutcome.FAILED and refused[0].detail["error"] == "conflict"
    assert activities(document) == ["drafted", "signed", "issued", "archived"]
