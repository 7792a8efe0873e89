"""``neighbourhood ingest --replay-quarantine SOURCE``: read a source's quarantined
records again, after its declaration or the platform has been fixed.

The quarantine keeps each record's full text, its file, line and Bundle entry. A
record that now passes moves out of the quarantine into the warehouse under its own
file, line and entry; one that still fails stays, with today's reason. The file's
account is updated in the same transaction, so records in = accepted + quarantined
+ not used still holds for every file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neighbourhood import registry
from neighbourhood.errors import UserError
from neighbourhood.ingest.fhir import Batch, Rows, process_batch
from neighbourhood.ingest.fhir_parts import expected_type
from neighbourhood.ingest.run import flush_rows, join_subjects_by_nhs_number
from neighbourhood.warehouse import open_warehouse


@dataclass
class Replayed:
    source_id: str
    replayed: int = 0
    accepted: int = 0
    not_used: int = 0
    still_quarantined: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def replay_quarantine(data_dir: Path, source_id: str) -> Replayed:
    (source,) = registry.find(registry.load(data_dir), [source_id])
    if source.format not in ("fhir-ndjson", "fhir-bundle", "fhir-json"):
        raise UserError(
            f"source '{source_id}' is {source.format}: replay reads FHIR records again; for a "
            "CSV extract, fix its declaration and ask the partner to send the file again"
        )
    result = Replayed(source_id)
    wh = open_warehouse(data_dir)
    try:
        con = wh.con.con
        held = con.execute(
            "SELECT rowid, file_id, path, line, coalesce(entry, ''), raw FROM quarantine "
            "WHERE source_id = ? ORDER BY file_id, line, rowid",
            [source_id],
        ).fetchall()
        with wh.transaction():
            for rowid, file_id, path, line, entry, raw in held:
                rows = process_batch(
                    Batch(
                        source.sector,
                        None if entry else expected_type(Path(path)),
                        [(int(line or 0), str(entry), str(raw or "").encode())],
                    )
                )
                result.replayed += 1
                result.accepted += rows.accepted
                result.not_used += sum(rows.not_used.values())
                result.still_quarantined += rows.quarantined
                con.execute("DELETE FROM quarantine WHERE rowid = ?", [rowid])
                flush_rows(wh, source, Path(path), int(file_id), rows)
                _account(con, int(file_id), rows)
            for file_id in sorted({int(f) for _, f, *_ in held}):
                join_subjects_by_nhs_number(wh, source, file_id)
    finally:
        wh.close()
    return result


def _account(con: Any, file_id: int, rows: Rows) -> None:
    """One quarantined record became what ``rows`` holds (a Bundle may become several)."""
    not_used = sum(rows.not_used.values())
    con.execute(
        """
        UPDATE ingest_files SET
            records_in = records_in + ? - 1,
            accepted = accepted + ?,
            quarantined = quarantined + ? - 1,
            flagged = flagged + ?,
            not_used = coalesce(not_used, 0) + ?
        WHERE file_id = ?
        """,
        [rows.records_in, rows.accepted, rows.quarantined, rows.flagged, not_used, file_id],
    )
