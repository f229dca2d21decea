"""Answering: quote the sentences that best answer a question, or refuse plainly."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from index.aliases import Aliases
from index.conversation import FollowUp, speaks_of, thread_first
from index.disagree import Quoted, find_disagreements, shared_subject
from index.errors import InvalidQuestionError
from index.excerpts import profile
from index.models import Answer, Article, Citation, Excerpt, Hit, Suggestion
from index.plain import plain_line
from index.rank import (
    FEATURES,
    Candidate,
    Context,
    RankerModel,
    answer_spans,
    asks_for_several,
    feature_matrix,
    lead_sentences,
    list_first,
    load_model,
    passes_later,
    select,
    widen_first,
)
from index.registry import Registry, SentenceRow
from index.retrieve import Retriever, is_timely
from index.settings import Settings

# Evidence from a story counts this much less per year of its age at the asking date (capped),
# so a years-old story answers only when it matches closely (docs/quality.md).
AGE_PENALTY_PER_YEAR = 0.05
AGE_PENALTY_MAX = 0.15
# Sentences come from the top_k retrieved chunks and from up to EXTRA_CHUNKS more of the next
# top_k, EXTRA_PER_STORY per story, from stories the top_k left out: a long story on a subject
# used to fill every slot, so a second story holding the answer was never read.
EXTRA_CHUNKS = 4
EXTRA_PER_STORY = 2
# An undated story counts as this old, as retrieval's recency prior treats it (one half-life):
# not as new, which would make every undated story outrank dated ones.
UNDATED_AGE_DAYS = 90
# A question about the present answered only by stories older than this gets a note saying so.
STALE_AFTER_DAYS = 30
# Evidence that the stories cover a question = the best sentence's cosine similarity plus this
# much of its word overlap; compared with NEWSBOT_REFUSAL_THRESHOLD (docs/quality.md).
W_EVIDENCE_OVERLAP = 0.3


@dataclass(frozen=True, slots=True)
class SentenceTable:
    """One question's candidate sentences with their ranker features (for training)."""

    texts: list[str]
    article_ids: list[str]
    features: np.ndarray


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
        self._model: RankerModel | None = None  # read on first use: training needs none
        self._aliases = Aliases(registry)

    @property
    def _ranker(self) -> RankerModel:
        """Return the learned sentence ranker, reading its file once."""
        if self._model is None:
            self._model = load_model(self._settings.ranker_model)
        return self._model

    def answer(
        self,
        question: str,
        *,
        today: date | None = None,
        libraries: Sequence[int] | None = None,
        follow_up: FollowUp | None = None,
    ) -> Answer:
        """Answer from the libraries' stories (None: all) with up to `max_excerpts` verbatim
        excerpts and numbered sources, or refuse; a thread's follow-up retrieves with its
        context (index/conversation.py)."""
        s = self._settings
        question = clean_question(question, s.max_question_chars)
        asked, qvec, hits, prior = self._retrieve(question, follow_up, today, libraries)
        if not hits:
            return Answer(question=question, refused=True)
        rows = self._registry.sentences_for([h.chunk_id for h in hits])
        key_answer, key_score = self._key_question_match(asked, hits, rows, qvec)
        feats = self._features(asked, hits, rows, qvec, today)
        candidates = list_first(question, self._candidates(hits, today, *feats))
        candidates = widen_first(thread_first(candidates, prior), self._story_text)
        best = max([key_score] + [c.evidence for c in candidates])
        if best < s.refusal_threshold:
            return self._refusal(question, hits, best)
        chosen = select(
            ([key_answer] if key_answer else []) + candidates,
            passes=self._passes,
            max_excerpts=s.max_excerpts,
            budget=s.answer_chars,
            date_of=lambda aid: self._retriever.article_date(aid) or date.min,
        )
        answer = replace(self._compose(asked, self._newer_first(chosen), best), question=question)
        return replace(answer, stale_days=_stale_days(answer, question, today))

    def _retrieve(
        self,
        question: str,
        follow_up: FollowUp | None,
        today: date | None,
        libraries: Sequence[int] | None,
    ) -> tuple[str, np.ndarray, list[Hit], frozenset[str]]:
        """Return the question as ranked, its vector, its hits and the thread's stories.

        A follow-up that refers back is retrieved with its thread's salient words, the stories
        the thread cited preferred (index/conversation.py); its sentences are ranked on the
        question as typed, so "Which companies?" still asks for companies.
        """
        # Asked as the stories name things ("the Facebook parent" -> "Meta").
        asked = self._aliases.rewrite(question) if self._settings.learned_aliases else question
        qvec = self._retriever.embed_question(asked)
        if follow_up is None or not follow_up.refers_back:
            return asked, qvec, self._hits(asked, qvec, today, libraries), frozenset()
        query = plain_line(follow_up.query)
        query = self._aliases.rewrite(query) if self._settings.learned_aliases else query
        # Only the thread's stories that speak of what the follow-up asks are preferred: "what
        # did nvidia sell?" after a thread about writers is not about the writers' story.
        texts = {aid: self._registry.get_article(aid) for aid in follow_up.prior}
        prior = frozenset(
            aid for aid, a in texts.items() if a is not None and speaks_of(a.text, question)
        )
        hits = self._hits(query, self._retriever.embed_question(query), today, libraries, prior)
        return asked, qvec, hits, prior

    def _passes(self, cand: Candidate, chosen: list[Candidate]) -> bool:
        """Return True when an excerpt after the first is quoted (index/rank/_later.py)."""
        return passes_later(self._ranker, cand, chosen)

    def _story_text(self, article_id: str) -> str | None:
        """Return a story's stored text (windows are cut from it), or None when it is gone."""
        article = self._registry.get_article(article_id)
        return article.text if article is not None else None

    def sentence_table(
        self, question: str, *, today: date | None = None, libraries: Sequence[int] | None = None
    ) -> SentenceTable:
        """Return the candidate sentences the ranker scores for a question, with features."""
        question = clean_question(question, self._settings.max_question_chars)
        if self._settings.learned_aliases:
            question = self._aliases.rewrite(question)
        qvec = self._retriever.embed_question(question)
        hits = self._hits(question, qvec, today, libraries)
        rows = self._registry.sentences_for([h.chunk_id for h in hits])
        usable, features, _ = self._features(question, hits, rows, qvec, today)
        article_of = {h.chunk_id: h.article_id for h in hits}
        return SentenceTable(
            [r.text for r in usable], [article_of[r.chunk_id] for r in usable], features
        )

    def _hits(
        self,
        question: str,
        qvec: np.ndarray,
        today: date | None,
        libraries: Sequence[int] | None = None,
        prior: Collection[str] = (),
    ) -> list[Hit]:
        """Return the libraries' top_k chunks, plus the best of stories the top_k left out."""
        k = self._settings.top_k
        hits = self._retriever.search(
            question, 2 * k, vector=qvec, today=today, libraries=libraries, prior=prior
        )
        kept = hits[:k]
        seen = {h.article_id for h in kept}
        extra: dict[str, int] = {}
        for hit in hits[k:]:
            if sum(extra.values()) == EXTRA_CHUNKS:
                break
            if hit.article_id not in seen and extra.get(hit.article_id, 0) < EXTRA_PER_STORY:
                extra[hit.article_id] = extra.get(hit.article_id, 0) + 1
                kept.append(hit)
        return kept

    def _features(
        self,
        question: str,
        hits: list[Hit],
        rows: list[SentenceRow],
        qvec: np.ndarray,
        today: date | None,
    ) -> tuple[list[SentenceRow], np.ndarray, np.ndarray]:
        """Return the quotable sentences, their feature matrix and their vectors."""
        usable = [r for r in rows if r.role != "kq_q" and is_quotable(r.text)]
        vectors = (
            np.stack([r.vector for r in usable]).astype(np.float32)
            if usable
            else np.zeros((0, len(qvec)), dtype=np.float32)
        )
        chunk_rank = {h.chunk_id: i for i, h in enumerate(hits)}
        stories = list(dict.fromkeys(h.article_id for h in hits))
        article_of = {h.chunk_id: h.article_id for h in hits}
        leads = lead_sentences(usable)
        ctx = Context(
            profile=profile(question),
            question=question,
            chunk_rank=[chunk_rank[r.chunk_id] for r in usable],
            story_rank=[stories.index(article_of[r.chunk_id]) for r in usable],
            lead=[(r.chunk_id, r.idx) in leads for r in usable],
            age_years=[self._age_years(article_of[r.chunk_id], today) for r in usable],
            place=[(r.chunk_id, r.idx) for r in usable],
        )
        return usable, feature_matrix([r.text for r in usable], vectors @ qvec, ctx), vectors

    def _candidates(
        self,
        hits: list[Hit],
        today: date | None,
        usable: list[SentenceRow],
        x: np.ndarray,
        vectors: np.ndarray,
    ) -> list[Candidate]:
        """Return the scored sentences as candidates, most likely to answer first."""
        if not usable:
            return []
        relevance = self._ranker.probabilities(x)
        article_of = {h.chunk_id: h.article_id for h in hits}
        col = {name: i for i, name in enumerate(FEATURES)}
        out = [
            Candidate(
                text=r.text,
                article_id=article_of[r.chunk_id],
                relevance=float(relevance[i]),
                similarity=float(x[i, col["similarity"]]),
                evidence=float(x[i, col["similarity"]])
                + W_EVIDENCE_OVERLAP * float(x[i, col["overlap"]])
                # The story's real age, not the ranker's capped feature: an old story must
                # match more closely to count as evidence.
                - self._age_penalty(article_of[r.chunk_id], today),
                typed=bool(x[i, col["answer_type"]]),
                vector=vectors[i],
            )
            for i, r in enumerate(usable)
        ]
        return sorted(out, key=lambda c: -c.relevance)

    def _age_penalty(self, article_id: str, today: date | None) -> float:
        """Return how much an old story's evidence is discounted (older needs a closer match)."""
        published = self._retriever.article_date(article_id)
        if today is None or published is None:
            return 0.0
        years = max(0, (today - published).days) / 365.25
        return min(AGE_PENALTY_MAX, AGE_PENALTY_PER_YEAR * years)

    def _age_years(self, article_id: str, today: date | None) -> float:
        """Return a story's age in years at the asking date (0 with no date to ask on)."""
        published = self._retriever.article_date(article_id)
        if today is None:
            return 0.0
        if published is None:
            return UNDATED_AGE_DAYS / 365.25
        return max(0, (today - published).days) / 365.25

    def _newer_first(self, chosen: list[Candidate]) -> list[Candidate]:
        """Put an excerpt before any from an older story on the same subject."""
        dated = [(c, self._retriever.article_date(c.article_id) or date.min) for c in chosen]
        ordered: list[tuple[Candidate, date]] = []
        for cand, when in dated:
            at = len(ordered)
            for i, (other, other_when) in enumerate(ordered):
                if when > other_when and shared_subject(cand.text, other.text):
                    at = i
                    break
            ordered.insert(at, (cand, when))
        return [c for c, _ in ordered]

    def _key_question_match(
        self, question: str, hits: list[Hit], rows: list[SentenceRow], qvec: np.ndarray
    ) -> tuple[Candidate | None, float]:
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
        wanted = profile(question)
        # A cause is often stated without a marker ("Writers lost work in the strikes"), so only
        # a figure, name, date, quote or list must show in the story's own answer.
        must_show = wanted.answer_type not in ("other", "reason")
        if must_show and not answer_spans(wanted, question, answer):
            return None, 0.0  # the story's own question is close, but its answer lacks the fact
        # A close match to the story's own question is strong evidence of an answer.
        score = float(sims[i])
        return Candidate(answer, hit.article_id, 1.0 + score, score, score, True, None), score

    def _compose(self, question: str, chosen: list[Candidate], confidence: float) -> Answer:
        """Number the sources in order of first use and build the answer."""
        numbers: dict[str, int] = {}
        articles: dict[str, Article] = {}
        excerpts: list[Excerpt] = []
        wanted = profile(question)
        # The strict test: the ranker's feature also fires on "What was ..." (trained so).
        wants_list = asks_for_several(question)
        for cand in chosen:
            article = articles.get(cand.article_id) or self._registry.get_article(cand.article_id)
            if article is None or cand.text not in article.text:
                continue  # never quote what the cited story does not contain verbatim
            if article.provenance.retracted:
                continue  # retrieval already drops them; a retraction made just now may not be
            articles[cand.article_id] = article
            n = numbers.setdefault(cand.article_id, len(numbers) + 1)
            bold = answer_spans(wanted, question, cand.text, wants_list=wants_list)
            excerpts.append(Excerpt(cand.text, n, bold))
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


def _stale_days(answer: Answer, question: str, today: date | None) -> int | None:
    """Return how old the newest cited story is when a question about now gets old news."""
    if answer.refused or today is None or answer.as_of is None or not is_timely(question):
        return None
    age = (today - answer.as_of).days
    return age if age > STALE_AFTER_DAYS else None
