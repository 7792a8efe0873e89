"""Every FHIR resource synth writes is valid R4 (read with fhir.resources' R4B models),
except the ones it breaks on purpose, which must fail."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from neighbourhood.standards import nhs_number
from neighbourhood.synth import SynthSummary
from tests.support.extracts import fhir_lines, manifest, truth_rows

NHS = "https://fhir.nhs.uk/Id/nhs-number"


def fhir_feeds(summary: SynthSummary) -> list[str]:
    return [f["feed"] for f in manifest(summary.out)["feeds"] if f["format"].startswith("fhir")]


def test_both_fhir_formats_are_written(small_ics: SynthSummary) -> None:
    formats = {(f["sector"], f["format"]) for f in manifest(small_ics.out)["feeds"]}
    assert ("general_practice", "fhir-ndjson") in formats
    assert ("general_practice", "fhir-bundle") in formats
    assert ("acute", "fhir-ndjson") in formats
    assert ("acute", "fhir-bundle") in formats


def test_every_resource_validates_except_those_broken_on_purpose(small_ics: SynthSummary) -> None:
    planted = Counter(
        d.split(":", 1)[1]
        for r in truth_rows(small_ics.truth, "records")
        if r["record_type"] == "Patient"
        for d in r["defects"].split(";")
        if d.startswith("malformed:")
    )
    failures: Counter[str] = Counter()
    types: Counter[str] = Counter()
    for feed in fhir_feeds(small_ics):
        for _name, line in fhir_lines(small_ics.out, feed):
            try:
                resource = json.loads(line)
            except json.JSONDecodeError:
                failures["truncated"] += 1
                continue
            types[resource["resourceType"]] += 1
            try:
                get_fhir_model_class(resource["resourceType"]).model_validate_json(line)
            except ValidationError:
                failures["impossible_date"] += 1
    assert sum(planted.values()) > 0
    assert failures == planted
    assert set(types) == {
        "Patient",
        "Encounter",
        "Condition",
        "Observation",
        "RelatedPerson",
        "Flag",
    }
    assert sum(types.values()) + planted["truncated"] == sum(small_ics.resources.values())


def test_patients_carry_uk_core_nhs_numbers_valid_unless_a_defect_was_planted(
    small_ics: SynthSummary,
) -> None:
    defects = {r["record_id"]: r["defects"] for r in truth_rows(small_ics.truth, "records")}
    checked = 0
    for feed in fhir_feeds(small_ics):
        for _name, line in fhir_lines(small_ics.out, feed):
            if '"resourceType":"Patient"' not in line.replace(" ", "") or not line.endswith("}"):
                continue
            patient = json.loads(line)
            numbers = [i["value"] for i in patient["identifier"] if i["system"] == NHS]
            planted = defects[patient["id"]]
            if "nhs_number_missing" in planted:
                assert numbers == []
                continue
            assert len(numbers) == 1
            assert nhs_number.is_valid(numbers[0]) == ("nhs_number_invalid" not in planted)
            assert patient["generalPractitioner"][0]["identifier"]["system"] == (
                "https://fhir.nhs.uk/Id/ods-organization-code"
            )
            checked += 1
    assert checked > 1_000


@pytest.mark.parametrize("rtype", ["Encounter", "Condition", "Observation"])
def test_events_refer_to_a_patient_of_the_same_feed(small_ics: SynthSummary, rtype: str) -> None:
    for feed in fhir_feeds(small_ics):
        patients, subjects = set(), set()
        for _name, line in fhir_lines(small_ics.out, feed):
            if not line.endswith("}"):  # truncated on purpose: its id is still readable
                patients.add(line.split('"id":"', 1)[1].split('"', 1)[0])
                continue
            resource = json.loads(line)
            if resource["resourceType"] == "Patient":
                patients.add(resource["id"])
            elif resource["resourceType"] == rtype:
                subjects.add(resource["subject"]["reference"].split("/")[-1].split(":")[-1])
        assert subjects <= patients, feed
