"""The sentence ranker's parts on small text: features, answer spans, model file, selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.aliases import learn
from index.excerpts import answer_type, carries_answer, profile
from index.models import Answer, Citation, Excerpt
from index.present import answer_to_dict, answer_to_text, embolden, quote_body
from index.rank import (
    FEATURES,
    Candidate,
    Context,
    RankerModel,
    RankerModelError,
    answer_spans,
    feature_matrix,
    focus_terms,
    load_model,
    select,
)

TASKS = "These roles involve assessing chatbot responses, annotating data, and generating content."
TLDR = "Many professionals are working as AI trainers to earn income after the strikes."


def spans(question: str, text: str, wants_list: bool = False) -> list[str]:
    """Return the bold pieces of text for a question."""
    return [
        text[a:b] for a, b in answer_spans(profile(question), question, text, wants_list=wants_list)
    ]


def test_question_types() -> None:
    assert answer_type("What kinds of tasks do AI trainers do?") == "list"
    assert answer_type("How did the screenwriter describe the work?") == "quote"
    assert answer_type("What did the Facebook parent spend on Scale AI?") == "number"
    assert answer_type("Which companies hire writers?") == "entity"
    assert focus_terms("Which companies hire writers?") == frozenset({"compani", "hire"})


def test_a_list_answers_a_kinds_question_and_a_year_is_not_an_amount() -> None:
    kinds = profile("What kinds of tasks do AI trainers do?")
    assert carries_answer(kinds, TASKS)
    assert not carries_answer(
        kinds, "Insiders, including writers and showrunners, work as trainers."
    )
    pay = profile("How much do writers earn training AI?")
    assert not carries_answer(pay, "In 2023, Hollywood writers went on strike over AI.")
    assert carries_answer(pay, "Writers earn up to $150 per hour training AI.")


def test_answer_spans_are_verbatim_pieces() -> None:
    assert spans("What kinds of tasks do AI trainers do?", TASKS) == [
        "assessing chatbot responses, annotating data, and generating content"
    ]
    assert spans("How much do writers earn?", "In 2023, one earned up to $150 per hour.") == [
        "$150 per hour"
    ]
    text = "Companies involved, such as Mercor, Outlier, and Turing, hired writers."
    assert spans("Which companies hire writers?", text, wants_list=True) == [
        "Mercor, Outlier, and Turing"
    ]
    assert spans("Who hired Kanye West?", "Twitter locked rapper Kanye West's account.") == []
    assert spans(
        "Who locked the account?", "On Sunday Twitter locked the account of Kanye West."
    ) == [
        "Twitter",
        "Kanye West",
    ]
    assert spans("Is AI training good work?", TASKS) == []  # nothing in particular is asked


SOON = "How soon could shots for young children begin?"
WHY = "Why did some cities cancel their Fourth of July fireworks?"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How soon could the vaccines be available?", "date"),
        ("When will the launch be?", "date"),
        ("How long until the rocket flies again?", "date"),
        ("Why did cities cancel their fireworks?", "reason"),
        ("Prices rose due to what?", "reason"),
        ("What caused the outage?", "reason"),
        # The quantity named a few words after "what was the" is asked for; a name is not.
        ("What was the record high average price for a gallon of gas?", "number"),
        ("What is the name of the price-comparison site?", "entity"),
    ],
)
def test_when_why_and_quantity_questions_ask_for_their_kind(question: str, kind: str) -> None:
    assert answer_type(question) == kind


@pytest.mark.parametrize(
    ("question", "text", "bold"),
    [
        # News dates what is coming relative to its own day.
        (SOON, "The White House has said shots could begin as early as next week.", ["next week"]),
        (SOON, "It will be at least a few weeks before it flies.", ["at least a few weeks"]),
        (SOON, "The boosters should be ready within weeks.", ["within weeks"]),
        (SOON, "Boosters arrive later this month, on September 12.", ["later this month",
                                                                   "September 12"]),
        # A cause: its marker and the clause after it.
        (WHY, "As severe drought persists in the Southwest, cities cancel shows.",
         ["As severe drought persists in the Southwest"]),
        (WHY, "Prices are up in part because of the heat waves this summer.",
         ["because of the heat waves this summer"]),
        # A small count spelled as a word, as news style writes it.
        ("How many astronauts flew?", "All four astronauts wore suits made by SpaceX.", ["four"]),
    ],
)  # fmt: skip
def test_the_moment_or_cause_is_the_bold_span(question: str, text: str, bold: list[str]) -> None:
    assert spans(question, text) == bold
    assert carries_answer(profile(question), text)


@pytest.mark.parametrize(
    ("question", "text"),
    [
        (SOON, "He has worked on vaccines for three years at the agency."),  # a length of time
        (WHY, "As of Monday, Denver still plans its show."),  # "As of" dates, it gives no cause
        (WHY, "Several cities cancelled their fireworks shows."),  # restates what happened
    ],
)
def test_a_length_of_time_or_a_restatement_is_not_the_answer(question: str, text: str) -> None:
    assert not carries_answer(profile(question), text)
    assert spans(question, text) == []


def test_a_spelled_count_is_bold_for_how_many_only() -> None:
    text = "The four astronauts paid $55 million each for their seats."
    assert spans("How much did each astronaut pay?", text) == ["$55 million"]
    assert spans("How many astronauts paid?", text) == ["four", "$55 million"]


def test_embolden_escapes_each_piece_and_keeps_the_text() -> None:
    text = "Pay is *up* to $150 per hour."
    out = embolden(text, [(15, 28)], escape=lambda s: s.replace("*", "\\*"))
    assert out == "Pay is \\*up\\* to **$150 per hour**."
    assert embolden(text, []) == text


def test_a_quote_across_paragraphs_is_shown_on_one_line_and_stays_verbatim() -> None:
    text = "Writers train AI.\n\nPay is up to $150 per hour. \nIt varies."
    bold = ((text.index("$150"), text.index(" hour") + 5),)
    assert quote_body(text, bold) == "Writers train AI. Pay is up to **$150 per hour**. It varies."
    cited = Citation(1, "a", "T", None, "Pub", None, (text,))
    answer = Answer("Q?", False, (Excerpt(text, 1, bold),), (cited,))
    assert answer_to_text(answer).splitlines()[0] == (
        "\u201cWriters train AI. Pay is up to **$150 per hour**. It varies.\u201d [1]"
    )
    # The JSON contract keeps the story's own text: grounding compares it with the story.
    assert answer_to_dict(answer)["citations"][0]["excerpts"] == [text]


def _ctx(question: str, n: int) -> Context:
    return Context(profile(question), question, [0] * n, [0] * n, [False] * n, [0.0] * n)


def test_feature_matrix_separates_new_information_from_a_restatement() -> None:
    question = "What kinds of tasks do AI trainers do?"
    x = feature_matrix([TASKS, TLDR], np.array([0.5, 0.6]), _ctx(question, 2))
    col = {f: i for i, f in enumerate(FEATURES)}
    assert x.shape == (2, len(FEATURES))
    assert x[0, col["answer_type"]] == 1.0 and x[1, col["answer_type"]] == 0.0
    assert x[0, col["novelty"]] > x[1, col["novelty"]]
    assert x[1, col["similarity_rank"]] == 1.0 and x[0, col["similarity_rank"]] == 0.5
    assert feature_matrix([], np.zeros(0), _ctx(question, 0)).shape == (0, len(FEATURES))


def test_bundled_model_loads_and_ranks_an_answer_above_a_restatement() -> None:
    model = load_model()
    assert 0.0 < model.typed_bar <= model.support_bar < 1.0
    assert "cv_top1" in model.info  # trained by train-ranker, with its held-out figure
    question = "What kinds of tasks do AI trainers do?"
    x = feature_matrix([TASKS, TLDR], np.array([0.5, 0.55]), _ctx(question, 2))
    p = model.probabilities(x)
    assert p[0] > p[1]


def test_model_file_round_trips_and_refuses_other_features(tmp_path: Path) -> None:
    model = load_model()
    path = tmp_path / "m.json"
    path.write_text(model.to_json(), encoding="utf-8")
    again = load_model(path)
    assert again.support_bar == model.support_bar
    assert np.allclose(again.coef, model.coef)
    path.write_text(model.to_json().replace('"similarity"', '"cosine"', 1), encoding="utf-8")
    with pytest.raises(RankerModelError, match="other features"):
        load_model(path)
    with pytest.raises(RankerModelError):
        load_model(tmp_path / "missing.json")


def _cand(text: str, story: str, relevance: float, typed: bool = False) -> Candidate:
    return Candidate(text, story, relevance, 0.5, 0.7, typed, None)


def test_select_quotes_later_excerpts_only_when_they_pass() -> None:
    model = RankerModel(np.zeros(1), np.ones(1), np.zeros(1), 0.0, 0.6, 0.3)
    cands = [
        _cand("OpenAI raised $40 billion in a funding round led by SoftBank.", "openai", 0.9),
        _cand("Scale AI raised $1 billion from investors last year.", "scale", 0.5, typed=True),
        _cand("SoftBank will invest $30 billion of the total amount raised.", "openai", 0.4, True),
        _cand("The round is the largest private fundraising by any company.", "openai", 0.2),
    ]

    def passes(c: Candidate, chosen: list[Candidate]) -> bool:
        cited = any(o.article_id == c.article_id for o in chosen)
        return model.passes(c.relevance, typed=c.typed, cited=cited)

    chosen = select(cands, passes=passes, max_excerpts=3, budget=600, date_of=lambda _: None)  # type: ignore[arg-type,return-value]
    assert [c.article_id for c in chosen] == ["openai", "openai"]  # no padding from Scale AI


def test_aliases_name_one_thing_only() -> None:
    table = learn(
        [
            "Facebook parent Meta said so. Scale AI, a data-labeling startup, agreed.",
            "Advances in artificial intelligence (AI) chips.",
            "Acme, a robotics startup, and Beta, a robotics startup, merged.",
        ]
    )
    assert table["facebook parent"] == "Meta"
    assert table["the data-labeling startup"] == "Scale AI"
    assert table["artificial intelligence"] == "AI"
    assert "the robotics startup" not in table  # two names: ambiguous, never used
