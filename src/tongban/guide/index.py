"""The assistant's retrieval index over the published catalogue: jieba words + BM25, as a sparse matrix.

Each published item version becomes one row with four fields, each scored with BM25 (k1=1.2,
b=0.75) and weighted before they are summed into one matrix:

- name: the item's name and its main item (主事项) — what the catalogue calls it;
- keywords: everyday phrasings the catalogue managers entered (开饭店 for a food licence);
- body: conditions, materials, process steps, legal basis and the department — the 办事指南;
- grams: character bigrams of the name, so a word jieba splits differently still meets its name.

A question is one sparse vector; scoring all 1,135 items is one matrix-vector product (well under a
millisecond). The index is a snapshot of the published catalogue, rebuilt when an item or bundle is
published (the fingerprint changes) and checked at most every RECHECK_SECONDS, like catalog.search.
Clicks citizens made on answers are aggregated at the same time (see `services.record_click`).
"""

import logging
import math
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import jieba
import numpy as np
from django.db.models import Count, Max
from scipy import sparse

from tongban.accounts.models import Window, WindowKind
from tongban.catalog.models import BundleVersion, ItemVersion, VersionStatus

jieba.setLogLevel(logging.WARNING)
log = logging.getLogger(__name__)

# The assistant's own segmenter: jieba's dictionary plus the lexicon's everyday phrases (网约车,
# 上户口), so a question is cut where citizens' words end. Its own instance: catalog.search and the
# hotline router keep segmenting as they were tuned to.
_tokenizer = jieba.Tokenizer()
_tokenizer_ready = threading.Lock()
_tokenizer_words: list[bool] = []


def tokenizer() -> jieba.Tokenizer:
    if not _tokenizer_words:
        with _tokenizer_ready:
            if not _tokenizer_words:
                from .lexicon import COLLOQUIAL

                for phrase in COLLOQUIAL:
                    if not phrase.isascii():
                        _tokenizer.add_word(phrase, freq=20000)
                _tokenizer_words.append(True)
    return _tokenizer


RECHECK_SECONDS = 30
K1, B = 1.2, 0.75
FIELD_WEIGHTS = {"name": 1.0, "keywords": 0.9, "body": 0.25, "grams": 0.35}
CLICK_WINDOW = 20000  # the most recent clicks that count as a ranking signal

# Words with no content in a question ("我想办个…", "怎么", "在哪里"), and English function words.
STOP_WORDS = frozenset(
    (
        "我 我们 你 您 他 她 想 要 想要 需要 的 了 个 一个 一下 一家 怎么 怎样 如何 哪里 在哪 在哪里 哪儿 "
        "什么 吗 呢 啊 吧 请问 办 办理 手续 流程 去 可以 能 能否 是 有 和 与 及 或 给 为 在 到 把 被 让 "
        "啥 咋 多久 需要什么 要办 办什么 什么样 哪些 怎么办 怎么弄 弄 带 带什么 该 应该 找 谁 家 家里 "
        "第一次 第一 一次 首次 办证 办个 办张 弄个 搞个 需不需要 要不要 多少钱 收费吗 "
        "自己 现在 刚 刚刚 已经 还 又 就 都 也 不 没 没有 会 能不能 可不可以 吗 么 嘛 呀 哦 "
        "i me my we our you your he she it they the a an to of for in on at do does did is are was "
        "be been how what where when which who can could should would will want need get got have has "
        "and or from with about please there this that"
    ).split()
)
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)
_LATIN = re.compile(r"[a-z][a-z'\-]*")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def words(text: str) -> list[str]:
    """Search words of a text: jieba's search mode (long words also yield their parts), lower case."""
    out = []
    for token in tokenizer().lcut_for_search((text or "").lower()):
        token = token.strip()
        if token and token not in STOP_WORDS and not _PUNCT.match(token):
            out.append(token)
    return out


def bigrams(text: str) -> list[str]:
    """Character bigrams of the Chinese runs of a text, marked so they never meet a word."""
    grams = []
    for run in re.findall(r"[\u4e00-\u9fff]+", text or ""):
        grams += ["#" + run[i : i + 2] for i in range(len(run) - 1)]
    return grams


@dataclass(frozen=True)
class Doc:
    code: str
    name: str
    parent_name: str
    department_id: int
    version_id: int
    stages: frozenset  # the lifecycle stages its name says (renew, lost, change, close); empty: new


