"""Full-text search over official documents in Chinese, on what each database gives: SQLite's FTS5
and PostgreSQL's text search, over the same table of words.

Chinese has no spaces, so neither engine can find words in it by itself. Every document is cut
into words here with jieba (search mode: a long word also yields the shorter dictionary words in
it, so 分类 finds 垃圾分类) and its words are stored space-separated in `SearchEntry`: the title,
the header and imprint (发文字号, 机关代字, agencies, type), and the text with its attachment names.
The engines then only split on spaces: FTS5 (unicode61) through an external-content virtual table
kept in step by triggers (migration 0005); PostgreSQL through a narrow table of one tsvector per
document ('simple': no stemming) holding the words and the access tokens, with one GIN index, kept
in step by triggers too (migration 0006). This module is the one place that speaks their SQL.

Who may read what is part of the match, so a search never ranks what the caller cannot see. An
entry's `acl` column holds tokens for the departments whose staff may read the document, exactly
as `services.may_see` decides it: the drafter (u<id>); the drafting section and the agency, for
document.view or document.sign, as themselves (pe<id>, grants without the sub-tree) and as every
department above them (ps<id>, grants over a sub-tree); the countersigning departments and the
agencies it was sent to, for document.view (oe<id>, os<id>). The caller's grants become the same
tokens, OR-ed; filters (type, status, year, agency) are tokens there too. Each hit on the page is
checked once more with `may_see` before it is shown (an entry is brought up to date on every save
of its document or receipt, in the same transaction; a reorganised department tree needs
`rebuild()`). On PostgreSQL the tokens carry a "_" in the index, which no word has.

A query's words are cut the same way. A word matches where the document has it, or — since jieba
may cut a phrase differently inside a longer sentence (生活垃圾/分类 against 垃圾分类) — where the
document has all the shorter words it is made of. Ranking: BM25 on SQLite, the title weighing
most, then the header and imprint, then the text; on PostgreSQL ts_rank over the title, then the
newest first (see _ranked_postgresql for why); where more than COUNT_CAP documents match, the
newest of them are ranked (see ranked_ids).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

import jieba
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tongban.accounts import roles as perms
from tongban.accounts.models import Department
from tongban.core import sql
from tongban.core.errors import FieldErrors, Formatted, InvalidInput

from .models import DocType, Document, SearchEntry, Status

jieba.setLogLevel(logging.WARNING)

QUERY_MAX = 100
PER_PAGE = 20
COUNT_CAP = 1000  # the newest matches counted and ranked, up to here ("more than 1,000"; see ranked_ids)
# Function words that say nothing about a document: dropped from entries and queries alike.
STOP_WORDS = frozenset("的 了 和 与 及 之 其 于 在 是 对 等 并 或 为 以 将 由 把 被".split())
_WORD = re.compile(r"[^\W_]+")


def _type_name(doc_type: str) -> str:
    """The type's Chinese name (its labels begin with it: "通知 notice")."""
    try:
        return str(DocType(doc_type).label).split(" ", 1)[0]
    except ValueError:
        return ""


def words(text: str) -> list[str]:
    """The search words of a text: jieba's search mode, lower case, no punctuation or stop words."""
    out = []
    for token in jieba.cut_for_search((text or "").lower(), HMM=False):
        for piece in _WORD.findall(token):
            if piece not in STOP_WORDS:
                out.append(piece)
    return out


def query_words(text: str) -> list[tuple[str, list[str]]]:
    """A query as its words, each with the shorter dictionary words it is made of (may be empty)."""
    out: list[tuple[str, list[str]]] = []
    seen = set()
    for token in jieba.cut((text or "").lower(), HMM=False):
        for word in _WORD.findall(token):
            if word in STOP_WORDS or word in seen:
                continue
            seen.add(word)
            parts = [p for p in jieba.cut_for_search(word, HMM=False) if p != word and len(p) > 1]
            out.append((word, parts))
    return out


# --- entries -------------------------------------------------------------------------------------


def _ancestors(department: Department) -> list[int]:
    ids = []
    node = department
    while node is not None:
        ids.append(node.pk)
        node = node.parent
    return ids


