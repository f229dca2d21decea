"""The `newsbot` command line; heavy imports happen inside commands so --help stays instant."""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from newsbot.feeds_cli import FEED_COMMANDS, add_feed_commands
from newsbot.maintenance import MAINTENANCE_COMMANDS, add_maintenance_commands
from newsbot.migrate_cli import MIGRATE_COMMANDS, add_migrate_command
from newsbot.tools_cli import TOOL_COMMANDS, add_tool_commands

if TYPE_CHECKING:
    from rich.console import Console

    from index.services import Services
    from index.settings import Settings

log = logging.getLogger(__name__)

# index.models.REVIEW_STATUSES (a test keeps them equal); importing it would slow --help by half.
REVIEW_STATUSES = ("unreviewed", "verified", "disputed", "retracted")


def _parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="newsbot",
        description="Answer questions about indexed news stories with quoted, cited excerpts.",
    )
    parser.add_argument("--data-dir", type=Path, help="where state lives (NEWSBOT_DATA_DIR)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="index stories from files, folders and URLs")
    p.add_argument(
        "sources", nargs="+", metavar="SOURCE", help=".txt .md .html .jsonl, folder or URL"
    )
    p.add_argument("--by", default=None, help="who added the stories (kept with each story)")
    _server_option(p)

    p = sub.add_parser("ask", help="answer a question from the indexed stories")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--server", type=int, metavar="GUILD_ID",
        help="answer as a member of this server would (its library and, unless it turned it "
        "off, the shared one); default: the shared library only",
    )  # fmt: skip

    p = sub.add_parser("articles", help="list indexed stories, newest first")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    _server_option(p)

    p = sub.add_parser("remove", help="remove a story and all of its chunks")
    p.add_argument("article_id", metavar="ARTICLE_ID")
    _server_option(p)

    p = sub.add_parser(
        "review", help="record a moderator's review of a story (retracted: never cited)"
    )
    p.add_argument("article_id", metavar="STORY_ID")
    p.add_argument(
        "--status", required=True, choices=(*REVIEW_STATUSES, "clear"),
        help="clear drops a moderator's review: the story's own provenance applies again",
    )  # fmt: skip
    p.add_argument("--confidence", type=int, metavar="N", help="0-100")
    p.add_argument("--note", metavar="TEXT", help="why (shown with the story)")
    p.add_argument("--by", default=None, help="who reviewed it (kept with the review)")
    _server_option(p)

    p = sub.add_parser("stats", help="show index statistics")
    _server_option(p)

    add_tool_commands(sub)
    add_maintenance_commands(sub)
    add_feed_commands(sub)
    add_migrate_command(sub)

    sub.add_parser("run", help="run the Discord bot (needs NEWSBOT_DISCORD_TOKEN)")
    p = sub.add_parser("sync", help="publish the bot's slash commands to Discord, then exit")
    p.add_argument("--guild", type=int, default=None, metavar="ID", help="this server only")
    return parser


def _server_option(p: argparse.ArgumentParser) -> None:
    """Add --server: act on that server's library instead of the shared one."""
    p.add_argument(
        "--server", type=int, metavar="GUILD_ID",
        help="act on this server's library instead of the shared library",
    )  # fmt: skip


