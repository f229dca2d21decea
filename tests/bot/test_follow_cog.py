"""The follow cog: /follow, /unfollow, /follows, and delivery of new answers by DM or channel."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.client import NewsBot, make_bot
from bot.follow_embeds import notification_content
from bot.limits import message_problems
from bot.views import MemberPagedView
from index.services import Services
from tests.bot.conftest import loaded_bot
from tests.bot.support import (
    GUILD_ID,
    MOD_ROLE,
    checked,
    command,
    interaction,
    invoke,
    member,
    sent,
)
from tests.follow_stories import EU_FINE, EU_QUESTION, FITBIT, PAY_QUESTION, add_story

CHANNEL = 555_555_555_555_555_555
ANN = 1001


def _cog(bot: NewsBot) -> Any:
    return bot.get_cog("Follows")


def _asked(bot: NewsBot, user_id: int = ANN) -> MagicMock:
    """Return a fake interaction from a member in CHANNEL."""
    fake = interaction(bot, member(user_id))
    fake.channel_id = CHANNEL
    return fake


async def _follow(bot: NewsBot, question: str, user_id: int = ANN) -> MagicMock:
    fake = _asked(bot, user_id)
    await invoke(command(bot, "follow"), _cog(bot), fake, question=question)
    return fake


def _inbox(bot: NewsBot) -> MagicMock:
    """Give the bot a fake DM channel: create_dm returns it for anyone."""
    dm = MagicMock(spec=discord.DMChannel)
    dm.send = checked(discord.DMChannel.send)
    bot.create_dm = AsyncMock(return_value=dm)  # type: ignore[method-assign]
    return dm


def _channel(bot: NewsBot) -> MagicMock:
    """Give the bot a fake text channel for CHANNEL."""
    channel = MagicMock(spec=discord.TextChannel)
    channel.id = CHANNEL
    channel.send = checked(discord.TextChannel.send)
    bot.get_channel = MagicMock(return_value=channel)  # type: ignore[method-assign]
    return channel


def _http_error(cls: type[discord.HTTPException], status: int) -> discord.HTTPException:
    return cls(MagicMock(status=status, reason="test"), "refused by Discord")


def _deliver_by(bot: NewsBot, delivery: str) -> None:
    bot.settings = bot.settings.model_copy(update={"follow_delivery": delivery})


def _message(send: AsyncMock) -> dict[str, Any]:
    """Return the keyword arguments of the only message sent."""
    [call] = send.await_args_list
    kwargs = dict(call.kwargs)
    kwargs["content"] = call.args[0]
    assert message_problems(kwargs["content"], [kwargs["embed"]]) == []
    return kwargs


async def test_follow_replies_privately_with_the_current_answer(bot: NewsBot) -> None:
    fake = await _follow(bot, EU_QUESTION)
    fake.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    [reply] = sent(fake)
    assert reply["ephemeral"] is True
    assert reply["content"].startswith("You now follow this question (1 of 10).")
    assert "don't cover it yet" in reply["content"] and "DM you" in reply["content"]
    assert reply["embed"].title == EU_QUESTION
    [stored] = bot.services.follows.follows_of(ANN, GUILD_ID)
    assert (stored.question, stored.channel_id) == (EU_QUESTION, CHANNEL)

    covered = await _follow(bot, PAY_QUESTION)
    assert "Here is the answer so far" in sent(covered)[0]["content"]
    again = await _follow(bot, PAY_QUESTION.lower())
    assert sent(again)[0]["content"].startswith("You already follow this question.")


async def test_bad_question_is_refused_before_deferring(bot: NewsBot) -> None:
    fake = await _follow(bot, "???")
    fake.response.defer.assert_not_awaited()
    [reply] = sent(fake)
    assert reply["ephemeral"] is True and "in words" in reply["content"]
    assert bot.services.follows.all_follows() == []


async def test_limit_is_enforced_with_a_clear_message(bot: NewsBot) -> None:
    bot.settings = bot.settings.model_copy(update={"follow_limit": 1})
    await _follow(bot, EU_QUESTION)
    fake = await _follow(bot, PAY_QUESTION)
    fake.response.defer.assert_not_awaited()  # refused from memory, at once
    [reply] = sent(fake)
    assert reply["ephemeral"] is True
    assert (
        reply["content"] == "You already follow 1 question, the most allowed: unfollow one first."
    )
    assert len(bot.services.follows.follows_of(ANN, GUILD_ID)) == 1
    assert (
        "You already follow this question." in sent(await _follow(bot, EU_QUESTION))[0]["content"]
    )


async def test_new_story_is_sent_once_by_dm(bot: NewsBot) -> None:
    dm = _inbox(bot)
    cog = _cog(bot)
    await _follow(bot, EU_QUESTION)
    assert await cog.check_now() == 0
    add_story(bot.services, EU_FINE)

    assert await cog.check_now() == 1
    bot.create_dm.assert_awaited_once()
    assert bot.create_dm.await_args.args[0].id == ANN
    message = _message(dm.send)
    assert message["content"].startswith(f"New on a question you follow: **{EU_QUESTION}**")
    assert "<@" not in message["content"]  # a DM needs no mention
    assert message["allowed_mentions"].to_dict() == {"parse": []}
    assert message["embed"].title == EU_QUESTION
    assert "fined Meta 200 million euros" in message["embed"].description.replace("**", "")

    assert await cog.check_now() == 0  # nothing new: nothing sent again
    assert dm.send.await_count == 1


async def test_channel_delivery_mentions_only_that_member(bot: NewsBot) -> None:
    _deliver_by(bot, "channel")
    channel = _channel(bot)
    fake = await _follow(bot, EU_QUESTION)
    assert "mention you in this channel" in sent(fake)[0]["content"]
    add_story(bot.services, EU_FINE)
    assert await _cog(bot).check_now() == 1
    message = _message(channel.send)
    assert message["content"].startswith(f"<@{ANN}> New on a question you follow:")
    assert message["allowed_mentions"].to_dict() == {"users": [ANN], "parse": []}


async def test_closed_dms_fall_back_to_the_channel(bot: NewsBot) -> None:
    dm = _inbox(bot)
    dm.send.side_effect = _http_error(discord.Forbidden, 403)
    channel = _channel(bot)
    await _follow(bot, EU_QUESTION)
    add_story(bot.services, EU_FINE)
    assert await _cog(bot).check_now() == 1
    message = _message(channel.send)
    assert message["content"].startswith(f"<@{ANN}> I couldn't DM you, so here it is.")
    assert message["allowed_mentions"].to_dict() == {"users": [ANN], "parse": []}
    assert await _cog(bot).check_now() == 0  # delivered once, not retried
    assert channel.send.await_count == 1


async def test_undeliverable_is_skipped_and_a_discord_outage_retried(bot: NewsBot) -> None:
    dm = _inbox(bot)
    # ANN's DMs are closed; for member 2002 Discord itself fails (a 503).
    dm.send.side_effect = [
        _http_error(discord.Forbidden, 403),
        _http_error(discord.HTTPException, 503),
    ]
    channel = _channel(bot)
    channel.send.side_effect = _http_error(discord.Forbidden, 403)  # no permission there either
    cog = _cog(bot)
    await _follow(bot, EU_QUESTION)
    await _follow(bot, EU_QUESTION, user_id=2002)
    add_story(bot.services, EU_FINE)
    assert await cog.check_now() == 0
    assert channel.send.await_count == 1  # ANN: DMs closed, channel refused: skipped for good
    dm.send.side_effect = None
    assert await cog.check_now() == 1  # member 2002: Discord failed, so tried again
    assert [c.args[0].id for c in bot.create_dm.await_args_list] == [ANN, 2002, 2002]
    assert await cog.check_now() == 0


async def test_unrelated_story_sends_nothing(bot: NewsBot) -> None:
    dm = _inbox(bot)
    await _follow(bot, EU_QUESTION)
    await _follow(bot, PAY_QUESTION)
    assert await _cog(bot).check_now() == 0
    add_story(bot.services, FITBIT)
    assert await _cog(bot).check_now() == 0
    dm.send.assert_not_awaited()


async def test_unfollow_stops_notifications_and_autocompletes_own_follows(bot: NewsBot) -> None:
    dm = _inbox(bot)
    cog = _cog(bot)
    await _follow(bot, EU_QUESTION)
    await _follow(bot, PAY_QUESTION)
    await _follow(bot, "Which companies hire writers to train chatbots?", user_id=2002)

    assert command(bot, "unfollow").parameters[0].autocomplete
    choices = await cog.follow_choices(_asked(bot), "european")
    assert [c.name for c in choices] == [EU_QUESTION]
    assert len(await cog.follow_choices(_asked(bot), "")) == 2  # not 2002's

    fake = _asked(bot)
    await invoke(command(bot, "unfollow"), cog, fake, question=choices[0].value)
    [reply] = sent(fake)
    assert reply["ephemeral"] is True
    assert reply["content"] == f"You no longer follow **{EU_QUESTION}** (1 left)."
    add_story(bot.services, EU_FINE)
    assert await cog.check_now() == 0
    dm.send.assert_not_awaited()

    fake = _asked(bot)
    await invoke(command(bot, "unfollow"), cog, fake, question=EU_QUESTION)
    assert sent(fake)[0]["content"] == "You don't follow that question."


async def test_unfollow_tells_an_autocompleted_follow_from_a_question_that_is_a_number(
    bot: NewsBot,
) -> None:
    cog = _cog(bot)
    await _follow(bot, PAY_QUESTION)
    [pay] = bot.services.follows.follows_of(ANN, GUILD_ID)
    await _follow(bot, str(pay.id))  # a member following the question "1"
    [number] = await cog.follow_choices(_asked(bot), str(pay.id))
    assert number.name == str(pay.id) and number.value != str(pay.id)

    fake = _asked(bot)
    await invoke(command(bot, "unfollow"), cog, fake, question=str(pay.id))  # typed, not chosen
    assert sent(fake)[0]["content"] == f"You no longer follow **{pay.id}** (1 left)."
    [choice] = await cog.follow_choices(_asked(bot), "")
    fake = _asked(bot)
    await invoke(command(bot, "unfollow"), cog, fake, question=choice.value)
    assert sent(fake)[0]["content"] == f"You no longer follow **{PAY_QUESTION}** (0 left)."


async def test_follow_in_another_letter_case_is_the_same_follow(bot: NewsBot) -> None:
    bot.settings = bot.settings.model_copy(update={"follow_limit": 1})
    await _follow(bot, f"Über {EU_QUESTION}")
    fake = await _follow(bot, f"über {EU_QUESTION}")  # at the limit, but not a new question
    assert sent(fake)[0]["content"].startswith("You already follow this question.")
    assert len(bot.services.follows.follows_of(ANN, GUILD_ID)) == 1


async def test_follows_lists_own_follows_privately(bot: NewsBot) -> None:
    fake = _asked(bot)
    await invoke(command(bot, "follows"), _cog(bot), fake)
    assert "don't follow any question yet" in sent(fake)[0]["embed"].description
    await _follow(bot, EU_QUESTION)
    await _follow(bot, "Which companies hire writers to train chatbots?", user_id=2002)
    fake = _asked(bot)
    await invoke(command(bot, "follows"), _cog(bot), fake)
    [reply] = sent(fake)
    assert reply["ephemeral"] is True
    embed = reply["embed"]
    assert embed.title == "Questions you follow (1 of 10)"
    assert embed.description.startswith(f"1. **{EU_QUESTION}** — since <t:")
    assert "chatbots" not in embed.description
    assert "by DM" in embed.footer.text


async def test_follows_pages_every_follow_for_its_owner_only(bot: NewsBot) -> None:
    bot.settings = bot.settings.model_copy(update={"follow_limit": 100})
    questions = [f"Q{i} why does this model keep changing its pricing?" for i in range(1, 24)]
    for question in questions:
        bot.services.follows.follow(ANN, question, limit=100, guild_id=GUILD_ID)
    fake = _asked(bot)
    await invoke(command(bot, "follows"), _cog(bot), fake)
    [reply] = sent(fake)
    assert reply["ephemeral"] is True
    view: MemberPagedView = reply["view"]
    assert isinstance(view, MemberPagedView) and view.pages == 3 and view.owner_id == ANN
    assert view.previous.disabled and not view.next.disabled
    shown = [reply["embed"]]
    assert shown[0].title == "Questions you follow (23 of 100)"
    assert shown[0].footer.text.startswith("Page 1/3")

    for presser in (member(2002), member(2003, roles=(MOD_ROLE,))):  # not theirs to page
        stranger = interaction(bot, presser)
        assert await view.interaction_check(stranger) is False
        assert sent(stranger)[-1]["content"].startswith("These buttons belong to the member")
    for _ in range(2):
        press = interaction(bot, member(ANN))  # no moderator role needed
        assert await view.interaction_check(press) is True
        await view.next.callback(press)
        shown.append(press.response.edit_message.await_args.kwargs["embed"])
    assert shown[-1].footer.text.startswith("Page 3/3") and view.next.disabled
    text = "\n".join(e.description for e in shown)
    assert all(f"{i}. **{q}**" in text for i, q in enumerate(questions, start=1))
    assert "more" not in text
    assert message_problems(None, [shown[0]]) == []


async def test_unfollow_by_typed_text_in_another_normal_form(bot: NewsBot) -> None:
    await _follow(bot, "Cafe\u0301 prices and AI?")
    fake = _asked(bot)
    await invoke(command(bot, "unfollow"), _cog(bot), fake, question="Cafe\u0301 prices and AI?")
    assert sent(fake)[0]["content"] == "You no longer follow **Caf\u00e9 prices and AI?** (0 left)."
    fake = _asked(bot)
    await invoke(command(bot, "unfollow"), _cog(bot), fake, question="x" * 50_000)
    assert sent(fake)[0]["content"] == "You don't follow that question."


async def test_follows_are_reloaded_after_a_restart(seeded: Services) -> None:
    seeded.follows.follow(ANN, EU_QUESTION, guild_id=GUILD_ID, channel_id=CHANNEL)
    async with loaded_bot(seeded) as bot:
        cog = _cog(bot)
        choices = await cog.follow_choices(_asked(bot), "")
        assert [c.name for c in choices] == [EU_QUESTION]


async def test_the_loop_delivers_stories_added_elsewhere(seeded: Services) -> None:
    seeded.settings = seeded.settings.model_copy(update={"follow_check_seconds": 0.2})
    async with make_bot(seeded, warm_model=False) as bot:
        bot.wait_until_ready = AsyncMock()  # type: ignore[method-assign]  # never logs in
        dm = _inbox(bot)
        await bot.load_extension("bot.cogs.follow")
        cog = _cog(bot)
        assert cog.checker.is_running() and cog.checker.seconds == 0.2
        await _follow(bot, EU_QUESTION)
        # As `newsbot ingest` in another process would: straight into the shared database.
        await asyncio.to_thread(add_story, seeded, EU_FINE)
        for _ in range(50):
            if dm.send.await_count:
                break
            await asyncio.sleep(0.1)
        assert dm.send.await_count == 1
        await asyncio.sleep(0.5)  # a few more checks: still one message
        assert dm.send.await_count == 1
    assert not cog.checker.is_running()


async def test_unloading_mid_check_waits_for_the_lease_to_be_released(seeded: Services) -> None:
    seeded.settings = seeded.settings.model_copy(update={"follow_check_seconds": 0.05})
    entered = asyncio.Event()
    release = seeded.leases.release

    def slow_release(name: str) -> None:
        time.sleep(0.5)  # a slow database: the cancelled check is still releasing its lease
        release(name)

    async with make_bot(seeded, warm_model=False) as bot:
        bot.wait_until_ready = AsyncMock()  # type: ignore[method-assign]  # never logs in
        await bot.load_extension("bot.cogs.follow")
        cog = _cog(bot)
        check = cog.service.check

        def checking(*args: Any) -> Any:
            bot.loop.call_soon_threadsafe(entered.set)
            time.sleep(0.3)
            return check(*args)

        cog.service.check = checking
        seeded.leases.release = slow_release  # type: ignore[method-assign]
        await asyncio.wait_for(entered.wait(), 10)
        await bot.unload_extension("bot.cogs.follow")
        assert not cog.checker.is_running()
        assert seeded.leases.holder("follows.check") is None


@pytest.mark.parametrize("delivery", ["dm", "channel"])
def test_delivery_setting_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, delivery: str
) -> None:
    from index.settings import Settings

    monkeypatch.setenv("NEWSBOT_FOLLOW_DELIVERY", delivery)
    monkeypatch.setenv("NEWSBOT_FOLLOW_LIMIT", "3")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.follow_delivery, settings.follow_limit) == (delivery, 3)
    assert settings.follow_check_seconds == 60.0


def test_notification_header_is_escaped_and_short() -> None:
    text = notification_content("@everyone <@&1> **now** " + "x" * 3000, mention=ANN)
    assert text.startswith(f"<@{ANN}> New on a question you follow: **")
    assert "@everyone" not in text and "<@&1>" not in text and "**now**" not in text
    assert len(text) < 400


def test_the_follows_list_never_shows_a_live_link() -> None:
    from datetime import UTC, datetime

    from bot.follow_embeds import follows_embed
    from index.follows import Follow

    asked = "Is https://free-nitro.example/claim covered yet?"
    follow = Follow(1, 2, 3, 4, asked, datetime.now(UTC), "", frozenset(), 0)
    shown = follows_embed([follow], 10, "dm").description or ""
    assert "://" not in shown and "free-nitro.example/claim" in shown
