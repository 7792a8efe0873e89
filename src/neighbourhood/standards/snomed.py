"""SNOMED CT identifiers and their Verhoeff check digit.

An SCTID is 6 to 18 digits: an item identifier, a partition identifier (two
digits) and a Verhoeff check digit over all the digits before it.
"""

from __future__ import annotations

SYSTEM = "http://snomed.info/sct"

_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)
# Partition identifiers of concepts: 00 (international core) and 10 (extension).
CONCEPT_PARTITIONS = frozenset({"00", "10"})


def verhoeff_check_digit(digits: str) -> int:
    """The Verhoeff check digit to append to ``digits``."""
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[(i + 1) % 8][int(ch)]]
    return _INV[c]


def verhoeff_is_valid(digits: str) -> bool:
    """True when the last digit is the Verhoeff check digit of the others."""
    if not digits.isdigit():
        return False
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[i % 8][int(ch)]]
    return c == 0


def is_valid_sctid(value: str) -> bool:
    """A well-formed SCTID: 6–18 digits, no leading zero, valid check digit."""
    return (
        value.isdigit() and 6 <= len(value) <= 18 and value[0] != "0" and verhoeff_is_valid(value)
    )


def is_concept_id(value: str) -> bool:
    """A well-formed SCTID whose partition says it identifies a concept."""
    return is_valid_sctid(value) and value[-3:-1] in CONCEPT_PARTITIONS
