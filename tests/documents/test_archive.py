"""The archive (归档): archived documents refuse every change, retention periods per type, the
disposal list when retention ends and the disposal register (nothing disappears unrecorded)."""

import datetime as dt

import pytest

from tongban.core import events
from tongban.core.errors import Conflict, InvalidInput, NotPermitted
from tongban.core.models import AuditEntry, AuditOutcome
from tongban.documents import search, services
from tongban.documents.models import (
    Disposal,
    DisposalDecision,
    Document,
    DocumentVersion,
    Retention,
    SearchEntry,
    Status,
)

from ..conftest import actor
from .conftest import make_draft

pytestmark = pytest.mark.django_db


def archived_document(reviewer, bureau_head, *, retention="", **overrides):
    document = make_draft(**overrides)
    services.sign(bureau_head, document.ref)
    services.issue(reviewer, document.ref)
    return services.archive(reviewer, document.ref, retention=retention)


def test_retention_follows_the_type_and_counts_from_the_year_after_the_document(reviewer, bureau_head):
    notice = archived_document(reviewer, bureau_head, date="2026-03-05")
    assert notice.retention == Retention.YEARS_30 and notice.retention_until == dt.date(2057, 1, 1)
    letter = archived_document(reviewer, bureau_head, doc_type="letter", date="2026-03-05")
    assert letter.retention == Retention.YEARS_10 and letter.retention_until == dt.date(2037, 1, 1)
    decision = archived_document(reviewer, bureau_head, doc_type="decision")
    assert decision.retention == Retention.PERMANENT and decision.retention_until is None
    chosen = archived_document(reviewer, bureau_head, retention="permanent", doc_type="letter")
    assert chosen.retention == Retention.PERMANENT
    event = events.history("document", notice.ref)[-1]
    assert event.activity == "document.archived" and event.detail == {
        "retention": "30",
        "until": "2057-01-01",
    }


def test_a_bad_retention_is_a_field_error_and_archives_nothing(reviewer, bureau_head):
    document = make_draft()
    services.sign(bureau_head, document.ref)
    services.issue(reviewer, document.ref)
    with pytest.raises(InvalidInput) as caught:
        services.archive(reviewer, document.ref, retention="forever")
    assert "retention" in caught.value.fields
    assert Document.objects.get(pk=document.pk).status == Status.ISSUED


def test_an_archived_document_refuses_every_change_and_each_refusal_is_journalled(reviewer, bureau_head):
    document = archived_document(reviewer, bureau_head)
    attempts = {
        "documents.save": lambda: services.save_draft(reviewer, document.ref, title="归档后改标题"),
        "documents.sign": lambda: services.sign(bureau_head, document.ref),
        "documents.void_number": lambda: services.void_number(bureau_head, document.ref, reason="作废"),
        "documents.issue": lambda: services.issue(reviewer, document.ref),
        "documents.archive": lambda: services.archive(reviewer, document.ref, retention="10"),
        "documents.seal": lambda: services.seal_document(bureau_head, document.ref, seal_code="x"),
    }
    for action, attempt in attempts.items():
        with pytest.raises(Conflict) as caught:
            attempt()
        assert str(caught.value.message) == str(services.ARCHIVED_MESSAGE), action
        entry = AuditEntry.objects.filter(action=action, object_ref=document.ref).order_by("-id").first()
        assert entry is not None and entry.outcome == AuditOutcome.FAILED, action
    stored = Document.objects.get(pk=document.pk)
    assert (stored.title, stored.status, stored.retention) == (document.title, Status.ARCHIVED, "30")


def test_the_disposal_list_holds_records_whose_retention_ended(reviewer, bureau_head):
    old = archived_document(reviewer, bureau_head, doc_type="letter", date="2010-05-04")
    recent = archived_document(reviewer, bureau_head, doc_type="letter", date="2026-05-04")
    kept = archived_document(reviewer, bureau_head, doc_type="decision", date="1990-01-01")
    assert old.retention_until == dt.date(2021, 1, 1)
    due = list(services.archived(bureau_head, due=True))
    assert old in due and recent not in due and kept not in due
    everything = list(services.archived(bureau_head))
    assert {old, recent, kept} <= set(everything)
    assert list(services.archived(bureau_head, retention="permanent", year=1990)) == [kept]
    assert services.may_dispose(bureau_head, old) and not services.may_dispose(bureau_head, recent)
    assert not services.may_dispose(reviewer, old)  # the agency's leader decides


