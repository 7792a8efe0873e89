"""Small hand-written feeds for ingest tests."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

from neighbourhood import registry
from neighbourhood.registry import Agreement, CsvSpec, Source

AGREEMENT = Agreement("DSA-TEST-1", "direct care", dt.date(2030, 1, 1))
PATIENT = (
    b'{"resourceType":"Patient","id":"p1","identifier":[{"system":'
    b'"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],'
    b'"name":[{"family":"Jones","given":["Ann"]}],"gender":"female","birthDate":"1950-03-04"}'
)
ENCOUNTER = (
    b'{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":'
    b'"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"EMER"},'
    b'"subject":{"reference":"Patient/p1"},"period":{"start":"2025-01-02","end":"2025-01-02"}}'
)
SPEC = CsvSpec(
    people_file="people.csv",
    events_file="events.csv",
    people_columns={
        "local_id": "ID",
        "nhs_number": "NHS",
        "given": "First",
        "family": "Last",
        "dob": "DOB",
    },
    event_columns={
        "event_id": "EID",
        "local_id": "ID",
        "date": "When",
        "service": "Team",
        "code": "SNOMED",
    },
    date_format="%d/%m/%Y",
    event_date_format="%d/%m/%Y",
    activities={"District Nursing": "district_nursing_visit"},
)


def fhir_source(
    data: Path,
    files: dict[str, bytes],
    fmt: str = "fhir-ndjson",
    agreement: Agreement | None = AGREEMENT,
) -> Source:
    folder = data / "feed"
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    source = Source("feed", "ZA1", "Test trust", "acute", fmt, "feed", agreement)
    registry.save(data, [source])
    return source


def csv_source(data: Path, people: bytes, events: bytes, spec: CsvSpec = SPEC) -> Source:
    folder = data / "csvfeed"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / spec.people_file).write_bytes(people)
    if spec.events_file:
        (folder / spec.events_file).write_bytes(events)
    source = Source(
        "csvfeed", "ZC1", "Test community", "community", "csv", "csvfeed", AGREEMENT, spec
    )
    registry.save(data, [source])
    return source


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)
