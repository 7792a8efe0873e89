"""The data manager's commands from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.commands import Demo, run
from tests.support.handmade import ENCOUNTER, PATIENT, fhir_source, gz


def test_sources_add_then_list(tmp_path: Path) -> None:
    done = run(
        "sources",
        "add",
        "--id",
        "gp1",
        "--partner-ods",
        "Z00101",
        "--sector",
        "general_practice",
        "--format",
        "fhir-ndjson",
        "--path",
        "gp1",
        "--agreement",
        "DSA-1",
        "--purpose",
        "direct care",
        "--expires",
        "2030-01-01",
        "--data",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    listed = json.loads(run("sources", "list", "--json", "--data", str(tmp_path)).stdout)
    assert listed["sources"][0]["id"] == "gp1"
    assert listed["sources"][0]["expires"] == "2030-01-01"


def test_sources_add_gathers_every_problem(tmp_path: Path) -> None:
    done = run(
        "sources",
        "add",
        "--id",
        "x",
        "--partner-ods",
        "Z1",
        "--sector",
        "moon",
        "--format",
        "xml",
        "--path",
        "x",
        "--expires",
        "someday",
        "--data",
        str(tmp_path),
    )
    assert done.returncode == 2
    line = done.stderr.strip()
    assert "sector must be one of" in line and "format must be one of" in line
    assert "'expires' must be a date" in line and len(line.splitlines()) == 1


def test_ingest_reports_json_and_quality_follows(tmp_path: Path) -> None:
    fhir_source(
        tmp_path, {"Patient.ndjson": PATIENT + b"\n", "Encounter.ndjson.gz": gz(ENCOUNTER + b"\n")}
    )
    done = run("ingest", "--data", str(tmp_path), "--json", "--workers", "1")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["totals"] == {
        "records_in": 2,
        "accepted": 2,
        "quarantined": 0,
        "flagged": 0,
        "not_used": 0,
    }
    quality = json.loads(run("quality", "--data", str(tmp_path), "--json").stdout)
    assert quality["feeds"]["feed"]["nhs_number_valid"] == 1.0
    assert quality["feeds"]["feed"]["records"] == 1


def test_a_refused_file_exits_2_with_one_line_per_file(tmp_path: Path) -> None:
    fhir_source(tmp_path, {"Patient.ndjson": b"", "Encounter.ndjson": ENCOUNTER + b"\n"})
    done = run("ingest", "--data", str(tmp_path), "--workers", "1")
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Patient.ndjson" in errors[0] and "empty" in errors[0]
    assert "Traceback" not in done.stderr


def test_unknown_source_and_missing_registry_are_user_errors(tmp_path: Path) -> None:
    done = run("ingest", "nowhere", "--data", str(tmp_path))
    assert done.returncode == 2 and "no source registry" in done.stderr
    fhir_source(tmp_path, {"Patient.ndjson": PATIENT + b"\n"})
    done = run("ingest", "nowhere", "--data", str(tmp_path))
    assert done.returncode == 2 and "unknown source 'nowhere'" in done.stderr


def test_quality_before_any_ingest_says_what_to_do(tmp_path: Path) -> None:
    done = run("quality", "--data", str(tmp_path))
    assert done.returncode == 2 and "run 'neighbourhood ingest' first" in done.stderr


def test_demo_ingests_what_it_generated(demo: Demo) -> None:
    totals = demo.figures["ingest"]["totals"]
    assert totals["records_in"] == totals["accepted"] + totals["quarantined"] > 1_000


def test_everything_the_demo_made_is_readable_by_its_owner_only(demo: Demo) -> None:
    """Extracts, warehouse, published files, keys, the care database: identifiable data, so
    no other user of the machine may read or list them."""
    made = [demo.data, *demo.data.rglob("*")]
    assert len(made) > 20
    # The design system's files keep the modes they were installed with: they are public,
    # and the folders above them are closed all the same.
    public = demo.data / "static"
    open_to_others = [
        str(path.relative_to(demo.data))
        for path in made
        if not path.is_symlink()
        and path.stat().st_mode & 0o077
        and not (path.is_file() and path.is_relative_to(public))
    ]
    assert open_to_others == []
    kinds = {p.name for p in made}
    assert {"pseudonymisation.key", "audit-chain.key", "checkpoints.log", "care.sqlite3"} <= kinds
