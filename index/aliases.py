"""Aliases learned from the indexed stories, so a question may name things as other stories do.

News names a company by what it is as often as by its name: "Facebook parent Meta", "Scale AI,
a data-labeling startup", "artificial intelligence (AI)". Those pairs, read from the stories
themselves, let "What did the Facebook parent spend on the data-labeling startup?" be asked as
"What did Meta spend on Scale AI?".
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the registry stores what story_aliases() finds: no import cycle at run time
    from index.registry import Registry

_NAME = r"[A-Z][A-Za-z0-9&.-]*(?: [A-Z][A-Za-z0-9&.-]*){0,2}"
# "Facebook parent Meta", "Facebook's parent company, Meta", "Meta, Facebook's parent company",
# "Meta, the parent company of Facebook".
_PARENT = (
    re.compile(rf"\b(?P<of>{_NAME})(?:'s|’s)? parent(?: company)?,? (?P<name>{_NAME})"),
    re.compile(rf"\b(?P<name>{_NAME}), (?:the )?(?P<of>{_NAME})(?:'s|’s) parent(?: company)?\b"),
    re.compile(rf"\b(?P<name>{_NAME}), (?:the )?parent(?: company)? of (?P<of>{_NAME})\b"),
)
# "Scale AI, a data-labeling startup," and "data-labeling startup Scale AI".
_KIND = r"(?:startup|start-up|company|firm|maker|giant|chipmaker|developer|lab)"
_DESCRIBED = (
    re.compile(rf"\b(?P<name>{_NAME}), an? (?P<what>(?:[a-z][a-z-]+ ){{1,2}}{_KIND})\b"),
    re.compile(rf"\b(?:the )?(?P<what>(?:[a-z][a-z-]+ ){{1,2}}{_KIND}) (?P<name>{_NAME})"),
)
# "artificial intelligence (AI)": a spelled-out name and its initials.
_ACRONYM = re.compile(r"\b((?:[A-Za-z][a-z]+[ -]){1,5})\(([A-Z]{2,6})\)")
# Descriptors this general name nothing in particular, whatever a story says.
_VAGUE = frozenset("the company a company tech company the firm new company parent company".split())
_MIN_NAME = 2


class Aliases:
    """Descriptions that name one thing in the indexed stories, re-learned when they change."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._generation = -1
        self._table: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def rewrite(self, question: str) -> str:
        """Return the question with each known description replaced by the name it stands for."""
        table, pattern = self._fresh()
        if pattern is None:
            return question
        return pattern.sub(lambda m: table[m.group(0).lower()], question)

    def _fresh(self) -> tuple[dict[str, str], re.Pattern[str] | None]:
        """Return the alias table, re-reading the stories once per registry generation."""
        generation = self._registry.generation()
        with self._lock:
            if generation != self._generation:
                # Each story's pairs were found when it was stored: no story is read again.
                self._table = alias_table(self._registry.alias_pairs())
                self._pattern = _compile(self._table)
                self._generation = generation
            return self._table, self._pattern


def learn(texts: Iterable[str]) -> dict[str, str]:
    """Return {lower-cased description: name} for descriptions that name exactly one thing."""
    return alias_table(pair for text in texts for pair in story_aliases(text))


def story_aliases(text: str) -> set[tuple[str, str]]:
    """Return the (lower-cased description, name) pairs one story's text states."""
    pairs: set[tuple[str, str]] = set()
    for pattern in _PARENT:
        for m in pattern.finditer(text):
            pairs.add((f"{m.group('of')} parent".lower(), m.group("name")))
    for pattern in _DESCRIBED:
        for m in pattern.finditer(text):
            pairs.add((f"the {m.group('what')}".lower(), m.group("name")))
    for m in _ACRONYM.finditer(text):
        words = m.group(1).replace("-", " ").split()
        short = m.group(2)
        if "".join(w[0] for w in words[-len(short) :]).upper() == short:
            pairs.add((" ".join(words[-len(short) :]).lower(), short))
    return pairs


def alias_table(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return {description: name} for the descriptions the pairs give exactly one name."""
    seen: dict[str, set[str]] = defaultdict(set)
    for what, name in pairs:
        seen[what].add(name)
    return {
        what: next(iter(names))
        for what, names in seen.items()
        if len(names) == 1 and what not in _VAGUE and len(next(iter(names))) >= _MIN_NAME
    }


def _compile(table: dict[str, str]) -> re.Pattern[str] | None:
    """Return one case-insensitive pattern matching any description, longest first."""
    if not table:
        return None
    keys = sorted(table, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(k) for k in keys) + r")\b", re.I)
