"""FHIR as GP and acute systems send it: Bundles of every type wherever they appear,
files of one resource, XML, what UK Core profiles carry, and odd values.

Every resource here is hand-written in the shape UK Core's published examples take.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.fhir import (
    LOINC,
    NHS,
    ODS,
    PATIENT_XML,
    SCT,
    UK_CORE,
    balanced,
    bundle,
    concept,
    ndjson,
    observation,
    patient,
    rows,
    run,
)
from tests.support.handmade import fhir_source

# Bundles wherever they appear


def test_a_bundle_on_an_ndjson_line_is_unpacked_and_its_references_resolved(
    tmp_path: Path,
) -> None:
    """A transaction Bundle: the Patient has no id, only a urn:uuid full URL, which the
    Observation refers to."""
    uuid = "urn:uuid:6a8a3c1e-0000-4000-8000-000000000001"
    person = patient()
    del person["id"]
    line = bundle(
        "transaction",
        {"fullUrl": uuid, "resource": person, "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": "urn:uuid:x2", "resource": observation(subject=uuid)},
    )
    fhir_source(tmp_path, {"feed.ndjson": ndjson(line, patient("p9", "9434765870"))})
    report = run(tmp_path)
    (account,) = report.files
    assert (account.records_in, account.accepted, account.quarantined) == (3, 3, 0)
    key = uuid.removeprefix("urn:uuid:")
    assert rows(tmp_path, "SELECT record_key, line, entry FROM source_records ORDER BY line") == [
        (key, 1, "entry[0]"),
        ("p9", 2, None),
    ]
    assert rows(tmp_path, "SELECT record_key, entry FROM events") == [(key, "entry[1]")]


def test_a_full_url_that_differs_from_the_id_still_resolves(tmp_path: Path) -> None:
    uuid = "urn:uuid:0b7d"
    line = bundle(
        "collection",
        {"fullUrl": uuid, "resource": patient("gp-123")},
        {"resource": observation(subject=uuid)},
    )
    fhir_source(tmp_path, {"feed.ndjson": ndjson(line)})
    run(tmp_path)
    assert rows(tmp_path, "SELECT record_key FROM events") == [("gp-123",)]


def test_bundles_inside_bundles_are_unpacked_with_their_place(tmp_path: Path) -> None:
    inner = bundle("searchset", {"resource": observation("o1")}, {"resource": observation("o2")})
    outer = bundle("collection", {"resource": patient()}, {"resource": inner})
    fhir_source(tmp_path, {"feed.ndjson": ndjson(outer)})
    (account,) = run(tmp_path).files
    assert (account.records_in, account.accepted) == (3, 3)
    assert rows(tmp_path, "SELECT event_key, entry FROM events ORDER BY 1") == [
        ("o1", "entry[1].entry[0]"),
        ("o2", "entry[1].entry[1]"),
    ]


def test_request_only_entries_and_unsupported_bundles_say_why(tmp_path: Path) -> None:
    batch = bundle(
        "batch",
        {"resource": patient()},
        {"request": {"method": "DELETE", "url": "Patient/p2"}},
    )
    history = bundle("history", {"resource": patient("p3")})
    untyped = {"resourceType": "Bundle", "entry": [{"resource": patient("p4")}]}
    fhir_source(tmp_path, {"feed.ndjson": ndjson(batch, history, untyped)})
    (account,) = run(tmp_path).files
    assert (account.records_in, account.accepted, account.quarantined) == (4, 1, 3)
    reasons = rows(tmp_path, "SELECT line, entry, field, reason FROM quarantine ORDER BY line")
    assert reasons[0][:3] == (1, "entry[1]", "entry.resource")
    assert "only a request (DELETE Patient/p2) and no resource" in reasons[0][3]
    assert reasons[1][:3] == (2, None, "type")
    assert reasons[1][3].startswith("a history Bundle holds past versions")
    assert reasons[2][:3] == (3, None, "type")
    assert "the Bundle's type is missing" in reasons[2][3]


@pytest.mark.parametrize("fmt", ["fhir-bundle", "fhir-json"])
def test_a_bundle_file_resolves_references_across_its_batches(tmp_path: Path, fmt: str) -> None:
    """2,500 entries, more than one worker's batch: the Organization at the end still
    names the practice of the Patient at the start."""
    people = [{"fullUrl": f"urn:uuid:u{i}", "resource": patient(f"p{i}")} for i in range(2_499)]
    people[0]["resource"]["generalPractitioner"] = [{"reference": "urn:uuid:org"}]
    organisation = {
        "fullUrl": "urn:uuid:org",
        "resource": {
            "resourceType": "Organization",
            "id": "org-1",
            "identifier": [{"system": ODS, "value": "Y01234"}],
            "name": "Leeds Road Surgery",
        },
    }
    document = bundle("collection", *people, organisation)
    fhir_source(tmp_path, {"b.json.gz": gzip.compress(json.dumps(document).encode())}, fmt)
    for workers in (1, 2):
        if workers == 2:
            (tmp_path / "warehouse.duckdb").unlink()
        (account,) = run(tmp_path, workers).files
        assert (account.records_in, account.accepted) == (2_500, 2_500)
    assert rows(tmp_path, "SELECT practice_ods FROM source_records WHERE record_key = 'p0'") == [
        ("Y01234",)
    ]
    assert rows(tmp_path, "SELECT kind, identifier, name, entry FROM directory") == [
        ("organisation", "Y01234", "Leeds Road Surgery", "entry[2499]")
    ]


# Files of one resource, and XML

BUNDLE_XML = b"""<Bundle xmlns="http://hl7.org/fhir">
  <type value="collection"/>
  <entry><fullUrl value="urn:uuid:b1"/><resource>
    <Observation><status value="final"/>
      <code><coding><system value="http://loinc.org"/><code value="29463-7"/></coding></code>
      <subject><reference value="Patient/x1"/></subject>
      <effectiveDateTime value="2025-02-03T10:00:00Z"/>
      <valueQuantity><value value="81.5"/><unit value="kg"/></valueQuantity>
    </Observation></resource></entry>
  <entry><resource><Observation><status value="not-a-status"/></Observation></resource></entry>
