"""Sentence ranking: features of candidate sentences, the learned model that scores them, the
choice of excerpts, and the spans of an excerpt that answer the question."""

from index.rank._features import FEATURES, Context, feature_matrix, focus_terms, wants_several
from index.rank._later import passes_later
from index.rank._lists import asks_for_several, list_first
from index.rank._model import RankerModel, RankerModelError, load_model
from index.rank._select import Candidate, cut, select
from index.rank._spans import answer_spans
from index.rank._story import lead_sentences
from index.rank._window import widen_first, window

__all__ = [
    "FEATURES",
    "Candidate",
    "Context",
    "RankerModel",
    "RankerModelError",
    "answer_spans",
    "asks_for_several",
    "cut",
    "feature_matrix",
    "focus_terms",
    "lead_sentences",
    "list_first",
    "load_model",
    "passes_later",
    "select",
    "wants_several",
    "widen_first",
    "window",
]
