"""Hand-written FHIR resources in the shapes UK Core's published examples take, and the
calls a test of FHIR ingest makes: ingest in this process, read the warehouse back."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb

from neighbourhood.ingest.run import IngestReport, ingest

TODAY = dt.date(2026, 11, 24)
NHS = "https://fhir.nhs.uk/Id/nhs-number"
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/"


def patient(pid: str = "p1", number: str = "9434765919", **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [{"system": NHS, "value": number}],
        "name": [{"family": "Jones", "given": ["Ann"]}],
        "gender": "female",
        "birthDate": "1950-03-04",
        **more,
    }


def concept(code: str, system: str = SCT) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def observation(oid: str = "o1", subject: str = "Patient/p1", **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": concept("60621009"),
        "subject": {"reference": subject},
        "effectiveDateTime": "2025-01-17",
        "valueQuantity": {"value": 29.2, "unit": "kg/m2"},
        **more,
    }


def ndjson(*resources: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in resources)


def bundle(kind: str, *entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def run(data: Path, workers: int = 1) -> IngestReport:
    return ingest(data, workers=workers, today=TODAY)


def rows(data: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        return con.sql(sql).fetchall()


def balanced(report: IngestReport) -> None:
    for f in report.files:
        assert f.records_in == f.accepted + f.quarantined + f.not_used, f.path


PATIENT_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <id value="x1"/>
  <extension url="https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory">
    <valueCodeableConcept><coding>
      <system value="https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"/>
      <code value="G"/></coding></valueCodeableConcept>
  </extension>
  <identifier>
    <system value="https://fhir.nhs.uk/Id/nhs-number"/><value value="9434765919"/>
  </identifier>
  <name><family value="SMITH"/><given value="Richard"/></name>
  <gender value="male"/>
  <birthDate value="1970-09-11"/>
  <address><line value="4 Sandmoor Drive"/><city value="LEEDS"/>
    <postalCode value="LS17 7DF"/></address>
</Patient>
"""
