"""FHIR files cut into parts for the worker processes, and the parts' rows as Arrow.

The process that writes the warehouse does as little Python per record as it can: it
reads an NDJSON file a block of whole lines at a time (decompressing and counting lines
in C) and sends the block as it is; a file of one resource or one Bundle goes to a
worker by name, to be read there. A worker splits, parses, validates and maps, and
sends back its rows as Arrow tables with every column of the warehouse's tables, the
source and file included, so the writer only appends them.

The parts of every FHIR file of a run flow through one pool in order, so the workers
are never idle at the end of one file while the next is read; the writer still loads
each file in a transaction of its own (see ``run``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pyarrow as pa

from neighbourhood.ingest.fhir import Batch, Rows, bundle_entries, process_batch
from neighbourhood.ingest.fhir_map import RESOURCE_TYPES, Bundled, Rejected
from neighbourhood.ingest.files import FileRefused, blocks, whole
from neighbourhood.warehouse.store import arrow_table

BATCH = 2_000  # entries of a Bundle validated and mapped together
NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz", ".json", ".json.gz")
XML_SUFFIXES = (".xml", ".xml.gz")
DOCUMENT_SUFFIXES = (".json", ".json.gz", *XML_SUFFIXES)


@dataclass(frozen=True)
class Target:
    """The file a part comes from, and where its rows go."""

    source_id: str
    sector: str
    source_format: str
    file_id: int
    path: Path


@dataclass
class Task:
    """One part of a file for a worker: whole NDJSON lines from ``first_line``, the whole
    file when it holds one resource or Bundle, or, with no work, the file's opening (its
    digest, or why it is not loaded) or its refusal."""

    target: Target
    kind: str  # lines | document | opening | refused
    first_line: int = 0
    data: bytes = b""
    expected: str | None = None
    digest: str = ""
    skipped: tuple[str, str] | None = None  # status and message of a file not loaded
    refused: FileRefused | None = None


@dataclass
class Part:
    """What a worker made of a task: the rows as Arrow tables, and their account."""

    task: Task
    tables: dict[str, pa.Table] = field(default_factory=dict)
    accepted: int = 0
    quarantined: int = 0
    flagged: int = 0
    not_used: Counter[str] = field(default_factory=Counter)
    faults: list[str] = field(default_factory=list)
    by_nhs_number: int = 0
    refused: FileRefused | None = None

    @property
    def records_in(self) -> int:
        return self.accepted + self.quarantined + sum(self.not_used.values())

    def size(self) -> int:
        return sum(t.num_rows for t in self.tables.values())


def load_part(task: Task) -> Part:
    """Run in a worker: never raises. A file refused while it is read in the worker (a
    Bundle that is not JSON, say) comes back as the part's ``refused``."""
    if task.kind in ("opening", "refused"):
        return Part(task, refused=task.refused)
    rows = Rows()
    try:
        for batch in _batches(task):
            process_batch(batch, rows)
    except FileRefused as refused:
        return Part(task, refused=refused)
    part = Part(
        task,
        accepted=rows.accepted,
        quarantined=rows.quarantined,
        flagged=rows.flagged,
        not_used=rows.not_used,
        faults=rows.faults,
        by_nhs_number=rows.by_nhs_number,
    )
    part.tables = tables_of(rows, task.target)
    return part


def tables_of(rows: Rows, target: Target) -> dict[str, pa.Table]:
    """The rows as the warehouse's tables, with the columns every row of the file shares."""
    constant = {"source_id": target.source_id, "file_id": target.file_id}
    shared = {
        "source_records": constant,
        "events": constant | {"sector": target.sector},
        "directory": constant,
        "quarantine": constant | {"path": str(target.path)},
    }
    columns = {
        "source_records": rows.records,
        "events": rows.events,
        "directory": rows.directory,
        "quarantine": rows.quarantine,
    }
    out = {}
    for name, table in columns.items():
        n = len(table)
        if n:
            given = {k: [v] * n for k, v in shared[name].items()}
            out[name] = arrow_table(name, table.columns() | given)
    return out


