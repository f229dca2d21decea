"""Start and stop a real PostgreSQL (the machine's initdb/pg_ctl) in a temporary folder, for tests.

It listens only on a Unix socket inside that folder (no TCP port at all), with trust
authentication for its one user, and fsync off: a test database never needs to survive a crash
of the machine.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

USER = "newsbot"
# initdb refuses to run as root; the server then runs as this unprivileged user instead.
RUN_AS = os.environ.get("NEWSBOT_TEST_PG_USER", "nobody")


def postgres_bindir() -> Path | None:
    """Return the folder holding initdb and pg_ctl (PATH first, then Debian's layout)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


class PostgresServer:
    """A PostgreSQL cluster in a temporary folder; `create_database()` gives each test its own."""

    def __init__(self) -> None:
        self.root: Path | None = None
        self._counter = itertools.count(1)

    @property
    def socket_dir(self) -> Path:
        """Return the folder holding the server's Unix socket."""
        assert self.root is not None, "the server is not started"
        return self.root

    def url(self, dbname: str = "postgres") -> str:
        """Return a libpq url for one database of this server."""
        return f"postgresql://{USER}@/{dbname}?host={self.socket_dir}"

    def start(self) -> None:
        """Create the cluster and start the server; raise RuntimeError saying why it failed."""
        bindir = postgres_bindir()
        if bindir is None:
            raise RuntimeError("no PostgreSQL binaries (initdb, pg_ctl) on this machine")
        # Short and outside pytest's root-only folders: a socket path is limited to ~100 bytes,
        # and the server's user must be able to enter it.
        self.root = Path(tempfile.mkdtemp(prefix="newsbot-pg-", dir="/tmp"))
        if os.geteuid() == 0:
            shutil.chown(self.root, RUN_AS)
        data = self.root / "data"
        self._run(bindir / "initdb", "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")  # fmt: skip
        options = (
            f"-k {self.root} -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c max_connections=300"
        )
        self._run(bindir / "pg_ctl", "-D", str(data), "-l", str(self.root / "log"), "-w",
                  "-t", "60", "-o", options, "start")  # fmt: skip

    def create_database(self) -> str:
        """Create a fresh, empty database and return its url."""
        name = f"t{next(self._counter)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by create_database, ending its connections."""
        name = url.split("@/", 1)[1].split("?", 1)[0]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        if self.root is None:
            return
        bindir = postgres_bindir()
        data = self.root / "data"
        if bindir is not None and (data / "postmaster.pid").exists():
            self._run(bindir / "pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def log_tail(self, lines: int = 30) -> str:
        """Return the end of the server's log (to explain a failure)."""
        log = self.socket_dir / "log"
        return (
            "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""
        )

    def _run(self, exe: Path, *args: str) -> None:
        """Run a PostgreSQL program, as the unprivileged user when this process is root."""
        command = [str(exe), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", RUN_AS, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd="/")
        if done.returncode != 0:
            raise RuntimeError(f"{exe.name} failed ({done.returncode}): {done.stderr.strip()}")
