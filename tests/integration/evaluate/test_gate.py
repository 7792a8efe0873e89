"""The gate: over many synthetic ICSs with a planted effect, each design recovers it.

Each run is a synthetic ICS of 20,000 people in 40 neighbourhoods, 30 of them going
live in four waves, with people case-found for high prior emergency use (so regression
to the mean is present) and their emergency admissions cut by a known rate ratio.
Runs are seeded 1 to RUNS: the answer is the same every time. The issue asks for at
least 50 runs; coverage between 93% and 97% cannot be told from chance with 50 (its
standard error there is 3 points), so the gate runs 300 of each.
"""

from __future__ import annotations

import pytest

from neighbourhood.evaluate.gate import run_gate

RUNS = 300


@pytest.fixture(scope="module")
def planted() -> dict[str, dict[str, float]]:
    return run_gate(RUNS, effect=0.85, workers=2)


@pytest.fixture(scope="module")
def null() -> dict[str, dict[str, float]]:
    return run_gate(RUNS, effect=1.0, workers=2)


@pytest.mark.parametrize("design", ["matched", "staggered_did", "its"])
def test_each_design_recovers_the_planted_effect(
    planted: dict[str, dict[str, float]], design: str
) -> None:
    found = planted[design]
    assert found["runs"] >= 0.98 * RUNS, found
    assert abs(found["bias"]) <= 0.02, found  # unbiased within 2% on average
    assert 0.93 <= found["coverage"] <= 0.97, found


@pytest.mark.parametrize("design", ["matched", "staggered_did", "its"])
def test_a_null_effect_is_rarely_significant(
    null: dict[str, dict[str, float]], design: str
) -> None:
    found = null[design]
    assert found["mean_truth"] == 1.0
    assert abs(found["bias"]) <= 0.02, found
    assert 0.93 <= found["coverage"] <= 0.97, found
    assert found["significant"] <= 0.06, found


def test_the_matched_design_has_the_power_to_see_the_effect(
    planted: dict[str, dict[str, float]],
) -> None:
    # A 15% fall among about 450 enrolled people a run is found in a fair share of runs,
    # and far more often than a null effect.
    assert planted["matched"]["significant"] > 0.2


def test_before_and_after_is_biased_by_regression_to_the_mean(
    planted: dict[str, dict[str, float]], null: dict[str, dict[str, float]]
) -> None:
    # With no effect at all, the enrolled people's emergency admissions still halve.
    assert null["naive"]["mean_estimate"] < 0.7 and null["naive"]["significant"] > 0.95
    assert planted["naive"]["bias"] < -0.3 and planted["naive"]["coverage"] < 0.05
