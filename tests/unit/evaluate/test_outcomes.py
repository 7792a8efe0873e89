"""Outcomes over windows of days: exact counts on a tiny table."""

from __future__ import annotations

import numpy as np

from neighbourhood.evaluate.outcomes import BY_KEY, Events, available, measure

P = np.array


def events() -> dict[str, Events]:
    # person 0: admissions on days 10 (3 days, ACS) and 40 (same day); person 1: on day 15
    admissions = Events.of(P([1, 0, 0]), P([15, 40, 10]), P([16, 40, 12]), P([False, False, True]))
    empty = Events.of(P([], dtype=np.int64), P([], dtype=np.int64))
    return {
        "emergency_admission": admissions,
        "ed_attendance": Events.of(P([0, 0, 1]), P([5, 10, 99])),
        "care_home_admission": Events.of(P([1]), P([30])),
        "elective_admission": Events.of(P([0]), P([60]), P([61])),
        "gp_appointment": empty,
        "reablement": empty,
    }


def test_counts_days_and_acs_over_windows() -> None:
    e = events()
    person, lo, hi = P([0, 0, 1, 1]), P([0, 11, 0, 16]), P([50, 50, 20, 100])
    admissions = e["emergency_admission"]
    assert admissions.count(person, lo, hi).tolist() == [2, 1, 1, 0]
    assert admissions.days(person, lo, hi).tolist() == [4.0, 1.0, 2.0, 0.0]
    assert admissions.acs_count(person, lo, hi).tolist() == [1.0, 0.0, 0.0, 0.0]
    assert admissions.first_at_or_after(P([0, 0, 1, 2]), P([11, 41, 0, 0])).tolist() == [
        40,
        -1,
        15,
        -1,
    ]


def test_deaths_days_at_home_and_what_cannot_be_measured() -> None:
    e = events()
    died = P([45, -1])
    person, lo, hi = P([0, 1]), P([0, 0]), P([46, 100])
    assert measure(BY_KEY["deaths"], e, died, person, lo, hi).tolist() == [1.0, 0.0]
    # person 0: 46 days less 4 in hospital; person 1: 100 less 2 in hospital, less 70 in a care home
    assert measure(BY_KEY["days_at_home"], e, died, person, lo, hi).tolist() == [42.0, 28.0]
    assert measure(BY_KEY["bed_days"], e, died, person, lo, hi).tolist() == [4.0, 2.0]
    assert "no reablement episodes" in str(available(BY_KEY["home_91_days_after_reablement"], e))
    assert available(BY_KEY["gp_appointments"], e) == "no gp appointment events in the data"
    assert available(BY_KEY["emergency_admissions"], e) is None
