"""The thread shown in the README is what the bot really posts (real model, the seed stories)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.embeds import answer_embed
from index.services import build_services
from index.settings import SAMPLES_DIR, Settings

pytestmark = pytest.mark.model

README = Path(__file__).resolve().parents[2] / "README.md"
THREAD = ["Are Hollywood writers training AI?", "How much do they earn?", "Which companies?"]


def _readme_thread() -> list[str]:
    """Return the embed lines of the README's rendered thread, without frames and buttons."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("**Threads and follow-ups**") :]
    block = re.search(r"```text\n(.*?)```", section, re.S)
    assert block is not None
    lines = [line.strip() for line in block.group(1).splitlines()]
    return [line.removeprefix("┃").strip() for line in lines if line.startswith("┃")]


def test_readme_thread_example_is_what_the_bot_posts(tmp_path: Path) -> None:
    services = build_services(Settings(_env_file=None, data_dir=tmp_path / "data"))  # type: ignore[call-arg]
    try:
        assert services.ingest_sources([str(SAMPLES_DIR)]).ok
        embeds = [answer_embed(services.ask(q, guild_id=1, thread_id=2)) for q in THREAD]
    finally:
        services.close()
    posted = []
    for embed in embeds:
        lines = [embed.title or "", *(embed.description or "").split("\n"), embed.footer.text or ""]
        posted += [line.replace("**", "").strip() for line in lines if line.strip()]
    assert posted == _readme_thread()
