"""`newsbot migrate`: an embedded installation copied to PostgreSQL (and a Chroma server),
verified by counts, and usable from there by a new process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index import feedback
from index.registry import Registry
from index.services import Services, build_services
from index.settings import Settings
from newsbot import cli, migrate_cli
from tests.backends import fresh_database
from tests.chroma_server import ChromaServer, chroma_executable
from tests.fakes import FakeEmbedder
from tests.postgres_server import PostgresServer

QUESTION = "Are Hollywood writers being replaced by AI?"
MEMBER, SERVER = 111_222_333_444_555_666, 987_654_321_098_765_432


@pytest.fixture
def target(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Return an empty PostgreSQL database; the installation itself stays on SQLite."""
    database = fresh_database(postgres_server, monkeypatch)
    url = next(database)
    monkeypatch.delenv("NEWSBOT_DATABASE_URL")
    yield url
    next(database, None)


@pytest.fixture
def used(seeded: Services) -> Services:
    """Return an embedded installation with a question, a vote, a follow and a setting."""
    qid = seeded.ask(QUESTION, guild_id=SERVER).question_id
    assert qid is not None
    feedback.record_vote(seeded.registry, qid, MEMBER, helpful=False, reason="too short")
    seeded.follows.follow(MEMBER, QUESTION, guild_id=SERVER)
    seeded.servers.set(SERVER, "use_shared_library", "false")
    return seeded


