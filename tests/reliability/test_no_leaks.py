"""A long-running bot reloads Chroma after every write and commands run in-process in tests:
neither may leave files, threads or sockets open behind it (a leak of about 30 descriptors a
reload once made the process run past 1024 open files)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from index.settings import Settings
from index.store import ChromaStore
from newsbot import cli
from tests.fakes import FakeEmbedder

ROUNDS = 8
SLACK = 6  # a descriptor or two may be opened lazily by the first rounds (logging, caches)


def _open_descriptors() -> int:
    """Count this process's open file descriptors."""
    return len(os.listdir("/proc/self/fd"))


def test_reloading_the_embedded_store_releases_the_old_client(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    store = ChromaStore.from_settings(settings)
    vector = np.ones((1, 8), dtype=np.float32) / np.sqrt(8)
    store.collection.add(ids=["a:0"], embeddings=vector, documents=["a"], metadatas=[{"x": 1}])
    store.refresh()
    assert store.count() == 1
    before = _open_descriptors()
    for _ in range(ROUNDS):
        store.refresh()
        assert store.count() == 1  # a fresh client, reading what is on disk
    assert _open_descriptors() - before <= SLACK
    store.close()
    assert store.count() == 1  # a closed store reopens on next use
    store.close()


def test_commands_run_in_process_close_what_they_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setattr("index.services.SentenceTransformerEmbedder", lambda *a: FakeEmbedder())
    data = str(tmp_path / "data")
    assert cli.main(["--data-dir", data, "ask", "Are writers training AI?"]) == 0
    before = _open_descriptors()
    for _ in range(ROUNDS):
        assert cli.main(["--data-dir", data, "ask", "Are writers training AI?"]) == 0
        assert cli.main(["--data-dir", data, "stats"]) == 0
    assert _open_descriptors() - before <= SLACK
    assert "[1]" in capsys.readouterr().out


def test_a_stale_search_index_is_reloaded_once_and_real_damage_still_reported(
    tmp_path: Path,
) -> None:
    from chromadb.errors import InternalError

    from index.errors import StoreDamagedError

    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    store = ChromaStore.from_settings(settings)
    clients: list[object] = []

    def stale_once(col: object) -> int:
        clients.append(store._client)
        if len(clients) == 1:  # what Chroma raises when its index names a deleted vector
            raise InternalError("Error executing plan: Internal error: Error finding id")
        return 7

    assert store._call(stale_once) == 7
    assert len(clients) == 2 and clients[0] is not clients[1]  # retried on a reloaded client

    def always(col: object) -> int:
        raise InternalError("Error executing plan: Internal error: Error finding id")

    with pytest.raises(StoreDamagedError):
        store._call(always)

    def broken(col: object) -> int:
        raise InternalError("Error executing plan: something else broke")

    calls = len(clients)
    with pytest.raises(StoreDamagedError, match="something else broke"):
        store._call(broken)
    assert len(clients) == calls  # no reload for what is not a stale index
    store.close()
