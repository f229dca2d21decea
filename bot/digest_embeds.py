"""Pure formatting of the weekly digest into messages that each respect Discord's limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import discord

from bot import limits
from bot.text import fit_lines, link, member_text, safe, truncate, when
from index.digest import Digest, DigestStory
from index.present import also_reported_line

COLOUR = discord.Colour.gold()
EMPTY_NOTE = "No new stories were added since the last digest."
UNANSWERED_NAME = "Questions we couldn't answer"
NOW_ANSWERED_NAME = "Now answered"
_SUMMARY_CHARS = 500
_QUESTION_CHARS = 200
_TITLE_CHARS = 150


@dataclass
class OutgoingMessage:
    """One message to send: optional content, embeds, and who it may ping."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    allowed_mentions: discord.AllowedMentions = field(default_factory=discord.AllowedMentions.none)


def digest_title(digest: Digest) -> str:
    """Return 'Weekly digest · May 4 – May 11, 2026' in the digest's time zone."""
    tz = ZoneInfo(digest.timezone)
    start, end = digest.start.astimezone(tz).date(), digest.end.astimezone(tz).date()
    return f"Weekly digest · {start:%b} {start.day} – {when(end)}"


def story_field(story: DigestStory) -> tuple[str, str]:
    """Return a story's field: title as name; publisher, date, link, summary, Key Question."""
    name = safe(story.title, limits.FIELD_NAME, "Untitled story")
    head = f"{safe(story.source, 100, 'publisher not stated')}, {when(story.published)} — "
    head += link(story.url)
    lines = [head]
    if story.summary:
        lines.append(safe(story.summary, _SUMMARY_CHARS))
    if story.key_question:
        lines.append(f"**Key question:** {safe(story.key_question, _QUESTION_CHARS)}")
    others = also_reported_line(story.also_reported, lambda n: safe(n, 100), link)
    if others:
        lines.append(others[0].upper() + others[1:])
    return name, truncate("\n".join(lines), limits.FIELD_VALUE)


def questions_field(digest: Digest) -> tuple[str, str]:
    """Return the field on questions: how many were asked and the most asked ones."""
    n = digest.question_count
    value = f"Members asked {n} question{'s' if n != 1 else ''}."
    if digest.top_questions:
        value += " Most asked:\n" + "\n".join(
            f"{i}. {member_text(q.text, _QUESTION_CHARS)} (×{q.count})"
            for i, q in enumerate(digest.top_questions, start=1)
        )
    return "Questions", truncate(value, limits.FIELD_VALUE)


def unanswered_field(digest: Digest) -> tuple[str, str] | None:
    """Return the field of refused or 👎 questions, most asked first (None when there are none)."""
    if not digest.unanswered:
        return None
    lines = [
        f"{i}. {member_text(q.text, _QUESTION_CHARS)} (×{q.count}"
        + ("" if q.refused else ", answer marked unhelpful")
        + ")"
        for i, q in enumerate(digest.unanswered, start=1)
    ]
    return UNANSWERED_NAME, fit_lines(lines, limits.FIELD_VALUE)


def now_answered_field(digest: Digest) -> tuple[str, str] | None:
    """Return the field of earlier refused questions a new story answers (None when none)."""
    if not digest.now_answered:
        return None
    lines = [
        f"{member_text(n.question, _QUESTION_CHARS)} → "
        f"**{safe(n.title, _TITLE_CHARS, 'Untitled story')}**"
        for n in digest.now_answered
    ]
    return NOW_ANSWERED_NAME, fit_lines(lines, limits.FIELD_VALUE)


def digest_messages(digest: Digest, role_id: int | None = None) -> list[OutgoingMessage]:
    """Return the digest as messages within every limit; only the opt-in role may be pinged."""
    header = discord.Embed(title=digest_title(digest), colour=COLOUR)
    n = len(digest.stories)
    since = when(digest.start.astimezone(ZoneInfo(digest.timezone)).date())
    plural = "stories" if n != 1 else "story"
    header.description = f"{n} new {plural} since {since}, newest first." if n else EMPTY_NOTE
    fields = [story_field(s) for s in digest.stories] + [questions_field(digest)]
    fields += [f for f in (unanswered_field(digest), now_answered_field(digest)) if f is not None]
    messages = _pack(header, fields)
    if role_id is not None and n:
        messages[0].content = f"<@&{role_id}>"
        messages[0].allowed_mentions = discord.AllowedMentions(
            everyone=False, users=False, roles=[discord.Object(role_id)], replied_user=False
        )
    return messages


def _pack(header: discord.Embed, fields: list[tuple[str, str]]) -> list[OutgoingMessage]:
    """Spread fields over embeds (25 fields each) and messages (10 embeds, 6,000 chars each)."""
    messages = [OutgoingMessage(embeds=[header])]
    embed, total = header, len(header)
    for name, value in fields:
        cost = len(name) + len(value)
        if total + cost > limits.MESSAGE_EMBEDS_TOTAL:
            embed = discord.Embed(colour=COLOUR)
            messages.append(OutgoingMessage(embeds=[embed]))
            total = 0
        elif len(embed.fields) >= limits.EMBED_FIELDS:
            if len(messages[-1].embeds) >= limits.EMBEDS_PER_MESSAGE:
                messages.append(OutgoingMessage())
                total = 0
            embed = discord.Embed(colour=COLOUR)
            messages[-1].embeds.append(embed)
        embed.add_field(name=name, value=value, inline=False)
        total += cost
    return messages
