"""Stopping a cog's background loop so that nothing of it runs after the cog is unloaded."""

from __future__ import annotations

import asyncio
from typing import Any

from discord.ext import tasks

STOP_WAIT_SECONDS = 10.0  # a check's own clean-up (releasing its lease) is well under this


async def stop_loop(loop: tasks.Loop[Any]) -> None:
    """Cancel the loop and wait for its task to finish its clean-up, within a bound."""
    task = loop.get_task()
    loop.cancel()
    if task is not None and not task.done():
        # Cancelling only asks: a check cancelled mid-way still releases its lease (an await)
        # before it ends, and an unloaded cog must not be left running behind the caller.
        await asyncio.wait({task}, timeout=STOP_WAIT_SECONDS)
