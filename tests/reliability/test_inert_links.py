"""Issue 13, finding 4: links inside story text and questions are shown broken, never live.

A story (text, title, publisher, Key Questions) or a question carrying bare URLs and invites
made them clickable in answers, previews, lists, info, digests and mention replies. Only a
citation's own source link, wrapped in <...>, may stay live. The break is one zero-width space
(README "Links in quoted text"): removing it gives back the text exactly.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.client import NewsBot
from bot.feedback_embeds import negative_feedback_embed
from bot.follow_embeds import follows_embed, notification_content, unfollowed_reply
from bot.text import ZWSP, break_links, safe
from index.feedback import NegativeAnswer
from index.follows import Follow
from tests.bot.support import checked, command, interaction, invoke, member, moderator_by_role
from tests.reliability.test_inert_output import replies, visible_text

SOURCE_URL = "https://news.example/quokka-mail"
# Spellings Discord turns into a link, an invite, a gift or a template card.
LINKS = [
    "https://evil.example/phish", "HTTP://EVIL.EXAMPLE/UP", "hTTpS://evil.example/mixed",
    "<https:/evil.example/one-slash>", "steam://run/1", "discord.gg/evilinvite",
    "DISCORD.GG/SHOUT", "discord.com/invite/evil", "discordapp.com/invite/evil",
    "discord.gift/freenitro", "discord.new/template", "https://discord.gg/withscheme",
    "discord . gg/spaced", "discord\u3002gg/ideographic",
]  # fmt: skip
LINKY = " ".join(LINKS)
TITLE = "Quokka robots deliver mail https://evil.example/t discord.gg/titleinvite"
STORY = (
    f"---\ntitle: {TITLE}\nsource: Wire discord.com/invite/publisher https://evil.example/p\n"
    f"url: {SOURCE_URL}\n---\n"
    + " ".join(
        f"Quokka robots deliver mail in Perth via {link} every morning, officials said."
        for link in LINKS
    )
    + "\nKey Questions\nDo quokka robots deliver mail in Perth? discord.gg/kq\n"
    "Yes: quokka robots deliver mail in Perth daily, see https://evil.example/kq.\n"
)
QUESTION = "Do quokka robots deliver mail in Perth via https://evil.example/q discord.gg/q?"
# Anything Discord could make clickable: a scheme and a slash, or one of its own domains.
LIVE_URL = re.compile(r"(?i)[a-z][a-z0-9+.-]*:[/\\]+[^\s<>]*")
LIVE_INVITE = re.compile(
    r"(?i)discord(?:app)?\s*[.\u3002\uff0e\uff61]\s*(?:gg|gift|com|io|me|li|new|net)"
)


def live_links(text: str, allowed: frozenset[str] = frozenset({SOURCE_URL})) -> list[str]:
    """Return every clickable link or invite in text, besides <allowed source links>."""
    for url in allowed:
        text = text.replace(f"<{url}>", "")
    return LIVE_URL.findall(text) + LIVE_INVITE.findall(text)


def assert_no_live_links(payload: dict[str, Any]) -> None:
    """Check every rendered string of a payload (content, embeds) for live links."""
    text = visible_text(payload)
    assert live_links(text) == [], text
    for embed in payload.get("embeds") or [payload.get("embed")]:
        if embed is not None:
            assert embed.url in (None, SOURCE_URL)  # the title links only to the source


# -- the rendering ------------------------------------------------------------------------------


@pytest.mark.parametrize("link", LINKS)
def test_each_spelling_is_broken_and_reads_the_same(link: str) -> None:
    shown = break_links(f"see {link} now")
    assert live_links(shown, frozenset()) == [] and shown.replace(ZWSP, "") == f"see {link} now"
    assert live_links(safe(f"see {link} now", 500), frozenset()) == []


# Text made of the pieces links are built from, so near-links are common.
PIECES = [*"htps:/\\.<> ag\u3002\uff0e", "discord", "app", "gg", "com", "https://", "invite"]


@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_no_text_renders_a_live_link(text: str) -> None:
    shown = break_links(text)
    assert live_links(shown, frozenset()) == []
    assert shown.replace(ZWSP, "") == text.replace(ZWSP, "")  # only the break is added
    assert live_links(safe(text, 500), frozenset()) == []


@given(st.text(max_size=200))
def test_breaking_only_adds_zero_width_spaces(text: str) -> None:
    assert break_links(text).replace(ZWSP, "") == text.replace(ZWSP, "")


def test_follow_and_feedback_listings_break_links() -> None:
    now = datetime.now(UTC)
    follow = Follow(
        id=1, user_id=5, guild_id=None, channel_id=6, question=QUESTION, created_at=now,
        signature="", cited=frozenset(), seen_generation=0,
    )  # fmt: skip
    assert live_links(notification_content(QUESTION)) == []
    assert live_links(notification_content(QUESTION, mention=5, dm_closed=True)) == []
    assert live_links(unfollowed_reply(follow, 0)) == []
    embed = follows_embed([follow], 10, "dm")
    assert live_links(str(embed.description) + str(embed.title)) == []
    item = NegativeAnswer(
        question_id=1, question=QUESTION, refused=False, private=False, downvotes=1,
        asked_at=now, last_vote_at=now, cited_titles=(TITLE,), reasons=(f"wrong: {LINKY}",),
    )  # fmt: skip
    feedback = negative_feedback_embed([item], 0)
    assert live_links(visible_text({"embed": feedback})) == []


# -- every message kind, through the cogs on the real core --------------------------------------


@pytest.fixture
async def linky(bot: NewsBot) -> NewsBot:
    """Add the link-laden story through /story add file:, checking the preview."""
    file = MagicMock(spec=discord.Attachment, filename="quokka-mail.md", size=len(STORY))
    file.read = AsyncMock(return_value=STORY.encode())
    fake = interaction(bot, moderator_by_role())
    await invoke(command(bot, "story add"), bot.get_cog("Stories"), fake, file=file)
    [preview] = replies(fake)
    assert preview["embed"].footer.text.startswith("Added"), preview
    assert f"<{SOURCE_URL}>" in visible_text(preview)  # the source link stays live
    assert_no_live_links(preview)
    return bot


async def test_answers_refusals_and_mention_replies_show_no_live_link(
    linky: NewsBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = linky
    fake = interaction(bot, member(5001))
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), fake, question=QUESTION)
    [answer] = replies(fake)
    assert "Quokka" in visible_text(answer) and f"<{SOURCE_URL}>" in visible_text(answer)
    assert_no_live_links(answer)

    refused = interaction(bot, member(5002))
    asked = "Which bank sets interest rates in Norway?"
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), refused, question=asked)
    [refusal] = replies(refused)
    assert "Nearest stories" in visible_text(refusal) and "Quokka" in visible_text(refusal)
    assert_no_live_links(refusal)

    me = MagicMock(id=999_000_999_000_999_000)
    monkeypatch.setattr(type(bot), "user", property(lambda self: me))
    message = MagicMock(spec=discord.Message, content=f"<@{me.id}> {QUESTION}")
    message.author, message.guild = member(7001), MagicMock(id=bot.settings.guild_ids[0])
    message.reply = checked(discord.Message.reply)
    message.channel.typing = MagicMock(return_value=AsyncMock())
    await bot.get_cog("Ask").on_message(message)
    assert_no_live_links(dict(message.reply.await_args.kwargs))


async def test_info_list_and_digest_show_no_live_link(linky: NewsBot) -> None:
    bot = linky
    story_id = next(a.id for a in bot.services.registry.list_articles() if "Quokka" in a.title)
    for path, options in [("story info", {"story": story_id}), ("story list", {})]:
        fake = interaction(bot, moderator_by_role())
        await invoke(command(bot, path), bot.get_cog("Stories"), fake, **options)
        [payload] = replies(fake)
        assert "Quokka" in visible_text(payload)
        assert_no_live_links(payload)

    for asker in (6001, 6002):  # twice, so the digest lists it among the most asked
        await invoke(
            command(bot, "ask"), bot.get_cog("Ask"), interaction(bot, member(asker)),
            question=QUESTION,
        )  # fmt: skip
    bot.clock = lambda: datetime.now(UTC) + timedelta(minutes=1)
    preview = interaction(bot, moderator_by_role())
    await invoke(command(bot, "digest preview"), bot.get_cog("WeeklyDigest"), preview)
    payloads = replies(preview)
    assert "Most asked" in "\n".join(visible_text(p) for p in payloads)
    for payload in payloads:
        assert_no_live_links(payload)
