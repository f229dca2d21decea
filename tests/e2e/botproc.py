"""Run the `newsbot` commands as subprocesses, in an environment that reaches 127.0.0.1 only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Variables that could send the bot's traffic elsewhere, or change its behaviour, from outside.
_DROPPED_PREFIXES = ("NEWSBOT_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "WS_PROXY", "WSS_PROXY")


def clean_env(settings: dict[str, str]) -> dict[str, str]:
    """Return this process's environment without NEWSBOT_* or proxies, plus the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_DROPPED_PREFIXES)}
    env.update(
        {
            "NO_PROXY": "127.0.0.1,localhost",
            "HF_HUB_OFFLINE": "1",  # the bundled model is local: never ask the Hugging Face hub
            "TRANSFORMERS_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",  # log lines reach the log file as they happen
        }
    )
    # This checkout's code, even where the package is not installed (or installed elsewhere).
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env.update(settings)
    return env


def newsbot(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """Start `newsbot ARGS` (as `python -m newsbot.cli`) with output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "newsbot.cli", *args],
        env=env,
        cwd=cwd,  # not the repository: no .env file is read
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def finish(process: subprocess.Popen[bytes], what: str, timeout: float = 120.0) -> str:
    """Wait for a short command and return its output; fail with the output if it failed."""
    out, _ = process.communicate(timeout=timeout)
    text = out.decode("utf-8", "replace")
    if process.returncode != 0:
        raise AssertionError(f"{what} exited with {process.returncode}:\n{text}")
    return text


@dataclass
class BotProcess:
    """`newsbot run` in the background, its output going to a log file."""

    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(cls, env: dict[str, str], cwd: Path, log_path: Path) -> BotProcess:
        """Start `newsbot run`."""
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "newsbot.cli", "run"],
                env=env,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return cls(process, log_path)

    def log(self) -> str:
        """Return everything the bot logged so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, text: str, timeout: float) -> None:
        """Wait until the log contains `text`; fail early with the log if the bot exits."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if self.process.poll() is not None:
                raise AssertionError(f"the bot exited ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no {text!r} in the bot's log after {timeout} s:\n{self.log()}"
                )
            time.sleep(0.05)

    def stop(self, grace: float = 10.0) -> int:
        """Stop the bot: SIGTERM (it closes the gateway cleanly), then SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(grace)
        return self.process.returncode
