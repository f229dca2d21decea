"""The documented configuration matches the settings class: nothing missing, nothing stale."""

from __future__ import annotations

import re
from pathlib import Path

from index.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _variables() -> set[str]:
    return {f"NEWSBOT_{name.upper()}" for name in Settings.model_fields}


def test_every_setting_is_in_env_example_and_nothing_else() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#?\s*(NEWSBOT_[A-Z0-9_]+)=", text, re.M))
    assert listed == _variables()


def test_every_setting_is_in_the_readme() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = sorted(v for v in _variables() if f"`{v}`" not in text)
    assert missing == []
