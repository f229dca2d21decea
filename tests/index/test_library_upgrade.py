"""A data directory made by the version before libraries keeps working after the upgrade.

tests/data/v8-datadir.tar.gz was written by that version (commit d2dc852) on the fake embedder:
the two samples, one story of ours (id fc01ffe2c4773, ingested from /tmp/v8/story.md), one
question asked in server 111 and the single digest's schedule state.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from index.library import SHARED
from index.services import Services, build_services
from index.settings import Settings
from tests.fakes import FakeEmbedder

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "v8-datadir.tar.gz"
OURS = "fc01ffe2c4773"
QUESTION = "How many engineers does the Lumenwave robotics lab employ?"


def _old_data_dir(tmp_path: Path) -> Path:
    with tarfile.open(FIXTURE) as tar:
        tar.extractall(tmp_path, filter="data")
    return tmp_path / "data"


@pytest.fixture
def upgraded(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Services]:
    guild_ids = getattr(request, "param", [])
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=_old_data_dir(tmp_path), refusal_threshold=0.3,
        guild_ids=guild_ids,
    )  # fmt: skip
    services = build_services(settings, embedder=FakeEmbedder())
    yield services
    services.close()


def test_old_stories_become_the_shared_library(upgraded: Services) -> None:
    assert upgraded.stories.count((SHARED,)) == 3
    for guild in (None, 111, 222):
        answer = upgraded.ask(QUESTION, guild_id=guild)
        assert [c.article_id for c in answer.citations] == [OURS], guild
    # The old vectors were given their library: the scoped Chroma query finds them.
    vector = upgraded.retriever.embed_question(QUESTION)
    assert upgraded.store.query(vector, 5, None, (SHARED,))
    assert upgraded.ensure_samples() is None  # an old data directory is not new


@pytest.mark.parametrize("upgraded", [[111]], indirect=True)
def test_with_one_served_server_old_stories_are_its_own(upgraded: Services) -> None:
    assert upgraded.stories.count((111,)) == 3 and upgraded.stories.count((SHARED,)) == 0
    assert upgraded.stories.get(OURS, (111,)).library == 111  # existing ids keep working
    assert not upgraded.ask(QUESTION, guild_id=111).refused
    assert upgraded.ask(QUESTION, guild_id=222).refused


def test_question_log_and_digest_state_keep_their_meaning(upgraded: Services) -> None:
    old = upgraded.registry.questions_since(datetime(2000, 1, 1, tzinfo=UTC))
    assert [(q.question, q.guild_id) for q in old] == [(QUESTION, 111)]
    digest = upgraded.digest(111)
    assert digest.last_run() is None  # until the server owning the old channel adopts it
    assert digest.adopt_legacy_state()
    assert digest.last_run() == datetime(2026, 11, 30, 9, tzinfo=UTC)
    assert not upgraded.digest(222).adopt_legacy_state()  # moved once, to one server
    built = digest.build(datetime(2026, 12, 7, 10, tzinfo=UTC))
    assert built.start == datetime(2026, 11, 30, 9, tzinfo=UTC)
