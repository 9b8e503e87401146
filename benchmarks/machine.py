"""The machine facts every benchmark prints at its top, so figures can be compared across runs, and
the start-up (and the throw-away PostgreSQL database) every benchmark that drives the System in
process shares."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    """The checkout first on sys.path and Django set up (settings from the environment, as `egsu` reads
    them): call after the arguments are parsed, so `--help` stays instant."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egsu.settings")
    import django

    django.setup()


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "?"


def memory() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:", 1)[1].split()[0])
        return f"{kib / 1024 / 1024:.1f} GiB"
    return "?"


def commit() -> str:
    """The checkout measured (`git describe --always --dirty`)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        described = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return described or "?"
    return "?"


def process_cpu_seconds(pid: int | str) -> float:
    """User plus system CPU a process of this machine has spent (/proc/PID/stat); OSError if none."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_line() -> str:
    return (
        f"machine: nproc={os.cpu_count()} ({cpu_model()}), memory {memory()}, "
        f"{platform.system()} {platform.release()}"
    )


@dataclass
class Postgres:
    """A throw-away PostgreSQL database for one run (created here, dropped at the end)."""

    url: str
    name: str = ""
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        parsed = urlparse(self.url)
        self.name = unquote(parsed.path.lstrip("/"))
        if "bench" not in self.name:
            raise SystemExit(
                f"refusing to drop and create database {self.name!r}: its name must contain 'bench'"
            )
        self.params = {
            "host": parsed.hostname or "127.0.0.1",
            "port": parsed.port or 5432,
            "user": unquote(parsed.username or ""),
            "password": unquote(parsed.password or ""),
        }

    def _admin(self):
        import psycopg

        return psycopg.connect(dbname="postgres", autocommit=True, **self.params)

    def create(self) -> None:
        from psycopg import sql

        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def drop(self) -> None:
        from psycopg import sql

        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))

    def connect(self):
        import psycopg

        return psycopg.connect(dbname=self.name, **self.params)
