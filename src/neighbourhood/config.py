"""Where the project keeps its files: the data directory and what lives in it."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV_VAR = "NEIGHBOURHOOD_DATA"
DEFAULT_DATA_DIR = Path("data")


def resolve_data_dir(given: Path | None = None) -> Path:
    """The data directory: ``--data`` if given, else ``$NEIGHBOURHOOD_DATA``, else ``./data``."""
    if given is not None:
        return given
    from_env = os.environ.get(DATA_ENV_VAR, "").strip()
    return Path(from_env) if from_env else DEFAULT_DATA_DIR


def extracts_dir(data_dir: Path) -> Path:
    """Partners' extracts, as they would arrive."""
    return data_dir / "extracts"


def truth_dir(data_dir: Path) -> Path:
    """Synthetic ground truth, kept apart from the extracts."""
    return data_dir / "truth"


def published_dir(data_dir: Path) -> Path:
    """The published versions: what operations and planners read (``neighbourhood publish``)."""
    return data_dir / "published"
