"""The CLI acts on one library at a time (--server), on the real bundled model; and its edges."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from index.models import RawDocument
from index.services import build_services
from index.settings import Settings
from newsbot.cli import main
from tests.fakes import FakeEmbedder
from tests.library_stories import LUMEN as STORY
from tests.library_stories import QUESTION


def _run(*args: str) -> int:
    return main(list(args))


@pytest.mark.model
def test_a_story_of_server_1_answers_there_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "data")
    story = tmp_path / "story.md"
    story.write_text(STORY, encoding="utf-8")
    assert _run("--data-dir", data, "ingest", "--server", "1", str(story)) == 0
    capsys.readouterr()

    def ask(*server: str) -> dict[str, object]:
        assert _run("--data-dir", data, "ask", QUESTION, "--json", *server) == 0
        return json.loads(capsys.readouterr().out)

    assert ask("--server", "2")["refused"] is True
    answered = ask("--server", "1")
    assert answered["refused"] is False and "140 engineers" in str(answered["answer"])
    assert ask()["refused"] is True  # the shared library holds only the samples
    assert _run("--data-dir", data, "articles", "--json", "--server", "2") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert _run("--data-dir", data, "articles", "--json", "--server", "1") == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert _run("--data-dir", data, "remove", "--server", "2", listed["id"]) == 2  # not B's
    assert _run("--data-dir", data, "remove", "--server", "1", listed["id"]) == 0


def test_folder_ingest_names_the_files_it_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "stories"
    folder.mkdir()
    (folder / "lumen.md").write_text(STORY, encoding="utf-8")
    (folder / "notes.docx").write_bytes(b"PK\x03\x04")
    data = str(tmp_path / "data")
    assert _run("--data-dir", data, "ingest", str(folder)) == 0  # a skip is not a failure
    out = capsys.readouterr().out.replace("\n", "")  # Rich wraps at the terminal's width
    assert "skipped" in out and "notes.docx" in out and ".docx is not a story file type" in out


def test_stats_prints_the_absolute_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _run("--data-dir", "rel-data", "stats") == 0
    assert f"data_dir: {tmp_path / 'rel-data'}" in capsys.readouterr().out


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`newsbot articles --json | head -3` used to end with "cannot use ...: Broken pipe"."""
    data = tmp_path / "data"
    services = build_services(Settings(_env_file=None, data_dir=data), embedder=FakeEmbedder())  # type: ignore[call-arg]
    # Stories of their own words: 200 copies differing in one word would be a degenerate
    # geometry for the approximate search that the start-up self-query check then flags.
    docs = [RawDocument(text=STORY.replace("Lisbon", " ".join(_words(i))), origin=f"s{i}",
                        id=f"s{i}") for i in range(200)]  # fmt: skip
    assert services.ingestor.ingest(docs).ok  # far more JSON than a pipe buffers
    services.close()
    env_cmd = [sys.executable, "-m", "newsbot.cli", "--data-dir", str(data)]
    shell = f"{' '.join(env_cmd)} articles --json | head -3; exit ${{PIPESTATUS[0]}}"
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Broken pipe" not in done.stderr and done.stderr == ""


def _words(i: int) -> list[str]:
    """Return a few made-up place words that differ from story to story."""
    rng = random.Random(i)
    return ["".join(rng.choice("bcdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3))
            for _ in range(8)]  # fmt: skip
