"""The composition root: build the core services once, for the CLI and the bot alike."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, replace

from index.answer import Answerer
from index.clock import Clock, SharedClock, clock_from_settings, utc_now
from index.conversation import Conversations
from index.digest import DigestService
from index.embed import Embedder, QueryCache, SentenceTransformerEmbedder
from index.errors import StoreDamagedError
from index.feedback import FeedbackService
from index.feeds import FeedService, FeedTable, PollContext
from index.feeds.corroboration import Corroboration
from index.fetch import FEED_CONTENT_TYPES, FetchedPage, FetchPolicy, fetch_url
from index.follows import FollowService
from index.ingest import Ingestor
from index.leases import Leases
from index.lexical import LexicalIndex
from index.library import SHARED, Libraries
from index.models import Answer, IngestReport, RawDocument
from index.registry import Registry
from index.repair import Repairer
from index.retrieve import Mode, Retriever
from index.sentence_search import SentenceIndex
from index.server_settings import ServerSettings
from index.settings import Settings
from index.store import ChromaStore, VectorStore
from index.stories import StoryService

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IndexStats:
    """What `newsbot stats` shows: one library's stories, and the whole index's size."""

    stories: int
    all_stories: int
    chunks: int
    vectors: int
    questions: int


@dataclass
class Services:
    """The core services, wired together; one per feature, sharing one clock."""

    settings: Settings
    registry: Registry  # for the services and tools on the core (bench, eval), not cogs or CLI
    store: VectorStore
    embedder: Embedder
    ingestor: Ingestor
    retriever: Retriever
    answerer: Answerer
    follows: FollowService
    stories: StoryService
    feedback: FeedbackService
    feeds: FeedService
    corroboration: Corroboration  # "also reported by" beside citations and digest stories
    servers: ServerSettings
    shared_clock: SharedClock  # read through `clock`
    repairer: Repairer
    conversations: Conversations
    leases: Leases  # once-only work across processes (digest posts, follow checks)

    @property
    def clock(self) -> Clock:
        """Return the one clock every service reads."""
        return self.shared_clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        """Move every service to another clock (tests and the bot move time)."""
        self.shared_clock.clock = clock

    def ask(
        self,
        question: str,
        *,
        private: bool = False,
        guild_id: int | None = None,
        log_question: bool = True,
        libraries: Libraries | None = None,
        thread_id: int | None = None,
    ) -> Answer:
        """Answer as a member of a server would (None: the CLI, from the shared library) and
        log the question under that server; `libraries` overrides the server's scope. In a
        thread, a follow-up is read with the thread's earlier questions and cited stories."""
        scope = self.servers.scope(guild_id) if libraries is None else libraries
        self.ingestor.guard.catch_up()  # stories another process added since are found too
        follow_up = None
        if thread_id is not None and guild_id is not None:
            follow_up = self.conversations.follow_up(question, thread_id, guild_id)
        answer = self.answerer.answer(
            question, today=self.clock().date(), libraries=scope, follow_up=follow_up
        )
        if follow_up is not None and follow_up.refers_back:
            answer = replace(answer, follows_up=follow_up.anchor)
        answer = self.corroboration.annotate(answer, scope)
        if log_question:
            cited = [c.article_id for c in answer.citations]
            qid = self.registry.log_question(
                answer.question,
                answer.refused,
                cited,
                answer.confidence,
                private=private,
                guild_id=guild_id,
                thread_id=thread_id,
            )
            answer = replace(answer, question_id=qid)
        return answer

    def digest(self, guild_id: int | None) -> DigestService:
        """Return a server's weekly digest, on its own settings and libraries."""
        scope = self.servers.scope(guild_id) if guild_id is not None else None
        return DigestService(
            self.registry, self.servers.for_guild(guild_id), embedder=self.embedder,
            answerer=self.answerer, guild_id=guild_id, libraries=scope,
            corroboration=self.corroboration,
        )  # fmt: skip

    def fetch_policy(self, *, feed: bool = False) -> FetchPolicy:
        """Return the fetch policy settings ask for (a feed's accepts feed content types)."""
        s = self.settings
        policy = FetchPolicy(
            timeout_s=s.fetch_timeout,
            max_bytes=s.fetch_max_bytes,
            allow_private_hosts=frozenset(s.fetch_allow_private_hosts),
        )
        return replace(policy, allowed_content_types=FEED_CONTENT_TYPES) if feed else policy

    def fetch(self, url: str) -> RawDocument:
        """Fetch a story from a URL under the fetch policy."""
        from index.html import fetch_article

        return fetch_article(url, self.fetch_policy())

    def fetch_feed(self, url: str, conditional: Mapping[str, str]) -> FetchedPage:
        """Fetch a feed document under the fetch policy, conditionally when validators are given."""
        return fetch_url(url, self.fetch_policy(feed=True), conditional)

    def ingest_sources(self, sources: list[str], **kwargs: object) -> IngestReport:
        """Ingest files, folders and URLs; see StoryService.ingest_sources for keywords."""
        return self.stories.ingest_sources(sources, **kwargs)  # type: ignore[arg-type]

    def ensure_samples(self) -> IngestReport | None:
        """Add the bundled samples once, on a new data directory (see StoryService)."""
        return self.stories.ensure_samples()

    def stats(self, libraries: Libraries) -> IndexStats:
        """Return the libraries' story count and the whole index's size."""
        r = self.registry
        return IndexStats(
            stories=r.count_articles(libraries), all_stories=r.count_articles(),
            chunks=r.count_chunks(), vectors=self.store.count(), questions=r.count_questions(),
        )  # fmt: skip

    def use_retriever(self, mode: Mode) -> None:
        """Switch retrieval between hybrid, dense and bm25 (for evaluation)."""
        self.retriever.mode = mode

    def __enter__(self) -> Services:
        """Use the services in a `with` block that closes them."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the services at the end of the block."""
        self.close()

    def close(self) -> None:
        """Record a clean exit, then release the registry connection and the vector store."""
        if self.ingestor.guard.wrote:  # what search misses now is this data's, not damage
            self.repairer.note_sound(self.settings.start_check_sample)
        self.ingestor.guard.release()
        self.registry.close()
        self.store.close()


