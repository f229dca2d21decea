"""Where an answer goes: the channel, the asker only, or a new thread (pure decisions)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.text import one_line, truncate

THREAD_NAME = 100  # Discord's limit on a thread's name, in characters


@dataclass(frozen=True, slots=True)
class Placement:
    """How one /ask is answered."""

    private: bool  # only the asker sees it
    new_thread: bool  # in a new public thread named after the question
    thread_id: int | None  # the thread it was asked in: its questions are the context


def thread_name(question: str) -> str:
    """Return a thread's name for a question: one line, within Discord's 100 characters."""
    return truncate(one_line(question), THREAD_NAME) or "Question"


def place(
    *,
    channel_id: int | None,
    thread_id: int | None,
    private: bool,
    thread: bool | None,
    speaks_in: Collection[int],
    threads_in: Collection[int],
) -> Placement:
    """Decide how an /ask is answered. `channel_id` is the channel (a thread's parent);
    `speaks_in` lists the channels where the bot answers in public (empty: all), `threads_in`
    those where an answer starts a thread unless the member says otherwise."""
    public_here = not speaks_in or channel_id in speaks_in
    private = private or not public_here  # outside its channels, the bot answers privately
    if thread is None:
        thread = channel_id in threads_in
    # A thread cannot start inside a thread, nor from a private answer.
    new_thread = bool(thread) and not private and thread_id is None
    return Placement(private, new_thread, thread_id)
