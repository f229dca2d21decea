"""Services on the real embedding model with the seeds and some small stories of a test's own."""

from __future__ import annotations

from pathlib import Path

from index.services import Services, build_services
from index.settings import SAMPLES_DIR, Settings


def real_services(root: Path, stories: dict[str, str]) -> Services:
    """Return services under root on the real model, the seeds and `stories` ingested."""
    (root / "stories").mkdir()
    for name, text in stories.items():
        (root / "stories" / name).write_text(text, encoding="utf-8")
    services = build_services(Settings(_env_file=None, data_dir=root / "data"))  # type: ignore[call-arg]
    report = services.ingest_sources([str(SAMPLES_DIR), str(root / "stories")])
    assert report.ok and len(report.added) == 2 + len(stories)
    return services
