"""The guide assistant (智能导办): a citizen's question → the catalogue items that answer it.

`ask` reads a question in everyday Chinese or English and returns one of three outcomes:

- answered: the best items, best first, each with a card (what, who, where, materials, limits, fee);
- clarify: the question fits two different services (营业执照 as 个体工商户 or as 公司); the items
  are still ranked, and one question with its options is put back to the citizen;
- declined: nothing in the catalogue fits well enough; the citizen is offered a person
  (`hand_off` turns the question into a 咨询 work order in the 12345 hotline).

How a question is read (see lexicon.py for the tables):
1. Everyday phrases and English words add the catalogue's official terms ("concepts").
2. The words and their expansions are scored against the index (index.py: field-weighted BM25).
3. Lifecycle: an item whose name says 注销/变更/延续/补办 is pushed down unless the question asks for
   that stage; a question that asks for one pushes the first-application items down instead.
4. Clicks: items citizens chose for questions with the same words move up, by at most CLICK_BOOST.
5. Coverage decides declining: the share of the question's concepts (weighted by rarity) the best
   item contains. A question about the weather shares no concept with any item and is declined;
   "办证" alone shares only words every item has, and is declined too.
"""

import dataclasses
import re
import time
from dataclasses import dataclass, field

import numpy as np
from django.utils.translation import gettext_lazy as _
from scipy import sparse

from tongban.accounts.models import ServiceCentre
from tongban.catalog.models import ItemType, OnlineLevel, ServiceItem
from tongban.core.errors import FieldErrors, InvalidInput, NotAuthenticated, NotPermitted
from tongban.core.uow import use_case

from . import index as idx
from .lexicon import CLARIFY, COLLOQUIAL, ENGLISH, STAGE_ASKED, Clarification
from .models import Click

QUESTION_MAX = 300
CANDIDATES = 50
# Tuned on the dev split of tests/guide/questions.csv only (see `tongban guide evaluate`).
MIN_COVERAGE = 0.25
MIN_SCORE = 10.0
STAGE_PENALTY = 0.55  # an item of another lifecycle stage than the question asks for
NEW_WHEN_STAGE_ASKED = 0.8  # a first-application item when the question asks for a later stage
STAGE_BONUS = 1.25  # an item of the stage the question asks for
COVERAGE_FLOOR = 0.5  # the score an item keeps when it covers none of the question's concepts
UNKNOWN_WEIGHT = 0.6  # a word the catalogue never uses, relative to the rarest word it does use
CLICK_BOOST = 0.5  # at most +50 % for an item every earlier asker with these words chose
CLICK_PRIOR = 5  # clicks that count as "nobody chose yet" (smoothing for few clicks)


class Outcome:
    ANSWERED = "answered"
    CLARIFY = "clarify"
    DECLINED = "declined"


@dataclass(frozen=True)
class Hit:
    code: str
    name: str
    score: float
    coverage: float


@dataclass
class Reading:
    """How the assistant read a question: its concepts (weight, terms) and the stages it asks for."""

    terms: dict[str, float]  # term → query weight
    concepts: list[tuple[float, frozenset[str]]]
    stages: set[str]
    text: str


@dataclass
class Answer:
    question: str
    outcome: str
    hits: list[Hit] = field(default_factory=list)
    clarification: Clarification | None = None
    elapsed_ms: float = 0.0

    @property
    def codes(self) -> list[str]:
        return [] if self.outcome == Outcome.DECLINED else [h.code for h in self.hits]


def _normalise(question) -> str:
    text = re.sub(r"\s+", " ", str(question or "")).strip()
    return text


def check_question(question) -> str:
    errors = FieldErrors()
    text = errors.require_text("question", _normalise(question), max_length=QUESTION_MAX)
    errors.raise_if_any()
    return text


def _by_first_char(phrases) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for phrase in sorted(phrases, key=len, reverse=True):
        table.setdefault(phrase[0], []).append(phrase)
    return table


_COLLOQUIAL_FIRST = _by_first_char(COLLOQUIAL)
_ENGLISH_FIRST = _by_first_char(ENGLISH)


