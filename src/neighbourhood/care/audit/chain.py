"""Appending to and verifying the audit trail's hash chain.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's own fields
in canonical JSON, so changing any field, removing an entry or swapping two breaks
every link after it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from neighbourhood.care.audit.models import AuditEvent, ChainHead

GENESIS = "0" * 64


def digest(previous: str, seq: int, fields: dict[str, Any]) -> str:
    body = json.dumps(
        {"seq": seq, **fields}, sort_keys=True, separators=(",", ":"), default=str
    ).encode()
    return hashlib.sha256(previous.encode() + body).hexdigest()


def _fields(event: AuditEvent) -> dict[str, Any]:
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
            person_id=person_id,
            reason=reason[:300],
            detail=detail or {},
            previous_hash=previous,
        )
        event.hash = digest(previous, seq, _fields(event))
        event.save(force_insert=True)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_chainhead SET hash = %s WHERE id = 1", [event.hash])
    return event


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


@dataclass(frozen=True)
class Break:
    seq: int
    problem: str


@dataclass(frozen=True)
class Verification:
    checked: int
    breaks: list[Break]

    @property
    def intact(self) -> bool:
        return not self.breaks


def verify() -> Verification:
    """Walk the chain from the start; name every entry where it breaks."""
    breaks: list[Break] = []
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
        if digest(event.previous_hash, event.seq, _fields(event)) != event.hash:
            breaks.append(Break(event.seq, "its contents were changed after it was written"))
        previous, expected_seq = event.hash, event.seq + 1
    head = ChainHead.objects.filter(id=1).first()
    if head is not None and (head.seq, head.hash) != (expected_seq - 1, previous):
        breaks.append(
            Break(
                head.seq,
                f"the chain ends at entry {expected_seq - 1}, not {head.seq}: "
                "entries at the end were removed",
            )
        )
    return Verification(checked, breaks)


def _in_order() -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("seq").iterator(chunk_size=5000)
