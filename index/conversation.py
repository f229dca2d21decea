"""Conversations: resolve a follow-up in a thread from the thread's earlier questions, offline.

"Are Hollywood writers training AI?" then "How much do they earn?": the second question has no
subject of its own, so retrieval runs on it plus the salient words of the question it follows,
and the stories already cited in the thread get a retrieval prior. A question that names a
subject of its own ("What did the EU AI Act require?") is answered on its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.excerpts import stem_terms
from index.rank import Candidate
from index.registry import Registry

# Words that point back at something said before ("they", "that company", "the same").
ANAPHORS = frozenset(
    "they them their theirs it its he him his she her hers this that these those there such same "
    "former latter".split()
)
# Words that carry no subject: question words, auxiliaries, fillers and generic verbs of asking.
_FUNCTION_WORDS = frozenset(
    "a an the of to in on and or is are was were be been being by for with as at from what which "
    "who whom whose how why when where do does did doing done will would can could should shall "
    "may might must has have had not no into about after before over than then so if but also "
    "just more most less some any all much many very really i me my we our us you your tell "
    "explain describe give show list name say said says mean means else other others again "
    "anything something one ones kind kinds sort get got make made thing things yes ok okay "
    "please thanks well now".split()
)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
# A question with at most this many subject words is too short to stand alone ("Which
# companies?", "How much?", "And the pay?").
SHORT_WORDS = 2
# How far back a follow-up reaches: the questions since the last that stood on its own, at most.
CONTEXT_QUESTIONS = 3
# Turns read back from the question log: enough to know which names the thread already said.
HISTORY_QUESTIONS = 10
# Salient words added to a follow-up's retrieval query, most recent question first.
SALIENT_WORDS = 8


@dataclass(frozen=True, slots=True)
class Turn:
    """One earlier question of a thread and the stories its answer cited."""

    question: str
    cited: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FollowUp:
    """How to retrieve for a question asked in a thread."""

    question: str
    query: str  # what retrieval searches for: the question, plus the thread's salient words
    prior: frozenset[str] = frozenset()  # stories cited earlier on the thread's current subject
    anchor: str | None = None  # the question that set the subject it refers back to

    @property
    def refers_back(self) -> bool:
        """Return True when the question was read with the thread's context."""
        return self.query != self.question or bool(self.prior)


def words(text: str) -> list[str]:
    """Return the words of text, as typed."""
    return [w.strip("'’-") for w in _WORD.findall(text)]


def subject_words(text: str) -> list[str]:
    """Return the words that carry a question's subject (no question words, no pronouns)."""
    return [
        w for w in words(text) if w.lower() not in _FUNCTION_WORDS and w.lower() not in ANAPHORS
    ]


def names(text: str) -> set[str]:
    """Return the lower-cased names in text: capitalised words (a first word only when it
    carries a subject) and acronyms."""
    found = set()
    for i, w in enumerate(words(text)):
        if w.lower() in _FUNCTION_WORDS or w.lower() in ANAPHORS or w == "I":
            continue
        if w[0].isupper() or any(ch.isupper() for ch in w[1:]) or (i > 0 and w.isupper()):
            found.add(w.lower())
    return found


def stands_alone(question: str, earlier: Sequence[str] = ()) -> bool:
    """Return True when a question carries its own subject: it names something the earlier
    questions did not, or it is long enough and points back at nothing."""
    said = {w.lower() for q in earlier for w in words(q)}
    if names(question) - said:
        return True
    lowered = {w.lower() for w in words(question)}
    if lowered & ANAPHORS:
        return False
    return len(subject_words(question)) > SHORT_WORDS


def current_subject(turns: Sequence[Turn]) -> list[Turn]:
    """Return the thread's turns on its current subject: back to the last question that stood
    on its own (at most CONTEXT_QUESTIONS), oldest first."""
    taken: list[Turn] = []
    for i in range(len(turns) - 1, -1, -1):
        taken.append(turns[i])
        before = [t.question for t in turns[:i]]
        if len(taken) == CONTEXT_QUESTIONS or stands_alone(turns[i].question, before):
            break
    return taken[::-1]


def resolve(question: str, turns: Sequence[Turn]) -> FollowUp:
    """Return how to retrieve for a question asked after `turns` (oldest first) in a thread."""
    earlier = [t.question for t in turns]
    if not turns or stands_alone(question, earlier):
        return FollowUp(question, question)
    subject = current_subject(turns)
    have = {w.lower() for w in words(question)}
    salient: list[str] = []
    for turn in reversed(subject):  # the question just before counts most
        for w in subject_words(turn.question):
            if w.lower() not in have and len(salient) < SALIENT_WORDS:
                have.add(w.lower())
                salient.append(w)
    prior = frozenset(aid for t in subject for aid in t.cited)
    query = f"{question} {' '.join(salient)}" if salient else question
    return FollowUp(question, query, prior, subject[0].question)


def speaks_of(text: str, question: str) -> bool:
    """Return True when text holds every subject word of a question (stemmed): a thread's story
    can answer a follow-up about it."""
    # Uncached for the story: stem_terms caches sentences, and a whole story would crowd them out.
    return stem_terms(" ".join(subject_words(question))) <= stem_terms.__wrapped__(text)


def thread_first(candidates: list[Candidate], prior: frozenset[str]) -> list[Candidate]:
    """Put the best sentence of the thread's stories that holds the asked-for kind of answer
    first, so a follow-up is answered from the stories its thread is about when they can."""
    if not prior:
        return candidates
    at = next((i for i, c in enumerate(candidates) if c.article_id in prior and c.typed), None)
    if at is None:
        return candidates
    return [candidates[at], *candidates[:at], *candidates[at + 1 :]]


class Conversations:
    """Reads a thread's context from the question log the bot itself wrote."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def follow_up(self, question: str, thread_id: int, guild_id: int) -> FollowUp:
        """Return how to retrieve for a question asked in a thread of a server."""
        rows = self._registry.thread_questions(thread_id, guild_id, HISTORY_QUESTIONS)
        return resolve(question, [Turn(q, cited) for q, cited in rows])
