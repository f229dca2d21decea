"""The emulator's thread routes and message commands refuse what Discord refuses (no bot)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.emulator import Emulator
from tests.e2e.emulator.interactions import message_command_data
from tests.e2e.emulator.threads import PUBLIC_THREAD, THREAD_NAME_MAX
from tests.e2e.emulator.validation import command_problems
from tests.e2e.emulator.world import GENERAL_CHANNEL_ID, GUILD_ID, member_person
from tests.e2e.test_emulator import request


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """Run an emulator with no bot attached."""
    emulator = Emulator().start()
    yield emulator
    emulator.stop()


def start_from(emulator: Emulator, message_id: int, body: object) -> tuple[int, object]:
    """Start a thread from a message in #general; return the status and the body."""
    path = f"/channels/{GENERAL_CHANNEL_ID}/messages/{message_id}/threads"
    status, _, answer = request(emulator, "POST", path, body)
    return status, answer


def test_a_thread_from_a_message_takes_its_id_once(emulator: Emulator) -> None:
    message = emulator.messages.create(GENERAL_CHANNEL_ID, {"content": "🧵 Who?"})
    status, thread = start_from(emulator, int(message["id"]), {"name": "Who?"})
    assert status == 201 and isinstance(thread, dict)
    assert thread["id"] == message["id"] and thread["type"] == PUBLIC_THREAD
    assert thread["parent_id"] == str(GENERAL_CHANNEL_ID) and thread["guild_id"] == str(GUILD_ID)
    # The thread is a channel now: messages go into it, interactions come from it.
    status, _, posted = request(
        emulator, "POST", f"/channels/{thread['id']}/messages", {"content": "hi"}
    )
    assert status == 200 and posted["channel_id"] == thread["id"]
    assert emulator.world.guild_of(int(thread["id"])) == GUILD_ID
    again = start_from(emulator, int(message["id"]), {"name": "Who?"})
    assert again[0] == 400 and again[1]["code"] == 160004  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "x" * (THREAD_NAME_MAX + 1)}, "BASE_TYPE_MAX_LENGTH"),
        ({"name": ""}, "BASE_TYPE_REQUIRED"),
        ({}, "BASE_TYPE_REQUIRED"),
        ({"name": "a\nb"}, "BASE_TYPE_BAD_NAME"),
        ({"name": "ok", "auto_archive_duration": 30}, "BASE_TYPE_CHOICES"),
        ({"name": "ok", "rate_limit_per_user": 99999}, "NUMBER_TYPE_MAX"),
        ({"name": "ok", "type": 11}, "UNKNOWN_FIELD"),  # from a message: no type
    ],
)
def test_thread_names_and_fields_are_checked(emulator: Emulator, body: object, code: str) -> None:
    message = emulator.messages.create(GENERAL_CHANNEL_ID, {"content": "q"})
    status, error = start_from(emulator, int(message["id"]), body)
    assert status == 400 and isinstance(error, dict) and error["code"] == 50035
    assert code in str(error["errors"])
    assert emulator.world.thread(int(message["id"])) is None  # nothing was created


def test_a_thread_needs_a_text_channel_and_a_message_in_it(emulator: Emulator) -> None:
    message = emulator.messages.create(GENERAL_CHANNEL_ID, {"content": "q"})
    assert start_from(emulator, 123, {"name": "q"})[0] == 404  # no such message
    thread = start_from(emulator, int(message["id"]), {"name": "q"})[1]
    inner = emulator.messages.create(int(thread["id"]), {"content": "in it"})  # type: ignore[index]
    nested = f"/channels/{thread['id']}/messages/{inner['id']}/threads"  # type: ignore[index]
    status, _, error = request(emulator, "POST", nested, {"name": "deeper"})
    assert (status, error["code"]) == (400, 50024)  # no thread inside a thread
    status, _, started = request(
        emulator, "POST", f"/channels/{GENERAL_CHANNEL_ID}/threads", {"name": "t", "type": 11}
    )
    assert status == 201 and started["type"] == 11 and started["id"] != message["id"]


def test_message_menus_publish_with_spaces_and_no_description() -> None:
    menu = {"name": "Ask newsbot", "type": 3, "description": ""}
    assert command_problems([menu]) == []
    assert command_problems([menu | {"description": "no"}])
    assert command_problems([menu | {"name": "x" * 33}])
    assert command_problems([{"name": "Ask newsbot", "type": 1, "description": "d"}])


def test_a_message_command_carries_its_target_resolved(emulator: Emulator) -> None:
    emulator.book.overwrite(GUILD_ID, [{"name": "Ask newsbot", "type": 3, "description": ""}])
    message_id = emulator.post(member_person(1), "Who trains AI?")
    stored = emulator.messages.get(message_id)
    assert stored is not None
    data = message_command_data(emulator.book, "Ask newsbot", stored)
    assert data["type"] == 3 and data["target_id"] == str(message_id)
    assert data["resolved"]["messages"][str(message_id)]["content"] == "Who trains AI?"
    with pytest.raises(LookupError):
        message_command_data(emulator.book, "ask", stored)  # not a message command
