"""Whether an excerpt after the first is quoted: cite only what answers."""

from __future__ import annotations

from index.disagree import Quoted, find_disagreements
from index.rank._model import RankerModel
from index.rank._select import Candidate

# A second story's different figure or name for the first excerpt's fact is quoted (as a
# disagreement) at this share of the typed bar: its sharing the subject is evidence in itself.
DISAGREEMENT_SHARE = 0.5


def passes_later(ranker: RankerModel, cand: Candidate, chosen: list[Candidate]) -> bool:
    """Return True when an excerpt after the first answers well enough to be quoted: on its
    own, or from a cited story when of the asked-for kind, or as a second story's different
    figure or name for what the first excerpt states (shown as a disagreement)."""
    cited = any(c.article_id == cand.article_id for c in chosen)
    if ranker.passes(cand.relevance, typed=cand.typed, cited=cited):
        return True
    if cited or not cand.typed or cand.relevance < DISAGREEMENT_SHARE * ranker.typed_bar:
        return False
    pair = [Quoted(chosen[0].text, 1, None), Quoted(cand.text, 2, None)]
    return bool(find_disagreements(pair))
