"""A question asking for several things is answered first by the sentence that lists them."""

from __future__ import annotations

import numpy as np
import pytest

from index.rank import Candidate, asks_for_several, list_first

LISTS = "Companies involved, such as Mercor, Outlier, and Turing, hired writers to train AI."
TWO = "One insider described working for companies like Mercor and Outlier, earning $150 an hour."


def _cand(text: str, relevance: float, article_id: str = "a") -> Candidate:
    return Candidate(
        text=text, article_id=article_id, relevance=relevance, similarity=0.5, evidence=0.7,
        typed=True, vector=np.ones(3, dtype=np.float32),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("question", "several"),
    [
        ("Which companies?", True),
        ("What kinds of tasks do AI trainers do?", True),
        ("Which countries signed the pact?", True),
        ("What is the name of the new party?", False),
        ("Which US national park was flooded?", False),
        ("Out of 200 breeds, which was the most searched?", False),
        ("What does it cost?", False),
    ],
)
def test_a_question_asks_for_several_things_only_when_it_names_them_in_the_plural(
    question: str, several: bool
) -> None:
    assert asks_for_several(question) is several


def test_a_close_listing_sentence_of_the_same_story_comes_first() -> None:
    ranked = [_cand(TWO, 0.43), _cand("Writers train AI.", 0.3), _cand(LISTS, 0.29)]
    assert [c.text for c in list_first("Which companies?", ranked)] == [
        LISTS, TWO, "Writers train AI.",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("question", "listing"),
    [
        ("Which company hired them?", _cand(LISTS, 0.4)),  # asks for one
        ("Which companies?", _cand(LISTS, 0.2)),  # under half the best's relevance
        ("Which companies?", _cand(LISTS, 0.4, article_id="b")),  # another story: not cited
    ],
)
def test_the_ranking_stands_otherwise(question: str, listing: Candidate) -> None:
    ranked = [_cand(TWO, 0.43), listing]
    assert list_first(question, ranked) == ranked


def test_a_best_sentence_that_lists_already_stays_first() -> None:
    ranked = [_cand(LISTS, 0.43), _cand(LISTS.replace("Turing", "Scale"), 0.42)]
    assert list_first("Which companies?", ranked) == ranked
