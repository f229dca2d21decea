"""`python -m bot [run | sync [--guild ID]]`: what `newsbot run` and `newsbot sync` do."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, read settings, and run or sync the bot."""
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Run the newsbot Discord bot."
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="connect to Discord and serve (the default)")
    sync_parser = sub.add_parser("sync", help="publish the slash commands, then exit")
    sync_parser.add_argument("--guild", type=int, default=None, help="sync to one server at once")
    args = parser.parse_args(argv)

    from pydantic import ValidationError

    from bot.launch import run, sync
    from index.settings import Settings

    try:
        settings = Settings()  # values come from NEWSBOT_* and .env
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"invalid setting {first['loc']}: {first['msg']}", file=sys.stderr)
        return 2
    if args.command == "sync":
        return sync(settings, args.guild)
    return run(settings)


if __name__ == "__main__":
    raise SystemExit(main())
