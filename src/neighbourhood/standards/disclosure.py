"""Statistical disclosure control for outputs that leave direct care (ADR 0009).

Counts of 1 to 7 are suppressed and the rest rounded to the nearest 5; a total is the
sum of the cells shown and a rate is computed from them, so nothing suppressed can be
got back by subtraction.
"""

from __future__ import annotations

import math

SMALLEST_SHOWN = 8  # counts of 1 to 7 are suppressed
ROUND_TO = 5


def protect(count: int) -> int | None:
    """Disclosure control of one count: None (suppressed) for 1 to 7, else to the nearest 5."""
    if count == 0:
        return 0
    if count < SMALLEST_SHOWN:
        return None
    return int(ROUND_TO * math.floor(count / ROUND_TO + 0.5))


def rate(numerator: int | None, denominator: int | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(100 * numerator / denominator, 1)
