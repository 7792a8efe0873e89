"""The designs on tables small enough to work out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from neighbourhood.evaluate.designs import Estimate, Panel, heterogeneity_p, staggered_did


def test_staggered_did_is_callaway_and_santanna_by_hand() -> None:
    """Two areas go live in month 2, two in month 4, two never; residents 1,000 each, so
    counts are rates. ATT(g, t) = the live areas' change since g-1 less the not-yet-live
    areas' change, averaged over live cells weighted by the areas in each group."""
    rng = np.random.default_rng(7)
    count = rng.poisson(30, (6, 6)).astype(float)
    count[:2, 2:] -= 6  # the first wave loses six events a month from go-live
    count[2:4, 4:] -= 3
    first = np.array([2, 2, 4, 4, -1, -1])
    panel = Panel(count, np.full((6, 6), 1000.0), first, 6, 0)
    found = staggered_did(panel)
    total, cells = 0.0, 0
    for g in (2, 4):
        live = np.flatnonzero(first == g)
        for t in range(g, 6):
            comparison = np.flatnonzero((first < 0) | (first > t))
            change = (count[live, t] - count[live, g - 1]).mean()
            baseline = (count[comparison, t] - count[comparison, g - 1]).mean()
            total += (change - baseline) * len(live)
            cells += len(live)
    assert found.att_per_1000 == pytest.approx(total / cells, abs=1e-9)
    observed = np.mean([count[a, t] for a in range(4) for t in range(first[a], 6)])
    assert found.counterfactual_per_1000 == pytest.approx(observed - total / cells, abs=1e-9)
    assert found.estimate.ratio == pytest.approx(1 + (total / cells) / (observed - total / cells))


def test_staggered_did_needs_two_live_areas() -> None:
    panel = Panel(np.ones((3, 4)), np.full((3, 4), 1000.0), np.array([2, -1, -1]), 4, 0)
    assert staggered_did(panel).estimate.note == "fewer than two neighbourhoods went live"


def test_heterogeneity_is_cochrans_q() -> None:
    same = [Estimate(0.8, 0.7, 0.914), Estimate(0.8, 0.6, 1.0667)]
    assert heterogeneity_p(same) == pytest.approx(1.0)
    apart = [Estimate(0.5, 0.45, 0.5556), Estimate(1.0, 0.9, 1.1111)]
    assert heterogeneity_p(apart) < 1e-6
    assert heterogeneity_p([Estimate(None)]) is None


def test_a_ratio_from_a_log_scale_estimate() -> None:
    e = Estimate.from_log(float(np.log(0.8)), 0.1)
    assert (round(e.ratio, 4), round(e.low, 4), round(e.high, 4)) == (0.8, 0.6576, 0.9732)
    assert e.covers(0.85) and not e.covers(1.0)
    assert Estimate.from_log(30.0, 1.0).note == "no estimate: one side has no events"


def test_the_pre_trend_test_is_hotellings_f() -> None:
    from scipy import stats

    from neighbourhood.evaluate.designs import pre_trend

    effects, ses = np.array([1.0, 1.0, 5.0]), np.array([1.0, 1.0, 1.0])
    pre = np.array([True, True, False])
    # T-squared 2 on two months from ten areas: F = (10 - 2) / (2 * 9) * 2 on (2, 8).
    assert pre_trend(effects, ses, None, pre, 10) == pytest.approx(
        stats.f.sf(8 / 9, 2, 8), rel=1e-12
    )
    vcov = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
    t2 = float(np.array([1.0, 1.0]) @ np.linalg.solve(vcov[:2, :2], np.array([1.0, 1.0])))
    assert pre_trend(effects, ses, vcov, pre, 10) == pytest.approx(
        stats.f.sf(8 / 18 * t2, 2, 8), rel=1e-12
    )
    assert pre_trend(effects, ses, None, pre, 2) is None  # no more areas than months
    assert pre_trend(effects, ses, None, np.zeros(3, bool), 10) is None
