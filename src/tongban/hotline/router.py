"""The learned router: which first-level category a citizen's message belongs to, or "not sure".

Features are TF-IDF over character 1–3-grams and over jieba words (and word pairs) of the
*raw* text: the shared training file is already segmented with stop-words removed, so every text,
training or live, is first reduced to the same form (whitespace and punctuation dropped, full-width
folded) and segmented again by jieba here. A linear SVM decides; its scores become probabilities
by temperature scaling fitted on out-of-fold scores, and the router abstains — asks the operator —
when the best probability is under a threshold fixed at training time from the same out-of-fold
predictions, so that about `target_abstain` of messages are abstained on.

The model is one joblib file under var/hotline/ named by its version; `latest` points at the
newest. Only files this installation wrote are loaded (joblib is pickle: never load a file from
elsewhere).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

import numpy as np

TEXT_COLUMNS = ("留言文本", "分词文本", "留言详情", "text")
LABEL_COLUMNS = ("一级分类", "label")
_DROP = re.compile(r"[\s\u3000]+|[^\w]", re.UNICODE)
DEFAULT_TARGET_ABSTAIN = 0.10


# A message is routed on its first characters: the subject and the opening say what it is about,
# and a bound on the length bounds the time a suggestion takes (p99, not just the mean).
MAX_CHARS = 400


def prepare(text: str) -> str:
    return normalise(text)[:MAX_CHARS]


@functools.lru_cache(maxsize=8192)  # intake normalises a message for the router and for the duplicate check
def normalise(text: str) -> str:
    """Raw or segmented, a message becomes one run of characters: NFKC (full-width folded), no
    whitespace, no punctuation, lower case."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    return _DROP.sub("", text).lower()


@functools.lru_cache(maxsize=50_000)
def _segment(text: str) -> tuple[str, ...]:
    import jieba

    # Without the HMM for unknown words: four times faster, and the character n-grams already
    # cover words jieba's dictionary does not know.
    return tuple(w for w in jieba.lcut(text, HMM=False) if w.strip())


def _words(text: str) -> list[str]:
    """jieba's words of a normalised text (cached: cross-validation segments each text many times)."""
    return list(_segment(text))


def build_pipeline(c: float = 1.0):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.svm import LinearSVC

    features = FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2)),
            (
                "words",
                TfidfVectorizer(
                    tokenizer=_words,
                    token_pattern=None,
                    lowercase=False,
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    min_df=2,
                ),
            ),
        ]
    )
    return make_pipeline(features, LinearSVC(C=c, class_weight="balanced"))


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, y_index: np.ndarray) -> float:
    """The temperature that turns the SVM's scores into probabilities with the least log loss on
    out-of-fold predictions (temperature scaling: one parameter, the ranking unchanged)."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(y_index))

    def loss(log_t: float) -> float:
        return float(-np.log(softmax(scores, np.exp(log_t))[rows, y_index] + 1e-12).mean())

    return float(np.exp(minimize_scalar(loss, bounds=(np.log(0.05), np.log(20)), method="bounded").x))


@dataclass
class Suggestion:
    label: str | None  # None: the router abstains
    confidence: float
    ranked: list[tuple[str, float]] = field(default_factory=list)

    @property
    def abstained(self) -> bool:
        return self.label is None


@dataclass
class Router:
    pipeline: object
    threshold: float
    temperature: float
    version: int
    trained_at: str
    rows: int
    sources: list[str]
    classes: list[str]
    cv: dict = field(default_factory=dict)

    def suggest(self, text: str) -> Suggestion:
        """One message, the operator console's case: the fast path (see `scores_one`)."""
        return self._suggestion(softmax(self.scores_one(text)[None, :], self.temperature)[0])

    def scores_one(self, text: str) -> np.ndarray:
        """The SVM's scores for one message, computed as the pipeline would (same analyzers, same
        sublinear TF, IDF and l2 norm per feature block, same coefficients) without its per-call
        validation and sparse-matrix building, which cost more than the arithmetic for one text."""
        fast = self.__dict__.get("_fast")
        if fast is None:
            fast = self.__dict__["_fast"] = _FastPath(self.pipeline)
        return fast.scores(prepare(text))

    def _suggestion(self, row: np.ndarray) -> Suggestion:
        order = np.argsort(row)[::-1]
        best = float(row[order[0]])
        ranked = [(self.classes[i], float(row[i])) for i in order[:3]]
        return Suggestion(self.classes[order[0]] if best >= self.threshold else None, best, ranked)

    def suggest_many(self, texts: Sequence[str]) -> list[Suggestion]:
        scores = self.pipeline.decision_function([prepare(t) for t in texts])
        if scores.ndim == 1:  # two classes: one score for the second
            scores = np.column_stack([-scores, scores])
        return [self._suggestion(row) for row in softmax(scores, self.temperature)]

    def meta(self) -> dict:
        return {
            "version": self.version,
            "trained_at": self.trained_at,
            "rows": self.rows,
            "sources": self.sources,
            "classes": self.classes,
            "threshold": self.threshold,
            "temperature": self.temperature,
            "cv": self.cv,
        }


