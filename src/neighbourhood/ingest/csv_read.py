"""Reading one CSV extract into DuckDB, before its transaction opens: its encoding, its
header against the feed's declared columns, each row's line number in the file, and
the rows DuckDB cannot split (its rejects), quarantined with their line and raw text."""

from __future__ import annotations

import codecs
import logging
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from neighbourhood.ingest.files import READ_BLOCK, FileRefused, open_binary
from neighbourhood.registry import CsvSpec, Source, headers
from neighbourhood.warehouse import Warehouse

logger = logging.getLogger(__name__)


@dataclass
class CsvRead:
    """A file read into a temporary table, ready to load: see ``read_csv_file``."""

    source: Source
    path: Path
    kind: str
    lines_in: int
    rows: ir.Table
    rejects: pa.Table


@contextmanager
def read_csv_file(wh: Warehouse, source: Source, path: Path, kind: str) -> Iterator[CsvRead]:
    """Check the header, count the lines and read the file into a temporary table.

    Call it outside the file's transaction: DuckDB scans a temporary table created inside
    an open transaction on one thread, at half the speed. The table is dropped on leaving.
    """
    spec = source.csv
    assert spec is not None
    columns = spec.people_columns if kind == "people" else spec.event_columns
    began = time.perf_counter()
    readable = _utf8_copy(path, spec)
    try:
        _check_header(readable, path, spec, columns)
        lines_in, blank = _count_lines(readable, path, spec)
        counted = time.perf_counter()
        rows, rejects = _read(wh, readable, path, spec, columns, blank)
        logger.debug(
            "%s: counted %d lines in %.2f s, read in %.2f s",
            path.name,
            lines_in,
            counted - began,
            time.perf_counter() - counted,
        )
        yield CsvRead(source, path, kind, lines_in, rows, rejects)
    finally:
        if readable != path:
            readable.unlink(missing_ok=True)
        _drop_scratch(wh)


def _utf8_copy(path: Path, spec: CsvSpec) -> Path:
    """DuckDB reads UTF-8: a file declared in another encoding is transcoded to a temporary copy."""
    if spec.encoding.replace("-sig", "") == "utf-8":
        return path
    decoder = codecs.getincrementaldecoder(spec.encoding)()
    with (
        open_binary(path) as stream,
        tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False) as handle,
    ):
        first = True
        for block in iter(lambda: stream.read(READ_BLOCK), b""):
            if first:  # a UTF-8 byte-order mark some tools write before any encoding
                block, first = block.removeprefix(b"\xef\xbb\xbf"), False
            handle.write(decoder.decode(block).encode("utf-8"))
        handle.write(decoder.decode(b"", final=True).encode("utf-8"))
    return Path(handle.name)


def _check_header(
    readable: Path, path: Path, spec: CsvSpec, columns: dict[str, str | tuple[str, ...]]
) -> None:
    with open_binary(readable) as stream:
        first = stream.readline(1024 * 1024)
    if not first.strip():
        raise FileRefused(path, "the file is empty: it has no header row and no records", 1)
    try:
        text = first.decode("utf-8").lstrip("\ufeff").rstrip("\r\n")
    except UnicodeDecodeError as error:
        raise FileRefused(
            path,
            f"the header is not {spec.encoding} text (byte {error.start + 1}); "
            "if the partner writes Windows-1252, set encoding = "
            '"windows-1252" for this source in sources.toml',
            1,
        ) from error
    header = [h.strip().strip('"') for h in text.split(spec.delimiter)]
    expected = headers(columns)
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected] if spec.extra_columns == "refuse" else []
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected column(s) {', '.join(extra)}")
        raise FileRefused(
            path,
            f"the header has {' and '.join(parts)}; the source declares "
            f"{', '.join(expected)} (fix the file or the source's columns"
            + ('; extra_columns = "ignore" lets it leave columns unmapped' if extra else "")
            + ")",
            1,
        )


