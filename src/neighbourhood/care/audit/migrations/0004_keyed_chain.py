"""The chain becomes keyed: every entry's SHA-256 link is replaced by an HMAC under the
audit key, once, after the unkeyed chain is checked intact. A broken chain is not
re-keyed (that would hide the break): the migration stops and says so."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from neighbourhood.care.audit.chain import GENESIS, digest, signed_fields, unkeyed_digest


def rekey(apps: Any, schema_editor: Any) -> None:
    from neighbourhood.care.audit.anchor import chain_key

    events = apps.get_model("audit", "AuditEvent")
    if not events.objects.exists():
        return
    key = chain_key()
    connection = schema_editor.connection
    postgresql = connection.vendor == "postgresql"
    old_previous, new_previous, rows = GENESIS, GENESIS, []
    for event in events.objects.order_by("seq").iterator(chunk_size=5000):
        fields = signed_fields(event)
        if (
            event.previous_hash != old_previous
            or unkeyed_digest(old_previous, event.seq, fields) != event.hash
        ):
            raise RuntimeError(
                f"audit entry {event.seq} breaks the chain: the trail is not re-keyed. "
                "Keep a copy of the database, tell your IG lead, and run "
                "'neighbourhood audit verify' on the previous version."
            )
        new = digest(key, new_previous, event.seq, fields)
        rows.append((new_previous, new, event.seq))
        old_previous, new_previous = event.hash, new
    with connection.cursor() as cursor:
        if postgresql:
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_append_only")
        cursor.executemany(
            "UPDATE audit_auditevent SET previous_hash = %s, hash = %s WHERE seq = %s", rows
        )
        cursor.execute("UPDATE audit_chainhead SET hash = %s WHERE id = 1", [new_previous])
        if postgresql:
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_append_only")


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_detail_may_be_empty")]
    operations = [migrations.RunPython(rekey, migrations.RunPython.noop)]
