"""What the people pages show, from published rows: exact values on a row or two."""

from __future__ import annotations

import datetime as dt

from neighbourhood.care.people.presenters import (
    planning_row,
    publication,
    readable,
    split_reasons,
)


def test_planning_counts_are_disclosure_controlled_and_rates_follow_the_counts_shown() -> None:
    row = {
        "neighbourhood_name": "Ashcombe North",
        "grp": None,
        "people": 412,
        "complex_needs": 31,
        "high_risk": 6,
        **{
            f"cohort_{c}": n
            for c, n in zip(
                ("frailty", "palliative", "complex_ltc", "children", "high_ed_use"),
                (12, 3, 18, 0, 8),
                strict=True,
            )
        },
    }
    assert planning_row(row) == {
        "neighbourhood": "Ashcombe North",
        "group": "Not recorded",
        "people": 410,
        "complex_needs": 30,
        "complex_rate": 7.3,  # 30 of 410, the counts shown
        "high_risk": None,  # 6: suppressed
        "cohorts": [10, None, 20, 0, 10],
    }


def test_dates_events_and_reasons_as_the_pages_show_them() -> None:
    assert publication(None) is None
    assert publication({"published_at": "2026-11-24T09:30:00", "as_of": "2026-11-20"}) == {
        "published_at": dt.datetime(2026, 11, 24, 9, 30),
        "as_of": dt.date(2026, 11, 20),
    }
    assert readable({"sector": "acute", "activity": "ed_attendance", "code": "x"}) == {
        "sector": "acute",
        "activity": "ed attendance",
        "code": "x",
        "term": "",
    }
    assert readable({"activity": "emergency_admission", "code": "183452005"})["term"] == (
        "Emergency hospital admission"
    )
    assert readable({"activity": "diagnosis", "code": "44054006"})["term"] == (
        "Type 2 diabetes mellitus"
    )
    assert readable({"sector": None})["sector"] == ""
    assert split_reasons("dementia; 6 A&E attendances in the last 12 months;  ") == [
        "dementia",
        "6 A&E attendances in the last 12 months",
    ]
    assert split_reasons(None) == []
