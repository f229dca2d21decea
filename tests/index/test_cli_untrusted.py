"""The CLI shows untrusted titles and file names as written, and bad data dirs get a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.models import RawDocument
from index.services import build_services
from index.settings import Settings
from newsbot.cli import main
from tests.fakes import FakeEmbedder

TITLE = "Chips [/] and the [bold red]AI[/] race"
BODY = "Chip makers raced to build AI accelerators this quarter, analysts said on Monday. " * 3


def test_markup_in_titles_and_file_names_is_shown_not_parsed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    services = build_services(Settings(_env_file=None, data_dir=data), embedder=FakeEmbedder())  # type: ignore[call-arg]
    services.ingestor.ingest_one(RawDocument(BODY, "chips.md", title=TITLE, source="Wire"))
    services.close()

    assert main(["--data-dir", str(data), "articles"]) == 0
    out = capsys.readouterr().out
    assert "red]AI[/]" in out  # shown as written (rich would have styled or rejected it)

    missing = str(tmp_path / "missing[/]file.txt")
    assert main(["--data-dir", str(data), "ingest", missing]) == 1
    captured = capsys.readouterr()
    assert "missing[/]file.txt" in "".join(captured.out.split())  # the table may wrap it
    assert "Traceback" not in captured.err


def test_a_data_dir_that_cannot_be_used_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("not a directory")
    assert main(["--data-dir", str(blocker), "review", "x", "--status", "verified"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("newsbot: cannot use") and str(blocker) in err and "Traceback" not in err
    assert blocker.read_text() == "not a directory"  # nothing changed
