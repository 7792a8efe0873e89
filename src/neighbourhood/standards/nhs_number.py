"""The NHS number and its Modulus 11 check digit (NHS Data Dictionary).

Weights 10..2 are applied to the first nine digits; the check digit is
``11 - (sum mod 11)``, with 11 read as 0; a result of 10 means the nine digits
can never form a valid NHS number.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
NO_CHECK_DIGIT = 10


def check_digit(first_nine: str) -> int:
    """The check digit for nine digits, or 10 when no valid number starts so."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError("an NHS number's first part is exactly nine digits")
    total = sum(int(d) * w for d, w in zip(first_nine, WEIGHTS, strict=True))
    digit = 11 - total % 11
    return 0 if digit == 11 else digit


def normalise(value: str) -> str:
    """Strip the spaces and hyphens people type into NHS numbers (``943 476 5919``)."""
    return value.replace(" ", "").replace("-", "").strip()


def is_valid(value: str) -> bool:
    """True for ten digits whose last is the Modulus 11 check digit of the first nine."""
    digits = normalise(value)
    if len(digits) != 10 or not digits.isdigit():
        return False
    expected = check_digit(digits[:9])
    return expected != NO_CHECK_DIGIT and expected == int(digits[9])


def check_digits(first_nine: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Vectorised :func:`check_digit` over integers below 10**9 (10 marks 'none')."""
    total = np.zeros_like(first_nine)
    rest = first_nine.copy()
    for weight in (2, 3, 4, 5, 6, 7, 8, 9, 10):  # least significant digit first
        total += (rest % 10) * weight
        rest //= 10
    digit = 11 - total % 11
    return np.where(digit == 11, 0, digit)


def format_spaced(value: str) -> str:
    """The 3-3-4 form printed on letters and typed into social care systems."""
    return f"{value[:3]} {value[3:6]} {value[6:]}"
