"""The ground truth covers every source record, and every event belongs to a record."""

from __future__ import annotations

import json
from collections import Counter

from neighbourhood.synth import SynthSummary
from tests.support.extracts import csv_rows, fhir_lines, manifest, truth_rows


def test_every_person_record_of_every_feed_is_in_the_ground_truth(small_ics: SynthSummary) -> None:
    truth = Counter((r["feed"], r["record_id"]) for r in truth_rows(small_ics.truth, "records"))
    assert max(truth.values()) == 1
    seen: set[tuple[str, str]] = set()
    for feed in manifest(small_ics.out)["feeds"]:
        if feed["format"] == "csv":
            rows = csv_rows(small_ics.out, feed, "people")[1:]
            seen |= {(feed["feed"], row[0]) for row in rows}
        else:
            for _name, line in fhir_lines(small_ics.out, feed["feed"]):
                if '"resourceType":"Patient"' in line.replace(" ", ""):
                    rid = line.split('"id":', 1)[1].split('"')[1]
                    seen.add((feed["feed"], rid))
    assert seen == set(truth)


def test_ground_truth_names_real_people_and_every_person_is_described(
    small_ics: SynthSummary,
) -> None:
    persons = {r["person_id"] for r in truth_rows(small_ics.truth, "persons")}
    assert len(persons) == small_ics.people
    assert {r["person_id"] for r in truth_rows(small_ics.truth, "records")} <= persons
    carers = truth_rows(small_ics.truth, "carers")
    assert carers and all(c["carer_person_id"] in persons for c in carers)
    assert (
        any(c["young_carer"] == "1" for c in truth_rows(small_ics.truth, "carers"))
        or len(carers) < 30
    )


def test_every_csv_event_row_refers_to_a_person_row_of_its_feed(small_ics: SynthSummary) -> None:
    for feed in manifest(small_ics.out)["feeds"]:
        if feed["format"] != "csv":
            continue
        people = {row[0] for row in csv_rows(small_ics.out, feed, "people")[1:]}
        events = csv_rows(small_ics.out, feed, "events")
        position = list(feed["csv"]["event_columns"]).index("local_id")
        assert events[1:], feed["feed"]
        assert {row[position] for row in events[1:]} <= people, feed["feed"]


def test_the_ground_truth_is_kept_apart_from_the_extracts(small_ics: SynthSummary) -> None:
    assert not (small_ics.out / "persons.csv.gz").exists()
    assert small_ics.truth.resolve() not in small_ics.out.resolve().parents
    text = json.dumps(manifest(small_ics.out))
    assert "person_id" not in text