</Bundle>
"""


@pytest.mark.parametrize("workers", [1, 2])
def test_a_feed_of_single_files_reads_json_xml_and_bundles(tmp_path: Path, workers: int) -> None:
    fhir_source(
        tmp_path,
        {
            "a-patient.json": json.dumps(patient("j1", "9434765870")).encode(),
            "b-patient.xml": PATIENT_XML,
            "c-bundle.xml.gz": gzip.compress(BUNDLE_XML),
            "d-careplan.json": json.dumps(
                {
                    "resourceType": "CarePlan",
                    "status": "active",
                    "intent": "plan",
                    "subject": {"reference": "Patient/x1"},
                }
            ).encode(),
        },
        "fhir-json",
    )
    report = run(tmp_path, workers)
    balanced(report)
    assert [(f.accepted, f.quarantined, f.not_used) for f in report.files] == [
        (1, 0, 0),
        (1, 0, 0),
        (1, 1, 0),
        (0, 0, 1),
    ]
    assert report.files[3].not_used_types == {"CarePlan": 1}
    assert rows(tmp_path, "SELECT not_used_types FROM ingest_files WHERE not_used > 0") == [
        ("CarePlan 1",)
    ]
    assert rows(
        tmp_path,
        "SELECT given_name, family_name, ethnicity, postcode, locality FROM source_records "
        "WHERE record_key = 'x1'",
    ) == [("Richard", "SMITH", "G", "LS17 7DF", "LEEDS")]
    assert rows(
        tmp_path, "SELECT record_key, code, code_system, code_status, value, start_date FROM events"
    ) == [("x1", "29463-7", LOINC, "other system", 81.5, dt.date(2025, 2, 3))]
    (field, reason, raw) = rows(tmp_path, "SELECT field, reason, raw FROM quarantine")[0]
    assert field and "not a valid Observation" in reason
    assert raw.startswith("<Observation") and "not-a-status" in raw


def test_xml_that_is_not_fhir_is_quarantined_not_read(tmp_path: Path) -> None:
    fhir_source(
        tmp_path,
        {"a.xml": b"<note><to>Tove</to></note>", "b.xml": b"<Patient xmlns='http://hl7.org/fhir'"},
        "fhir-json",
    )
    reasons = [r for (r,) in rows_after(tmp_path, "SELECT reason FROM quarantine ORDER BY path")]
    assert reasons[0].startswith("not FHIR XML: the element note is not in the FHIR namespace")
    assert reasons[1].startswith("not valid XML")


def rows_after(data: Path, sql: str) -> list[tuple[Any, ...]]:
    balanced(run(data))
    return rows(data, sql)


# What UK Core resources carry


def test_observation_components_coded_values_and_every_date_shape(tmp_path: Path) -> None:
    pressure = observation(
        "bp",
        code=concept("75367002"),
        effectiveDateTime=None,
        effectivePeriod={"start": "2025-03-01T09:00:00Z", "end": "2025-03-01T09:05:00Z"},
        valueQuantity=None,
        component=[
            {
                "code": concept("271649006"),
                "valueQuantity": {"value": 150, "unit": "mmHg", "code": "mm[Hg]"},
            },
            {"code": concept("271650006"), "valueQuantity": {"value": 95, "code": "mm[Hg]"}},
        ],
    )
    smoking = observation(
        "smoke",
        code=concept("72166-2", LOINC),
        effectiveDateTime=None,
        effectiveInstant="2025-03-02T10:00:00.000Z",
        valueQuantity=None,
        valueCodeableConcept=concept("266919005"),
    )
    issued = observation("late", effectiveDateTime=None, issued="2025-03-03T11:00:00Z")
    clean = [{k: v for k, v in o.items() if v is not None} for o in (pressure, smoking, issued)]
    fhir_source(tmp_path, {"Observation.ndjson": ndjson(*clean)})
    (account,) = run(tmp_path).files
    assert (account.records_in, account.accepted) == (3, 3)
    assert rows(
        tmp_path,
        "SELECT event_key, start_date, code, code_system, value, unit, value_code "
        "FROM events ORDER BY event_key",
    ) == [
        ("bp/component/0", dt.date(2025, 3, 1), "271649006", SCT, 150.0, "mmHg", None),
        ("bp/component/1", dt.date(2025, 3, 1), "271650006", SCT, 95.0, "mm[Hg]", None),
        ("late", dt.date(2025, 3, 3), "60621009", SCT, 29.2, "kg/m2", None),
        ("smoke", dt.date(2025, 3, 2), "72166-2", LOINC, None, None, "266919005"),
    ]


def test_a_subject_given_by_nhs_number_joins_its_record(tmp_path: Path) -> None:
    by_number = {"identifier": {"system": NHS, "value": "943 476 5919"}}
    stranger = {"identifier": {"system": NHS, "value": "9434765870"}}
    wrong = {"identifier": {"system": NHS, "value": "9434765918"}}
    fhir_source(
        tmp_path,
        {
            "feed.ndjson": ndjson(
                patient("p1"),
                observation("o1", subject="x") | {"subject": by_number},
                observation("o2", subject="x") | {"subject": stranger},
                observation("o3", subject="x") | {"subject": wrong},
            )
        },
    )
    (account,) = run(tmp_path).files
    assert (account.accepted, account.quarantined) == (3, 1)
    assert rows(tmp_path, "SELECT event_key, record_key FROM events ORDER BY 1") == [
        ("o1", "p1"),
        ("o2", "nhs-number/9434765870"),
    ]
    implied = rows(
        tmp_path,
        "SELECT nhs_number, nhs_number_status, line FROM source_records "
        "WHERE record_key = 'nhs-number/9434765870'",
    )
    assert implied == [("9434765870", "valid", None)]
    assert rows(tmp_path, "SELECT field FROM quarantine") == [("subject.identifier",)]


def test_the_practice_by_identifier_reference_or_contained_organisation(tmp_path: Path) -> None:
    contained = {
        "resourceType": "Organization",
        "id": "gp",
        "identifier": [{"system": ODS, "value": "C3"}],
    }
    fhir_source(
        tmp_path,
        {
            "Patient.ndjson": ndjson(
                patient("a", generalPractitioner=[{"identifier": {"system": ODS, "value": "A1"}}]),
                patient("b", "9434765870", generalPractitioner=[{"reference": "Organization/B2"}]),
                patient(
                    "c",
                    "9434765889",
                    contained=[contained],
                    generalPractitioner=[{"reference": "#gp"}],
                ),
                patient(
                    "d",
                    "9434765897",
                    generalPractitioner=[{"reference": "Practitioner/dr-who"}],
                ),
            )
        },
    )
    run(tmp_path)
    assert rows(tmp_path, "SELECT record_key, practice_ods FROM source_records ORDER BY 1") == [
        ("a", "A1"),
        ("b", "B2"),
        ("c", "C3"),
        ("d", None),
    ]


def _extension(url: str, code: str, inner: str | None = None) -> dict[str, Any]:
    value = {"valueCodeableConcept": {"coding": [{"code": code}]}}
    if inner:
        return {"url": UK_CORE + url, "extension": [{"url": inner, **value}]}
    return {"url": UK_CORE + url, **value}


def test_uk_core_patient_extensions_are_read(tmp_path: Path) -> None:
    person = patient(
        extension=[
            {
                "url": UK_CORE + "Extension-UKCore-EthnicCategory",
                "valueCodeableConcept": {"text": "Asian or Asian British: Indian"},
            },
            _extension("Extension-UKCore-DeathNotificationStatus", "2", "deathNotificationStatus"),
            _extension("Extension-UKCore-ResidentialStatus", "H"),
            {
                "url": UK_CORE + "Extension-UKCore-NHSCommunication",
                "extension": [
                    {
                        "url": "language",
                        "valueCodeableConcept": {
                            "coding": [{"system": "urn:ietf:bcp:47", "code": "pl"}]
                        },
                    },
                    {"url": "interpreterRequired", "valueBoolean": True},
                ],
            },
        ],
        deceasedDateTime="2026-10-01T08:00:00Z",
    )
    person["identifier"][0]["extension"] = [
        _extension("Extension-UKCore-NHSNumberVerificationStatus", "01")
    ]
    fhir_source(tmp_path, {"Patient.ndjson": ndjson(person)})
    (account,) = run(tmp_path).files
    assert (account.accepted, account.flagged) == (1, 0)
    assert rows(
        tmp_path,
        "SELECT ethnicity, nhs_number_verification, death_notification, date_of_death, "
        "residential_status, interpreter_language FROM source_records",
    ) == [("Asian or Asian British: Indian", "01", "2", dt.date(2026, 10, 1), "H", "pl")]
    assert rows(tmp_path, "SELECT record_key, activity, value_code FROM events") == [
        ("p1", "reasonable_adjustment_flag", "pl")
    ]


def test_codes_outside_their_value_sets_are_flagged_on_the_field(tmp_path: Path) -> None:
    person = patient(
        gender="M",
        extension=[_extension("Extension-UKCore-EthnicCategory", "X9")],
    )
    person["identifier"][0]["extension"] = [
        _extension("Extension-UKCore-NHSNumberVerificationStatus", "99")
    ]
    nobody = {"resourceType": "Patient", "id": "ghost", "gender": "female"}
    fhir_source(tmp_path, {"Patient.ndjson": ndjson(person, nobody)})
    (account,) = run(tmp_path).files
    assert (account.accepted, account.flagged, account.quarantined) == (1, 1, 1)
    ((sex, ethnic, verification, flags),) = rows(
        tmp_path, "SELECT sex, ethnicity, nhs_number_verification, flags FROM source_records"
    )
    assert (sex, ethnic, verification) == (None, None, None)
    assert "gender: 'M' is not an administrative gender" in flags
    assert "ethnic category 'X9' is not in the UK Core value set" in flags
    assert "'99' is not in the value set of Extension-UKCore-NHSNumberVerificationStatus" in flags
    assert rows(tmp_path, "SELECT field, reason FROM quarantine") == [
        (
            "Patient",
            "the Patient has no NHS number, name or date of birth: nothing to identify or link "
            "them by",
        )
    ]


def test_medicines_allergies_procedures_immunisations_and_the_directory(tmp_path: Path) -> None:
    subject = {"reference": "Patient/p1"}
    resources = [
        {
            "resourceType": "MedicationStatement",
            "id": "ms1",
            "status": "active",
            "medicationCodeableConcept": concept("39732311000001104"),
            "subject": subject,
            "effectivePeriod": {"start": "2025-01-01", "end": "2025-06-30"},
        },
        {
            "resourceType": "MedicationRequest",
            "id": "mr1",
            "status": "active",
            "intent": "order",
            "contained": [{"resourceType": "Medication", "id": "m", "code": concept("322236009")}],
            "medicationReference": {"reference": "#m"},
            "subject": subject,
            "authoredOn": "2025-02-01",
        },
        {
            "resourceType": "AllergyIntolerance",
            "id": "al1",
            "patient": subject,
            "code": concept("372687004"),
            "recordedDate": "2024-05-06",
            "reaction": [{"manifestation": [concept("271807003")]}],
        },
        {
            "resourceType": "Procedure",
            "id": "pr1",
            "status": "completed",
            "subject": subject,
            "code": concept("80146002"),
            "performedPeriod": {"start": "2025-04-01", "end": "2025-04-03"},
        },
        {
            "resourceType": "Immunization",
            "id": "im1",
            "status": "completed",
            "patient": subject,
            "vaccineCode": concept("39114911000001105"),
            "occurrenceDateTime": "2025-10-10",
        },
        {
            "resourceType": "Practitioner",
            "id": "dr1",
            "identifier": [
                {"system": "https://fhir.hl7.org.uk/Id/gmc-number", "value": "C1234567"}
            ],
            "name": [{"family": "Khan", "given": ["Amira"], "prefix": ["Dr"]}],
        },
    ]
    fhir_source(tmp_path, {"feed.ndjson": ndjson(*resources)})
    (account,) = run(tmp_path).files
    assert (account.records_in, account.accepted, account.quarantined) == (6, 6, 0)
    assert rows(
        tmp_path, "SELECT event_key, activity, start_date, end_date, code FROM events ORDER BY 1"
    ) == [
        ("al1", "allergy", dt.date(2024, 5, 6), None, "372687004"),
        ("im1", "immunisation", dt.date(2025, 10, 10), None, "39114911000001105"),
        ("mr1", "medication", dt.date(2025, 2, 1), None, "322236009"),
        ("ms1", "medication", dt.date(2025, 1, 1), dt.date(2025, 6, 30), "39732311000001104"),
        ("pr1", "procedure", dt.date(2025, 4, 1), dt.date(2025, 4, 3), "80146002"),
    ]
    assert rows(tmp_path, "SELECT kind, identifier, name FROM directory") == [
        ("practitioner", "C1234567", "Dr Amira Khan")
    ]


def test_a_quarantined_record_keeps_its_whole_text(tmp_path: Path) -> None:
    long = observation("o1", subject="x") | {"subject": {}, "note": [{"text": "n" * 10_000}]}
    fhir_source(tmp_path, {"Observation.ndjson": ndjson(long)})
    run(tmp_path)
    ((raw,),) = rows(tmp_path, "SELECT raw FROM quarantine")
    assert json.loads(raw) == long


# Refused files: never a hang, never a traceback, whatever the worker count


def test_the_quality_report_counts_events_whose_patient_is_in_no_feed(tmp_path: Path) -> None:
    from neighbourhood.ingest.quality import quality_report
    from neighbourhood.warehouse import open_warehouse

    fhir_source(
        tmp_path,
        {
            "feed.ndjson": ndjson(
                patient("p1"),
                observation("o1"),
                observation("o2", subject="Patient/nobody"),
                observation("o3", subject="Patient/nobody", code=concept("8867-4", LOINC)),
            )
        },
    )
    run(tmp_path)
    wh = open_warehouse(tmp_path, read_only=True)
    try:
        feed = quality_report(wh)["feeds"]["feed"]
    finally:
        wh.close()
    assert feed["events_without_a_record"] == 2
    assert (feed["codes_present"], feed["codes_valid"], feed["code_validity"]) == (2, 2, 1.0)


def test_replay_of_a_csv_source_says_what_to_do_instead(tmp_path: Path) -> None:
    from neighbourhood.errors import UserError
    from neighbourhood.ingest.replay import replay_quarantine
    from tests.support.handmade import csv_source

    csv_source(tmp_path, b"ID,NHS,First,Last,DOB\r\n", b"EID,ID,When,Team,SNOMED\r\n")
    with pytest.raises(UserError, match="ask the partner to send the file again"):
        replay_quarantine(tmp_path, "csvfeed")
