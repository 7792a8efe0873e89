"""``neighbourhood ingest``: every declared file into the warehouse, one transaction each.

Invariant 3: for every file, records in = records accepted + records quarantined
+ records not used (valid FHIR resources of a type not taken yet), kept in
``ingest_files``. A file already ingested (same SHA-256) adds nothing;
a file that cannot be trusted as a whole is refused, loads nothing, and is
reported with its name and line.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from itertools import groupby
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any

import pyarrow as pa

from neighbourhood import registry
from neighbourhood.errors import UserError
from neighbourhood.ingest.csv_feed import ingest_csv
from neighbourhood.ingest.csv_read import CsvRead, read_csv_file
from neighbourhood.ingest.fhir import Rows
from neighbourhood.ingest.fhir_map import SUBJECT_BY_NHS_NUMBER
from neighbourhood.ingest.fhir_parts import (
    DOCUMENT_SUFFIXES,
    NDJSON_SUFFIXES,
    XML_SUFFIXES,
    Part,
    Target,
    Task,
    expected_type,
    load_part,
    ndjson_tasks,
    tables_of,
)
from neighbourhood.ingest.files import FileRefused, files_of, sha256_of
from neighbourhood.ingest.reference import load_reference
from neighbourhood.private import owner_only_files
from neighbourhood.registry import REFERENCE_FORMATS, Source
from neighbourhood.warehouse import Warehouse, open_warehouse

logger = logging.getLogger(__name__)
FLUSH_ROWS = 200_000
__all__ = ["expected_type", "flush_rows", "ingest", "join_subjects_by_nhs_number"]


@dataclass
class FileAccount:
    source_id: str
    path: str
    kind: str
    records_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    flagged: int = 0
    not_used: int = 0
    not_used_types: dict[str, int] = field(default_factory=dict)
    status: str = "ingested"  # ingested | already ingested | refused
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def not_used_text(self) -> str | None:
        """'Provenance 3, CarePlan 1': the types a file sent that are not used yet."""
        counted = sorted(self.not_used_types.items(), key=lambda kv: (-kv[1], kv[0]))
        return ", ".join(f"{kind} {n:,}" for kind, n in counted) or None


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
            for k in ("records_in", "accepted", "quarantined", "flagged", "not_used")
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": [f.as_dict() for f in self.files],
            "totals": self.totals(),
            "refused": len(self.refused),
            "seconds": round(self.seconds, 2),
        }


@owner_only_files
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
        for job, account in _load_fhir_files(wh, fhir, claims, pool):
            finished(job, account)
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
        return _ingest_file(mine, job, claims)


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
    suffixes = (
        NDJSON_SUFFIXES + XML_SUFFIXES if source.format == "fhir-ndjson" else DOCUMENT_SUFFIXES
    )
    return [(p, "fhir") for p in files_of(location, suffixes)]


@contextmanager
def _pool(workers: int, needed: bool) -> Iterator[Pool | None]:
    count = workers or os.cpu_count() or 1
    if not needed or count == 1:
        yield None
        return
    # A clean server process forks the workers: this process runs DuckDB's threads, and a
    # fork of a threaded process can deadlock.
    context = multiprocessing.get_context("forkserver")
    # The server imports the workers' code (fhir.resources' models) once, for all of them.
    context.set_forkserver_preload(["neighbourhood.ingest.fhir_parts"])
    with context.Pool(count, initializer=_quiet_collector) as pool:
        yield pool


# Objects a worker may allocate, net, before the collector looks for cycles among the
# youngest (Python's default is 700).
WORKER_GC_THRESHOLD = (100_000, 50, 100)


def _quiet_collector() -> None:
    """A worker leaves what it was forked with (the models, thousands of classes) out of
    the garbage collector's full passes, which otherwise walk them again and again; and
    it collects less often. Parsing makes millions of short-lived dicts and lists, freed
    by their counts, not by the collector: at the default threshold the collector ran
    every 700 of them and cost about a tenth of a neighbourhood's ingest."""
    gc.freeze()
    gc.set_threshold(*WORKER_GC_THRESHOLD)


