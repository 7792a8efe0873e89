"""Appending to and verifying the audit trail's chain.

Each entry's ``hash`` is an HMAC-SHA-256, keyed with the audit key kept outside the
database (``anchor.chain_key``), over the previous entry's MAC and the entry's own fields
in canonical JSON: changing any field, removing an entry or swapping two breaks every link
after it, and nobody without the key can recompute the links. The checkpoints in a file
outside the database (``anchor``) catch what a chain alone cannot: entries cut from the
end, a wiped trail, and a trail recomputed by someone who holds the key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from neighbourhood.care.audit import anchor
from neighbourhood.care.audit.models import AuditEvent, ChainHead
from neighbourhood.care.roles import role_of
from neighbourhood.errors import UserError

GENESIS = "0" * 64


def _body(previous: str, seq: int, fields: dict[str, Any]) -> bytes:
    return (
        previous.encode()
        + json.dumps(
            {"seq": seq, **fields}, sort_keys=True, separators=(",", ":"), default=str
        ).encode()
    )


def digest(key: bytes, previous: str, seq: int, fields: dict[str, Any]) -> str:
    return hmac.new(key, _body(previous, seq, fields), hashlib.sha256).hexdigest()


def unkeyed_digest(previous: str, seq: int, fields: dict[str, Any]) -> str:
    """The link as it was before the chain was keyed: kept to re-key a trail written then
    (migration 0004), and to measure what the key costs (``bench web``)."""
    return hashlib.sha256(_body(previous, seq, fields)).hexdigest()


def signed_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": event.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": event.actor,
        "actor_role": event.actor_role,
        "action": event.action,
        "person_id": event.person_id,
        "reason": event.reason,
        "detail": event.detail,
    }


def record(
    actor: str,
    action: str,
    *,
    role: str = "",
    person_id: str = "",
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Inside the caller's transaction, if there is one, so a write and
    its audit event commit or roll back together."""
    with transaction.atomic():
        seq, previous = _advance_head()
        event = AuditEvent(
            seq=seq,
            at=timezone.now(),
            actor=actor,
            actor_role=role,
            action=action,
            person_id=person_id[:40],  # as typed in an address: bounded like the reason
            reason=reason[:300],
            detail=detail or {},
            previous_hash=previous,
        )
        event.hash = digest(anchor.chain_key(), previous, seq, signed_fields(event))
        _insert(event)
        transaction.on_commit(lambda: anchor.after_commit(seq, event.hash))
    return event


_COLUMNS = "seq, at, actor, actor_role, action, person_id, reason, detail, previous_hash, hash"
_VALUES = "%s, %s, %s, %s, %s, %s, %s, {detail}, %s, %s"