def _counts(registry: Registry) -> dict[str, int]:
    with registry.read() as db:
        return {
            t: int(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
            for t in ("articles", "chunks", "sentences", "questions", "feedback", "follows",
                      "server_settings", "reviews")
        }  # fmt: skip


def test_migrate_copies_every_table_and_the_copy_works(
    used: Services, settings: Settings, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _counts(used.registry)
    data = str(settings.data_dir)
    assert cli.main(["--data-dir", data, "migrate", "--to", target]) == 0
    assert "Every count matches" in capsys.readouterr().out
    copy = Registry(settings.db_path, url=target)
    assert _counts(copy) == before and before["sentences"] > 0 and before["feedback"] == 1
    [seed] = [a for a in used.registry.list_articles() if "Hollywood" in a.title][:1]
    assert copy.get_article(seed.id) == seed
    assert copy.get_meta("feedback.salt") == used.registry.get_meta("feedback.salt")
    # New ids follow the copied ones (PostgreSQL's identity was moved past them).
    last = used.registry.count_questions()
    assert copy.log_question("next?", False, [], 0.5) == last + 1


def test_migrate_refuses_a_target_that_is_not_empty_and_changes_nothing(
    used: Services, settings: Settings, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(settings.data_dir)
    assert cli.main(["--data-dir", data, "migrate", "--to", target]) == 0
    copied = _counts(Registry(settings.db_path, url=target))
    capsys.readouterr()
    assert cli.main(["--data-dir", data, "migrate", "--to", target]) == 2
    assert "already holds articles" in capsys.readouterr().err
    assert _counts(Registry(settings.db_path, url=target)) == copied


def test_migrate_refuses_a_url_that_is_not_postgresql(
    used: Services, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--data-dir", str(settings.data_dir), "migrate", "--to", "mysql://x/y"]) == 2
    assert "postgresql://" in capsys.readouterr().err


@pytest.mark.skipif(chroma_executable() is None, reason="chroma CLI not installed")
def test_migrate_moves_vectors_to_a_chroma_server_and_a_new_process_answers_from_there(
    used: Services, settings: Settings, target: str, chroma_server: ChromaServer, tmp_path: Path
) -> None:
    expected = used.ask(QUESTION, log_question=False)
    vectors = used.store.count()
    used.close()  # the old installation stops, as it would for the move
    server = ["--chroma-host", chroma_server.host, "--chroma-port", str(chroma_server.port)]
    argv = ["--data-dir", str(settings.data_dir), "migrate", "--to", target, *server]
    assert cli.main(argv) == 0
    moved = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path / "elsewhere", database_url=target,
        chroma_host=chroma_server.host, chroma_port=chroma_server.port, refusal_threshold=0.3,
    )  # fmt: skip
    services = build_services(moved, embedder=FakeEmbedder())
    try:
        assert services.store.count() == vectors == services.registry.count_chunks()
        answer = services.ask(QUESTION, log_question=False)
        assert [c.article_id for c in answer.citations] == [
            c.article_id for c in expected.citations
        ]
        assert services.ensure_samples() is None  # not a new installation: no samples again
    finally:
        services.close()


def _server_args(settings: Settings, target: str, chroma_server: ChromaServer) -> list[str]:
    server = ["--chroma-host", chroma_server.host, "--chroma-port", str(chroma_server.port)]
    return ["--data-dir", str(settings.data_dir), "migrate", "--to", target, *server]


def _moved(tmp_path: Path, target: str, chroma_server: ChromaServer) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path / "elsewhere", database_url=target,
        chroma_host=chroma_server.host, chroma_port=chroma_server.port, refusal_threshold=0.3,
    )  # fmt: skip


@pytest.mark.skipif(chroma_executable() is None, reason="chroma CLI not installed")
def test_re_embed_with_a_new_model_rewrites_every_vector_and_the_copy_answers_on_it(
    used: Services, settings: Settings, target: str, chroma_server: ChromaServer,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    expected = used.ask(QUESTION, log_question=False)
    chunk_ids = sorted(used.store.chunk_ids())
    old_sentences = used.registry.sentences_for(chunk_ids)
    used.close()
    new_model = FakeEmbedder(dim=128)  # another model: another dimension, so nothing old fits
    monkeypatch.setattr(migrate_cli, "_embedder", lambda s: new_model)
    assert cli.main([*_server_args(settings, target, chroma_server), "--re-embed"]) == 0
    out = capsys.readouterr().out
    assert "Every count matches" in out and "sentence vectors" in out
    assert new_model.texts_encoded == len(chunk_ids) + len(old_sentences)
    services = build_services(_moved(tmp_path, target, chroma_server), embedder=FakeEmbedder(128))
    try:
        assert sorted(services.store.chunk_ids()) == chunk_ids
        assert services.store.vectors(chunk_ids[:1]).shape == (1, 128)
        moved = services.registry.sentences_for(chunk_ids)
        assert [(s.chunk_id, s.idx) for s in moved] == [(s.chunk_id, s.idx) for s in old_sentences]
        assert {s.vector.shape for s in moved} == {(128,)}
        answer = services.ask(QUESTION, log_question=False)
        assert [c.article_id for c in answer.citations] == [
            c.article_id for c in expected.citations
        ]
    finally:
        services.close()
    # The embedded installation is left as it was (its sentence vectors keep the old model).
    source = Registry(settings.db_path)
    assert {s.vector.shape for s in source.sentences_for(chunk_ids)} == {(384,)}
    source.close()


@pytest.mark.skipif(chroma_executable() is None, reason="chroma CLI not installed")
def test_missing_vectors_stop_the_copy_before_anything_is_written_and_re_embed_moves_them(
    used: Services, settings: Settings, target: str, chroma_server: ChromaServer,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    [story, *_] = used.registry.list_articles()
    used.store.delete_article(story.id)  # the embedded index lost a story's vectors
    chunks = used.registry.count_chunks()
    used.close()
    assert cli.main(_server_args(settings, target, chroma_server)) == 2
    err = capsys.readouterr().err
    assert f"vectors for the registry's {chunks} chunks" in err and "--re-embed" in err
    assert _counts(Registry(settings.db_path, url=target))["articles"] == 0  # nothing copied
    monkeypatch.setattr(migrate_cli, "_embedder", lambda s: FakeEmbedder())
    assert cli.main([*_server_args(settings, target, chroma_server), "--re-embed"]) == 0
    services = build_services(_moved(tmp_path, target, chroma_server), embedder=FakeEmbedder())
    try:
        assert services.store.count() == chunks == services.registry.count_chunks()
        assert services.store.chunk_counts()[story.id] == story.chunk_count
    finally:
        services.close()


def test_re_embed_needs_a_chroma_server(
    used: Services, settings: Settings, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--data-dir", str(settings.data_dir), "migrate", "--to", target, "--re-embed"]
    assert cli.main(argv) == 2
    assert "give --chroma-host" in capsys.readouterr().err
    assert _counts(Registry(settings.db_path, url=target))["articles"] == 0
