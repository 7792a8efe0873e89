"""The development secret key: made once per data directory, readable by its owner only."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path


def secret_key(data_dir: Path) -> str:
    """The data directory's key; with no data directory yet, one for this process only."""
    if not data_dir.is_dir():
        return secrets.token_urlsafe(50)
    path = data_dir / "keys" / "django-secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor, scratch = tempfile.mkstemp(dir=path.parent)  # mode 0600
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50) + "\n")
        try:
            os.link(scratch, path)  # whole or not at all; another worker may win
        except FileExistsError:
            pass
        finally:
            Path(scratch).unlink()
    return path.read_text(encoding="utf-8").strip()
