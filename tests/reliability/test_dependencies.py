"""Dependencies fail loudly and recover: a real `chroma run` on 127.0.0.1 is stopped and restarted.

While the Chroma server is down (or hung), questions get a clear "index unavailable" answer,
through the core and through the bot, nothing crashes and nothing is logged as a bug; when the
server comes back on the same port, the same process answers again without a restart.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.client import NewsBot
from index import chroma_clients
from index.errors import IndexUnavailableError
from index.services import Services, build_services
from index.settings import Settings
from tests.bot.conftest import loaded_bot
from tests.bot.support import command, interaction, invoke, member, moderator_by_role, sent
from tests.chroma_server import ChromaServer, chroma_executable
from tests.fakes import FakeEmbedder

pytestmark = pytest.mark.skipif(chroma_executable() is None, reason="chroma CLI not installed")

QUESTION = "Are Hollywood writers being replaced by AI?"
UNAVAILABLE = IndexUnavailableError().user_message()


@pytest.fixture
def remote(settings: Settings, chroma_server: ChromaServer) -> Iterator[Services]:
    """Return services that keep their vectors on the Chroma server, with the seeds indexed."""
    update = {"chroma_host": chroma_server.host, "chroma_port": chroma_server.port}
    services = build_services(settings.model_copy(update=update), embedder=FakeEmbedder())
    assert services.ensure_samples() is not None
    yield services
    services.close()


@pytest.fixture
async def remote_bot(remote: Services) -> AsyncIterator[NewsBot]:
    """Return a loaded bot over the remote services."""
    async with loaded_bot(remote) as bot:
        yield bot


async def _ask(bot: NewsBot, user_id: int) -> dict[str, object]:
    fake = interaction(bot, member(user_id))
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), fake, question=QUESTION)
    [reply] = sent(fake)
    return reply


async def test_ask_says_the_index_is_unavailable_then_recovers(
    remote_bot: NewsBot, chroma_server: ChromaServer, caplog: pytest.LogCaptureFixture
) -> None:
    bot, services = remote_bot, remote_bot.services
    assert "embed" in await _ask(bot, 1)

    chroma_server.stop()
    with pytest.raises(IndexUnavailableError) as info:
        services.ask(QUESTION)
    assert info.value.user_message() == UNAVAILABLE
    with caplog.at_level(logging.WARNING):
        reply = await _ask(bot, 2)  # the cog answers the member, the bot stays up
        assert reply["content"] == UNAVAILABLE and reply["ephemeral"] is True
        moderator = interaction(bot, moderator_by_role())
        await invoke(command(bot, "story list"), bot.get_cog("Stories"), moderator)
        assert "embed" in sent(moderator)[-1]  # the registry still answers what it can
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # expected, not a bug

    chroma_server.start()  # same path, same port
    reply = await _ask(bot, 3)
    assert "embed" in reply and "[1]" in reply["embed"].description  # type: ignore[attr-defined]
    assert not services.ask(QUESTION).refused


def test_services_start_while_the_server_is_down_and_connect_later(
    remote: Services, chroma_server: ChromaServer, settings: Settings
) -> None:
    chroma_server.stop()
    update = {"chroma_host": chroma_server.host, "chroma_port": chroma_server.port}
    restarted = build_services(settings.model_copy(update=update), embedder=FakeEmbedder())
    try:
        with pytest.raises(IndexUnavailableError):
            restarted.ask(QUESTION)
        chroma_server.start()
        assert not restarted.ask(QUESTION).refused
    finally:
        restarted.close()


def test_a_hung_server_times_out_instead_of_blocking(
    settings: Settings, chroma_server: ChromaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chroma_clients, "HTTP_TIMEOUT", 1.0)
    update = {"chroma_host": chroma_server.host, "chroma_port": chroma_server.port}
    services = build_services(settings.model_copy(update=update), embedder=FakeEmbedder())
    pid = chroma_server._proc.pid  # type: ignore[union-attr]
    try:
        services.ensure_samples()
        os.kill(pid, signal.SIGSTOP)  # accepts connections, never answers
        raised: list[BaseException] = []

        def ask() -> None:
            try:
                services.ask(QUESTION)
            except IndexUnavailableError as exc:
                raised.append(exc)

        start = time.monotonic()
        asking = threading.Thread(target=ask, daemon=True)
        asking.start()
        asking.join(timeout=10)  # without a timeout the call would block for good
        assert not asking.is_alive(), "a hung Chroma server blocked the question"
        assert len(raised) == 1 and time.monotonic() - start < 5
        os.kill(pid, signal.SIGCONT)
        assert not services.ask(QUESTION).refused
    finally:
        os.kill(pid, signal.SIGCONT)
        services.close()


def test_a_server_that_lost_its_data_is_refilled_on_the_next_start(
    remote: Services, chroma_server: ChromaServer, settings: Settings, tmp_path: Path
) -> None:
    chroma_server.stop()
    empty = ChromaServer(tmp_path / "fresh-chroma", port=chroma_server.port)  # e.g. a lost volume
    empty.start()
    try:
        # The running process recreates the collection instead of failing on a stale id; the
        # registry's keyword index still finds the stories meanwhile.
        assert remote.store.count() == 0
        assert not remote.ask(QUESTION).refused
        update = {
            "chroma_host": chroma_server.host,
            "chroma_port": chroma_server.port,
            "retriever": "dense",
        }
        restarted = build_services(settings.model_copy(update=update), embedder=FakeEmbedder())
        try:  # the next start re-embeds every story's chunks from the registry
            assert restarted.store.count() == restarted.registry.count_chunks() > 0
            assert not restarted.ask(QUESTION).refused
        finally:
            restarted.close()
    finally:
        empty.stop()
