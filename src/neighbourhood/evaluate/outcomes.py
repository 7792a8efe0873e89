"""The outcomes an evaluation reads, and how each is counted over a window of days.

Each person's events are arrays sorted by (person, day), so the count of events of
many people over many windows is two binary searches (``Events.count``), and bed
days a difference of cumulative sums: a matched comparison of 20,000 people reads its
outcomes without a loop over people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neighbourhood import operational
from neighbourhood.evaluate.protocol import OUTCOMES

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
KEY = 1 << 20  # days since 1970 stay below this until the year 4840

# Chronic ambulatory care sensitive conditions (NHS Outcomes Framework 2.3.i), as the
# primary reason for an emergency admission (SNOMED CT).
ACS_CODES = frozenset(
    {
        "195967001",  # asthma
        "13645005",  # chronic obstructive lung disease
        "84114007",  # heart failure
        "414545008",  # ischaemic heart disease (angina)
        "49436004",  # atrial fibrillation
        "44054006",  # type 2 diabetes mellitus
        "46635009",  # type 1 diabetes mellitus
        "84757009",  # epilepsy
        "59621000",  # essential hypertension
        "52448006",  # dementia
    }
)
# What each outcome reads from the planning tables' activity.
ACTIVITIES = {
    "emergency_admission": ("emergency_admission",),
    "ed_attendance": ("ed_attendance",),
    "care_home_admission": ("care_home_admission",),
    "elective_admission": ("elective_admission", "elective_day_case"),
    "gp_appointment": ("gp_appointment",),
    "reablement": ("reablement",),
}
# Everything evaluation reads (publish copies these under pseudonyms).
PLANNING_ACTIVITIES = (
    *sorted({a for acts in ACTIVITIES.values() for a in acts}),
    *operational.ACTIVITIES.values(),
)


@dataclass(frozen=True)
class Outcome:
    key: str
    label: str
    source: str  # a key of ACTIVITIES, or "" for outcomes read from deaths
    measure: str = "count"  # count, days (bed days), acs, deaths, at_home, home_91
    balancing: bool = False
    area: bool = True  # also counted by neighbourhood and month (DiD, ITS)
    # What the effect means: "fewer is better" (most) or "more is better".
    better: str = "lower"


OUTCOME_LIST = (
    Outcome("emergency_admissions", "Emergency admissions", "emergency_admission"),
    Outcome(
        "acs_admissions",
        "Emergency admissions for ambulatory care sensitive conditions",
        "emergency_admission",
        "acs",
    ),
    Outcome("ed_attendances", "A&E attendances", "ed_attendance"),
    Outcome("bed_days", "Emergency bed days", "emergency_admission", "days"),
    Outcome("care_home_admissions", "Care home admissions", "care_home_admission"),
    Outcome("days_at_home", "Days at home", "", "at_home", area=False, better="higher"),
    Outcome("deaths", "Deaths", "", "deaths"),
    Outcome(
        "home_91_days_after_reablement",
        "Still at home 91 days after discharge into reablement",
        "reablement",
        "home_91",
        area=False,
        better="higher",
    ),
    Outcome(
        "elective_admissions",
        "Elective admissions (balancing)",
        "elective_admission",
        balancing=True,
    ),
    Outcome("gp_appointments", "GP appointments (balancing)", "gp_appointment", balancing=True),
)
BY_KEY = {o.key: o for o in OUTCOME_LIST}
assert tuple(BY_KEY) == OUTCOMES, "the protocol's outcome list and ours must agree"


@dataclass
class Events:
    """One activity's events: person (a position in the study), first and last day, and
    whether the reason is an ambulatory care sensitive condition; sorted by person, day."""

    person: IntArray
    start: IntArray
    end: IntArray
    acs: npt.NDArray[np.bool_]

    @classmethod
    def of(
        cls,
        person: IntArray,
        start: IntArray,
        end: IntArray | None = None,
        acs: npt.NDArray[np.bool_] | None = None,
    ) -> Events:
        end = start if end is None else np.maximum(end, start)
        acs = np.zeros(len(person), dtype=bool) if acs is None else acs
        order = np.lexsort((start, person))
        return cls(
            person[order].astype(np.int64),
            start[order].astype(np.int64),
            end[order].astype(np.int64),
            acs[order],
        )

    def __len__(self) -> int:
        return len(self.person)

    @property
    def key(self) -> IntArray:
        """Person and day in one sortable number, made once."""
        found: IntArray | None = self.__dict__.get("_key")
        if found is None:
            found = self.person * KEY + self.start
            self.__dict__["_key"] = found
        return found

    def _bounds(self, person: IntArray, lo: IntArray, hi: IntArray) -> tuple[IntArray, IntArray]:
        a = np.searchsorted(self.key, person * KEY + lo, "left")
        b = np.searchsorted(self.key, person * KEY + np.maximum(hi, lo), "left")
        return a, b

    def count(self, person: IntArray, lo: IntArray, hi: IntArray) -> IntArray:
        """Events starting on days lo <= day < hi, for each (person, lo, hi)."""
        a, b = self._bounds(person, lo, hi)
        return np.asarray(b - a, dtype=np.int64)

    def cumulative(
        self, values: npt.NDArray[np.float64], person: IntArray, lo: IntArray, hi: IntArray
    ) -> FloatArray:
        a, b = self._bounds(person, lo, hi)
        total = np.concatenate([[0.0], np.cumsum(values)])
        return np.asarray(total[b] - total[a], dtype=np.float64)

    def days(self, person: IntArray, lo: IntArray, hi: IntArray) -> FloatArray:
        """Days in hospital of the spells starting in the window (a same-day spell is 1)."""
        return self.cumulative((self.end - self.start + 1).astype(float), person, lo, hi)

    def acs_count(self, person: IntArray, lo: IntArray, hi: IntArray) -> FloatArray:
        return self.cumulative(self.acs.astype(float), person, lo, hi)

    def first_at_or_after(self, person: IntArray, day: IntArray) -> IntArray:
        """Each person's first event on or after ``day``, or -1."""
        a = np.searchsorted(self.key, person * KEY + day, "left")
        found = np.full(len(person), -1, dtype=np.int64)
        ok = a < len(self.key)
        ok[ok] = self.person[a[ok]] == person[ok]
        found[ok] = self.start[a[ok]]
        return found


