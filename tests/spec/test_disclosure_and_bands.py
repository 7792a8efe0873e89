"""Risk bands and statistical disclosure control: arithmetic on numbers, the same on
every engine, so checked once.

Rules checked:
- risk bands (ADR 8): high from the 95th centile of predicted risk in the population,
  rising from the 80th, low below; people with equal risk share the higher band;
- disclosure control (ADR 9, after NHS England's small-numbers guidance): 0 is shown,
  1 to 7 are suppressed, the rest rounded to the nearest 5 (halves up); a rate is
  computed from the cells shown and suppressed with them; a total is the sum of the
  cells shown.
"""

from __future__ import annotations

import numpy as np

from neighbourhood.phm.report import totals
from neighbourhood.phm.risk import _bands
from neighbourhood.standards.disclosure import protect, rate


def test_risk_bands_by_centile() -> None:
    risk = np.arange(1, 21) / 100  # 0.01 to 0.20: the 95th centile is 0.1905, the 80th 0.162
    bands = list(_bands(risk))
    assert bands == ["low"] * 16 + ["rising"] * 3 + ["high"]
    assert list(_bands(np.full(4, 0.3))) == ["high"] * 4


def test_disclosure_control_of_counts_rates_and_totals() -> None:
    assert {n: protect(n) for n in (0, 1, 7, 8, 12, 13, 17, 18, 102, 103)} == {
        0: 0,
        1: None,
        7: None,
        8: 10,
        12: 10,
        13: 15,
        17: 15,
        18: 20,
        102: 100,
        103: 105,
    }
    assert (rate(10, 40), rate(None, 40), rate(10, None), rate(10, 0), rate(0, 15)) == (
        25.0,
        None,
        None,
        None,
        0.0,
    )
    cells = [{"people": protect(n)} for n in (3, 12, 0, 18)]
    assert totals(cells, "people") == 30  # 3 suppressed counts nothing: 10 + 0 + 20