def test_bad_archive_filters_are_field_errors(bureau_head):
    with pytest.raises(InvalidInput) as caught:
        services.archived(bureau_head, year="二〇二六", retention="99", doc_type="memo")
    assert set(caught.value.fields) == {"year", "retention", "doc_type"}


def test_destroying_a_record_erases_its_content_and_keeps_the_register_entry(reviewer, bureau_head):
    document = archived_document(reviewer, bureau_head, doc_type="letter", date="2010-05-04")
    assert search.search(bureau_head, "食品经营许可", search.Filters()).hits
    with pytest.raises(NotPermitted):
        services.dispose(reviewer, document.ref, decision="destroy", reason="期满")
    with pytest.raises(InvalidInput) as caught:
        services.dispose(bureau_head, document.ref, decision="burn", reason="")
    assert set(caught.value.fields) == {"decision", "reason"}
    record = services.dispose(
        bureau_head, document.ref, decision=DisposalDecision.DESTROY, reason="保管期满，经鉴定无保存价值"
    )
    stored = Document.objects.get(pk=document.pk)
    assert stored.status == Status.DISPOSED and stored.body == "" and stored.attachments == ""
    contents = list(DocumentVersion.objects.filter(document=stored).values_list("content", flat=True))
    assert contents and all(content == {} for content in contents)
    assert (record.number, record.title, record.retention) == (document.number, document.title, "10")
    assert len(record.content_digest) == 64
    assert list(services.disposals(bureau_head)) == [record]
    assert not SearchEntry.objects.filter(document_id=document.pk).exists()
    assert not search.search(bureau_head, "食品经营许可", search.Filters()).hits
    assert events.history("document", document.ref)[-1].detail["decision"] == "destroy"
    with pytest.raises(Conflict):  # a disposed-of record changes no more
        services.dispose(bureau_head, document.ref, decision="destroy", reason="再次")
    assert Disposal.objects.filter(document=stored).count() == 1


def test_keeping_a_record_longer_needs_a_longer_period_and_moves_its_end(reviewer, bureau_head):
    document = archived_document(reviewer, bureau_head, doc_type="letter", date="2010-05-04")
    with pytest.raises(InvalidInput) as caught:
        services.dispose(
            bureau_head, document.ref, decision="extend", reason="仍有查考价值", new_retention="10"
        )
    assert "new_retention" in caught.value.fields
    services.dispose(bureau_head, document.ref, decision="extend", reason="仍有查考价值", new_retention="30")
    stored = Document.objects.get(pk=document.pk)
    assert (stored.status, stored.retention, stored.retention_until) == (
        Status.ARCHIVED,
        "30",
        dt.date(2041, 1, 1),
    )
    assert stored not in list(services.archived(bureau_head, due=True))
    with pytest.raises(Conflict):  # not due any more
        services.dispose(bureau_head, document.ref, decision="destroy", reason="期满")


def test_a_record_not_yet_due_cannot_be_disposed_of(reviewer, bureau_head):
    document = archived_document(reviewer, bureau_head)
    with pytest.raises(Conflict):
        services.dispose(bureau_head, document.ref, decision="destroy", reason="期满")
    assert Document.objects.get(pk=document.pk).status == Status.ARCHIVED


def test_other_agencies_see_neither_the_archive_nor_its_register(reviewer, bureau_head):
    document = archived_document(reviewer, bureau_head, doc_type="letter", date="2010-05-04")
    other = actor("reviewer_rs")
    assert document not in list(services.archived(other))
    services.dispose(bureau_head, document.ref, decision="destroy", reason="期满")
    assert list(services.disposals(other)) == []
