"""Secrets: the Discord token never appears in settings dumps, messages, logs or output.

The login tests point discord.py at a stand-in Discord API on 127.0.0.1 (NEWSBOT_DISCORD_API_BASE)
that rejects the token, so the real login path runs, with debug logging, and sends the token
where it belongs (the Authorization header the stand-in records) and nowhere else.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from bot import __main__ as bot_main
from bot import launch
from index.settings import Settings
from newsbot import cli
from tests.index.httpserver import Route, Server, serve

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GsEcRt.token-that-must-never-show-0123456789"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def discord_api() -> Iterator[Server]:
    """Serve a Discord REST API on 127.0.0.1 that rejects every token."""
    body = b'{"message": "401: Unauthorized", "code": 0}'
    route = Route(body, status=401, headers={"Content-Type": "application/json"})
    with serve({"/api/v10/users/@me": route}) as server:
        yield server


@pytest.fixture(autouse=True)
def restore_discord_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo use_discord_endpoints(), which sets class attributes of discord.py."""
    import discord

    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket,
        "DEFAULT_GATEWAY",
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
    )


def test_settings_never_show_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_DISCORD_TOKEN", TOKEN)
    for settings in (Settings(_env_file=None), Settings(_env_file=None, discord_token=TOKEN)):  # type: ignore[call-arg]
        assert launch.bot_token(settings) == TOKEN
        for shown in (repr(settings), str(settings), settings.model_dump_json()):
            assert TOKEN not in shown
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None, discord_token=TOKEN, top_k=999)  # type: ignore[call-arg]
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value.errors())


@pytest.mark.parametrize("entry", ["newsbot", "python -m bot"])
def test_invalid_settings_messages_hide_the_token(
    entry: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSBOT_DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("NEWSBOT_TOP_K", "999")
    code = cli.main(["run"]) if entry == "newsbot" else bot_main.main(["run"])
    captured = capsys.readouterr()
    assert code == 2 and "top_k" in captured.err.lower()
    assert TOKEN not in captured.out + captured.err


def test_a_rejected_login_logs_and_prints_no_token(
    settings: Settings,
    discord_api: Server,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = settings.model_copy(
        update={"discord_token": SecretStr(TOKEN),
                "discord_api_base": f"{discord_api.base}/api/v10"}
    )  # fmt: skip
    monkeypatch.setattr(launch, "configure_logging", lambda *a: None)
    with caplog.at_level(logging.DEBUG):
        assert launch.run(settings) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == launch.TOKEN_REJECTED
    [(_path, headers)] = discord_api.seen
    assert headers["Authorization"] == f"Bot {TOKEN}"  # the token went to Discord only
    logged = "\n".join(
        r.getMessage() + "".join(traceback.format_exception(*r.exc_info)) if r.exc_info else ""
        for r in caplog.records
    )
    assert caplog.records and TOKEN not in logged
    assert TOKEN not in captured.out + captured.err


def test_an_unreachable_discord_fails_without_showing_the_token(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.chroma_server import free_port

    settings = settings.model_copy(
        update={"discord_token": SecretStr(TOKEN),
                "discord_api_base": f"http://127.0.0.1:{free_port()}/api/v10"}
    )  # fmt: skip
    monkeypatch.setattr(launch, "configure_logging", lambda *a: None)
    with caplog.at_level(logging.DEBUG):
        try:
            code: int | str = launch.run(settings)
        except Exception as exc:  # uncaught, it would be printed with its traceback
            code = "".join(traceback.format_exception(exc))
    captured = capsys.readouterr()
    shown = str(code) + captured.out + captured.err
    shown += "\n".join(r.getMessage() for r in caplog.records)
    assert TOKEN not in shown


def test_newsbot_run_with_debug_logging_never_prints_the_token(
    tmp_path: Path, discord_api: Server
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(
        NEWSBOT_DISCORD_TOKEN=TOKEN,
        NEWSBOT_DISCORD_API_BASE=f"{discord_api.base}/api/v10",
        NEWSBOT_DATA_DIR=str(tmp_path / "data"),
        PYTHONPATH=str(ROOT),
    )
    done = subprocess.run(
        [sys.executable, "-m", "newsbot.cli", "-v", "run"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert launch.TOKEN_REJECTED in done.stderr
    assert TOKEN not in done.stdout + done.stderr
    assert discord_api.seen  # it did try to log in, with the token
