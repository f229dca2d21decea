"""`newsbot migrate --to postgresql://...`: move an embedded installation to shared stores."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.embed import Embedder
    from index.migrate import Copied, Stored
    from index.registry import Registry
    from index.settings import Settings
    from index.store import ChromaStore

COPY_WAIT_S = 30.0  # how long migrate waits for a process writing stories to finish


def add_migrate_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add migrate."""
    p = sub.add_parser(
        "migrate", help="copy this data directory's registry to PostgreSQL (vectors to a server)"
    )
    p.add_argument("--to", required=True, metavar="URL", help="an empty PostgreSQL database")
    p.add_argument("--chroma-host", help="also copy the vectors to this Chroma server")
    p.add_argument("--chroma-port", type=int, default=8000)
    p.add_argument(
        "--re-embed", action="store_true",
        help="encode every story again with the configured model instead of copying the vectors"
        " (unreadable vectors, or a new model); needs --chroma-host",
    )  # fmt: skip


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the SQLite registry (and the embedded vectors) and verify every count."""
    from index.database import is_postgres_url
    from index.migrate import MigrateError
    from index.registry import Registry

    if not is_postgres_url(args.to):
        raise MigrateError(f"--to must be a postgresql:// url, not {args.to.split(':', 1)[0]!r}")
    if not settings.db_path.exists():
        raise MigrateError(f"there is no SQLite registry at {settings.db_path} to copy")
    if args.re_embed and not args.chroma_host:
        raise MigrateError("--re-embed writes the vectors to a Chroma server: give --chroma-host")
    source = Registry(settings.db_path)
    target = Registry(settings.db_path, url=args.to)
    try:
        # Under the write lock: no story is half-written while it is copied.
        with source.write_lock.hold(timeout=COPY_WAIT_S):
            copied = _migrate(args, settings, source, target)
    except TimeoutError:
        raise MigrateError("another newsbot process is writing stories; try again") from None
    finally:
        source.close()
        target.close()
    _report(copied, args)
    return 0


def _migrate(
    args: argparse.Namespace, settings: Settings, source: Registry, target: Registry
) -> list[Copied]:
    """Read the vectors to copy (what may fail to read fails before anything is written), copy
    the registry, then write the vectors to the server or re-embed every story into it."""
    from index.migrate import copy_registry, write_vectors
    from index.store import ChromaStore

    stored = None if args.re_embed or not args.chroma_host else _read_vectors(settings, source)
    copied = copy_registry(source, target, _progress)
    if not args.chroma_host:
        return copied
    server = ChromaStore.from_settings(
        settings.model_copy(
            update={"chroma_host": args.chroma_host, "chroma_port": args.chroma_port}
        )
    )
    if stored is None:  # --re-embed: the copied registry's sentence vectors are redone too
        return [*copied, *_reembed(settings, target, server)]
    return [*copied, write_vectors(stored, server, _progress)]


def _read_vectors(settings: Settings, source: Registry) -> Stored:
    """Read every vector of the embedded Chroma, checked against the registry's chunks."""
    from index.migrate import MigrateError, read_vectors
    from index.store import ChromaStore

    if settings.chroma_host:
        raise MigrateError("the vectors are on a Chroma server already (NEWSBOT_CHROMA_HOST)")
    expected = sum(source.ready_chunk_counts().values())
    return read_vectors(ChromaStore.from_settings(settings), _progress, expected=expected)


def _reembed(settings: Settings, target: Registry, server: ChromaStore) -> list[Copied]:
    """Re-embed every story with the configured model, showing a progress bar."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from index.migrate import reembed_vectors

    embedder = _embedder(settings)
    columns = (TextColumn("re-embedding chunks"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("re-embedding", total=None)

        def counted(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return reembed_vectors(target, server, embedder, counted)


def _embedder(settings: Settings) -> Embedder:
    """Return the configured model (tests put a fake one here)."""
    from index.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(settings.embedding_model, settings.embedding_batch_size)


def _progress(line: str) -> None:
    """Show how far the copy got."""
    print(f"newsbot migrate: {line}", file=sys.stderr)


def _report(copied: list[Copied], args: argparse.Namespace) -> None:
    """Print what was copied and how to point newsbot at it."""
    for c in copied:
        print(f"{c.name:16} {c.source:>9} copied, {c.target:>9} at the target")
    print("Every count matches. Point every newsbot process at the new stores with:")
    print("  NEWSBOT_DATABASE_URL=<the url you gave to --to>")
    if args.chroma_host:
        print(f"  NEWSBOT_CHROMA_HOST={args.chroma_host} NEWSBOT_CHROMA_PORT={args.chroma_port}")
    if args.re_embed:  # the vectors now come from this model: every process must use it
        print("  and the same NEWSBOT_EMBEDDING_MODEL as this run")


MIGRATE_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "migrate": cmd_migrate,
}
