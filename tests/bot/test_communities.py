"""Two servers through the real cogs: each sees only its own library plus the shared one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.client import NewsBot
from index.digest import WEEKDAYS
from index.errors import QuestionNotFoundError
from index.library import SHARED
from index.services import Services
from index.settings import Settings
from tests.bot.conftest import loaded_bot
from tests.bot.support import (
    checked,
    command,
    interaction,
    invoke,
    member,
    moderator_by_permission,
    sent,
)
from tests.follow_stories import EU_FINE, EU_QUESTION
from tests.library_stories import LUMEN, QUESTION

A, B, OPERATOR = 101, 202, 303
CHANNEL_A, CHANNEL_B = 1_001, 2_002
STORY = LUMEN.encode()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Serve three servers; OPERATOR curates the shared library."""
    return settings.model_copy(
        update={"guild_ids": [A, B, OPERATOR], "operator_guild_ids": [OPERATOR]}
    )


@pytest.fixture
async def two(services: Services) -> AsyncIterator[NewsBot]:
    """Return a loaded bot with no stories yet."""
    async with loaded_bot(services) as bot:
        yield bot


def _upload(data: bytes = STORY, name: str = "story.md") -> MagicMock:
    file = MagicMock(spec=discord.Attachment)
    file.filename, file.size = name, len(data)
    file.read = AsyncMock(return_value=data)
    return file


def _mod(bot: NewsBot, guild: int) -> MagicMock:
    return interaction(bot, moderator_by_permission(), guild_id=guild)


async def _add(bot: NewsBot, guild: int, **options: Any) -> MagicMock:
    fake = _mod(bot, guild)
    await invoke(command(bot, "story add"), bot.get_cog("Stories"), fake, file=_upload(), **options)
    return fake


async def _ask(bot: NewsBot, guild: int) -> discord.Embed:
    fake = interaction(bot, member(5000 + guild), guild_id=guild)
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), fake, question=QUESTION)
    return fake.followup.send.await_args.kwargs["embed"]


def _text(embed: discord.Embed) -> str:
    return str(embed.to_dict()).replace("**", "")  # answer spans are bold inside the quote


async def test_a_servers_story_is_never_quoted_or_suggested_in_another(two: NewsBot) -> None:
    added = await _add(two, A)
    assert "Lumenwave" in _text(added.followup.send.await_args.kwargs["embed"])
    assert "140 engineers" in _text(await _ask(two, A))
    in_b = _text(await _ask(two, B))
    assert "Lisbon" not in in_b and "140" not in in_b  # neither quoted nor suggested


async def test_another_servers_moderator_cannot_see_or_touch_it(two: NewsBot) -> None:
    await _add(two, A)
    [story] = two.services.stories.list_stories((A,))
    cog = two.get_cog("Stories")
    assert await cog.story_choices(_mod(two, B), "lumen") == []  # autocomplete
    assert [c.value for c in await cog.story_choices(_mod(two, A), "lumen")] == [story.id]
    for path, options in (
        ("story remove", {}),
        ("story info", {}),
        ("story review", {"status": "retracted"}),
    ):
        fake = _mod(two, B)
        await invoke(command(two, path), cog, fake, story=story.id, **options)
        assert "No indexed story matches" in sent(fake)[-1]["content"], path
    listing = _mod(two, B)
    await invoke(command(two, "story list"), cog, listing)
    assert "Lisbon" not in str(sent(listing))
    assert two.services.stories.get(story.id, (A,)).provenance.review_status is None
    # A's Remove button, pressed by B's moderator, is refused by the view's owner check and the
    # core alike: the core call itself names B's library.
    with pytest.raises(Exception, match="No story"):
        two.services.stories.remove(story.id, (B,))


async def test_shared_library_is_curated_only_from_an_operator_server(two: NewsBot) -> None:
    refused = await _add(two, A, library="shared")
    assert "operator" in sent(refused)[-1]["content"]
    assert two.services.stories.count((SHARED,)) == 0
    await _add(two, OPERATOR, library="shared")
    assert two.services.stories.count((SHARED,)) == 1
    assert "140 engineers" in _text(await _ask(two, A))
    assert "140 engineers" in _text(await _ask(two, B))
    [story] = two.services.stories.list_stories((SHARED,))
    fake = _mod(two, B)  # B's moderators may not remove it, by any spelling
    await invoke(command(two, "story remove"), two.get_cog("Stories"), fake, story=story.id)
    assert "No indexed story matches" in sent(fake)[-1]["content"]
    fake = _mod(two, B)
    await invoke(
        command(two, "story remove"), two.get_cog("Stories"), fake, story=story.id,
        library="shared",
    )  # fmt: skip
    assert "operator" in sent(fake)[-1]["content"]


