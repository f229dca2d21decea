"""Features of candidate sentences that separate an answer from a restatement of the question."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from index.excerpts import QuestionProfile, carries_answer, overlap, stem_terms
from index.rank._story import Place, neighbour_values, rank_in_story
from index.rank._typed import asking_sentence, proximity, specific_match, typed_spans

# The order of the columns of a feature matrix; the model file names them, so a model trained on
# another set of features is refused rather than misread.
FEATURES: tuple[str, ...] = (
    "similarity",  # cosine similarity of sentence and question
    "similarity_gap",  # how far below the best candidate's similarity
    "overlap",  # share of the question's content words in the sentence
    "answer_type",  # holds something new of the asked-for kind (name, figure, date)
    "chunk_rank",  # 1 / (1 + rank of its chunk in retrieval)
    "lead",  # among its story's first five body sentences
    "length",  # characters / 300
    "age_years",  # its story's age at the asking date
    "novelty",  # share of the sentence's content words not in the question (new information)
    "bm25",  # BM25 of the sentence among the candidates (log-scaled)
    "bm25_rel",  # that score over the best candidate's
    "focus",  # share of the question's focus words ("which *companies*") in the sentence
    "list_match",  # the question asks for several things and the sentence lists several
    "quote_match",  # the question asks how someone described something; the sentence quotes
    "story_rank",  # 1 / (1 + rank of its story among the distinct retrieved stories)
    # 1 / (1 + rank among this question's candidates): absolute scores vary from question to
    # question, ranks do not (held out, they lifted top-1 on news2022 from 0.49 to 0.58).
    "similarity_rank",
    "overlap_rank",
    "bm25_rank",
    # Which sentence of the story already judged relevant holds the answer (docs/quality.md,
    # session 6: most misses quote a restatement when the answer sits lower in the same story).
    "span_count",  # answer spans of the asked-for kind (names, figures...), capped at 3, / 3
    "specific_match",  # holds the question's sub-kind: money, a percentage, a place, a person
    "proximity",  # 1 / words between an answer span and the nearest question word
    "ask_overlap",  # share of the asking sentence's content words ("... What year did it debut?")
    "story_similarity_rank",  # 1 / (1 + rank of similarity among its own story's sentences)
    "story_bm25_rank",  # the same for BM25
    "prev_similarity",  # similarity of the sentence before it (0 when not a candidate)
    "next_similarity",  # similarity of the sentence after it
    "prev_overlap",  # word overlap of the sentence before it with the question
)
# The columns computed row by row; the rest are ranks and neighbours of those.
_ROW_FEATURES = 15

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
# The words right after these name what the question asks for: "which companies", "what kinds
# of tasks", "how much money".
_FOCUS = re.compile(
    r"\b(?:which|what|whose|how many|how much)\s+(?:(?:kinds?|types?|sorts?)\s+of\s+)?"
    r"((?:[A-Za-z'’-]+\s+){0,2}[A-Za-z'’-]+)",
    re.I,
)
_AUXILIARY = frozenset("is are was were do does did has have had will would can could".split())
_LIST_Q = re.compile(r"\b(kinds?|types?|sorts?) of\b|\b(which|what) \w+(ies|s)\b", re.I)
_LIST = re.compile(r"\w[^,.;]*,\s[^,.;]+,?\s(?:and|or)\s\w")
_DESCRIBE_Q = re.compile(
    r"\bhow did .+ (describe|call|characteri[sz]e|explain|put)\b|\bsaid\b", re.I
)
_QUOTE = re.compile(r"[\"“”]|\b(?:said|says|described|called)\b")
# Past a quarter all ages look alike to the ranker: the dev questions are weekly quizzes, so
# uncapped it learned "older is wrong" so strongly that an undated story (counted as 90 days old)
# beat any dated one a few months old.
AGE_CAP_YEARS = 0.25
_BM25_K1 = 1.2
_BM25_B = 0.75


@dataclass(frozen=True, slots=True)
class Context:
    """What the features of one question's candidates need besides the sentences."""

    profile: QuestionProfile
    question: str
    chunk_rank: list[int]  # per sentence
    story_rank: list[int]  # per sentence
    lead: list[bool]  # per sentence
    age_years: list[float]  # per sentence
    place: list[Place] | None = None  # per sentence: (chunk id, index), for its neighbours


def focus_terms(question: str) -> frozenset[str]:
    """Return the stemmed words that name what a question asks for (empty when none)."""
    match = _FOCUS.search(question)
    if not match:
        return frozenset()
    words = [w for w in match.group(1).split() if w.lower() not in _AUXILIARY]
    return stem_terms(" ".join(words[:2]))


