"""Libraries: whose stories a member is answered from, and how a story's id depends on its own."""

from __future__ import annotations

from collections.abc import Iterable

# The shared library the operator curates; every other library is a server's, named by its id.
SHARED = 0

Libraries = tuple[int, ...]


def server_scope(guild_id: int | None, use_shared: bool = True) -> Libraries:
    """Return the libraries a member of a server is answered from (None: the CLI, shared only)."""
    if guild_id is None or guild_id == SHARED:
        return (SHARED,)
    return (guild_id, SHARED) if use_shared else (guild_id,)


def library_name(library: int) -> str:
    """Return how messages name a library."""
    return "the shared library" if library == SHARED else f"server {library}'s library"


def in_scope(library: int, libraries: Iterable[int] | None) -> bool:
    """Return True when a story of `library` is visible in `libraries` (None: everything)."""
    return libraries is None or library in set(libraries)


def scoped_id(base: str, library: int) -> str:
    """Return the id a story of `base` identity gets in a library (shared ids stay as they were).

    Two servers adding the same link get two stories, each curated only by its own moderators.
    """
    return base if library == SHARED else f"{base}.g{library}"
