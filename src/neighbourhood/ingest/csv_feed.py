"""CSV extracts into source records and events, validated in DuckDB through Ibis.

DuckDB reads the file once into a temporary table, before the file's transaction opens
(rows it cannot split into the declared columns become its *rejects*, quarantined with
their line and raw text). Then, inside the transaction, one INSERT takes the usable rows
and one the unusable, each an Ibis expression over the whole file: NHS numbers checked
(Modulus 11), dates parsed (each feed's declared format), SNOMED CT codes checked
(Verhoeff, once per distinct code). The counts come from the INSERTs.
"""

from __future__ import annotations

import codecs
import datetime as dt
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from neighbourhood.costs import cost_of, unit_costs
from neighbourhood.ingest.files import READ_BLOCK, FileRefused, open_binary
from neighbourhood.ingest.registry import CsvSpec, Source, headers
from neighbourhood.standards import snomed
from neighbourhood.warehouse import Warehouse

logger = logging.getLogger(__name__)
SETTINGS = {
    "community": "community",
    "mental_health": "community mental health",
    "social_care": "social care",
    "public_health": "public health",
    "vcfse": "community",
}
ROLE_LABELS = {"dob": "date of birth", "date": "date", "end_date": "end date"}


@ibis.udf.scalar.builtin
def try_strptime(value: str, fmt: str) -> dt.datetime:  # type: ignore[empty-body]
    """DuckDB's strptime that gives NULL, not an error, for a string that is not a date."""


@dataclass
class CsvAccount:
    records_in: int
    accepted: int
    quarantined: int
    flagged: int


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


def ingest_csv(wh: Warehouse, read: CsvRead, file_id: int) -> CsvAccount:
    """One file read: one INSERT of the usable rows and one of the unusable.

    The counts come from the INSERTs themselves, and are checked against the file's own
    line count, taken independently of DuckDB.
    """
    began = time.perf_counter()
    source, path, spec = read.source, read.path, read.source.csv
    assert spec is not None
    load = _people if read.kind == "people" else _events
    accepted, quarantined = load(wh, source, spec, read.rows, file_id, path)
    quarantined += _quarantine_rejects(wh, source, path, file_id, read.rejects)
    flagged = _flagged(wh, "source_records" if read.kind == "people" else "events", file_id)
    logger.debug("%s: validated and loaded in %.2f s", path.name, time.perf_counter() - began)
    if accepted + quarantined != read.lines_in:
        raise RuntimeError(
            f"{path}: {read.lines_in} rows in but {accepted} accepted and {quarantined} "
            "quarantined: a bug in ingest, please report it"
        )
    return CsvAccount(read.lines_in, accepted, quarantined, flagged)


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
    fields = [f"{_trimmed(_quoted(c))} AS {_quoted(c)}" for c in headers(columns)]
    if "nhs_number" in columns:
        column = _quoted(str(columns["nhs_number"]))
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


def _quoted(identifier: str) -> str:
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


