"""A real ingestion process for the crash tests: `python -m tests.reliability.ingest_worker`.

Usage: ``python -m tests.reliability.ingest_worker DATA_DIR SOURCE...``. It builds the services
with the fake embedder (so it is fast), prints ``ready`` once they are open (repair included),
then ingests the sources the way ``newsbot ingest`` does and prints ``done``. The crash tests
kill it with SIGKILL at chosen moments after ``ready``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from index.services import build_services
from index.settings import Settings
from tests.fakes import FakeEmbedder


def main(argv: list[str]) -> int:
    """Open the services under DATA_DIR, then ingest every SOURCE."""
    data_dir, *sources = argv
    settings = Settings(_env_file=None, data_dir=Path(data_dir))  # type: ignore[call-arg]
    services = build_services(settings, embedder=FakeEmbedder())
    print("ready", flush=True)
    report = services.ingest_sources(sources, added_by="crash-test")
    print(f"done added={len(report.added)} failed={len(report.failed)}", flush=True)
    services.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
