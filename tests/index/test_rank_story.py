"""Ranker features that find the answer lower in a story: answer-kind strength, nearness to
the question's words, rank inside the story, the neighbours."""

from __future__ import annotations

import numpy as np

from index.excerpts import profile
from index.rank import FEATURES, Context, RankerModel, feature_matrix, load_model
from index.rank._story import neighbour_values, rank_in_story
from index.rank._typed import asking_sentence, proximity, specific_match, typed_spans

PARK = "Which US national park was hit by severe flooding that washed out roads and bridges?"
RESTATED = "Severe flooding washed out roads and bridges across the region this week."
ANSWER = "Flooding in Yellowstone National Park washed out roads, officials said."
FAR = "Mark Smith, who has lived in the area for decades, said the flooding was the worst."


def test_specific_match_wants_the_sub_kind_of_answer() -> None:
    cost = profile("How much did the jet cost?")
    assert specific_match(cost, "How much did the jet cost?", "It cost $2 million.") == 1.0
    assert specific_match(cost, "How much did the jet cost?", "It seats 12 people.") == 0.0
    where = "Where did the storm make landfall?"
    assert specific_match(profile(where), where, "It made landfall in Florida on Monday.") == 1.0
    assert specific_match(profile(where), where, "The storm weakened quickly.") == 0.0
    who = "Who won the election?"
    assert specific_match(profile(who), who, "Voters chose Luiz Inacio Lula da Silva.") == 1.0
    assert specific_match(profile(who), who, "The election was close.") == 0.0
    when = "When will the law take effect?"
    assert specific_match(profile(when), when, "It takes effect in January.") == 1.0
    assert specific_match(profile(when), when, "It takes effect in 2024.") == 0.0


def test_proximity_prefers_an_answer_next_to_the_question_words() -> None:
    q = profile(PARK)
    near = proximity(q, ANSWER, typed_spans(q, PARK, ANSWER, wants_list=False))
    far = proximity(q, FAR, typed_spans(q, PARK, FAR, wants_list=False))
    assert near > far > 0.0
    assert proximity(q, RESTATED, typed_spans(q, PARK, RESTATED, wants_list=False)) == 0.0


def test_rank_in_story_and_neighbours() -> None:
    values = np.array([0.2, 0.9, 0.5, 0.4])
    assert rank_in_story(values, [0, 0, 1, 1]).tolist() == [0.5, 1.0, 1.0, 0.5]
    places = [("a:0", 0), ("a:0", 1), ("a:0", 3), ("b:0", 0)]
    assert neighbour_values(values, places, -1).tolist() == [0.0, 0.2, 0.0, 0.0]
    assert neighbour_values(values, places, +1).tolist() == [0.9, 0.0, 0.0, 0.0]
    assert neighbour_values(values, None, -1).tolist() == [0.0] * 4


def test_feature_matrix_marks_the_answer_below_a_restatement() -> None:
    texts = [RESTATED, ANSWER, FAR]
    ctx = Context(
        profile(PARK), PARK, [0, 0, 1], [0, 0, 0], [True, False, False], [0.0] * 3,
        [("s:0", 0), ("s:0", 1), ("s:1", 0)],
    )  # fmt: skip
    x = feature_matrix(texts, np.array([0.8, 0.7, 0.3]), ctx)
    col = {f: i for i, f in enumerate(FEATURES)}
    assert x.shape == (3, len(FEATURES))
    assert x[1, col["specific_match"]] == 1.0 and x[0, col["specific_match"]] == 0.0
    assert x[1, col["proximity"]] > x[2, col["proximity"]] > x[0, col["proximity"]]
    assert x[1, col["prev_similarity"]] == 0.8  # it follows the sentence most like the question
    assert x[0, col["story_similarity_rank"]] == 1.0 and x[1, col["story_similarity_rank"]] == 0.5


def test_the_asking_sentence_is_the_one_with_the_question_word() -> None:
    debut = "Microsoft retired its Internet Explorer browser this week. What year did it debut?"
    assert asking_sentence(debut) == "What year did it debut?"
    one = "Broadway's biggest stars were recognized this week at which awards show?"
    assert asking_sentence(one) == one
    texts = ["Microsoft retired its Internet Explorer browser this week.", "It debuted in 1995."]
    ctx = Context(profile(debut), debut, [0, 0], [0, 0], [False] * 2, [0.0] * 2)
    x = feature_matrix(texts, np.array([0.8, 0.4]), ctx)
    col = FEATURES.index("ask_overlap")
    assert x[1, col] > x[0, col] == 0.0


def test_a_model_trained_on_fewer_features_reads_its_own_columns() -> None:
    model = load_model()
    used = model.features[:3]
    small = RankerModel(
        model.mean[:3], model.scale[:3], model.coef[:3], 0.0, 0.5, 0.3, features=used
    )
    again = RankerModel.from_json(small.to_json())
    assert again.features == used
    x = np.random.default_rng(0).random((4, len(FEATURES)))
    expected = 1 / (1 + np.exp(-(((x[:, :3] - small.mean) / small.scale) @ small.coef)))
    assert np.allclose(again.probabilities(x), expected)
