"""The gate: do the designs recover a planted effect, over many synthetic ICSs?

Each run makes a synthetic ICS with its own seed and the model of care rolled out with
a known effect (or none), runs every design on the primary outcome, and compares each
estimate with that run's truth (``truth.py``). Over the runs: the mean estimate against
the mean truth (bias), how often the 95% interval covers the truth, and how often a
null effect is found significant. Runs are spread across processes; each run's answer
depends only on its seed, so the summary is the same in any order.
"""

from __future__ import annotations

import math
import multiprocessing
from dataclasses import dataclass
from typing import Any

import numpy as np

from neighbourhood.evaluate import designs as d
from neighbourhood.evaluate.protocol import Protocol
from neighbourhood.evaluate.synthetic import synthetic
from neighbourhood.evaluate.truth import area_truth, matched_truth
from neighbourhood.synth.options import Rollout

DESIGNS = ("matched", "staggered_did", "its", "naive")


@dataclass(frozen=True)
class GateRun:
    seed: int
    people: int
    neighbourhood_size: int
    effect: float
    outcome: str


def protocol() -> Protocol:
    return Protocol.model_validate({"schema": "neighbourhood.evaluate.protocol/1", "name": "gate"})


def one(
    run: GateRun,
) -> dict[str, tuple[float | None, float | None, float | None, float | None, float | None]]:
    """Each design's (estimate, low, high, p, truth) for one synthetic ICS."""
    study = synthetic(run.people, run.seed, Rollout(effect=run.effect), run.neighbourhood_size)
    p = protocol()
    outcome = d.outcome(run.outcome)
    go_live = study.go_live()
    m = d.match(d.sample(study, p, go_live), p)
    out: dict[str, tuple[float | None, ...]] = {}
    est, _ = d.matched_effect(study, m, outcome)
    truth = matched_truth(study, m, outcome)
    out["matched"] = (est.ratio, est.low, est.high, est.p, truth)
    naive = d.naive(study, m, outcome, p.follow_up_days)
    out["naive"] = (naive.ratio, naive.low, naive.high, naive.p, truth)
    area = d.panel(study, outcome, go_live)
    for name, fn in (("staggered_did", d.staggered_did), ("its", d.interrupted_time_series)):
        r = fn(area)
        t = area_truth(study, outcome, area, go_live, name)
        out[name] = (r.estimate.ratio, r.estimate.low, r.estimate.high, r.estimate.p, t)
    return out  # type: ignore[return-value]


def run_gate(
    runs: int,
    people: int = 20_000,
    neighbourhood_size: int = 500,
    effect: float = 0.85,
    outcome: str = "emergency_admissions",
    first_seed: int = 1,
    workers: int = 1,
) -> dict[str, dict[str, Any]]:
    """For each design, over ``runs`` synthetic ICSs: mean estimate, mean truth, relative
    bias (of the geometric means), coverage and the share significant at 5%."""
    jobs = [
        GateRun(s, people, neighbourhood_size, effect, outcome)
        for s in range(first_seed, first_seed + runs)
    ]
    if workers > 1:
        with multiprocessing.get_context("forkserver").Pool(workers) as pool:
            results = pool.map(one, jobs)
    else:
        results = [one(j) for j in jobs]
    summary: dict[str, dict[str, Any]] = {}
    for design in DESIGNS:
        rows = [r[design] for r in results if r[design][0] is not None and r[design][4] is not None]
        if not rows:
            summary[design] = {"runs": 0}
            continue
        a = np.array(rows, dtype=float)
        summary[design] = {
            "runs": len(rows),
            "mean_estimate": float(a[:, 0].mean()),
            "mean_truth": float(a[:, 4].mean()),
            # on the log scale, where a ratio's estimator is unbiased: the relative bias
            "bias": float(math.exp(np.log(a[:, 0]).mean() - np.log(a[:, 4]).mean()) - 1),
            "coverage": float(((a[:, 1] <= a[:, 4]) & (a[:, 4] <= a[:, 2])).mean()),
            "significant": float((a[:, 3] < 0.05).mean()),
            "sd": float(a[:, 0].std(ddof=1)) if len(rows) > 1 else math.nan,
        }
    return summary