REGISTRY_FIX = (
    "Restore a backup (`newsbot restore BACKUP`). Without one, move the file aside and add the "
    "stories again with `newsbot ingest`; reviews, the question log and follows are lost."
)


def open_registry(settings: Settings, clock: Clock = utc_now) -> Registry:
    """Open the registry (SQLite, or PostgreSQL with NEWSBOT_DATABASE_URL); raise
    StoreDamagedError naming the file if a SQLite one is unusable."""
    try:
        return Registry(
            settings.db_path,
            legacy_library=legacy_library(settings),
            url=settings.database_url.get_secret_value(),
            clock=clock,
        )
    except sqlite3.DatabaseError as exc:
        raise StoreDamagedError(settings.db_path, str(exc), REGISTRY_FIX) from exc


def legacy_library(settings: Settings) -> int:
    """Return the library stories of a data directory made before libraries join.

    With NEWSBOT_GUILD_IDS naming exactly one server they were that server's; otherwise (every
    server, or several) they were everyone's, so they become the shared library.
    """
    return settings.guild_ids[0] if len(settings.guild_ids) == 1 else SHARED


def build_services(
    settings: Settings, *, embedder: Embedder | None = None, clock: Clock | None = None
) -> Services:
    """Wire the services from settings; tests pass a small fake embedder or a fixed clock."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    now = SharedClock(clock or clock_from_settings(settings))
    registry = open_registry(settings, now)
    store = ChromaStore.from_settings(settings)
    embedder = embedder or SentenceTransformerEmbedder(
        settings.embedding_model, settings.embedding_batch_size
    )
    ingestor = Ingestor(registry, store, embedder, settings, now)
    repairer = Repairer(registry, store, embedder, ingestor.guard)
    repaired = repairer.repair(sample=settings.start_check_sample)
    if repaired:
        log.warning("repaired %d interrupted stories: %s", len(repaired), ", ".join(repaired))
    # The lexical index lives beside the SQLite registry it mirrors, even with a Chroma server.
    lexical = LexicalIndex(registry, settings.data_dir / "lexical")
    sentences = SentenceIndex(registry) if settings.sentence_search else None
    retriever = Retriever(
        store,
        registry,
        QueryCache(embedder),
        lexical,
        settings.retriever,
        sentences=sentences,
        feedback_terms=settings.feedback_terms,
    )
    answerer = Answerer(registry, retriever, settings)
    servers = ServerSettings(registry, settings)
    stories = StoryService(registry, ingestor, settings, lambda url: services.fetch(url))
    poll = PollContext(
        FeedTable(registry), stories, lambda url, cond: services.fetch_feed(url, cond),
        lambda url: services.fetch(url), settings.feed_max_items,
    )  # fmt: skip
    services = Services(
        settings=settings,
        registry=registry,
        store=store,
        embedder=embedder,
        ingestor=ingestor,
        retriever=retriever,
        answerer=answerer,
        follows=FollowService(registry, answerer, settings, scope=servers.scope, clock=now),
        stories=stories,
        feedback=FeedbackService(registry, now),
        feeds=FeedService(poll.table, poll, settings, now),
        corroboration=Corroboration(registry, embedder),
        servers=servers,
        shared_clock=now,
        repairer=repairer,
        conversations=Conversations(registry),
        leases=Leases(registry, settings.lease_seconds),
    )
    return services
