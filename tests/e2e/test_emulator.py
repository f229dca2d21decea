"""The emulator itself refuses what Discord refuses (fast: no bot process)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.emulator import Emulator
from tests.e2e.emulator.interactions import (
    ALREADY_ACKNOWLEDGED,
    INVALID_WEBHOOK_TOKEN,
    UNKNOWN_INTERACTION,
    UNKNOWN_WEBHOOK,
    Ledger,
    component_data,
    interaction_payload,
    modal_submit_data,
)
from tests.e2e.emulator.ui import response_type_problems
from tests.e2e.emulator.validation import (
    callback_problems,
    command_problems,
    form_error,
    is_empty_message,
    message_problems,
)
from tests.e2e.emulator.world import (
    APP_ID,
    DIGEST_CHANNEL_ID,
    GENERAL_CHANNEL_ID,
    TOKEN,
    member_person,
)


def codes(payload: dict[str, Any], kind: str = "channel") -> set[str]:
    """Return the error codes Discord would give a message payload."""
    return {p.code for p in message_problems(payload, kind)}  # type: ignore[arg-type]


def embed(**fields: Any) -> dict[str, Any]:
    """Return a message with one embed."""
    return {"embeds": [fields]}


def test_a_well_formed_message_passes() -> None:
    ok = {
        "content": "x" * 2000,
        "embeds": [{"title": "t", "description": "d", "fields": [{"name": "n", "value": "v"}]}],
        "allowed_mentions": {"parse": []},
        "tts": False,
    }
    assert message_problems(ok, "channel") == []


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"content": "x" * 2001}, "BASE_TYPE_MAX_LENGTH"),
        ({"embeds": [{"title": "t"}] * 11}, "BASE_TYPE_MAX_LENGTH"),
        (embed(title="t" * 257), "BASE_TYPE_MAX_LENGTH"),
        (embed(description="d" * 4097), "BASE_TYPE_MAX_LENGTH"),
        (embed(fields=[{"name": "n", "value": "v"}] * 26), "BASE_TYPE_MAX_LENGTH"),
        (embed(fields=[{"name": "n" * 257, "value": "v"}]), "BASE_TYPE_MAX_LENGTH"),
        (embed(fields=[{"name": "n", "value": "v" * 1025}]), "BASE_TYPE_MAX_LENGTH"),
        (embed(fields=[{"name": "n", "value": ""}]), "BASE_TYPE_REQUIRED"),
        (embed(footer={"text": "f" * 2049}), "BASE_TYPE_MAX_LENGTH"),
        (embed(author={"name": "a" * 257}), "BASE_TYPE_MAX_LENGTH"),
        (
            {"embeds": [{"description": "d" * 3001}, {"description": "d" * 3000}]},
            "MAX_EMBED_SIZE_EXCEEDED",
        ),
        (embed(url="javascript:alert(1)"), "URL_TYPE_INVALID_URL"),
        (embed(colour=1), "UNKNOWN_FIELD"),
        ({"content": "x", "mentions": []}, "UNKNOWN_FIELD"),
        ({"content": "x", "allowed_mentions": {"parse": ["everyone", "all"]}}, "ENUM_TYPE_COERCE"),
        (
            {"content": "x", "allowed_mentions": {"parse": ["users"], "users": ["1"]}},
            "SET_TYPE_ALREADY_CONTAINS_VALUE",
        ),
        ({"content": "x", "flags": 64}, "MESSAGE_FLAGS_INVALID"),  # ephemeral is for interactions
    ],
)
def test_discord_limits_and_unknown_fields_are_refused(payload: dict[str, Any], code: str) -> None:
    assert code in codes(payload)


def test_webhooks_accept_ephemeral_and_their_own_fields_only() -> None:
    assert codes({"content": "x", "flags": 64, "username": "n"}, "webhook") == set()
    assert codes({"content": "x", "message_reference": {}}, "webhook") == {"UNKNOWN_FIELD"}
    assert is_empty_message({"content": "", "embeds": [], "tts": False})


def test_refusals_nest_like_discord() -> None:
    body = form_error(message_problems(embed(title="t" * 300), "channel"))
    assert body["code"] == 50035 and body["message"] == "Invalid Form Body"
    leaf = body["errors"]["embeds"]["0"]["title"]["_errors"][0]
    assert leaf == {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length."}


def test_interaction_callbacks_and_command_overwrites_are_checked() -> None:
    assert callback_problems({"type": 5, "data": {"flags": 64}}) == []
    assert callback_problems({"type": 5, "data": {"content": "x"}})
    assert callback_problems({"type": 3})  # a removed response type
    assert callback_problems({"type": 8, "data": {"choices": [{"name": "n", "value": "v"}] * 26}})
    good = {
        "name": "ask",
        "description": "Ask",
        "options": [{"type": 3, "name": "q", "description": "Q", "required": True}],
    }
    assert command_problems([good]) == []
    assert command_problems([good | {"name": "Ask"}])
    assert command_problems([good | {"description": "d" * 101}])
    assert command_problems([good, good])
    optional_first = [{"type": 5, "name": "a", "description": "A"}, good["options"][0]]
    assert command_problems([good | {"options": optional_first}])


def test_the_ledger_enforces_three_seconds_once_and_fifteen_minutes() -> None:
    ledger = Ledger()
    first = ledger.add({"id": "1", "token": "a"})
    late = ledger.add({"id": "2", "token": "b"})
    assert ledger.webhook(APP_ID, "a", 0.0) == UNKNOWN_WEBHOOK  # not answered yet
    assert ledger.acknowledge(1, "a", {"type": 5}, 0.0) == UNKNOWN_INTERACTION  # never delivered
    ledger.mark_sent(first.id, 100.0)
    ledger.mark_sent(late.id, 100.0)
    assert ledger.acknowledge(1, "a", {"type": 5}, 102.9) is None
    assert ledger.acknowledge(1, "a", {"type": 5}, 103.0) == ALREADY_ACKNOWLEDGED
    assert ledger.acknowledge(2, "b", {"type": 5}, 103.1) == UNKNOWN_INTERACTION
    assert ledger.webhook(APP_ID, "a", 100.0 + 15 * 60 - 1) is first
    assert ledger.webhook(APP_ID, "a", 100.0 + 15 * 60 + 1) == INVALID_WEBHOOK_TOKEN


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """Run an emulator with no bot attached."""
    emulator = Emulator().start()
    yield emulator
    emulator.stop()


def request(
    emulator: Emulator, method: str, path: str, body: object = None, token: str | None = TOKEN
) -> tuple[int, str, Any]:
    """Send one REST request; return the status, the exact content type and the JSON body."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(emulator.api_base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bot {token}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    try:
        with opener.open(req, timeout=5) as response:
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        status, headers, raw = exc.code, exc.headers, exc.read()
    return status, headers.get("Content-Type", ""), json.loads(raw) if raw else None


