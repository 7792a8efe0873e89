"""Bad input of every kind: a clear message naming file and line, nothing half-loaded."""

from __future__ import annotations

import datetime as dt
import gzip
import zlib
from pathlib import Path

import duckdb
import pytest

from neighbourhood.errors import UserError
from neighbourhood.ingest.files import MAX_LINE_BYTES
from neighbourhood.ingest.run import IngestReport, ingest
from tests.support.handmade import (
    ENCOUNTER,
    PATIENT,
    SPEC,
    csv_source,
    fhir_source,
    gz,
)

TODAY = dt.date(2026, 11, 24)
PEOPLE = (
    b"ID,NHS,First,Last,DOB\r\nA1,9434765919,Ann,Jones,04/03/1950\r\nA2,,Bob,Smith,31/02/1950\r\n"
)
EVENTS = (
    b"EID,ID,When,Team,SNOMED\r\nE1,A1,02/01/2025,District Nursing,225358003\r\n"
    b"E2,A1,30/02/2025,District Nursing,225358003\r\nE3,A2,03/01/2025,Podiatry,225358004\r\n"
)


WORKERS = [1]


@pytest.fixture(autouse=True, params=[1, 0], ids=["one worker", "default workers"])
def workers(request: pytest.FixtureRequest) -> None:
    """Every bad input with one worker and with the default (one per core): a refusal
    must cross back from a worker process as well as it does in-process."""
    WORKERS[0] = request.param


def run(data: Path) -> IngestReport:
    return ingest(data, workers=WORKERS[0], today=TODAY)


