"""A question asking for several things is answered first by a sentence that lists them."""

from __future__ import annotations

import re

from index.excerpts import profile
from index.rank._select import Candidate
from index.rank._spans import has_list

# Only the ranker's best few are looked at, and a listing sentence of the same story must be at
# least this likely, against the best, to take its place: a list of wrong things answers nothing.
LOOK_AT = 3
SHARE_OF_BEST = 0.5
# "Which companies", "what kinds of"; never "what is", "which was" or "which US state". Stricter
# than the ranker's own list feature (`wants_several`), which stays as the bundled model was
# trained (docs/quality.md, issue 12 session 10).
_SEVERAL = re.compile(
    r"\b(?:kinds?|types?|sorts?) of\b"
    r"|\b(?:which|what) (?!(?:is|was|has|does|this|its|us|as|news)\b)[A-Za-z]+(?:ies|s)\b",
    re.I,
)


def asks_for_several(question: str) -> bool:
    """Return True when a question names the things it asks for in the plural."""
    return bool(_SEVERAL.search(question))


def list_first(question: str, candidates: list[Candidate]) -> list[Candidate]:
    """Return the candidates with a close listing sentence first when the question asks for
    several things ("Which companies?") and the best one lists none; else unchanged."""
    if len(candidates) < 2 or not asks_for_several(question):
        return candidates
    q = profile(question)
    best = candidates[0]
    if has_list(q, best.text):
        return candidates
    for i, cand in enumerate(candidates[1:LOOK_AT], start=1):
        close = cand.relevance >= SHARE_OF_BEST * best.relevance
        if cand.article_id == best.article_id and close and has_list(q, cand.text):
            return [cand, *candidates[:i], *candidates[i + 1 :]]
    return candidates
