"""What Discord refuses in interactive parts: buttons, modals, response types, opening DMs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tests.e2e.emulator.fields import Problem, max_length, required_text, url_problems


def component_problems(components: object) -> list[Problem]:
    """Refuse action rows and buttons that break Discord's rules (5 rows of 5 buttons)."""
    if not isinstance(components, list):
        return [Problem(("components",), "LIST_TYPE_CONVERT", "Must be an array.")]
    problems: list[Problem] = []
    if len(components) > 5:
        problems.append(
            Problem(("components",), "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
        )
    seen: set[str] = set()
    for r, row in enumerate(components):
        children = row.get("components", []) if row.get("type") == 1 else []
        if row.get("type") == 1 and not 1 <= len(children) <= 5:
            problems.append(
                Problem(
                    ("components", r, "components"),
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 5 in length.",
                )
            )
        for c, child in enumerate(children):
            at: tuple[str | int, ...] = ("components", r, "components", c)
            problems += _button_problems(at, child)
            custom_id = child.get("custom_id")
            if custom_id in seen:
                problems.append(
                    Problem(
                        (*at, "custom_id"),
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    )
                )
            if isinstance(custom_id, str):
                seen.add(custom_id)
    return problems


def _button_problems(at: tuple[str | int, ...], child: Mapping[str, Any]) -> list[Problem]:
    """Refuse a button without an id (or a link button without a URL), or with nothing shown."""
    if child.get("type") != 2:
        return []
    problems: list[Problem] = []
    style = child.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        problems.append(
            Problem((*at, "style"), "ENUM_TYPE_COERCE", f"Value {style!r} is not a valid style.")
        )
    if style == 5:
        problems += url_problems((*at, "url"), child.get("url"))
    elif style != 6:
        problems += required_text((*at, "custom_id"), child.get("custom_id"), 100)
    if "label" in child and child["label"] is not None:
        problems += max_length((*at, "label"), child["label"], 80)
    if style != 6 and not child.get("label") and not child.get("emoji"):
        problems.append(
            Problem(at, "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "A label or emoji is required.")
        )
    return problems


# Which responses each interaction type takes (receiving-and-responding, callback types):
# 4/5 answer commands, components and modal submits; 6/7 update the message a component is on
# (so a modal submit only when the modal was opened from a component); 8 answers autocomplete;
# 9, a modal, answers commands and components but never a modal submit (or autocomplete).
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
_RESPONSES: dict[int, set[int]] = {
    APPLICATION_COMMAND: {4, 5, 9},
    MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
    AUTOCOMPLETE: {8},
    MODAL_SUBMIT: {4, 5},
}


def response_type_problems(interaction: Mapping[str, Any], callback_type: object) -> list[Problem]:
    """Refuse a response type the interaction cannot take (a modal for a modal submit...)."""
    allowed = set(_RESPONSES.get(interaction.get("type", 0), set()))
    if interaction.get("type") == MODAL_SUBMIT and interaction.get("message") is not None:
        allowed |= {6, 7}  # the modal was opened from a component: its message can be updated
    if callback_type in allowed:
        return []
    return [
        Problem(
            ("type",),
            "INTERACTION_RESPONSE_TYPE_INVALID",
            f"Response type {callback_type!r} is not valid for interaction type "
            f"{interaction.get('type')!r}.",
        )
    ]


TEXT_INPUT, LABEL, TEXT_DISPLAY = 4, 18, 10
TEXT_INPUT_MAX = 4000


def modal_problems(data: object) -> list[Problem]:
    """Refuse a modal Discord would not show: custom_id, title <= 45, 1-5 rows of inputs."""
    at: tuple[str | int, ...] = ("data",)
    if not isinstance(data, Mapping):
        return [Problem(at, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")]
    problems = [
        Problem((*at, key), "UNKNOWN_FIELD", "Unknown field.")
        for key in data
        if key not in {"custom_id", "title", "components"}
    ]
    problems += required_text((*at, "custom_id"), data.get("custom_id"), 100)
    problems += required_text((*at, "title"), data.get("title"), 45)
    components = data.get("components")
    if not isinstance(components, list) or not 1 <= len(components) <= 5:
        problems.append(
            Problem(
                (*at, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
            )
        )
        return problems
    ids: list[str] = []
    for n, component in enumerate(components):
        problems += _modal_component_problems((*at, "components", n), component, ids)
    if len(ids) != len(set(ids)):
        problems.append(
            Problem(
                (*at, "components"),
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        )
    return problems


def _modal_component_problems(
    at: tuple[str | int, ...], component: object, ids: list[str]
) -> list[Problem]:
    """Refuse one top-level modal component: a row of one text input, a label or a text."""
    if not isinstance(component, Mapping):
        return [Problem(at, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")]
    kind = component.get("type")
    if kind == 1:  # an action row (deprecated in modals, still accepted): one text input
        children = component.get("components") or []
        if len(children) != 1 or children[0].get("type") != TEXT_INPUT:
            return [
                Problem(
                    (*at, "components"),
                    "MODAL_ACTION_ROW_INVALID",
                    "An action row in a modal holds exactly one text input.",
                )
            ]
        return text_input_problems((*at, "components", 0), children[0], ids, labelled=False)
    if kind == LABEL:
        problems = required_text((*at, "label"), component.get("label"), 45)
        if component.get("description") is not None:
            problems += max_length((*at, "description"), component["description"], 100)
        inner = component.get("component")
        if not isinstance(inner, Mapping) or inner.get("type") != TEXT_INPUT:
            return [*problems, Problem((*at, "component"), "BASE_TYPE_REQUIRED", "Unsupported.")]
        return problems + text_input_problems((*at, "component"), inner, ids, labelled=True)
    if kind == TEXT_DISPLAY:
        return required_text((*at, "content"), component.get("content"), TEXT_INPUT_MAX)
    return [Problem((*at, "type"), "ENUM_TYPE_COERCE", f"Value {kind!r} is not valid in a modal.")]


def text_input_problems(
    at: tuple[str | int, ...], text_input: Mapping[str, Any], ids: list[str], *, labelled: bool
) -> list[Problem]:
    """Refuse a text input: custom_id, style 1-2, label <= 45 (not inside a label), lengths."""
    problems = required_text((*at, "custom_id"), text_input.get("custom_id"), 100)
    ids.append(str(text_input.get("custom_id")))
    if text_input.get("style") not in (1, 2):
        problems.append(Problem((*at, "style"), "ENUM_TYPE_COERCE", "Not a valid text style."))
    if labelled and "label" in text_input:
        problems.append(Problem((*at, "label"), "UNKNOWN_FIELD", "Use the label component's."))
    elif not labelled:
        problems += required_text((*at, "label"), text_input.get("label"), 45)
    if text_input.get("placeholder") is not None:
        problems += max_length((*at, "placeholder"), text_input["placeholder"], 100)
    if text_input.get("value") is not None:
        problems += max_length((*at, "value"), text_input["value"], TEXT_INPUT_MAX)
    low, high = text_input.get("min_length"), text_input.get("max_length")
    if low is not None and not (isinstance(low, int) and 0 <= low <= TEXT_INPUT_MAX):
        problems.append(Problem((*at, "min_length"), "NUMBER_TYPE_MAX", "Must be 0 to 4000."))
    if high is not None and not (isinstance(high, int) and 1 <= high <= TEXT_INPUT_MAX):
        problems.append(Problem((*at, "max_length"), "NUMBER_TYPE_MAX", "Must be 1 to 4000."))
    if isinstance(low, int) and isinstance(high, int) and low > high:
        problems.append(Problem((*at, "min_length"), "NUMBER_TYPE_MAX", "Above max_length."))
    return problems


def create_dm_problems(body: object) -> list[Problem]:
    """Refuse a Create DM body: a bot names exactly one recipient_id, a snowflake."""
    if not isinstance(body, Mapping):
        return [Problem((), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")]
    problems = [
        Problem((key,), "UNKNOWN_FIELD", "Unknown field.") for key in body if key != "recipient_id"
    ]
    if not re.fullmatch(r"[0-9]{1,20}", str(body.get("recipient_id", ""))):
        problems.append(Problem(("recipient_id",), "NUMBER_TYPE_COERCE", "Value is not snowflake."))
    return problems