def _batches(task: Task) -> Iterator[Batch]:
    target = task.target
    if task.kind == "lines":
        items = []
        for i, raw in enumerate(task.data.split(b"\n")):
            line = raw.rstrip(b"\r")
            if line.strip():
                items.append((task.first_line + i, "", line))
        for start in range(0, len(items), BATCH):
            yield Batch(target.sector, task.expected, items[start : start + BATCH])
    elif target.path.name.endswith(XML_SUFFIXES):
        yield Batch(target.sector, None, [(1, "", _document(target.path))])
    else:
        yield from _document_batches(target)


def ndjson_tasks(target: Target) -> Iterator[Task]:
    """An NDJSON file (or an XML file among them) as tasks, after its opening; a file
    refused while it is read ends with its refusal."""
    path = target.path
    if path.name.endswith(XML_SUFFIXES):
        yield Task(target, "document")
        return
    expected = expected_type(path)
    empty = True
    try:
        for first, data in blocks(path):
            if empty:
                empty = not _sniff_ndjson(path, first, data)
            yield Task(target, "lines", first, data, expected)
        if empty:
            raise FileRefused(path, "the file is empty: it has no resources", 1)
    except FileRefused as refused:
        yield Task(target, "refused", refused=refused)


def expected_type(path: Path) -> str | None:
    """The resource type an NDJSON file's name promises (``Patient.ndjson``), if any."""
    named = path.name.split(".", 1)[0]
    return named if named in RESOURCE_TYPES else None


def _sniff_ndjson(path: Path, first: int, data: bytes) -> bool:
    """Refuse a file that is plainly not NDJSON, rather than quarantine it line by line;
    False while only blank lines have been seen."""
    for i, raw in enumerate(data.split(b"\n")):
        text = raw.strip()
        if not text:
            continue
        number = first + i
        if text.startswith(b"<"):
            raise FileRefused(
                path,
                "the file is XML, not NDJSON: name FHIR XML files .xml, or declare the source "
                'format = "fhir-json" (one resource or Bundle per file, JSON or XML)',
                number,
            )
        if text in (b"{", b"[") or (
            text.startswith((b"{", b"[")) and not text.endswith((b"}", b"]"))
        ):
            raise FileRefused(
                path,
                "the file is pretty-printed JSON (one resource over many lines), not NDJSON "
                '(one resource a line): declare the source format = "fhir-json" for files of '
                "one resource or Bundle each",
                number,
            )
        return True
    return False


def _document(path: Path) -> bytes:
    data = whole(path)
    if not data.strip():
        raise FileRefused(path, "the file is empty: it has no resource", 1)
    return data


def _document_batches(target: Target) -> Iterator[Batch]:
    """A file of one resource or one Bundle; a Bundle's entries a batch at a time, with
    what the Bundle says about its own references."""
    path, sector = target.path, target.sector
    data = _document(path)
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        line = data[: error.pos].count(b"\n") + 1
        raise FileRefused(
            path,
            f"the file is not valid JSON ({error.msg} at character "
            f"{error.pos:,}); it may be cut short",
            line,
        ) from error
    kind = document.get("resourceType") if isinstance(document, dict) else None
    if kind != "Bundle":
        if target.source_format == "fhir-bundle":
            shown = kind or type(document).__name__
            raise FileRefused(
                path,
                f"the source sends Bundles but the file holds a {shown}; declare the source "
                'format = "fhir-json" for files of one resource or Bundle each',
                1,
            )
        yield Batch(sector, None, [(1, "", data)])
        return
    try:
        entries = bundle_entries(document, 0)
    except Rejected:  # quarantined whole, saying why
        yield Batch(sector, None, [(1, "", data)])
        return
    bundled = Bundled().within(entries)
    for start in range(0, len(entries), BATCH):
        yield Batch(
            sector,
            None,
            [],
            bundled,
            bundle_type=document["type"],
            entries=[
                (start + i + 1, f"entry[{start + i}]", e)
                for i, e in enumerate(entries[start : start + BATCH])
            ],
        )