def _quarantine_rejects(
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


def _col(table: ir.Table, columns: dict[str, str | tuple[str, ...]], role: str) -> ir.StringValue:
    if role not in columns:
        return ibis.null().cast("string")
    column = columns[role]
    if isinstance(column, str):
        return table[column]  # trimmed, empty as NULL, by _read
    # Several columns (an address): the parts sent, joined, missing parts left out.
    return ibis.literal(", ").join([table[c] for c in column]).nullif("")


def _date(value: ir.StringValue, fmt: str) -> ir.DateValue:
    return try_strptime(value, fmt).cast("date")


def _bad_date_flag(
    value: ir.StringValue, parsed: ir.DateValue, role: str, fmt: str
) -> ir.StringValue:
    label = ROLE_LABELS.get(role, role)
    human = _human_format(fmt)
    return ibis.ifelse(
        value.notnull() & parsed.isnull(),
        ibis.literal(f"{label} '") + value + f"' is not a date ({human})",
        ibis.null().cast("string"),
    )


def nhs_number_valid(value: ir.StringValue) -> ir.BooleanValue:
    """Modulus 11 in SQL: ten digits whose last is 11 - (weighted sum mod 11), 11 read as 0."""
    digit = [value.substr(i, 1).try_cast("int64") for i in range(10)]
    total = sum((10 - i) * digit[i] for i in range(9))
    check = (11 - total % 11) % 11
    return value.re_search(r"^\d{10}$") & (check != 10) & (check == digit[9])


def _people(
    wh: Warehouse,
    source: Source,
    spec: CsvSpec,
    rows: ir.Table,
    file_id: int,
    path: Path,
) -> tuple[int, int]:
    """Rows with a local identifier become source records; the rest are quarantined."""
    c = spec.people_columns
    given = {"source_id": source.id, "file_id": file_id}
    shape = ("people", repr(spec))

    def unusable(t: ir.Table) -> ir.BooleanValue:
        return _col(t, c, "local_id").isnull()

    quarantined = _quarantine_rows(
        wh,
        shape,
        given | {"path": str(path)},
        spec,
        c,
        lambda: (
            rows.filter(unusable(rows)),
            ibis.literal(str(c["local_id"])),
            ibis.literal("the row has no local identifier, so no event could ever be joined to it"),
        ),
    )
    accepted = _insert(
        wh, "source_records", shape, given, lambda: _people_rows(spec, rows.filter(~unusable(rows)))
    )
    return accepted, quarantined


def _people_rows(spec: CsvSpec, usable: ir.Table) -> ir.Table:
    """Usable rows as source records: NHS number checked, date of birth parsed, sex named."""
    c = spec.people_columns
    number = usable._nhs if "nhs_number" in c else ibis.null().cast("string")
    valid = nhs_number_valid(number.fill_null(""))
    # Named once: DuckDB computes the Modulus 11 sum once for the three uses below.
    t = usable.mutate(
        _nhs_status=ibis.cases((number.isnull(), "missing"), (valid, "valid"), else_="invalid")
    )
    raw_number = t._nhs if "nhs_number" in c else ibis.null().cast("string")
    dob_text = _col(t, c, "dob")
    dob = _date(dob_text, spec.date_format)
    full = _col(t, c, "full_name")
    given = _col(t, c, "given") if "given" in c else full.re_extract(r"^(\S+)", 1)
    family = _col(t, c, "family") if "family" in c else full.re_extract(r"(\S+)$", 1)
    sex_raw = _col(t, c, "sex")
    sex = (
        ibis.cases(
            (sex_raw == spec.sex_codes["male"], "male"),
            (sex_raw == spec.sex_codes["female"], "female"),
            else_=sex_raw,
        )
        if "sex" in c
        else ibis.null().cast("string")
    )
    status = t._nhs_status
    flags = ibis.coalesce(
        _bad_date_flag(dob_text, dob, "dob", spec.date_format),
        ibis.ifelse(
            status == "invalid",
            "nhs_number: fails its Modulus 11 check digit",
            ibis.null().cast("string"),
        ),
    )
    return t.select(
        line=t.line,
        record_key=_col(t, c, "local_id"),
        nhs_number=ibis.ifelse(status == "valid", raw_number, None),
        nhs_number_raw=raw_number,
        nhs_number_status=status,
        given_name=given,
        family_name=family,
        date_of_birth=dob,
        sex=sex,
        postcode=_col(t, c, "postcode").upper(),
        address=_col(t, c, "address"),
        ethnicity=_col(t, c, "ethnicity"),
        practice_ods=_col(t, c, "practice"),
        date_of_death=ibis.null().cast("date"),
        flags=flags,
        house_number=_col(t, c, "house_number"),
        street=_col(t, c, "street"),
        locality=_col(t, c, "locality"),
    )


# Compiled SQL, by everything that shapes it: the kind of file, its source's declaration
# (columns, formats, codes), and what the file's own codes are. Values that differ from file
# to file (source, file id, path) are bound as parameters, so a feed's next extract, or a
# partner sending the same layout, reuses the SQL rather than compiling it again.
_COMPILED: dict[tuple[object, ...], str] = {}


def _insert(
    wh: Warehouse,
    table: str,
    shape: tuple[object, ...],
    given: dict[str, object],
    build: Callable[[], ir.Table],
) -> int:
    key = (table, *shape)
    sql = _COMPILED.get(key)
    if sql is None:
        sql = _COMPILED[key] = wh.compile_rows(table, build(), given)
    return wh.insert_compiled(table, sql, given)


def _flagged(wh: Warehouse, name: str, file_id: int) -> int:
    """Rows of the file accepted with a field flagged (the file's row groups alone are read)."""
    found = wh.con.con.execute(
        f'SELECT count(*) FROM "{name}" WHERE file_id = ? AND flags IS NOT NULL', [file_id]
    ).fetchone()
    return int(found[0]) if found else 0


def _raw(t: ir.Table, columns: dict[str, str | tuple[str, ...]], spec: CsvSpec) -> ir.StringValue:
    parts = [t[name].fill_null("") for name in headers(columns)]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + spec.delimiter + part
    return joined


def _quarantine_rows(
    wh: Warehouse,
    shape: tuple[object, ...],
    given: dict[str, object],
    spec: CsvSpec,
    columns: dict[str, str | tuple[str, ...]],
    build: Callable[[], tuple[ir.Table, ir.StringValue, ir.StringValue]],
) -> int:
    """Quarantine the rows ``build`` gives (as read, with their lines), with the field at
    fault, the reason, and the text the partner sent."""

    def shaped() -> ir.Table:
        rows, field, reason = build()
        return rows.select(
            line=rows.line, field=field, reason=reason, raw=_raw(rows, columns, spec)
        )

    return _insert(wh, "quarantine", shape, given, shaped)


def _events(
    wh: Warehouse,
    source: Source,
    spec: CsvSpec,
    rows: ir.Table,
    file_id: int,
    path: Path,
) -> tuple[int, int]:
    """Rows with a local identifier and a date become events; the rest are quarantined."""
    c = spec.event_columns
    fmt = spec.event_date_format
    date_label = str(c["date"])

    def usable(t: ir.Table) -> ir.BooleanValue:
        return _col(t, c, "local_id").notnull() & _date(_col(t, c, "date"), fmt).notnull()

    def quarantined_rows() -> tuple[ir.Table, ir.StringValue, ir.StringValue]:
        bad = rows.filter(~usable(rows))
        no_key = _col(bad, c, "local_id").isnull()
        date_text = _col(bad, c, "date")
        return (
            bad,
            ibis.ifelse(no_key, str(c["local_id"]), date_label),
            ibis.cases(
                (no_key, "the row has no local identifier, so nobody's record it is"),
                (
                    date_text.isnull(),
                    f"{date_label} is empty: the event has no place on the timeline",
                ),
                else_=ibis.literal(f"{date_label} '")
                + date_text
                + f"' is not a date ({_human_format(fmt)})",
            ),
        )

    given = {"source_id": source.id, "file_id": file_id, "sector": source.sector}
    shape = ("events", repr(spec), source.sector)
    quarantined = _quarantine_rows(
        wh,
        shape,
        {"source_id": source.id, "file_id": file_id, "path": str(path)},
        spec,
        c,
        quarantined_rows,
    )
    codes = _code_statuses(wh, c)
    accepted = _insert(
        wh,
        "events",
        (*shape, tuple(sorted(codes.items()))),
        given,
        lambda: _event_rows(source, spec, rows.filter(usable(rows)), codes),
    )
    return accepted, quarantined


def _human_format(fmt: str) -> str:
    return fmt.replace("%d", "dd").replace("%m", "mm").replace("%Y", "yyyy").replace("%y", "yy")


def _event_rows(source: Source, spec: CsvSpec, t: ir.Table, codes: dict[str, str]) -> ir.Table:
    """Usable rows as events: activity named, code checked, costed, odd fields flagged."""
    c = spec.event_columns
    end_text = _col(t, c, "end_date")
    start = _date(_col(t, c, "date"), spec.event_date_format)
    end = _date(end_text, spec.event_date_format)
    label = _col(t, c, spec.activity_role)
    known = ibis.literal(spec.activities, type="map<string, string>")
    activity = ibis.coalesce(known.get(label.fill_null("")), ibis.literal("unknown"))
    hours = _col(t, c, "hours").try_cast("float64")
    value = _col(t, c, "value").try_cast("float64")
    flags = ibis.coalesce(
        _bad_date_flag(end_text, end, "end_date", spec.event_date_format),
        ibis.ifelse(
            activity == "unknown",
            ibis.literal("activity '")
            + label.fill_null("")
            + "' is not in the source's activities",
            ibis.null().cast("string"),
        ),
    )
    shaped = t.select(
        line=t.line,
        event_key=_col(t, c, "event_id"),
        record_key=_col(t, c, "local_id"),
        setting=ibis.coalesce(
            _col(t, c, "detail"), ibis.literal(SETTINGS.get(source.sector, source.sector))
        ),
        activity=activity,
        start_date=start,
        end_date=end,
        code=_col(t, c, "code"),
        value=ibis.coalesce(value, hours),
        unit=ibis.coalesce(_col(t, c, "unit"), ibis.ifelse(hours.notnull(), "hours a week", None)),
        flags=flags,
    )
    # A map, not a join: a join's output has no order, so DuckDB would insert it on one thread.
    statuses = ibis.literal(codes, type="map<string, string>")
    return shaped.mutate(
        code_status=ibis.ifelse(
            shaped.code.isnull(), "none", statuses.get(shaped.code.fill_null(""), "invalid")
        ),
        cost_gbp=_cost(shaped.activity, shaped.start_date, shaped.end_date, shaped.value),
    )


def _code_statuses(wh: Warehouse, c: dict[str, str | tuple[str, ...]]) -> dict[str, str]:
    """Verhoeff, computed once per distinct code of the file rather than once per row."""
    if "code" not in c:
        return {}
    distinct = wh.con.con.execute(f"SELECT DISTINCT {_quoted(str(c['code']))} FROM {SCRATCH}_raw")
    codes = [x for (x,) in distinct.fetchall() if isinstance(x, str)]
    return {x: "valid" if snomed.is_valid_sctid(x) else "invalid" for x in codes}


def _cost(
    activity: ir.StringValue, start: ir.DateValue, end: ir.DateValue, value: ir.FloatingValue
) -> ir.FloatingValue:
    """Unit costs by activity; a home care package costs its hours a week for its weeks."""
    weeks = (end.delta(start, unit="day").cast("float64") / 7).fill_null(0)
    branches = [(activity == "home_care_package", value * cost_of("home_care_hour") * weeks)]
    branches += [
        (activity == name, ibis.literal(u.cost_gbp))
        for name, u in unit_costs().items()
        if name != "home_care_hour"
    ]
    return ibis.cases(*branches, else_=ibis.null().cast("float64"))
