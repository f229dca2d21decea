"""Ingestion: parse, chunk, embed and store stories so that each is all-or-nothing."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import numpy as np

from index.chunk import chunk_article
from index.clock import Clock, utc_now
from index.embed import Embedder
from index.errors import ArticleNotFoundError, IngestError, SkippedFile
from index.library import SHARED, Libraries, library_name, scoped_id
from index.locking import WriteGuard
from index.models import Article, Chunk, IngestReport, RawDocument
from index.parse import parse_story, split_front_matter
from index.registry import Registry, SentenceRow
from index.self_check import check_after_write
from index.settings import Settings
from index.sources import canonical_url, scrubbed, web_url
from index.store import VectorStore

log = logging.getLogger(__name__)

Outcome = Literal["added", "updated", "unchanged"]
Progress = Callable[[str, str], None]  # (origin, outcome or failure reason)

MIN_TEXT_CHARS = 80  # shorter than this after cleaning is not a story worth citing


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A parsed story ready to embed: its chunks and the texts to encode."""

    article: Article
    chunks: list[Chunk]
    sentence_keys: list[tuple[str, int, str, str]]  # chunk_id, idx, role, text
    existed: bool

    def embed_texts(self) -> list[str]:
        """Return chunk texts (with the title, for context) then sentence texts."""
        title = self.article.title
        return [f"{title}\n{c.text}" for c in self.chunks] + [k[3] for k in self.sentence_keys]