@dataclass(frozen=True)
class Card:
    """What a citizen sees of an answer, kept in the snapshot so answering reads no database."""

    code: str
    name: str
    item_type: str  # ItemType value; services.cards() shows its label in the page's language
    department: str
    where: str
    materials: tuple[str, ...]
    promised_limit_days: int | None
    statutory_limit_days: int | None
    fee: str
    online_level: str  # OnlineLevel value
    conditions: str
    bundles: tuple[tuple[str, str], ...]
    can_apply: bool


@dataclass
class Index:
    docs: list[Doc]
    vocab: dict[str, int]
    matrix: sparse.csr_matrix  # docs × terms, field-weighted BM25 contributions
    presence: sparse.csr_matrix  # docs × terms, 1 where the term occurs in any field
    idf: np.ndarray
    fingerprint: tuple
    built_in: float
    by_code: dict[str, int] = field(default_factory=dict)
    cards: dict[str, Card] = field(default_factory=dict)
    clicks: dict[str, Counter] = field(default_factory=dict)  # term → Counter(code → clicks)
    click_fingerprint: tuple = ()


def stages_of(name: str) -> frozenset:
    from .lexicon import STAGES

    return frozenset(
        stage
        for stage, marks in STAGES.items()
        if any(mark in name for mark in marks if mark not in ("补", "改"))
    )


def _windows() -> dict:
    """The window that takes each department's items (its own window, else a 综合窗口: key None)."""
    windows: dict = {}
    active = Window.objects.filter(is_active=True).select_related("centre").order_by("centre__code", "number")
    for w in active:
        if w.kind == WindowKind.SPECIALISED and w.department_id:
            windows.setdefault(w.department_id, w)
        elif w.kind == WindowKind.COMPREHENSIVE:
            windows.setdefault(None, w)
    return windows


def _where(department_id: int, windows: dict) -> str:
    window = windows.get(department_id) or windows.get(None)
    if window is None:
        return ""
    centre = window.centre
    place = f"{centre.name} {window.number}号窗口（{window.name}）"
    return f"{place}，{centre.address}" if centre.address else place


def _documents() -> list[tuple[Doc, dict[str, list[str]], Card]]:
    versions = (
        ItemVersion.objects.filter(status=VersionStatus.PUBLISHED)
        .select_related("item__department")
        .prefetch_related("materials")
        .order_by("item__code")
    )
    windows = _windows()
    bundles: dict[str, list[tuple[str, str]]] = {}
    published = BundleVersion.objects.filter(status=VersionStatus.PUBLISHED)
    for code, name, item_code in published.values_list(
        "bundle__code", "name", "members__item_version__item__code"
    ):
        if item_code:
            bundles.setdefault(item_code, []).append((code, name))
    out = []
    for v in versions:
        dept = v.item.department
        materials = sorted(v.materials.all(), key=lambda m: (m.position, m.id))
        body = " ".join(
            [v.conditions, v.legal_basis, dept.name, dept.short_name]
            + [m.name for m in materials]
            + [str(s) for s in (v.steps or [])]
        )
        fields = {
            "name": words(v.name) * 2 + words(v.parent_name),
            "keywords": words(v.keywords),
            "body": words(body),
            "grams": bigrams(v.name),
        }
        doc = Doc(v.item.code, v.name, v.parent_name, dept.id, v.id, stages_of(v.name))
        card = Card(
            code=v.item.code,
            name=v.name,
            item_type=v.item_type,
            department=dept.name,
            where=_where(dept.id, windows),
            materials=tuple(m.name + ("" if m.required else "（非必需）") for m in materials),
            promised_limit_days=v.promised_limit_days,
            statutory_limit_days=v.statutory_limit_days,
            fee=v.fee,
            online_level=v.online_level,
            conditions=v.conditions,
            bundles=tuple(bundles.get(v.item.code, ())),
            can_apply=bool(v.form_fields),
        )
        out.append((doc, fields, card))
    return out