def wants_several(question: str) -> bool:
    """Return True when a question asks for several things ("which companies", "what kinds of")."""
    return bool(_LIST_Q.search(question))


def feature_matrix(texts: list[str], sims: np.ndarray, ctx: Context) -> np.ndarray:
    """Return one row of FEATURES per candidate sentence."""
    q = ctx.profile
    focus = focus_terms(ctx.question)
    bm25 = _bm25(q.terms, texts)
    best_bm25 = max(bm25, default=0.0) or 1.0
    best_sim = float(sims.max()) if len(sims) else 0.0
    list_q = wants_several(ctx.question)
    describe_q = bool(_DESCRIBE_Q.search(ctx.question))
    rows = []
    for i, text in enumerate(texts):
        terms = stem_terms(text)
        novel = len(terms - q.terms) / len(terms) if terms else 0.0
        rows.append(
            (
                float(sims[i]),
                best_sim - float(sims[i]),
                overlap(q, text),
                float(carries_answer(q, text)),
                1.0 / (1 + ctx.chunk_rank[i]),
                float(ctx.lead[i]),
                len(text) / 300,
                min(ctx.age_years[i], AGE_CAP_YEARS),
                novel,
                math.log1p(bm25[i]),
                bm25[i] / best_bm25,
                len(focus & terms) / len(focus) if focus else 0.0,
                float(list_q and bool(_LIST.search(text))),
                float(describe_q and bool(_QUOTE.search(text))),
                1.0 / (1 + ctx.story_rank[i]),
            )
        )
    x = np.array(rows, dtype=np.float64).reshape(len(texts), _ROW_FEATURES)
    if not texts:
        return np.zeros((0, len(FEATURES)))
    col = {f: FEATURES.index(f) for f in ("similarity", "overlap", "bm25")}
    ranked = [_inverse_ranks(x[:, col[f]]) for f in ("similarity", "overlap", "bm25")]
    return np.column_stack([x, *ranked, _story_columns(texts, x, ctx, col, list_q)])


def _story_columns(
    texts: list[str], x: np.ndarray, ctx: Context, col: dict[str, int], list_q: bool
) -> np.ndarray:
    """Return the answer-span and own-story columns (span_count ... prev_overlap)."""
    q, typed = ctx.profile, []
    asking = stem_terms(asking_sentence(ctx.question))
    for text in texts:
        spans = typed_spans(q, ctx.question, text, wants_list=list_q)
        typed.append(
            (
                min(len(spans), 3) / 3,
                specific_match(q, ctx.question, text),
                proximity(q, text, spans),
                len(asking & stem_terms(text)) / len(asking) if asking else 0.0,
            )
        )
    sims, ov = x[:, col["similarity"]], x[:, col["overlap"]]
    return np.column_stack(
        [
            np.array(typed, dtype=np.float64),
            rank_in_story(sims, ctx.story_rank),
            rank_in_story(x[:, col["bm25"]], ctx.story_rank),
            neighbour_values(sims, ctx.place, -1),
            neighbour_values(sims, ctx.place, +1),
            neighbour_values(ov, ctx.place, -1),
        ]
    )


def _inverse_ranks(values: np.ndarray) -> np.ndarray:
    """Return 1 / (1 + rank) of each value, the largest ranked 0."""
    ranks = np.empty(len(values))
    ranks[np.argsort(-values, kind="stable")] = np.arange(len(values))
    return np.asarray(1.0 / (1.0 + ranks))


def _bm25(query: frozenset[str], texts: list[str]) -> list[float]:
    """Return each text's BM25 score for the query terms, with IDF over these texts."""
    if not texts or not query:
        return [0.0] * len(texts)
    bags = [Counter(_stems(t)) for t in texts]
    lengths = [sum(b.values()) for b in bags]
    mean_len = (sum(lengths) / len(lengths)) or 1.0
    n = len(texts)
    df = {t: sum(1 for b in bags if t in b) for t in query}
    idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in query}
    out = []
    for bag, length in zip(bags, lengths, strict=True):
        norm = _BM25_K1 * (1 - _BM25_B + _BM25_B * length / mean_len)
        out.append(
            sum(idf[t] * bag[t] * (_BM25_K1 + 1) / (bag[t] + norm) for t in query if t in bag)
        )
    return out


def _stems(text: str) -> list[str]:
    """Return the stemmed content words of text with repeats (stem_terms drops them)."""
    return [t for w in _WORD.findall(text) for t in stem_terms(w)]
