"""The audit trail: append-only, hash-chained, and any tampering found by 'audit verify'."""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from neighbourhood.bench.postgres import Server
from neighbourhood.care.audit.chain import record, verify
from neighbourhood.care.audit.models import AppendOnlyError, AuditEvent
from tests.support.commands import neighbourhood

pytestmark = pytest.mark.django_db


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
    assert [(b.seq, b.problem) for b in result.breaks] == [
        (3, "its contents were changed after it was written")
    ]


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
    postgres_server: Server, tamperer: None, tmp_path: Path
) -> None:
    _trail()
    url = postgres_server.url(connection.settings_dict["NAME"])

    def verify_cli() -> subprocess.CompletedProcess[str]:
        return neighbourhood(
            "audit", "verify", "--data", str(tmp_path), NEIGHBOURHOOD_DATABASE_URL=url
        )

    intact = verify_cli()
    assert intact.returncode == 0, intact.stderr
    assert "The audit trail is intact: 6 entries checked." in intact.stdout
    AuditEvent.objects.filter(seq=2).update(reason="edited")
    broken = verify_cli()
    assert broken.returncode == 1
    assert "audit entry 2: its contents were changed after it was written" in broken.stderr
    assert "Traceback" not in broken.stderr
