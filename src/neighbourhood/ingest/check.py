"""``neighbourhood sources check SOURCE``: a feed's declaration tried against its files
before anything is ingested, naming each mismatch with its file, line, column and what
was expected.

The files are read exactly as ingest reads them (the same header check, encoding, row
splitting and date formats), into a scratch database in memory: the warehouse is not
touched. A mismatch that would make ingest refuse a file is an error; one that would flag
or quarantine some records is a warning, listed with the first lines it is on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import ibis

from neighbourhood.errors import UserError
from neighbourhood.ingest.csv_read import SCRATCH, CsvRead, read_csv_file
from neighbourhood.ingest.files import FileRefused
from neighbourhood.registry import CsvSpec, Source
from neighbourhood.warehouse import Warehouse

SHOWN_LINES = 5  # lines named for each kind of mismatch; the count says how many in all


@dataclass
class Mismatch:
    file: str
    line: int | None
    column: str
    problem: str
    count: int = 1
    refuses_file: bool = False

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class FileCheck:
    path: str
    kind: str
    rows: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return any(m.refuses_file for m in self.mismatches)


def check_source(source: Source, data_dir: Path) -> list[FileCheck]:
    """Every file of a CSV feed tried against its declaration."""
    if source.csv is None:
        raise UserError(
            f"source '{source.id}' is {source.format}: 'sources check' tries CSV declarations; "
            "FHIR files are checked resource by resource as they are ingested"
        )
    location = source.location(data_dir)
    files = [(source.csv.people_file, "people")]
    if source.csv.has_events:
        files.append((source.csv.events_file, "events"))
    wh = Warehouse(ibis.duckdb.connect(), Path(":memory:"))
    try:
        return [_check_file(wh, source, location / name, kind) for name, kind in files]
    finally:
        wh.con.disconnect()


def _check_file(wh: Warehouse, source: Source, path: Path, kind: str) -> FileCheck:
    result = FileCheck(str(path), kind)
    if not path.exists():
        result.mismatches.append(
            Mismatch(path.name, None, "", "the file does not exist", refuses_file=True)
        )
        return result
    try:
        with read_csv_file(wh, source, path, kind) as read:
            result.rows = read.lines_in
            result.mismatches += _rejected_rows(read)
            spec = source.csv
            assert spec is not None
            checks = _people_checks(spec) if kind == "people" else _event_checks(spec)
            for column, test, problem in checks:
                result.mismatches += _failing(wh, path.name, column, test, problem)
    except FileRefused as refused:
        message = str(refused).split(": ", 1)[-1]
        result.mismatches.append(Mismatch(path.name, refused.line, "", message, refuses_file=True))
    return result


def _rejected_rows(read: CsvRead) -> list[Mismatch]:
    """Rows DuckDB could not split into the header's columns (quarantined by ingest)."""
    rejects = read.rejects
    lines = sorted(set(rejects.column("line").to_pylist()))
    if not lines:
        return []
    return [
        Mismatch(
            read.path.name,
            line,
            "",
            "the row has a different number of fields from the header (quarantined at ingest)",
            count=len(lines),
        )
        for line in lines[:SHOWN_LINES]
    ]


def _people_checks(spec: CsvSpec) -> list[tuple[str, str, str]]:
    c = spec.people_columns
    out = [_required(c["local_id"], "every record needs its local identifier")]
    if "dob" in c:
        out.append(_date_check(str(c["dob"]), spec.date_format, "date of birth"))
    if "nhs_number" in c:
        out.append(
            (
                str(c["nhs_number"]),
                "_nhs IS NOT NULL AND NOT regexp_full_match(_nhs, '[0-9]{10}')",
                "not ten digits (spaces and dashes allowed); ingest flags it as invalid",
            )
        )
    if "sex" in c:
        codes = ", ".join(f"'{v}'" for v in spec.sex_codes.values())
        out.append(
            (
                str(c["sex"]),
                f"{_q(c['sex'])} IS NOT NULL AND {_q(c['sex'])} NOT IN ({codes})",
                f"not one of the declared sex codes ({', '.join(spec.sex_codes.values())}); "
                "kept as sent",
            )
        )
    return out


def _event_checks(spec: CsvSpec) -> list[tuple[str, str, str]]:
    c = spec.event_columns
    out = [
        _required(c["local_id"], "an event needs the local identifier of its person"),
        _date_check(str(c["date"]), spec.event_date_format, "date", quarantined=True),
    ]
    if "end_date" in c:
        out.append(_date_check(str(c["end_date"]), spec.event_date_format, "end date"))
    role = spec.activity_role
    if role in c and spec.activities:
        labels = ", ".join("'" + k.replace("'", "''") + "'" for k in spec.activities)
        out.append(
            (
                str(c[role]),
                f"{_q(c[role])} IS NOT NULL AND {_q(c[role])} NOT IN ({labels})",
                "not one of the source's activities; ingest flags the event as 'unknown'",
            )
        )
    return out


def _required(column: str | tuple[str, ...], why: str) -> tuple[str, str, str]:
    return str(column), f"{_q(column)} IS NULL", f"empty: {why} (quarantined at ingest)"


def _date_check(
    column: str, fmt: str, label: str, quarantined: bool = False
) -> tuple[str, str, str]:
    human = fmt.replace("%d", "dd").replace("%m", "mm").replace("%Y", "yyyy").replace("%y", "yy")
    fate = "the row is quarantined at ingest" if quarantined else "ingest flags the field"
    literal = "'" + fmt.replace("'", "''") + "'"
    test = f"{_q(column)} IS NOT NULL AND try_strptime({_q(column)}, {literal}) IS NULL"
    if quarantined:
        test = f"({_q(column)} IS NULL OR try_strptime({_q(column)}, {literal}) IS NULL)"
    return column, test, f"the {label} is not a date in the declared format {human}; {fate}"


def _failing(wh: Warehouse, file: str, column: str, test: str, problem: str) -> list[Mismatch]:
    rows = wh.con.con.execute(
        f"SELECT line, count(*) OVER () FROM {SCRATCH}_rows WHERE {test} ORDER BY line "
        f"LIMIT {SHOWN_LINES}"
    ).fetchall()
    return [Mismatch(file, int(line), column, problem, count=int(n)) for line, n in rows]


def _q(column: str | tuple[str, ...]) -> str:
    return '"' + str(column).replace('"', '""') + '"'
