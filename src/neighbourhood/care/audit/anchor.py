"""The audit trail's key and its anchor outside the database.

The key (``NEIGHBOURHOOD_AUDIT_KEY_FILE``, default ``DATA/keys/audit-chain.key``, mode
0600) keys every entry's MAC, so nobody who can write to the database but cannot read the
key can forge or recompute an entry. The checkpoint file (``NEIGHBOURHOOD_AUDIT_CHECKPOINTS``,
default ``DATA/audit/checkpoints.log``) is append-only: each line records the chain's head
(entry number and MAC) at one moment, signed with a key derived from the audit key. A
trail cut short, wiped, or recomputed by someone holding the key no longer matches the
lines written before; the IG lead copies the file elsewhere and verifies against the copy
(``neighbourhood audit verify --checkpoints COPY``).

A line is written every ``AUDIT_CHECKPOINT_EVERY`` entries, whenever the newest line is
older than ``AUDIT_CHECKPOINT_SECONDS``, and by every verification that finds the trail
intact. Each line is one ``write`` to a file opened for appending, so lines from several
server processes never interleave. Beside it, the head file (``checkpoints.head``) holds
the newest head alone, signed, replaced after every committed entry, so entries cut from
the end are found between checkpoints as well.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import hashlib
import hmac
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from neighbourhood import keyfiles
from neighbourhood.errors import UserError

KEY_BYTES = 32
log = logging.getLogger("neighbourhood.audit")


def key_path() -> Path:
    named = settings.AUDIT_KEY_FILE
    return Path(named) if named else Path(settings.DATA_DIR) / "keys" / "audit-chain.key"


def checkpoints_path() -> Path:
    named = settings.AUDIT_CHECKPOINTS
    return Path(named) if named else Path(settings.DATA_DIR) / "audit" / "checkpoints.log"


def chain_key() -> bytes:
    """The MAC key, made (readable by its owner only) the first time it is needed."""
    return _key_at(key_path())


@functools.lru_cache(maxsize=4)
def _key_at(path: Path) -> bytes:
    named_by = "NEIGHBOURHOOD_AUDIT_KEY_FILE" if settings.AUDIT_KEY_FILE else None
    return keyfiles.random_key(path, "audit key", named_by, KEY_BYTES)


def _signing_key() -> bytes:
    """Checkpoints are signed with a key of their own, derived from the chain's."""
    return _derived(chain_key())


@functools.lru_cache(maxsize=4)
def _derived(key: bytes) -> bytes:
    return hmac.new(key, b"audit checkpoint", hashlib.sha256).digest()


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str  # ISO 8601, UTC
    line: int = 0  # where it was read from (1-based); 0 for one not yet written
    latest: bool = False  # the head file's, not a line of the checkpoint file

    @property
    def named(self) -> str:
        if self.latest:
            return f"the latest head, recorded outside the database at {self.at},"
        return f"the checkpoint of {self.at}"

    def body(self) -> bytes:
        return json.dumps(
            {"seq": self.seq, "hash": self.hash, "at": self.at},
            sort_keys=True,
            separators=(",", ":"),
        ).encode()

    def signature(self) -> str:
        return hmac.new(_signing_key(), self.body(), hashlib.sha256).hexdigest()

    @classmethod
    def signed_now(cls, seq: int, head: str) -> tuple[Checkpoint, bytes]:
        """A checkpoint of this head taken now, and the signed line that records it."""
        point = cls(seq, head, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        fields = {"seq": seq, "hash": head, "at": point.at, "signature": point.signature()}
        return point, json.dumps(fields, sort_keys=True).encode()


@dataclass(frozen=True)
class Unreadable:
    line: int
    problem: str


def write(seq: int, head: str, path: Path | None = None) -> Checkpoint:
    """Append a signed line naming the chain's head."""
    path = path or checkpoints_path()
    point, line = Checkpoint.signed_now(seq, head)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)  # one write
    try:
        os.write(descriptor, line + b"\n")
    finally:
        os.close(descriptor)
    return point


