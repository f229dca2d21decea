"""`newsbot check`, `backup` and `restore`: keeping a data directory sound (light imports only)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.services import Services
    from index.settings import Settings


def add_maintenance_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add check, backup and restore."""
    p = sub.add_parser("check", help="check that search finds every stored vector by itself")
    p.add_argument("--full", action="store_true", help="every vector, not a sample of 300")
    p.add_argument("--repair", action="store_true", help="rebuild the search index on a miss")
    p = sub.add_parser("backup", help="back up the registry and the vectors to a new folder")
    p.add_argument("dest", type=Path, metavar="DEST")
    p = sub.add_parser("restore", help="restore a backup into the data directory")
    p.add_argument("src", type=Path, metavar="SRC")


def _services(settings: Settings) -> Services:
    """Build the core services (repair runs first)."""
    from index.services import build_services

    return build_services(settings)


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """Self-query stored vectors; exit 1 if some are not found (and were not repaired)."""
    with _services(settings) as services:

        def say(line: str) -> None:
            print(f"newsbot check: {line}", file=sys.stderr)

        report = services.repairer.check(full=args.full, fix=args.repair, progress=say)
        stories, chunks = services.registry.count_articles(), services.registry.count_chunks()
        print(f"{stories} stories, {chunks} chunks, {services.store.count()} vectors stored")
        print(f"checked {report.checked} vectors: {len(report.unfound)} not found by search")
        if report.relinked:
            if report.approximate:
                wide = len(report.approximate)
                print(f"inserted them afresh: {wide} are found only by a wider search "
                      "(approximate search among near-duplicates, not damage)")  # fmt: skip
            else:
                print("inserted them afresh: every checked vector is found now")
            return 0
        if report.crowded:
            print(f"{len(report.crowded)} are out of reach even of a wide search, as when the "
                  "index was last left sound: crowded near-duplicates, not damage (a rebuild "
                  "builds the same graph)")  # fmt: skip
            if not report.rebuilt:
                return 0
        if report.rebuilt:
            left = len(report.still_unfound)
            print(f"rebuilt the search index; re-embedded {len(report.reembedded)} stories; "
                  f"{left} still not found")  # fmt: skip
            return 2 if left else 0
        if report.still_unfound:
            left = len(report.still_unfound)
            print(f"{left} are not found even by a wide search after being inserted afresh: "
                  "restore a backup, or delete the chroma folder to re-embed")  # fmt: skip
            return 2
        if report.unfound:
            print("run `newsbot check --full --repair` to rebuild the search index")
            return 1
        return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Back up the registry (SQLite online backup) and every vector to DEST."""
    from index.backup import backup

    with _services(settings) as services:
        summary = backup(services, args.dest)
    print(f"backed up {summary.stories} stories and {summary.vectors} vectors to {summary.path}")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    """Restore a backup into the data directory, moving what was there aside."""
    from index.backup import restore

    summary, aside = restore(settings, args.src)
    if aside is not None:
        print(f"moved the previous registry and index to {aside}")
    with _services(settings) as services:  # opening runs repair: registry, vectors agree
        print(f"restored {services.registry.count_articles()} stories and "
              f"{services.store.count()} vectors into {summary.path}")  # fmt: skip
    return 0


MAINTENANCE_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "check": cmd_check,
    "backup": cmd_backup,
    "restore": cmd_restore,
}
