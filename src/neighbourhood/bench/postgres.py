"""A throwaway PostgreSQL server for the test suite and ``bench web``.

Uses the installed PostgreSQL (``pg_config --bindir``, else Debian's
``/usr/lib/postgresql/NN/bin``). PostgreSQL refuses to run as root, so as root the
server runs as the ``postgres`` user, in a directory it owns. It listens on loopback
only, on a free port, with trust authentication, and is removed when stopped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from neighbourhood.errors import UserError


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    folder: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgres://{self.user}@{self.host}:{self.port}/{database}"


def bin_dir() -> Path:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False)
        candidate = Path(out.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if versions:
        return versions[0].parent
    raise UserError(
        "PostgreSQL is not installed (no initdb found): install it, e.g. "
        "'apt-get install postgresql'"
    )


def free_port() -> int:
    """A port on loopback nobody is listening on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running(parent: Path | None = None, durable: bool = False) -> Iterator[Server]:
    """A server for as long as the ``with`` block lasts. Not ``durable`` (the default, for
    tests) skips flushing to disk, which a crash would need but a test does not."""
    binaries = bin_dir()
    as_root = os.geteuid() == 0
    user = "postgres" if as_root else (os.environ.get("USER") or "postgres")
    folder = Path(tempfile.mkdtemp(prefix="neighbourhood-pg-", dir=parent))
    data = folder / "data"
    if as_root:
        shutil.chown(folder, "postgres", "postgres")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []

    def run(*args: str) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise UserError(f"PostgreSQL {Path(args[0]).name} failed: {done.stderr.strip()}")

    port = free_port()
    try:
        run(
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-instructions",
        )
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        run(
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "server.log"),
            "-w",
            "start",
        )
        yield Server("127.0.0.1", port, user, folder)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                check=False,
            )
        shutil.rmtree(folder, ignore_errors=True)
