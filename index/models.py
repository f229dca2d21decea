"""Plain data passed between the core's stages; no Chroma, SQLite or Discord types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

ReviewStatus = Literal["unreviewed", "verified", "disputed", "retracted"]
ChunkKind = Literal["body", "kq"]


@dataclass(frozen=True, slots=True)
class KeyQuestion:
    """One question/answer pair from a story's own "Key Questions" section."""

    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class Provenance:
    """What a story says about its own review, when it says anything."""

    review_status: ReviewStatus | None = None
    review_label: str | None = None  # the page's own words, e.g. "Human reviewed"
    confidence: int | None = None  # 0-100
    sources_reviewed: int | None = None
    official_sources: int | None = None
    # Set when a moderator reviewed the story; their status and confidence override the page's.
    note: str | None = None
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None

    def is_empty(self) -> bool:
        """Return True when the story stated nothing about its provenance."""
        return all(getattr(self, name) is None for name in self.__slots__)

    @property
    def retracted(self) -> bool:
        """Return True for a retracted story, which answers never cite."""
        return self.review_status == "retracted"

    @property
    def disputed(self) -> bool:
        """Return True for a disputed story, which is marked wherever it is cited."""
        return self.review_status == "disputed"


REVIEW_STATUSES: tuple[ReviewStatus, ...] = ("unreviewed", "verified", "disputed", "retracted")


@dataclass(frozen=True, slots=True)
class RawDocument:
    """A story as a source delivers it, before cleaning and parsing."""

    text: str
    origin: str  # file path or URL, used in messages
    kind: Literal["text", "html"] = "text"
    id: str | None = None
    title: str | None = None
    url: str | None = None
    source: str | None = None  # publisher
    published: str | None = None  # any date spelling; parsed later
    fallback_title: str | None = None  # e.g. derived from a file name
    # What identifies a source without a web address: a file's resolved path, an upload's
    # content hash and name (index/library.py). Never a bare file name: names clash.
    identity: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedStory:
    """A cleaned story with the metadata found in its text."""

    title: str | None
    text: str  # cleaned text; every excerpt ever quoted is a substring of it
    source: str | None = None
    published: date | None = None
    updated: date | None = None
    summary: str | None = None  # the story's own TL;DR or lead sentence
    key_questions: tuple[KeyQuestion, ...] = ()
    provenance: Provenance = field(default_factory=Provenance)


@dataclass(frozen=True, slots=True)
class Article:
    """An indexed story as the registry keeps it."""

    id: str
    title: str
    text: str
    url: str | None = None
    source: str | None = None
    published: date | None = None
    updated: date | None = None
    summary: str | None = None
    key_questions: tuple[KeyQuestion, ...] = ()
    provenance: Provenance = field(default_factory=Provenance)
    content_hash: str = ""
    origin: str | None = None
    added_at: datetime | None = None
    added_by: str | None = None
    chunk_count: int = 0
    library: int = 0  # the server whose library holds it; 0 is the shared library

    @property
    def date(self) -> date | None:
        """Return the date a reader should see: published, else updated."""
        return self.published or self.updated


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable span of a story: body text, or one Key Questions pair."""

    id: str  # f"{article_id}:{n}"
    article_id: str
    n: int
    kind: ChunkKind
    text: str  # verbatim substring of the article text
    sentences: tuple[str, ...]  # verbatim substrings of text, in order


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved chunk with its fused score (higher is better)."""

    chunk_id: str
    article_id: str
    kind: ChunkKind
    text: str
    score: float
    dense: float | None = None  # cosine similarity to the question, when known


@dataclass(frozen=True, slots=True)
class Outlet:
    """Another publisher's story about the same event as a cited one ("also reported by")."""

    source: str
    title: str
    url: str | None
    article_id: str


@dataclass(frozen=True, slots=True)
class Citation:
    """A numbered source of an answer, with the excerpts quoted from it."""

    n: int
    article_id: str
    title: str
    url: str | None
    source: str | None
    published: date | None
    excerpts: tuple[str, ...]
    provenance: Provenance = field(default_factory=Provenance)
    also_reported: tuple[Outlet, ...] = ()  # other publishers' stories of the same event

    @property
    def excerpt(self) -> str:
        """Return the first excerpt quoted from this source."""
        return self.excerpts[0]


@dataclass(frozen=True, slots=True)
class Excerpt:
    """One quoted span of an answer and the number of the source it comes from."""

    text: str
    n: int
    # [start, end) spans of text that answer the question: shown bold, the text stays verbatim.
    bold: tuple[tuple[int, int], ...] = ()

    @property
    def quoted(self) -> str:
        """Return the excerpt in quotation marks followed by its [n] marker."""
        return f"\u201c{self.text}\u201d [{self.n}]"


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A nearby story offered when a question is refused."""

    article_id: str
    title: str
    url: str | None
    published: date | None


@dataclass(frozen=True, slots=True)
class Claim:
    """What one cited story states: its citation number, the value, and the story's date."""

    n: int
    value: str
    published: date | None


@dataclass(frozen=True, slots=True)
class Disagreement:
    """Two cited stories about the same subject that state different values."""

    kind: str  # "figure" or "name"
    subject: tuple[str, ...]  # the content words both excerpts share
    claims: tuple[Claim, Claim]


@dataclass(frozen=True, slots=True)
class Answer:
    """The result of asking: quoted excerpts with numbered sources, or a refusal."""

    question: str
    refused: bool
    excerpts: tuple[Excerpt, ...] = ()
    citations: tuple[Citation, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    confidence: float = 0.0  # the evidence score that decided answer vs refusal
    disagreements: tuple[Disagreement, ...] = ()
    # Set when a question about the present is answered only by stories this many days old.
    stale_days: int | None = None
    # The question log's id for this answer (feedback refers to it); None when not logged.
    question_id: int | None = None
    # In a thread: the earlier question a follow-up was read with; None when read on its own.
    follows_up: str | None = None

    @property
    def text(self) -> str:
        """Return the answer as quoted excerpts, each followed by its [n] marker."""
        if self.refused:
            return REFUSAL_TEXT
        return " ".join(e.quoted for e in self.excerpts)

    @property
    def spans_months(self) -> bool:
        """Return True when the cited stories are far enough apart to date each excerpt."""
        dates = [c.published for c in self.citations if c.published]
        return len(dates) > 1 and (max(dates) - min(dates)).days > DATED_EXCERPTS_AFTER_DAYS

    @property
    def as_of(self) -> date | None:
        """Return the date of the newest cited story."""
        dates = [c.published for c in self.citations if c.published]
        return max(dates) if dates else None


REFUSAL_TEXT = "This question is not covered by the indexed stories."
DATED_EXCERPTS_AFTER_DAYS = 45  # cited stories further apart than this: show each excerpt's date


@dataclass(slots=True)
class IngestReport:
    """What one ingestion run did, per outcome."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (origin, reason)
    # Files a folder held that are not stories (an unsupported type): named, not failures.
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (origin, reason)

    @property
    def ok(self) -> bool:
        """Return True when nothing failed."""
        return not self.failed
