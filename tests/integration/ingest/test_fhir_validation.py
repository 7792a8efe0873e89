"""Validating each distinct element once accepts exactly what fhir.resources accepts."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from neighbourhood.ingest import fhir
from neighbourhood.ingest.files import lines
from tests.support.handmade import ENCOUNTER, PATIENT
from tests.support.synthetic import Ingested

OBSERVATION = {
    "resourceType": "Observation",
    "id": "o1",
    "status": "final",
    "category": [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "vital-signs",
                }
            ]
        }
    ],
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "60621009"}]},
    "subject": {"reference": "Patient/p1"},
    "effectiveDateTime": "2024-01-17",
    "valueQuantity": {"value": 29.2, "unit": "kg/m2"},
}
RESOURCES = [orjson.loads(PATIENT), orjson.loads(ENCOUNTER), OBSERVATION]
# One validator per type for the whole module, as in a worker: its caches stay warm
# across examples, so a mutated element meets the valid one it was made from.
VALIDATORS = {r["resourceType"]: fhir.ElementwiseValidator(r["resourceType"]) for r in RESOURCES}


def plainly_valid(resource: dict[str, Any]) -> bool:
    try:
        get_fhir_model_class(resource["resourceType"]).model_validate(copy.deepcopy(resource))
    except (ValidationError, ValueError, TypeError):
        return False
    return True


def test_every_resource_synth_writes_gets_the_same_verdict(ingested: Ingested) -> None:
    """Valid and malformed resources of a synthetic ICS: the same verdict both ways,
    twice over, the second time with every cache warm."""
    files = sorted((ingested.data / "extracts").glob("*/*.ndjson.gz"))
    verdicts = {True: 0, False: 0}
    validators: dict[str, fhir.ElementwiseValidator] = {}
    for path in files:
        rtype = path.name.split(".", 1)[0]
        validator = validators.setdefault(rtype, fhir.ElementwiseValidator(rtype))
        for _, raw in _resources(path):
            resource = orjson.loads(raw)
            expected = plainly_valid(resource)
            assert validator.is_valid(resource) is expected, raw[:300]
            assert validator.is_valid(resource) is expected, raw[:300]
            assert resource == orjson.loads(raw), "the resource itself must not change"
            verdicts[expected] += 1
    assert verdicts[True] > 10_000
    assert verdicts[False] >= 10, "the ICS's malformed records should include invalid resources"


def _resources(path: Path) -> list[tuple[int, bytes]]:
    out = []
    for number, raw in lines(path):
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue  # cut short: never reaches a model
        out.append((number, raw))
    return out


junk = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-5, 5),
    st.booleans(),
    st.sampled_from(["2025-02-31", "2025-01-02", "finished", "male", "Patient/p2"]),
    st.lists(st.one_of(st.none(), st.text(max_size=4)), max_size=2),
    st.dictionaries(st.sampled_from(["reference", "code", "system", "x"]), st.text(max_size=6)),
    st.lists(
        st.dictionaries(st.sampled_from(["code", "system", "given", "family"]), st.text()),
        max_size=2,
    ),
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key != "resourceType":
                found += _paths(inner, (*path, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found += _paths(inner, (*path, i))
    return found


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(RESOURCES),
    st.data(),
    junk,
    st.sampled_from(["replace", "delete", "add"]),
)
def test_a_resource_changed_anywhere_gets_the_same_verdict(
    original: dict[str, Any], data: st.DataObject, value: Any, how: str
) -> None:
    resource = copy.deepcopy(original)
    path = data.draw(st.sampled_from(_paths(resource)))
    *parents, last = path
    holder = resource
    for step in parents:
        holder = holder[step]
    if how == "delete":
        holder.pop(last)
    elif how == "add" and isinstance(holder, dict):
        holder[data.draw(st.sampled_from(["extra", "id", "text", "code", "period"]))] = value
    else:
        holder[last] = value
    validator = VALIDATORS[resource["resourceType"]]
    assert validator.is_valid(resource) is plainly_valid(resource), json.dumps(resource)
    assert validator.is_valid(original), "the unchanged resource stays valid"


def test_a_workers_caches_stay_bounded() -> None:
    validator = fhir.ElementwiseValidator("Observation")
    for i in range(fhir.ELEMENT_CACHE + 50):
        resource = OBSERVATION | {"subject": {"reference": f"Patient/p{i}"}}
        assert validator.is_valid(resource)
    sizes = [len(shapes.seen) for shapes in fhir._SHAPES.values()]
    assert max(sizes) <= fhir.ELEMENT_CACHE
    assert max(sizes) >= 50, "the subject's cache filled, was emptied and filled again"


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r["resourceType"])
def test_flags_and_quarantine_are_unchanged_by_a_warm_cache(resource: dict[str, Any]) -> None:
    """A resource whose birth date is not a date is flagged the same way after its valid
    twin has filled the caches."""
    broken = copy.deepcopy(resource)
    broken["subject" if "subject" in broken else "birthDate"] = (
        {"reference": 7} if "subject" in broken else "1950-02-31"
    )
    items = [
        (1, "", orjson.dumps(resource)),
        (2, "", orjson.dumps(broken)),
        (3, "", orjson.dumps(resource)),
    ]
    rows = fhir.process_batch(fhir.Batch("general_practice", resource["resourceType"], items))
    if resource["resourceType"] == "Patient":
        assert rows.records["line"] == [1, 2, 3]
        assert rows.records["flags"][1].startswith("birthDate: '1950-02-31' is not a date")
        assert rows.records["date_of_birth"][1] is None
        assert rows.flagged == 1
    else:
        assert rows.events["line"] == [1, 3]
        assert rows.quarantine["line"] == [2]
        assert rows.quarantine["field"] == ["subject.reference"]
