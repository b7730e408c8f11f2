"""Full-text search over documents in Chinese (jieba words on FTS5 / PostgreSQL text search): words
of the title, text, 发文字号 and agencies, ranked, filtered, and only what the caller may read."""

import pytest

from tongban.core.errors import InvalidInput, NotPermitted
from tongban.documents import search, services
from tongban.documents.models import Document, SearchEntry

from ..conftest import actor
from .conftest import make_draft

pytestmark = pytest.mark.django_db

WASTE = "各街道要做好生活垃圾分类工作，推进垃圾分类投放、收运和处理体系建设。"


def refs(results) -> list[str]:
    return [hit.document.ref for hit in results.hits]


def find(who, query, **filters):
    return search.search(who, query, search.clean_filters(**filters))


def test_words_are_cut_by_jieba_with_the_shorter_words_inside_long_ones():
    assert {"管理", "管理局"} <= set(search.words("市场监督管理局"))
    assert "的" not in search.words("的") and search.words("，。、") == []
    assert search.query_words("管理局 工作") == [("管理局", ["管理"]), ("工作", [])]


def test_a_document_is_found_by_the_words_of_its_title_text_number_and_agency(reviewer, bureau_head):
    waste = make_draft(title="关于开展生活垃圾分类专项检查的通知", body=WASTE)
    other = make_draft(title="关于调整食品经营许可收费标准的通知")
    services.sign(bureau_head, waste.ref)
    waste.refresh_from_db()
    assert refs(find(reviewer, "垃圾分类")) == [waste.ref]
    assert refs(find(reviewer, "监督管理")) != []  # 管理, inside 管理局
    assert refs(find(reviewer, "收运 处理")) == [waste.ref]  # words of the text only
    assert refs(find(reviewer, waste.number)) == [waste.ref]  # 发文字号, as printed
    assert set(refs(find(reviewer, "市场监督管理局"))) >= {waste.ref, other.ref}  # the agency
    assert refs(find(reviewer, "垃圾分类 收费标准")) == []  # every word must be there


def test_the_title_ranks_above_the_text_and_snippets_mark_the_words(reviewer):
    in_text = make_draft(title="关于做好年终工作的通知", body=WASTE)
    in_title = make_draft(title="关于垃圾分类工作的通知", body="请遵照执行。")
    results = find(reviewer, "垃圾分类")
    assert refs(results)[:2] == [in_title.ref, in_text.ref]
    assert results.hits[0].score > results.hits[1].score
    marked = [text for text, is_match in results.hits[1].snippet if is_match]
    assert "垃圾分类" in marked


def test_filters_by_type_status_year_agency_number_and_date(reviewer, bureau_head):
    notice = make_draft(title="垃圾分类工作通知", date="2025-06-01")
    letter = make_draft(doc_type="letter", title="垃圾分类工作商洽函", date="2026-02-01")
    services.sign(bureau_head, letter.ref)
    letter.refresh_from_db()
    assert refs(find(reviewer, "垃圾分类", doc_type="letter")) == [letter.ref]
    assert refs(find(reviewer, "垃圾分类", status="draft")) == [notice.ref]
    assert refs(find(reviewer, "垃圾分类", year=2025)) == [notice.ref]
    assert refs(find(reviewer, "垃圾分类", number=letter.number)) == [letter.ref]
    assert refs(find(reviewer, "垃圾分类", date_from="2026-01-01", date_to="2026-12-31")) == [letter.ref]
    assert set(refs(find(reviewer, "垃圾分类", agency_code="scjgj"))) == {notice.ref, letter.ref}
    assert refs(find(reviewer, "垃圾分类", agency_code="rsj")) == []


def test_bad_filters_and_queries_are_field_errors():
    with pytest.raises(InvalidInput) as caught:
        search.clean_filters(
            doc_type="memo", status="lost", year="明年", agency_code="nowhere", date_from="5/6"
        )
    assert set(caught.value.fields) == {"doc_type", "status", "year", "agency", "date_from"}
    with pytest.raises(InvalidInput) as caught:
        search.search(actor("reviewer"), "文" * 101, search.Filters())
    assert "q" in caught.value.fields
    assert search.search(actor("reviewer"), "，。", search.Filters()).hits == []


