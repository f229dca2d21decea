"""Several processes on one shared state: PostgreSQL for the registry, a Chroma server for vectors.

Each `build_services` here stands for a process on its own machine: its own data directory
(BM25 index, no embedded Chroma), the same database url and Chroma server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.review import review_story
from index.services import Services, build_services
from index.settings import Settings
from tests.backends import fresh_database
from tests.chroma_server import ChromaServer, chroma_executable
from tests.fakes import FakeEmbedder
from tests.library_stories import LUMEN, QUESTION
from tests.postgres_server import PostgresServer

pytestmark = pytest.mark.skipif(chroma_executable() is None, reason="chroma CLI not installed")


@pytest.fixture
def two_machines(
    chroma_server: ChromaServer,
    postgres_server: PostgresServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Services, Services]]:
    """Return two processes' services on one PostgreSQL database and one Chroma server."""
    database = fresh_database(postgres_server, monkeypatch)
    url = next(database)
    machines = [
        build_services(_settings(tmp_path / name, url, chroma_server), embedder=FakeEmbedder())
        for name in ("machine-a", "machine-b")
    ]
    yield machines[0], machines[1]
    for services in machines:
        services.close()
    next(database, None)


def _settings(data_dir: Path, url: str, chroma: ChromaServer) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data_dir, database_url=url, chroma_host=chroma.host,
        chroma_port=chroma.port, refusal_threshold=0.3,
    )  # fmt: skip


def _settings(data_dir: Path, url: str, chroma: ChromaServer) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data_dir, database_url=url, chroma_host=chroma.host,
        chroma_port=chroma.port, refusal_threshold=0.3,
    )  # fmt: skip


def test_a_story_one_process_adds_is_answered_by_another_at_once(
    two_machines: tuple[Services, Services], tmp_path: Path
) -> None:
    ingester, bot = two_machines
    assert bot.ask(QUESTION).refused  # B's BM25 and caches are built over an empty index
    story = tmp_path / "lumen.md"
    story.write_text(LUMEN, encoding="utf-8")
    [added] = ingester.ingest_sources([str(story)]).added
    answer = bot.ask(QUESTION)
    assert not answer.refused and [c.article_id for c in answer.citations] == [added]
    # A moderator's retraction through A takes the story out of B's answers too.
    review_story(ingester.registry, added, "retracted", reviewed_by="mod")
    assert bot.ask(QUESTION).refused
    # Both processes' question logs are one log.
    assert ingester.registry.count_questions() == bot.registry.count_questions() == 3


def test_two_processes_writing_stories_take_turns_on_one_lock(
    two_machines: tuple[Services, Services],
) -> None:
    a, b = two_machines
    # The story write lock is PostgreSQL's, so it spans machines (no lock file is shared).
    with a.ingestor.guard.hold(), pytest.raises(TimeoutError), b.ingestor.guard.hold(timeout=0.2):
        pass
    with b.ingestor.guard.hold(timeout=1.0):  # free again once A is done
        pass
