"""`newsbot feed ...` end to end in-process: real parser, fetcher and CLI, the fake embedder."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import index.services
from newsbot.cli import main
from tests.fakes import FakeEmbedder
from tests.index.feeds.feedkit import Clock
from tests.index.httpserver import Server


@pytest.fixture
def run(
    tmp_path: Path, server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Any:  # fmt: skip
    """Return a function running `newsbot ARGS` on a fresh data dir: (exit code, out, err)."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    clock_file = tmp_path / "now.txt"
    clock_file.write_text(clock.now.isoformat())
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSBOT_CLOCK_FILE", str(clock_file))
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_PRIVATE_HOSTS", server.hostport)
    monkeypatch.setenv("NEWSBOT_FEED_MIN_INTERVAL_SECONDS", "60")
    monkeypatch.setattr(index.services, "SentenceTransformerEmbedder", lambda *a: FakeEmbedder())

    def newsbot(*args: str, advance: float = 0) -> tuple[int, str, str]:
        clock.now += timedelta(seconds=advance)
        clock_file.write_text(clock.now.isoformat())
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return newsbot


def test_feed_commands_poll_once_then_get_304(run: Any, server: Server) -> None:
    code, out, _ = run("feed", "add", f"{server.base}/wire.rss", "--name", "Wire",
                       "--interval", "120")  # fmt: skip
    assert code == 0 and "added feed 1: AI Wire" in out
    assert run("feed", "add", f"{server.base}/ledger.atom")[0] == 0
    code, out, _ = run("feed", "poll", "--json")
    polled = json.loads(out)
    assert code == 0 and [(p["status"], len(p["added"])) for p in polled] == [
        ("polled", 3),
        ("polled", 2),
    ]
    code, out, _ = run("feed", "poll", "--json", advance=60)
    assert json.loads(out) == []  # nothing due yet
    code, out, _ = run("feed", "poll", advance=1900)
    assert code == 0 and out.count("unchanged (304)") == 2
    code, out, _ = run("articles", "--json")
    assert len(json.loads(out)) == 5
    code, out, _ = run("feed", "list", "--json")
    listed = json.loads(out)
    assert [(f["id"], f["title"], f["name"], f["failures"]) for f in listed] == [
        (1, "AI Wire", "Wire", 0),
        (2, "Tech Ledger", None, 0),
    ]
    assert listed[0]["last_poll"] is not None and listed[0]["interval_seconds"] == 120


def test_feed_command_errors_are_one_clear_line(run: Any, server: Server) -> None:
    code, _, err = run("feed", "add", f"{server.base}/broken.rss")
    assert code == 2 and err.startswith("newsbot: Feed http://127.0.0.1")
    assert "not a well-formed feed (line" in err
    code, _, err = run("feed", "add", f"{server.base}/moved.rss")
    assert code == 2 and "refused: the address 169.254.169.254 is link-local" in err
    code, _, err = run("feed", "remove", "7")
    assert (code, err) == (2, "newsbot: No feed with id 7 is subscribed here.\n")
    assert run("feed", "list")[1] == "no feeds; add one with `newsbot feed add URL`\n"


def test_a_failing_feed_shows_its_error_and_poll_exits_1(run: Any, server: Server) -> None:
    from tests.index.httpserver import Route

    assert run("feed", "add", f"{server.base}/wire.rss")[0] == 0
    server.routes["/wire.rss"] = Route(b"gone", status=410)
    code, out, _ = run("feed", "poll")
    assert code == 1 and "failed: HTTP 410 from the server" in out
    code, out, _ = run("feed", "list")
    assert "failing (1x): HTTP 410 from the server at 20" in out
    assert run("feed", "pause", "1")[1] == f"paused feed 1 ({server.base}/wire.rss)\n"
    assert "paused; failing" in run("feed", "list")[1]