def _read(
    wh: Warehouse,
    readable: Path,
    path: Path,
    spec: CsvSpec,
    columns: dict[str, str | tuple[str, ...]],
    blank: list[int],
) -> tuple[ir.Table, pa.Table]:
    """Read the file once into a temporary table, as text, in file order, fields trimmed.

    Fields are trimmed and empty ones made NULL as they are read; the NHS number, which
    Modulus 11 reads ten times, is cleaned of spaces and dashes there too. A view over the
    table adds each row's line in the file (see ``_numbered``).
    """
    raw = wh.con.con
    name = SCRATCH
    fields = [f"{_trimmed(quoted(c))} AS {quoted(c)}" for c in headers(columns)]
    if "nhs_number" in columns:
        column = quoted(str(columns["nhs_number"]))
        fields.append(f"nullif(replace(replace(trim({column}), ' ', ''), '-', ''), '') AS _nhs")
    options = (
        f"all_varchar = true, header = true, delim = {_literal(spec.delimiter)}, "
        f"quote = '\"', strict_mode = true, store_rejects = true, "
        f"rejects_table = '{name}_rejects', rejects_scan = '{name}_scan', "
        f"null_padding = false, max_line_size = {MAX_CSV_LINE}"
    )
    try:
        raw.execute(
            f"CREATE OR REPLACE TEMP TABLE {name}_raw AS "
            f"SELECT {', '.join(fields)} FROM read_csv({_literal(str(readable))}, {options})"
        )
        rejects = raw.sql(
            f"SELECT line, column_name, error_type, csv_line, error_message FROM {name}_rejects "
            "ORDER BY line"
        ).to_arrow_table()
    except Exception as error:  # DuckDB's own errors: encoding, unreadable files
        raise FileRefused(path, _duckdb_message(str(error), spec)) from error
    raw.execute(f"CREATE OR REPLACE TEMP VIEW {name}_rows AS {_numbered(wh, name, rejects, blank)}")
    return wh.con.table(f"{name}_rows"), rejects


def _trimmed(column: str) -> str:
    """Spaces off both ends, and a field of spaces alone as NULL (an empty field already is).

    A field without them is passed on as it was read: DuckDB then keeps the string it
    read rather than writing a copy, which on a file of millions of rows is the difference
    between trimming for nothing and not.
    """
    return (
        f"CASE WHEN {column} LIKE ' %' OR {column} LIKE '% ' OR {column} = '' "
        f"THEN nullif(trim({column}), '') ELSE {column} END"
    )


def _numbered(wh: Warehouse, name: str, rejects: pa.Table, blank: list[int]) -> str:
    """The rows read, each with its line in the file, stepping over the lines DuckDB rejected
    and the blank lines it passed over.

    No window function numbers the rows: the table was written in the file's order (DuckDB
    preserves insertion order), so ``rowid`` less the first is a row's place among the rows
    read. Row ids inside a transaction start from a large base but are consecutive; if they
    ever are not, they are numbered in that order instead. A row after *k* rejected lines
    sits *k* lines further down: an as-of join with a small table of those steps (one row
    per rejected line) adds them, rather than a join with a table as long as the file.
    """
    raw = wh.con.con
    first, last, count = raw.execute(
        f"SELECT min(rowid), max(rowid), count(*) FROM {name}_raw"
    ).fetchone()
    place = f"rowid - {first or 0}"
    if count and last - first + 1 != count:
        place = "row_number() OVER (ORDER BY rowid) - 1"
    numbered = f"SELECT {place} AS _row, * FROM {name}_raw"
    rejected = sorted(set(rejects.column("line").to_pylist()) | set(blank))
    if not rejected:
        return f"SELECT *, _row + 2 AS line FROM ({numbered})"
    # The j-th rejected line (from 0) is passed over by every row read from place
    # line - 2 - j on; rows at the same place step over all the rejected lines before them.
    steps: dict[int, int] = {}
    for j, line in enumerate(rejected):
        steps[line - 2 - j] = j + 1
    wh.con.create_table(
        f"{name}_steps",
        pa.table({"start": list(steps), "step": list(steps.values())}),
        temp=True,
        overwrite=True,
    )
    return (
        f"SELECT n.*, n._row + 2 + coalesce(s.step, 0) AS line FROM ({numbered}) AS n "
        f"ASOF LEFT JOIN {name}_steps AS s ON n._row >= s.start"
    )


def _drop_scratch(wh: Warehouse) -> None:
    """The file's temporary tables go as soon as it is loaded: an ICS has many files."""
    name = SCRATCH
    for suffix, kind in (
        ("_rows", "VIEW"),
        ("_steps", "TABLE"),
        ("_raw", "TABLE"),
        ("_rejects", "TABLE"),
        ("_scan", "TABLE"),
    ):
        wh.con.con.execute(f"DROP {kind} IF EXISTS {name}{suffix}")


# A connection loads one file at a time and its temporary tables are its own, so one name
# serves every file; the SQL that reads them can then be compiled once and kept.
SCRATCH = "csv_scratch"


def quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


MAX_CSV_LINE = 16 * 1024 * 1024


