"""The synthetic population is plausible: measured from the extracts and the truth,
within stated tolerances (30,000 people, so sampling error is about 1 point)."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest

from neighbourhood.costs import cost_of, spell_cost
from neighbourhood.synth import SynthSummary
from tests.support.extracts import fhir_lines, manifest, truth_rows

COMPLEX_SHARE, COMPLEX_TOLERANCE = 0.07, 0.015  # seed 004: about 7% of people ...
COST_SHARE, COST_TOLERANCE = 0.46, 0.05  # ... and about 46% of hospital cost


@pytest.fixture(scope="module")
def persons(large_ics: SynthSummary) -> list[dict[str, str]]:
    return truth_rows(large_ics.truth, "persons")


def encounter_cost(encounter: dict[str, object]) -> float:
    period = encounter["period"]
    assert isinstance(period, dict)
    days = (np.datetime64(period["end"]) - np.datetime64(period["start"])).astype(int)
    cls = encounter["class"]["code"]  # type: ignore[index]
    if cls == "EMER":
        return cost_of("ed_attendance")
    if cls == "SS":
        return cost_of("elective_day_case")
    priority = encounter["priority"]["coding"][0]["code"]  # type: ignore[index]
    return spell_cost(
        "emergency_admission" if priority == "EM" else "elective_admission", int(days)
    )


def test_about_seven_percent_have_complex_needs(persons: list[dict[str, str]]) -> None:
    share = np.mean([p["complex_needs"] == "1" for p in persons])
    assert share == pytest.approx(COMPLEX_SHARE, abs=COMPLEX_TOLERANCE)


def test_they_account_for_about_46_percent_of_hospital_cost_in_the_acute_extracts(
    large_ics: SynthSummary, persons: list[dict[str, str]]
) -> None:
    complex_people = {p["person_id"] for p in persons if p["complex_needs"] == "1"}
    owner = {
        (r["feed"], r["record_id"]): r["person_id"] for r in truth_rows(large_ics.truth, "records")
    }
    cost: dict[bool, float] = defaultdict(float)
    for feed in manifest(large_ics.out)["feeds"]:
        if feed["sector"] != "acute":
            continue
        for _name, line in fhir_lines(large_ics.out, feed["feed"]):
            if '"resourceType":"Encounter"' not in line.replace(" ", ""):
                continue
            encounter = json.loads(line)
            patient = encounter["subject"]["reference"].split("/")[-1].split(":")[-1]
            person = owner[(feed["feed"], patient)]
            cost[person in complex_people] += encounter_cost(encounter)
    share = cost[True] / (cost[True] + cost[False])
    assert share == pytest.approx(COST_SHARE, abs=COST_TOLERANCE)
    assert share == pytest.approx(large_ics.complex_cost_share, abs=0.01)


def band_means(persons: list[dict[str, str]], value: str, by: str, bands: list[int]) -> list[float]:
    keys = np.array([int(p[by]) for p in persons])
    values = np.array([float(p[value]) for p in persons])
    groups = np.digitize(keys, bands)
    return [float(values[groups == g].mean()) for g in range(1, len(bands))]


def test_multimorbidity_rises_with_age(persons: list[dict[str, str]]) -> None:
    means = band_means(persons, "long_term_conditions", "age", [0, 18, 45, 65, 80, 120])
    assert means == sorted(means)
    assert means[-1] > 2.5 and means[0] < 0.2


def test_multimorbidity_and_frailty_rise_with_deprivation_at_the_same_age(
    persons: list[dict[str, str]],
) -> None:
    for lo, hi in ((45, 65), (65, 120)):
        band = [p for p in persons if lo <= int(p["age"]) < hi]
        most = [p for p in band if int(p["imd_decile"]) <= 2]
        least = [p for p in band if int(p["imd_decile"]) >= 9]
        ltc = lambda group: np.mean([int(p["long_term_conditions"]) for p in group])  # noqa: E731
        assert ltc(most) > 1.1 * ltc(least), (lo, hi)
    older = [p for p in persons if int(p["age"]) >= 65]
    frail = lambda group: np.mean([p["frailty"] in ("moderate", "severe") for p in group])  # noqa: E731
    assert frail([p for p in older if int(p["imd_decile"]) <= 3]) > frail(
        [p for p in older if int(p["imd_decile"]) >= 8]
    )
    assert frail([p for p in older if int(p["age"]) >= 85]) > 3 * frail(
        [p for p in older if int(p["age"]) < 75]
    )


def test_age_sex_and_ethnicity_look_like_england(persons: list[dict[str, str]]) -> None:
    ages = np.array([int(p["age"]) for p in persons])
    assert np.mean(ages >= 65) == pytest.approx(0.19, abs=0.02)  # Census 2021: 18.6%
    assert np.mean([p["sex"] == "female" for p in persons]) == pytest.approx(0.51, abs=0.015)
    groups = {p["ethnic_group"] for p in persons}
    assert len(groups) == 5
    assert np.mean([p["ethnicity"] == "white_british" for p in persons]) == pytest.approx(
        0.6, abs=0.08
    )


def test_deaths_and_moves_happen(large_ics: SynthSummary, persons: list[dict[str, str]]) -> None:
    died = np.mean([bool(p["date_of_death"]) for p in persons])
    assert died == pytest.approx(0.03, abs=0.012)  # about 1% a year
    assert np.mean([bool(p["moved_on"]) for p in persons]) == pytest.approx(0.08, abs=0.01)


def test_at_least_three_years_of_events_across_six_sectors(large_ics: SynthSummary) -> None:
    figures = json.loads((large_ics.truth / "summary.json").read_text())
    sectors = {f["sector"] for f in manifest(large_ics.out)["feeds"]}
    assert {
        "general_practice",
        "acute",
        "community",
        "mental_health",
        "social_care",
        "public_health",
    } <= sectors
    assert all(count > 0 for count in figures["events"].values())
    period = manifest(large_ics.out)["period"]
    assert (np.datetime64(period["end"]) - np.datetime64(period["start"])).astype(int) >= 3 * 365
