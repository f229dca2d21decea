"""Articles to and from registry rows (a moderator's review joined in as r_* columns)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from index.models import Article, KeyQuestion, Provenance

# What a story states about itself; a moderator's review lives in the reviews table instead.
PAGE_PROVENANCE = ("review_status", "review_label", "confidence", "sources_reviewed",
                    "official_sources")  # fmt: skip


@dataclass(frozen=True, slots=True)
class SentenceRow:
    """A stored sentence of a chunk with its vector."""

    chunk_id: str
    idx: int
    role: str
    text: str
    vector: np.ndarray


@dataclass(frozen=True, slots=True)
class LoggedQuestion:
    """One entry of the question log."""

    id: int
    asked_at: datetime
    question: str
    refused: bool
    article_ids: tuple[str, ...]
    private: bool = False
    guild_id: int | None = None  # the server it was asked in; None for the CLI and old rows


def _iso(d: date | None) -> str | None:
    """Return a date as YYYY-MM-DD, or None."""
    return d.isoformat() if d else None


def article_row(a: Article) -> tuple[object, ...]:
    """Return the INSERT parameters of an article."""
    added_at = (a.added_at or datetime.now(UTC)).isoformat(timespec="seconds")
    return (
        a.id, a.title, a.url, a.source, _iso(a.published), _iso(a.updated), a.summary,
        json.dumps([[kq.question, kq.answer] for kq in a.key_questions]),
        json.dumps({k: getattr(a.provenance, k) for k in PAGE_PROVENANCE
                    if getattr(a.provenance, k) is not None}),
        a.text, a.content_hash, a.origin, added_at, a.added_by, a.chunk_count, a.library,
    )  # fmt: skip


def article_from_row(row: Any) -> Article:
    """Build an Article from a registry row (sqlite3.Row or index.postgres.Row)."""
    return Article(
        id=row["id"],
        title=row["title"],
        text=row["text"],
        url=row["url"],
        source=row["source"],
        published=date.fromisoformat(row["published"]) if row["published"] else None,
        updated=date.fromisoformat(row["updated"]) if row["updated"] else None,
        summary=row["summary"],
        key_questions=tuple(KeyQuestion(q, a) for q, a in json.loads(row["key_questions"])),
        provenance=_provenance(row),
        content_hash=row["content_hash"],
        origin=row["origin"],
        added_at=datetime.fromisoformat(row["added_at"]),
        added_by=row["added_by"],
        chunk_count=row["chunk_count"],
        library=row["library"],
    )


def _provenance(row: Any) -> Provenance:
    """Return the page's own provenance, or a moderator's review of the story laid over it."""
    page = Provenance(**json.loads(row["provenance"]))
    columns = row.keys()  # `in row` would search the values
    if "r_status" not in columns or row["r_status"] is None:
        return page
    # Status and confidence are replaced together: the page's "85/100" was its own judgement.
    return replace(
        page,
        review_status=row["r_status"],
        review_label=None,
        confidence=row["r_confidence"],
        note=row["r_note"],
        reviewed_by=row["r_by"],
        reviewed_at=datetime.fromisoformat(row["r_at"]),
    )
