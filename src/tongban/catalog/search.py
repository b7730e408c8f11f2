"""Search of the published catalogue in Chinese, the way citizens ask: "开饭店" finds 食品经营许可.

Items and bundles are segmented with jieba (search mode, so long official names also yield their
parts) and ranked with BM25 (bm25s). Official names rarely contain the words people use, so each
version carries `keywords` — everyday phrasings (开饭店, 开餐馆, 卖盒饭) — which weigh more than the
department name. The index is an in-process snapshot rebuilt when something is published; other
processes notice within RECHECK_SECONDS.
"""

import logging
import re
import threading
import time
from dataclasses import dataclass

import bm25s
import jieba
from django.db.models import Count, Max

from .models import BundleVersion, ItemVersion, VersionStatus

jieba.setLogLevel(logging.WARNING)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG
log = logging.getLogger(__name__)

RECHECK_SECONDS = 30
# Words that carry no meaning in a citizen's question ("我想办个…", "怎么", "在哪里").
STOP_WORDS = frozenset(
    (
        "我 我们 你 想 要 想要 需要 的 了 个 一个 一下 怎么 怎样 如何 哪里 在哪 在哪里 哪儿 "
        "什么 吗 呢 啊 请问 办 办理 申请 手续 流程 去 可以 能 能否 是 有 和 与 及 或 "
        "给 为 在 到 把 被 让 啥 咋 多久 需要什么"
    ).split()
)
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)

# Everyday short forms → the official words the catalogue uses (applied to queries only).
SYNONYMS = {
    "社保卡": "社会保障卡",
    "社保": "社会保险",
    "医保": "医疗保障 医疗保险",
    "公积金": "住房公积金",
    "驾照": "驾驶证",
    "执照": "营业执照",
    "户口": "户籍 户口",
    "低保": "最低生活保障",
    "失业金": "失业保险金",
    "生孩子": "出生",
    "生娃": "出生",
    "新生儿": "出生",
    "买房": "不动产 房屋",
    "卖房": "不动产 转移登记",
    "过户": "转移登记",
    "开店": "个体工商户 经营许可",
    "开公司": "公司设立",
    "注册公司": "公司设立",
    "退休": "养老保险 退休",
}


def _words(text: str) -> list[str]:
    tokens = []
    for token in jieba.lcut_for_search(text.lower()):
        token = token.strip()
        if token and token not in STOP_WORDS and not _PUNCT.match(token):
            tokens.append(token)
    return tokens


def tokenize(text: str) -> list[str]:
    return _words(text)


def query_tokens(query: str) -> list[str]:
    """A citizen's question as search tokens, with short forms expanded to the official words."""
    tokens = _words(query)
    expanded = [token for word, official in SYNONYMS.items() if word in query for token in _words(official)]
    return tokens + expanded


@dataclass(frozen=True)
class Hit:
    kind: str  # "item" or "bundle"
    code: str
    name: str
    department: str
    score: float


@dataclass
class _Index:
    retriever: bm25s.BM25 | None
    docs: list[Hit]
    fingerprint: tuple


def _documents() -> list[tuple[Hit, str]]:
    docs = []
    items = ItemVersion.objects.filter(status=VersionStatus.PUBLISHED).select_related("item__department")
    for v in items.only(
        "name",
        "parent_name",
        "keywords",
        "item__code",
        "item__department__name",
        "item__department__short_name",
    ):
        department = v.item.department
        text = " ".join(
            [v.name] * 3 + [v.parent_name] + [v.keywords] * 2 + [department.name, department.short_name]
        )
        docs.append((Hit("item", v.item.code, v.name, department.short_name or department.name, 0.0), text))
    bundles = BundleVersion.objects.filter(status=VersionStatus.PUBLISHED).select_related(
        "bundle__lead_department"
    )
    for b in bundles:
        text = " ".join([b.name] * 3 + [b.keywords] * 2 + [b.description])
        department = b.bundle.lead_department
        docs.append(
            (Hit("bundle", b.bundle.code, b.name, department.short_name or department.name, 0.0), text)
        )
    return docs


def _fingerprint() -> tuple:
    items = ItemVersion.objects.filter(status=VersionStatus.PUBLISHED).aggregate(
        n=Count("id"), t=Max("published_at")
    )
    bundles = BundleVersion.objects.filter(status=VersionStatus.PUBLISHED).aggregate(
        n=Count("id"), t=Max("published_at")
    )
    return (items["n"], items["t"], bundles["n"], bundles["t"])


def _build(fingerprint: tuple) -> _Index:
    started = time.perf_counter()
    docs = _documents()
    if not docs:
        return _Index(None, [], fingerprint)
    retriever = bm25s.BM25()
    retriever.index([tokenize(text) or ["_"] for _hit, text in docs], show_progress=False)
    log.info("catalogue search index: %d documents in %.2fs", len(docs), time.perf_counter() - started)
    return _Index(retriever, [hit for hit, _text in docs], fingerprint)


_lock = threading.Lock()
_cached: tuple[_Index, float] | None = None


def _index() -> _Index:
    global _cached
    now = time.monotonic()
    cached = _cached
    if cached is not None and now - cached[1] < RECHECK_SECONDS:
        return cached[0]
    with _lock:
        fingerprint = _fingerprint()
        if _cached is not None and _cached[0].fingerprint == fingerprint:
            _cached = (_cached[0], now)
        else:
            _cached = (_build(fingerprint), now)
        return _cached[0]


def invalidate() -> None:
    global _cached
    with _lock:
        _cached = None


def search(query: str, limit: int = 10) -> list[Hit]:
    """Best matches first; nothing for a query with no meaningful word in it."""
    tokens = query_tokens(query or "")
    index = _index()
    if not tokens or index.retriever is None:
        return []
    k = min(limit, len(index.docs))
    ids, scores = index.retriever.retrieve([tokens], k=k, show_progress=False)
    hits = []
    for doc_id, score in zip(ids[0], scores[0], strict=True):
        if score <= 0:
            break
        hit = index.docs[int(doc_id)]
        hits.append(Hit(hit.kind, hit.code, hit.name, hit.department, round(float(score), 4)))
    return hits
