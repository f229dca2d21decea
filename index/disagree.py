"""Spot cited stories that state different figures or names for the same thing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import combinations

from index.excerpts import stem_terms
from index.models import Claim, Disagreement

# A figure: optional currency, digits, optional scale or percent ("$150", "13.1%", "2 million").
_FIGURE = re.compile(
    r"[$£€]?\d[\d,]*(?:\.\d+)?(?:\s?(?:%|percent|million|billion|trillion|thousand))?", re.I
)
_YEAR = re.compile(r"^(1[89]|20)\d\d$")
# A name: capitalised words not at the start of the sentence (a start is capitalised anyway).
_NAME = re.compile(r"(?<=[a-z,;:] )(?:[A-Z][a-zA-Z&'’.-]+)(?: [A-Z][a-zA-Z&'’.-]+)*")
_CALENDAR = frozenset(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May "
    "June July August September October November December".split()
)
_MIN_SHARED_TERMS = 3  # excerpts must share this many content words to be about one subject
_MIN_JACCARD = 0.25
# Two figures fill the same slot when the words around them agree: "earning up to $200 per hour"
# and "earning up to $150 per hour" conflict even inside otherwise different sentences.
_SLOT_WORDS = 3  # words looked at on each side of a figure
_MIN_SLOT_SHARED = 4  # of those six, how many must match…
_MIN_SLOT_CONTENT = 2  # …of which this many content words ("earning", "hour"), not time words
# Words that place a figure in time rather than say what it measures ("in the last year").
_TIME_WORDS = (
    "last next past previous this year years month months week weeks day days quarter quarters "
    "ago today yesterday annual annually daily weekly monthly"
)
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True, slots=True)
class Quoted:
    """An excerpt with the number and date of the story it comes from."""

    text: str
    n: int
    published: date | None


def figures(text: str) -> set[str]:
    """Return the figures in text, normalised ('$1,500' -> '$1500'), years excluded."""
    found = set()
    for match in _FIGURE.findall(text):
        value = match.replace(",", "").lower().replace("percent", "%").replace(" ", "")
        if not _YEAR.match(value):
            found.add(value)
    return found


def names(text: str) -> set[str]:
    """Return capitalised names that do not start the sentence (days and months are not names)."""
    return {m for m in _NAME.findall(text) if len(m) > 2 and m not in _CALENDAR}


def name_slots(text: str) -> set[str]:
    """Return each name with the two words before it: 'went to|Mistral'."""
    slots = set()
    for match in _NAME.finditer(text):
        name = match.group(0)
        if len(name) > 2 and name not in _CALENDAR:
            before = text[: match.start()].lower().split()[-2:]
            slots.add(" ".join(before) + "|" + name)
    return slots


def _unit(figure: str) -> str:
    """Return a figure's kind: percent, money or plain (counts, which are compared last)."""
    if figure.endswith("%"):
        return "percent"
    return "money" if figure[0] in "$£€" else "plain"


def _differing(va: set[str], vb: set[str], kind: str) -> tuple[str, str] | None:
    """Return one value from each side that conflict, or None."""
    only_a, only_b = va - vb, vb - va  # what both state is agreed on
    if kind == "name":
        # Names conflict only one-to-one ("X won" vs "Y won"); more is a list of names.
        if len(only_a) != 1 or len(only_b) != 1:
            return None
        a, b = next(iter(only_a)), next(iter(only_b))
        return None if a in b or b in a else (a, b)  # "York" is "New York"
    return _differing_figures(only_a, only_b)


def _differing_figures(only_a: set[str], only_b: set[str]) -> tuple[str, str] | None:
    """Return two figures of the same unit that differ, or None."""
    for unit in ("percent", "money", "plain"):
        a = sorted(f for f in only_a if _unit(f) == unit)
        b = sorted(f for f in only_b if _unit(f) == unit)
        if a and b:
            return a[0], b[0]
    return None


def find_disagreements(excerpts: list[Quoted]) -> list[Disagreement]:
    """Return pairs of excerpts from different stories, on one subject, with different values."""
    found: list[Disagreement] = []
    for a, b in combinations(excerpts, 2):
        if a.n == b.n:
            continue
        shared = shared_subject(a.text, b.text)
        if not shared:
            slot = _same_slot_figures(a.text, b.text)
            if slot is not None:
                context, (va, vb) = slot
                claims = (Claim(a.n, va, a.published), Claim(b.n, vb, b.published))
                found.append(Disagreement("figure", context, claims))
            continue
        for kind, values in (("figure", _differing(figures(a.text), figures(b.text), "figure")),
                             ("name", _same_slot_names(a.text, b.text))):  # fmt: skip
            if values:
                claims = (Claim(a.n, values[0], a.published), Claim(b.n, values[1], b.published))
                found.append(Disagreement(kind, shared, claims))
                break
    return found


def figure_slots(text: str) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Return each figure with the words before and after it: ('$200', (…'to'), ('per', …))."""
    slots = []
    for match in _FIGURE.finditer(text):
        value = match.group(0).replace(",", "").lower().replace("percent", "%").replace(" ", "")
        if _YEAR.match(value):
            continue
        before = _WORD.findall(text[: match.start()].lower())[-_SLOT_WORDS:]
        after = _WORD.findall(text[match.end() :].lower())[:_SLOT_WORDS]
        slots.append((value, tuple(before), tuple(after)))
    return slots


@cache
def _time_stems() -> frozenset[str]:
    """Return the stems of the time words (computed on first use, not at import)."""
    return stem_terms(_TIME_WORDS)


def _same_slot_figures(a: str, b: str) -> tuple[tuple[str, ...], tuple[str, str]] | None:
    """Return (shared context, two values) for figures of one unit in the same slot, or None."""
    for va, before_a, after_a in figure_slots(a):
        for vb, before_b, after_b in figure_slots(b):
            if va == vb or _unit(va) != _unit(vb):
                continue
            shared = [w for w in before_a if w in before_b] + [w for w in after_a if w in after_b]
            content = stem_terms(" ".join(shared)) - _time_stems()
            if len(shared) >= _MIN_SLOT_SHARED and len(content) >= _MIN_SLOT_CONTENT:
                return tuple(shared), (va, vb)
    return None


def _same_slot_names(a: str, b: str) -> tuple[str, str] | None:
    """Return two different names that fill the same slot (same two words before them)."""
    values = _differing(names(a), names(b), "name")
    if values is None:
        return None
    return values if _contexts(a, values[0]) & _contexts(b, values[1]) else None


def _contexts(text: str, name: str) -> set[str]:
    """Return the two-word contexts that precede `name` in text."""
    return {slot.split("|")[0] for slot in name_slots(text) if slot.endswith("|" + name)}


def shared_subject(a: str, b: str) -> tuple[str, ...]:
    """Return the content words two texts share when they are clearly about one subject."""
    ta, tb = stem_terms(a), stem_terms(b)
    shared = ta & tb
    if len(shared) < _MIN_SHARED_TERMS or len(shared) / len(ta | tb) < _MIN_JACCARD:
        return ()
    return tuple(sorted(shared))
