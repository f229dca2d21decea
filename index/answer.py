"""Answering: quote the sentences that best answer a question, or refuse plainly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from index.disagree import Quoted, find_disagreements, shared_subject
from index.errors import InvalidQuestionError
from index.excerpts import carries_answer, overlap, profile
from index.models import Answer, Article, Citation, Excerpt, Hit, Suggestion
from index.plain import plain_line
from index.registry import Registry, SentenceRow
from index.retrieve import Retriever, is_timely
from index.settings import Settings

# Sentence ranking = cosine similarity + these bonuses. Tuned on both development sets together
# (docs/quality.md): word overlap with the question, holding the kind of answer asked for (a new
# name, a figure, a date), and coming from a higher-ranked chunk.
W_OVERLAP = 0.2
W_ANSWER_TYPE = 0.3
W_CHUNK_RANK = 0.1
# News puts the facts first (the inverted pyramid): a story's first LEAD_SENTENCES quotable
# sentences get a bonus, and long sentences a small penalty, since they crowd the budget.
W_LEAD = 0.2
LEAD_SENTENCES = 5
W_LENGTH = 0.03  # per 300 characters
# A supporting excerpt must be at least this similar to the question, so answers are not padded.
_SUPPORT_FLOOR = 0.35
# Evidence from a story counts this much less per year of its age at the asking date (capped),
# so a years-old story answers only when it matches closely (docs/quality.md).
AGE_PENALTY_PER_YEAR = 0.05
AGE_PENALTY_MAX = 0.15
# A question about the present answered only by stories older than this gets a note saying so.
STALE_AFTER_DAYS = 30
# Evidence that the stories cover a question = the best sentence's cosine similarity plus this
# much of its word overlap; compared with NEWSBOT_REFUSAL_THRESHOLD (docs/quality.md).
W_EVIDENCE_OVERLAP = 0.3
# Sentence vectors this similar say the same thing twice.
_DUPLICATE_SIMILARITY = 0.92


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A quotable span with its score and the story it comes from."""

    text: str
    article_id: str
    score: float  # the ranking score: similarity plus the bonuses below
    similarity: float  # cosine similarity to the question
    evidence: float  # how strongly this sentence says the stories cover the question
    vector: np.ndarray | None


def clean_question(question: str, max_chars: int) -> str:
    """Return the question with control characters removed; raise if empty or too long."""
    if len(question or "") > 10 * max_chars:  # far too long: say so before any work on it
        raise InvalidQuestionError(
            f"That question is {len(question)} characters long; please keep it under {max_chars}."
        )
    text = plain_line(question or "")
    if not text:
        raise InvalidQuestionError("Please ask a question: the text was empty.")
    if not any(ch.isalnum() for ch in text):  # e.g. only zero-width characters or "???"
        raise InvalidQuestionError("Please ask a question in words: it had no letters or digits.")
    if len(text) > max_chars:
        raise InvalidQuestionError(
            f"That question is {len(text)} characters long; please keep it under {max_chars}."
        )
    return text


def is_quotable(sentence: str) -> bool:
    """Return True for sentences worth quoting: not headings, bullets' stubs or fragments."""
    words = sentence.split()
    if len(words) < 5 or not any(ch.isalpha() for ch in sentence):
        return False
    return sentence.rstrip("\"”’')]").endswith((".", "!", "?", "…")) or len(words) >= 12


