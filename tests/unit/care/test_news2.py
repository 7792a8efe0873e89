"""NEWS2 against the Royal College of Physicians' chart (2017), band edge by band edge."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from neighbourhood.care.urgent.news2 import score

NORMAL: dict[str, Any] = {
    "respiration_rate": 16,
    "spo2": 97,
    "scale2": False,
    "on_oxygen": False,
    "systolic": 120,
    "pulse": 70,
    "consciousness": "A",
    "temperature": Decimal("37.0"),
}


def _sub(name: str, value: Any, **more: Any) -> int:
    return score(**{**NORMAL, name: value, **more}).sub_scores[name]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3)],
)
def test_respiration_rate_bands(value: int, expected: int) -> None:
    assert _sub("respiration_rate", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0)]
)
def test_spo2_scale_1_bands(value: int, expected: int) -> None:
    assert _sub("spo2", value) == expected


@pytest.mark.parametrize(
    ("value", "oxygen", "expected"),
    [
        (83, False, 3),
        (84, False, 2),
        (85, False, 2),
        (86, False, 1),
        (87, False, 1),
        (88, False, 0),
        (92, True, 0),
        (93, False, 0),  # at or above 93% on air scores nothing on scale 2
        (99, False, 0),
        (93, True, 1),
        (94, True, 1),
        (95, True, 2),
        (96, True, 2),
        (97, True, 3),
    ],
)
def test_spo2_scale_2_bands(value: int, oxygen: bool, expected: int) -> None:
    assert _sub("spo2", value, scale2=True, on_oxygen=oxygen) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3)],
)
def test_systolic_bands(value: int, expected: int) -> None:
    assert _sub("systolic", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2), (130, 2), (131, 3)],
)
def test_pulse_bands(value: int, expected: int) -> None:
    assert _sub("pulse", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("35.0", 3),
        ("35.1", 1),
        ("36.0", 1),
        ("36.1", 0),
        ("38.0", 0),
        ("38.1", 1),
        ("39.0", 1),
        ("39.1", 2),
    ],
)
def test_temperature_bands(value: str, expected: int) -> None:
    assert _sub("temperature", Decimal(value)) == expected


@pytest.mark.parametrize(("value", "expected"), [("A", 0), ("C", 3), ("V", 3), ("P", 3), ("U", 3)])
def test_consciousness_acvpu(value: str, expected: int) -> None:
    assert _sub("consciousness", value) == expected


def test_totals_and_the_clinical_risk_they_signal() -> None:
    assert score(**NORMAL).total == 0 and score(**NORMAL).risk == "low"
    # One parameter at 3 on its own: an urgent review, though the total is only 3.
    alone = score(**{**NORMAL, "consciousness": "C"})
    assert (alone.total, alone.risk, alone.escalate) == (3, "low-medium", True)
    # 21 breaths (2), 94% (1), 105 systolic (1), 95 pulse (1): 5, an urgent response.
    medium = score(**{**NORMAL, "respiration_rate": 21, "spo2": 94, "systolic": 105, "pulse": 95})
    assert (medium.total, medium.risk) == (5, "medium")
    # On oxygen (2), 25 breaths (3), 91% (3), 112 pulse (2), 38.3 (1): 11, an emergency.
    high = score(
        **{
            **NORMAL,
            "on_oxygen": True,
            "respiration_rate": 25,
            "spo2": 91,
            "pulse": 112,
            "temperature": Decimal("38.3"),
        }
    )
    assert high.sub_scores == {
        "respiration_rate": 3,
        "spo2": 3,
        "air_or_oxygen": 2,
        "systolic": 0,
        "pulse": 2,
        "consciousness": 0,
        "temperature": 1,
    }
    assert (high.total, high.risk) == (11, "high")
    assert "emergency" in high.response


def test_an_unknown_level_of_consciousness_is_refused() -> None:
    with pytest.raises(ValueError, match="ACVPU"):
        score(**{**NORMAL, "consciousness": "X"})
