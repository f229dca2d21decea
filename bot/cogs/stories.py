"""/story add, paste, remove, review, list and info: moderators curate their server's library.

With `library: shared`, moderators of an operator server (NEWSBOT_OPERATOR_GUILD_IDS) curate the
shared library instead; nobody sees or changes another server's stories.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import limits
from bot.checks import (
    LibraryChoice,
    NotModerator,
    chosen_library,
    member_is_moderator,
    moderator_only,
    moderator_roles,
)
from bot.client import NewsBot
from bot.embeds import (
    choice_name,
    duplicate_embed,
    page_count,
    removal_embed,
    removed_embed,
    review_embed,
    story_info_embed,
    story_list_embed,
    story_preview_embed,
)
from bot.errors import APOLOGY, user_message
from bot.views import ConfirmView, PagedView, StoryModal, send_pages
from index import curation
from index.curation import StoryRef, UnknownStory
from index.errors import IngestError
from index.models import Article, RawDocument
from index.review import NOTE_MAX_CHARS

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
# An interaction's follow-ups work for 15 minutes: a story still indexing after 10 is reported
# by DM instead (the caps in index/settings.py keep this rare).
REPLY_WITHIN_S = 600.0
STILL_INDEXING = "Still indexing this story: I'll send you the preview by DM when it is done."
INDEXED_LATE = "The story you added is indexed now:"
CACHE_MAX_AGE = 60.0  # seconds before autocomplete refreshes titles (stories added by the CLI)
LIBRARY_HELP = "server: this server's stories · shared: the shared library (operator servers)"


async def _dm(user: discord.User | discord.Member, **message: Any) -> None:
    """Send a moderator a private message; log when their DMs are closed."""
    try:
        await user.send(allowed_mentions=NONE, **message)
    except discord.HTTPException:
        log.warning("could not DM %s the result of a background indexing", user.id)


def added_by(user: discord.abc.User) -> str:
    """Return how a story records the moderator who added it."""
    return user.name


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)  # a hint only: moderator_only() decides
class Stories(commands.GroupCog, group_name="story", group_description="Curate indexed stories"):
    """Moderators add, paste, remove, review, list and inspect stories."""

    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot
        self.reply_within_s = REPLY_WITHIN_S
        self._later: set[asyncio.Task[None]] = set()  # background reports (kept referenced)
        # Per library, what autocomplete serves from memory, and when it was read.
        self.titles: dict[int, list[StoryRef]] = {}
        self._titles_at: dict[int, float] = {}
        self._refreshing: dict[int, asyncio.Task[None]] = {}

    async def refresh_titles(self, library: int) -> None:
        """Reload a library's title cache (after every add, replace and remove)."""
        refs = await self.bot.run_core(curation.story_refs, self.bot.services, library)
        self.titles[library] = refs
        self._titles_at[library] = time.monotonic()

    def _mods(self, guild_id: int | None) -> list[int]:
        """Return the server's moderator role ids (read at call time, like every setting)."""
        return moderator_roles(self.bot, guild_id)

    # -- adding ---------------------------------------------------------------------------------

    @app_commands.command(name="add")
    @app_commands.describe(
        url="The story's web address", file="A .txt, .md or .html file", library=LIBRARY_HELP
    )
    @moderator_only()
    async def add(
        self,
        interaction: discord.Interaction[NewsBot],
        url: str | None = None,
        file: discord.Attachment | None = None,
        library: LibraryChoice = "server",
    ) -> None:
        """Add a story from a link or an attached .txt/.md/.html file."""
        self._check_source(url, file)
        chosen = chosen_library(self.bot, interaction.guild_id, library)
        await interaction.response.defer(ephemeral=True, thinking=True)
        if file is not None:
            data = await file.read()
            doc = await self.bot.run_core(curation.document_from_upload, file.filename, data)
        else:
            doc = await self.bot.run_core(self.bot.services.fetch, (url or "").strip())
        await self.add_document(interaction, doc, library=chosen)

    def _check_source(self, url: str | None, file: discord.Attachment | None) -> None:
        """Refuse before deferring: both or neither source, an unsupported or oversized file."""
        if (url is None) == (file is None):
            raise IngestError("/story add", "give either a url or a file, not both or neither")
        if file is not None:
            curation.check_upload_name(file.filename)
            limit = self.bot.settings.fetch_max_bytes
            if file.size > limit:
                raise IngestError(file.filename, f"the file is larger than {limit:,} bytes")

    @app_commands.command(name="paste")
    @app_commands.describe(library=LIBRARY_HELP)
    @moderator_only()
    async def paste(
        self, interaction: discord.Interaction[NewsBot], library: LibraryChoice = "server"
    ) -> None:
        """Paste a story that cannot be fetched: title, link, publisher, date and text."""
        chosen = chosen_library(self.bot, interaction.guild_id, library)
        on_submit = partial(self.add_document, library=chosen)
        await interaction.response.send_modal(StoryModal(self._pasted, on_submit))

    def _pasted(self, modal: StoryModal, interaction: discord.Interaction[Any]) -> RawDocument:
        """Return the document a submitted paste form describes (still from a moderator)."""
        if not member_is_moderator(interaction.user, self._mods(interaction.guild_id)):
            raise NotModerator()  # lost the role meanwhile
        return curation.pasted_document(
            modal.text.value, modal.story_title.value, modal.link.value.strip() or None,
            modal.publisher.value.strip() or None, modal.published.value.strip() or None,
            origin=f"pasted by {added_by(interaction.user)}",
        )  # fmt: skip

    async def add_document(
        self, interaction: discord.Interaction[Any], doc: RawDocument, *, library: int
    ) -> None:
        """Index a document into a library and show its preview, or offer to replace the
        version that library holds."""
        stories = self.bot.services.stories
        existing = await self.bot.run_core(stories.existing, doc, library)
        if existing is not None:
            replace = partial(self._replace, doc=doc, library=library)
            mods = self._mods(interaction.guild_id)
            view = ConfirmView(interaction.user.id, mods, "Replace", replace)
            view.message = await interaction.followup.send(
                embed=duplicate_embed(existing), view=view, ephemeral=True, wait=True,
                allowed_mentions=NONE,
            )  # fmt: skip
            return
        work = asyncio.ensure_future(
            self.bot.run_core(stories.add, doc, library, added_by(interaction.user))
        )
        try:  # shield: past the deadline the indexing goes on, and reports by DM
            outcome, article = await asyncio.wait_for(asyncio.shield(work), self.reply_within_s)
        except TimeoutError:
            await interaction.followup.send(STILL_INDEXING, ephemeral=True, allowed_mentions=NONE)
            later = asyncio.create_task(self._report_later(interaction.user, work, library))
            self._later.add(later)
            later.add_done_callback(self._later.discard)
            return
        await self.refresh_titles(library)
        await interaction.followup.send(
            embed=story_preview_embed(article, outcome), ephemeral=True, allowed_mentions=NONE
        )

    async def _report_later(
        self, user: discord.User | discord.Member, work: asyncio.Future[Any], library: int
    ) -> None:
        """DM the moderator the preview (or the reason) of a story indexed past the deadline."""
        try:
            outcome, article = await work
        except Exception as exc:  # the interaction is gone: the reason goes by DM instead
            text = user_message(exc)
            if text is None:
                log.error("indexing in the background failed", exc_info=exc)
            await _dm(user, content=f"Indexing failed: {text or APOLOGY}")
            return
        await self.refresh_titles(library)
        await _dm(user, content=INDEXED_LATE, embed=story_preview_embed(article, outcome))

    async def _replace(
        self, interaction: discord.Interaction[Any], doc: RawDocument, library: int
    ) -> None:
        """Re-ingest a story over its indexed version (the Replace button)."""
        outcome, article = await self.bot.run_core(
            self.bot.services.stories.add, doc, library, added_by(interaction.user)
        )
        await self.refresh_titles(library)
        await interaction.edit_original_response(
            embed=story_preview_embed(article, outcome), allowed_mentions=NONE
        )

    # -- removing and inspecting ----------------------------------------------------------------

    @app_commands.command(name="remove")
    @app_commands.describe(story="Start typing a title", library=LIBRARY_HELP)
    @moderator_only()
    async def remove(
        self,
        interaction: discord.Interaction[NewsBot],
        story: str,
        library: LibraryChoice = "server",
    ) -> None:
        """Remove a story and all of its indexed chunks (asks to confirm)."""
        chosen, article = await self._defer_for_story(interaction, story, library)
        confirm = partial(self._remove, article_id=article.id, library=chosen)
        view = ConfirmView(interaction.user.id, self._mods(interaction.guild_id), "Remove", confirm)
        view.message = await interaction.followup.send(
            embed=removal_embed(article),
            view=view,
            ephemeral=True,
            wait=True,
            allowed_mentions=NONE,
        )

    async def _remove(
        self, interaction: discord.Interaction[Any], article_id: str, library: int
    ) -> None:
        """Remove the story (the Remove button) and say so."""
        stories = self.bot.services.stories
        article = await self.bot.run_core(stories.remove, article_id, (library,))
        await self.refresh_titles(library)
        await interaction.edit_original_response(
            embed=removed_embed(article), allowed_mentions=NONE
        )

    @app_commands.command(name="review")
    @app_commands.describe(
        story="Start typing a title",
        status="retracted: never cited · disputed: marked where cited · clear: drop your review",
        confidence="Your confidence in the story, 0-100",
        note="Why (shown in /story info and beside disputed citations)",
        library=LIBRARY_HELP,
    )
    @moderator_only()
    async def review(
        self,
        interaction: discord.Interaction[NewsBot],
        story: str,
        status: Literal["verified", "disputed", "retracted", "unreviewed", "clear"],
        confidence: app_commands.Range[int, 0, 100] | None = None,
        note: app_commands.Range[str, 1, NOTE_MAX_CHARS] | None = None,
        library: LibraryChoice = "server",
    ) -> None:
        """Record your review of a story: verified, disputed, retracted, unreviewed, or clear."""
        chosen = chosen_library(self.bot, interaction.guild_id, library)
        await interaction.response.defer(ephemeral=True, thinking=True)
        article_id = await self.resolve(story, chosen)
        review = partial(
            self.bot.services.stories.review, article_id, (chosen,), status,
            confidence=confidence, note=note, reviewed_by=added_by(interaction.user),
        )  # fmt: skip
        article = await self.bot.run_core(review)
        await interaction.followup.send(
            embed=review_embed(article, cleared=status == "clear"),
            ephemeral=True,
            allowed_mentions=NONE,
        )

    @app_commands.command(name="list")
    @app_commands.describe(library=LIBRARY_HELP)
    @moderator_only()
    async def list_stories(
        self, interaction: discord.Interaction[NewsBot], library: LibraryChoice = "server"
    ) -> None:
        """List the library's stories, newest first."""
        chosen = chosen_library(self.bot, interaction.guild_id, library)
        await interaction.response.defer(ephemeral=True, thinking=True)
        articles = await self.bot.run_core(self.bot.services.stories.list_stories, (chosen,))
        pages = page_count(len(articles))
        render = partial(story_list_embed, articles)
        mods = self._mods(interaction.guild_id)
        await send_pages(interaction, PagedView(interaction.user.id, mods, pages, render))

    @app_commands.command(name="info")
    @app_commands.describe(story="Start typing a title", library=LIBRARY_HELP)
    @moderator_only()
    async def info(
        self,
        interaction: discord.Interaction[NewsBot],
        story: str,
        library: LibraryChoice = "server",
    ) -> None:
        """Show a story's metadata, provenance, Key Questions and chunk count."""
        _, article = await self._defer_for_story(interaction, story, library)
        await interaction.followup.send(
            embed=story_info_embed(article), ephemeral=True, allowed_mentions=NONE
        )

    # -- autocomplete ---------------------------------------------------------------------------

    async def _defer_for_story(
        self, interaction: discord.Interaction[NewsBot], story: str, library: LibraryChoice
    ) -> tuple[int, Article]:
        """Defer privately, then return the library chosen and the story the option names."""
        chosen = chosen_library(self.bot, interaction.guild_id, library)
        await interaction.response.defer(ephemeral=True, thinking=True)
        article_id = await self.resolve(story, chosen)
        article = await self.bot.run_core(self.bot.services.stories.get, article_id, (chosen,))
        return chosen, article

    async def resolve(self, given: str, library: int) -> str:
        """Return the id a story option names in a library, refreshing its cache once if the
        story is unknown there."""
        try:
            return curation.resolve_story(self.titles.get(library, []), given)
        except UnknownStory:
            await self.refresh_titles(library)
            return curation.resolve_story(self.titles[library], given)

    @remove.autocomplete("story")
    @review.autocomplete("story")
    @info.autocomplete("story")
    async def story_choices(
        self, interaction: discord.Interaction[NewsBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Suggest up to 25 stories of the chosen library by title, from memory (autocomplete
        cannot be deferred); nothing from a library the member may not curate."""
        if not member_is_moderator(interaction.user, self._mods(interaction.guild_id)):
            return []
        shared = getattr(interaction.namespace, "library", None) == "shared"
        choice = "shared" if shared else "server"
        try:
            library = chosen_library(self.bot, interaction.guild_id, choice)
        except app_commands.CheckFailure:
            return []
        if library not in self.titles:
            await self.refresh_titles(library)  # once per library: a short read off the loop
        else:
            self._refresh_if_stale(library)
        titles = self.titles[library]
        found = curation.matching_stories(titles, current, limits.AUTOCOMPLETE_CHOICES)
        return [app_commands.Choice(name=choice_name(r.title, r.date), value=r.id) for r in found]

    def _refresh_if_stale(self, library: int) -> None:
        """Refresh a library's titles in the background when old (never wait for it here)."""
        stale = time.monotonic() - self._titles_at.get(library, 0.0) > CACHE_MAX_AGE
        running = self._refreshing.get(library)
        if stale and (running is None or running.done()):
            self._refreshing[library] = asyncio.create_task(self.refresh_titles(library))


async def setup(bot: NewsBot) -> None:
    """Add the Stories cog."""
    await bot.add_cog(Stories(bot))
