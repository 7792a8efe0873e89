"""On SQLite, as on PostgreSQL, the database itself refuses to change or remove audit
events."""

from __future__ import annotations

from typing import Any

from django.db import migrations

TRIGGERS = [
    f"""CREATE TRIGGER audit_append_only_{operation.lower()}
    BEFORE {operation} ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: {operation} refused'); END"""
    for operation in ("UPDATE", "DELETE")
]
DROPS = [f"DROP TRIGGER IF EXISTS audit_append_only_{op}" for op in ("update", "delete")]


def _on_sqlite(statements: list[str]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_keyed_chain")]
    operations = [migrations.RunPython(_on_sqlite(TRIGGERS), _on_sqlite(DROPS))]
