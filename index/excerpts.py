"""Sentence features for choosing excerpts: what a question asks for, and who holds it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

AnswerType = Literal["number", "date", "quote", "list", "entity", "reason", "other"]

_NUMBER_Q = re.compile(
    r"\bhow (many|much|fast|long|old|far|big|large|tall|high)\b|\bwhat (percentage|percent|"
    r"number|price|age|amount|share|fraction)\b|\bby how much\b|\bcost\b",
    re.I,
)
# "What was the record high average price ...": the thing asked for is a quantity, a few words
# after "what was the" (not "the name of ...").
_QUANTITY_Q = re.compile(
    r"\bwhat (?:is|was|are|were|will be) the (?:(?!name\b|title\b)[\w-]+ ){0,4}(?:price|cost|"
    r"number|amount|percentage|share|age|salary|fine|value|valuation|total|population|"
    r"temperature|speed|score|rate|figure|sum|size|height|length|distance)s?\b",
    re.I,
)
# "What did Meta spend", "what will it cost": an amount, though the question says "what".
_AMOUNT_Q = re.compile(r"\bwhat\b.*\b(spend|spent|pay|paid|raise|raised|cost|earn|charge)\b", re.I)
# "How did the screenwriter describe ...": the answer is someone's own words.
_QUOTE_Q = re.compile(
    r"\bhow did\b.*\b(describe|call|characteri[sz]e|put it|react)\b|\bwhat did\b.*\b(say|call)\b",
    re.I,
)
_LIST_Q = re.compile(r"\b(what|which) (kinds?|types?|sorts?) of\b", re.I)
_QUOTED = re.compile(r"[\"“][^\"“”]{3,}[\"”]")
# Three or more short items: "assessing chatbot responses, annotating data, and generating".
_ITEM = r"(?:[\w$'’-]+ ){0,3}[\w$'’-]+"
_LIST = re.compile(
    rf"{_ITEM}(?:, {_ITEM})+, (?:and|or) \w|{_ITEM}(?:, {_ITEM}){{2,}} (?:and|or) \w"
)
# "insiders, including writers and showrunners" names examples of one thing, not a list.
_APPOSITIVE = re.compile(r",? (?:including|such as|like) ")
_BARE_YEAR = re.compile(r"(?:1[89]|20)\d\d")
_DATE_Q = re.compile(r"\bwhen\b|\b(what|which) (year|date|day|month|decade)\b", re.I)
# Asks for a moment even with "how long" in it, so it is read before the amount questions.
_SOON_Q = re.compile(r"\bhow soon\b|\bby when\b|\bhow long (?:until|before|till)\b", re.I)
# "Why ...?", "... due to what?": the answer is a cause.
_REASON_Q = re.compile(
    r"\bwhy\b|\b(?:due to|because of|caused by|driven by|blamed on) what\b|\bfor what reasons?\b|"
    r"\bwhat (?:caused|causes|led to|leads to|prompted|drove|is behind|was behind)\b",
    re.I,
)
# A cause as news states it: the marker and the words after it up to the clause's end ("in part
# because of the repeated heat waves", a sentence opening "As severe drought persists ...,").
CAUSE = re.compile(
    r"\b(?:because(?: of)?|due(?: in (?:large )?part)? to|owing to|caused by|driven by|blamed on|"
    r"fueled by|fuelled by|thanks to|amid|as a result of|stemming from|in response to|citing|"
    r"over (?:concerns?|fears?) (?:about|over|that)|for fear (?:of|that))\b[^,.;:!?—]{3,120}|"
    r"(?:^|(?<=\n)|(?<=[.!?]\s))(?:As|With|Amid) "
    r"(?!(?:of|for|part of|well|usual|such|expected|a whole|always)\b)[^,.;:!?—]{3,120}(?=,)",
    re.I,
)
# News often dates what is coming relative to its own day: "as early as next week", "at least a
# few weeks", "later this year". For "when" and "how soon" questions these are the answer.
RELATIVE_TIME = re.compile(
    r"\b(?:(?:early|late|later|earlier|mid|the end of)[\s-])?(?:next|last|this|coming|the coming)"
    r"\s(?:week|weekend|month|year|spring|summer|fall|autumn|winter|quarter|decade)\b|"
    r"\b(?:in|within|at least|another|in the next|over the next|in the coming)\s(?:a few|several|"
    r"a couple of|two|three|four|five|six|\d+)\s(?:hours|days|weeks|months|years)\b|"
    r"\b(?:a few|several|two|three|four|five|six|\d+)\s(?:days|weeks|months|years)\s(?:from now|"
    r"later|away)\b|\bwithin (?:hours|days|weeks|months)\b|\b(?:tomorrow|tonight)\b",
    re.I,
)
_ENTITY_Q = re.compile(r"\b(who|whom|whose|which|where|what)\b", re.I)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z0-9'’.-]*[A-Za-z0-9]|\b[A-Z]\b")
_NUMBER = re.compile(r"[$£€]?\d[\d,.]*(?:\s?(?:%|percent|million|billion|trillion))?")
_YEAR_OR_DATE = re.compile(
    r"\b(1[89]\d\d|20\d\d)\b|\b(January|February|March|April|May|June|July|August|September|"
    r"October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)  # "next week" and other times relative to the story's day: RELATIVE_TIME
_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty "
    "hundred thousand million billion trillion dozen half quarter percent".split()
)
_STOPWORDS = frozenset(
    "a an the of to in on and or is are was were be been being by for with as at from that this "
    "these those it its what which who whom whose how why when where do does did will would can "
    "could has have had not no into about after before over than then there their they them he "
    "she his her we our you your i me my so if but also just more most some any all new week "
    "said says say according".split()
)
# Capitalised words that start sentences or are too common to name an answer.
_COMMON_CAPITALS = frozenset(
    "The A An In On At For And But Or It Its This That These Those He She They We I His Her "
    "Their Our After Before When While As If By From With To Of".split()
)


@dataclass(frozen=True, slots=True)
class QuestionProfile:
    """What a question asks for and its content words."""

    answer_type: AnswerType
    terms: frozenset[str]  # stemmed content words
    words: frozenset[str]  # lower-cased words, for novelty checks
    numbers: frozenset[str]


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    """Return PyStemmer's English stemmer, or None when it is not installed."""
    try:
        import Stemmer
    except ImportError:
        return None
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=50_000)  # sentences recur across questions: stem each once
def stem_terms(text: str) -> frozenset[str]:
    """Return the stemmed, lower-cased content words of text."""
    words = [w.lower().strip("'’") for w in _WORD.findall(text)]
    words = [w for w in words if w and w not in _STOPWORDS]
    stemmer = _stemmer()
    return frozenset(stemmer.stemWords(words) if stemmer else words)