def acl_tokens(document: Document, departments=Department) -> list[str]:
    """The tokens of who may read the document (see the module doc) and of its filters."""
    tokens = [f"u{document.drafted_by_id}"]
    for department in (document.drafting_department, document.agency):
        tokens.append(f"pe{department.pk}")
        tokens += [f"ps{pk}" for pk in _ancestors(department)]
    others = list(
        departments.objects.select_related("parent").filter(code__in=document.countersign_departments or [])
    )
    others += [r.agency for r in document.receipts.select_related("agency__parent")]
    for department in others:
        tokens.append(f"oe{department.pk}")
        tokens += [f"os{pk}" for pk in _ancestors(department)]
    tokens += facet_tokens(document)
    return list(dict.fromkeys(tokens))


def facet_tokens(document: Document) -> list[str]:
    year = (document.date or document.created_at).year
    return [
        "t" + document.doc_type.replace("_", ""),
        "s" + document.status,
        f"y{year}",
        f"a{document.agency_id}",
    ]


def entry_fields(document: Document, departments=Department) -> dict:
    """What an entry holds for a document: its words, field by field, and its access tokens."""
    header = " ".join(
        [
            document.number,
            document.agency_code,
            document.mark,
            document.agency.name,
            document.drafting_department.name,
            document.issuer_name,
            document.main_recipients,
            document.cc,
            document.printing_agency,
            _type_name(document.doc_type),
        ]
    )
    body = "\n".join([document.body, document.attachments, document.note])
    return {
        "title": " ".join(words(document.title)),
        "meta": " ".join(words(header)),
        "body": " ".join(words(body)),
        "acl": " ".join(acl_tokens(document, departments)),
    }


def index_document(document: Document) -> None:
    """Bring a document's entry up to date (a disposed-of document has none)."""
    if document.status == Status.DISPOSED:
        remove_document(document)
        return
    fields = entry_fields(document)
    updated = SearchEntry.objects.filter(document_id=document.pk).update(**fields)
    if not updated:
        SearchEntry.objects.create(document_id=document.pk, **fields)


def remove_document(document: Document) -> None:
    SearchEntry.objects.filter(document_id=document.pk).delete()


def rebuild(batch: int = 500, progress=None) -> int:
    """Every entry again (after a department tree was reorganised, or to fill a new install), one
    transaction per batch; `progress(done, total)` is called after each (the CLI's progress bar)."""
    count = 0
    rows = Document.objects.exclude(status=Status.DISPOSED).select_related(
        "agency__parent", "drafting_department__parent"
    )
    ids = list(rows.values_list("pk", flat=True))
    for start in range(0, len(ids), batch):
        with transaction.atomic():
            for document in rows.filter(pk__in=ids[start : start + batch]):
                index_document(document)
                count += 1
        if progress is not None:
            progress(min(start + batch, len(ids)), len(ids))
    optimize()
    return count


