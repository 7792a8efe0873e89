"""The simulation against queueing theory: M/M/c waits (Erlang C), Little's law, and
what more staff or more demand must do to waits."""

from __future__ import annotations

import statistics

from hypothesis import given, settings
from hypothesis import strategies as st

from neighbourhood.capacity.model import INF, Config, Pool, ServicePlan, erlang_c_wait, simulate

NO_QUINTILE = (0.0, 1.0, 1.0, 1.0, 1.0, 1.0)


def mmc(arrivals: float, servers: int, hours: float = 1500, warm_up: float = 150) -> Config:
    plan = ServicePlan("s", arrivals, NO_QUINTILE, 1.0, 0.0, 0.0, 1.0, INF, (0,), "exponential")
    return Config((plan,), (Pool("district_nurse", "ZC1", frozenset(), servers),), hours, warm_up)


def mean_wait(config: Config, seed: int, replication: int) -> float:
    return statistics.fmean(simulate(config, seed, replication).waits["s"])


def test_erlang_c_by_hand() -> None:
    # M/M/1: Wq = rho / (mu - lambda); M/M/2 with a = 1: Wq = 1/3 (in service times).
    assert abs(erlang_c_wait(0.5, 1.0, 1) - 1.0) < 1e-12
    assert abs(erlang_c_wait(1.0, 1.0, 2) - 1 / 3) < 1e-12
    assert erlang_c_wait(2.0, 1.0, 2) == INF


def test_littles_law_holds_within_two_percent() -> None:
    config = mmc(3.0, 4, hours=6000, warm_up=300)
    result = simulate(config, 7, 0)
    measured = config.hours - config.warm_up
    in_system = result.in_system_area / measured
    arrival_rate = result.arrivals["s"] / measured
    assert abs(in_system - arrival_rate * statistics.fmean(result.sojourns)) <= 0.02 * in_system


def skill_mix(arrivals: float, nurses: int, limit: float = INF) -> Config:
    """Two services sharing a pool: wound care by nurses or the matron, urgent visits by
    the matron or paramedics; follow-ups booked; a wait limit if given."""
    wounds = ServicePlan(
        "wounds", arrivals, NO_QUINTILE, 0.75, 0.25, 0.5, 30.0, limit, (0, 1), "lognormal"
    )
    urgent = ServicePlan(
        "urgent", arrivals / 3, NO_QUINTILE, 1.0, 0.3, 0.2, 7.5, limit, (1, 2), "exponential"
    )
    pools = (
        Pool("district_nurse", "ZC1", frozenset({"wound_care"}), nurses),
        Pool("advanced_practitioner", "ZC1", frozenset({"urgent_assessment"}), 1),
        Pool("paramedic", "Z00101", frozenset({"urgent_assessment"}), 1),
    )
    return Config((wounds, urgent), pools, 1200, 120)


def test_littles_law_holds_with_skill_mix_follow_ups_and_people_who_stop_waiting() -> None:
    config = skill_mix(2.5, 3, limit=8.0)
    result = simulate(config, 3, 0)
    measured = config.hours - config.warm_up
    in_system = result.in_system_area / measured
    arrivals = sum(result.arrivals.values()) / measured
    assert sum(result.unmet.values()) > 0  # the limit is reached: reneging is exercised
    assert abs(in_system - arrivals * statistics.fmean(result.sojourns)) <= 0.02 * in_system


def test_the_same_seed_gives_the_same_replication_and_another_a_different_one() -> None:
    config = skill_mix(2.0, 3)
    a, b, c = simulate(config, 5, 1), simulate(config, 5, 1), simulate(config, 5, 2)
    assert a.waits == b.waits and a.monthly == b.monthly and a.utilisation == b.utilisation
    assert a.waits != c.waits


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    arrivals=st.floats(0.3, 2.5),
    servers=st.integers(1, 4),
    more=st.integers(1, 3),
    seed=st.integers(0, 10_000),
)
def test_more_staff_never_lengthen_a_single_queues_waits(
    arrivals: float, servers: int, more: int, seed: int
) -> None:
    # First come, first served with the same referrals and contact times: adding servers
    # can only bring each contact's start forward (Kiefer and Wolfowitz), so the mean too.
    load = min(arrivals, 0.9 * servers)
    fewer = mean_wait(mmc(load, servers, 400, 40), seed, 0)
    assert mean_wait(mmc(load, servers + more, 400, 40), seed, 0) <= fewer + 1e-9


@settings(max_examples=10, deadline=None, derandomize=True)
@given(arrivals=st.floats(0.5, 2.0), nurses=st.integers(2, 4), seed=st.integers(0, 10_000))
def test_more_staff_never_lengthen_and_more_demand_never_shortens_waits_with_skill_mix(
    arrivals: float, nurses: int, seed: int
) -> None:
    # The same random streams in each pair (common random numbers); the mean over
    # replications, with a tolerance for what differs between the pairs' paths.
    def waits(config: Config) -> float:
        reps = [simulate(config, seed, r) for r in range(4)]
        return statistics.fmean(w for r in reps for ws in r.waits.values() for w in ws)

    base = waits(skill_mix(arrivals, nurses))
    assert waits(skill_mix(arrivals, nurses + 2)) <= base * 1.02 + 1e-3
    assert waits(skill_mix(arrivals * 1.3, nurses)) >= base * 0.98 - 1e-3
