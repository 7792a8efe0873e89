"""Capacity runs kept in the data directory (``DATA/capacity/``), for the web pages to
compare: aggregates only, one JSON file a run, named by when and by the scenario's hash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neighbourhood.kept import NAME, Kept

FOLDER = "capacity"
__all__ = ["FOLDER", "NAME", "listed", "load", "save"]


def _describe(kept: dict[str, Any]) -> dict[str, Any]:
    return {
        "scenario": kept.get("scenario", ""),
        "mode": kept.get("mode", ""),
        "as_of": kept.get("as_of", ""),
        "replications": kept.get("replications", 0),
        "neighbourhoods": len(kept.get("neighbourhoods", {})),
    }


_KEPT = Kept(FOLDER, _describe)


def save(data_dir: Path, result: dict[str, Any]) -> Path:
    return _KEPT.save(data_dir, result, result["scenario_hash"])


def listed(data_dir: Path) -> list[dict[str, Any]]:
    """Every kept run, newest first: its id, scenario, mode, date and size."""
    return _KEPT.listed(data_dir)


def load(data_dir: Path, run_id: str) -> dict[str, Any]:
    return _KEPT.load(data_dir, run_id)
