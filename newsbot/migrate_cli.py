"""`newsbot migrate --to postgresql://...`: move an embedded installation to shared stores."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.migrate import Copied
    from index.settings import Settings

COPY_WAIT_S = 30.0  # how long migrate waits for a process writing stories to finish


def add_migrate_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add migrate."""
    p = sub.add_parser(
        "migrate", help="copy this data directory's registry to PostgreSQL (vectors to a server)"
    )
    p.add_argument("--to", required=True, metavar="URL", help="an empty PostgreSQL database")
    p.add_argument("--chroma-host", help="also copy the vectors to this Chroma server")
    p.add_argument("--chroma-port", type=int, default=8000)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the SQLite registry (and the embedded vectors) and verify every count."""
    from index.database import is_postgres_url
    from index.migrate import MigrateError, copy_registry
    from index.registry import Registry

    if not is_postgres_url(args.to):
        raise MigrateError(f"--to must be a postgresql:// url, not {args.to.split(':', 1)[0]!r}")
    if not settings.db_path.exists():
        raise MigrateError(f"there is no SQLite registry at {settings.db_path} to copy")
    source = Registry(settings.db_path)
    target = Registry(settings.db_path, url=args.to)
    try:
        # Under the write lock: no story is half-written while it is copied.
        with source.write_lock.hold(timeout=COPY_WAIT_S):
            copied = copy_registry(source, target, _progress)
            if args.chroma_host:
                copied.append(_copy_vectors(args, settings))
    except TimeoutError:
        raise MigrateError("another newsbot process is writing stories; try again") from None
    finally:
        source.close()
        target.close()
    _report(copied, args)
    return 0


def _copy_vectors(args: argparse.Namespace, settings: Settings) -> Copied:
    """Copy the embedded Chroma's vectors to the Chroma server named on the command line."""
    from index.migrate import MigrateError, copy_vectors
    from index.store import ChromaStore

    if settings.chroma_host:
        raise MigrateError("the vectors are on a Chroma server already (NEWSBOT_CHROMA_HOST)")
    server = settings.model_copy(
        update={"chroma_host": args.chroma_host, "chroma_port": args.chroma_port}
    )
    return copy_vectors(ChromaStore.from_settings(settings), ChromaStore.from_settings(server),
                        _progress)  # fmt: skip


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


MIGRATE_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "migrate": cmd_migrate,
}
