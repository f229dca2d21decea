"""Pure formatting for /feed: replies, the feed list, and the moderators' failure report."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot import limits
from bot.embeds import COLOUR
from bot.text import fit_lines, link, safe, when
from index.digest import one_line_summary
from index.feeds import FeedRow
from index.feeds.present import feed_state
from index.library import library_name
from index.models import Article

NAME_CHARS = 80  # a feed's name in a list line or reply
ERROR_CHARS = 200  # a feed's last error in a list line or report
NO_FEEDS = "No feeds yet. Add one with `/feed add url:`; new stories then arrive by themselves."


def feed_label(feed: FeedRow) -> str:
    """Return how a reply names a feed: its id and name (or its own title)."""
    return f"#{feed.id} {safe(feed.name or feed.title, NAME_CHARS, 'untitled feed')}"


def added_reply(feed: FeedRow) -> str:
    """Return the /feed add reply."""
    return (f"Subscribed {library_name(feed.library)} to feed {feed_label(feed)} "
            f"({link(feed.url)}). Its items arrive within a few minutes, then every "
            f"{feed.interval_seconds // 60} minutes.")  # fmt: skip


def changed_reply(action: str, feed: FeedRow) -> str:
    """Return the reply to /feed remove, pause or resume."""
    done = {"remove": "Removed", "pause": "Paused", "resume": "Resumed"}[action]
    kept = " The stories it brought stay indexed." if action == "remove" else ""
    return f"{done} feed {feed_label(feed)} ({link(feed.url)}).{kept}"


def feeds_embed(feeds: Sequence[FeedRow], library: int) -> discord.Embed:
    """Return the /feed list embed: one line per feed with its state and last error."""
    embed = discord.Embed(title=f"Feeds of {library_name(library)}", colour=COLOUR)
    if not feeds:
        embed.description = NO_FEEDS
        return embed
    lines = [f"**{feed_label(f)}** {link(f.url)}\n{safe(feed_state(f), ERROR_CHARS + 80)}"
             for f in feeds]  # fmt: skip
    embed.description = fit_lines(lines, limits.EMBED_DESCRIPTION - 100)
    return embed


def failure_report(feed: FeedRow) -> str:
    """Return the message telling moderators that a feed has failed for a day (sent once)."""
    error = safe(feed.last_error, ERROR_CHARS, "unknown error")
    return (f"Feed {feed_label(feed)} ({link(feed.url)}) has failed for a day: {error}. "
            "I keep retrying it less often; fix or remove it with `/feed remove`.")  # fmt: skip


def announcement(article: Article) -> str:
    """Return the post announcing a new story: title, publisher, date, one line, link."""
    title = safe(article.title, limits.EMBED_TITLE, "Untitled story")
    source = safe(article.source, 80, "publisher not stated")
    summary = safe(one_line_summary(article), 300)
    lines = [f"📰 **{title}**", f"{source}, {when(article.date)} — {link(article.url)}"]
    return "\n".join([*lines, summary] if summary else lines)