def answer_type(question: str) -> AnswerType:
    """Return the kind of answer a question asks for."""
    if _SOON_Q.search(question):
        return "date"
    if _REASON_Q.search(question):
        return "reason"
    if _NUMBER_Q.search(question) or _AMOUNT_Q.search(question) or _QUANTITY_Q.search(question):
        return "number"
    if _DATE_Q.search(question):
        return "date"
    if _QUOTE_Q.search(question):
        return "quote"
    if _LIST_Q.search(question):
        return "list"
    if _ENTITY_Q.search(question):
        return "entity"
    return "other"


def profile(question: str) -> QuestionProfile:
    """Return the features of a question that sentence scoring needs."""
    return QuestionProfile(
        answer_type=answer_type(question),
        terms=stem_terms(question),
        words=frozenset(w.lower() for w in _WORD.findall(question)),
        numbers=frozenset(_NUMBER.findall(question)),
    )


def overlap(q: QuestionProfile, sentence: str) -> float:
    """Return the share of the question's content words that the sentence contains."""
    if not q.terms:
        return 0.0
    return len(q.terms & stem_terms(sentence)) / len(q.terms)


def carries_answer(q: QuestionProfile, sentence: str) -> bool:
    """Return True when the sentence holds something new of the asked-for kind."""
    if q.answer_type == "number":
        # A year is a date, not an amount: "In 2023, ..." does not say how much.
        found = {n for n in _NUMBER.findall(sentence) if not _BARE_YEAR.fullmatch(n.strip(",."))}
        found -= q.numbers
        return bool(found) or any(w.lower() in _NUMBER_WORDS for w in _WORD.findall(sentence))
    if q.answer_type == "date":
        return bool(_YEAR_OR_DATE.search(sentence) or RELATIVE_TIME.search(sentence))
    if q.answer_type == "quote":
        return bool(_QUOTED.search(sentence))
    if q.answer_type == "list":
        return bool(_LIST.search(_APPOSITIVE.sub("; ", sentence)))
    if q.answer_type == "reason":
        return bool(CAUSE.search(sentence))
    if q.answer_type == "entity":
        return any(
            w not in _COMMON_CAPITALS and w.lower() not in q.words
            for w in _CAPITALISED.findall(sentence)
        )
    return False
