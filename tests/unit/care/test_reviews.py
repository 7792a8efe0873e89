"""What raises a review of a plan, worked out from the published facts alone."""

from __future__ import annotations

import datetime as dt

from neighbourhood.care.plans.reviews import add_months, triggers

SINCE = dt.date(2026, 6, 1)


def test_events_after_the_last_review_worse_frailty_and_new_conditions_raise_it() -> None:
    events = [
        {"activity": "emergency_admission", "start_date": dt.date(2026, 7, 2)},
        {"activity": "ed_attendance", "start_date": dt.date(2026, 6, 1)},  # the review's day
        {"activity": "ed_attendance", "start_date": None},  # a partner sent no date
        {"activity": "gp_appointment", "start_date": dt.date(2026, 8, 1)},
    ]
    person = {"frailty": "severe", "conditions": ["copd", "diabetes"]}
    baseline = {"frailty": "moderate", "conditions": ["diabetes"]}
    assert triggers(baseline, SINCE, person, events) == [
        ("emergency_admission:2026-07-02", "an emergency admission on 2 July 2026"),
        ("frailty:severe", "frailty now severe (was moderate)"),
        ("condition:copd", "a new long-term condition: COPD"),
    ]


def test_nothing_new_raises_nothing() -> None:
    person = {"frailty": "mild", "conditions": ["asthma"]}
    assert triggers({"frailty": "moderate", "conditions": ["asthma"]}, SINCE, person, []) == []
    assert triggers({"frailty": "", "conditions": []}, SINCE, {"frailty": "severe"}, []) == []
    assert triggers({}, SINCE, None, []) == []


def test_months_are_added_as_a_calendar_does() -> None:
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
