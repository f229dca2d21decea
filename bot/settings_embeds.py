"""Pure formatting of a server's settings for /settings show and /settings set."""

from __future__ import annotations

from collections.abc import Mapping

import discord

from bot.text import truncate
from index.settings import Settings

_CHANNELS = frozenset({"digest_channel_id", "mention_channel_ids", "thread_channel_ids"})
_ROLES = frozenset({"digest_role_id", "moderator_role_ids"})
FIELD_VALUE_MAX = 1024  # Discord's limit per embed field value


def shown_value(key: str, value: object) -> str:
    """Return a setting's value as Discord shows it (channels and roles as links, never pings)."""
    ids = value if isinstance(value, list) else [value]
    if value is None:
        return "off"
    if value == []:
        return "every channel" if key in _CHANNELS else "none (Manage Server only)"
    if key in _CHANNELS:
        return ", ".join(f"<#{i}>" for i in ids)
    if key in _ROLES:
        return ", ".join(f"<@&{i}>" for i in ids)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def settings_embed(
    effective: Settings, changed: Mapping[str, str], keys: tuple[str, ...]
) -> discord.Embed:
    """Return one field per server setting: its value, and whether this server changed it."""
    embed = discord.Embed(
        title="This server's settings",
        description="Change one with `/settings set key value` (`default` goes back to the "
        "bot's default). Values not changed here follow the bot's configuration.",
    )
    for key in keys:
        origin = "set here" if key in changed else "default"
        value = truncate(f"{shown_value(key, getattr(effective, key))} · {origin}", FIELD_VALUE_MAX)
        embed.add_field(name=key, value=value, inline=False)
    return embed
