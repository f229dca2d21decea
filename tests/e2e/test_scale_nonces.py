"""The emulator honours `enforce_nonce` as Discord does (fast: no bot process): a repeat of a
nonce by the same author within the window returns the first message and posts nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.e2e.emulator import Emulator
from tests.e2e.emulator.nonces import NONCE_MAX, NonceMemory
from tests.e2e.emulator.world import DIGEST_CHANNEL_ID, GENERAL_CHANNEL_ID
from tests.e2e.test_emulator import request

DIGEST = f"/channels/{DIGEST_CHANNEL_ID}/messages"
GENERAL = f"/channels/{GENERAL_CHANNEL_ID}/messages"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """Run an emulator with no bot attached."""
    emulator = Emulator().start()
    yield emulator
    emulator.stop()


def _post(emulator: Emulator, path: str, **body: object) -> dict[str, object]:
    status, _, message = request(emulator, "POST", path, {"content": "hi"} | body)
    assert status == 200, message
    return message


def test_a_repeated_enforced_nonce_returns_the_first_message(emulator: Emulator) -> None:
    first = _post(emulator, DIGEST, nonce="d1", enforce_nonce=True)
    again = _post(emulator, DIGEST, content="changed", nonce="d1", enforce_nonce=True)
    assert again["id"] == first["id"] and again["content"] == "hi"
    # Discord matches the author, not the channel: the same nonce elsewhere is the same message.
    elsewhere = _post(emulator, GENERAL, nonce="d1", enforce_nonce=True)
    assert elsewhere["id"] == first["id"]
    assert len(emulator.messages.in_channel(DIGEST_CHANNEL_ID)) == 1
    assert emulator.messages.in_channel(GENERAL_CHANNEL_ID) == []
    assert _post(emulator, DIGEST, nonce="d2", enforce_nonce=True)["id"] != first["id"]


def test_a_nonce_not_enforced_or_past_the_window_posts_again(emulator: Emulator) -> None:
    first = _post(emulator, DIGEST, nonce="d1")
    assert _post(emulator, DIGEST, nonce="d1")["id"] != first["id"]  # no enforce_nonce
    emulator.rest.nonces.window_s = 0.2
    enforced = _post(emulator, DIGEST, nonce="d3", enforce_nonce=True)
    time.sleep(0.3)
    assert _post(emulator, DIGEST, nonce="d3", enforce_nonce=True)["id"] != enforced["id"]
    assert len(emulator.messages.in_channel(DIGEST_CHANNEL_ID)) == 4


def test_a_nonce_over_25_characters_is_refused(emulator: Emulator) -> None:
    status, _, error = request(
        emulator, "POST", DIGEST, {"content": "hi", "nonce": "n" * (NONCE_MAX + 1)}
    )
    assert status == 400
    assert error["errors"]["nonce"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert _post(emulator, DIGEST, nonce="n" * NONCE_MAX)["content"] == "hi"


def test_the_memory_forgets_after_its_window() -> None:
    now = [100.0]
    memory = NonceMemory(window_s=120, now=lambda: now[0])
    memory.remember("bot", "x", {"id": "1"})
    now[0] += 119
    assert memory.earlier("bot", "x") == {"id": "1"}
    assert memory.earlier("someone else", "x") is None
    now[0] += 2
    assert memory.earlier("bot", "x") is None
