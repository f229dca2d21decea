"""The spans of a quoted sentence that answer a question: shown bold, the text left verbatim."""

from __future__ import annotations

import re

from index.excerpts import CAUSE, RELATIVE_TIME, QuestionProfile, stem_terms

Span = tuple[int, int]  # [start, end) character offsets into the excerpt

_FIGURE = re.compile(
    r"[$£€]?\d(?:[\d,.]*\d)?(?:\s?(?:%|percent|million|billion|trillion|thousand))?"
    r"(?:\s(?:per|an|a)\s(?:hour|year|month|week|day|share))?"
)
_YEAR = re.compile(r"(?:1[89]|20)\d\d")
_DATE = re.compile(
    r"\b(?:(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)(?:\s\d{1,2}(?:st|nd|rd|th)?)?(?:,?\s(?:1[89]|20)\d\d)?|(?:1[89]|20)\d\d)\b"
)
# A count asked for ("how many") may be written as a word, as news style spells two to nine.
_COUNT_Q = re.compile(r"\bhow many\b", re.I)
_COUNT_WORD = re.compile(
    r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a dozen|dozens)\b", re.I
)
_QUOTED = re.compile(r"[\"“][^\"“”]{3,}[\"”]")
_WORDS = r"(?:[\w$'’-]+ ){0,2}[\w$'’-]+"
_LIST = re.compile(rf"{_WORDS}(?:, {_WORDS})+,? (?:and|or) (?:[\w$'’-]+ ?){{1,3}}")
_LIST_LEAD = re.compile(r"^.*?\b(?:such as|including|like|involve|involves|includes|include) ")
_LIST_END = re.compile(
    r" (?:to|for|from|in|on|at|with|as|which|that|who|have|has|are|is|were|was)\b.*$"
)
_NAME = re.compile(r"\b[A-Z][\w'’.&-]*(?:\s(?:of\s|de\s)?[A-Z][\w'’.&-]*)*")
_ASKS_NAME = re.compile(r"\b(who|whom|whose|which)\b", re.I)
_TRAILING = re.compile(r"[\s,.;:'’]+$")
# Capitalised words that open sentences or name nothing in particular.
_NOT_NAMES = frozenset(
    "The A An In On At For And But Or It Its This That These Those He She They We I His Her "
    "Their Our After Before When While As If By From With To Of One Some Many Most Sources "
    "According Companies Workers Monday Tuesday Wednesday Thursday Friday Saturday Sunday "
    "Today Yesterday".split()
)


def answer_spans(
    q: QuestionProfile, question: str, text: str, *, wants_list: bool = False
) -> tuple[Span, ...]:
    """Return the spans of text holding what the question asks for, in order, not overlapping."""
    if wants_list or q.answer_type == "list":
        spans = _list_spans(text, q)
        if spans:
            return spans
    if q.answer_type == "number":
        found = [_trimmed(m, text) for m in _FIGURE.finditer(text) if _is_amount(m.group(), q)]
        if _COUNT_Q.search(question):  # news spells small counts: "all four astronauts"
            found = sorted({*found, *(m.span() for m in _COUNT_WORD.finditer(text))})
    elif q.answer_type == "date":
        found = _merged([*_DATE.finditer(text), *RELATIVE_TIME.finditer(text)])
    elif q.answer_type == "reason":
        found = [_trimmed(m, text) for m in CAUSE.finditer(text)]
    elif q.answer_type == "quote":
        found = [m.span() for m in _QUOTED.finditer(text)]
    elif q.answer_type == "entity" and _ASKS_NAME.search(question):
        found = list(name_spans(q, text))
    else:
        return ()
    return tuple((a, b) for a, b in found if b > a)


def _merged(matches: list[re.Match[str]]) -> list[Span]:
    """Return the matches' spans in order, a span inside or across an earlier one joined to it."""
    out: list[Span] = []
    for a, b in sorted(m.span() for m in matches):
        if out and a < out[-1][1]:
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return out


def has_list(q: QuestionProfile, text: str) -> bool:
    """Return True when text lists three or more things ("A, B, and C")."""
    return bool(_list_spans(text, q))


def name_spans(q: QuestionProfile, text: str) -> tuple[Span, ...]:
    """Return the spans of capitalised names in text that the question does not say."""
    return tuple(s for s in (_name_span(m, q) for m in _NAME.finditer(text)) if s)


def _is_amount(figure: str, q: QuestionProfile) -> bool:
    """Return True for a figure the question does not state that is not a bare year."""
    figure = figure.strip(" ,.")
    return figure not in q.numbers and not _YEAR.fullmatch(figure)


def _trimmed(match: re.Match[str], text: str) -> Span:
    """Return a match's span without trailing punctuation or spaces."""
    start, end = match.span()
    while end > start and text[end - 1] in " ,.;:":
        end -= 1
    return start, end


def _name_span(match: re.Match[str], q: QuestionProfile) -> Span | None:
    """Return a capitalised run's span without leading common words, if it names something new."""
    words = match.group().split()
    start = match.start()
    while words and words[0].strip("'’.") in _NOT_NAMES:
        start += len(words[0]) + 1
        words = words[1:]
    bare = [re.sub(r"['’]s$", "", w) for w in words]  # "West's" names West
    parts = [p.lower() for w in bare for p in re.split(r"[-'’.]", w) if p]
    opens = start == 0 or match.string[:start].rstrip().endswith((".", "!", "?", ":", "-", "“"))
    if not words or (opens and len(words) == 1) or all(p in q.words for p in parts):
        return None  # a sentence's first word is capitalised whatever it is
    trailing = _TRAILING.search(match.group())
    end = match.end() - (len(trailing.group()) if trailing else 0)
    return (start, end) if end > start else None


def _list_spans(text: str, q: QuestionProfile) -> tuple[Span, ...]:
    """Return the span of a list of three or more things ("A, B, and C"): the first one right
    after a word of the question ("tasks like A, B and C"), else the first one."""
    matches = [s for s in (_list_span(m) for m in _LIST.finditer(text)) if s is not None]
    if not matches:
        return ()
    for start, end in matches:
        before = stem_terms(" ".join(text[:start].split()[-3:]))
        if before & q.terms:
            return ((start, end),)
    return (matches[0],)


def _list_span(match: re.Match[str]) -> Span | None:
    """Return a list match's span without its lead-in ("such as") or what follows its end."""
    start, end = match.span()
    lead = _LIST_LEAD.match(match.group())
    if lead:
        start += lead.end()
    tail = _LIST_END.search(match.string[start:end])
    if tail:
        end = start + tail.start()
    return (start, end) if end > start else None