class Answerer:
    """Builds extractive answers from retrieved chunks."""

    def __init__(self, registry: Registry, retriever: Retriever, settings: Settings) -> None:
        self._registry = registry
        self._retriever = retriever
        self._settings = settings

    def answer(
        self,
        question: str,
        *,
        today: date | None = None,
        libraries: Sequence[int] | None = None,
    ) -> Answer:
        """Answer from the libraries' stories (None: all) with up to `max_excerpts` verbatim
        excerpts and numbered sources, or refuse."""
        s = self._settings
        question = clean_question(question, s.max_question_chars)
        qvec = self._retriever.embed_question(question)
        hits = self._retriever.search(
            question, s.top_k, vector=qvec, today=today, libraries=libraries
        )
        if not hits:
            return Answer(question=question, refused=True)
        rows = self._registry.sentences_for([h.chunk_id for h in hits])
        key_answer, key_score = self._key_question_match(hits, rows, qvec)
        candidates = [
            replace(c, evidence=c.evidence - self._age_penalty(c.article_id, today))
            for c in _score_sentences(question, hits, rows, qvec)
        ]
        best = max([key_score] + [c.evidence for c in candidates])
        if best < s.refusal_threshold:
            return self._refusal(question, hits, best)
        chosen = _select(
            ([key_answer] if key_answer else []) + candidates,
            floor=_SUPPORT_FLOOR,
            max_excerpts=s.max_excerpts,
            budget=s.answer_chars,
            date_of=lambda aid: self._retriever.article_date(aid) or date.min,
        )
        answer = self._compose(question, self._newer_first(chosen), best)
        return replace(answer, stale_days=_stale_days(answer, question, today))

    def _age_penalty(self, article_id: str, today: date | None) -> float:
        """Return how much an old story's evidence is discounted (older needs a closer match)."""
        published = self._retriever.article_date(article_id)
        if today is None or published is None:
            return 0.0
        years = max(0, (today - published).days) / 365.25
        return min(AGE_PENALTY_MAX, AGE_PENALTY_PER_YEAR * years)

    def _newer_first(self, chosen: list[_Candidate]) -> list[_Candidate]:
        """Put an excerpt before any from an older story on the same subject."""
        dated = [(c, self._retriever.article_date(c.article_id) or date.min) for c in chosen]
        ordered: list[tuple[_Candidate, date]] = []
        for cand, when in dated:
            at = len(ordered)
            for i, (other, other_when) in enumerate(ordered):
                if when > other_when and shared_subject(cand.text, other.text):
                    at = i
                    break
            ordered.insert(at, (cand, when))
        return [c for c, _ in ordered]

    def _key_question_match(
        self, hits: list[Hit], rows: list[SentenceRow], qvec: np.ndarray
    ) -> tuple[_Candidate | None, float]:
        """Return a story's own Key Questions answer when its question matches closely."""
        questions = [r for r in rows if r.role == "kq_q"]
        if not questions:
            return None, 0.0
        sims = np.stack([r.vector for r in questions]).astype(np.float32) @ qvec
        i = int(np.argmax(sims))
        if sims[i] < self._settings.key_question_threshold:
            return None, 0.0
        hit = next(h for h in hits if h.chunk_id == questions[i].chunk_id)
        answer = hit.text.split("\n", 1)[-1]
        # A close match to the story's own question is strong evidence of an answer.
        score = float(sims[i])
        return _Candidate(answer, hit.article_id, score + 1.0, score, score, None), score

    def _compose(self, question: str, chosen: list[_Candidate], confidence: float) -> Answer:
        """Number the sources in order of first use and build the answer."""
        numbers: dict[str, int] = {}
        articles: dict[str, Article] = {}
        excerpts: list[Excerpt] = []
        for cand in chosen:
            article = articles.get(cand.article_id) or self._registry.get_article(cand.article_id)
            if article is None or cand.text not in article.text:
                continue  # never quote what the cited story does not contain verbatim
            if article.provenance.retracted:
                continue  # retrieval already drops them; a retraction made just now may not be
            articles[cand.article_id] = article
            n = numbers.setdefault(cand.article_id, len(numbers) + 1)
            excerpts.append(Excerpt(cand.text, n))
        if not excerpts:
            return Answer(question=question, refused=True, confidence=confidence)
        citations = tuple(
            Citation(
                n=n, article_id=aid, title=articles[aid].title, url=articles[aid].url,
                source=articles[aid].source, published=articles[aid].date,
                excerpts=tuple(e.text for e in excerpts if e.n == n),
                provenance=articles[aid].provenance,
            )
            for aid, n in numbers.items()
        )  # fmt: skip
        dates = {c.n: c.published for c in citations}
        disagreements = find_disagreements([Quoted(e.text, e.n, dates[e.n]) for e in excerpts])
        return Answer(
            question, False, tuple(excerpts), citations, confidence=confidence,
            disagreements=tuple(disagreements),
        )  # fmt: skip

    def _refusal(self, question: str, hits: list[Hit], confidence: float) -> Answer:
        """Refuse, suggesting up to three of the nearest stories."""
        suggestions: list[Suggestion] = []
        for hit in hits:
            if len(suggestions) == 3:
                break
            if any(s.article_id == hit.article_id for s in suggestions):
                continue
            article = self._registry.get_article(hit.article_id)
            if article and not article.provenance.retracted:
                suggestions.append(Suggestion(article.id, article.title, article.url, article.date))
        return Answer(question, True, suggestions=tuple(suggestions), confidence=confidence)