class _FastPath:
    """The fitted pipeline's arithmetic for a single text (Router.scores_one)."""

    def __init__(self, pipeline):
        union, svm = pipeline.steps[0][1], pipeline.steps[-1][1]
        self.blocks = []
        offset = 0
        for _name, vectorizer in union.transformer_list:
            self.blocks.append((vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, offset))
            offset += len(vectorizer.vocabulary_)
        coef = np.asarray(svm.coef_)
        if coef.shape[0] == 1:  # two classes: one score, for the second
            coef = np.vstack([-coef, coef])
            intercept = np.array([-svm.intercept_[0], svm.intercept_[0]])
        else:
            intercept = np.asarray(svm.intercept_)
        self.coef = np.ascontiguousarray(coef.T)  # features × classes: rows are gathered per text
        self.intercept = intercept

    def scores(self, text: str) -> np.ndarray:
        total = self.intercept.copy()
        for analyzer, vocabulary, idf, offset in self.blocks:
            # Counted and looked up in C (Counter, map over dict.get): a message has about a
            # thousand n-grams, and a Python loop over them cost more than the rest of the call.
            counted = Counter(analyzer(text))
            if not counted:
                continue
            index = np.fromiter(map(vocabulary.get, counted, repeat(-1)), dtype=np.intp, count=len(counted))
            known = index >= 0
            if not known.any():
                continue
            index = index[known]
            counts = np.fromiter(counted.values(), dtype=np.float64, count=len(counted))[known]
            weight = (np.log(counts) + 1) * idf[index]
            weight /= np.sqrt(weight @ weight)
            total += weight @ self.coef[offset + index]
        return total


# --- reading labelled files ----------------------------------------------------------------------


class DataError(ValueError):
    """A training or evaluation file that cannot be read: the message says which and why."""


def _pick(columns: Iterable[str], wanted: str | None, defaults: Sequence[str], what: str, path: Path) -> str:
    columns = list(columns)
    if wanted:
        if wanted not in columns:
            raise DataError(f"{path.name}: no column {wanted!r} (columns: {', '.join(columns)})")
        return wanted
    for name in defaults:
        if name in columns:
            return name
    raise DataError(f"{path.name}: no {what} column; name it with --{what} (columns: {', '.join(columns)})")


