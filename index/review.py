"""Moderator reviews of stories: validate, store, and return the story as answers now see it."""

from __future__ import annotations

from index.errors import ArticleNotFoundError, InvalidReviewError
from index.library import Libraries
from index.models import REVIEW_STATUSES, Article, ReviewStatus
from index.plain import plain_line
from index.registry import Registry

# A note is shown under the story in /story info and beside disputed citations: keep it short.
NOTE_MAX_CHARS = 300
# Not a status: drops the moderator's review, so the story's own provenance applies again.
CLEAR = "clear"
REVIEWER_MAX_CHARS = 100


def check_status(status: str) -> ReviewStatus:
    """Return the status when it is one of the four review statuses; raise otherwise."""
    wanted = status.strip().lower()
    for known in REVIEW_STATUSES:
        if wanted == known:
            return known
    raise InvalidReviewError(
        f"Unknown review status {status[:40]!r}; use one of: {', '.join(REVIEW_STATUSES)}"
        f" (or {CLEAR} to drop a review)."
    )


def check_confidence(confidence: int | None) -> int | None:
    """Return a confidence of 0-100 (or None); raise otherwise."""
    if confidence is None:
        return None
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int)
        or not 0 <= confidence <= 100
    ):
        raise InvalidReviewError(
            f"Confidence must be a whole number from 0 to 100, not {confidence!r}."
        )
    return confidence


def clean_note(note: str | None) -> str | None:
    """Return the note on one line without control characters (None when empty); raise if long."""
    if note is None:
        return None
    text = plain_line(note)
    if len(text) > NOTE_MAX_CHARS:
        raise InvalidReviewError(
            f"The note is {len(text)} characters long; please keep it under {NOTE_MAX_CHARS}."
        )
    return text or None


def review_story(
    registry: Registry,
    article_id: str,
    status: str,
    *,
    confidence: int | None = None,
    note: str | None = None,
    reviewed_by: str | None = None,
    libraries: Libraries | None = None,
) -> Article:
    """Record a moderator's review of a story of the libraries (None: any) (or, with CLEAR, drop
    it so the page's own provenance applies again) and return the story as answers now see it."""
    if registry.get_article(article_id, libraries) is None:  # another server's story: unknown
        raise ArticleNotFoundError(article_id)
    if status.strip().lower() == CLEAR:
        if not registry.clear_review(article_id):
            raise ArticleNotFoundError(article_id)
        return _current(registry, article_id)
    checked = check_status(status)
    confidence = check_confidence(confidence)
    note = clean_note(note)
    by = " ".join((reviewed_by or "").split())[:REVIEWER_MAX_CHARS] or None
    if not registry.set_review(article_id, checked, confidence, note, by):
        raise ArticleNotFoundError(article_id)
    return _current(registry, article_id)


def _current(registry: Registry, article_id: str) -> Article:
    """Return the story as answers now see it."""
    article = registry.get_article(article_id)
    if article is None:  # removed between the two calls
        raise ArticleNotFoundError(article_id)
    return article
