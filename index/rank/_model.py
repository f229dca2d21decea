"""The learned sentence ranker: a logistic regression stored as a small JSON file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import NewsbotError
from index.rank._features import FEATURES

MODEL_FILE = "ranker.json"


class RankerModelError(NewsbotError):
    """The ranker model file is missing, unreadable or made for other features."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"ranker model {path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RankerModel:
    """Scaled features -> probability that a sentence holds the answer."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    # Relevance a later excerpt needs on its own (the only way a second story gets cited), and
    # from a story already cited when it holds the asked-for kind of answer.
    support_bar: float
    typed_bar: float
    info: dict[str, Any] = field(default_factory=dict)  # how it was trained, CV figures
    # From a story already cited, any excerpt at least this relevant (None: only typed ones).
    story_bar: float | None = None
    # The FEATURES columns it was trained on, in its coefficients' order: features added later
    # are computed but unused until `newsbot train-ranker` fits a model that names them.
    features: tuple[str, ...] = FEATURES

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Return one probability per row of a FEATURES matrix."""
        if x.size == 0:
            return np.zeros(0)
        if self.features != FEATURES:
            x = x[:, [FEATURES.index(f) for f in self.features]]
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-z)))

    def passes(self, relevance: float, *, typed: bool, cited: bool) -> bool:
        """Return True when an excerpt after the first answers well enough to be quoted."""
        if relevance >= self.support_bar:
            return True
        if not cited:
            return False  # a second story is cited only for an excerpt that answers on its own
        if typed and relevance >= self.typed_bar:
            return True
        return self.story_bar is not None and relevance >= self.story_bar

    def to_json(self) -> str:
        """Return the model as JSON (the file format)."""
        data = {
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "support_bar": self.support_bar,
            "typed_bar": self.typed_bar,
            "story_bar": self.story_bar,
            "info": self.info,
        }
        return json.dumps(data, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str, origin: str = MODEL_FILE) -> RankerModel:
        """Return the model stored in text; raise RankerModelError if it does not fit."""
        try:
            data = json.loads(text)
            names = tuple(data["features"])
            if not set(names) <= set(FEATURES) or len(data["coef"]) != len(names):
                raise RankerModelError(origin, "trained on other features; run train-ranker")
            return cls(
                mean=np.array(data["mean"], dtype=np.float64),
                scale=np.array(data["scale"], dtype=np.float64),
                coef=np.array(data["coef"], dtype=np.float64),
                intercept=float(data["intercept"]),
                support_bar=float(data["support_bar"]),
                typed_bar=float(data["typed_bar"]),
                story_bar=None if data.get("story_bar") is None else float(data["story_bar"]),
                info=dict(data.get("info") or {}),
                features=names,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise RankerModelError(origin, f"unreadable ({exc})") from exc


def load_model(path: Path | None = None) -> RankerModel:
    """Return the ranker at path, or the one shipped in this package."""
    if path is not None:
        try:
            return RankerModel.from_json(path.read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            raise RankerModelError(str(path), exc.strerror or "cannot be read") from exc
    text = resources.files("index.rank").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return RankerModel.from_json(text)