def _phrases(text: str, table: dict[str, list[str]], *, latin: bool) -> list[tuple[str, tuple[int, int]]]:
    """Phrases found in the text, longest first wherever they are (养老金 beats the 领养 that
    overlaps it in 领养老金), never two overlapping; English ones only as whole words."""
    found = []
    for i, ch in enumerate(text):
        for phrase in table.get(ch, ()):
            end = i + len(phrase)
            if text.startswith(phrase, i):
                if latin and ((i and text[i - 1].isalpha()) or (end < len(text) and text[end].isalpha())):
                    continue
                found.append((phrase, (i, end)))
    found.sort(key=lambda f: (-(f[1][1] - f[1][0]), f[1][0]))
    taken = [False] * (len(text) + 1)
    chosen = []
    for phrase, (a, b) in found:
        if not any(taken[a:b]):
            for k in range(a, b):
                taken[k] = True
            chosen.append((phrase, (a, b)))
    return chosen


def read(question: str, index: idx.Index) -> Reading:
    text = _normalise(question).lower()
    terms: dict[str, float] = {}
    concepts: list[tuple[float, frozenset[str]]] = []
    max_idf = float(index.idf.max()) if len(index.idf) else 1.0

    def idf(term: str) -> float:
        i = index.vocab.get(term)
        return float(index.idf[i]) if i is not None else max_idf

    spans = []
    for table, first, latin in ((COLLOQUIAL, _COLLOQUIAL_FIRST, False), (ENGLISH, _ENGLISH_FIRST, True)):
        for phrase, span in _phrases(text, first, latin=latin):
            spans.append(span)
            known = [t for t in idx.words(table[phrase]) if t in index.vocab]
            for t in known:
                terms[t] = max(terms.get(t, 0.0), 1.0)
            if known:
                concepts.append((float(np.mean([idf(t) for t in known])), frozenset(known)))

    def inside_span(token: str) -> bool:
        # A word that overlaps an everyday phrase is that phrase's business (its expansion stands
        # for it), whole or cut differently by the segmenter.
        for m in re.finditer(re.escape(token), text):
            if any(m.start() < b and a < m.end() for a, b in spans):
                return True
        return False

    for token in dict.fromkeys(idx.words(text)):
        if token.isdigit() or inside_span(token):
            continue
        if token.isascii():
            # An English word the glossary does not know cannot match the Chinese catalogue, but it
            # still carries meaning the answer must cover ("weather"), so it counts against coverage.
            concepts.append((max_idf * 0.5, frozenset()))
            continue
        terms[token] = max(terms.get(token, 0.0), 1.0)
        if len(token) > 1:  # one character (开, 证, 装) says too little to judge coverage by
            weight = idf(token) if token in index.vocab else max_idf * UNKNOWN_WEIGHT
            concepts.append((weight, frozenset([token])))
    for gram in idx.bigrams(text):
        if gram in index.vocab:
            terms[gram] = max(terms.get(gram, 0.0), 1.0)
    stages = {stage for stage, marks in STAGE_ASKED.items() if any(m in text for m in marks)}
    return Reading(terms, concepts, stages, text)