def _ingest_file(wh: Warehouse, job: _Job, claims: _Claims) -> FileAccount:
    """A CSV or reference file, read and loaded in one transaction."""
    account, digest = _open(job, claims, lambda d: _is_ingested(wh, d))
    if digest is None:
        return account
    try:
        with _read_first(wh, job.source, job.path, job.kind) as read, wh.transaction():
            if read is not None:
                counts = ingest_csv(wh, read, job.file_id)
                account.records_in, account.accepted = counts.records_in, counts.accepted
                account.quarantined, account.flagged = counts.quarantined, counts.flagged
            else:
                loaded = load_reference(
                    wh, job.source.id, job.path, job.kind, job.file_id, job.source.sector
                )
                account.records_in, account.accepted = loaded.records_in, loaded.accepted
                account.quarantined = len(loaded.quarantine)
            _record_file(wh, job, digest, account)
    except FileRefused as refused:
        _refuse(account, refused)
    return account


def _is_ingested(wh: Warehouse, digest: str) -> bool:
    found = wh.con.con.execute(
        "SELECT count(*) FROM ingest_files WHERE sha256 = ?", [digest]
    ).fetchone()
    return bool(found and found[0])


def _ingested(wh: Warehouse) -> set[str]:
    """The digests of every file the warehouse holds."""
    return {row[0] for row in wh.con.con.execute("SELECT sha256 FROM ingest_files").fetchall()}


def _open(
    job: _Job, claims: _Claims, ingested: Callable[[str], bool]
) -> tuple[FileAccount, str | None]:
    """The file's account and its digest; no digest when there is nothing to load (the
    account says why)."""
    account = FileAccount(job.source.id, str(job.path), job.kind)
    if not job.path.exists():
        account.status, account.message = "refused", f"{job.path}: the file does not exist"
        return account, None
    digest = sha256_of(job.path)
    twin = claims.claim(digest, job.path)
    if ingested(digest) or twin is not None:
        account.status = "already ingested"
        if twin is not None:
            account.message = f"the same content as {twin}, ingested in this run"
        return account, None
    return account, digest


def _refuse(account: FileAccount, refused: FileRefused) -> None:
    account.status, account.message = "refused", str(refused)
    account.records_in = account.accepted = account.quarantined = account.flagged = 0
    account.not_used, account.not_used_types = 0, {}


def _record_file(wh: Warehouse, job: _Job, digest: str, account: FileAccount) -> None:
    wh.append_rows(
        "ingest_files",
        {
            "file_id": [job.file_id],
            "source_id": [job.source.id],
            "path": [str(job.path)],
            "sha256": [digest],
            "bytes": [job.path.stat().st_size],
            "kind": [job.kind],
            "records_in": [account.records_in],
            "accepted": [account.accepted],
            "quarantined": [account.quarantined],
            "flagged": [account.flagged],
            "not_used": [account.not_used],
            "not_used_types": [account.not_used_text()],
            "ingested_at": [dt.datetime.now()],
        },
    )


def _read_first(
    wh: Warehouse, source: Source, path: Path, kind: str
) -> AbstractContextManager[CsvRead | None]:
    """A CSV file is read before its transaction opens (see ``read_csv_file``)."""
    if kind in ("people", "events"):
        return read_csv_file(wh, source, path, kind)
    return nullcontext()


def _load_fhir_files(
    wh: Warehouse, jobs: list[_Job], claims: _Claims, pool: Pool | None
) -> Iterator[tuple[_Job, FileAccount]]:
    """Every FHIR file of the run through one stream of parts, in order, so the workers
    go on with the next file while this process loads the last; each file still loads
    in a transaction of its own, and a file refused part-way loads nothing."""
    by_id = {job.file_id: job for job in jobs}
    tasks = _fhir_tasks(jobs, claims, _ingested(wh))
    parts = pool.imap(load_part, tasks) if pool else map(load_part, tasks)
    for file_id, of_file in groupby(parts, key=lambda part: part.task.target.file_id):
        job = by_id[file_id]
        yield job, _load_fhir_file(wh, job, of_file)


