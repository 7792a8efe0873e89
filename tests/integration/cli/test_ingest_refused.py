"""Ingest through the command line, in its own process, as partners' files reach it:
a refused file, and a replay of quarantined records."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from tests.support.commands import run as cli
from tests.support.fhir import PATIENT_XML, bundle, concept, ndjson, observation, patient, rows, run
from tests.support.handmade import fhir_source

REFUSED = {
    "single resources declared as Bundles": (
        "fhir-bundle",
        {"a.json": json.dumps(patient()).encode()},
        "the source sends Bundles but the file holds a Patient",
    ),
    "XML in a file named NDJSON": (
        "fhir-ndjson",
        {"Patient.ndjson": PATIENT_XML},
        "the file is XML, not NDJSON",
    ),
    "an empty NDJSON file": ("fhir-ndjson", {"Patient.ndjson": b""}, "the file is empty"),
    "pretty-printed JSON in an NDJSON feed": (
        "fhir-ndjson",
        {"Patient.ndjson": json.dumps(patient(), indent=2).encode()},
        "the file is pretty-printed JSON",
    ),
    "a truncated gzip": (
        "fhir-ndjson",
        {
            "Patient.ndjson.gz": (
                whole := gzip.compress(ndjson(*[patient(f"p{i}") for i in range(3000)]))
            )[: len(whole) // 2]
        },
        "the gzip stream ends early",
    ),
}


@pytest.mark.parametrize("workers", ["0", "1"])
@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_file_is_refused_in_one_line_and_the_others_load(
    tmp_path: Path, case: str, workers: str
) -> None:
    """Through the command line, as partners' files reach it, with the default worker
    count (one per core) and with one: exit code 2 in well under the time a hang takes."""
    fmt, files, message = REFUSED[case]
    good = {
        "z-good.json" if fmt == "fhir-bundle" else "z-good.ndjson": (
            json.dumps(bundle("collection", {"resource": patient("g1")})).encode()
            if fmt == "fhir-bundle"
            else ndjson(patient("g1"))
        )
    }
    fhir_source(tmp_path, files | good, fmt)
    done = cli("ingest", "--data", str(tmp_path), "--workers", workers)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], done.stderr
    assert rows(tmp_path, "SELECT record_key FROM source_records") == [("g1",)]


def test_replay_moves_quarantined_records_that_now_pass_and_the_counts_balance(
    tmp_path: Path,
) -> None:
    """An earlier release quarantined every Bundle on an NDJSON line whole ("Bundle
    resources are not ingested"); replaying reads the Bundle's three entries today."""
    line = bundle(
        "collection",
        {"resource": patient("p7", "9434765870")},
        {"resource": observation("o7", subject="Patient/p7")},
        {"resource": {"resourceType": "Basic", "code": concept("1")}},
    )
    still_bad = observation("o8", subject="x") | {"subject": {}}
    fhir_source(tmp_path, {"feed.ndjson": ndjson(patient("p1"), still_bad)})
    (account,) = run(tmp_path).files
    assert (account.records_in, account.accepted, account.quarantined) == (2, 1, 1)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:  # as the old release did
        con.execute(
            "INSERT INTO quarantine (source_id, file_id, path, line, field, reason, raw) "
            "SELECT source_id, file_id, path, 3, 'resourceType', "
            "'Bundle resources are not ingested', ? FROM ingest_files",
            [json.dumps(line)],
        )
        con.execute("UPDATE ingest_files SET records_in = 3, quarantined = 2")
    done = cli("ingest", "--data", str(tmp_path), "--replay-quarantine", "feed", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "source_id": "feed",
        "replayed": 2,
        "accepted": 2,
        "not_used": 1,
        "still_quarantined": 1,
    }
    assert rows(
        tmp_path, "SELECT records_in, accepted, quarantined, not_used FROM ingest_files"
    ) == [(5, 3, 1, 1)]
    assert rows(tmp_path, "SELECT record_key, line, entry FROM source_records ORDER BY 1") == [
        ("p1", 1, None),
        ("p7", 3, "entry[0]"),
    ]
    assert rows(tmp_path, "SELECT event_key, record_key FROM events") == [("o7", "p7")]
    assert rows(tmp_path, "SELECT line, field FROM quarantine") == [(2, "subject")]
