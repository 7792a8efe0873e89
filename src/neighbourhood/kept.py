"""Runs kept in the data directory for the web pages (capacity scenarios, evaluations):
aggregates only, one JSON file a run, named by when and by a hash of what was run."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

NAME = re.compile(r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{16}$")


class Kept:
    def __init__(self, folder: str, describe: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.folder, self.describe = folder, describe

    def save(self, data_dir: Path, result: dict[str, Any], digest: str) -> Path:
        folder = data_dir / self.folder
        folder.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.UTC)
        kept = result | {"run_at": now.isoformat(timespec="seconds")}
        path = folder / f"{now.strftime('%Y%m%dT%H%M%S')}-{digest[:16]}.json"
        path.write_text(json.dumps(kept), encoding="utf-8")
        return path

    def listed(self, data_dir: Path) -> list[dict[str, Any]]:
        """Every kept run, newest first: its id and what ``describe`` picks from it."""
        folder = data_dir / self.folder
        out = []
        for path in sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []:
            if not NAME.match(path.stem):
                continue
            try:
                kept = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # a file being written, or not ours: not listed
            out.append({"id": path.stem, "run_at": kept.get("run_at", "")} | self.describe(kept))
        return out

    def load(self, data_dir: Path, run_id: str) -> dict[str, Any]:
        if not NAME.match(run_id):
            raise ValueError(f"not a run id: {run_id!r}")
        result: dict[str, Any] = json.loads(
            (data_dir / self.folder / f"{run_id}.json").read_text(encoding="utf-8")
        )
        return result | {"id": run_id}
