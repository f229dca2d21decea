"""Reliability fixtures: the bot test settings, and a loaded bot over the two seed stories."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.client import NewsBot
from index.services import Services
from index.settings import Settings
from tests.bot.conftest import loaded_bot
from tests.bot.support import GUILD_ID, MOD_ROLE


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Return the shared test settings plus a moderator role and a served server."""
    return settings.model_copy(update={"moderator_role_ids": [MOD_ROLE], "guild_ids": [GUILD_ID]})


@pytest.fixture
async def bot(seeded: Services) -> AsyncIterator[NewsBot]:
    """Return a loaded bot (never connected) over the two seed stories."""
    async with loaded_bot(seeded) as bot:
        yield bot
