"""What each design should find in a synthetic ICS with a planted effect.

The planted effect is a rate ratio on each enrolled person's emergency admissions, A&E
attendances and care home admissions from enrolment on (``Rollout``). Each design
estimates it on its own scale, so its truth is computed from the events the model of
care prevented (``Study.prevented``), kept by synth:

- the matched comparison's truth is the enrolled people's ratio, each person's ratio
  weighted by the events they would have had (``planted ratio`` where it is the same
  for everyone);
- the area designs' truth is the ratio of the live neighbourhoods' rate to what it
  would have been without the model of care: the planted effect diluted by everyone
  not enrolled.
Outcomes the model of care does not touch (deaths, elective admissions, GP
appointments) have a true ratio of 1.
"""

from __future__ import annotations

import numpy as np

from neighbourhood.evaluate.designs import Matched, Panel, panel
from neighbourhood.evaluate.outcomes import ACTIVITIES, Events, Outcome, measure
from neighbourhood.evaluate.study import Study
from neighbourhood.synth.rollout import AFFECTED

# The outcomes the planted effect changes (bed days follow emergency admissions).
CHANGED = {
    "emergency_admissions",
    "acs_admissions",
    "ed_attendances",
    "bed_days",
    "care_home_admissions",
}
assert {"emergency_admission", "ed_attendance", "care_home_admission"} == set(AFFECTED)
UNCHANGED = {"deaths", "elective_admissions", "gp_appointments"}


def matched_truth(study: Study, m: Matched, outcome: Outcome) -> float | None:
    if outcome.key in UNCHANGED:
        return 1.0
    if outcome.key not in CHANGED or study.truth is None:
        return None
    rows = m.rows[m.treated]
    person, lo, hi = m.sample.person[rows], m.sample.index[rows], m.sample.end[rows]
    observed = measure(outcome, study.events, study.died, person, lo, hi)
    prevented = measure(outcome, _prevented(study), study.died, person, lo, hi)
    would = observed + prevented
    if would.sum() == 0:
        return None
    ratio = np.asarray(study.truth["ratio"])[person]
    return float((ratio * would).sum() / would.sum())


def area_truth(
    study: Study, outcome: Outcome, observed: Panel, go_live: np.ndarray, design: str
) -> float | None:
    if outcome.key in UNCHANGED:
        return 1.0
    if outcome.key not in CHANGED:
        return None
    prevented = panel(study, outcome, go_live, extra=_prevented(study))
    live = (observed.first_month > 0) & (observed.first_month < observed.months)
    month = np.arange(observed.months)
    post = live[:, None] & (month[None, :] >= observed.first_month[:, None])
    if design == "staggered_did":
        residents = observed.residents
        per_1000 = [
            np.divide(1000 * c, residents, out=np.zeros_like(c), where=residents > 0)
            for c in (observed.count, prevented.count)
        ]
        seen, lost = per_1000[0][post].mean(), per_1000[1][post].mean()
    else:
        seen, lost = observed.count[post].sum(), prevented.count[post].sum()
    if seen + lost == 0:
        return None
    return float(1 - lost / (seen + lost))


def _prevented(study: Study) -> dict[str, Events]:
    empty = np.zeros(0, dtype=np.int64)
    return {k: study.prevented.get(k, Events.of(empty, empty)) for k in ACTIVITIES}
