"""The "Ask newsbot" message menu and the "Post in channel" button of private answers."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import discord
from discord import app_commands
from discord.utils import maybe_coroutine

from bot.client import NewsBot
from bot.cogs.ask import MENU_NAME, NO_TEXT
from bot.errors import report_error
from bot.share import NOT_HERE, SHARE_LABEL, ShareButton, share_custom_id
from tests.bot.support import GUILD_ID, command, interaction, invoke, member, sent

QUESTION = "Are Hollywood writers training AI?"
CHANNEL = 555_000


def target(content: str) -> MagicMock:
    """Return a message someone else wrote, as a message command resolves it."""
    message = MagicMock(spec=discord.Message)
    message.content = content
    message.channel = MagicMock(spec=discord.TextChannel, id=CHANNEL)
    return message


async def run_menu(bot: NewsBot, fake: Any, message: Any) -> None:
    """Run the message menu as the tree would: its checks, then the callback."""
    menu = bot.tree.get_command(MENU_NAME, type=discord.AppCommandType.message)
    assert isinstance(menu, app_commands.ContextMenu)
    try:
        for check in menu.checks:
            await maybe_coroutine(check, fake)
        await menu.callback(fake, message)  # type: ignore[call-arg, arg-type]
    except Exception as error:
        await report_error(fake, error)


def custom_ids(view: discord.ui.View) -> list[str]:
    """Return the custom ids of a view's buttons, in order."""
    return [str(getattr(item, "custom_id", "")) for item in view.children]


def labels(view: discord.ui.View) -> list[str | None]:
    """Return the labels of a view's buttons (a dynamic item's button is its `item`)."""
    return [getattr(getattr(i, "item", i), "label", None) for i in view.children]


def private_log(bot: NewsBot) -> list[tuple[str, int]]:
    """Return (question, private) of every logged question."""
    with bot.services.registry.read() as db:
        return [(r[0], r[1]) for r in db.execute("SELECT question, private FROM questions")]


async def test_the_menu_answers_the_message_privately_with_a_post_button(bot: NewsBot) -> None:
    fake = interaction(bot)
    await run_menu(bot, fake, target(QUESTION))
    fake.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    kwargs = fake.followup.send.await_args.kwargs
    assert kwargs["embed"].title == QUESTION
    assert kwargs["allowed_mentions"].to_dict()["parse"] == []
    [(question, private)] = private_log(bot)
    assert question == QUESTION and private == 1  # never in a digest
    qid = bot.services.registry.count_questions()
    assert custom_ids(kwargs["view"]) == [
        f"newsbot:fb:{qid}:up", f"newsbot:fb:{qid}:down", share_custom_id(qid),
    ]  # fmt: skip
    assert labels(kwargs["view"])[2] == SHARE_LABEL


async def test_the_menu_reads_a_mention_of_the_bot_as_the_question(
    bot: NewsBot, monkeypatch: Any
) -> None:
    me = MagicMock(id=4242)
    monkeypatch.setattr(type(bot), "user", property(lambda self: me))
    fake = interaction(bot)
    await run_menu(bot, fake, target(f"<@4242> {QUESTION}"))
    assert fake.followup.send.await_args.kwargs["embed"].title == QUESTION


async def test_a_message_without_text_gets_a_clear_reason(bot: NewsBot) -> None:
    fake = interaction(bot)
    await run_menu(bot, fake, target("   "))
    fake.response.defer.assert_not_awaited()
    reply = sent(fake)[-1]
    assert reply["ephemeral"] is True and reply["content"] == NO_TEXT
    assert private_log(bot) == []


async def test_the_menu_shares_the_ask_cooldown(bot: NewsBot) -> None:
    user = member(6006)
    for _ in range(bot.settings.ask_rate):
        await invoke(
            command(bot, "ask"), bot.get_cog("Ask"), interaction(bot, user), question=QUESTION
        )
    fake = interaction(bot, user)
    await run_menu(bot, fake, target(QUESTION))
    fake.response.defer.assert_not_awaited()
    assert "wait" in sent(fake)[-1]["content"]


async def test_private_ask_has_the_post_button_and_public_ask_not(bot: NewsBot) -> None:
    private, public = interaction(bot), interaction(bot, member(7007))
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), private, question=QUESTION, private=True)
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), public, question=QUESTION)
    assert SHARE_LABEL in labels(private.followup.send.await_args.kwargs["view"])
    assert SHARE_LABEL not in labels(public.followup.send.await_args.kwargs["view"])


def pressed(bot: NewsBot, embed: discord.Embed | None, user: Any = None) -> MagicMock:
    """Return a press of the share button under a private answer showing `embed`."""
    fake = interaction(bot, user or member(8008, name="bea"))
    fake.message = MagicMock(spec=discord.Message, embeds=[embed] if embed else [])
    fake.channel = MagicMock(spec=discord.TextChannel, id=CHANNEL)
    fake.channel_id = CHANNEL
    return fake


async def test_post_in_channel_names_who_shared_it_and_keeps_the_votes(bot: NewsBot) -> None:
    embed = discord.Embed(title=QUESTION, description="“…” [1]")
    fake = pressed(bot, embed)
    await ShareButton(41).callback(fake)
    # The private copy loses its post button at once (within 3 s): it posts only once.
    edited = fake.response.edit_message.await_args.kwargs["view"]
    assert custom_ids(edited) == ["newsbot:fb:41:up", "newsbot:fb:41:down"]
    post = fake.followup.send.await_args
    assert post.args[0] == "Shared by <@8008>" and post.kwargs["ephemeral"] is False
    assert post.kwargs["embed"] is embed
    assert custom_ids(post.kwargs["view"]) == ["newsbot:fb:41:up", "newsbot:fb:41:down"]
    assert post.kwargs["allowed_mentions"].to_dict()["parse"] == []  # naming is no ping


async def test_post_in_channel_outside_the_bots_channels_is_refused(bot: NewsBot) -> None:
    bot.services.servers.set(GUILD_ID, "mention_channel_ids", "999")
    fake = pressed(bot, discord.Embed(title=QUESTION))
    await ShareButton(41).callback(fake)
    assert sent(fake)[-1]["content"] == NOT_HERE and sent(fake)[-1]["ephemeral"] is True
    fake.response.edit_message.assert_not_awaited()


async def test_a_share_press_rebuilds_from_its_custom_id(bot: NewsBot) -> None:
    import re

    from bot.share import SHARE_TEMPLATE

    match = re.fullmatch(SHARE_TEMPLATE, share_custom_id(12))
    assert match is not None
    button = await ShareButton.from_custom_id(interaction(bot), MagicMock(), match)
    assert button.question_id == 12


async def test_the_menu_in_a_thread_reads_the_message_with_the_threads_context(
    bot: NewsBot,
) -> None:
    thread = MagicMock(spec=discord.Thread, id=777, parent_id=CHANNEL)
    bot.services.ask(QUESTION, guild_id=GUILD_ID, thread_id=777)
    message = target("Which companies?")
    message.channel = thread
    fake = interaction(bot)
    await run_menu(bot, fake, message)
    footer = fake.followup.send.await_args.kwargs["embed"].footer.text
    assert f"Read as a follow-up to: {QUESTION}" in footer
    # Asked privately, it gives the thread no context of its own.
    assert [q for q, _ in bot.services.registry.thread_questions(777, GUILD_ID, 10)] == [QUESTION]