class Ingestor:
    """Adds, replaces and removes stories in the registry and the vector store together."""

    def __init__(
        self,
        registry: Registry,
        store: VectorStore,
        embedder: Embedder,
        settings: Settings,
        clock: Clock = utc_now,
    ) -> None:
        self._registry = registry
        self._clock = clock
        self._store = store
        self._embedder = embedder
        self._settings = settings
        self.guard = WriteGuard(registry, store)  # one writer at a time, on fresh Chroma state

    def ingest(
        self,
        docs: Iterable[RawDocument | IngestError],
        *,
        added_by: str | None = None,
        progress: Progress | None = None,
        library: int = SHARED,
    ) -> IngestReport:
        """Ingest documents into a library in embedding batches; failures are reported, never
        raised."""
        report = IngestReport()
        written: list[str] = []
        batch: list[_Prepared] = []
        batch_texts = 0
        seen: set[str] = set()
        # Writing a batch to Chroma and SQLite overlaps with encoding the next one; one write is
        # in flight at most, in order. Stories stay pending until written, so a crash is safe.
        # One session for all batches: no other process's batch lands between two of ours.
        with (
            self.guard.session(),
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsbot-write") as writer,
        ):
            previous: Future[None] | None = None

            def flush(prepared: list[_Prepared]) -> None:
                nonlocal previous
                if not prepared:
                    return
                vectors = self._embed(prepared)
                if previous is not None:
                    previous.result()
                previous = writer.submit(self._record, prepared, vectors, report, progress)
                written.extend(c.id for p in prepared for c in p.chunks)

            for doc in docs:
                prepared = self._prepare_or_report(doc, added_by, seen, report, progress, library)
                if prepared is None:
                    continue
                batch.append(prepared)
                batch_texts += len(prepared.chunks) + len(prepared.sentence_keys)
                if batch_texts >= self._settings.ingest_batch_texts:
                    flush(batch)
                    batch, batch_texts = [], 0
            flush(batch)
            if previous is not None:
                previous.result()
            with self.guard.hold():  # still in the session: what the next reader loads
                check_after_write(self._store, written)
        return report

    def _prepare_or_report(
        self,
        doc: RawDocument | IngestError,
        added_by: str | None,
        seen: set[str],
        report: IngestReport,
        progress: Progress | None,
        library: int,
    ) -> _Prepared | None:
        """Prepare a document, or record why it fails or needs nothing, and return None."""
        if isinstance(doc, SkippedFile):
            report.skipped.append((doc.source, doc.reason))
            if progress:
                progress(doc.source, doc.reason)
            return None
        if isinstance(doc, IngestError):
            _fail(report, progress, doc.source, doc.reason)
            return None
        try:
            prepared = self._prepare(doc, added_by, seen, library)
        except IngestError as exc:
            _fail(report, progress, exc.source, exc.reason)
            return None
        if prepared is None:
            report.unchanged.append(doc.origin)
            if progress:
                progress(doc.origin, "unchanged")
        return prepared

    def ingest_one(
        self, doc: RawDocument, *, added_by: str | None = None, library: int = SHARED
    ) -> tuple[Outcome, str]:
        """Ingest one document into a library and return (outcome, article id); raise
        IngestError on failure."""
        prepared = self._prepare(doc, added_by, set(), library)
        if prepared is None:
            return "unchanged", self.article_id_for(doc, library)
        vectors = self._embed([prepared])
        with self.guard.hold([prepared.article.id]):
            self._write([prepared], vectors)
            check_after_write(self._store, [c.id for c in prepared.chunks])
        return ("updated" if prepared.existed else "added"), prepared.article.id

    def remove(self, article_id: str, libraries: Libraries | None = None) -> None:
        """Remove a story of the libraries (None: any) and every chunk of it; raise
        ArticleNotFoundError if there is no such story there."""
        with self.guard.hold([article_id]):
            if self._registry.get_article(article_id, libraries) is None:
                raise ArticleNotFoundError(article_id)
            # Vectors first: a crash in between leaves a pending row that repair() removes.
            self._registry.mark_pending(article_id)
            self._store.delete_article(article_id)
            self._registry.delete_article(article_id)

    def article_id_for(self, doc: RawDocument, library: int = SHARED) -> str:
        """Return the stable id a document is stored under in a library."""
        base = self._base_id(scrubbed(doc), library)
        if library != SHARED and self._registry.library_of(base) == library:
            return base  # a story this server had before libraries existed keeps its id
        return scoped_id(base, library)

    def _base_id(self, doc: RawDocument, library: int) -> str:
        """Return a document's identity as an id: its own id, canonical URL, source or text."""
        if doc.id:
            return re.sub(r"[^A-Za-z0-9_.-]", "_", doc.id)[:64]
        url = doc.url or split_front_matter(doc.text)[0].get("url")
        if url and web_url(url):
            return "u" + _digest(canonical_url(url))[:12]
        if doc.identity is not None:
            # A file's resolved path (an upload's hash and name): edit it, replace the story.
            legacy = self._legacy_file_id(doc, library)
            return legacy or "f" + _digest(doc.identity)[:12]
        if doc.fallback_title is not None and not doc.origin.startswith(("http:", "https:")):
            return "f" + _digest(doc.origin.rsplit("/", 1)[-1].lower())[:12]
        return "h" + _digest(" ".join(doc.text.split()))[:12]

    def _legacy_file_id(self, doc: RawDocument, library: int) -> str | None:
        """Return the id older versions gave this very file (same path as given), if stored."""
        if doc.identity is None or not doc.identity.startswith("file:"):
            return None
        legacy = "f" + _digest(doc.origin.rsplit("/", 1)[-1].lower())[:12]
        stored = self._registry.get_article(legacy, (library,))
        return legacy if stored is not None and stored.origin == doc.origin else None

    # -- stages -------------------------------------------------------------------------------

    def _prepare(
        self, doc: RawDocument, added_by: str | None, seen: set[str], library: int = SHARED
    ) -> _Prepared | None:
        """Parse and chunk a document; return None when the same version is already indexed."""
        article = self._build_article(scrubbed(doc), added_by, library)
        owner = self._registry.library_of(article.id)
        if owner is not None and owner != library:  # e.g. a JSONL id spelled like a scoped one
            raise IngestError(doc.origin, f"its id {article.id} is taken in {library_name(owner)}")
        if article.id in seen:
            raise IngestError(
                doc.origin, f"duplicate of a story earlier in this batch ({article.id})"
            )
        seen.add(article.id)
        stored_hash = self._registry.content_hash(article.id)
        if stored_hash == article.content_hash:
            return None
        s = self._settings
        chunks = chunk_article(
            article.id, article.text, article.key_questions, size=s.chunk_size,
            overlap=min(s.chunk_overlap, s.chunk_size // 2),
        )  # fmt: skip
        if not any(c.kind == "body" for c in chunks):
            raise IngestError(doc.origin, "no article text left after removing boilerplate")
        if len(chunks) > s.story_max_chunks:
            raise IngestError(doc.origin, f"the story makes {len(chunks):,} chunks, over the cap "
                              f"of {s.story_max_chunks:,} (NEWSBOT_STORY_MAX_CHUNKS)")  # fmt: skip
        article = replace(article, chunk_count=len(chunks))
        return _Prepared(article, chunks, _sentence_keys(article, chunks), stored_hash is not None)

    def _build_article(self, doc: RawDocument, added_by: str | None, library: int) -> Article:
        """Parse a raw document into an Article with its id and content hash."""
        cap = self._settings.story_max_chars
        if len(doc.text) > cap:  # before parsing: a huge text must cost nothing more
            raise IngestError(doc.origin, f"the story is {len(doc.text):,} characters long, over "
                              f"the cap of {cap:,} (NEWSBOT_STORY_MAX_CHARS)")  # fmt: skip
        meta, _ = split_front_matter(doc.text)
        story = parse_story(
            doc.text, title=doc.title, source=doc.source, published=doc.published,
            fallback_title=doc.fallback_title,
        )  # fmt: skip
        if len(story.text.strip()) < MIN_TEXT_CHARS:
            raise IngestError(doc.origin, "the story is empty or too short after cleaning")
        # Allow tomorrow: a story dated in a time zone ahead of UTC is not from the future.
        if story.published and story.published > (self._clock() + timedelta(days=1)).date():
            raise IngestError(doc.origin, f"the published date {story.published:%Y-%m-%d} is in "
                              "the future; fix it or leave it out")  # fmt: skip
        url = doc.url or meta.get("url")
        if url and not web_url(url):
            raise IngestError(doc.origin, "the link is not a valid http:// or https:// address")
        article = Article(
            id=self.article_id_for(doc, library),
            title=(story.title or doc.fallback_title or "Untitled story")[:300],
            text=story.text,
            url=canonical_url(url) if url else None,
            source=story.source,
            published=story.published,
            updated=story.updated,
            summary=story.summary,
            key_questions=story.key_questions,
            provenance=story.provenance,
            origin=doc.origin,
            added_at=self._clock(),
            added_by=added_by,
            library=library,
        )
        return replace(article, content_hash=_content_hash(article))

    def embed_texts_for(self, docs: list[RawDocument]) -> list[str]:
        """Return exactly the texts ingesting `docs` would encode (for benchmarks)."""
        prepared = [self._prepare(doc, None, set()) for doc in docs]
        return [t for p in prepared if p is not None for t in _unique(p.embed_texts())]

    def _embed(self, batch: list[_Prepared]) -> np.ndarray:
        """Encode a batch of stories in one call, each distinct text of a story once."""
        per_story = [p.embed_texts() for p in batch]
        # Overlapping chunks share sentences: encode each once per story, then fan out.
        unique = [_unique(texts) for texts in per_story]
        vectors = self._embedder.encode([t for u in unique for t in u])
        out: list[int] = []
        offset = 0
        for texts, u in zip(per_story, unique, strict=True):
            index = {t: offset + i for i, t in enumerate(u)}
            out.extend(index[t] for t in texts)
            offset += len(u)
        return vectors[out]

    def _record(
        self,
        batch: list[_Prepared],
        vectors: np.ndarray,
        report: IngestReport,
        progress: Progress | None,
    ) -> None:
        """Write an embedded batch and report each story's outcome."""
        with self.guard.hold(p.article.id for p in batch):
            self._write(batch, vectors)
        for prepared in batch:
            outcome = "updated" if prepared.existed else "added"
            getattr(report, outcome).append(prepared.article.id)
            if progress:
                progress(prepared.article.origin or prepared.article.id, outcome)

    def _write(self, batch: list[_Prepared], vectors: np.ndarray) -> None:
        """Write stories: pending rows, their vectors in one call, then each one's chunks and
        ready flag atomically. A crash anywhere leaves only pending rows, which repair() undoes."""
        chunks: list[Chunk] = []
        chunk_vectors: list[np.ndarray] = []
        metadatas: list[dict[str, Any]] = []
        sentences: list[list[SentenceRow]] = []
        offset = 0
        for p in batch:
            self._registry.begin_article(p.article)
            if p.existed:
                self._store.delete_article(p.article.id)  # drop chunks the new version lacks
            n_chunks, n_all = len(p.chunks), len(p.chunks) + len(p.sentence_keys)
            chunks.extend(p.chunks)
            chunk_vectors.append(vectors[offset : offset + n_chunks])
            metadatas.extend(chunk_metadata(p.article, c) for c in p.chunks)
            sentences.append(
                [SentenceRow(cid, idx, role, text, vec) for (cid, idx, role, text), vec in
                 zip(p.sentence_keys, vectors[offset + n_chunks : offset + n_all], strict=True)]
            )  # fmt: skip
            offset += n_all
        # One upsert per batch: each Chroma call has a large fixed cost (tens of ms).
        self._store.upsert(chunks, np.concatenate(chunk_vectors), metadatas)
        for p, rows in zip(batch, sentences, strict=True):
            self._registry.finish_article(p.article.id, p.chunks, rows)


def _unique(texts: list[str]) -> list[str]:
    """Return texts without repeats, in first-seen order."""
    return list(dict.fromkeys(texts))


def _fail(report: IngestReport, progress: Progress | None, origin: str, reason: str) -> None:
    """Record a failure in the report."""
    report.failed.append((origin, reason))
    if progress:
        progress(origin, f"failed: {reason}")


def _sentence_keys(article: Article, chunks: list[Chunk]) -> list[tuple[str, int, str, str]]:
    """Return the sentences to embed for excerpt scoring, with their roles."""
    keys: list[tuple[str, int, str, str]] = []
    kq = iter(article.key_questions)
    for c in chunks:
        if c.kind == "kq":
            keys.append((c.id, 0, "kq_q", next(kq).question))
            keys.extend((c.id, i + 1, "kq_a", s) for i, s in enumerate(c.sentences))
        else:
            keys.extend((c.id, i, "body", s) for i, s in enumerate(c.sentences))
    return keys


def chunk_metadata(article: Article, chunk: Chunk) -> dict[str, Any]:
    """Return the Chroma metadata a citation needs (no None values: Chroma rejects them)."""
    meta: dict[str, Any] = {"article_id": article.id, "n": chunk.n, "kind": chunk.kind,
                            "title": article.title, "library": article.library}  # fmt: skip
    if article.source:
        meta["source"] = article.source
    if article.url:
        meta["url"] = article.url
    # Integer timestamps let Chroma's `where` filter by date; 0 means undated (never filtered out).
    meta["published_ts"] = date_ts(article.date) if article.date else 0
    return meta


def date_ts(d: date) -> int:
    """Return midnight UTC of a date as a Unix timestamp."""
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def _content_hash(article: Article) -> str:
    """Return a hash of everything that, when changed, makes a new version of a story."""
    payload = [article.title, article.url, article.source, str(article.published),
               str(article.updated), article.text]  # fmt: skip
    return _digest(json.dumps(payload, ensure_ascii=False))


def _digest(text: str) -> str:
    """Return the hex SHA-256 of text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
