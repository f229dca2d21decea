"""The command line contract, on the real bundled model (one model load for the module)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsbot.cli import main

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli") / "data"


def _ask(data_dir: Path, question: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["--data-dir", str(data_dir), "ask", question, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_first_ask_seeds_samples_and_answers_with_citation(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _ask(data_dir, "Are Hollywood writers being replaced by AI?", capsys)
    assert set(out) >= {"question", "refused", "answer", "citations"}
    assert out["refused"] is False
    assert "most insiders say AI training is currently a supplemental activity" in str(
        out["answer"]
    )
    citations = out["citations"]
    assert isinstance(citations, list) and citations
    for c in citations:
        assert set(c) >= {"n", "article_id", "title", "url", "source", "published", "excerpt"}
        assert f"[{c['n']}]" in str(out["answer"]) and c["excerpt"] in str(out["answer"])
    assert [c["n"] for c in citations] == list(range(1, len(citations) + 1))


def test_body_question_quotes_the_figure(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _ask(data_dir, "How much do AI trainers earn per hour at Mercor and Outlier?", capsys)
    assert out["refused"] is False
    assert "earning up to $150 per hour" in str(out["answer"])


@pytest.mark.parametrize(
    "question",
    [
        "Who won the 2026 FIFA World Cup final?",
        "Is the FancyDove AI assistant device worth buying without a subscription?",
        "Has Google launched AI-powered Google Finance in Europe?",
        "What is the price of the screenless Fitbit Air?",
        "Which book about data labeling should I read?",
        "Did Elon Musk try to recruit the OpenAI founders for Tesla?",
    ],
)
def test_out_of_scope_and_boilerplate_questions_are_refused(
    data_dir: Path, capsys: pytest.CaptureFixture[str], question: str
) -> None:
    _ask(data_dir, "warm up", capsys)  # seeds the index if this test runs alone
    out = _ask(data_dir, question, capsys)
    assert out["refused"] is True, out
    assert out["citations"] == []


def test_articles_remove_and_stats(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _ask(data_dir, "warm up", capsys)
    assert main(["--data-dir", str(data_dir), "articles", "--json"]) == 0
    articles = json.loads(capsys.readouterr().out)
    assert len(articles) == 2
    titles = {a["title"] for a in articles}
    assert "Hollywood Professionals Transition to AI Training Roles" in titles
    assert main(["--data-dir", str(data_dir), "remove", "no-such-id"]) == 2
    assert "No story" in capsys.readouterr().err
    assert main(["--data-dir", str(data_dir), "stats"]) == 0
    assert "stories: 2" in capsys.readouterr().out


def test_help_is_fast_and_needs_no_heavy_imports() -> None:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "newsbot.cli", "--help"], capture_output=True, text=True,
        env={**os.environ}, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    assert result.returncode == 0 and "ingest" in result.stdout
    assert elapsed < 3.0  # generous for a loaded CI box; `newsbot bench` reports the real figure
