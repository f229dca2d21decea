"""Finding 3 of issue 13: a damaged data file gives one line naming it and the fix, exit 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import index.services
from newsbot.cli import main
from tests.fakes import FakeEmbedder
from tests.reliability.crashkit import ROOT, make_template


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a data directory holding the two seed stories."""
    data = tmp_path_factory.mktemp("damage") / "clean"
    make_template(data)
    return data


def _newsbot(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the real command line (fake embedder) on data."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    base.update(env, PYTHONPATH=str(ROOT), NEWSBOT_DATA_DIR=str(data))
    return subprocess.run(
        [sys.executable, "-m", "tests.reliability.cli_worker", *args], cwd=ROOT, env=base,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _garble(path: Path) -> None:
    """Overwrite a file with random bytes."""
    path.write_bytes(os.urandom(max(path.stat().st_size, 4096)))


@pytest.mark.parametrize("damaged", ["chroma/chroma.sqlite3", "newsbot.db"])
@pytest.mark.parametrize("command", [["stats"], ["ask", "Are writers replaced by AI?"]])
def test_a_damaged_file_is_named_in_one_line(
    clean: Path, tmp_path: Path, damaged: str, command: list[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(clean, data)
    _garble(data / damaged)
    done = _newsbot(data, *command)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(data / damaged) in lines[0] and "newsbot restore" in lines[0]
    assert done.stdout == ""


def test_the_bot_logs_the_damage_and_exits_2(clean: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(clean, data)
    _garble(data / "chroma" / "chroma.sqlite3")
    done = _newsbot(data, "run", NEWSBOT_DISCORD_TOKEN="not-a-real-token")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and str(data / "chroma" / "chroma.sqlite3") in errors[0], done.stderr


def test_damage_met_during_a_command_is_reported_too(
    clean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from chromadb.api.models.Collection import Collection
    from chromadb.errors import InternalError

    def broken(*args: object, **kwargs: object) -> None:
        raise InternalError("Error finding id")

    data = tmp_path / "data"
    shutil.copytree(clean, data)
    monkeypatch.setattr(index.services, "SentenceTransformerEmbedder", lambda *a: FakeEmbedder())
    monkeypatch.setattr(Collection, "query", broken)
    code = main(["--data-dir", str(data), "ask", "Are Hollywood writers being replaced by AI?"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert str(data / "chroma") in err and "Error finding id" in err
