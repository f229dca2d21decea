"""The real `newsbot` command line in a subprocess, with the fake embedder swapped in.

Usage: ``python -m tests.reliability.cli_worker ARG...`` runs ``newsbot ARG...`` exactly as the
installed command does (newsbot.cli.main), except that the sentence-transformers model is replaced
by the fake embedder so many stories ingest in seconds.
"""

from __future__ import annotations

import sys
from typing import Any

import index.services
from newsbot.cli import main
from tests.fakes import FakeEmbedder


def _fake_model(*_args: Any, **_kwargs: Any) -> FakeEmbedder:
    """Return the fake embedder whatever model the settings name."""
    return FakeEmbedder()


if __name__ == "__main__":
    index.services.SentenceTransformerEmbedder = _fake_model  # type: ignore[assignment,misc]
    raise SystemExit(main(sys.argv[1:]))
