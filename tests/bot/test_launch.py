"""Entry points: a clear exit without a token, and syncing globally or to one server."""

from __future__ import annotations

from unittest.mock import AsyncMock, MagicMock

import discord
import pytest
from pydantic import SecretStr

from bot.launch import (
    TOKEN_MISSING,
    TOKEN_REJECTED,
    bot_token,
    run,
    sync,
    sync_tree,
    use_discord_endpoints,
)
from index.settings import Settings


@pytest.mark.parametrize("token", [None, SecretStr(""), SecretStr("   ")])
def test_run_and_sync_without_a_token_name_the_variable(
    settings: Settings, token: SecretStr | None, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings.model_copy(update={"discord_token": token})
    assert run(settings) == 2
    assert sync(settings, None) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [TOKEN_MISSING, TOKEN_MISSING]
    assert "NEWSBOT_DISCORD_TOKEN" in TOKEN_MISSING


def test_bot_token_strips_and_reads_the_secret(settings: Settings) -> None:
    settings = settings.model_copy(update={"discord_token": SecretStr(" abc ")})
    assert bot_token(settings) == "abc"
    assert "abc" not in repr(settings)


async def test_sync_globally_or_to_one_guild() -> None:
    bot = MagicMock()
    bot.tree.sync = AsyncMock(return_value=[])
    await sync_tree(bot, None)
    bot.tree.sync.assert_awaited_once_with()
    bot.tree.copy_global_to.assert_not_called()

    bot = MagicMock()
    bot.tree.sync = AsyncMock(return_value=[])
    await sync_tree(bot, 42)
    guild = bot.tree.copy_global_to.call_args.kwargs["guild"]
    assert isinstance(guild, discord.Object) and guild.id == 42
    bot.tree.sync.assert_awaited_once_with(guild=guild)


class _RejectedBot:
    """Stands in for NewsBot when Discord rejects the token."""

    async def __aenter__(self) -> _RejectedBot:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def start(self, token: str) -> None:
        raise discord.LoginFailure("Improper token has been passed.")

    async def close(self) -> None:
        return None


def test_rejected_token_exits_with_a_message_that_hides_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "MTIz.not-a-real-token.abc"
    settings = settings.model_copy(update={"discord_token": SecretStr(secret)})
    monkeypatch.setattr("bot.launch.build_services", lambda s: MagicMock(settings=s))
    monkeypatch.setattr("bot.launch.make_bot", lambda services, **kw: _RejectedBot())
    monkeypatch.setattr("bot.launch.configure_logging", lambda *a: None)
    assert run(settings) == 2
    err = capsys.readouterr().err
    assert err.strip() == TOKEN_REJECTED and secret not in err


def test_discord_endpoints_come_from_settings(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)  # restored after
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket,
        "DEFAULT_GATEWAY",
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
    )
    use_discord_endpoints(settings)  # unset: Discord itself
    assert discord.http.Route.BASE == "https://discord.com/api/v10"
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"

    proxied = settings.model_copy(
        update={
            "discord_api_base": "http://127.0.0.1:8080/api/v10/",
            "discord_gateway": "ws://127.0.0.1:8081/gateway",
        }
    )
    use_discord_endpoints(proxied)
    assert discord.http.Route("GET", "/users/@me").url == "http://127.0.0.1:8080/api/v10/users/@me"
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:8081/gateway"


def test_run_says_why_it_cannot_start_when_the_database_is_unreachable(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Port 1 on loopback: nothing listens, so the registry cannot open; no traceback, exit 2.
    settings = settings.model_copy(
        update={
            "discord_token": SecretStr("abc"),
            "database_url": SecretStr("postgresql://newsbot@127.0.0.1:1/newsbot"),
        }
    )
    with caplog.at_level("ERROR"):
        assert run(settings) == 2
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.launch"]
    assert len(lines) == 1 and lines[0].startswith("cannot start:")
    assert "127.0.0.1" in lines[0] and "Traceback" not in caplog.text
