"""The audit trail: append-only, chained with a keyed MAC, anchored outside the database,
and every kind of tampering found and named by 'audit verify'."""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from neighbourhood.bench.postgres import Server
from neighbourhood.care.audit import anchor
from neighbourhood.care.audit.chain import (
    GENESIS,
    digest,
    record,
    signed_fields,
    unkeyed_digest,
    verify,
)
from neighbourhood.care.audit.models import AppendOnlyError, AuditEvent
from tests.support.commands import neighbourhood

pytestmark = pytest.mark.django_db
CHANGED = (
    "its contents were changed after it was written (or it was written without this trail's key)"
)


def _trail(n: int = 6) -> list[AuditEvent]:
    return [
        record(
            f"user{i % 2}",
            "view_profile",
            role="clinician",
            person_id=f"N{i:09d}",
            reason="on the case-finding list of ZU0001",
        )
        for i in range(n)
    ]


@pytest.fixture
def tamperer() -> Iterator[None]:
    """What a database administrator could do: switch the append-only trigger off."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_append_only")
    yield
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_append_only")


def test_an_untouched_trail_verifies() -> None:
    events = _trail()
    assert [e.seq for e in events] == list(range(1, 7))
    assert events[0].previous_hash == "0" * 64
    assert all(b.previous_hash == a.hash for a, b in itertools.pairwise(events))
    result = verify()
    assert result.intact and result.checked == 6
    assert result.anchored is not None and result.anchored.seq == 6


def test_each_entry_is_keyed_with_the_audit_key() -> None:
    import hashlib
    import hmac
    import json

    first = _trail(1)[0]
    body = json.dumps(
        {"seq": 1, **signed_fields(first)}, sort_keys=True, separators=(",", ":"), default=str
    ).encode()
    key = anchor.chain_key()
    assert first.hash == hmac.new(key, GENESIS.encode() + body, hashlib.sha256).hexdigest()
    assert first.hash != hashlib.sha256(GENESIS.encode() + body).hexdigest()


def _rewrite(key: bytes | None) -> None:
    """Recompute every link after an edit, as an attacker would: with no key (plain
    SHA-256, as the trail once was), or with the stolen key."""
    previous = GENESIS
    with connection.cursor() as cursor:
        for event in AuditEvent.objects.order_by("seq"):
            fields = signed_fields(event)
            link = (
                digest(key, previous, event.seq, fields)
                if key
                else unkeyed_digest(previous, event.seq, fields)
            )
            cursor.execute(
                "UPDATE audit_auditevent SET previous_hash = %s, hash = %s WHERE seq = %s",
                [previous, link, event.seq],
            )
            previous = link
        cursor.execute("UPDATE audit_chainhead SET hash = %s WHERE id = 1", [previous])


def _move_head(seq: int) -> None:
    head = AuditEvent.objects.filter(seq=seq).first()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = 1",
            [seq, head.hash if head else GENESIS],
        )


@pytest.mark.usefixtures("tamperer")
def test_a_trail_recomputed_without_the_key_is_found() -> None:
    _trail()
    AuditEvent.objects.filter(seq=3).update(reason="direct care")
    _rewrite(None)
    result = verify()
    assert [(b.seq, b.problem) for b in result.breaks] == [(s, CHANGED) for s in range(1, 7)]
    assert result.anchored is None  # a broken trail is never anchored


@pytest.mark.usefixtures("tamperer")
def test_a_trail_recomputed_with_the_key_is_found_by_its_checkpoint() -> None:
    _trail()
    assert verify().intact  # anchors entry 6
    AuditEvent.objects.filter(seq=3).update(reason="direct care")
    _rewrite(anchor.chain_key())
    result = verify()
    assert [(b.seq, b.line) for b in result.breaks] == [(6, 1)]
    assert "is not the entry the checkpoint of" in result.breaks[0].problem
    assert "rewritten" in result.breaks[0].problem


@pytest.mark.usefixtures("tamperer")
def test_entries_cut_from_the_end_with_the_head_moved_back_are_found() -> None:
    _trail()
    assert verify().intact
    AuditEvent.objects.filter(seq__gte=5).delete()
    _move_head(4)
    result = verify()
    assert [(b.seq, b.line) for b in result.breaks] == [(6, 1)]
    assert result.breaks[0].problem.endswith(
        "saw entry 6, but the trail now ends at entry 4: entries were removed"
    )


@pytest.mark.usefixtures("tamperer")
def test_a_wiped_trail_is_found() -> None:
    _trail()
    assert verify().intact
    AuditEvent.objects.all().delete()
    _move_head(0)
    result = verify()
    assert not result.intact and result.checked == 0
    assert result.breaks[0].problem.endswith(
        "but the trail now ends at entry 0: the whole trail was removed"
    )


def test_an_edited_or_forged_checkpoint_is_named(audit_anchor: Path) -> None:
    _trail(3)
    assert verify().intact
    text = audit_anchor.read_text()
    audit_anchor.write_text(text + text.replace('"seq": 3', '"seq": 2') + "not a checkpoint\n")
    result = verify()
    assert [(b.line, b.problem) for b in result.breaks] == [
        (
            2,
            "the line is not signed with this trail's key (edited, forged or from another "
            "installation)",
        ),
        (3, "the line is not a checkpoint (the file was edited)"),
    ]


def test_checkpoints_are_written_at_intervals(settings: Any, audit_anchor: Path) -> None:
    settings.AUDIT_CHECKPOINT_EVERY = 4
    settings.AUDIT_CHECKPOINT_SECONDS = 3600
    for _ in range(9):
        event = _trail(1)[0]
        anchor.maybe_write(event.seq, event.hash)  # what record does once it commits
    points, bad = anchor.read(audit_anchor)
    assert [p.seq for p in points] == [1, 4, 8] and bad == []
    assert oct(audit_anchor.stat().st_mode & 0o777) == "0o600"


def test_a_copy_kept_elsewhere_is_only_read(audit_anchor: Path, tmp_path: Path) -> None:
    _trail(2)
    assert verify().intact
    copy = tmp_path / "copy.log"
    copy.write_bytes(audit_anchor.read_bytes())
    result = verify(copy)
    assert result.intact and result.checkpoints == 1 and result.anchored is None
    assert copy.read_bytes() == audit_anchor.read_bytes()
    # as copied by someone on Windows, and opened and saved in Notepad
    windows = tmp_path / "windows.log"
    windows.write_bytes(b"\xef\xbb\xbf" + audit_anchor.read_bytes().replace(b"\n", b"\r\n"))
    assert verify(windows).checkpoints == 1 and verify(windows).intact


def test_the_application_cannot_change_or_delete_an_event() -> None:
    event = _trail(1)[0]
    event.reason = "nothing to see"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_postgresql_refuses_update_and_delete() -> None:
    _trail(2)
    for sql in (
        "UPDATE audit_auditevent SET reason = 'x' WHERE seq = 1",
        "DELETE FROM audit_auditevent WHERE seq = 2",
    ):
        with (
            pytest.raises(ProgrammingError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert verify().intact


@pytest.mark.usefixtures("tamperer")
def test_an_edited_entry_is_found() -> None:
    _trail()
    AuditEvent.objects.filter(seq=3).update(actor="someone-else")
    result = verify()
    assert [(b.seq, b.problem) for b in result.breaks] == [(3, CHANGED)]


@pytest.mark.usefixtures("tamperer")
def test_a_deleted_entry_is_found() -> None:
    _trail()
    AuditEvent.objects.filter(seq=4).delete()
    assert [(b.seq, b.problem) for b in verify().breaks] == [
        (5, "entry 4 is missing"),
        (5, "does not follow the entry before it (deleted or reordered)"),
    ]


@pytest.mark.usefixtures("tamperer")
def test_reordered_entries_are_found() -> None:
    _trail()
    with connection.cursor() as cursor:  # swap their places in the sequence
        cursor.execute("UPDATE audit_auditevent SET seq = -2 WHERE seq = 2")
        cursor.execute("UPDATE audit_auditevent SET seq = 2 WHERE seq = 5")
        cursor.execute("UPDATE audit_auditevent SET seq = 5 WHERE seq = -2")
    broken = {b.seq for b in verify().breaks}
    assert {2, 3, 5, 6} <= broken


@pytest.mark.usefixtures("tamperer")
def test_entries_cut_from_the_end_are_found() -> None:
    _trail()
    AuditEvent.objects.filter(seq__gte=5).delete()
    result = verify()
    assert not result.intact
    assert "entries at the end were removed" in result.breaks[-1].problem


@pytest.mark.django_db(transaction=True)
def test_audit_verify_on_the_command_line(
    postgres_server: Server, tamperer: None, tmp_path: Path, settings: Any
) -> None:
    _trail()
    url = postgres_server.url(connection.settings_dict["NAME"])

    def verify_cli(*more: str) -> subprocess.CompletedProcess[str]:
        return neighbourhood(
            "audit",
            "verify",
            "--data",
            str(tmp_path),
            *more,
            NEIGHBOURHOOD_DATABASE_URL=url,
            NEIGHBOURHOOD_AUDIT_KEY_FILE=settings.AUDIT_KEY_FILE,
            NEIGHBOURHOOD_AUDIT_CHECKPOINTS=settings.AUDIT_CHECKPOINTS,
        )

    intact = verify_cli()
    assert intact.returncode == 0, intact.stderr
    said = " ".join(intact.stdout.split())
    # the first entry's commit wrote the first checkpoint (there was none)
    assert "The audit trail is intact: 6 entries checked against 1 checkpoint." in said
    assert "Its head (entry 6) is anchored in" in said
    AuditEvent.objects.filter(seq=2).update(reason="edited")
    broken = verify_cli()
    assert broken.returncode == 1
    assert f"audit entry 2: {CHANGED}" in " ".join(broken.stderr.split())
    assert "Traceback" not in broken.stderr
    missing = verify_cli("--checkpoints", str(tmp_path / "nowhere.log"))
    assert missing.returncode != 0 and "is not a file" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_sqlite_refuses_update_and_delete(tmp_path: Path) -> None:
    import sqlite3

    made = neighbourhood("audit", "verify", "--data", str(tmp_path))  # migrates it
    assert made.returncode == 0, made.stderr
    database = sqlite3.connect(tmp_path / "care.sqlite3")
    database.execute(
        "INSERT INTO audit_auditevent (seq, at, actor, actor_role, action, person_id, "
        "reason, detail, previous_hash, hash) "
        "VALUES (1, '2026-12-04', 'a', '', 'x', '', '', '{}', 'p', 'h')"
    )
    database.commit()
    for sql in ("UPDATE audit_auditevent SET actor = 'b'", "DELETE FROM audit_auditevent"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            database.execute(sql)
    assert database.execute("SELECT actor FROM audit_auditevent").fetchall() == [("a",)]


@pytest.mark.django_db(transaction=True)
def test_an_unkeyed_trail_is_rekeyed_when_intact_and_never_when_broken(
    tamperer: None,
) -> None:
    from django.core.management import call_command

    def unkeyed_trail() -> None:
        call_command("migrate", "audit", "0003", verbosity=0)
        with connection.cursor() as cursor:  # the migration switched it back on
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_append_only")
        _trail(4)
        _rewrite(None)  # as versions before the key wrote it

    try:
        unkeyed_trail()
        call_command("migrate", "audit", verbosity=0)
        assert verify().intact and AuditEvent.objects.count() == 4
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditevent, audit_chainhead")
        unkeyed_trail()
        AuditEvent.objects.filter(seq=2).update(actor="someone-else")
        with pytest.raises(RuntimeError, match="audit entry 2 breaks the chain"):
            call_command("migrate", "audit", verbosity=0)
        assert AuditEvent.objects.get(seq=1).hash == AuditEvent.objects.get(seq=2).previous_hash
    finally:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditevent, audit_chainhead")
        call_command("migrate", "audit", verbosity=0)


@pytest.mark.usefixtures("tamperer")
def test_entries_cut_from_the_end_between_checkpoints_are_found_by_the_head_file(
    django_capture_on_commit_callbacks: Any, audit_anchor: Path
) -> None:
    """No verification has run and no checkpoint is due: the head file, replaced after
    every committed entry, still knows where the trail ended."""
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            _trail(1)
    points, _ = anchor.read(audit_anchor)
    assert [p.seq for p in points] == [1]  # the first entry's, when there was none
    AuditEvent.objects.filter(seq__gte=4).delete()
    _move_head(3)
    result = verify()
    assert [b.where for b in result.breaks] == ["latest head"]
    assert result.breaks[0].problem.startswith("the latest head, recorded outside the database")
    assert result.breaks[0].problem.endswith(
        "saw entry 5, but the trail now ends at entry 3: entries were removed"
    )


def test_a_head_file_that_went_back_or_was_edited_is_found(
    django_capture_on_commit_callbacks: Any, audit_anchor: Path
) -> None:
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            _trail(1)
    head = anchor.head_path(audit_anchor)
    anchor.advance_head(1, "0" * 64, head)  # an older head never replaces a newer one
    assert '"seq": 3' in head.read_text()
    head.write_text(head.read_text().replace('"seq": 3', '"seq": 2'))
    result = verify()
    assert [(b.where, b.problem) for b in result.breaks] == [
        (
            "latest head",
            "the latest head file is not signed with this trail's key (edited, forged or "
            "from another installation)",
        )
    ]
