"""Reference files: organisations (ODS), a postcode directory, the national data opt-out,
and partners' workforce extracts (the workforce map, loaded whole or refused).

Small files, read whole with the standard library. Like partners' extracts, every row
is accounted for: a row that cannot be used is quarantined with its line and a reason.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neighbourhood.capacity import workforce
from neighbourhood.ingest.files import FileRefused, open_binary
from neighbourhood.standards import nhs_number
from neighbourhood.warehouse import Warehouse

MAX_REFERENCE_BYTES = 512 * 1024 * 1024
# The shape of a UK postcode, spaces removed (BS 7666); ``ZZ99`` pseudo-postcodes too.
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")


@dataclass
class Loaded:
    records_in: int = 0
    rows: dict[str, list[Any]] = field(default_factory=dict)
    # line, field, reason and raw text of each row that could not be used
    quarantine: list[tuple[int, str, str, str]] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.records_in - len(self.quarantine)


KINDS = {
    "organisations-csv": "organisations",
    "postcodes-csv": "postcodes",
    "opt-outs-csv": "opt_outs",
    **dict.fromkeys(workforce.FORMATS, "workforce"),
}


def load_reference(
    wh: Warehouse, source_id: str, path: Path, fmt: str, file_id: int, sector: str = ""
) -> Loaded:
    """Validate and load one reference file; what was loaded and quarantined is returned."""
    header, rows = read_table(path)
    if fmt in workforce.FORMATS:
        staff = workforce.parse(path, fmt, header, rows, sector)
        loaded = Loaded(len(rows), staff | {"source_id": [source_id] * len(rows)})
    else:
        loaded = _CHECKS[fmt](path, header, rows)
    table = KINDS[fmt]
    if loaded.accepted:
        wh.append_rows(table, loaded.rows | {"file_id": [file_id] * loaded.accepted})
    if loaded.quarantine:
        wh.append_rows(
            "quarantine",
            {
                "source_id": [source_id] * len(loaded.quarantine),
                "file_id": [file_id] * len(loaded.quarantine),
                "path": [str(path)] * len(loaded.quarantine),
                "line": [q[0] for q in loaded.quarantine],
                "field": [q[1] for q in loaded.quarantine],
                "reason": [q[2] for q in loaded.quarantine],
                "raw": [q[3][:4096] for q in loaded.quarantine],
            },
        )
    return loaded


def read_table(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """A small CSV file's header and its non-blank rows with their line numbers."""
    with open_binary(path) as stream:
        data = stream.read(MAX_REFERENCE_BYTES + 1)
    if len(data) > MAX_REFERENCE_BYTES:
        raise FileRefused(path, f"the file is over {MAX_REFERENCE_BYTES // 2**20} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FileRefused(path, "the text is not valid UTF-8", line) from error
    reader = csv.reader(io.StringIO(text))
    rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    if not rows:
        raise FileRefused(path, "the file is empty: it has no header row and no records", 1)
    _, header = rows[0]
    return [h.strip() for h in header], rows[1:]


def _require(path: Path, header: list[str], needed: tuple[str, ...]) -> dict[str, int]:
    missing = [c for c in needed if c not in header]
    if missing:
        raise FileRefused(
            path,
            f"the header lacks {', '.join(missing)} (it has {', '.join(header) or 'nothing'})",
            1,
        )
    return {c: header.index(c) for c in header}


def _cells(row: list[str], where: dict[str, int]) -> dict[str, str]:
    return {c: row[i].strip() if i < len(row) else "" for c, i in where.items()}


def _organisations(path: Path, header: list[str], rows: list[tuple[int, list[str]]]) -> Loaded:
    where = _require(path, header, ("ods_code", "name", "kind"))
    out = Loaded(len(rows), {k: [] for k in ("ods_code", "name", "kind", "parent", "place")})
    for line, row in rows:
        cells = _cells(row, where)
        if not cells["ods_code"]:
            out.quarantine.append((line, "ods_code", "the ODS code is empty", ",".join(row)))
            continue
        for key in out.rows:
            out.rows[key].append(cells.get(key) or None)
    return out


def _postcodes(path: Path, header: list[str], rows: list[tuple[int, list[str]]]) -> Loaded:
    where = _require(path, header, ("postcode", "lsoa", "imd_decile"))
    out = Loaded(len(rows), {"postcode": [], "lsoa": [], "imd_decile": []})
    for line, row in rows:
        cells = _cells(row, where)
        postcode = cells["postcode"].upper().replace(" ", "")
        decile = cells["imd_decile"]
        if not POSTCODE.match(postcode):
            problem = ("postcode", f"'{cells['postcode']}' is not a UK postcode")
        elif not cells["lsoa"]:
            problem = ("lsoa", "the LSOA code is empty")
        elif not decile.isdigit() or not 1 <= int(decile) <= 10:
            problem = ("imd_decile", f"IMD decile '{decile}' is not a whole number from 1 to 10")
        else:
            out.rows["postcode"].append(postcode)
            out.rows["lsoa"].append(cells["lsoa"])
            out.rows["imd_decile"].append(int(decile))
            continue
        out.quarantine.append((line, *problem, ",".join(row)))
    return out


def _opt_outs(path: Path, header: list[str], rows: list[tuple[int, list[str]]]) -> Loaded:
    where = _require(path, header, ("nhs_number",))
    out = Loaded(len(rows), {"nhs_number": []})
    for line, row in rows:
        raw = _cells(row, where)["nhs_number"]
        if nhs_number.is_valid(raw):
            out.rows["nhs_number"].append(nhs_number.normalise(raw))
        else:
            # Never kept in the clear beyond the warehouse's own quarantine.
            out.quarantine.append(
                (line, "nhs_number", "the NHS number fails its Modulus 11 check digit", raw)
            )
    return out


_CHECKS: dict[str, Callable[[Path, list[str], list[tuple[int, list[str]]]], Loaded]] = {
    "organisations-csv": _organisations,
    "postcodes-csv": _postcodes,
    "opt-outs-csv": _opt_outs,
}
