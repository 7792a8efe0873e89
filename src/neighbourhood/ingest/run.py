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
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
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
    """Every file of the sources, one transaction each; the report lists them in order.

    CSV and reference files are loaded side by side (``FILE_THREADS`` at a time), each
    on a connection of its own; FHIR files one at a time, their resources validated by
    ``workers`` processes. File ids are given in the order of the plan before any file
    is loaded, so a later extract of a feed always has the higher id.
    """
    began = time.perf_counter()
    sources = registry.find(registry.load(data_dir), source_ids or [])
    today = today or dt.date.today()
    for source in sources:
        source.check_agreement(today)
    plan = [(s, p, kind) for s in sources for p, kind in _files(s, data_dir)]
    wh = open_warehouse(data_dir)
    try:
        first = wh.next_file_id()
        jobs = [_Job(first + i, s, p, kind) for i, (s, p, kind) in enumerate(plan)]
        accounts = _load_all(wh, jobs, workers, progress)
    finally:
        wh.close()
    report = IngestReport([accounts[job.file_id] for job in jobs])
    report.seconds = time.perf_counter() - began
    return report


FILE_THREADS = 2  # CSV and reference files loaded side by side


@dataclass(frozen=True)
class _Job:
    file_id: int
    source: Source
    path: Path
    kind: str


class _Claims:
    """Contents being ingested in this run: the same file twice in one run loads once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: dict[str, Path] = {}

    def claim(self, digest: str, path: Path) -> Path | None:
        """None if the content is this file's to load, else the file that claimed it."""
        with self._lock:
            first = self._paths.setdefault(digest, path)
        return None if first == path else first


def _load_all(
    wh: Warehouse,
    jobs: list[_Job],
    workers: int,
    progress: Callable[[FileAccount], None] | None,
) -> dict[int, FileAccount]:
    accounts: dict[int, FileAccount] = {}
    claims = _Claims()

    def finished(job: _Job, account: FileAccount) -> None:
        accounts[job.file_id] = account
        logger.info(
            "%s %s: %s, %d in, %d accepted, %d quarantined",
            job.source.id,
            job.path.name,
            account.status,
            account.records_in,
            account.accepted,
            account.quarantined,
        )
        if progress:
            progress(account)

    side_by_side = [j for j in jobs if j.kind != "fhir"]
    fhir = [j for j in jobs if j.kind == "fhir"]
    with (
        _FileThreads(wh, min(FILE_THREADS, len(side_by_side) or 1)) as threads,
        _pool(workers, bool(fhir)) as pool,
    ):
        futures = {threads.submit(job, claims): job for job in side_by_side}
        for job in fhir:
            finished(job, _ingest_file(wh, job, claims, pool))
        for future in as_completed(futures):
            finished(futures[future], future.result())
    return accounts


class _FileThreads:
    """Threads loading files, each on its own connection to the warehouse (DuckDB runs
    the queries of different connections at once; each file is still one transaction).
    Leaving on an error or Ctrl-C interrupts their queries, so their files roll back."""

    def __init__(self, wh: Warehouse, count: int) -> None:
        self._wh = wh
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[Warehouse] = []
        self._executor = ThreadPoolExecutor(count, thread_name_prefix="ingest")

    def __enter__(self) -> _FileThreads:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            with self._lock:
                for opened in self._opened:
                    opened.con.con.interrupt()
        self._executor.shutdown(wait=True, cancel_futures=kind is not None)
        for opened in self._opened:
            opened.close()

    def submit(self, job: _Job, claims: _Claims) -> Future[FileAccount]:
        return self._executor.submit(self._run, job, claims)

    def _run(self, job: _Job, claims: _Claims) -> FileAccount:
        mine: Warehouse | None = getattr(self._local, "wh", None)
        if mine is None:
            mine = self._local.wh = self._wh.cursor()
            with self._lock:
                self._opened.append(mine)
        return _ingest_file(mine, job, claims, None)


def _files(source: Source, data_dir: Path) -> list[tuple[Path, str]]:
    location = source.location(data_dir)
    if source.format == "csv":
        assert source.csv is not None
        if not location.is_dir():
            raise UserError(
                f"{location} does not exist: check source '{source.id}' in sources.toml"
            )
        files = [(location / source.csv.people_file, "people")]
        if source.csv.has_events:  # a feed of people alone has no events file
            files.append((location / source.csv.events_file, "events"))
        return files
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


def _ingest_file(wh: Warehouse, job: _Job, claims: _Claims, pool: Pool | None) -> FileAccount:
    source, path, kind, file_id = job.source, job.path, job.kind, job.file_id
    account = FileAccount(source.id, str(path), kind)
    if not path.exists():
        account.status, account.message = "refused", f"{path}: the file does not exist"
        return account
    digest = sha256_of(path)
    seen = wh.con.con.execute(
        "SELECT count(*) FROM ingest_files WHERE sha256 = ?", [digest]
    ).fetchone()
    twin = claims.claim(digest, path)
    if (seen and seen[0]) or twin is not None:
        account.status = "already ingested"
        if twin is not None:
            account.message = f"the same content as {twin}, ingested in this run"
        return account
    try:
        with _read_first(wh, source, path, kind) as read, wh.transaction():
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
