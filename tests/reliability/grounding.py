"""The grounding property every answer must have, whatever the input."""

from __future__ import annotations

import re

from index.models import Answer
from index.services import Services


def assert_grounded(
    services: Services, answer: Answer, *, gone: frozenset[str] = frozenset()
) -> None:
    """Check that every excerpt is verbatim in its cited story and the markers match the sources.

    `gone` names stories removed since the answer was made: their text can no longer be checked.
    """
    s = services.settings
    if answer.refused:
        assert not answer.excerpts and not answer.citations
        return
    numbers = [c.n for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1))
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == set(numbers) == {e.n for e in answer.excerpts}
    assert 0 < len(answer.excerpts) <= s.max_excerpts
    assert sum(len(e.text) for e in answer.excerpts) <= s.answer_chars
    for e in answer.excerpts:
        cited = next(c for c in answer.citations if c.n == e.n)
        assert e.text in cited.excerpts and e.text in answer.text
        if cited.article_id in gone:
            continue
        article = services.registry.get_article(cited.article_id)
        assert article is not None, f"{cited.article_id} is cited but not indexed"
        assert e.text in article.text, (e.text, cited.article_id)
