"""Discord's size limits in one place, and a checker for outgoing payloads."""

from __future__ import annotations

from collections.abc import Sequence

import discord

# Characters, as Discord counts them (https://discord.com/developers/docs/resources/message).
MESSAGE_CONTENT = 2000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
EMBED_FOOTER = 2048
EMBED_AUTHOR = 256
MESSAGE_EMBEDS_TOTAL = 6000  # title + description + fields + footer + author, across all embeds
EMBEDS_PER_MESSAGE = 10
EMBED_URL = 2048

# Application commands and components.
AUTOCOMPLETE_CHOICES = 25
CHOICE_NAME = 100
CHOICE_VALUE = 100
TEXT_INPUT_VALUE = 4000
BUTTON_LABEL = 80


def embed_problems(embed: discord.Embed) -> list[str]:
    """Return every limit one embed breaks (empty when it is valid)."""
    problems = []
    checks = [
        ("title", embed.title, EMBED_TITLE),
        ("description", embed.description, EMBED_DESCRIPTION),
        ("footer", embed.footer.text, EMBED_FOOTER),
        ("author", embed.author.name, EMBED_AUTHOR),
        ("url", embed.url, EMBED_URL),
    ]
    for name, value, limit in checks:
        if value is not None and len(value) > limit:
            problems.append(f"{name} has {len(value)} > {limit} characters")
    if len(embed.fields) > EMBED_FIELDS:
        problems.append(f"{len(embed.fields)} > {EMBED_FIELDS} fields")
    for i, field in enumerate(embed.fields):
        if not field.name or len(field.name) > FIELD_NAME:
            problems.append(f"field {i} name has {len(field.name or '')} characters")
        if not field.value or len(field.value) > FIELD_VALUE:
            problems.append(f"field {i} value has {len(field.value or '')} characters")
    return problems


def message_problems(content: str | None, embeds: Sequence[discord.Embed]) -> list[str]:
    """Return every limit a message breaks: content, embed count, each embed, the 6,000 total."""
    problems = []
    if content is not None and len(content) > MESSAGE_CONTENT:
        problems.append(f"content has {len(content)} > {MESSAGE_CONTENT} characters")
    if len(embeds) > EMBEDS_PER_MESSAGE:
        problems.append(f"{len(embeds)} > {EMBEDS_PER_MESSAGE} embeds")
    for embed in embeds:
        problems.extend(embed_problems(embed))
    total = sum(len(e) for e in embeds)
    if total > MESSAGE_EMBEDS_TOTAL:
        problems.append(f"embeds total {total} > {MESSAGE_EMBEDS_TOTAL} characters")
    if not content and not embeds:
        problems.append("message is empty")
    return problems
