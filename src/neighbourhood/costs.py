"""Reference unit costs per event, shipped with the package.

Figures are rounded national averages from NHS England's National Cost
Collection 2022/23 and PSSRU *Unit Costs of Health and Social Care 2023*
(each row names its source). They are for synthesis and modelling, where a
relative cost is what matters; use local prices for finance.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

HOSPITAL_ACTIVITIES = frozenset(
    {"ed_attendance", "emergency_admission", "elective_day_case", "elective_admission", "bed_day"}
)


@dataclass(frozen=True)
class UnitCost:
    activity: str
    sector: str
    unit: str
    cost_gbp: float
    source: str


@cache
def unit_costs() -> dict[str, UnitCost]:
    """The reference table, by activity."""
    text = (
        resources.files("neighbourhood")
        .joinpath("reference/unit_costs.csv")
        .read_text(encoding="utf-8")
    )
    rows = csv.DictReader(text.splitlines())
    return {
        r["activity"]: UnitCost(
            r["activity"], r["sector"], r["unit"], float(r["cost_gbp"]), r["source"]
        )
        for r in rows
    }


def cost_of(activity: str, units: float = 1.0) -> float:
    """The cost of ``units`` of an activity, in pounds."""
    return unit_costs()[activity].cost_gbp * units


def spell_cost(activity: str, length_of_stay_days: int) -> float:
    """A hospital spell: its base price plus every bed day after the first two."""
    return cost_of(activity) + cost_of("bed_day", max(length_of_stay_days - 2, 0))