def read_labelled(
    path: Path, *, text: str | None = None, label: str | None = None
) -> tuple[list[str], list[str]]:
    """Texts and labels from a CSV (UTF-8, with or without BOM) or XLSX file; rows missing either
    are skipped."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True).active
        rows = sheet.iter_rows(values_only=True)
        header = [str(h or "").strip() for h in next(rows, [])]
        records = [dict(zip(header, r, strict=False)) for r in rows]
    else:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in reader.fieldnames or []]
            records = [{k.strip(): v for k, v in r.items() if k} for r in reader]
    text_column = _pick(header, text, TEXT_COLUMNS, "text", path)
    label_column = _pick(header, label, LABEL_COLUMNS, "label", path)
    texts, labels = [], []
    for record in records:
        t, lab = str(record.get(text_column) or "").strip(), str(record.get(label_column) or "").strip()
        if t and lab:
            texts.append(t)
            labels.append(lab)
    if not texts:
        raise DataError(f"{path.name}: no rows with both {text_column!r} and {label_column!r}")
    return texts, labels


# --- training, saving, loading -------------------------------------------------------------------


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    sources: Sequence[str] = (),
    target_abstain: float = DEFAULT_TARGET_ABSTAIN,
    c: float = 1.0,
    folds: int = 5,
    seed: int = 13,
) -> Router:
    """Fit the router on all rows; the abstention threshold and the cross-validated figures come
    from out-of-fold predictions (`folds` folds, stratified)."""
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    x = [prepare(t) for t in texts]
    y = np.array(labels)
    classes = np.unique(y)
    cv: dict = {}
    threshold, temperature = 0.0, 1.0
    if folds >= 2 and len(classes) > 1 and np.min(np.unique(y, return_counts=True)[1]) >= folds:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        scores = cross_val_predict(build_pipeline(c), x, y, cv=splitter, method="decision_function")
        if scores.ndim == 1:
            scores = np.column_stack([-scores, scores])
        y_index = np.searchsorted(classes, y)
        temperature = fit_temperature(scores, y_index)
        probabilities = softmax(scores, temperature)
        predicted = classes[probabilities.argmax(axis=1)]
        best = probabilities.max(axis=1)
        threshold = float(np.quantile(best, target_abstain)) if target_abstain > 0 else 0.0
        kept = best >= threshold
        cv = {
            "folds": folds,
            "macro_f1": round(float(f1_score(y, predicted, average="macro")), 4),
            "accuracy": round(float(accuracy_score(y, predicted)), 4),
            "abstained": round(float(1 - kept.mean()), 4),
            "confident_macro_f1": round(float(f1_score(y[kept], predicted[kept], average="macro")), 4),
        }
    pipeline = build_pipeline(c)
    pipeline.fit(x, y)
    return Router(
        pipeline=pipeline,
        threshold=threshold,
        temperature=temperature,
        version=0,
        trained_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        rows=len(x),
        sources=list(sources),
        classes=[str(c_) for c_ in pipeline.classes_],
        cv=cv,
    )


def model_dir() -> Path:
    from django.conf import settings

    return Path(settings.VAR_DIR) / "hotline"


def save(router: Router, directory: Path | None = None) -> Path:
    """Write the model as the next version; `latest.json` names it."""
    import joblib
    import sklearn

    directory = directory or model_dir()
    directory.mkdir(parents=True, exist_ok=True)
    versions = [
        int(m.group(1))
        for p in directory.glob("router-v*.joblib")
        if (m := re.match(r"router-v(\d+)", p.stem))
    ]
    router.version = max(versions, default=0) + 1
    path = directory / f"router-v{router.version}.joblib"
    joblib.dump({"router": router, "sklearn": sklearn.__version__}, path, compress=3)
    meta = router.meta() | {"file": path.name, "sklearn": sklearn.__version__}
    (directory / "latest.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


_loaded: dict[str, Router] = {}


def load(path: Path | None = None) -> Router | None:
    """The latest model (cached per file), or None when none was trained or it was trained by
    another scikit-learn version (retrain: `tongban hotline train`)."""
    import joblib
    import sklearn

    if path is None:
        latest = model_dir() / "latest.json"
        if not latest.exists():
            return None
        path = model_dir() / json.loads(latest.read_text(encoding="utf-8"))["file"]
    key = str(path)
    if key in _loaded:
        return _loaded[key]
    if not Path(path).exists():
        return None
    stored = joblib.load(path)
    if stored.get("sklearn") != sklearn.__version__:
        return None
    _loaded[key] = stored["router"]
    return _loaded[key]


# --- evaluation ----------------------------------------------------------------------------------


@dataclass
class Evaluation:
    n: int
    macro_f1: float
    accuracy: float
    abstained: float
    confident_macro_f1: float
    per_class: list[tuple[str, float, float, float, int]]

    def eval_line(self) -> str:
        return (
            f"EVAL hotline_routing macro_f1={self.macro_f1:.4f} accuracy={self.accuracy:.4f} n={self.n} "
            f"abstained={self.abstained:.4f} confident_macro_f1={self.confident_macro_f1:.4f}"
        )


def evaluate(router: Router, texts: Sequence[str], labels: Sequence[str]) -> Evaluation:
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    suggestions = router.suggest_many(texts)
    y = np.array(labels)
    predicted = np.array([s.ranked[0][0] for s in suggestions])
    kept = np.array([not s.abstained for s in suggestions])
    classes = sorted(set(labels) | set(predicted))
    p, r, f, support = precision_recall_fscore_support(y, predicted, labels=classes, zero_division=0)
    confident = (
        float(f1_score(y[kept], predicted[kept], average="macro", zero_division=0)) if kept.any() else 0.0
    )
    return Evaluation(
        n=len(y),
        macro_f1=float(f1_score(y, predicted, average="macro", labels=sorted(set(labels)), zero_division=0)),
        accuracy=float(accuracy_score(y, predicted)),
        abstained=float(1 - kept.mean()),
        confident_macro_f1=confident,
        per_class=[
            (c, float(p[i]), float(r[i]), float(f[i]), int(support[i])) for i, c in enumerate(classes)
        ],
    )
