"""Short verbatim windows: a sentence quoted with its neighbours from the same story."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from index.chunk import sentence_spans
from index.rank._select import Candidate

# Below this relevance the ranker is unsure the best sentence answers: its neighbours (news
# often names the fact in the sentence after the one that restates the question) are quoted too.
# Chosen with the model it serves: the 27-feature ranker spreads its probabilities wider than
# the 18-feature one did, and at 0.7 tech gains three hits, news2022 none lost (docs/quality.md).
UNSURE_BELOW = 0.7
# A sentence this short says too little on its own, however sure the ranker is.
SHORT_CHARS = 90
# A window never grows past this many characters (the answer's budget still applies).
WINDOW_CHARS = 420
# News paragraphs are one or two sentences, so most windows cross a paragraph break: crossing
# lifts answer-hit by 0.03-0.04 (docs/quality.md, session 5). The excerpt keeps the break
# verbatim; the layouts show it as one space (index/present.py `quote_body`).
CROSS_PARAGRAPHS = True
# Neighbours taken on each side of the sentence, the next one first.
AFTER = 1
BEFORE = 1


def window(text: str, sentence: str, limit: int = WINDOW_CHARS) -> str:
    """Return a verbatim slice of text: sentence plus the sentence after it and the one before,
    each only while the slice stays within `limit` characters (the sentence itself when it is
    not found or nothing fits)."""
    at = text.find(sentence)
    if at < 0:
        return sentence
    spans = list(sentence_spans(text))
    inside = [i for i, (s, e) in enumerate(spans) if s < at + len(sentence) and e > at]
    if not inside:
        return sentence
    start, end = min(at, spans[inside[0]][0]), max(at + len(sentence), spans[inside[-1]][1])
    first, last = inside[0], inside[-1]
    steps = [(+1, k) for k in range(AFTER)] + [(-1, k) for k in range(BEFORE)]
    for side, _ in sorted(steps, key=lambda s: s[1]):
        j = last + 1 if side > 0 else first - 1
        if not 0 <= j < len(spans):
            continue
        s, e = spans[j]
        new_start, new_end = min(start, s), max(end, e)
        crosses = "\n\n" in text[new_start:new_end]
        if new_end - new_start > limit or (crosses and not CROSS_PARAGRAPHS):
            continue
        start, end = new_start, new_end
        first, last = min(first, j), max(last, j)
    return text[start:end]


def widen_first(
    candidates: list[Candidate], story_text: Callable[[str], str | None]
) -> list[Candidate]:
    """Return the candidates with the best one quoted in its window when it is short or the
    ranker is unsure of it; the excerpts after it are chosen as before (they dedupe against it)."""
    if not candidates or candidates[0].vector is None:
        return candidates  # a story's own Key Questions answer stands alone
    best = candidates[0]
    if best.relevance >= UNSURE_BELOW and len(best.text) >= SHORT_CHARS:
        return candidates
    text = story_text(best.article_id)
    if text is None:
        return candidates
    return [replace(best, text=window(text, best.text)), *candidates[1:]]
