"""Reference files: a postcode directory and the national data opt-out, row by row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from neighbourhood import registry
from neighbourhood.ingest.run import ingest
from neighbourhood.registry import Source
from tests.support.handmade import AGREEMENT


def reference(data: Path, fmt: str, name: str, content: bytes) -> None:
    (data / "ref").mkdir(parents=True, exist_ok=True)
    (data / "ref" / name).write_bytes(content)
    sector = "national" if fmt == "opt-outs-csv" else "reference"
    registry.save(data, [Source("ref", "ZZ0", "Reference", sector, fmt, f"ref/{name}", AGREEMENT)])


def rows(data: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_postcode_directory_loads_and_quarantines_rows_it_cannot_use(tmp_path: Path) -> None:
    reference(
        tmp_path,
        "postcodes-csv",
        "postcodes.csv",
        b"postcode,lsoa,imd_decile\r\nQA1 1WG,E01900001,8\r\nnot one,E01900002,3\r\n"
        b"\r\nQA2 2AB,E01900003,11\r\nqa3 3cd,E01900004,1\r\n",
    )
    (account,) = ingest(tmp_path, workers=1, today=dt.date(2026, 11, 24)).files
    assert (account.records_in, account.accepted, account.quarantined) == (4, 2, 2)
    assert rows(tmp_path, "SELECT postcode, lsoa, imd_decile FROM postcodes ORDER BY 1") == [
        ("QA11WG", "E01900001", 8),
        ("QA33CD", "E01900004", 1),
    ]
    assert rows(tmp_path, "SELECT line, field, reason FROM quarantine ORDER BY line") == [
        (3, "postcode", "'not one' is not a UK postcode"),
        (5, "imd_decile", "IMD decile '11' is not a whole number from 1 to 10"),
    ]


def test_the_opt_out_list_keeps_valid_nhs_numbers_only(tmp_path: Path) -> None:
    reference(
        tmp_path,
        "opt-outs-csv",
        "opt_out.csv",
        b"nhs_number\r\n943 476 5919\r\n9434765918\r\n",
    )
    (account,) = ingest(tmp_path, workers=1, today=dt.date(2026, 11, 24)).files
    assert (account.accepted, account.quarantined) == (1, 1)
    assert rows(tmp_path, "SELECT nhs_number FROM opt_outs") == [("9434765919",)]
    assert rows(tmp_path, "SELECT line, reason FROM quarantine") == [
        (3, "the NHS number fails its Modulus 11 check digit")
    ]


def test_a_reference_file_without_its_columns_is_refused(tmp_path: Path) -> None:
    reference(tmp_path, "postcodes-csv", "postcodes.csv", b"pcd,lsoa\r\nQA1 1WG,E01\r\n")
    (account,) = ingest(tmp_path, workers=1, today=dt.date(2026, 11, 24)).files
    assert account.status == "refused"
    assert (
        "line 1" in account.message and "the header lacks postcode, imd_decile" in account.message
    )
    assert rows(tmp_path, "SELECT count(*) FROM postcodes") == [(0,)]
