"""Split cleaned stories into sentences and overlapping chunks, all verbatim spans."""

from __future__ import annotations

import re
from collections.abc import Iterator

from index.models import Chunk, KeyQuestion

# A sentence ends at . ! ? or … (optionally followed by closing quotes/brackets), then space,
# then something that can start a sentence.
_BOUNDARY = re.compile(r"""[.!?…]+["”’')\]]*\s+(?=["“‘'(\[]?[A-Z0-9$£€])""")
# Words whose trailing period does not end a sentence.
# fmt: off
_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "inc", "ltd", "co", "corp", "vs",
    "etc", "e.g", "i.e", "u.s", "u.k", "u.n", "a.m", "p.m", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no", "gen", "gov", "sen", "rep", "lt",
    "col", "sgt",
})
# fmt: on
_WORD = re.compile(r"\S+")
# The longest "sentence" kept whole, in characters. Real sentences are far shorter; a longer one
# is a list, a table or a file without punctuation, and is cut at spaces (or anywhere, if it has
# none) so a chunk, an embedding input and an excerpt stay bounded. Pieces stay verbatim.
MAX_SENTENCE_CHARS = 1_000
# A chunk of `size` words holds at most size * CHARS_PER_WORD characters (news averages ~6).
CHARS_PER_WORD = 12


def _ends_with_abbreviation(text: str) -> bool:
    """Return True when text ends with an abbreviation or an initial such as 'J.'."""
    last = text.rsplit(None, 1)[-1].rstrip(".").lower().lstrip("(\"“‘'")
    return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())


def sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) offsets of the sentences of text, line by line."""
    pos = 0
    for line in text.split("\n"):
        start = pos
        line_end = pos + len(line)
        for match in _BOUNDARY.finditer(line):
            end = pos + match.end()
            candidate = text[start:end].rstrip()
            if _ends_with_abbreviation(candidate):
                continue
            yield from _trimmed(text, start, end)
            start = end
        yield from _trimmed(text, start, line_end)
        pos = line_end + 1


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Yield the span without surrounding whitespace, if anything is left."""
    segment = text[start:end]
    stripped = segment.strip()
    if stripped:
        offset = start + (len(segment) - len(segment.lstrip()))
        yield from _capped(text, offset, offset + len(stripped))


def _capped(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Yield the span in pieces of at most MAX_SENTENCE_CHARS, cut at the last space if any."""
    while end - start > MAX_SENTENCE_CHARS:
        limit = start + MAX_SENTENCE_CHARS
        cut = text.rfind(" ", start + 1, limit + 1)
        cut = cut if cut > start else limit
        yield start, cut
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        yield start, end


def split_sentences(text: str) -> list[str]:
    """Return the sentences of text, each a verbatim substring of it."""
    return [text[s:e] for s, e in sentence_spans(text)]


def word_count(text: str) -> int:
    """Return the number of whitespace-separated words."""
    return len(_WORD.findall(text))


def _key_question_span(text: str, key_questions: tuple[KeyQuestion, ...]) -> tuple[int, int]:
    """Return the offsets covering the Key Questions pairs, or an empty span."""
    if not key_questions:
        return (len(text), len(text))
    first = text.rfind(key_questions[0].question)
    last = text.rfind(key_questions[-1].answer)
    if first < 0 or last < first:
        return (len(text), len(text))
    return (first, last + len(key_questions[-1].answer))


def chunk_article(
    article_id: str,
    text: str,
    key_questions: tuple[KeyQuestion, ...] = (),
    *,
    size: int = 120,
    overlap: int = 30,
) -> list[Chunk]:
    """Return sentence-aligned body chunks of about `size` words, then one per Key Question."""
    kq_start, kq_end = _key_question_span(text, key_questions)
    spans = [(s, e) for s, e in sentence_spans(text) if not (kq_start <= s < kq_end)]
    chunks: list[Chunk] = []
    for group in _windows(text, spans, size, overlap):
        n = len(chunks)
        body = text[group[0][0] : group[-1][1]]
        sentences = tuple(text[s:e] for s, e in group)
        chunks.append(Chunk(f"{article_id}:{n}", article_id, n, "body", body, sentences))
    for kq in key_questions:
        n = len(chunks)
        answer_sentences = tuple(split_sentences(kq.answer)) or (kq.answer,)
        chunks.append(
            Chunk(
                f"{article_id}:{n}",
                article_id,
                n,
                "kq",
                f"{kq.question}\n{kq.answer}",
                answer_sentences,
            )
        )
    return chunks


def _windows(
    text: str, spans: list[tuple[int, int]], size: int, overlap: int
) -> Iterator[list[tuple[int, int]]]:
    """Group sentence spans into windows of about `size` words overlapping by `overlap` words."""
    counts = [word_count(text[s:e]) for s, e in spans]
    # Words alone do not bound a chunk: a 1,000-character cut of a space-less text is one word.
    max_chars = size * CHARS_PER_WORD
    i = 0
    while i < len(spans):
        j, words = i, 0
        while j < len(spans) and (
            (words < size and spans[j][1] - spans[i][0] < max_chars) or j == i
        ):
            words += counts[j]
            j += 1
        yield spans[i:j]
        if j >= len(spans):
            return
        # Step back over trailing sentences worth `overlap` words, but always advance.
        back, k = 0, j
        while k - 1 > i and back + counts[k - 1] <= overlap:
            k -= 1
            back += counts[k]
        i = max(k, i + 1)