async def test_a_server_can_turn_the_shared_library_off(two: NewsBot) -> None:
    await _add(two, OPERATOR, library="shared")
    fake = _mod(two, B)
    await invoke(
        command(two, "settings set"), two.get_cog("ServerSettingsCog"), fake,
        key="use_shared_library", value="false",
    )  # fmt: skip
    assert "140" not in _text(await _ask(two, B))
    assert "140 engineers" in _text(await _ask(two, A))


async def test_votes_count_only_in_the_server_that_was_answered(two: NewsBot) -> None:
    answer = two.services.ask(QUESTION, guild_id=A)
    assert answer.question_id is not None
    with pytest.raises(QuestionNotFoundError):
        two.services.feedback.vote(answer.question_id, 9, B, helpful=False)
    two.services.feedback.vote(answer.question_id, 9, A, helpful=False)
    assert two.services.feedback.recent_negative(B) == []
    assert len(two.services.feedback.recent_negative(A)) == 1


async def test_a_follow_in_b_never_hears_of_a_story_in_a(two: NewsBot) -> None:
    follows = two.services.follows
    follows.follow(7, EU_QUESTION, guild_id=B)
    follows.follow(8, EU_QUESTION, guild_id=A)
    two.services.stories.add(EU_FINE, A, "mod-a")
    found = follows.check()
    assert found is not None
    assert [u.follow.guild_id for u in found.updates] == [A]


async def test_one_members_follows_are_separate_in_each_server(two: NewsBot) -> None:
    cog, ann = two.get_cog("Follows"), member(7)
    for guild in (A, B):
        fake = interaction(two, ann, guild_id=guild)
        fake.channel_id = CHANNEL_A if guild == A else CHANNEL_B
        await invoke(command(two, "follow"), cog, fake, question=EU_QUESTION)
    # The same question in two servers is two follows, each answered from its own libraries.
    assert {f.guild_id for f in two.services.follows.all_follows()} == {A, B}
    listed = interaction(two, ann, guild_id=A)
    await invoke(command(two, "follows"), cog, listed)
    assert "(1 of " in sent(listed)[-1]["embed"].title
    assert [c.value for c in await cog.follow_choices(interaction(two, ann, guild_id=B), "")] == [
        f.ref for f in two.services.follows.follows_of(7, B)
    ]
    gone = interaction(two, ann, guild_id=B)
    await invoke(command(two, "unfollow"), cog, gone, question=EU_QUESTION)
    assert [f.guild_id for f in two.services.follows.all_follows()] == [A]  # A's is kept


def _channels(two: NewsBot) -> dict[int, MagicMock]:
    chans = {}
    for channel_id, guild in ((CHANNEL_A, A), (CHANNEL_B, B)):
        channel = MagicMock(spec=discord.TextChannel)
        channel.id, channel.guild = channel_id, SimpleNamespace(id=guild)
        channel.send = checked(discord.TextChannel.send)
        chans[channel_id] = channel
    two.get_channel = MagicMock(side_effect=chans.get)  # type: ignore[method-assign]
    return chans


def _shown(channel: MagicMock) -> str:
    return " ".join(
        str([e.to_dict() for e in c.kwargs["embeds"]]) for c in channel.send.await_args_list
    )


async def test_each_servers_digest_posts_once_at_its_own_time(two: NewsBot) -> None:
    # Stories and questions are stamped with the real time: the schedules are set around it.
    now = datetime.now(UTC)
    servers = two.services.servers
    for guild, channel, days in ((A, CHANNEL_A, 1), (B, CHANNEL_B, 2)):
        servers.set(guild, "digest_channel_id", str(channel))
        servers.set(guild, "digest_weekday", WEEKDAYS[(now + timedelta(days=days)).weekday()])
        servers.set(guild, "digest_time", "00:00")
    chans = _channels(two)
    cog = two.get_cog("WeeklyDigest")
    clock = SimpleNamespace(now=now)
    two.clock = lambda: clock.now
    assert await cog.post_if_due() is False  # first look: each waits for its first slot
    await _add(two, A)
    for _ in range(2):
        two.services.ask("Price of bananas in Peru?", guild_id=A)
        two.services.ask("Price of apples in Chile?", guild_id=B)
    clock.now = now + timedelta(days=1, minutes=1)  # A's slot passed, B's not yet
    assert await cog.post_if_due() is True
    assert chans[CHANNEL_A].send.await_count >= 1 and chans[CHANNEL_B].send.await_count == 0
    shown_a = _shown(chans[CHANNEL_A])
    assert "Lisbon" in shown_a and "bananas" in shown_a and "apples" not in shown_a
    assert await cog.post_if_due() is False  # once
    sent_a = chans[CHANNEL_A].send.await_count
    clock.now = now + timedelta(days=2, minutes=1)  # B's turn
    assert await cog.post_if_due() is True
    assert chans[CHANNEL_A].send.await_count == sent_a
    shown_b = _shown(chans[CHANNEL_B])
    assert "apples" in shown_b and "bananas" not in shown_b and "Lisbon" not in shown_b