def _library(args: argparse.Namespace) -> int:
    """Return the library a command acts on: --server's, else the shared library (0)."""
    server = getattr(args, "server", None)
    return 0 if server is None else int(server)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # Libraries that log chatty details at import or per call.
    for noisy in ("bm25s", "chromadb", "httpx", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from index.errors import NewsbotError

    try:
        settings = _settings(args)
        handler = _COMMANDS[args.command]
        return handler(args, settings)
    except NewsbotError as exc:
        print(f"newsbot: {exc.user_message()}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `newsbot articles | head`: the reader has all it wanted
        _quiet_stdout()
        return 0
    except OSError as exc:  # e.g. a data directory that is a file, or not writable
        where = exc.filename or args.data_dir or "the data directory"
        print(f"newsbot: cannot use {where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:  # e.g. a registry file damaged while a command ran
        from index.services import REGISTRY_FIX
        from index.settings import Settings

        where = (args.data_dir or Settings().data_dir) / "newsbot.db"
        print(f"newsbot: {where} cannot be used ({exc}). {REGISTRY_FIX}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("newsbot: interrupted", file=sys.stderr)
        return 130


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _settings(args: argparse.Namespace) -> Settings:
    """Build settings from the environment, .env and global flags."""
    from pydantic import ValidationError

    from index.errors import NewsbotError
    from index.settings import Settings

    overrides = {"data_dir": args.data_dir} if args.data_dir else {}
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"NEWSBOT_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise NewsbotError(f"invalid settings: {problems}") from exc


def _services(settings: Settings) -> Services:
    """Build the core services."""
    from index.services import build_services

    return build_services(settings)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest sources with a progress bar and a summary table."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import Progress, SpinnerColumn, TextColumn

    console = Console(stderr=True)
    with _services(settings) as services:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console,
                      transient=True) as bar:  # fmt: skip
            task = bar.add_task("reading sources…", total=None)
            counts = {"n": 0}

            def progress(origin: str, outcome: str) -> None:
                counts["n"] += 1
                line = f"{counts['n']} processed · {outcome}: {origin}"
                bar.update(task, description=escape(line))

            with _one_writer(services, console):
                report = services.stories.ingest_sources(
                    args.sources, library=_library(args), added_by=args.by, progress=progress
                )
        _print_report(report)
        return 0 if report.ok else 1


@contextmanager
def _one_writer(services: Services, console: Console) -> Iterator[None]:
    """Hold the data directory for this run, saying so if another process is writing to it."""
    guard = services.ingestor.guard
    with ExitStack() as stack:
        try:
            stack.enter_context(guard.session(timeout=0.2))
        except TimeoutError:
            console.print(
                "newsbot: another process is writing to this data directory; waiting for it "
                "to finish (several writers at once need a Chroma server: NEWSBOT_CHROMA_HOST)"
            )
            stack.enter_context(guard.session())
        yield


def _print_report(report: object) -> None:
    """Print an ingestion summary table and failure reasons."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from index.models import IngestReport

    assert isinstance(report, IngestReport)
    console = Console()
    table = Table(title="Ingestion summary")
    names = ("added", "updated", "unchanged", "failed", "skipped")
    for name in names:
        table.add_column(name, justify="right")
    table.add_row(*(str(len(getattr(report, n))) for n in names))
    console.print(table)
    for origin, reason in report.skipped:
        console.print(
            f"[yellow]skipped[/yellow] {escape(origin)}: {escape(reason)}", highlight=False
        )
    for origin, reason in report.failed:
        # Origins and reasons come from file names and pages: never read as Rich markup.
        console.print(f"[red]failed[/red] {escape(origin)}: {escape(reason)}", highlight=False)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer a question; a new data directory gets the bundled samples first."""
    from index.present import answer_to_dict, answer_to_text

    with _services(settings) as services:
        seeded = services.ensure_samples()
        if seeded is not None:
            print(
                f"newsbot: new data directory; added {len(seeded.added)} bundled sample stories "
                f"from {settings.samples_dir} (once: removing them does not bring them back)",
                file=sys.stderr,
            )
        scope = services.servers.scope(args.server) if args.server is not None else None
        answer = services.ask(args.question, libraries=scope)
        if args.json:
            print(json.dumps(answer_to_dict(answer), ensure_ascii=False, indent=2))
        else:
            print(answer_to_text(answer))
        return 0


def cmd_articles(args: argparse.Namespace, settings: Settings) -> int:
    """List indexed stories."""
    from index.present import article_to_dict, status_label

    with _services(settings) as services:
        articles = sorted(
            services.stories.list_stories((_library(args),)),
            key=lambda a: (a.date is not None, a.date, a.added_at),
            reverse=True,
        )
        if args.json:
            print(json.dumps([article_to_dict(a) for a in articles], ensure_ascii=False, indent=2))
            return 0
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(title=f"{len(articles)} indexed stories")
        # The id (for `newsbot review`/`remove`) and "⛔ retracted" must read whole in any terminal.
        table.add_column("id", no_wrap=True)
        for col in ("title", "publisher", "date", "chunks"):
            table.add_column(col)
        table.add_column("review", no_wrap=True)
        for a in articles:
            when = a.date.isoformat() if a.date else "undated"
            review = status_label(a.provenance) or "—"
            # Text objects: a title like "[bold]AI[/]" is shown as written, never parsed as markup.
            cells = (a.id, a.title, a.source or "—", when, str(a.chunk_count), review)
            table.add_row(*(Text(cell) for cell in cells))
        Console().print(table)
        return 0


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    """Record a moderator's review of one story (no model or vector store needed)."""
    from index.present import provenance_note

    services = _services(settings)
    try:
        article = services.stories.review(
            args.article_id, (_library(args),), args.status, confidence=args.confidence,
            note=args.note, reviewed_by=args.by,
        )  # fmt: skip
    finally:
        services.close()
    verb = "cleared the review of" if args.status == "clear" else "reviewed"
    print(f"{verb} {article.id}: {provenance_note(article.provenance) or 'nothing stated'}")
    if article.provenance.retracted:
        print("answers will no longer quote or cite this story; it stays listed")
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    """Remove one story."""
    with _services(settings) as services:
        services.stories.remove(args.article_id, (_library(args),))
        print(f"removed {args.article_id}")
        return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    """Print index statistics (stories of one library; chunks and vectors of all)."""
    with _services(settings) as services:
        where = (
            f"Chroma server {settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_host
            else f"embedded Chroma at {settings.chroma_path}"
        )
        figures = services.stats((_library(args),))
        stats = {
            "library": "shared" if args.server is None else f"server {args.server}",
            "stories": figures.stories,
            "all_stories": figures.all_stories,
            "chunks": figures.chunks,
            "vectors": figures.vectors,
            "questions_logged": figures.questions,
            "data_dir": str(settings.data_dir.resolve()),  # relative paths are the cwd's
            "store": where,
            "registry": str(settings.db_path.resolve()),
            "embedding_model": services.embedder.name,
        }
        for key, value in stats.items():
            print(f"{key:>17}: {value}")
        return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the Discord bot until stopped."""
    from bot.launch import run  # discord is imported only here: index/ stays Discord-free

    return run(settings)


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    """Publish the slash commands globally or to one server."""
    from bot.launch import sync

    return sync(settings, args.guild)


_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "ingest": cmd_ingest,
    "ask": cmd_ask,
    "articles": cmd_articles,
    "remove": cmd_remove,
    "review": cmd_review,
    "stats": cmd_stats,
    **TOOL_COMMANDS,
    **MAINTENANCE_COMMANDS,
    **FEED_COMMANDS,
    **MIGRATE_COMMANDS,
    "run": cmd_run,
    "sync": cmd_sync,
}

if __name__ == "__main__":
    sys.exit(main())