def head_path(checkpoints: Path | None = None) -> Path:
    """Beside the checkpoint file: the newest head only, signed, replaced after every
    entry, so entries cut from the end are found even between checkpoints."""
    path = checkpoints or checkpoints_path()
    return path.with_name(path.stem + ".head")


def advance_head(seq: int, head: str, path: Path | None = None) -> None:
    """Record the newest head, unless a later one is there already (two server processes
    can commit in one order and get here in the other)."""
    path = path or head_path()
    _, line = Checkpoint.signed_now(seq, head)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            seen = int(json.loads(os.read(descriptor, 4096) or b"{}").get("seq", -1))
        except (ValueError, AttributeError):
            seen = -1
        if seq > seen:
            os.lseek(descriptor, 0, os.SEEK_SET)
            os.ftruncate(descriptor, 0)
            os.write(descriptor, line)
    finally:
        os.close(descriptor)  # and with it the lock


def read_head(path: Path) -> Checkpoint | Unreadable | None:
    if not path.exists():
        return None
    try:
        points, bad = _read(path)
    except OSError as error:
        raise UserError(f"cannot read the audit head file {path}: {error.strerror}") from error
    if bad:
        return bad[0]
    if not points:
        return None
    only = points[-1]
    return Checkpoint(only.seq, only.hash, only.at, 0, latest=True)


def after_commit(seq: int, head: str) -> None:
    """Once an entry has committed: the head file, and a checkpoint if one is due. A
    failure to write either is logged: the entry itself is safe in the database."""
    try:
        advance_head(seq, head)
    except OSError as error:
        log.error("could not write the audit head to %s: %s", head_path(), error.strerror)
    maybe_write(seq, head)


def maybe_write(seq: int, head: str) -> None:
    """After an entry commits: a checkpoint if one is due."""
    every, seconds = settings.AUDIT_CHECKPOINT_EVERY, settings.AUDIT_CHECKPOINT_SECONDS
    path = checkpoints_path()
    try:
        stale = time.time() - path.stat().st_mtime >= seconds
    except FileNotFoundError:
        stale = True
    if stale or (every > 0 and seq % every == 0):
        try:
            write(seq, head, path)
        except OSError as error:  # the entry is committed; the next one tries again
            log.error("could not write an audit checkpoint to %s: %s", path, error.strerror)


def check() -> None:
    """Before serving: the key can be read and the checkpoint file written, or a clear
    error now rather than a failed page later."""
    chain_key()
    path = checkpoints_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if path.exists() and not path.is_file():
            raise UserError(f"the audit checkpoint file {path} is not a file")
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
    except OSError as error:
        raise UserError(
            f"cannot write the audit checkpoint file {path}: {error.strerror}"
        ) from error


def read(path: Path) -> tuple[list[Checkpoint], list[Unreadable]]:
    """Every line of a checkpoint file: the signed ones, and those that are not."""
    if not path.exists():
        return [], []
    try:
        return _read(path)
    except OSError as error:
        raise UserError(f"cannot read the checkpoint file {path}: {error.strerror}") from error


def _read(path: Path) -> tuple[list[Checkpoint], list[Unreadable]]:
    points: list[Checkpoint] = []
    bad: list[Unreadable] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, raw in enumerate(handle, start=1):
            raw = raw.strip().lstrip("\ufeff")  # a copy saved by an editor on Windows
            if not raw:
                continue
            try:
                fields = json.loads(raw)
                point = Checkpoint(
                    int(fields["seq"]), str(fields["hash"]), str(fields["at"]), number
                )
                signature = str(fields["signature"])
            except (ValueError, KeyError, TypeError):
                bad.append(Unreadable(number, "is not a checkpoint (the file was edited)"))
                continue
            if not hmac.compare_digest(signature, point.signature()):
                bad.append(
                    Unreadable(
                        number,
                        "is not signed with this trail's key (edited, forged or from "
                        "another installation)",
                    )
                )
                continue
            points.append(point)
    return points, bad