def _insert(event: AuditEvent) -> None:
    """Write the entry and move the head's hash on: one round trip on PostgreSQL (a page
    view makes one of these, so it is written as SQL, not compiled by the ORM each time)."""
    values: list[Any] = [
        event.seq,
        connection.ops.adapt_datetimefield_value(event.at),
        event.actor,
        event.actor_role,
        event.action,
        event.person_id,
        event.reason,
        json.dumps(event.detail),
        event.previous_hash,
        event.hash,
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH entry AS (INSERT INTO audit_auditevent ({_COLUMNS}) VALUES "
                f"({_VALUES.format(detail='%s::jsonb')})) "
                "UPDATE audit_chainhead SET hash = %s WHERE id = 1",
                [*values, event.hash],
            )
        else:
            cursor.execute(
                f"INSERT INTO audit_auditevent ({_COLUMNS}) VALUES ({_VALUES.format(detail='%s')})",
                values,
            )
            cursor.execute("UPDATE audit_chainhead SET hash = %s WHERE id = 1", [event.hash])
    event._state.adding, event._state.db = False, connection.alias


def _advance_head() -> tuple[int, str]:
    """Take the next sequence number and the last hash. The UPDATE locks the head row
    until the transaction ends, so appends are strictly one after another."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_chainhead SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        row = cursor.fetchone()
    if row is None:  # a new database: the first event starts the chain
        ChainHead.objects.get_or_create(id=1, defaults={"seq": 0, "hash": GENESIS})
        return _advance_head()
    return int(row[0]), str(row[1])


def record_by(professional: Any, action: str, **fields: Any) -> AuditEvent:
    """Append one event done by a member of staff (a ``Professional``)."""
    return record(professional.user.get_username(), action, role=professional.role, **fields)


def record_as(user: Any, action: str, **fields: Any) -> AuditEvent:
    """Append one event done by a signed-in user, staff of a team or not (an admin)."""
    return record(user.get_username(), action, role=role_of(user), **fields)


@dataclass(frozen=True)
class Break:
    seq: int  # the audit entry concerned (0 for the trail as a whole)
    problem: str
    line: int = 0  # the checkpoint file's line, for a problem found there
    at_head: bool = False  # found by the latest head file

    @classmethod
    def against(cls, point: anchor.Checkpoint, seq: int, problem: str) -> Break:
        return cls(seq, problem, point.line, point.latest)

    @property
    def where(self) -> str:
        if self.at_head:
            return "latest head"
        return f"checkpoint line {self.line}" if self.line else f"audit entry {self.seq}"


@dataclass(frozen=True)
class Verification:
    checked: int
    breaks: list[Break]
    checkpoints: int = 0  # signed checkpoints compared with the trail
    anchored: anchor.Checkpoint | None = None  # the one this verification wrote

    @property
    def intact(self) -> bool:
        return not self.breaks


def verify(checkpoints: Path | None = None) -> Verification:
    """Walk the chain from the start and name every entry where it breaks; compare it
    with every signed checkpoint and the latest head; if all is well, anchor its head
    with a new checkpoint. ``checkpoints`` names a copy kept elsewhere (only read)."""
    key = anchor.chain_key()
    path = checkpoints or anchor.checkpoints_path()
    points, unreadable = anchor.read(path)
    breaks = [Break(0, f"the line {u.problem}", u.line) for u in unreadable]
    if checkpoints is None:  # the head file is this installation's, not a copy's
        latest = anchor.read_head(anchor.head_path(path))
        if isinstance(latest, anchor.Unreadable):
            breaks.append(Break(0, f"the latest head file {latest.problem}", at_head=True))
        elif latest is not None and (latest.seq, latest.hash) not in {
            (p.seq, p.hash) for p in points
        }:
            points.append(latest)
    wanted: dict[int, list[anchor.Checkpoint]] = {}
    for point in points:
        wanted.setdefault(point.seq, []).append(point)
    previous, expected_seq, checked = GENESIS, 1, 0
    for event in _in_order():
        checked += 1
        if event.seq != expected_seq:
            gap = (
                f"entry {expected_seq} is missing"
                if event.seq == expected_seq + 1
                else f"entries {expected_seq} to {event.seq - 1} are missing"
            )
            breaks.append(Break(event.seq, gap))
        if event.previous_hash != previous:
            breaks.append(
                Break(event.seq, "does not follow the entry before it (deleted or reordered)")
            )
        if digest(key, event.previous_hash, event.seq, signed_fields(event)) != event.hash:
            breaks.append(
                Break(
                    event.seq,
                    "its contents were changed after it was written (or it was written "
                    "without this trail's key)",
                )
            )
        for point in wanted.pop(event.seq, []):
            if point.hash != event.hash:
                breaks.append(
                    Break.against(
                        point,
                        event.seq,
                        f"is not the entry {point.named} recorded: the trail was rewritten "
                        "from here on",
                    )
                )
        previous, expected_seq = event.hash, event.seq + 1
    last = expected_seq - 1
    beyond = [p for p in points if p.seq > last]
    if beyond:
        furthest = max(beyond, key=lambda p: p.seq)
        removed = "the whole trail was removed" if checked == 0 else "entries were removed"
        breaks.append(
            Break.against(
                furthest,
                furthest.seq,
                f"{furthest.named} saw entry {furthest.seq}, but the trail now ends at "
                f"entry {last}: {removed}",
            )
        )
    head = ChainHead.objects.filter(id=1).first()
    if head is not None and (head.seq, head.hash) != (last, previous):
        breaks.append(
            Break(
                head.seq,
                f"the chain ends at entry {last}, not {head.seq}: entries at the end were removed",
            )
        )
    written = None
    if checkpoints is None and not breaks and checked:
        try:
            written = anchor.write(last, previous, path)
            anchor.advance_head(last, previous, anchor.head_path(path))
        except OSError as error:
            raise UserError(
                f"the trail is intact, but its head could not be anchored in {path}: "
                f"{error.strerror}"
            ) from error
    return Verification(checked, breaks, sum(not p.latest for p in points), written)


def _in_order() -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("seq").iterator(chunk_size=5000)
