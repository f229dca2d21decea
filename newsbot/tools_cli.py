"""`newsbot eval`, `train-ranker` and `bench`: tools on the core for developers and operators."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.settings import Settings


def add_tool_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `eval`, `train-ranker` and `bench`."""
    p = sub.add_parser("eval", help="measure answer quality on a question set with known answers")
    p.add_argument("--articles", type=Path, required=True, help="articles.jsonl")
    p.add_argument("--questions", type=Path, required=True, help="questions.jsonl")
    p.add_argument(
        "--retriever", choices=("hybrid", "dense", "bm25", "all"), default="hybrid",
        help="retrieval to evaluate; 'all' scores the three on one index in one run",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--index-dir", type=Path, help="keep and reuse the index here (development)")

    p = sub.add_parser("train-ranker", help="fit the sentence ranker on question sets (dev)")
    p.add_argument(
        "--eval-dir",
        type=Path,
        default=Path("../shared/eval"),
        help="folder of question sets, each SET/articles.jsonl + SET/questions.jsonl",
    )
    p.add_argument("--sets", nargs="+", default=["news2022", "tech"], metavar="SET")
    p.add_argument(
        "--index-root",
        type=Path,
        required=True,
        help="keep each set's index in INDEX_ROOT/SET (reused when present)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="model file to write (default: the bundled index/rank/ranker.json)",
    )

    p = sub.add_parser("bench", help="measure ingestion and ask speed against their floors")
    p.add_argument("--chunks", type=int, default=2000, help="index size to measure at")
    p.add_argument("--questions", type=int, default=200, help="questions to time (>= 200)")
    p.add_argument("--articles", type=Path, help="articles.jsonl to draw story text from")
    p.add_argument(
        "--libraries", type=int, default=1, metavar="N",
        help="also ask with the stories spread over N libraries (vs the single-library run)",
    )  # fmt: skip
    p.add_argument("--feeds", action="store_true", help="measure feed polling instead")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Build a throwaway index from a question set's articles and report quality figures."""
    from index.errors import NewsbotError
    from index.evaluate import RETRIEVERS, run_eval

    for path in (args.articles, args.questions):
        if not path.is_file():
            raise NewsbotError(f"no such file: {path}")
    kinds = RETRIEVERS if args.retriever == "all" else (args.retriever,)
    results = run_eval(
        args.articles, args.questions, retrievers=kinds, base=settings, index_dir=args.index_dir,
        progress=lambda msg: print(f"newsbot eval: {msg}", file=sys.stderr),
    )  # fmt: skip
    if args.json:
        payload = results[kinds[0]] if len(kinds) == 1 else results
        print(json.dumps(payload, indent=2))
    else:
        _print_eval_table(results)
    return 0


def _print_eval_table(results: dict[str, dict[str, object]]) -> None:
    """Print one row per figure and one column per retriever."""
    from rich.console import Console
    from rich.table import Table

    keys = ["recall@1", "recall@5", "recall@10", "mrr", "answer_hit", "cited_evidence",
            "citation_precision", "single_story_rate", "grounding", "coverage",
            "refusal"]  # fmt: skip
    table = Table(title="Answer quality")
    table.add_column("figure")
    for kind in results:
        table.add_column(kind, justify="right")
    for key in keys:
        table.add_row(key, *(f"{m[key]:.3f}" for m in results.values()))
    for pct in ("p50", "p95"):
        cells = [f"{m['latency_ms'][pct]:.1f}" for m in results.values()]  # type: ignore[index]
        table.add_row(f"latency {pct} ms", *cells)
    table.add_row("questions", *(str(m["questions"]) for m in results.values()))
    Console().print(table)


def cmd_train_ranker(args: argparse.Namespace, settings: Settings) -> int:
    """Fit the sentence ranker and print its held-out figures."""
    from index.rank.train import bundled_model_path, train

    sets = [
        (name, args.eval_dir / name / "articles.jsonl", args.eval_dir / name / "questions.jsonl")
        for name in args.sets
    ]
    missing = [str(p) for _, a, q in sets for p in (a, q) if not p.is_file()]
    if missing:
        print(f"newsbot train-ranker: missing {', '.join(missing)}", file=sys.stderr)
        return 2
    out = args.out or bundled_model_path()
    figures = train(sets, args.index_root, out, base=settings)
    print(json.dumps({"model": str(out), **figures}, indent=2))
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """Run the benchmark and print its figures."""
    from index.bench import BenchConfig, run_bench
    from index.errors import NewsbotError

    if args.chunks < 10 or args.questions < 20:
        raise NewsbotError("--chunks must be at least 10 and --questions at least 20")
    if not 1 <= args.libraries <= 10_000:
        raise NewsbotError("--libraries must be from 1 to 10000")
    config = BenchConfig(
        chunks=args.chunks, questions=args.questions, articles=args.articles,
        libraries=args.libraries,
    )  # fmt: skip
    say = lambda msg: print(f"newsbot bench: {msg}", file=sys.stderr)  # noqa: E731
    if args.feeds:
        from index.feed_bench import run_feed_bench

        figures = run_feed_bench(settings, say)
    else:
        figures = run_bench(config, settings, say)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:>20}: {value}")
    return 0


TOOL_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "eval": cmd_eval,
    "train-ranker": cmd_train_ranker,
    "bench": cmd_bench,
}
