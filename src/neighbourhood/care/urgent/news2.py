"""The National Early Warning Score 2 (Royal College of Physicians, 2017): each reading's
sub-score, the total and the clinical risk it signals.

The chart is a published table of bands; it is written here as that table, once, and
tested band edge by band edge against the chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

CONSCIOUSNESS = {
    "A": "Alert",
    "C": "New confusion",
    "V": "Responds to voice",
    "P": "Responds to pain",
    "U": "Unresponsive",
}
# (upper bound inclusive, sub-score): the first band a reading falls in gives its score.
RESPIRATION = ((8, 3), (11, 1), (20, 0), (24, 2), (None, 3))
SPO2_SCALE1 = ((91, 3), (93, 2), (95, 1), (None, 0))
SYSTOLIC = ((90, 3), (100, 2), (110, 1), (219, 0), (None, 3))
PULSE = ((40, 3), (50, 1), (90, 0), (110, 1), (130, 2), (None, 3))
TEMPERATURE = (
    (Decimal("35.0"), 3),
    (Decimal("36.0"), 1),
    (Decimal("38.0"), 0),
    (Decimal("39.0"), 1),
    (None, 2),
)
# What a set of observations holds: the parameters ``score`` reads.
READINGS = (
    "respiration_rate",
    "spo2",
    "scale2",
    "on_oxygen",
    "systolic",
    "pulse",
    "consciousness",
    "temperature",
)
# Plausible readings: anything outside is a typing error, refused with the range.
LIMITS = {
    "respiration_rate": (1, 80),
    "spo2": (50, 100),
    "systolic": (40, 300),
    "pulse": (20, 250),
    "temperature": (Decimal("30.0"), Decimal("44.0")),
}


def _band(value: int | Decimal, bands: tuple[tuple[int | Decimal | None, int], ...]) -> int:
    for upper, score in bands:
        if upper is None or value <= upper:
            return score
    raise AssertionError("the last band is open")


def _spo2_scale2(spo2: int, on_oxygen: bool) -> int:
    """Scale 2, for a target range of 88–92% (hypercapnic respiratory failure): on air
    93% and above scores 0; on oxygen, above the range scores."""
    if spo2 <= 83:
        return 3
    if spo2 <= 85:
        return 2
    if spo2 <= 87:
        return 1
    if spo2 <= 92 or not on_oxygen:
        return 0
    if spo2 <= 94:
        return 1
    if spo2 <= 96:
        return 2
    return 3


@dataclass(frozen=True)
class Score:
    sub_scores: dict[str, int]
    total: int
    risk: str  # low, low-medium, medium, high

    @property
    def response(self) -> str:
        """What the chart says to do."""
        return {
            "low": "Continue monitoring as planned",
            "low-medium": "A single parameter scores 3: an urgent review by a clinician",
            "medium": "NEWS2 of 5 or more: an urgent response by a clinician competent to assess acute illness",
            "high": "NEWS2 of 7 or more: an emergency response; consider conveyance to hospital",
        }[self.risk]

    @property
    def escalate(self) -> bool:
        return self.risk != "low"


def score(
    *,
    respiration_rate: int,
    spo2: int,
    scale2: bool,
    on_oxygen: bool,
    systolic: int,
    pulse: int,
    consciousness: str,
    temperature: Decimal,
) -> Score:
    if consciousness not in CONSCIOUSNESS:
        raise ValueError(f"consciousness must be one of {', '.join(CONSCIOUSNESS)} (ACVPU)")
    subs = {
        "respiration_rate": _band(respiration_rate, RESPIRATION),
        "spo2": _spo2_scale2(spo2, on_oxygen) if scale2 else _band(spo2, SPO2_SCALE1),
        "air_or_oxygen": 2 if on_oxygen else 0,
        "systolic": _band(systolic, SYSTOLIC),
        "pulse": _band(pulse, PULSE),
        "consciousness": 0 if consciousness == "A" else 3,
        "temperature": _band(temperature, TEMPERATURE),
    }
    total = sum(subs.values())
    if total >= 7:
        risk = "high"
    elif total >= 5:
        risk = "medium"
    elif 3 in subs.values():
        risk = "low-medium"
    else:
        risk = "low"
    return Score(subs, total, risk)
