"""The backtest: the last 12 months of a synthetic ICS's community activity re-simulated,
month by month, against what was observed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from neighbourhood.capacity import run as capacity
from neighbourhood.capacity import scenario
from tests.support.commands import run
from tests.support.synthetic import published_ics


@pytest.fixture(scope="module")
def neighbourhood_ics(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 people in one neighbourhood: monthly counts large enough to compare."""
    root = tmp_path_factory.mktemp("backtest-ics")
    return published_ics(root, 20_000, seed=5, neighbourhood_size=20_000)


def test_the_replay_matches_observed_monthly_contacts_within_ten_percent(
    neighbourhood_ics: Path,
) -> None:
    chosen = scenario.parse(
        {"schema": scenario.SCHEMA, "name": "Backtest", "replications": 4, "warm_up_days": 56}
    )
    result = capacity.backtest(neighbourhood_ics, chosen)
    replay = result["replay"]
    assert len(result["months"]) == 12 and result["months"][-1] == "2026-09"
    assert all(o > 0 for o in replay["observed"])
    assert replay["mape"] < 10, replay
    for service in ("district_nursing", "therapy"):
        assert replay["services"][service]["mape"] < 10, (service, replay["services"][service])
    # The observed series is the timeline's own count, month by month.
    assert sum(replay["observed"]) == sum(result["forecast"]["observed"])
    # A forecast from a year before cannot know the synthetic caseload's fall that year.
    assert result["forecast"]["mape"] > replay["mape"]


def test_the_backtest_command(neighbourhood_ics: Path) -> None:
    done = run("capacity", "backtest", "--data", str(neighbourhood_ics), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["mape"] == result["replay"]["mape"] < 10
