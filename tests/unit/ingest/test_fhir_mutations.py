"""Valid UK Core-shaped resources mutated at random: wrong types, missing and extra
elements, Bundles inside Bundles. Whatever comes, the run finishes, every record is
accounted for, and nothing prints a traceback, with one worker and with two."""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neighbourhood.ingest.fhir import Batch, process_batch
from neighbourhood.ingest.run import ingest
from tests.support.fhir import concept, observation, patient
from tests.support.handmade import fhir_source

MEDICINE = {
    "resourceType": "MedicationStatement",
    "id": "ms1",
    "status": "active",
    "medicationCodeableConcept": concept("39732311000001104"),
    "subject": {"reference": "Patient/p1"},
    "effectivePeriod": {"start": "2025-01-01"},
}
PRESSURE = observation(
    "bp",
    component=[
        {"code": concept("271649006"), "valueQuantity": {"value": 150, "unit": "mmHg"}},
        {"code": concept("271650006"), "valueQuantity": {"value": 95, "unit": "mmHg"}},
    ],
)
ENCOUNTER = {
    "resourceType": "Encounter",
    "id": "e1",
    "status": "finished",
    "class": {"code": "EMER"},
    "subject": {"reference": "Patient/p1"},
    "period": {"start": "2025-01-02", "end": "2025-01-03"},
}
VALID = [patient(), PRESSURE, MEDICINE, ENCOUNTER]

junk = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.integers(-3, 3),
    st.booleans(),
    st.sampled_from(["2025-02-31", "Patient/p1", "urn:uuid:x", "Bundle", "history"]),
    st.lists(st.one_of(st.none(), st.text(max_size=3), st.integers()), max_size=2),
    st.dictionaries(
        st.sampled_from(["reference", "coding", "system", "value"]), st.text(max_size=4)
    ),
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*path, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found += _paths(inner, (*path, i))
    return found


@st.composite
def mutated(draw: st.DrawFn, depth: int = 0) -> Any:
    resource = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(_paths(resource)))
        *parents, last = path
        holder = resource
        for step in parents:
            holder = holder[step]
        how = draw(st.sampled_from(["replace", "delete", "add"]))
        if how == "delete" and isinstance(holder, dict):
            holder.pop(last)
        elif how == "add" and isinstance(holder, dict):
            holder[draw(st.sampled_from(["extra", "id", "extension", "entry", "component"]))] = (
                draw(junk)
            )
        else:
            holder[last] = draw(junk)
    if depth < 3 and draw(st.booleans()):
        entries = [{"resource": resource}] + [
            {"resource": draw(mutated(depth + 1))} for _ in range(draw(st.integers(0, 2)))
        ]
        if draw(st.booleans()):
            entries.append(draw(st.sampled_from([{}, {"request": {"method": "GET"}}, "x", None])))
        kind = draw(
            st.sampled_from(["collection", "batch", "transaction", "searchset", "history", None])
        )
        return {"resourceType": "Bundle", "type": kind, "entry": entries}
    return resource


@settings(max_examples=300, deadline=None)
@given(st.lists(mutated(), min_size=1, max_size=4))
def test_mutated_resources_are_each_accounted_for(resources: list[Any]) -> None:
    items = [(i, "", json.dumps(r).encode()) for i, r in enumerate(resources, start=1)]
    rows = process_batch(Batch("acute", None, items))
    assert rows.faults == [], rows.faults  # a fault of ours would be a bug to fix
    assert rows.records_in == rows.accepted + rows.quarantined + sum(rows.not_used.values())
    assert rows.records_in >= len(resources)
    quarantined_lines = set(rows.quarantine["line"])
    accepted_lines = set(rows.records["line"]) | set(rows.events["line"])
    assert quarantined_lines | accepted_lines <= set(range(1, len(resources) + 1))


@pytest.mark.parametrize("workers", [1, 2])
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(lines=st.lists(mutated(), min_size=1, max_size=30))
def test_a_file_of_mutated_resources_ingests_and_balances(
    tmp_path_factory: pytest.TempPathFactory,
    caplog: pytest.LogCaptureFixture,
    workers: int,
    lines: list[Any],
) -> None:
    data = tmp_path_factory.mktemp("mutated")
    fhir_source(data, {"feed.ndjson": b"".join(json.dumps(r).encode() + b"\n" for r in lines)})
    with caplog.at_level(logging.ERROR):
        report = ingest(data, workers=workers, today=dt.date(2026, 11, 24))
    (account,) = report.files
    assert account.status == "ingested"
    assert account.records_in == account.accepted + account.quarantined + account.not_used
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    with duckdb.connect(str(Path(data) / "warehouse.duckdb"), read_only=True) as con:
        (quarantined,) = con.sql("SELECT count(*) FROM quarantine").fetchone()  # type: ignore[misc]
    assert quarantined == account.quarantined
