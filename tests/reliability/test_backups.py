"""Finding 6 of issue 13: `newsbot backup` then `newsbot restore` into a new data directory
answers identically, keeps reviews, and a bad backup changes nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from index.present import answer_to_dict
from tests.reliability.crashkit import (
    ROOT,
    SEED_QUESTIONS,
    make_template,
    open_services,
    question,
    write_stories,
)

QUESTIONS = [*SEED_QUESTIONS, question(1), question(3), "What did Q002corp analysts say?"]


def _newsbot(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real command line (fake embedder) on data."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(PYTHONPATH=str(ROOT), NEWSBOT_DATA_DIR=str(data), NEWSBOT_REFUSAL_THRESHOLD="0.3")
    return subprocess.run(
        [sys.executable, "-m", "tests.reliability.cli_worker", *args], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    """Return stdout of a command that must succeed."""
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _answers(data: Path) -> list[dict[str, Any]]:
    """Return the answers to QUESTIONS as `newsbot ask --json` prints them (no question id)."""
    services = open_services(data)
    try:
        answers = [answer_to_dict(services.ask(q, log_question=False)) for q in QUESTIONS]
    finally:
        services.close()
    return [{k: v for k, v in a.items() if k != "question_id"} for a in answers]


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a data dir with seeds, five more stories, a retraction and a question logged."""
    root = tmp_path_factory.mktemp("backup")
    data = root / "original"
    make_template(data)
    _ok(_newsbot(data, "ingest", str(write_stories(root / "more.jsonl", 5))))
    _ok(_newsbot(data, "review", "gen004", "--status", "retracted", "--note", "wrong figures"))
    _ok(_newsbot(data, "ask", question(2)))  # the question log must come along
    return data


@pytest.fixture(scope="module")
def made(original: Path) -> Path:
    """Return a backup of the original data directory."""
    backup = original.parent / "backup"
    assert "backed up 7 stories" in _ok(_newsbot(original, "backup", str(backup)))
    return backup


def test_restore_into_a_new_directory_answers_identically(
    original: Path, made: Path, tmp_path: Path
) -> None:
    backup = made
    restored = tmp_path / "restored"
    assert "restored 7 stories" in _ok(_newsbot(restored, "restore", str(backup)))
    before, after = _answers(original), _answers(restored)
    assert [a["citations"] for a in before] == [a["citations"] for a in after]
    assert before == after
    assert all(a["citations"] for a in after)
    listed = json.loads(_ok(_newsbot(restored, "articles", "--json")))
    assert listed == json.loads(_ok(_newsbot(original, "articles", "--json")))
    assert next(a for a in listed if a["id"] == "gen004")["review_status"] == "retracted"
    # The question log and everything else `stats` counts came along too.
    assert _ok(_newsbot(restored, "stats")).replace(str(restored), "") == _ok(
        _newsbot(original, "stats")
    ).replace(str(original), "")


def test_restore_over_a_damaged_directory_moves_the_old_files_aside(
    original: Path, made: Path, tmp_path: Path
) -> None:
    backup = made
    damaged = tmp_path / "damaged"
    shutil.copytree(original, damaged)
    (damaged / "chroma" / "chroma.sqlite3").write_bytes(os.urandom(8192))
    assert _newsbot(damaged, "stats").returncode == 2
    out = _ok(_newsbot(damaged, "restore", str(backup)))
    assert "moved the previous registry and index to" in out
    aside = [p for p in damaged.iterdir() if p.name.startswith("replaced-")]
    assert len(aside) == 1 and (aside[0] / "chroma" / "chroma.sqlite3").is_file()
    assert _answers(damaged) == _answers(original)


@pytest.mark.parametrize("broken", ["missing", "empty", "truncated vectors", "bad registry"])
def test_a_bad_backup_changes_nothing(
    original: Path, made: Path, tmp_path: Path, broken: str
) -> None:
    backup = tmp_path / "backup"
    if broken != "missing":
        shutil.copytree(made, backup)
    if broken == "empty":
        shutil.rmtree(backup)
        backup.mkdir()
    elif broken == "truncated vectors":
        (backup / "vectors.npy").write_bytes((backup / "vectors.npy").read_bytes()[:1000])
    elif broken == "bad registry":
        (backup / "newsbot.db").write_bytes(os.urandom(8192))
    target = tmp_path / "target"
    shutil.copytree(original, target)
    listing = sorted(p.relative_to(target) for p in target.rglob("*"))
    done = _newsbot(target, "restore", str(backup))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert str(backup) in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.relative_to(target) for p in target.rglob("*")) == listing


def test_backup_refuses_a_folder_in_use(original: Path, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine", encoding="utf-8")
    done = _newsbot(original, "backup", str(dest))
    assert done.returncode == 2 and "not an empty folder" in done.stderr
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
