"""``neighbourhood ingest``: every declared file into the warehouse, one transaction each.

Invariant 3: for every file, records in = records accepted + records quarantined,
kept in ``ingest_files``. A file already ingested (same SHA-256) adds nothing;
a file that cannot be trusted as a whole is refused, loads nothing, and is
reported with its name and line.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any

import orjson

from neighbourhood.errors import UserError
from neighbourhood.ingest import registry
from neighbourhood.ingest.csv_feed import CsvRead, ingest_csv, read_csv_file
from neighbourhood.ingest.fhir import Rows, process_batch
from neighbourhood.ingest.files import FileRefused, files_of, lines, sha256_of, whole
from neighbourhood.ingest.reference import load_reference
from neighbourhood.ingest.registry import REFERENCE_FORMATS, Source
from neighbourhood.warehouse import Warehouse, open_warehouse

logger = logging.getLogger(__name__)
BATCH = 2_000
FLUSH_ROWS = 200_000
FHIR_SUFFIXES = (".ndjson", ".ndjson.gz", ".json", ".json.gz")
RESOURCE_TYPES = ("Patient", "Encounter", "Condition", "Observation", "RelatedPerson", "Flag")


@dataclass
class FileAccount:
    source_id: str
    path: str
    kind: str
    records_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    flagged: int = 0
    status: str = "ingested"  # ingested | already ingested | refused
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class IngestReport:
    files: list[FileAccount] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def refused(self) -> list[FileAccount]:
        return [f for f in self.files if f.status == "refused"]

    def totals(self) -> dict[str, int]:
        done = [f for f in self.files if f.status == "ingested"]
        return {
            k: sum(getattr(f, k) for f in done)
            for k in ("records_in", "accepted", "quarantined", "flagged")
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": [f.as_dict() for f in self.files],
            "totals": self.totals(),
            "refused": len(self.refused),
            "seconds": round(self.seconds, 2),
        }


def ingest(
    data_dir: Path,
    source_ids: list[str] | None = None,
    workers: int = 0,
    today: dt.date | None = None,
    progress: Callable[[FileAccount], None] | None = None,
) -> IngestReport:
    began = time.perf_counter()
    sources = registry.find(registry.load(data_dir), source_ids or [])
    today = today or dt.date.today()
    for source in sources:
        source.check_agreement(today)
    plan = [(s, p, kind) for s in sources for p, kind in _files(s, data_dir)]
    report = IngestReport()
    wh = open_warehouse(data_dir)
    try:
        with _pool(workers, any(s.format.startswith("fhir") for s in sources)) as pool:
            for source, path, kind in plan:
                account = _ingest_file(wh, source, path, kind, pool)
                report.files.append(account)
                logger.info(
                    "%s %s: %s, %d in, %d accepted, %d quarantined",
                    source.id,
                    path.name,
                    account.status,
                    account.records_in,
                    account.accepted,
                    account.quarantined,
                )
                if progress:
                    progress(account)
    finally:
        wh.close()
    report.seconds = time.perf_counter() - began
    return report


def _files(source: Source, data_dir: Path) -> list[tuple[Path, str]]:
    location = source.location(data_dir)
    if source.format == "csv":
        assert source.csv is not None
        if not location.is_dir():
            raise UserError(
                f"{location} does not exist: check source '{source.id}' in sources.toml"
            )
        return [
            (location / source.csv.people_file, "people"),
            (location / source.csv.events_file, "events"),
        ]
    if source.format in REFERENCE_FORMATS:
        return [(p, source.format) for p in files_of(location, (".csv",))]
    return [(p, "fhir") for p in files_of(location, FHIR_SUFFIXES)]


@contextmanager
def _pool(workers: int, needed: bool) -> Iterator[Pool | None]:
    count = workers or os.cpu_count() or 1
    if not needed or count == 1:
        yield None
        return
    # A clean server process forks the workers: this process runs DuckDB's threads, and a
    # fork of a threaded process can deadlock.
    with multiprocessing.get_context("forkserver").Pool(count) as pool:
        yield pool


def _ingest_file(
    wh: Warehouse, source: Source, path: Path, kind: str, pool: Pool | None
) -> FileAccount:
    account = FileAccount(source.id, str(path), kind)
    if not path.exists():
        account.status, account.message = "refused", f"{path}: the file does not exist"
        return account
    digest = sha256_of(path)
    seen = wh.table("ingest_files").filter(lambda t: t.sha256 == digest).count().execute()
    if seen:
        account.status = "already ingested"
        return account
    try:
        with _read_first(wh, source, path, kind) as read, wh.transaction():
            file_id = wh.next_file_id()
            if read is not None:
                counts = ingest_csv(wh, read, file_id)
                account.records_in, account.accepted = counts.records_in, counts.accepted
                account.quarantined, account.flagged = counts.quarantined, counts.flagged
            else:
                _load(wh, source, path, kind, file_id, pool, account)
            wh.append_rows(
                "ingest_files",
                {
                    "file_id": [file_id],
                    "source_id": [source.id],
                    "path": [str(path)],
                    "sha256": [digest],
                    "bytes": [path.stat().st_size],
                    "kind": [kind],
                    "records_in": [account.records_in],
                    "accepted": [account.accepted],
                    "quarantined": [account.quarantined],
                    "flagged": [account.flagged],
                    "ingested_at": [dt.datetime.now()],
                },
            )
    except FileRefused as refused:
        account.status, account.message = "refused", str(refused)
        account.records_in = account.accepted = account.quarantined = account.flagged = 0
    return account


def _read_first(
    wh: Warehouse, source: Source, path: Path, kind: str
) -> AbstractContextManager[CsvRead | None]:
    """A CSV file is read before its transaction opens (see ``read_csv_file``)."""
    if kind in ("people", "events"):
        return read_csv_file(wh, source, path, kind)
    return nullcontext()


def _load(
    wh: Warehouse,
    source: Source,
    path: Path,
    kind: str,
    file_id: int,
    pool: Pool | None,
    account: FileAccount,
) -> None:
    if kind in REFERENCE_FORMATS:
        loaded = load_reference(wh, source.id, path, kind, file_id)
        account.records_in, account.accepted = loaded.records_in, loaded.accepted
        account.quarantined = len(loaded.quarantine)
    else:
        _load_fhir(wh, source, path, file_id, pool, account)


def _resource_batches(
    source: Source, path: Path
) -> Iterator[tuple[str, str | None, list[tuple[int, bytes]]]]:
    if source.format == "fhir-bundle":
        yield from _bundle_batches(source, path)
        return
    expected = path.name.split(".", 1)[0]
    expected_type = expected if expected in RESOURCE_TYPES else None
    batch: list[tuple[int, bytes]] = []
    empty = True
    for number, raw in lines(path):
        if not raw.strip():
            continue
        empty = False
        batch.append((number, raw))
        if len(batch) == BATCH:
            yield source.sector, expected_type, batch
            batch = []
    if empty:
        raise FileRefused(path, "the file is empty: it has no resources", 1)
    if batch:
        yield source.sector, expected_type, batch


def _bundle_batches(
    source: Source, path: Path
) -> Iterator[tuple[str, str | None, list[tuple[int, bytes]]]]:
    data = whole(path)
    if not data.strip():
        raise FileRefused(path, "the file is empty: it has no Bundle", 1)
    try:
        bundle = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        line = data[: error.pos].count(b"\n") + 1
        raise FileRefused(
            path,
            f"the file is not valid JSON ({error.msg} at character "
            f"{error.pos:,}); it may be cut short",
            line,
        ) from error
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        kind = bundle.get("resourceType") if isinstance(bundle, dict) else type(bundle).__name__
        raise FileRefused(path, f"the source sends Bundles but the file holds a {kind}", 1)
    entries = bundle.get("entry") or []
    for start in range(0, len(entries), BATCH):
        items = [
            (start + i + 1, orjson.dumps(e.get("resource")) if isinstance(e, dict) else b"")
            for i, e in enumerate(entries[start : start + BATCH])
        ]
        yield source.sector, None, items


def _load_fhir(
    wh: Warehouse, source: Source, path: Path, file_id: int, pool: Pool | None, account: FileAccount
) -> None:
    batches = _resource_batches(source, path)
    results = pool.imap(process_batch, batches) if pool else map(process_batch, batches)
    pending = Rows()
    for rows in results:  # a FileRefused raised while reading comes out of here
        account.records_in += sum(
            len(c["line"]) for c in (rows.records, rows.events, rows.quarantine)
        )
        account.accepted += len(rows.records["line"]) + len(rows.events["line"])
        account.quarantined += len(rows.quarantine["line"])
        account.flagged += rows.flagged
        pending.extend(rows)
        if pending.size() >= FLUSH_ROWS:
            _flush(wh, source, path, file_id, pending)
            pending = Rows()
    _flush(wh, source, path, file_id, pending)


def _flush(wh: Warehouse, source: Source, path: Path, file_id: int, rows: Rows) -> None:
    n = len(rows.records["line"])
    wh.append_rows(
        "source_records", rows.records | {"source_id": [source.id] * n, "file_id": [file_id] * n}
    )
    n = len(rows.events["line"])
    wh.append_rows(
        "events",
        rows.events
        | {"source_id": [source.id] * n, "file_id": [file_id] * n, "sector": [source.sector] * n},
    )
    n = len(rows.quarantine["line"])
    wh.append_rows(
        "quarantine",
        rows.quarantine
        | {"source_id": [source.id] * n, "file_id": [file_id] * n, "path": [str(path)] * n},
    )
