"""A partner's own CSV, declared as it is: columns left unmapped, an address in several
columns, a feed of people alone, and a check of the declaration before any ingest."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import duckdb
import pytest

from neighbourhood import registry
from neighbourhood.errors import InvalidOptionsError
from neighbourhood.ingest.check import check_source
from neighbourhood.ingest.run import ingest
from tests.support.handmade import SPEC, csv_source

PEOPLE = (
    b"ID,First,Last,DOB,No,Road,Town,Postcode,Keyworker\r\n"
    b"A1,Ann,Jones,04/03/1950,12,Acacia Rd,Ashcombe,QA1 2AB,Sam\r\n"
    b"A2,Bob,Smith,1950-02-03,,Mill Lane,,QB4 9XY,Sam\r\n"
    b",Cat,Lee,05/05/1960,3,High St,Bramwell,QA1 5DE,Jo\r\n"
)
OWN = dataclasses.replace(
    SPEC,
    events_file="",
    event_columns={},
    people_columns={
        "local_id": "ID",
        "given": "First",
        "family": "Last",
        "dob": "DOB",
        "house_number": "No",
        "street": "Road",
        "locality": "Town",
        "address": ("No", "Road", "Town"),
        "postcode": "Postcode",
    },
    extra_columns="ignore",
)


def test_a_person_only_feed_with_unmapped_columns_and_a_built_address_loads(
    tmp_path: Path,
) -> None:
    csv_source(tmp_path, PEOPLE, b"", OWN)
    assert registry.load(tmp_path)[0].csv == OWN  # the list of address columns round-trips
    report = ingest(tmp_path, workers=1, today=dt.date(2026, 11, 24))
    assert [(f.kind, f.accepted, f.quarantined) for f in report.files] == [("people", 2, 1)]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        rows = con.sql(
            "SELECT record_key, address, house_number, street, locality, flags "
            "FROM source_records ORDER BY record_key"
        ).fetchall()
    assert rows == [
        ("A1", "12, Acacia Rd, Ashcombe", "12", "Acacia Rd", "Ashcombe", None),
        (
            "A2",
            "Mill Lane",
            None,
            "Mill Lane",
            None,
            "date of birth '1950-02-03' is not a date (dd/mm/yyyy)",
        ),
    ]


def test_without_ignore_an_unmapped_column_refuses_the_file_and_says_how_to_allow_it(
    tmp_path: Path,
) -> None:
    csv_source(tmp_path, PEOPLE, b"", dataclasses.replace(OWN, extra_columns="refuse"))
    (source,) = registry.load(tmp_path)
    (people,) = check_source(source, tmp_path)
    assert people.refused
    (mismatch,) = people.mismatches
    assert (mismatch.file, mismatch.line) == ("people.csv", 1)
    assert "unexpected column(s) Keyworker" in mismatch.problem
    assert 'extra_columns = "ignore"' in mismatch.problem


def test_the_check_names_each_mismatch_with_its_line_and_column(tmp_path: Path) -> None:
    csv_source(tmp_path, PEOPLE, b"", OWN)
    (source,) = registry.load(tmp_path)
    (people,) = check_source(source, tmp_path)
    assert not people.refused and people.rows == 3
    found = {(m.line, m.column, m.count) for m in people.mismatches}
    assert found == {(4, "ID", 1), (3, "DOB", 1)}
    problems = " ".join(m.problem for m in people.mismatches)
    assert "declared format dd/mm/yyyy" in problems and "local identifier" in problems
    # the warehouse was not touched
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_a_declaration_names_every_problem_with_its_columns_at_once() -> None:
    entry = {
        "id": "x",
        "partner_ods": "Z1",
        "sector": "vcfse",
        "format": "csv",
        "path": "x",
        "csv": {
            "people_file": "p.csv",
            "date_format": "%d/%m/%Y",
            "people_columns": {"local_id": "Ref", "given": ["A", "B"], "address": []},
            "event_columns": {"date": "When"},
            "extra_columns": "maybe",
            "colour": "blue",
        },
    }
    with pytest.raises(InvalidOptionsError) as caught:
        registry.parse_entry(entry)
    text = str(caught.value)
    assert "unknown key(s) colour" in text
    assert "'given' must be a column name (got ['A', 'B'])" in text
    assert "'address' must be a column name or a list of them" in text
    assert "event_columns are declared but there is no events_file" in text
    assert "extra_columns must be one of refuse, ignore" in text