def _score_sentences(
    question: str, hits: list[Hit], rows: list[SentenceRow], qvec: np.ndarray
) -> list[_Candidate]:
    """Return quotable sentences of the hit chunks, best first, scored on several signals."""
    rank = {h.chunk_id: i for i, h in enumerate(hits)}
    article_of = {h.chunk_id: h.article_id for h in hits}
    usable = [r for r in rows if r.role != "kq_q" and is_quotable(r.text)]
    if not usable:
        return []
    vectors = np.stack([r.vector for r in usable]).astype(np.float32)
    sims = vectors @ qvec
    wanted = profile(question)
    overlaps = [overlap(wanted, r.text) for r in usable]
    leads = _lead_sentences(usable)
    scores = [
        float(sims[i])
        + W_OVERLAP * overlaps[i]
        + W_ANSWER_TYPE * carries_answer(wanted, r.text)
        + W_CHUNK_RANK / (1 + rank[r.chunk_id])
        + W_LEAD * ((r.chunk_id, r.idx) in leads)
        - W_LENGTH * len(r.text) / 300
        for i, r in enumerate(usable)
    ]
    order = sorted(range(len(usable)), key=lambda i: -scores[i])
    return [
        _Candidate(
            text=usable[i].text,
            article_id=article_of[usable[i].chunk_id],
            score=scores[i],
            similarity=float(sims[i]),
            evidence=float(sims[i]) + W_EVIDENCE_OVERLAP * overlaps[i],
            vector=vectors[i],
        )
        for i in order
    ]


def _stale_days(answer: Answer, question: str, today: date | None) -> int | None:
    """Return how old the newest cited story is when a question about now gets old news."""
    if answer.refused or today is None or answer.as_of is None or not is_timely(question):
        return None
    age = (today - answer.as_of).days
    return age if age > STALE_AFTER_DAYS else None


def _lead_sentences(rows: list[SentenceRow]) -> set[tuple[str, int]]:
    """Return (chunk id, index) of the first LEAD_SENTENCES body sentences of each story."""
    first_chunks = sorted(
        (r for r in rows if r.role == "body" and r.chunk_id.endswith(":0")),
        key=lambda r: (r.chunk_id, r.idx),
    )
    taken: dict[str, int] = {}
    leads = set()
    for r in first_chunks:
        if taken.get(r.chunk_id, 0) < LEAD_SENTENCES:
            taken[r.chunk_id] = taken.get(r.chunk_id, 0) + 1
            leads.add((r.chunk_id, r.idx))
    return leads


def _select(
    candidates: list[_Candidate],
    *,
    floor: float,
    max_excerpts: int,
    budget: int,
    date_of: Callable[[str], date],
) -> list[_Candidate]:
    """Pick the best distinct candidates that fit the character budget; of two that say the
    same thing, keep the one from the newer story."""
    chosen: list[_Candidate] = []
    for cand in candidates:
        if chosen and cand.similarity < floor:
            continue
        dup = _duplicate_of(cand, chosen)
        if dup is not None:
            if date_of(cand.article_id) > date_of(chosen[dup].article_id):
                room = budget - sum(len(c.text) for c in chosen) + len(chosen[dup].text)
                if len(cand.text) <= room:
                    chosen[dup] = cand
            continue
        if len(chosen) == max_excerpts:
            continue  # later candidates may still replace an older duplicate
        used = sum(len(c.text) for c in chosen)
        text = cand.text if len(cand.text) <= budget - used else _cut(cand.text, budget - used)
        if text:
            chosen.append(replace(cand, text=text))
    return chosen


def _duplicate_of(cand: _Candidate, chosen: list[_Candidate]) -> int | None:
    """Return the index of the chosen excerpt a candidate repeats, or None."""
    for i, other in enumerate(chosen):
        if cand.text in other.text or other.text in cand.text:
            return i
        both = cand.vector is not None and other.vector is not None
        if both and float(cand.vector @ other.vector) > _DUPLICATE_SIMILARITY:  # type: ignore[operator]
            return i
    return None


def _cut(text: str, limit: int) -> str:
    """Return a verbatim prefix of text of at most `limit` chars, ending at a word boundary."""
    if limit < 80:
        return ""  # too little room left for a meaningful excerpt
    prefix = text[:limit]
    space = prefix.rfind(" ")
    return prefix[:space].rstrip(",;:") if space > 0 else prefix
