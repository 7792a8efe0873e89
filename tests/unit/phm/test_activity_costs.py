"""Twelve months' activity and cost per person, on a tiny table."""

from __future__ import annotations

import datetime as dt

import ibis

from neighbourhood.phm.measures import _activity

AS_OF = dt.date(2026, 9, 30)


def test_a_person_whose_recent_events_have_no_unit_cost_costs_nothing() -> None:
    events = ibis.memtable(
        {
            "person_id": ["A", "A", "B", "C"],
            "start_date": [
                dt.date(2026, 6, 1),
                dt.date(2026, 7, 1),
                dt.date(2026, 8, 1),
                dt.date(2024, 1, 1),
            ],
            "activity": ["ed_attendance", "int_enrolment", "int_enrolment", "ed_attendance"],
            "sector": ["acute", "integrated_care", "integrated_care", "acute"],
            "cost_gbp": [250.5, None, None, 250.5],
        }
    )
    found = {r["person_id"]: r for r in _activity(events, AS_OF).to_pyarrow().to_pylist()}
    assert set(found) == {"A", "B"}  # C's attendance is older than a year
    assert (found["A"]["cost_12m"], found["A"]["hospital_cost_12m"]) == (250.5, 250.5)
    assert (found["B"]["cost_12m"], found["B"]["hospital_cost_12m"]) == (0.0, 0.0)
    assert (found["A"]["ed_attendances_12m"], found["B"]["ed_attendances_12m"]) == (1, 0)


def test_a_risk_factor_not_recorded_is_left_out_of_the_reasons() -> None:
    from neighbourhood.phm.risk import _words

    values = {"efi": [None, 0.31], "cost_12m": [1234.4, None], "age": [81, 70]}
    sexes = ["female", "male"]
    assert _words("efi", values, sexes, 0) == ""
    assert _words("efi", values, sexes, 1) == "efi"
    assert _words("cost_12m", values, sexes, 0) == "£1,234 of care in 12 months"
    assert _words("cost_12m", values, sexes, 1) == ""
    assert _words("age", values, sexes, 1) == "age 70"