def _duckdb_message(message: str, spec: CsvSpec) -> str:
    first = message.splitlines()[0] if message else "unreadable"
    if "sniffing" in message.lower():  # its message lists the encoding it tried, too
        return (
            "DuckDB could not work out how the file's rows are laid out: check that every "
            "line ends the same way (not some with CR LF and some with LF alone) and that "
            f"fields are separated by {spec.delimiter!r}, as the source declares"
        )
    if "unicode" in message.lower() or "utf" in message.lower():
        return (
            f"the file is not valid {spec.encoding} text ({first}); if the partner writes "
            'Windows-1252, set encoding = "windows-1252" for this source in sources.toml'
        )
    return f"DuckDB could not read the file: {first}"


def _count_lines(readable: Path, path: Path, spec: CsvSpec) -> tuple[int, list[int]]:
    """Data lines (every non-blank line after the header), checking the text is UTF-8, and
    the numbers of the blank lines (which DuckDB passes over)."""
    newlines = 0
    blank: list[int] = []
    tail, last = b"", b""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open_binary(readable) as stream:
        for block in iter(lambda: stream.read(READ_BLOCK), b""):
            try:
                # ASCII is UTF-8: only a block with other bytes, or after one that ended
                # inside a character, needs decoding to check it.
                if not block.isascii() or decoder.getstate()[0]:
                    decoder.decode(block)
            except UnicodeDecodeError as error:
                line = newlines + block[: error.start].count(b"\n") + 1
                raise FileRefused(
                    path,
                    f"the text is not valid {spec.encoding} (byte "
                    f"0x{block[error.start]:02X}); if the partner writes "
                    'Windows-1252, set encoding = "windows-1252" for this '
                    "source in sources.toml",
                    line,
                ) from error
            found, blanks = _newlines(tail, block, newlines)
            newlines += found
            blank += blanks
            tail, last = (tail + block)[-2:], block[-1:]
    open_end = 1 if last and last != b"\n" else 0
    return max(newlines + open_end - len(blank) - 1, 0), blank


def _newlines(tail: bytes, block: bytes, before: int) -> tuple[int, list[int]]:
    """The newlines in ``block``, and the lines (from 1) they end that are blank: nothing
    before the newline but perhaps a carriage return. ``tail`` is the two bytes before the
    block, ``before`` the newlines before it. NumPy finds them at memory speed."""
    joined = np.frombuffer(tail + block, dtype=np.uint8)
    ends = np.flatnonzero(joined == ord("\n"))
    ends = ends[ends >= len(tail)]  # this block's newlines, in order
    previous = joined[np.maximum(ends - 1, 0)]
    blank = (ends >= 1) & (previous == ord("\n"))
    blank |= (ends >= 2) & (previous == ord("\r")) & (joined[np.maximum(ends - 2, 0)] == ord("\n"))
    return len(ends), [int(n) for n in before + np.flatnonzero(blank) + 1]


def quarantine_rejects(
    wh: Warehouse, source: Source, path: Path, file_id: int, rejects: pa.Table
) -> int:
    if rejects.num_rows == 0:
        return 0
    lines = rejects.column("line").to_pylist()
    reasons = [
        _reject_reason(t, m)
        for t, m in zip(
            rejects.column("error_type").to_pylist(),
            rejects.column("error_message").to_pylist(),
            strict=True,
        )
    ]
    first_of_line: dict[int, int] = {}
    for i, line in enumerate(lines):
        first_of_line.setdefault(line, i)
    keep = sorted(first_of_line.values())
    wh.append_rows(
        "quarantine",
        {
            "source_id": [source.id] * len(keep),
            "file_id": [file_id] * len(keep),
            "path": [str(path)] * len(keep),
            "line": [lines[i] for i in keep],
            "field": [rejects.column("column_name")[i].as_py() or "" for i in keep],
            "reason": [reasons[i] for i in keep],
            "raw": [
                (rejects.column("csv_line")[i].as_py() or "").strip("\r\n")[:4096] for i in keep
            ],
        },
    )
    return len(keep)


def _reject_reason(error_type: str, message: str) -> str:
    if error_type == "TOO MANY COLUMNS":
        return "the row has more fields than the header: a stray delimiter, or a field not quoted"
    if error_type == "MISSING COLUMNS":
        return "the row has fewer fields than the header"
    if error_type == "LINE SIZE OVER MAXIMUM":
        return f"the row is longer than {MAX_CSV_LINE // 2**20} MB"
    if error_type == "UNQUOTED VALUE":
        return "a quote inside a field is not escaped"
    return f"the row could not be read: {message.splitlines()[0] if message else error_type}"
