"""The simulated mean wait of an M/M/c queue against Erlang C, over many seeds (slow)."""

from __future__ import annotations

from neighbourhood.capacity.model import erlang_c_wait
from neighbourhood.capacity.run import interval
from tests.unit.capacity.test_model import mean_wait, mmc


def test_the_mean_waits_interval_covers_erlang_c_in_at_least_95_percent_of_seeds() -> None:
    config = mmc(2.4, 3)  # utilisation 0.8
    truth = erlang_c_wait(2.4, 1.0, 3)
    covered = 0
    seeds = range(40)
    for seed in seeds:
        ci = interval(mean_wait(config, seed, r) for r in range(10))
        covered += ci["low"] <= truth <= ci["high"]
    assert covered / len(seeds) >= 0.95, covered