def measure(
    outcome: Outcome,
    events: dict[str, Events],
    died: IntArray,
    person: IntArray,
    lo: IntArray,
    hi: IntArray,
) -> FloatArray:
    """The outcome of each (person, window): hi is the end of follow-up (exclusive),
    already cut at death or censoring."""
    if outcome.measure == "deaths":
        d = died[person]
        return ((d >= lo) & (d < hi + 1)).astype(float)
    if outcome.measure == "at_home":
        inside = events["emergency_admission"].days(person, lo, hi) + events[
            "elective_admission"
        ].days(person, lo, hi)
        moved = events["care_home_admission"].first_at_or_after(person, lo)
        in_home = np.where((moved >= 0) & (moved < hi), hi - moved, 0)
        return np.maximum(hi - lo - inside - in_home, 0).astype(float)
    found = events[outcome.source]
    if outcome.measure == "days":
        return found.days(person, lo, hi)
    if outcome.measure == "acs":
        return found.acs_count(person, lo, hi)
    return found.count(person, lo, hi).astype(float)


def available(outcome: Outcome, events: dict[str, Events]) -> str | None:
    """Why an outcome cannot be measured in these data, or None."""
    if outcome.measure == "home_91":
        if "reablement" not in events or not len(events["reablement"]):
            return "no reablement episodes in the data (none of the feeds records them)"
        return "reablement episodes are recorded, but no feed records where people live after discharge"
    if outcome.source and not len(events[outcome.source]):
        return f"no {outcome.source.replace('_', ' ')} events in the data"
    return None