def on_document_saved(sender, instance: Document, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    index_document(instance)


def on_receipt_saved(sender, instance, created: bool = False, **kwargs) -> None:
    if created and not kwargs.get("raw"):
        index_document(instance.document)


def connect() -> None:
    from django.db.models.signals import post_save

    from .models import Receipt

    post_save.connect(on_document_saved, sender=Document, dispatch_uid="documents.search.document")
    post_save.connect(on_receipt_saved, sender=Receipt, dispatch_uid="documents.search.receipt")


# --- queries -------------------------------------------------------------------------------------


def caller_tokens(actor) -> list[str] | None:
    """The access tokens a caller's grants match; None for the system (it reads everything)."""
    if getattr(actor, "is_system", False):
        return None
    tokens = []
    user = getattr(actor, "user", None)
    if user is not None:
        tokens.append(f"u{user.pk}")
    for grant in getattr(actor, "grants", ()):
        primary = perms.DOCUMENT_VIEW in grant.permissions or perms.DOCUMENT_SIGN in grant.permissions
        if not primary:
            continue
        mode = "s" if grant.include_subtree else "e"
        tokens.append(f"p{mode}{grant.department_id}")
        if perms.DOCUMENT_VIEW in grant.permissions:
            tokens.append(f"o{mode}{grant.department_id}")
    return list(dict.fromkeys(tokens))


@dataclass(frozen=True)
class Filters:
    doc_type: str = ""
    status: str = ""
    year: int | None = None
    agency_id: int | None = None
    number: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def clean_year(errors: FieldErrors, year) -> int | None:
    """A year filter (成文年份) as typed, or a field error on `year`; the archive's filter shares it."""
    if year in (None, ""):
        return None
    try:
        value = int(str(year).strip())
        if not 1949 <= value <= 9999:
            raise ValueError
    except ValueError:
        errors.add("year", "invalid", _("Enter a year such as 2026."))
        return None
    return value


def clean_filters(
    *, doc_type="", status="", year=None, agency_code="", number="", date_from=None, date_to=None
) -> Filters:
    errors = FieldErrors()
    doc_type, status = str(doc_type or ""), str(status or "")
    if doc_type and doc_type not in DocType.values:
        errors.add("doc_type", "choice", _("Choose one of the allowed values."))
    if status and status not in Status.values:
        errors.add("status", "choice", _("Choose one of the allowed values."))
    year_value = clean_year(errors, year)
    agency_id = None
    if agency_code:
        agency = Department.objects.filter(code=str(agency_code)).first()
        if agency is None:
            errors.add("agency", "unknown", _("No such department."))
        else:
            agency_id = agency.pk
    number = str(number or "").strip()
    if len(number) > 40:
        errors.add("number", "max_length", Formatted(_("At most %(n)d characters."), {"n": 40}))
    dates = {}
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        if value in (None, ""):
            dates[name] = None
        elif isinstance(value, dt.date):
            dates[name] = value
        else:
            try:
                dates[name] = dt.date.fromisoformat(str(value).strip())
            except ValueError:
                errors.add(name, "invalid", _("Enter a date as YYYY-MM-DD."))
                dates[name] = None
    errors.raise_if_any()
    return Filters(doc_type, status, year_value, agency_id, number, **dates)


def _quote_fts(word: str) -> str:
    return f'"{word}"'


def _quote_ts(word: str) -> str:
    return f"'{word}'"


def _text_expression(parts: list[tuple[str, list[str]]], quote, and_: str, or_: str) -> str:
    terms = []
    for word, subwords in parts:
        if subwords:
            inner = f" {and_} ".join(quote(p) for p in subwords)
            terms.append(f"({quote(word)} {or_} ({inner}))")
        else:
            terms.append(quote(word))
    return f" {and_} ".join(terms)


def _facets(filters: Filters) -> list[str]:
    out = []
    if filters.doc_type:
        out.append("t" + filters.doc_type.replace("_", ""))
    if filters.status:
        out.append("s" + filters.status)
    if filters.year:
        out.append(f"y{filters.year}")
    if filters.agency_id:
        out.append(f"a{filters.agency_id}")
    return out


def _join_conditions(filters: Filters) -> tuple[list[str], list]:
    where, params = [], []
    if filters.number:
        where.append("d.number LIKE %s")
        params.append("%" + filters.number.replace("%", "").replace("_", "") + "%")
    if filters.date_from:
        where.append("d.date >= %s")
        params.append(filters.date_from)
    if filters.date_to:
        where.append("d.date <= %s")
        params.append(filters.date_to)
    return where, params


def ranked_ids(
    parts: list[tuple[str, list[str]]], access: list[str] | None, filters: Filters, *, limit: int, offset: int
) -> tuple[list[tuple[int, float]], int]:
    """(document id, score) of one page, best first, and how many match (counted up to COUNT_CAP).

    Ranking scores every match it is given, so a query of everyday words (通知, 工作) over a large
    archive would score tens of thousands of rows. Only the newest COUNT_CAP + 1 matches are counted
    and ranked (ids run in the order documents were made, and both engines walk the matches from
    the newest and stop there); a narrower query or a filter finds older ones."""
    where, params = _join_conditions(filters)
    if sql.is_postgresql():
        return _ranked_postgresql(parts, access, filters, where, params, limit=limit, offset=offset)
    return _ranked_sqlite(parts, access, filters, where, params, limit=limit, offset=offset)


def _ranked_postgresql(parts, access, filters, where, params, *, limit, offset):
    """One statement on documents_searchterms (migration 0006): its GIN index finds the documents
    having the words and one of the caller's access tokens and the filters' tokens, the newest
    COUNT_CAP + 1 of them are kept, counted and ranked: by ts_rank over the title's small vector,
    which is in the row (the whole document's is not, and reading it costs about 25 µs a row),
    then newest first. The planner does not know that reading the large vector is what costs, and
    would check it row by row over a sequential or id-ordered scan of the whole table; the GIN
    index needs no such check (no weights or phrases in the query), so it is the one way given."""
    text_q = _text_expression(parts, _quote_ts, "&", "|")
    tokens = []
    if access is not None:
        tokens.append("(" + " | ".join(_quote_ts("_" + t) for t in access) + ")")
    tokens += [_quote_ts("_" + f) for f in _facets(filters)]
    match = "t.terms @@ to_tsquery('simple', %s)"
    match_params: list = [text_q]
    if tokens:
        # The tokens are cast, not parsed: the parser would drop their "_".
        match = "t.terms @@ (to_tsquery('simple', %s) && %s::tsquery)"
        match_params.append(" & ".join(tokens))
    source = "documents_searchterms t"
    if where:
        source += " JOIN documents_document d ON d.id = t.document_id"
    condition = " AND ".join([match, *where])
    # Only fixed SQL fragments are joined into these statements; every value is a parameter.
    newest = (
        f"SELECT t.document_id, t.title_terms FROM {source} WHERE {condition} "  # noqa: S608
        "ORDER BY t.document_id DESC LIMIT %s"
    )
    with transaction.atomic():
        sql.execute("SET LOCAL enable_seqscan = off")
        sql.execute("SET LOCAL enable_indexscan = off")
        rows = sql.all_rows(
            f"WITH newest AS MATERIALIZED ({newest}) "  # noqa: S608
            "SELECT document_id, ts_rank(title_terms, to_tsquery('simple', %s), 0) AS score, "
            "count(*) OVER () FROM newest ORDER BY score DESC, document_id DESC LIMIT %s OFFSET %s",
            [*match_params, *params, COUNT_CAP + 1, text_q, limit, offset],
        )
        count = rows[0][2] if rows else 0
        if not rows and offset:  # a page past the last: the count still says how many there are
            count = sql.one(
                f"SELECT count(*) FROM ({newest}) AS c",  # noqa: S608
                [*match_params, *params, COUNT_CAP + 1],
            )[0]
        sql.execute("RESET enable_indexscan")
        sql.execute("RESET enable_seqscan")
    return [(r[0], float(r[1])) for r in rows], count


def _ranked_sqlite(parts, access, filters, where, params, *, limit, offset):
    """FTS5 with the access and filter tokens matched in the acl column, ranked by BM25 (title 10,
    header 3, text 1)."""
    match = "{title meta body} : (" + _text_expression(parts, _quote_fts, "AND", "OR") + ")"
    acl = []
    if access is not None:
        acl.append("(" + " OR ".join(_quote_fts(t) for t in access) + ")")
    acl += [_quote_fts(f) for f in _facets(filters)]
    if acl:
        match += " AND acl : (" + " AND ".join(acl) + ")"
    source = "documents_fts"
    if where:
        source += " JOIN documents_document d ON d.id = documents_fts.rowid"
    condition = " AND ".join(["documents_fts MATCH %s", *where])
    # Only fixed SQL fragments are joined into these statements; every value is a parameter.
    count = sql.one(
        f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {condition} LIMIT %s)",  # noqa: S608
        [match, *params, COUNT_CAP + 1],
    )[0]
    if count > COUNT_CAP:
        oldest = sql.one(
            f"SELECT documents_fts.rowid FROM {source} WHERE {condition} "  # noqa: S608
            "ORDER BY documents_fts.rowid DESC LIMIT 1 OFFSET %s",
            [match, *params, COUNT_CAP],
        )
        if oldest is not None:
            condition += " AND documents_fts.rowid >= %s"
            params = [*params, oldest[0]]
    rows = sql.all_rows(
        "SELECT documents_fts.rowid, -bm25(documents_fts, 10.0, 3.0, 1.0, 0.0) AS score "  # noqa: S608
        f"FROM {source} WHERE {condition} ORDER BY score DESC, documents_fts.rowid DESC LIMIT %s OFFSET %s",
        [match, *params, limit, offset],
    )
    return [(r[0], float(r[1])) for r in rows], count


