"""Evaluations kept in the data directory (``DATA/evaluation/``) for the Evaluation page:
planning output only (under disclosure control), one JSON file a run, named by when and
by the protocol's digest; and the log of protocols run, which holds amendments to
account (``protocol.check_amended``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neighbourhood.kept import Kept

FOLDER = "evaluation"
PROTOCOL_LOG = "protocols.json"


def _describe(kept: dict[str, Any]) -> dict[str, Any]:
    protocol = kept.get("protocol", {})
    return {
        "protocol": protocol.get("name", ""),
        "digest": protocol.get("digest", "")[:12],
        "amendments": len(protocol.get("amendments", [])),
        "source": kept.get("data", {}).get("source", ""),
    }


_KEPT = Kept(FOLDER, _describe)


def save(data_dir: Path, result: dict[str, Any]) -> Path:
    return _KEPT.save(data_dir, result, result["protocol"]["digest"])


def listed(data_dir: Path) -> list[dict[str, Any]]:
    return _KEPT.listed(data_dir)


def load(data_dir: Path, run_id: str) -> dict[str, Any]:
    return _KEPT.load(data_dir, run_id)


def protocol_log(data_dir: Path) -> Path:
    return data_dir / FOLDER / PROTOCOL_LOG
