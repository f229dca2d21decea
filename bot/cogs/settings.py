"""/settings show and /settings set: a server's moderators choose how newsbot works there."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.client import NewsBot
from bot.settings_embeds import settings_embed, shown_value
from index.server_settings import SERVER_KEYS

NONE = discord.AllowedMentions.none()
KEY_CHOICES = [app_commands.Choice(name=key, value=key) for key in SERVER_KEYS]


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)  # a hint only: moderator_only() decides
class ServerSettingsCog(
    commands.GroupCog, group_name="settings", group_description="This server's settings"
):
    """Moderators read and change their own server's settings (never another server's)."""

    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot

    @app_commands.command(name="show")
    @moderator_only()
    async def show(self, interaction: discord.Interaction[NewsBot]) -> None:
        """Show this server's settings and which of them it changed."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        servers = self.bot.services.servers
        guild_id = interaction.guild_id or 0
        changed = await self.bot.run_core(servers.changed, guild_id)
        embed = settings_embed(servers.for_guild(guild_id), changed, SERVER_KEYS)
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NONE)

    @app_commands.command(name="set")
    @app_commands.describe(
        key="The setting to change",
        value="Its new value (channels and roles by mention or id, lists comma-separated); "
        "`default` goes back to the bot's default",
    )
    @app_commands.choices(key=KEY_CHOICES)
    @moderator_only()
    async def set_value(
        self,
        interaction: discord.Interaction[NewsBot],
        key: str,
        value: app_commands.Range[str, 1, 400],
    ) -> None:
        """Change one of this server's settings (validated like the bot's own settings)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        servers = self.bot.services.servers
        effective = await self.bot.run_core(servers.set, interaction.guild_id or 0, key, value)
        if key.startswith("digest_"):
            digest = self.bot.get_cog("WeeklyDigest")
            if digest is not None:
                await digest.ensure_scheduler()  # type: ignore[attr-defined]
        await interaction.followup.send(
            f"`{key}` is now {shown_value(key, getattr(effective, key))}.",
            ephemeral=True,
            allowed_mentions=NONE,
        )


async def setup(bot: NewsBot) -> None:
    """Add the settings cog."""
    await bot.add_cog(ServerSettingsCog(bot))