def test_the_server_answers_exact_json_refuses_and_records(emulator: Emulator) -> None:
    status, content_type, me = request(emulator, "GET", "/users/@me")
    assert (status, content_type, me["id"]) == (200, "application/json", str(APP_ID))
    assert request(emulator, "GET", "/users/@me", token="wrong")[0] == 401
    channel = f"/channels/{DIGEST_CHANNEL_ID}/messages"
    status, _, error = request(emulator, "POST", channel, {"content": "x" * 2001})
    assert (
        status == 400 and error["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    )
    assert request(emulator, "POST", channel, {"content": ""})[2]["code"] == 50006
    assert request(emulator, "POST", channel, {"content": "hi"})[0] == 200
    assert request(emulator, "POST", "/guilds/1/bans/2", {})[0] == 404  # not emulated
    recorded = [(c.method, c.path, c.status) for c in emulator.recorder.calls()]
    assert recorded[-1] == ("POST", "/guilds/1/bans/2", 404)
    assert len(emulator.recorder.rejected()) == 4


def button(custom_id: str, **fields: Any) -> dict[str, Any]:
    """Return a button as discord.py sends it."""
    return {"type": 2, "style": 2, "custom_id": custom_id, "emoji": {"name": "👍"}} | fields


def text_input(**fields: Any) -> dict[str, Any]:
    """Return a text input as discord.py 2.7 sends it (in an action row)."""
    return {
        "type": 4,
        "custom_id": "reason",
        "style": 2,
        "label": "Why?",
        "required": False,
    } | fields


def modal(*components: dict[str, Any], title: str = "What was wrong?") -> dict[str, Any]:
    """Return a type 9 response."""
    return {"type": 9, "data": {"custom_id": "m1", "title": title, "components": list(components)}}


def row(*children: dict[str, Any]) -> dict[str, Any]:
    """Return an action row."""
    return {"type": 1, "components": list(children)}


def test_buttons_need_an_id_something_to_show_and_distinct_ids() -> None:
    assert codes({"components": [row(button("a"), button("b"))]}) == set()
    assert "COMPONENT_CUSTOM_ID_DUPLICATED" in codes({"components": [row(button("a"))] * 2})
    bare = button("a", emoji=None)
    assert "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED" in codes({"components": [row(bare)]})
    assert "BASE_TYPE_REQUIRED" in codes({"components": [row(button(""))]})


def test_modals_are_checked_like_discord_does() -> None:
    assert callback_problems(modal(row(text_input()))) == []
    inner = {k: v for k, v in text_input().items() if k != "label"}  # a label holds the label
    labelled = {"type": 18, "label": "Why?", "component": inner}
    assert callback_problems(modal(labelled)) == []
    assert callback_problems(modal(row(text_input()), title="t" * 46))
    assert callback_problems(modal(row(text_input(label="l" * 46))))
    assert callback_problems(modal(row(text_input(), text_input(custom_id="other"))))
    assert callback_problems(modal(row(text_input()), row(text_input())))  # the same custom_id
    assert callback_problems(modal(row(text_input(max_length=4001))))
    assert callback_problems(modal())  # no component at all
    assert callback_problems(modal(*[row(text_input(custom_id=str(n))) for n in range(6)]))


def test_response_types_follow_the_interaction_type() -> None:
    command, click = {"type": 2}, {"type": 3, "message": {"id": "1"}}
    submit, submit_on_message = {"type": 5}, {"type": 5, "message": {"id": "1"}}
    assert response_type_problems(command, 9) == [] and response_type_problems(click, 9) == []
    assert response_type_problems(submit, 9)  # a modal never answers a modal submit
    assert response_type_problems(command, 7) and response_type_problems(submit, 6)
    assert (
        response_type_problems(click, 7) == []
        and response_type_problems(submit_on_message, 6) == []
    )
    assert response_type_problems({"type": 4}, 5)  # autocomplete takes choices only


def test_clicks_and_submits_carry_what_a_client_can_send() -> None:
    message = {"id": "1", "components": [row(button("up"), button("off", disabled=True))]}
    assert component_data(message, "up") == {"custom_id": "up", "component_type": 2}
    with pytest.raises(LookupError):
        component_data(message, "off")  # disabled: nobody can click it
    with pytest.raises(LookupError):
        component_data(message, "missing")
    form = modal(row(text_input()), row(text_input(custom_id="name", label="Name", required=True)))
    data = modal_submit_data(form["data"], {"Why?": "wrong story", "name": "Ann"})
    assert data == {
        "custom_id": "m1",
        "components": [
            row({"type": 4, "custom_id": "reason", "value": "wrong story"}),
            row({"type": 4, "custom_id": "name", "value": "Ann"}),
        ],
    }
    with pytest.raises(ValueError):
        modal_submit_data(form["data"], {"Why?": "x"})  # the required name is missing
    with pytest.raises(ValueError):
        modal_submit_data(form["data"], {"name": "Ann", "Why?": "x" * 4001})


def test_callbacks_refuse_a_modal_for_a_modal_submit_and_answer_once(emulator: Emulator) -> None:
    message = emulator.messages.create(GENERAL_CHANNEL_ID, {"components": [row(button("up"))]})
    clicked = emulator.prepare_click(member_person(1), int(message["id"]), "up")
    submit = emulator.ledger.add(
        interaction_payload(emulator.world, {"custom_id": "m1", "components": []},
                            member_person(1), kind=5)
    )  # fmt: skip
    for tracked in (clicked, submit):
        emulator.ledger.mark_sent(tracked.id, time.monotonic())
    submit_path = f"/interactions/{submit.id}/{submit.token}/callback"
    status, _, error = request(emulator, "POST", submit_path, modal(row(text_input())), None)
    assert status == 400 and "type" in error["errors"]
    assert request(emulator, "POST", submit_path, {"type": 5}, None)[0] == 204
    click_path = f"/interactions/{clicked.id}/{clicked.token}/callback"
    assert request(emulator, "POST", click_path, modal(row(text_input())), None)[0] == 204
    assert clicked.modal is not None and clicked.modal["title"] == "What was wrong?"
    assert request(emulator, "POST", click_path, {"type": 6}, None)[2]["code"] == 40060


def test_dms_open_once_and_closed_dms_refuse_messages(emulator: Emulator) -> None:
    member = member_person(3)
    status, _, channel = request(
        emulator, "POST", "/users/@me/channels", {"recipient_id": str(member.user_id)}
    )
    assert status == 200 and channel["type"] == 1
    assert channel["recipients"][0]["id"] == str(member.user_id)
    again = request(emulator, "POST", "/users/@me/channels", {"recipient_id": member.user_id})[2]
    assert again["id"] == channel["id"] == str(emulator.dm_channel_id(member.user_id))
    assert (
        request(emulator, "POST", "/users/@me/channels", {"recipient_id": "1"})[2]["code"] == 50033
    )
    path = f"/channels/{channel['id']}/messages"
    assert request(emulator, "POST", path, {"content": "hi"})[0] == 200
    emulator.close_dms(member.user_id)
    status, _, error = request(emulator, "POST", path, {"content": "hi"})
    assert (status, error["code"]) == (403, 50007)


def test_updating_a_message_from_its_button_edits_it_in_place(emulator: Emulator) -> None:
    posted = {"content": "Remove it?", "components": [row(button("yes"))]}
    message = emulator.messages.create(GENERAL_CHANNEL_ID, posted)
    clicked = emulator.prepare_click(member_person(2), int(message["id"]), "yes")
    emulator.ledger.mark_sent(clicked.id, time.monotonic())
    path = f"/interactions/{clicked.id}/{clicked.token}/callback"
    assert request(emulator, "POST", path, {"type": 7, "data": {"components": []}}, None)[0] == 204
    assert clicked.original_id == int(message["id"])  # the clicked message is @original
    stored = emulator.messages.get(int(message["id"]))
    assert stored is not None and stored["components"] == [] and stored["content"] == "Remove it?"