def _rank(reading: Reading, index: idx.Index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate rows (best first), their scores and coverage."""
    known = [(index.vocab[t], w) for t, w in reading.terms.items() if t in index.vocab]
    if not known or not index.docs:
        return np.array([], dtype=int), np.array([]), np.array([])
    q = np.zeros(index.matrix.shape[1])
    for col, w in known:
        q[col] = w
    scores = index.matrix @ q
    top = np.argsort(-scores)[:CANDIDATES]
    top = top[scores[top] > 0]
    adjusted = scores[top].copy()
    for i, row in enumerate(top):
        stages = index.docs[row].stages
        if reading.stages:
            if stages & reading.stages:
                adjusted[i] *= STAGE_BONUS
            else:
                adjusted[i] *= STAGE_PENALTY if stages else NEW_WHEN_STAGE_ASKED
        elif stages:
            adjusted[i] *= STAGE_PENALTY
    coverage = _coverage(reading, index, top)
    # An item that answers more of the question beats one that matches a single word very well.
    adjusted *= COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * coverage
    if index.clicks:
        adjusted *= 1 + CLICK_BOOST * _click_share(reading, index, top)
    order = np.argsort(-adjusted, kind="stable")
    return top[order], adjusted[order], coverage[order]


def _click_share(reading: Reading, index: idx.Index, rows: np.ndarray) -> np.ndarray:
    shares = np.zeros(len(rows))
    counted = 0
    for term in reading.terms:
        clicks = index.clicks.get(term)
        if not clicks:
            continue
        counted += 1
        total = sum(clicks.values()) + CLICK_PRIOR
        for i, row in enumerate(rows):
            shares[i] += clicks.get(index.docs[row].code, 0) / total
    return shares / counted if counted else shares


def _coverage(reading: Reading, index: idx.Index, rows: np.ndarray) -> np.ndarray:
    total = sum(w for w, _terms in reading.concepts)
    if not total or not len(rows):
        return np.zeros(len(rows))
    # terms × concepts: 1 where the term stands for the concept; one product says, per item,
    # which concepts it contains.
    cells = [
        (index.vocab[t], j)
        for j, (_w, terms) in enumerate(reading.concepts)
        for t in terms
        if t in index.vocab
    ]
    if not cells:
        return np.zeros(len(rows))
    term_rows, concept_cols = zip(*cells, strict=True)
    concepts = sparse.csr_matrix(
        (np.ones(len(cells)), (term_rows, concept_cols)),
        shape=(index.matrix.shape[1], len(reading.concepts)),
    )
    contains = (index.presence[rows] @ concepts).toarray() > 0
    weights = np.array([w for w, _terms in reading.concepts])
    return contains @ weights / total


def _clarification_for(text: str) -> Clarification | None:
    text = text.lower()
    for c in CLARIFY:
        if any(t in text for t in c.triggers) and not any(s in text for s in c.settled_by):
            return c
    return None


def _hits(index: idx.Index, reading: Reading, limit: int) -> list[Hit]:
    rows, scores, coverage = _rank(reading, index)
    return [
        Hit(index.docs[r].code, index.docs[r].name, round(float(s), 4), round(float(c), 3))
        for r, s, c in zip(rows[:limit], scores[:limit], coverage[:limit], strict=True)
    ]


def ask(question, *, limit: int = 5) -> Answer:
    """Answer a citizen's question from the published catalogue. Reads only; nothing is recorded."""
    started = time.perf_counter()
    text = check_question(question)
    index = idx.current()
    hits = _hits(index, read(text, index), limit)
    clarification = None
    if not hits or hits[0].coverage < MIN_COVERAGE or hits[0].score < MIN_SCORE:
        outcome = Outcome.DECLINED
    else:
        outcome = Outcome.ANSWERED
        clarification = _clarification_for(text)
        if clarification is not None:
            # Each reading's best item comes first, in the options' order, then the rest: the
            # citizen sees both services while choosing, and a choice puts its own first.
            firsts: list[Hit] = []
            for *_labels, words, marker in clarification.options:
                reading = read(f"{text} {words}", index)
                best = [h for h in _hits(index, reading, 20) if marker in h.name][:1]
                if best and best[0].code not in {h.code for h in firsts}:
                    firsts.append(best[0])
            if len(firsts) > 1:
                outcome = Outcome.CLARIFY
                taken = {h.code for h in firsts}
                hits = (firsts + [h for h in hits if h.code not in taken])[:limit]
            else:
                clarification = None
    return Answer(text, outcome, hits, clarification, (time.perf_counter() - started) * 1000)


def refine(question, option) -> str:
    """The question with a clarification's chosen option added (the citizen's answer to it)."""
    text = check_question(question)
    c = _clarification_for(text)
    if c is None:
        raise InvalidInput.single("option", "choice", _("This question needs no clarification."))
    try:
        option = int(option)
    except (TypeError, ValueError):
        option = -1
    if not 0 <= option < len(c.options):
        raise InvalidInput.single("option", "choice", _("Choose one of the allowed values."))
    return f"{text} {c.options[option][2]}"


# --- cards ---------------------------------------------------------------------------------------


Card = idx.Card


def cards(codes: list[str]) -> list[Card]:
    """The answer cards of published items, in the order given (unknown codes are left out), with
    the type and online level in the page's language. Read from the index: no database query."""
    snapshot = idx.current().cards
    out = []
    for code in codes:
        card = snapshot.get(code)
        if card is not None:
            out.append(
                dataclasses.replace(
                    card,
                    item_type=str(ItemType(card.item_type).label),
                    online_level=str(OnlineLevel(card.online_level).label),
                )
            )
    return out


# --- clicks and hand-off -------------------------------------------------------------------------


def anonymised_terms(question: str, index: idx.Index) -> str:
    """The question's words that are catalogue vocabulary (no digits): what a click may keep."""
    reading = read(question, index)
    terms = [
        t
        for t in reading.terms
        if t in index.vocab and not t.startswith("#") and not any(ch.isdigit() for ch in t)
    ]
    out, length = [], 0
    for t in sorted(terms):
        if length + len(t) + 1 > 400:
            break
        out.append(t)
        length += len(t) + 1
    return " ".join(out)


@use_case("guide.record_click", object_type="guide_click")
def record_click(actor, *, question, code, position=1, action="guide") -> Click:
    """A citizen chose an answer (read its guide or applied). Anyone may click; nothing personal is kept."""
    errors = FieldErrors()
    text = errors.require_text("question", _normalise(question), max_length=QUESTION_MAX)
    code = str(code or "").strip()
    if not code:
        errors.add("code", "required", _("This field is required."))
    elif not ServiceItem.objects.filter(code=code, current__isnull=False).exists():
        errors.add("code", "unknown", _("No published item has this code."))
    try:
        position = int(position)
        if not 1 <= position <= 50:
            raise ValueError
    except (TypeError, ValueError):
        errors.add("position", "range", _("Give a whole number from 1 to 50."))
    if action not in ("guide", "apply"):
        errors.add("action", "choice", _("Choose one of the allowed values."))
    errors.raise_if_any()
    terms = anonymised_terms(text, idx.current())
    return Click.objects.create(terms=terms, item_code=code, position=position, action=action)


def hand_off(actor, *, question, phone: str = "", address: str = ""):
    """Hand a question the assistant could not answer to a person: a 咨询 order in the 12345 hotline,
    filed by the citizen on the portal (the hotline's own service checks and records it)."""
    from tongban.hotline import services as hotline
    from tongban.hotline.models import Channel, OrderType

    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAuthenticated()
    if not getattr(actor, "is_citizen", False):
        raise NotPermitted()  # staff take calls in the hotline console, not through the assistant
    text = check_question(question)
    centre = ServiceCentre.objects.select_related("region").order_by("code").first()
    return hotline.create_order(
        actor,
        channel=Channel.PORTAL,
        order_type=OrderType.CONSULTATION,
        text=f"【智能导办转人工】{text}",
        phone=phone,
        address=address,
        region_code=centre.region.code if centre and not address else "",
    )


# --- evaluation ----------------------------------------------------------------------------------


@dataclass
class Score:
    n: int = 0
    answerable: int = 0
    hit1: int = 0
    hit3: int = 0
    unanswerable: int = 0
    declined_unanswerable: int = 0
    declined_answerable: int = 0

    def line(self, label: str = "") -> str:
        def share(a, b):
            return f"{a / b:.3f}" if b else "-"

        name = f"guide{('_' + label) if label else ''}"
        return (
            f"EVAL {name} hit1={share(self.hit1, self.answerable)} hit3={share(self.hit3, self.answerable)} "
            f"declined_unanswerable={share(self.declined_unanswerable, self.unanswerable)} n={self.n}"
            f" false_declined={share(self.declined_answerable, self.answerable)}"
        )


def evaluate(rows: list[dict]) -> dict[str, Score]:
    """hit@1 and hit@3 over answerable questions (a declined one counts as a miss), and the share of
    unanswerable questions declined; per split and overall."""
    scores: dict[str, Score] = {"all": Score()}
    for row in rows:
        expected = {c for c in (row.get("expected_codes") or "").split("|") if c}
        answer = ask(row["question"])
        codes = answer.codes
        keys = ["all"] + ([row["split"]] if row.get("split") else [])
        for key in keys:
            s = scores.setdefault(key, Score())
            s.n += 1
            if expected:
                s.answerable += 1
                s.hit1 += bool(codes[:1] and codes[0] in expected)
                s.hit3 += bool(expected & set(codes[:3]))
                s.declined_answerable += answer.outcome == Outcome.DECLINED
            else:
                s.unanswerable += 1
                s.declined_unanswerable += answer.outcome == Outcome.DECLINED
    return scores
