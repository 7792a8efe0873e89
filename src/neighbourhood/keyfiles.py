"""Secret keys kept in files: made once, readable by their owner only, never half-written.

The key is written to a private temporary file and linked into place, so a reader (or a
second process making it at the same moment) sees the whole key or no file at all.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from neighbourhood.errors import UserError


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


def random_key(path: Path, what: str, named_by: str | None = None, nbytes: int = 32) -> bytes:
    """A random key of ``nbytes`` kept in hexadecimal in ``path``, made the first time.
    ``named_by``: the setting that named the file, which must then exist already."""
    if named_by and not path.exists():
        raise UserError(f"{named_by} names {path}, which does not exist")
    text = ensure(path, lambda: secrets.token_hex(nbytes))
    try:
        key = bytes.fromhex(text)
    except ValueError as error:
        raise UserError(f"the {what} {path} is not hexadecimal") from error
    if len(key) < 16:
        raise UserError(f"the {what} {path} is shorter than 128 bits")
    return key
