"""Versioned outputs switched in one step (invariant 4), for the refresh and the publish.

A new version is written as ``vNNNN.duckdb.building`` beside the current ones,
renamed when complete, and made current by one atomic rename of ``current.json``.
Readers follow ``current.json``, so they see the old version or the new, never a
mix; a writer killed at any point leaves the previous version current, and its
debris (``.building`` files) is cleared by the next writer.
"""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from neighbourhood.errors import UserError

POINTER = "current.json"
STAGES = ("written", "renamed", "switched")
# Fault injection for tests of atomicity: the process kills itself at this stage.
KILL_AT_VARIABLE = "NEIGHBOURHOOD_REFRESH_KILL_AT"


def stage(name: str) -> None:
    if os.environ.get(KILL_AT_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Versions:
    folder: Path
    what: str  # for messages: "refresh", "publish"
    keep: int = 3  # versions kept on disk: the current one and those just before it

    def start(self) -> int:
        """Clear a killed writer's debris and return the next version's number."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for debris in self.folder.glob("*.building*"):
            debris.unlink()  # never current, so safe to remove
        found = [
            int(m.group(1))
            for p in self.folder.iterdir()
            if (m := re.match(r"v(\d+)\.duckdb", p.name))
        ]
        current = self.current()
        return max([*found, current["version"] if current else 0]) + 1

    def write(
        self, version: int, info: dict[str, Any], fill: Callable[[duckdb.DuckDBPyConnection], None]
    ) -> Path:
        """Write version ``version`` with ``fill`` and make it current."""
        final = self.folder / f"v{version:04d}.duckdb"
        building = final.with_name(final.name + ".building")
        with duckdb.connect(str(building)) as con:
            fill(con)
            con.execute("CREATE TABLE version_info (info JSON)")
            con.execute("INSERT INTO version_info VALUES (?)", [json.dumps(info)])
            con.execute("CHECKPOINT")
        with building.open("rb") as handle:
            os.fsync(handle.fileno())
        stage("written")
        building.replace(final)
        _fsync_dir(self.folder)
        stage("renamed")
        self._switch(info | {"file": final.name})
        stage("switched")
        self._prune(version)
        return final

    def _switch(self, info: dict[str, Any]) -> None:
        pointer = self.folder / POINTER
        incoming = self.folder / (POINTER + ".building")
        incoming.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        with incoming.open("rb") as handle:
            os.fsync(handle.fileno())
        incoming.replace(pointer)  # the one step that makes the new version current
        _fsync_dir(self.folder)

    def _prune(self, current: int) -> None:
        for path in self.folder.glob("v*.duckdb"):
            match = re.match(r"v(\d+)\.duckdb$", path.name)
            if match and int(match.group(1)) <= current - self.keep:
                path.unlink(missing_ok=True)  # readers with it open keep reading it

    def current(self) -> dict[str, Any] | None:
        pointer = self.folder / POINTER
        if not pointer.exists():
            return None
        info: dict[str, Any] = json.loads(pointer.read_text(encoding="utf-8"))
        return info

    def open_current(self, hint: str) -> duckdb.DuckDBPyConnection:
        """The current version, read-only: what every reader should use."""
        info = self.current()
        if info is None:
            raise UserError(f"no {self.what} in {self.folder.parent} yet: {hint}")
        return duckdb.connect(str(self.folder / info["file"]), read_only=True)


def recorded_info(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What a version recorded of itself, read from the version that is open: unlike
    ``current.json``, it cannot have moved on to a newer version since it was opened."""
    row = con.execute("SELECT info FROM version_info").fetchone()
    info: dict[str, Any] = json.loads(row[0]) if row else {}
    return info


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """The one number a query such as ``SELECT count(*) ...`` gives (0 for none)."""
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def has_table(con: duckdb.DuckDBPyConnection, name: str, database: str | None = None) -> bool:
    """Whether the connection (or one database attached to it) has a table of this name:
    a file written before the table existed has none."""
    where = f" AND database_name = '{database}'" if database else ""
    return bool(
        scalar(con, f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{name}'{where}")
    )


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
