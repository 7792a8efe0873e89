"""The development secret key: made once per data directory, readable by its owner only."""

from __future__ import annotations

import secrets
from pathlib import Path

from neighbourhood import keyfiles


def secret_key(data_dir: Path) -> str:
    """The data directory's key; with no data directory yet, one for this process only."""
    if not data_dir.is_dir():
        return secrets.token_urlsafe(50)
    return keyfiles.ensure(
        data_dir / "keys" / "django-secret.key", lambda: secrets.token_urlsafe(50)
    )