def _bm25(rows: list[list[str]], vocab: dict[str, int], n_terms: int) -> sparse.csr_matrix:
    """BM25 term weights of one field (without idf), docs × terms."""
    lengths = np.array([len(r) for r in rows], dtype=np.float64)
    avg = lengths.mean() if len(rows) and lengths.mean() > 0 else 1.0
    data, indices, indptr = [], [], [0]
    for row, length in zip(rows, lengths, strict=True):
        counts = Counter(vocab[t] for t in row)
        norm = K1 * (1 - B + B * length / avg)
        for term, tf in sorted(counts.items()):
            indices.append(term)
            data.append(tf * (K1 + 1) / (tf + norm))
        indptr.append(len(indices))
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), n_terms), dtype=np.float64)


def build(fingerprint: tuple = ()) -> Index:
    started = time.perf_counter()
    documents = _documents()
    vocab: dict[str, int] = {}
    for _doc, fields, _card in documents:
        for tokens in fields.values():
            for t in tokens:
                vocab.setdefault(t, len(vocab))
    n_docs, n_terms = len(documents), max(len(vocab), 1)
    presence = sparse.csr_matrix((n_docs, n_terms), dtype=np.float64)
    matrix = sparse.csr_matrix((n_docs, n_terms), dtype=np.float64)
    for name, weight in FIELD_WEIGHTS.items():
        part = _bm25([fields[name] for _d, fields, _c in documents], vocab, n_terms)
        matrix = matrix + weight * part
        presence = presence + (part > 0).astype(np.float64)
    presence = (presence > 0).astype(np.float64)
    df = np.asarray(presence.sum(axis=0)).ravel()
    idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
    matrix = (matrix @ sparse.diags(idf)).tocsr()
    docs = [doc for doc, _fields, _card in documents]
    index = Index(
        docs=docs,
        vocab=vocab,
        matrix=matrix,
        presence=presence.tocsr(),
        idf=idf,
        fingerprint=fingerprint,
        built_in=time.perf_counter() - started,
        by_code={d.code: i for i, d in enumerate(docs)},
        cards={card.code: card for _d, _f, card in documents},
    )
    log.info("guide index: %d items, %d terms in %.2fs", n_docs, len(vocab), index.built_in)
    return index


def catalogue_fingerprint() -> tuple:
    """Changes when an item or bundle is published or a window opens, closes or moves."""
    items = ItemVersion.objects.filter(status=VersionStatus.PUBLISHED).aggregate(
        n=Count("id"), t=Max("published_at"), last=Max("id")
    )
    bundles = BundleVersion.objects.filter(status=VersionStatus.PUBLISHED).aggregate(
        n=Count("id"), t=Max("published_at")
    )
    windows = Window.objects.filter(is_active=True).aggregate(n=Count("id"), last=Max("id"))
    return (items["n"], items["t"], items["last"], bundles["n"], bundles["t"], windows["n"], windows["last"])


def _click_fingerprint() -> tuple:
    from .models import Click

    agg = Click.objects.aggregate(n=Count("id"), last=Max("id"))
    return (agg["n"], agg["last"])


def _click_stats() -> dict[str, Counter]:
    from .models import Click

    stats: dict[str, Counter] = {}
    recent = Click.objects.order_by("-id").values_list("terms", "item_code")[:CLICK_WINDOW]
    for terms, code in recent:
        for term in set(terms.split()):
            stats.setdefault(term, Counter())[code] += 1
    return stats


_lock = threading.Lock()
_cached: tuple[Index, float] | None = None


def current() -> Index:
    """The index of the published catalogue (built on first use, rebuilt after a publication)."""
    global _cached
    now = time.monotonic()
    cached = _cached
    if cached is not None and now - cached[1] < RECHECK_SECONDS:
        return cached[0]
    with _lock:
        fingerprint = catalogue_fingerprint()
        if _cached is not None and _cached[0].fingerprint == fingerprint:
            index = _cached[0]
        else:
            index = build(fingerprint)
        click_fp = _click_fingerprint()
        if click_fp != index.click_fingerprint:
            index.clicks, index.click_fingerprint = _click_stats(), click_fp
        _cached = (index, now)
        return index


def invalidate() -> None:
    global _cached
    with _lock:
        _cached = None


def refresh_clicks() -> None:
    """Take new clicks into account now (the next question would within RECHECK_SECONDS anyway)."""
    global _cached
    with _lock:
        if _cached is not None:
            _cached = (_cached[0], -math.inf)


def has_han(text: str) -> bool:
    return bool(_HAN.search(text or ""))


def latin_words(text: str) -> list[str]:
    return _LATIN.findall((text or "").lower())