def count(data: Path, table: str) -> int:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        return int(con.sql(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]


def refused_message(report: IngestReport) -> str:
    assert len(report.refused) == 1
    return report.refused[0].message


def test_a_good_ndjson_file_loads(tmp_path: Path) -> None:
    fhir_source(
        tmp_path, {"Patient.ndjson": PATIENT + b"\n", "Encounter.ndjson.gz": gz(ENCOUNTER + b"\n")}
    )
    report = run(tmp_path)
    assert [f.accepted for f in report.files] == [1, 1]
    assert count(tmp_path, "source_records") == 1 and count(tmp_path, "events") == 1


def test_a_truncated_gzip_is_refused_and_loads_nothing(tmp_path: Path) -> None:
    whole = gz(b"\n".join([ENCOUNTER] * 5000) + b"\n")
    fhir_source(tmp_path, {"Encounter.ndjson.gz": whole[: len(whole) // 2]})
    message = refused_message(run(tmp_path))
    assert "Encounter.ndjson.gz" in message and "truncated" in message and ", line " in message
    assert count(tmp_path, "events") == 0 and count(tmp_path, "ingest_files") == 0


def test_a_corrupt_gzip_is_refused(tmp_path: Path) -> None:
    bad = b"\x1f\x8b" + bytes(range(200))
    fhir_source(tmp_path, {"Patient.ndjson.gz": bad})
    assert "not valid gzip" in refused_message(run(tmp_path))


def test_invalid_json_lines_are_quarantined_with_their_line(tmp_path: Path) -> None:
    fhir_source(tmp_path, {"Patient.ndjson": PATIENT + b"\n" + PATIENT[:40] + b"\n"})
    report = run(tmp_path)
    assert (report.files[0].accepted, report.files[0].quarantined) == (1, 1)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        line, reason, raw = con.sql("SELECT line, reason, raw FROM quarantine").fetchone()  # type: ignore[misc]
    assert line == 2 and "not valid JSON" in reason and raw == PATIENT[:40].decode()


def test_a_bundle_that_is_not_json_is_refused_with_its_line(tmp_path: Path) -> None:
    fhir_source(
        tmp_path,
        {"Bundle-1.json": b'{"resourceType":"Bundle",\n"entry":[\n{"resource":'},
        "fhir-bundle",
    )
    message = refused_message(run(tmp_path))
    assert "not valid JSON" in message and "line 3" in message


def test_a_resource_of_the_wrong_type_is_quarantined_with_a_reason(tmp_path: Path) -> None:
    fhir_source(
        tmp_path,
        {
            "Patient.ndjson": PATIENT
            + b"\n"
            + ENCOUNTER
            + b"\n"
            + b'{"resourceType":"Appointment","id":"a"}\n'
        },
    )
    report = run(tmp_path)
    assert report.files[0].quarantined == 2
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        reasons = [r for (r,) in con.sql("SELECT reason FROM quarantine ORDER BY line").fetchall()]
    assert reasons == [
        "a Encounter resource in a file of Patient resources",
        "a Appointment resource in a file of Patient resources",
    ]


def test_a_patient_with_one_bad_field_is_accepted_and_flagged(tmp_path: Path) -> None:
    bad_birth = PATIENT.replace(b"1950-03-04", b"1950-02-31")
    fhir_source(tmp_path, {"Patient.ndjson": bad_birth + b"\n"})
    report = run(tmp_path)
    assert (report.files[0].accepted, report.files[0].flagged) == (1, 1)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        dob, flags, nhs = con.sql(
            "SELECT date_of_birth, flags, nhs_number FROM source_records"
        ).fetchone()  # type: ignore[misc]
    assert dob is None and flags == "birthDate: '1950-02-31' is not a date" and nhs == "9434765919"


def test_an_event_without_a_subject_is_quarantined(tmp_path: Path) -> None:
    orphan = ENCOUNTER.replace(b'"subject":{"reference":"Patient/p1"},', b"")
    fhir_source(tmp_path, {"Encounter.ndjson": orphan + b"\n"})
    report = run(tmp_path)
    assert report.files[0].quarantined == 1


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    fhir_source(tmp_path, {"Patient.ndjson": b""})
    assert "empty" in refused_message(run(tmp_path))


def test_a_two_gigabyte_line_is_refused_without_reading_it_into_memory(tmp_path: Path) -> None:
    # 2 GiB of one line, stored as 2,048 gzip members of 1 MiB each (about 2 MB on disk).
    member = gzip.compress(b"x" * 2**20, compresslevel=1, mtime=0)
    path = tmp_path / "feed"
    path.mkdir()
    with (path / "Patient.ndjson.gz").open("wb") as handle:
        handle.write(gzip.compress(PATIENT + b"\n", mtime=0))
        for _ in range(2048):
            handle.write(member)
    fhir_source(tmp_path, {})
    message = refused_message(run(tmp_path))
    assert f"longer than {MAX_LINE_BYTES // 2**20} MB" in message and "line 2" in message
    assert count(tmp_path, "source_records") == 0


def test_csv_rows_are_accepted_flagged_or_quarantined(tmp_path: Path) -> None:
    csv_source(tmp_path, PEOPLE, EVENTS)
    people, events = run(tmp_path).files
    assert (people.records_in, people.accepted, people.flagged, people.quarantined) == (2, 2, 1, 0)
    assert (events.records_in, events.accepted, events.quarantined) == (3, 2, 1)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        flags = con.sql("SELECT flags FROM source_records WHERE record_key='A2'").fetchone()
        quarantined = con.sql("SELECT line, field, reason FROM quarantine").fetchall()
        unknown = con.sql(
            "SELECT activity, code_status, flags FROM events WHERE event_key='E3'"
        ).fetchone()
    assert flags == ("date of birth '31/02/1950' is not a date (dd/mm/yyyy)",)
    assert quarantined == [(3, "When", "When '30/02/2025' is not a date (dd/mm/yyyy)")]
    assert unknown == (
        "unknown",
        "invalid",
        "activity 'Podiatry' is not in the source's activities",
    )


def test_a_row_with_an_extra_field_is_quarantined_with_its_line_and_text(tmp_path: Path) -> None:
    people = PEOPLE + b"A3,,Cat,Lee,01/01/1960,oops\r\nA4,,Dan,Ray,02/02/1962\r\n"
    csv_source(tmp_path, people, EVENTS)
    report = run(tmp_path)
    assert (report.files[0].accepted, report.files[0].quarantined) == (3, 1)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        row = con.sql(
            "SELECT line, raw FROM quarantine WHERE reason LIKE '%more fields%'"
        ).fetchone()
        lines = con.sql("SELECT record_key, line FROM source_records ORDER BY line").fetchall()
    assert row == (4, "A3,,Cat,Lee,01/01/1960,oops")
    assert lines == [("A1", 2), ("A2", 3), ("A4", 5)]


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (b"ID,NHS,First,DOB", "missing column(s) Last"),
        (b"ID,NHS,First,Last,DOB,Ward", "unexpected column(s) Ward"),
    ],
)
def test_a_csv_with_missing_or_extra_columns_is_refused(
    tmp_path: Path, header: bytes, words: str
) -> None:
    csv_source(tmp_path, header + b"\r\nA1,1,2,3\r\n", EVENTS)
    message = refused_message(run(tmp_path))
    assert "people.csv, line 1" in message and words in message
    assert count(tmp_path, "source_records") == 0


def test_windows_1252_with_a_byte_order_mark_is_refused_unless_declared(tmp_path: Path) -> None:
    text = "ID,NHS,First,Last,DOB\r\nA1,,Zoë,Brontë,04/03/1950\r\n"
    people = b"\xef\xbb\xbf" + text.encode("windows-1252")
    csv_source(tmp_path, people, EVENTS)
    message = refused_message(run(tmp_path))
    assert "windows-1252" in message and "people.csv" in message
    from dataclasses import replace

    csv_source(tmp_path, people, EVENTS, replace(SPEC, encoding="windows-1252"))
    people_account = run(tmp_path).files[0]
    assert people_account.status == "ingested"
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.sql("SELECT given_name, family_name FROM source_records").fetchall() == [
            ("Zoë", "Brontë")
        ]


def test_an_empty_csv_is_refused(tmp_path: Path) -> None:
    csv_source(tmp_path, b"", EVENTS)
    assert "empty" in refused_message(run(tmp_path))


def test_no_agreement_or_an_expired_one_is_refused(tmp_path: Path) -> None:
    fhir_source(tmp_path, {"Patient.ndjson": PATIENT + b"\n"}, agreement=None)
    with pytest.raises(UserError, match="no data sharing agreement"):
        run(tmp_path)
    from neighbourhood.registry import Agreement

    fhir_source(
        tmp_path,
        {"Patient.ndjson": PATIENT + b"\n"},
        agreement=Agreement("DSA-OLD", "direct care", dt.date(2025, 3, 31)),
    )
    with pytest.raises(UserError, match="DSA-OLD expired on 31 March 2025"):
        run(tmp_path)
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_a_crash_inside_a_file_leaves_the_warehouse_as_it_was(tmp_path: Path) -> None:
    good = gz(PATIENT + b"\n")
    broken = zlib.compress(b"")[:1]
    fhir_source(tmp_path, {"Patient.ndjson.gz": good, "Zz.ndjson.gz": b"\x1f\x8b" + broken})
    report = run(tmp_path)
    assert [f.status for f in report.files] == ["ingested", "refused"]
    assert count(tmp_path, "ingest_files") == 1 and count(tmp_path, "source_records") == 1


def test_a_new_extract_from_the_same_feed_appends(tmp_path: Path) -> None:
    fhir_source(tmp_path, {"Patient.ndjson": PATIENT + b"\n"})
    run(tmp_path)
    fhir_source(tmp_path, {"Patient-2.ndjson": PATIENT.replace(b'"p1"', b'"p2"') + b"\n"})
    report = run(tmp_path)
    assert sorted(f.status for f in report.files) == ["already ingested", "ingested"]
    assert count(tmp_path, "source_records") == 2


def test_every_row_of_a_large_file_keeps_its_own_line(tmp_path: Path) -> None:
    """300,000 rows (several of DuckDB's row groups, read by parallel threads), with rows
    rejected throughout, side by side, first and last: each row keeps the line it came
    from."""
    rows = [b"ID,NHS,First,Last,DOB"]
    broken = set(range(7, 300_000, 9_973))  # a stray field: rejected by the reader
    broken |= {2, 3, 150_000, 150_001, 150_002, 300_001}  # the first, runs, the last
    for line in range(2, 300_002):
        extra = b",oops" if line in broken else b""
        rows.append(b"L%d,,Ann,Jones,04/03/1950%s" % (line, extra))
    csv_source(tmp_path, b"\r\n".join(rows) + b"\r\n", EVENTS)
    people = run(tmp_path).files[0]
    assert (people.records_in, people.quarantined) == (300_000, len(broken))
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        wrong = con.sql(
            "SELECT count(*) FROM source_records WHERE record_key <> 'L' || line"
        ).fetchone()
        quarantined = {
            r[0] for r in con.sql("SELECT line FROM quarantine WHERE file_id = 1").fetchall()
        }
    assert wrong == (0,)
    assert quarantined == broken


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_blank_lines_are_passed_over_and_every_row_keeps_its_line(
    tmp_path: Path, newline: bytes
) -> None:
    """Runs of blank lines anywhere (DuckDB skips them): the counts still balance and each
    row, read or rejected, keeps the line it is on."""
    lines = [
        b"ID,NHS,First,Last,DOB",
        b"L2,,Ann,Jones,04/03/1950",
        b"",
        b"",
        b"",
        b"L6,,Bob,Smith,05/03/1950",
        b"",
        b"L8,,Cy,Dee,06/03/1950,stray",
        b"",
        b"",
        b"L11,,Di,Eve,01/01/1960",
    ]
    csv_source(tmp_path, newline.join(lines) + newline * 3, EVENTS)
    people = run(tmp_path).files[0]
    assert (people.status, people.records_in) == ("ingested", 4)
    assert (people.accepted, people.quarantined) == (3, 1)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        read = con.sql("SELECT record_key, line FROM source_records ORDER BY line").fetchall()
        rejected = con.sql("SELECT line FROM quarantine WHERE file_id = 1").fetchall()
    assert read == [("L2", 2), ("L6", 6), ("L11", 11)]
    assert rejected == [(8,)]


def test_blank_lines_straddling_blocks_are_found_once() -> None:
    """A blank line whose newlines fall either side of a block boundary, in every place."""
    from neighbourhood.ingest.csv_read import _newlines

    text = b"H\nA\n\nB\r\n\r\nC\n\n\n"
    expected = [3, 5, 7, 8]
    for cut in range(len(text) + 1):
        first, second = text[:cut], text[cut:]
        in_first, found = _newlines(b"", first, 0)
        in_second, more = _newlines(first[-2:], second, in_first)
        assert found + more == expected, cut
        assert in_first + in_second == text.count(b"\n")


def test_the_same_file_twice_in_one_run_loads_once_and_says_which(tmp_path: Path) -> None:
    fhir_source(
        tmp_path, {"Patient-1.ndjson": PATIENT + b"\n", "Patient-2.ndjson": PATIENT + b"\n"}
    )
    report = run(tmp_path)
    assert [f.status for f in report.files] == ["ingested", "already ingested"]
    assert report.files[1].message.startswith("the same content as ")
    assert report.files[1].message.endswith("Patient-1.ndjson, ingested in this run")
    assert count(tmp_path, "source_records") == 1


def test_feeds_of_one_layout_share_compiled_sql_yet_keep_their_own_values(
    tmp_path: Path,
) -> None:
    """Two partners send the same layout (so the second reuses the first's SQL); each row
    still names its own source, file and path, and takes its own sector's setting."""
    from neighbourhood import registry
    from neighbourhood.registry import Source
    from tests.support.handmade import AGREEMENT

    sources = []
    for name, sector in (("nursing", "community"), ("crisis", "mental_health")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / SPEC.people_file).write_bytes(PEOPLE.replace(b"A1", name.encode()))
        (folder / SPEC.events_file).write_bytes(EVENTS.replace(b"A1", name.encode()))
        sources.append(Source(name, "ZC1", name, sector, "csv", name, AGREEMENT, SPEC))
    registry.save(tmp_path, sources)
    report = run(tmp_path)
    assert [f.status for f in report.files] == ["ingested"] * 4
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        events = con.sql(
            """SELECT e.source_id, e.sector, e.setting, e.record_key, f.path
               FROM events e JOIN ingest_files f USING (file_id)
               WHERE e.line = 2 ORDER BY e.file_id"""
        ).fetchall()
        quarantined = con.sql(
            "SELECT q.source_id, q.path = f.path FROM quarantine q JOIN ingest_files f "
            "USING (file_id) WHERE q.field = 'When' ORDER BY q.file_id"
        ).fetchall()
    assert events == [
        ("nursing", "community", "community", "nursing", str(tmp_path / "nursing/events.csv")),
        (
            "crisis",
            "mental_health",
            "community mental health",
            "crisis",
            str(tmp_path / "crisis/events.csv"),
        ),
    ]
    assert quarantined == [("nursing", True), ("crisis", True)]


def test_mixed_line_endings_are_refused_for_what_they_are(tmp_path: Path) -> None:
    """A file mixing CR LF and LF endings: DuckDB cannot read its layout, and the message
    says so rather than blaming the encoding."""
    people = b"ID,NHS,First,Last,DOB\r\nA1,,Ann,Jones,04/03/1950\r\n\r\n\r\nA2,,Bob,Smith,05/03/1950\n\n\nA3,,C,D,06/03/1950\n"
    csv_source(tmp_path, people, EVENTS)
    report = run(tmp_path)
    message = refused_message(report)
    assert "every line ends the same way" in message
    assert "encoding" not in message
    assert message.startswith(str(tmp_path / "csvfeed" / "people.csv"))