def test_a_caller_finds_only_documents_they_may_read(reviewer, bureau_head):
    document = make_draft(title="关于垃圾分类督导检查的通知", body=WASTE)
    assert refs(find(actor("supervisor"), "督导检查")) == [document.ref]  # over the whole government
    assert refs(find(bureau_head, "督导检查")) == [document.ref]  # the agency's leader
    outsider = actor("reviewer_rs")
    assert refs(find(outsider, "督导检查")) == []
    # A countersigning department's staff read it once it is with them, and find it then.
    document.countersign_departments = ["rsj-shbxk"]
    document.save()
    assert services.may_see(outsider, Document.objects.get(pk=document.pk))
    assert refs(find(outsider, "督导检查")) == [document.ref]
    with pytest.raises(NotPermitted):
        find(actor("zhangsan"), "督导检查")  # citizens do not search official documents


def test_the_entry_follows_every_save_and_a_rebuild_makes_the_same_entries(reviewer):
    document = make_draft(title="关于垃圾分类的通知")
    services.save_draft(reviewer, document.ref, title="关于厨余垃圾处理的通知")
    assert refs(find(reviewer, "厨余")) == [document.ref] and refs(find(reviewer, "分类")) == []
    before = SearchEntry.objects.get(document_id=document.pk)
    SearchEntry.objects.filter(document_id=document.pk).delete()
    assert refs(find(reviewer, "厨余")) == []
    assert search.rebuild() >= 1
    after = SearchEntry.objects.get(document_id=document.pk)
    assert (after.title, after.meta, after.body, after.acl) == (
        before.title,
        before.meta,
        before.body,
        before.acl,
    )
    assert refs(find(reviewer, "厨余")) == [document.ref]


def test_results_are_paged_and_counted(reviewer):
    for i in range(5):
        make_draft(title=f"关于第{i}批垃圾分类示范点的通知")
    first = search.search(reviewer, "示范点", search.Filters(), page=1, per_page=2)
    second = search.search(reviewer, "示范点", search.Filters(), page=3, per_page=2)
    assert (first.total, first.pages, len(first.hits), len(second.hits)) == (5, 3, 2, 1)
    assert not set(refs(first)) & set(refs(second))


def test_when_many_match_only_the_newest_are_ranked_and_the_count_says_more(reviewer, monkeypatch):
    made = [make_draft(title=f"关于第{i}批示范点建设的通知") for i in range(6)]
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    results = search.search(reviewer, "示范点", search.Filters())
    assert results.more and results.total == 4 and results.pages == 1
    newest = sorted(made, key=lambda d: d.pk)[-4:]
    assert set(refs(results)) == {d.ref for d in newest}


def test_a_page_past_the_last_is_empty_and_still_counts(reviewer):
    for i in range(3):
        make_draft(title=f"关于第{i}批示范点的通知")
    past = search.search(reviewer, "示范点", search.Filters(), page=5, per_page=2)
    assert (past.hits, past.total, past.pages) == ([], 3, 2)


def test_words_of_a_text_are_never_taken_for_access_or_filter_tokens(reviewer):
    # "tletter" is the filter token of letters and "a<id>" of an agency: a notice whose text holds
    # them as words must not pass those filters (on PostgreSQL words and tokens share one index).
    notice = make_draft(title="关于示范点的通知", body="见附表 tletter 与 a1 a2 a3 a4 a5 a6 a7 a8 a9 a10。")
    assert refs(find(reviewer, "示范点")) == [notice.ref]
    assert refs(find(reviewer, "示范点", doc_type="letter")) == []
    assert refs(find(reviewer, "示范点", agency_code="rsj")) == []
    assert refs(find(reviewer, "tletter")) == [notice.ref]  # still a word of its text


def test_the_reindex_command_rebuilds_every_entry_and_reports_progress(reviewer):
    from typer.testing import CliRunner

    from tongban.cli.main import app

    made = [make_draft(title=f"关于第{i}批厨余垃圾处理的通知") for i in range(3)]
    SearchEntry.objects.filter(document_id__in=[d.pk for d in made]).delete()
    assert refs(find(reviewer, "厨余")) == []
    result = CliRunner().invoke(app, ["document", "reindex", "--batch", "2"])
    assert result.exit_code == 0, result.output
    indexed = Document.objects.exclude(status="disposed").count()
    assert f"{indexed} documents indexed." in result.output
    assert set(refs(find(reviewer, "厨余"))) == {d.ref for d in made}
    seen = []
    search.rebuild(batch=2, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(min(n, indexed), indexed) for n in range(2, indexed + 2, 2)]
