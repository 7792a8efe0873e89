"""Secret keys kept in files: made once, readable by their owner only, never half-written.

The key is written to a private temporary file and linked into place, so a reader (or a
second process making it at the same moment) sees the whole key or no file at all.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def ensure(path: Path, make: Callable[[], str]) -> str:
    """The key in ``path``, made with ``make()`` if there is none yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor, scratch = tempfile.mkstemp(dir=path.parent)  # mode 0600
        with os.fdopen(descriptor, "w") as handle:
            handle.write(make() + "\n")
        try:
            os.link(scratch, path)  # whole or not at all; another process may win
        except FileExistsError:
            pass
        finally:
            Path(scratch).unlink()
    return path.read_text(encoding="utf-8").strip()