def optimize() -> None:
    """Bring the engine's index into shape after a bulk load or a rebuild: PostgreSQL's planner
    statistics for the terms table (it chooses between the GIN index and walking the newest ids
    by them; autovacuum catches up only later, and not at all where it is off), and one merged
    b-tree for FTS5 on SQLite instead of the many segments a bulk load leaves."""
    if sql.is_postgresql():
        sql.execute("ANALYZE documents_searchterms")
    else:
        sql.execute("INSERT INTO documents_fts(documents_fts) VALUES ('optimize')")


@dataclass(frozen=True)
class Hit:
    document: Document
    score: float
    snippet: list[tuple[str, bool]]  # pieces of the text, True where a query word matched
    title: list[tuple[str, bool]]  # the title in the same pieces


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    total: int  # up to COUNT_CAP + 1
    page: int
    pages: int
    words: list[str]

    @property
    def more(self) -> bool:
        return self.total > COUNT_CAP


SNIPPET_CHARS = 80


def snippet(text: str, found: list[str], *, chars: int = SNIPPET_CHARS) -> list[tuple[str, bool]]:
    """A passage of the text around the first word found, with the words marked."""
    text = re.sub(r"\s+", " ", text or "").strip()
    lowered = text.lower()
    positions = [lowered.find(w) for w in found if w and lowered.find(w) >= 0]
    start = max(0, min(positions) - chars // 4) if positions else 0
    passage = text[start : start + chars]
    pieces: list[tuple[str, bool]] = [("…", False)] if start else []
    terms = sorted({w for w in found if w}, key=len, reverse=True)
    if terms:
        pattern = re.compile("|".join(re.escape(w) for w in terms), re.IGNORECASE)
        cursor = 0
        for m in pattern.finditer(passage):
            if m.start() > cursor:
                pieces.append((passage[cursor : m.start()], False))
            pieces.append((m.group(0), True))
            cursor = m.end()
        if cursor < len(passage):
            pieces.append((passage[cursor:], False))
    else:
        pieces.append((passage, False))
    if start + chars < len(text):
        pieces.append(("…", False))
    merged: list[tuple[str, bool]] = []  # words found side by side are one mark
    for piece in pieces:
        if merged and merged[-1][1] == piece[1]:
            merged[-1] = (merged[-1][0] + piece[0], piece[1])
        else:
            merged.append(piece)
    return merged


def search(actor, query: str, filters: Filters, *, page: int = 1, per_page: int = PER_PAGE) -> Results:
    """The documents the caller may read that match the query, best first, one page."""
    from . import services

    services.documents(actor)  # the same refusal as the list: staff only, signed in
    query = str(query or "").strip()
    if len(query) > QUERY_MAX:
        raise InvalidInput.single(
            "q", "max_length", Formatted(_("At most %(n)d characters."), {"n": QUERY_MAX})
        )
    parts = query_words(query)
    if not parts:
        return Results([], 0, 1, 1, [])
    page = max(1, int(page or 1))
    access = caller_tokens(actor)
    if access is not None and not access:
        return Results([], 0, 1, 1, [w for w, _ in parts])
    scored, total = ranked_ids(parts, access, filters, limit=per_page, offset=(page - 1) * per_page)
    by_id = {
        d.pk: d
        for d in Document.objects.select_related("agency", "drafting_department", "drafted_by").filter(
            pk__in=[pk for pk, _score in scored]
        )
    }
    found = [w for w, _ in parts] + [p for _w, subwords in parts for p in subwords]
    hits = []
    for pk, score in scored:
        document = by_id.get(pk)
        if document is None or not services.may_see(actor, document):
            continue
        hits.append(
            Hit(document, score, snippet(document.body, found), snippet(document.title, found, chars=200))
        )
    pages = max(1, (min(total, COUNT_CAP) + per_page - 1) // per_page)
    return Results(hits, total, page, pages, [w for w, _ in parts])
