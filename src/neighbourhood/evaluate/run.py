"""One evaluation: a protocol run on a study, every design, outcome and subgroup.

What leaves this module is planning output: counts of people and events under
disclosure control (1 to 7 suppressed, the rest rounded to 5), no minimum or maximum,
and no subgroup estimate from fewer than eight treated people.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from neighbourhood.evaluate import designs as d
from neighbourhood.evaluate.designs import rounded
from neighbourhood.evaluate.outcomes import BY_KEY, Outcome, available
from neighbourhood.evaluate.protocol import Protocol
from neighbourhood.evaluate.study import EPOCH, Study
from neighbourhood.evaluate.truth import area_truth, matched_truth
from neighbourhood.standards.disclosure import protect

RESULT_SCHEMA = "neighbourhood.evaluate.result/1"
DESIGN_LABELS = {
    "matched": "Matched comparison",
    "staggered_did": "Staggered difference-in-differences",
    "its": "Interrupted time series",
    "naive": "Before and after (biased: regression to the mean)",
}
SUBGROUP_LABELS = {
    "imd_quintile": "Deprivation quintile (1 most deprived)",
    "ethnic_group": "Ethnic group",
    "age_band": "Age band",
    "sex": "Sex",
    "disability": "Disability (reasonable adjustment flagged)",
    "inclusion_health": "Inclusion health group",
}


def iso(day: int) -> str | None:
    return None if day < 0 else (EPOCH + dt.timedelta(days=int(day))).isoformat()


@dataclass
class Context:
    """What every estimate of one evaluation shares."""

    study: Study
    protocol: Protocol
    matched: d.Matched
    go_live: npt.NDArray[np.int64]
    want: set[str]


def evaluate(study: Study, protocol: Protocol, text: str = "") -> dict[str, Any]:
    began = time.perf_counter()
    go_live = study.go_live(protocol.index.go_live)
    s = d.sample(study, protocol, go_live)
    m = d.match(s, protocol)
    c = Context(study, protocol, m, go_live, set(protocol.designs))
    outcomes = []
    for key in protocol.outcomes:
        outcome = BY_KEY[key]
        reason = available(outcome, study.events)
        entry: dict[str, Any] = {
            "key": key,
            "label": outcome.label,
            "balancing": outcome.balancing,
            "better": outcome.better,
        }
        if reason:
            outcomes.append(entry | {"available": False, "reason": reason})
            continue
        entry["available"] = True
        # Everyone's neighbourhood x month counts, made once for the area designs, the
        # truth and the trend chart.
        area = d.panel(study, outcome, go_live) if outcome.area else None
        entry["designs"] = _designs(c, outcome, area)
        entry["groups"] = {g: _subgroup(c, outcome, g) for g in protocol.subgroups}
        if study.truth is not None:
            entry["truth"] = _truth(c, outcome, area)
        entry["trend"] = _trend(area) if area is not None else None
        outcomes.append(entry)
    max_after = max((abs(b["after"]) for b in m.balance), default=None)
    return {
        "schema": RESULT_SCHEMA,
        "protocol": {
            "name": protocol.name,
            "digest": protocol.digest(),
            "amendments": [a.model_dump(mode="json") for a in protocol.amendments],
            "text": text,
        },
        "data": {
            "source": study.source,
            "people": protect(len(study)),
            "enrolled": protect(len(study.enrolled)),
            "neighbourhoods": len(study.neighbourhoods),
            "live": int((go_live >= 0).sum()),
            "first_day": iso(study.first_day),
            "last_day": iso(study.last_day),
        },
        "go_live": {
            code: iso(int(day))
            for (code, _), day in zip(study.neighbourhoods, go_live.tolist(), strict=True)
        },
        "matching": {
            "treated": protect(int(m.treated.sum())),
            "comparators": protect(len(set(s.person[m.rows[~m.treated]].tolist()))),
            "unmatched": protect(m.unmatched),
            "enrolled_not_meeting_rule": protect(s.enrolled_not_eligible),
            "index_dates_without_look_back": s.index_dates_without_history,
            "balance": m.balance,
            "largest_difference_after": max_after,
            "balanced": max_after is not None and max_after < 0.1,
        },
        "outcomes": outcomes,
        "seconds": round(time.perf_counter() - began, 2),
    }


def _designs(
    c: Context,
    outcome: Outcome,
    area: d.Panel | None,
    subset: npt.NDArray[np.bool_] | None = None,
) -> dict[str, Any]:
    """Every design's estimate, for everyone or for one subgroup level (``area`` its
    counts, ``subset`` its rows of the matched comparison)."""
    study, protocol, m, want = c.study, c.protocol, c.matched, c.want
    out: dict[str, Any] = {}
    if "matched" in want:
        est, counts = d.matched_effect(study, m, outcome, subset)
        out["matched"] = est.as_dict() | {
            "treated": protect(int(counts["treated"])),
            "comparators": protect(int(counts["comparators"])),
            "treated_events": protect(round(counts["treated_events"])),
        }
    if "naive" in want and subset is None:
        out["naive"] = d.naive(study, m, outcome, protocol.follow_up_days).as_dict() | {
            "biased": True
        }
    if area is not None:
        if "staggered_did" in want:
            r = d.staggered_did(area)
            out["staggered_did"] = r.estimate.as_dict() | (
                {
                    "att_per_1000": rounded(r.att_per_1000),
                    "counterfactual_per_1000": rounded(r.counterfactual_per_1000),
                    "event_study": r.event_study,
                    "pre_trend_p": rounded(r.pre_trend_p),
                    "pre_trend_months": r.pre_trend_months,
                }
                if subset is None
                else {}
            )
        if "its" in want:
            out["its"] = d.interrupted_time_series(area).estimate.as_dict()
    return out


def _subgroup(c: Context, outcome: Outcome, group: str) -> dict[str, Any]:
    study, m, want = c.study, c.matched, c.want
    labels = study.groups[group]
    pair_labels = labels[m.sample.person[m.pair]] if len(m.pair) else np.zeros(0, object)
    levels = sorted(set(labels[study.adult].tolist()))
    rows = []
    for level in levels:
        area = (
            d.panel(study, outcome, c.go_live, labels == level)
            if outcome.area and {"staggered_did", "its"} & want
            else None
        )
        rows.append({"level": level} | _designs(c, outcome, area, pair_labels == level))
    tests: dict[str, float | None] = {}
    if "matched" in want:
        tests["matched"] = rounded(d.interaction_p(study, m, outcome, pair_labels))
    for design in ("staggered_did", "its"):
        if design in want and outcome.area:
            found = [
                d.Estimate(r[design]["ratio"], r[design]["low"], r[design]["high"])
                for r in rows
                if design in r
            ]
            tests[design] = rounded(d.heterogeneity_p(found))
    return {"label": SUBGROUP_LABELS[group], "levels": rows, "p_difference": tests}


def _truth(c: Context, outcome: Outcome, area: d.Panel | None) -> dict[str, float | None]:
    def on_area(design: str) -> float | None:
        if area is None:
            return None
        return rounded(area_truth(c.study, outcome, area, c.go_live, design))

    return {
        "matched": rounded(matched_truth(c.study, c.matched, outcome)),
        "staggered_did": on_area("staggered_did"),
        "its": on_area("its"),
    }


def _trend(area: d.Panel) -> dict[str, Any]:
    """Monthly rates per 1,000 in the neighbourhoods live by then and in those not yet
    live, for the outcome trends chart."""
    month = np.arange(area.months)
    live = (area.first_month >= 0)[:, None] & (month[None, :] >= area.first_month[:, None])
    out: dict[str, list[float | None]] = {"live": [], "not_yet_live": []}
    for j in range(area.months):
        for key, mask in (("live", live[:, j]), ("not_yet_live", ~live[:, j])):
            residents = area.residents[mask, j].sum()
            out[key].append(
                round(float(1000 * area.count[mask, j].sum() / residents), 3) if residents else None
            )
    months = [iso(int(day)) for day in d.month_days(area.first_day, area.months).tolist()]
    return {"months": months, **out}
