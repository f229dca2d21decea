"""Pure formatting for followed questions: replies, the /follows list, notification headers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import discord

from bot import limits
from bot.embeds import COLOUR
from bot.text import fit_lines, member_text, one_line, pages_needed, truncate
from index.follows import Follow, Followed

Delivery = Literal["dm", "channel"]

HEADER = "New on a question you follow:"
QUESTION_CHARS = 200  # the question in a header or list line (the embed title has it in full)
# Lines per /follows page: at QUESTION_CHARS plus markup each, ten stay far below the 4,096
# characters of an embed description.
FOLLOWS_PAGE_SIZE = 10
STOP_HINT = "Use `/unfollow` to stop following it."
NO_FOLLOWS = (
    "You don't follow any question yet. Use `/follow` and I'll tell you when a new story "
    "changes its answer."
)


def how_told(delivery: Delivery) -> str:
    """Return how a member will hear of a new answer, for the /follow reply."""
    if delivery == "dm":
        return "I'll DM you (or mention you in this channel if your DMs are closed)"
    return "I'll mention you in this channel"


def followed_reply(followed: Followed, delivery: Delivery, limit: int) -> str:
    """Return the /follow reply above the current answer."""
    if not followed.created:
        start = "You already follow this question."
    else:
        start = f"You now follow this question ({followed.count} of {limit})."
    if followed.answer.refused:
        return (
            f"{start} The indexed stories don't cover it yet: {how_told(delivery)} when one does."
        )
    return f"{start} Here is the answer so far: {how_told(delivery)} when a new story changes it."


def notification_content(question: str, mention: int | None = None, dm_closed: bool = False) -> str:
    """Return the line above a new answer: the header, and a mention when posted in a channel."""
    shown = member_text(question, QUESTION_CHARS, "your question")
    text = f"{HEADER} **{shown}**\n{STOP_HINT}"
    if mention is None:
        return text
    if dm_closed:
        text = f"I couldn't DM you, so here it is. {text}"
    return truncate(f"<@{mention}> {text}", limits.MESSAGE_CONTENT)


def unfollowed_reply(follow: Follow, left: int) -> str:
    """Return the /unfollow reply."""
    shown = member_text(follow.question, QUESTION_CHARS, "that question")
    return f"You no longer follow **{shown}** ({left} left)."


def only_mention(user_id: int) -> discord.AllowedMentions:
    """Return allowed mentions that can ping this one member and nobody else."""
    return discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(id=user_id)], replied_user=False
    )


def follows_page_count(n_items: int) -> int:
    """Return how many pages n follows need (at least one)."""
    return pages_needed(n_items, FOLLOWS_PAGE_SIZE)


def follows_embed(
    follows: Sequence[Follow], limit: int, delivery: Delivery, page: int = 0
) -> discord.Embed:
    """Return one page (0-based) of the /follows list: each question with when it was followed."""
    if not follows:
        return discord.Embed(title="Questions you follow", description=NO_FOLLOWS, colour=COLOUR)
    pages = follows_page_count(len(follows))
    page = min(max(page, 0), pages - 1)
    start = page * FOLLOWS_PAGE_SIZE
    lines = [
        f"{start + i}. **{member_text(f.question, QUESTION_CHARS, 'question')}** — since "
        f"<t:{int(f.created_at.timestamp())}:R>"
        for i, f in enumerate(follows[start : start + FOLLOWS_PAGE_SIZE], start=1)
    ]
    where = "by DM" if delivery == "dm" else "in the channel where you followed"
    embed = discord.Embed(
        title=f"Questions you follow ({len(follows)} of {limit})",
        description=fit_lines(lines, limits.EMBED_DESCRIPTION),
        colour=COLOUR,
    )
    shown = f"Page {page + 1}/{pages} · " if pages > 1 else ""
    return embed.set_footer(text=f"{shown}New answers reach you {where}. /unfollow stops one.")


def follow_choice_name(question: str) -> str:
    """Return a followed question as an autocomplete choice name."""
    return truncate(one_line(question), limits.CHOICE_NAME)