def _fhir_tasks(jobs: list[_Job], claims: _Claims, ingested: set[str]) -> Iterator[Task]:
    """Each file's opening, then its parts. Run by the pool's own thread, so it never
    touches the warehouse."""
    for job in jobs:
        source = job.source
        target = Target(source.id, source.sector, source.format, job.file_id, job.path)
        account, digest = _open(job, claims, ingested.__contains__)
        skipped = None if digest is not None else (account.status, account.message)
        yield Task(target, "opening", digest=digest or "", skipped=skipped)
        if digest is None:
            continue
        if source.format == "fhir-ndjson":
            yield from ndjson_tasks(target)
        else:
            yield Task(target, "document")


def _load_fhir_file(wh: Warehouse, job: _Job, parts: Iterator[Part]) -> FileAccount:
    source, path, file_id = job.source, job.path, job.file_id
    account = FileAccount(source.id, str(path), job.kind)
    opening = next(parts).task
    if opening.skipped is not None:
        account.status, account.message = opening.skipped
        return account
    not_used: Counter[str] = Counter()
    faults: Counter[str] = Counter()
    by_nhs_number = 0
    try:
        with wh.transaction():
            pending: list[Part] = []
            size = 0
            for part in parts:
                if part.refused is not None:
                    raise part.refused
                account.records_in += part.records_in
                account.accepted += part.accepted
                account.quarantined += part.quarantined
                account.flagged += part.flagged
                not_used.update(part.not_used)
                faults.update(part.faults)
                by_nhs_number += part.by_nhs_number
                pending.append(part)
                size += part.size()
                if size >= FLUSH_ROWS:
                    _append_parts(wh, pending)
                    pending, size = [], 0
            _append_parts(wh, pending)
            if by_nhs_number:  # a query over the source's records, so only when needed
                join_subjects_by_nhs_number(wh, source, file_id)
            account.not_used = sum(not_used.values())
            account.not_used_types = dict(not_used)
            _record_file(wh, job, opening.digest, account)
    except FileRefused as refused:
        _refuse(account, refused)
        return account
    for fault, n in faults.items():  # where our code failed; never the record itself
        logger.error(
            "%s %s: %d record(s) quarantined by a fault: %s", source.id, path.name, n, fault
        )
    return account


def _append_parts(wh: Warehouse, parts: list[Part]) -> None:
    for name in ("source_records", "events", "directory", "quarantine"):
        tables = [p.tables[name] for p in parts if name in p.tables]
        if tables:
            wh.append(name, pa.concat_tables(tables))


def join_subjects_by_nhs_number(wh: Warehouse, source: Source, file_id: int) -> None:
    """Events whose subject is an NHS number, not a reference: joined to the source's own
    record with that number if it sent one, else to a record of the number alone, which
    linkage joins to the person."""
    con = wh.con.con
    prefix = SUBJECT_BY_NHS_NUMBER
    con.execute(
        """
        UPDATE events e SET record_key = r.record_key
        FROM (SELECT nhs_number, arg_max(record_key, file_id) AS record_key
              FROM source_records WHERE source_id = ? AND nhs_number IS NOT NULL
              GROUP BY nhs_number) r
        WHERE e.file_id = ? AND e.record_key = ? || r.nhs_number
        """,
        [source.id, file_id, prefix],
    )
    con.execute(
        """
        INSERT INTO source_records BY NAME
        SELECT DISTINCT source_id, file_id, record_key,
               substr(record_key, length(?) + 1) AS nhs_number,
               substr(record_key, length(?) + 1) AS nhs_number_raw,
               'valid' AS nhs_number_status,
               'no Patient resource: the record of an NHS number that events name' AS flags
        FROM events
        WHERE file_id = ? AND starts_with(record_key, ?)
          AND record_key NOT IN (SELECT record_key FROM source_records WHERE source_id = ?)
        """,
        [prefix, prefix, file_id, prefix, source.id],
    )


def flush_rows(wh: Warehouse, source: Source, path: Path, file_id: int, rows: Rows) -> None:
    target = Target(source.id, source.sector, source.format, file_id, path)
    for name, table in tables_of(rows, target).items():
        wh.append(name, table)
