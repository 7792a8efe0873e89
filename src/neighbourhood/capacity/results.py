"""Capacity runs kept in the data directory (``DATA/capacity/``), for the web pages to
compare: aggregates only, one JSON file a run, named by when and by the scenario's hash."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

FOLDER = "capacity"
NAME = re.compile(r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{16}$")


def save(data_dir: Path, result: dict[str, Any]) -> Path:
    folder = data_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    kept = result | {"run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    path = folder / f"{stamp}-{result['scenario_hash']}.json"
    path.write_text(json.dumps(kept), encoding="utf-8")
    return path


def listed(data_dir: Path) -> list[dict[str, Any]]:
    """Every kept run, newest first: its id, scenario, mode, date and size."""
    folder = data_dir / FOLDER
    out = []
    for path in sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []:
        if not NAME.match(path.stem):
            continue
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a file being written, or not ours: not listed
        out.append(
            {
                "id": path.stem,
                "scenario": kept.get("scenario", path.stem),
                "mode": kept.get("mode", ""),
                "run_at": kept.get("run_at", ""),
                "as_of": kept.get("as_of", ""),
                "replications": kept.get("replications", 0),
                "neighbourhoods": len(kept.get("neighbourhoods", {})),
            }
        )
    return out


def load(data_dir: Path, run_id: str) -> dict[str, Any]:
    if not NAME.match(run_id):
        raise ValueError(f"not a run id: {run_id!r}")
    result: dict[str, Any] = json.loads(
        (data_dir / FOLDER / f"{run_id}.json").read_text(encoding="utf-8")
    )
    return result | {"id": run_id}
