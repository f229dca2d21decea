"""Bot fixtures: a real NewsBot (never logged in) on the real core with the fake embedder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bot.client import NewsBot, make_bot
from index.services import Services
from index.settings import Settings
from tests.bot.support import GUILD_ID, MOD_ROLE
from tests.conftest import SEEDS


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Return the shared test settings plus a moderator role and a served server."""
    return settings.model_copy(
        update={"moderator_role_ids": [MOD_ROLE], "guild_ids": [GUILD_ID], "ask_rate": 3}
    )


@pytest.fixture
def seeded(services: Services) -> Services:
    """Return services with the two seed stories in the test server's own library.

    Moderators curate their own server's library by default; the shared library needs an
    operator server (tests of that name it).
    """
    report = services.stories.ingest_sources([str(p) for p in SEEDS], library=GUILD_ID)
    assert report.ok and len(report.added) == 2, report
    return services


@asynccontextmanager
async def loaded_bot(services: Services) -> AsyncIterator[NewsBot]:
    """Yield a bot with every extension loaded, initialised as for login but never connected."""
    async with make_bot(services, warm_model=False) as bot:
        await bot.setup_hook()  # what login runs: the extensions, then the collector frozen
        yield bot


@pytest.fixture
async def bot(seeded: Services) -> AsyncIterator[NewsBot]:
    """Return a loaded bot over the two seed stories."""
    async with loaded_bot(seeded) as bot:
        yield bot


@pytest.fixture
async def empty_bot(services: Services) -> AsyncIterator[NewsBot]:
    """Return a loaded bot over an empty index."""
    async with loaded_bot(services) as bot:
        yield bot
