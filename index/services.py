"""The composition root: build the core services once, for the CLI and the bot alike."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, replace
from datetime import date

from index.answer import Answerer
from index.embed import Embedder, QueryCache, SentenceTransformerEmbedder
from index.errors import StoreDamagedError
from index.follows import FollowService
from index.ingest import Ingestor
from index.lexical import LexicalIndex
from index.models import Answer, IngestReport, RawDocument
from index.registry import Registry
from index.repair import Repairer
from index.retrieve import Mode, Retriever
from index.settings import Settings
from index.sources import iter_documents
from index.store import ChromaStore, VectorStore

log = logging.getLogger(__name__)


@dataclass
class Services:
    """The core services, wired together."""

    settings: Settings
    registry: Registry
    store: VectorStore
    embedder: Embedder
    ingestor: Ingestor
    retriever: Retriever
    answerer: Answerer
    follows: FollowService
    repairer: Repairer

    def ask(
        self,
        question: str,
        *,
        private: bool = False,
        guild_id: int | None = None,
        log_question: bool = True,
    ) -> Answer:
        """Answer a question as of today and log it under its server (None: the CLI)."""
        self.ingestor.guard.catch_up()  # stories another process added since are found too
        answer = self.answerer.answer(question, today=date.today())
        if log_question:
            cited = [c.article_id for c in answer.citations]
            qid = self.registry.log_question(
                answer.question,
                answer.refused,
                cited,
                answer.confidence,
                private=private,
                guild_id=guild_id,
            )
            answer = replace(answer, question_id=qid)
        return answer

    def fetch(self, url: str) -> RawDocument:
        """Fetch a story from a URL under the fetch policy."""
        from index.fetch import FetchPolicy
        from index.html import fetch_article

        s = self.settings
        policy = FetchPolicy(
            timeout_s=s.fetch_timeout,
            max_bytes=s.fetch_max_bytes,
            allow_private_hosts=frozenset(s.fetch_allow_private_hosts),
        )
        return fetch_article(url, policy)

    def ingest_sources(self, sources: list[str], **kwargs: object) -> IngestReport:
        """Ingest files, folders and URLs; see Ingestor.ingest for keyword arguments."""
        return self.ingestor.ingest(iter_documents(sources, self.fetch), **kwargs)  # type: ignore[arg-type]

    def ensure_samples(self) -> IngestReport | None:
        """Ingest the bundled sample stories when the index is empty."""
        if self.registry.count_articles() > 0:
            return None
        return self.ingest_sources([str(self.settings.samples_dir)], added_by="newsbot (samples)")

    def use_retriever(self, mode: Mode) -> None:
        """Switch retrieval between hybrid, dense and bm25 (for evaluation)."""
        self.retriever.mode = mode

    def close(self) -> None:
        """Record a clean exit, then release the registry connection."""
        self.ingestor.guard.release()
        self.registry.close()


REGISTRY_FIX = (
    "Restore a backup (`newsbot restore BACKUP`). Without one, move the file aside and add the "
    "stories again with `newsbot ingest`; reviews, the question log and follows are lost."
)


def open_registry(settings: Settings) -> Registry:
    """Open the SQLite registry; raise StoreDamagedError naming the file if it is unusable."""
    try:
        return Registry(settings.db_path)
    except sqlite3.DatabaseError as exc:
        raise StoreDamagedError(settings.db_path, str(exc), REGISTRY_FIX) from exc


def build_services(settings: Settings, *, embedder: Embedder | None = None) -> Services:
    """Wire the services from settings; tests pass a small fake embedder."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    registry = open_registry(settings)
    store = ChromaStore.from_settings(settings)
    embedder = embedder or SentenceTransformerEmbedder(
        settings.embedding_model, settings.embedding_batch_size
    )
    ingestor = Ingestor(registry, store, embedder, settings)
    repairer = Repairer(registry, store, embedder, ingestor.guard)
    repaired = repairer.repair(sample=settings.start_check_sample)
    if repaired:
        log.warning("repaired %d interrupted stories: %s", len(repaired), ", ".join(repaired))
    # The lexical index lives beside the SQLite registry it mirrors, even with a Chroma server.
    lexical = LexicalIndex(registry, settings.data_dir / "lexical")
    retriever = Retriever(store, registry, QueryCache(embedder), lexical, settings.retriever)
    answerer = Answerer(registry, retriever, settings)
    return Services(
        settings=settings,
        registry=registry,
        store=store,
        embedder=embedder,
        ingestor=ingestor,
        retriever=retriever,
        answerer=answerer,
        follows=FollowService(registry, answerer, settings),
        repairer=repairer,
    )
