"""The answer shown in the README is what the bot really posts (real model, real sample stories)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.embeds import answer_embed
from index.review import review_story
from index.services import build_services
from index.settings import SAMPLES_DIR, Settings

pytestmark = pytest.mark.model

README = Path(__file__).resolve().parents[2] / "README.md"
QUESTION = "How much per hour do writers earn training AI at Mercor and Outlier?"
NEWER_STORY = """---
title: AI Labs Raise Pay for Screenwriters Who Train Chatbots
source: The Wrap-Up
published: 2026-09-14
url: https://example.com/ai-trainer-pay-2026
---
Screenwriters who train chatbots for AI labs are now earning up to $200 per hour, according to \
three contractors who spoke on condition of anonymity.

Mercor and Outlier raised their top rates over the summer as demand for creative evaluation work \
grew. Writers grade chatbot scripts, rewrite dialogue and flag clichés.

The contractors said the work remains irregular, with weeks of full schedules followed by weeks \
without tasks.
"""


def _readme_example() -> list[str]:
    """Return the lines of the README's rendered answer, without the frame."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### What an answer shows") :]
    block = re.search(r"```text\n(.*?)```", section, re.S)
    assert block is not None
    lines = [line.removeprefix("┃").strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("[👍]")]


def test_readme_answer_example_is_what_the_bot_posts(tmp_path: Path) -> None:
    (tmp_path / "stories").mkdir()
    (tmp_path / "stories" / "trainer-pay-rises.md").write_text(NEWER_STORY, encoding="utf-8")
    services = build_services(Settings(_env_file=None, data_dir=tmp_path / "data"))  # type: ignore[call-arg]
    try:
        report = services.ingest_sources([str(SAMPLES_DIR), str(tmp_path / "stories")])
        assert len(report.added) == 3 and report.ok
        newer = next(a for a in services.registry.list_articles() if a.source == "The Wrap-Up")
        review_story(
            services.registry, newer.id, "disputed", confidence=60,
            note="Rates not confirmed by Mercor or Outlier.", reviewed_by="mod",
        )  # fmt: skip
        embed = answer_embed(services.ask(QUESTION))
    finally:
        services.close()
    posted = [embed.title or "", *(embed.description or "").split("\n"), embed.footer.text or ""]
    posted = [line.replace("**", "").strip() for line in posted if line.strip()]
    assert posted == _readme_example()
