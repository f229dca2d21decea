"""Sentence splitting and chunking: verbatim spans, sizes, overlap, Key Questions chunks."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from index.chunk import chunk_article, split_sentences, word_count
from index.models import KeyQuestion


def test_splits_sentences_and_keeps_abbreviations_together() -> None:
    text = "Dr. Smith met Mr. Jones in the U.S. today. They talked. Was it useful? Yes!"
    assert split_sentences(text) == [
        "Dr. Smith met Mr. Jones in the U.S. today.",
        "They talked.",
        "Was it useful?",
        "Yes!",
    ]


def test_lines_are_sentence_boundaries_and_quotes_stay_attached() -> None:
    text = "Heading line\n“It is stressful,” she said. “There is no other option.”\n— Anonymous"
    assert split_sentences(text) == [
        "Heading line",
        "“It is stressful,” she said.",
        "“There is no other option.”",
        "— Anonymous",
    ]


def test_decimal_numbers_do_not_split() -> None:
    assert split_sentences("Revenue rose 3.5 percent to $1.2 billion. Shares fell.") == [
        "Revenue rose 3.5 percent to $1.2 billion.",
        "Shares fell.",
    ]


def _story(n: int) -> str:
    return "\n".join(
        f"Sentence number {i} talks about topic {i % 7} in some detail." for i in range(n)
    )


def test_chunks_are_verbatim_sized_and_overlapping() -> None:
    text = _story(60)
    chunks = chunk_article("a1", text, size=50, overlap=15)
    assert len(chunks) > 5
    for i, c in enumerate(chunks):
        assert c.id == f"a1:{i}" and c.n == i and c.kind == "body"
        assert c.text in text
        assert all(s in c.text for s in c.sentences)
        assert word_count(c.text) >= 50 or i == len(chunks) - 1
    # Consecutive chunks share their boundary sentences (overlap), and together cover all.
    for a, b in itertools.pairwise(chunks):
        assert a.sentences[-1] in b.sentences
    covered = {s for c in chunks for s in c.sentences}
    assert covered == set(split_sentences(text))


def test_key_questions_become_their_own_chunks_not_body() -> None:
    kq = (KeyQuestion("Is it regulated?", "No, it is informal. Few rules apply."),)
    text = (
        "Body one is here and long enough.\nKey Questions\n"
        "Is it regulated?\nNo, it is informal. Few rules apply."
    )
    chunks = chunk_article("x", text, kq, size=20, overlap=5)
    body = [c for c in chunks if c.kind == "body"]
    kqs = [c for c in chunks if c.kind == "kq"]
    assert len(kqs) == 1 and kqs[0].text == "Is it regulated?\nNo, it is informal. Few rules apply."
    assert kqs[0].sentences == ("No, it is informal.", "Few rules apply.")
    assert all("informal" not in s for c in body for s in c.sentences)
    assert [c.n for c in chunks] == list(range(len(chunks)))


@given(st.text(max_size=3000), st.integers(20, 200), st.integers(0, 60))
def test_any_text_chunks_into_verbatim_spans(text: str, size: int, overlap: int) -> None:
    for c in chunk_article("p", text, size=size, overlap=min(overlap, size // 2)):
        assert c.text in text
        for s in c.sentences:
            assert s and s in text and s == s.strip()
