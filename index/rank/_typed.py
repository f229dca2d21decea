"""How specifically a sentence holds the asked-for answer, and how near the question's words."""

from __future__ import annotations

import re

from index.excerpts import RELATIVE_TIME, QuestionProfile, carries_answer, stem_terms
from index.rank._spans import Span, answer_spans, name_spans

_WORD = re.compile(r"[A-Za-z0-9$£€][A-Za-z0-9'’.,%-]*")
# Sub-kinds of a question that a sentence can match more or less closely: "how much did it
# cost" wants money, not just any figure; "where" wants a place, not just any name.
_MONEY_Q = re.compile(
    r"\b(cost|costs|price|prices|pay|paid|spend|spent|raise|raised|earn|earned|earns|worth|"
    r"charge|charged|fine|fined|salary|money|dollars|funding|valued|valuation|sold|bought)\b",
    re.I,
)
_MONEY = re.compile(r"[$£€]\s?\d|\d\s?(?:dollars|euros|pounds)\b")
_PERCENT_Q = re.compile(r"\b(percent|percentage|rate|share)\b", re.I)
_PERCENT = re.compile(r"\d\s?(?:%|percent)")
_WHERE_Q = re.compile(
    r"\bwhere\b|\b(?:which|what) (?:country|countries|state|states|city|cities|nation|region|"
    r"place|town|island|county|continent)\b",
    re.I,
)
_PLACE = re.compile(r"\b(?:in|at|near|from|to|across|into|off)\s+(?:the\s+)?([A-Z][\w'’.-]*)")
_WHO_Q = re.compile(r"\b(?:who|whom|whose)\b", re.I)
_PERSON = re.compile(r"\b([A-Z][a-z'’-]+)(?:\s[A-Z]\.)?\s([A-Z][a-z'’-]+)")
_DAY_OR_MONTH = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)
_WH = re.compile(r"\b(?:who|whom|whose|what|which|when|where|why|how)\b", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")
_COMMON = frozenset("The A An In On At For And But Or It This That He She They We I".split())


def asking_sentence(question: str) -> str:
    """Return the sentence of a question that asks ("Microsoft retired Internet Explorer this
    week. What year did it debut?" -> the second): the others set the scene, which a sentence
    restating the news matches as well as one that answers."""
    parts = _SENTENCE_END.split(question.strip())
    asking = [p for p in parts if _WH.search(p)]
    return asking[-1] if asking else parts[-1]


def typed_spans(
    q: QuestionProfile, question: str, text: str, *, wants_list: bool
) -> tuple[Span, ...]:
    """Return the spans that may answer: the bold spans, else for a "what" question asking
    for a thing, the names the question does not say."""
    spans = answer_spans(q, question, text, wants_list=wants_list)
    if not spans and q.answer_type == "entity":
        spans = name_spans(q, text)
    return spans


def specific_match(q: QuestionProfile, question: str, text: str) -> float:
    """Return 1.0 when the sentence holds the question's sub-kind of answer (money for "how
    much did it cost", a place for "where", a person for "who"), else 0.0."""
    if q.answer_type == "number":
        if _MONEY_Q.search(question):
            return float(bool(_MONEY.search(text)))
        if _PERCENT_Q.search(question):
            return float(bool(_PERCENT.search(text)))
        return float(carries_answer(q, text))
    if q.answer_type == "date":
        return float(bool(_DAY_OR_MONTH.search(text) or RELATIVE_TIME.search(text)))
    if q.answer_type == "entity":
        if _WHERE_Q.search(question):
            return float(any(_new(m.group(1), q) for m in _PLACE.finditer(text)))
        if _WHO_Q.search(question):
            people = _PERSON.finditer(text)
            return float(any(_new(m.group(1), q) or _new(m.group(2), q) for m in people))
        return float(bool(name_spans(q, text)))
    return float(carries_answer(q, text))


def _new(word: str, q: QuestionProfile) -> bool:
    """Return True for a word that names something the question does not."""
    return word not in _COMMON and word.lower() not in q.words


def proximity(q: QuestionProfile, text: str, spans: tuple[Span, ...]) -> float:
    """Return 1 / (1 + words between an answer span and the nearest question word outside
    it): "flooding in Yellowstone" beats a name at the far end of the sentence (0 for none)."""
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
    asked = [i for i, (_, _, w) in enumerate(words) if stem_terms(w) & q.terms]
    best: int | None = None
    for a, b in spans:
        inside = [i for i, (s, e, _) in enumerate(words) if s < b and e > a]
        if not inside:
            continue
        lo, hi = inside[0], inside[-1]
        for i in asked:
            if lo <= i <= hi:
                continue
            gap = lo - i if i < lo else i - hi
            best = gap if best is None else min(best, gap)
    return 0.0 if best is None else 1.0 / best  # adjacent words are 1 apart
