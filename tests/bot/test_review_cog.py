"""/story review: moderators mark stories; answers mark disputed ones and never cite retracted."""

from __future__ import annotations

from typing import Any

import discord

from bot.client import NewsBot
from tests.bot.support import (
    command,
    interaction,
    invoke,
    last_embed,
    member,
    moderator_by_permission,
    moderator_by_role,
    sent,
)

SEED_TITLE = "Hollywood Professionals Transition to AI Training Roles"
QUESTION = "How many contracts did the screenwriter complete for AI training platforms?"


def _cog(bot: NewsBot) -> Any:
    return bot.get_cog("Stories")


def _seed_id(bot: NewsBot) -> str:
    return next(a.id for a in bot.services.registry.list_articles() if a.title == SEED_TITLE)


async def _review(bot: NewsBot, user: Any = None, **options: Any) -> Any:
    """Run /story review as `user` (a moderator by default) and return the interaction."""
    fake = interaction(bot, user or moderator_by_role())
    await invoke(command(bot, "story review"), _cog(bot), fake, **options)
    return fake


async def _ask(bot: NewsBot) -> discord.Embed:
    fake = interaction(bot)
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), fake, question=QUESTION)
    return last_embed(fake)


async def test_seed_provenance_is_on_the_citation_line(bot: NewsBot) -> None:
    embed = await _ask(bot)
    assert f"**{SEED_TITLE}** — AI Signal, May 11, 2026" in embed.description
    assert "↳ ✅ verified · 85/100 · 1 source" in embed.description


async def test_dispute_is_confirmed_and_marked_wherever_cited(bot: NewsBot) -> None:
    seed = _seed_id(bot)
    [choice] = await _cog(bot).story_choices(interaction(bot, moderator_by_role()), "professionals")
    assert choice.value == seed  # the story option autocompletes like remove and info
    fake = await _review(
        bot, moderator_by_permission(), story=choice.value, status="disputed", confidence=40,
        note="Wired's figures are not confirmed.",
    )  # fmt: skip
    fake.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    confirmation = last_embed(fake)
    assert confirmation.title == SEED_TITLE
    assert confirmation.description.startswith("Review recorded: **⚠️ disputed · 40/100**")
    fields = {f.name: f.value for f in confirmation.fields}
    assert fields["Note"] == "Wired's figures are not confirmed."
    assert fields["Reviewed"].startswith("⚠️ disputed by admin, ")

    embed = await _ask(bot)
    assert "[1] (⚠️ disputed)" in embed.description
    assert "↳ ⚠️ disputed · 40/100 · 1 source — Wired's figures are not confirmed." in (
        embed.description
    )


async def test_retracted_story_is_never_cited_but_stays_listed(bot: NewsBot) -> None:
    seed = _seed_id(bot)
    fake = await _review(bot, story=SEED_TITLE, status="retracted", note="Source withdrawn")
    assert "answers never quote or cite this story" in last_embed(fake).description

    embed = await _ask(bot)
    assert SEED_TITLE not in embed.description

    listing = interaction(bot, moderator_by_role())
    await invoke(command(bot, "story list"), _cog(bot), listing)
    assert f"`{seed}` · ⛔ retracted" in last_embed(listing).description

    info = interaction(bot, moderator_by_role())
    await invoke(command(bot, "story info"), _cog(bot), info, story=seed)
    assert last_embed(info).description.startswith("⛔ **Retracted**")
    fields = {f.name: f.value for f in last_embed(info).fields}
    assert fields["Review"].startswith("⛔ retracted by mod, ")
    assert fields["Review note"] == "Source withdrawn"


async def test_member_is_refused_and_nothing_changes(bot: NewsBot) -> None:
    seed = _seed_id(bot)
    before = bot.services.registry.get_article(seed)
    fake = await _review(bot, member(7007, roles=(123,)), story=seed, status="retracted")
    reply = sent(fake)[-1]
    assert reply["ephemeral"] is True and "Only moderators" in reply["content"]
    fake.response.defer.assert_not_awaited()
    assert bot.services.registry.get_article(seed) == before


async def test_bad_input_gets_a_short_reason_and_changes_nothing(bot: NewsBot) -> None:
    seed = _seed_id(bot)
    before = bot.services.registry.get_article(seed)
    # Discord enforces the option ranges; the core checks again for any other caller.
    for options, says in [
        ({"story": seed, "status": "verified", "confidence": 101}, "0 to 100"),
        ({"story": seed, "status": "verified", "note": "x" * 301}, "under 300"),
        ({"story": seed, "status": "fake"}, "Unknown review status"),
        ({"story": "no such story", "status": "verified"}, "No indexed story matches"),
    ]:
        reply = sent(await _review(bot, **options))[-1]
        assert reply["ephemeral"] is True and says in reply["content"], reply
    assert bot.services.registry.get_article(seed) == before


async def test_review_options_reach_discord_with_their_limits(bot: NewsBot) -> None:
    params = {p.name: p for p in command(bot, "story review").parameters}
    assert params["story"].autocomplete and params["story"].required
    assert [c.value for c in params["status"].choices] == [
        "verified", "disputed", "retracted", "unreviewed", "clear",
    ]  # fmt: skip
    assert (params["confidence"].min_value, params["confidence"].max_value) == (0, 100)
    assert not params["confidence"].required and not params["note"].required
    payload = {o["name"]: o for o in command(bot, "story review").to_dict(bot.tree)["options"]}
    assert payload["note"]["max_length"] == 300 and payload["confidence"]["max_value"] == 100


async def test_clear_drops_the_review_and_says_so(bot: NewsBot) -> None:
    seed = _seed_id(bot)
    await _review(bot, story=seed, status="disputed", confidence=40, note="Unconfirmed.")
    assert "⚠️ disputed · 40/100" in (await _ask(bot)).description
    fake = await _review(bot, story=seed, status="clear")
    confirmation = last_embed(fake).description or ""
    assert confirmation.startswith("Review cleared; the story's own provenance applies")
    assert "↳ ✅ verified · 85/100 · 1 source" in (await _ask(bot)).description
