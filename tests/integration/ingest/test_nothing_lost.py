"""Invariant 3: for every file, records in = accepted + quarantined, and the counts
agree with what synth planted."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections import Counter
from pathlib import Path

import duckdb

from neighbourhood.ingest.run import ingest
from tests.support.extracts import truth_rows
from tests.support.synthetic import Ingested, copy_of


def query(data: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        return con.sql(sql).fetchall()


def independent_count(path: Path) -> int:
    """Records in a file, counted without our ingest code."""
    raw = path.read_bytes()
    text = gzip.decompress(raw).decode() if raw[:2] == b"\x1f\x8b" else raw.decode("utf-8-sig")
    if path.name.startswith("Bundle"):
        return len(json.loads(text)["entry"])
    lines = [line for line in text.splitlines() if line.strip()]
    return len(lines) - (0 if ".ndjson" in path.name else 1)


def test_every_file_balances_and_matches_an_independent_count(ingested: Ingested) -> None:
    rows = query(
        ingested.data,
        "SELECT path, records_in, accepted, quarantined, not_used FROM ingest_files",
    )
    assert len(rows) == len(ingested.report.files) > 30
    for path, records_in, accepted, quarantined, not_used in rows:
        assert records_in == accepted + quarantined + not_used, path
        assert records_in == independent_count(Path(str(path))), path


def test_the_warehouse_holds_exactly_what_the_accounts_say(ingested: Ingested) -> None:
    (accepted,) = query(ingested.data, "SELECT sum(accepted) FROM ingest_files")[0]
    (stored,) = query(
        ingested.data,
        """
        SELECT (SELECT count(*) FROM source_records WHERE line IS NOT NULL)
             + (SELECT count(*) FROM (SELECT DISTINCT file_id, line, entry FROM events
                                      WHERE NOT ends_with(event_key, '/interpreter')))
             + (SELECT count(*) FROM directory)
             + (SELECT count(*) FROM organisations) + (SELECT count(*) FROM postcodes)
             + (SELECT count(*) FROM opt_outs) + (SELECT count(*) FROM workforce)""",
    )[0]
    (quarantined,) = query(ingested.data, "SELECT count(*) FROM quarantine")[0]
    assert stored == accepted
    assert quarantined == ingested.report.totals()["quarantined"] > 0


def test_planted_defects_are_quarantined_or_flagged_as_the_adr_says(ingested: Ingested) -> None:
    planted = Counter(
        d
        for r in truth_rows(ingested.synth.truth, "records")
        for d in r["defects"].split(";")
        if d.startswith("malformed:")
    )
    reasons = dict(
        query(
            ingested.data,
            """
        SELECT CASE WHEN reason LIKE 'not valid JSON%' THEN 'truncated'
                    WHEN reason LIKE 'the row has more fields%' THEN 'extra_column'
                    ELSE 'other' END, count(*)
        FROM quarantine GROUP BY 1""",
        )
    )
    person_records = query(ingested.data, "SELECT count(*) FROM quarantine WHERE line IS NOT NULL")
    assert person_records[0][0] >= planted["malformed:truncated"]
    assert reasons.get("extra_column", 0) == planted["malformed:extra_column"]
    flagged_dates = query(
        ingested.data,
        """
        SELECT count(*) FROM source_records
        WHERE flags LIKE '%birthDate%not a date%' OR flags LIKE '%date of birth%not a date%'""",
    )
    assert flagged_dates[0][0] == planted["malformed:impossible_date"]


def test_accepted_records_keep_their_fields(ingested: Ingested) -> None:
    by_status = dict(
        query(
            ingested.data,
            """
        SELECT nhs_number_status, count(*) FROM source_records GROUP BY 1""",
        )
    )
    lost = ("malformed:truncated", "malformed:extra_column")  # quarantined whole
    planted = Counter(
        d
        for r in truth_rows(ingested.synth.truth, "records")
        if not any(x in r["defects"] for x in lost)
        for d in r["defects"].split(";")
    )
    assert by_status["invalid"] == planted["nhs_number_invalid"]
    assert by_status["missing"] == planted["nhs_number_missing"]
    costs = dict(
        query(
            ingested.data,
            """
        SELECT activity, round(avg(cost_gbp)) FROM events WHERE cost_gbp IS NOT NULL GROUP BY 1""",
        )
    )
    assert costs["gp_appointment"] == 42
    assert costs["ed_attendance"] == 300
    assert costs["emergency_admission"] >= 800


def test_ingesting_the_same_files_again_adds_nothing(ingested: Ingested, tmp_path: Path) -> None:
    data = copy_of(ingested.data, tmp_path)
    before = query(data, "SELECT count(*) FROM events")[0][0]
    report = ingest(data, workers=1, today=dt.date(2026, 11, 24))
    assert {f.status for f in report.files} == {"already ingested"}
    assert query(data, "SELECT count(*) FROM events")[0][0] == before


def test_files_are_numbered_in_the_order_listed_and_rows_carry_their_own(
    ingested: Ingested,
) -> None:
    """CSV files load side by side, yet file ids follow the order ingest lists the files
    (a later extract of a feed has the higher id), and every stored row names the file and
    source it came from."""
    listed = [f.path for f in ingested.report.files if f.status == "ingested"]
    numbered = [r[0] for r in query(ingested.data, "SELECT path FROM ingest_files ORDER BY 1")]
    by_id = [r[0] for r in query(ingested.data, "SELECT path FROM ingest_files ORDER BY file_id")]
    assert sorted(listed) == numbered
    assert by_id == listed
    for table in ("source_records", "events", "quarantine"):
        mislabelled = query(
            ingested.data,
            f"""SELECT count(*) FROM {table} AS t LEFT JOIN ingest_files AS f USING (file_id)
                WHERE f.source_id IS DISTINCT FROM t.source_id""",
        )[0][0]
        assert mislabelled == 0, table
    per_file = query(
        ingested.data,
        """SELECT f.path, f.accepted, (SELECT count(*) FROM source_records r
                  WHERE r.file_id = f.file_id) + (SELECT count(*) FROM events e
                  WHERE e.file_id = f.file_id)
           FROM ingest_files AS f WHERE f.kind IN ('people', 'events', 'fhir')""",
    )
    assert per_file and all(accepted == stored for _, accepted, stored in per_file)
