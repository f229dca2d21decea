"""Coverage gaps: questions the stories could not answer, merged by meaning, and earlier ones
that newly added stories now answer; no Discord here."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from index.errors import IndexUnavailableError, NewsbotError
from index.excerpts import stem_terms
from index.models import Answer, Article
from index.registry import LoggedQuestion

log = logging.getLogger(__name__)

# Two questions are one when their embeddings (all-MiniLM-L6-v2) are at least this similar...
SAME_QUESTION_COSINE = 0.84
# ...and, when each has words the other lacks, those words mean nearly the same ("latest" and
# "newest": 0.89; "writers" and "actors": 0.46; "per hour" and "per year": 0.33). Cosine alone
# cannot tell "Did Nvidia beat earnings expectations?" from "...miss..." (0.93) while keeping
# "What is Anthropic's latest model?" and "What's the newest Anthropic model?" together (0.96).
# Both values were chosen on 25 paraphrase and 26 near-miss pairs (tests/index/test_digest_gaps.py
# keeps a sample): merged 22 of 25 paraphrases, and none of the near misses.
SAME_WORDS_COSINE = 0.55
GAPS_SHOWN = 5  # unanswered questions a digest lists, most asked first
RECHECKED = 10  # earlier refused questions re-asked per digest (each costs an encode and a search)
_MERGE_CANDIDATES = 300  # most frequent distinct questions compared pairwise (bounds the cost)
_WORD = re.compile(r"[\w'’-]+")

Encode = Callable[[Sequence[str]], np.ndarray]
Ask = Callable[[str], Answer]


@dataclass(frozen=True, slots=True)
class Unanswered:
    """A question the stories could not answer in a period, with how often it was asked."""

    text: str
    count: int
    refused: bool  # False: answered, but members marked the answer unhelpful


@dataclass(frozen=True, slots=True)
class NowAnswered:
    """An earlier refused question that a newly added story now answers."""

    question: str
    article_id: str
    title: str


@dataclass(slots=True)
class Cluster:
    """Logged questions that ask the same thing."""

    members: list[LoggedQuestion] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Return the most common spelling (the first asked among equals)."""
        spellings = Counter(" ".join(q.question.split()) for q in self.members)
        return spellings.most_common(1)[0][0]

    @property
    def count(self) -> int:
        """Return how many times the question was asked."""
        return len(self.members)


class MemoEncoder:
    """Encodes texts in batches, each distinct text once (one digest asks for some twice)."""

    def __init__(self, encode: Encode) -> None:
        self._encode = encode
        self._memo: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """Return the unit vectors of texts, in order."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            self._memo.update(zip(missing, self._encode(missing), strict=True))
        return np.stack([self._memo[t] for t in texts])


def normalize_question(text: str) -> str:
    """Return a question reduced to lowercase words, for grouping identical ones."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def same_numbers(a: str, b: str) -> bool:
    """Return True when two questions mention the same numbers ("GPT-4" is not "GPT-5")."""
    return re.findall(r"\d+", a) == re.findall(r"\d+", b)


def _residue(text: str, other: str) -> str:
    """Return the words of text whose stems the other question lacks."""
    extra = stem_terms(text) - stem_terms(other)
    return " ".join(w for w in _WORD.findall(text) if stem_terms(w) & extra)


def same_question(a: str, b: str, cosine: float, encode: Encode) -> bool:
    """Return True when two questions with this embedding similarity ask the same thing."""
    if cosine < SAME_QUESTION_COSINE or not same_numbers(a.casefold(), b.casefold()):
        return False
    extra_a, extra_b = _residue(a, b), _residue(b, a)
    if not extra_a or not extra_b:
        return True  # one only adds words to the other
    vectors = encode([extra_a, extra_b])
    return float(vectors[0] @ vectors[1]) >= SAME_WORDS_COSINE


def merge_questions(questions: Sequence[LoggedQuestion], encode: Encode | None) -> list[Cluster]:
    """Return questions grouped by meaning (without an encoder: by spelling), most asked first."""
    groups: dict[str, Cluster] = {}
    for q in questions:
        key = normalize_question(q.question)
        if key:
            groups.setdefault(key, Cluster()).members.append(q)
    ordered = sorted(groups.items(), key=lambda kv: (-kv[1].count, kv[0]))
    clusters = [c for _, c in ordered]
    if encode is not None and len(clusters) > 1:
        head = _merge_by_meaning(clusters[:_MERGE_CANDIDATES], encode)
        clusters = head + clusters[_MERGE_CANDIDATES:]
    return sorted(clusters, key=lambda c: (-c.count, c.text.casefold()))


def _merge_by_meaning(clusters: list[Cluster], encode: Encode) -> list[Cluster]:
    """Join each group to the most similar earlier (more asked) one that asks the same thing."""
    texts = [c.text for c in clusters]
    vectors = encode(texts)
    sims = vectors @ vectors.T
    leads: list[int] = []  # index of each merged cluster's first (most asked) group
    merged: list[Cluster] = []
    for i, cluster in enumerate(clusters):
        home = None
        for k in sorted(range(len(leads)), key=lambda k: -sims[i, leads[k]]):
            lead = leads[k]
            if sims[i, lead] < SAME_QUESTION_COSINE:
                break  # the rest are less similar still
            if same_question(texts[lead], texts[i], float(sims[i, lead]), encode):
                home = k
                break
        if home is None:
            leads.append(i)
            merged.append(Cluster(list(cluster.members)))
        else:
            merged[home].members.extend(cluster.members)
    return merged


def recheck(
    clusters: Sequence[Cluster], ask: Ask, new_titles: Mapping[str, str], limit: int = RECHECKED
) -> list[tuple[Cluster, NowAnswered]]:
    """Re-ask refused questions; return those now answered by citing a new story."""
    found = []
    for cluster in clusters[:limit]:
        try:
            answer = ask(cluster.text)
        except IndexUnavailableError:
            raise  # the index is down: retry the whole digest later rather than post it wrong
        except NewsbotError as exc:  # e.g. a question longer than today's limit: skip it
            log.info("not re-asking %r for the digest: %s", cluster.text, exc)
            continue
        cited = [c for c in answer.citations if c.article_id in new_titles]
        if not answer.refused and cited:
            story = cited[0]
            found.append((cluster, NowAnswered(cluster.text, story.article_id, story.title)))
    return found


def coverage(
    logged: Sequence[LoggedQuestion],
    start: datetime,
    new_articles: Sequence[Article],
    unhelpful: set[int],
    encode: Encode | None,
    ask: Ask | None,
) -> tuple[list[Unanswered], list[NowAnswered]]:
    """Return a period's unanswered questions and the earlier ones its new stories answer.

    `logged` covers the previous period and this one (from `start`); `unhelpful` holds the ids of
    answers members marked unhelpful. Questions asked privately are never listed.
    """
    public = [q for q in logged if not q.private]
    resolved: set[int] = set()
    now_answered: list[NowAnswered] = []
    if new_articles and ask is not None:
        titles = {a.id: a.title for a in new_articles}
        refused = merge_questions([q for q in public if q.refused], encode)
        for cluster, found in recheck(refused, ask, titles):
            now_answered.append(found)
            resolved.update(q.id for q in cluster.members)
    gaps = [
        q
        for q in public
        if q.asked_at >= start and (q.refused or q.id in unhelpful) and q.id not in resolved
    ]
    unanswered = [
        Unanswered(c.text, c.count, any(q.refused for q in c.members))
        for c in merge_questions(gaps, encode)[:GAPS_SHOWN]
    ]
    return unanswered, now_answered
