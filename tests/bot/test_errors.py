"""One error handler: known errors become short ephemeral messages, others an apology and a log."""

from __future__ import annotations

import logging
from unittest.mock import MagicMock

import pytest
from discord import app_commands

from bot.checks import NotModerator
from bot.client import NewsBot
from bot.errors import APOLOGY, report_error, user_message
from index.errors import FetchError, IndexUnavailableError, InvalidQuestionError
from tests.bot.support import interaction, sent

TOKEN = "MTIz.secret-token-value.xyz"


def _invoke_error(exc: Exception) -> app_commands.CommandInvokeError:
    return app_commands.CommandInvokeError(MagicMock(), exc)


def test_expected_errors_have_short_messages() -> None:
    assert "Only moderators" in (user_message(NotModerator()) or "")
    cooldown = app_commands.CommandOnCooldown(app_commands.Cooldown(1, 30), 12.4)
    assert "wait 12 s" in (user_message(cooldown) or "")
    assert user_message(_invoke_error(IndexUnavailableError())) == (
        IndexUnavailableError().user_message()
    )
    fetch = user_message(
        _invoke_error(FetchError("https://x.example/a", "refused: private address"))
    )
    assert fetch is not None and "refused: private address" in fetch
    assert user_message(_invoke_error(InvalidQuestionError("The question is empty."))) is not None
    assert user_message(_invoke_error(RuntimeError("boom"))) is None


async def test_unexpected_error_is_logged_and_answered_with_an_apology(
    bot: NewsBot, caplog: pytest.LogCaptureFixture
) -> None:
    fake = interaction(bot)
    with caplog.at_level(logging.ERROR):
        await report_error(fake, _invoke_error(RuntimeError(f"token={TOKEN}")))
    reply = sent(fake)[-1]
    assert reply["content"] == APOLOGY and reply["ephemeral"] is True
    assert "Traceback" not in reply["content"] and TOKEN not in reply["content"]
    assert caplog.records and caplog.records[-1].exc_info is not None


async def test_error_after_defer_goes_to_a_follow_up(empty_bot: NewsBot) -> None:
    bot = empty_bot
    fake = interaction(bot)
    await fake.response.defer()
    await report_error(fake, NotModerator())
    fake.followup.send.assert_awaited_once()
    assert fake.followup.send.await_args.kwargs["ephemeral"] is True
    assert fake.followup.send.await_args.kwargs["allowed_mentions"].to_dict()["parse"] == []


async def test_tree_refuses_servers_not_served(empty_bot: NewsBot) -> None:
    bot = empty_bot
    fake = interaction(bot, guild_id=987)
    assert await bot.tree.interaction_check(fake) is False
    assert "not enabled here" in sent(fake)[-1]["content"]
    assert await bot.tree.interaction_check(interaction(bot)) is True
