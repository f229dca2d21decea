"""Short verbatim windows: an unsure or short best sentence is quoted with its neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from index.rank import Candidate, _window, widen_first, window

PAY = "Pay starts at $150 per hour for experienced screenwriters and showrunners, the firms said."
STORY = (
    "Writers are training AI models.\n\n"
    "Mercor, Outlier and Turing hire them for the work.\n\n"
    f"{PAY}\n\n"
    + "A much longer closing paragraph that goes on and on about other things entirely. "
    * 6
)


def cand(text: str, relevance: float, vector: bool = True) -> Candidate:
    """Return a candidate from story 'a' with the given text and relevance."""
    vec = np.ones(2, dtype=np.float32) if vector else None
    return Candidate(text, "a", relevance, 0.5, 0.5, False, vec)


def test_window_adds_the_neighbours_verbatim(monkeypatch: pytest.MonkeyPatch) -> None:
    got = window(STORY, "Mercor, Outlier and Turing hire them for the work.")
    assert got in STORY  # verbatim and contiguous, paragraph breaks included (the default)
    assert got.startswith("Writers are training")
    assert got.endswith("the firms said.")
    monkeypatch.setattr(_window, "CROSS_PARAGRAPHS", False)
    assert window(STORY, PAY) == PAY  # switched off, a window stays inside its paragraph


def test_window_stays_within_its_limit_and_falls_back_to_the_sentence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_window, "CROSS_PARAGRAPHS", True)
    sentence = PAY
    got = window(STORY, sentence, limit=len(sentence) + 60)
    assert got.endswith(sentence)  # the sentence before fits, the long one after does not
    assert got.startswith("Mercor")
    assert window(STORY, sentence, limit=10) == sentence
    assert window(STORY, "Not in the story at all.") == "Not in the story at all."


def test_widen_first_only_when_unsure_or_short(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_window, "CROSS_PARAGRAPHS", True)
    long_sentence = PAY
    sure = [cand(long_sentence, 0.9), cand("Writers are training AI models.", 0.2)]
    assert widen_first(sure, lambda _: STORY) == sure  # a confident long sentence stands alone
    unsure = [cand(long_sentence, 0.3), sure[1]]
    widened = widen_first(unsure, lambda _: STORY)
    assert widened[0].text != long_sentence and long_sentence in widened[0].text
    assert widened[1] == sure[1]
    short = [cand("Writers are training AI models.", 0.9)]
    assert widen_first(short, lambda _: STORY)[0].text.endswith("for the work.")
    gone = widen_first(unsure, lambda _: None)  # the story was deleted meanwhile
    assert gone == unsure
    key_answer = [cand(long_sentence, 0.3, vector=False)]  # a story's own Key Questions answer
    assert widen_first(key_answer, lambda _: STORY) == key_answer
