"""Each corruptor changes a value the way its kind of error does, and nothing else."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from neighbourhood.synth.corruption import (
    EPOCH,
    abbreviate_street,
    mistype_date,
    mistype_postcode,
    ocr,
    phonetic,
)


def rng(seed: int = 1) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_ocr_and_phonetic_errors_replace_what_a_reader_or_a_listener_would_confuse() -> None:
    # one rule fits each of these, wherever the random stream starts
    assert {ocr(rng(s), "Harm") for s in range(20)} == {"Harrn"}
    assert {phonetic(rng(s), "Stephan") for s in range(20)} == {"Stefan"}
    # several fit "Philippa": each error is one of them
    assert {phonetic(rng(s), "Philippa") for s in range(60)} <= {"Phylippa", "Philyppa"}


def test_a_value_no_rule_fits_gets_a_keyboard_slip_instead() -> None:
    assert all(phonetic(rng(s), "Bob") != "Bob" for s in range(20))


def test_a_street_type_is_shortened_as_clerks_do() -> None:
    assert abbreviate_street(rng(), "Acacia Road") in {"Acacia Rd", "Acacia Rd.", "Acacia RD"}
    assert abbreviate_street(rng(), "Church Crescent") in {"Church Cres", "Church Cresc"}
    assert abbreviate_street(rng(), "The Mews") == "The Mews"  # never shortened


@given(st.integers(0, 10_000), st.sampled_from(["QA1 2AB", "QB12 9XY", "2250", "QA10 1DE"]))
def test_a_mistyped_postcode_differs_in_one_place_or_two_swapped(seed: int, code: str) -> None:
    typed = mistype_postcode(rng(seed), code)
    assert len(typed) == len(code) and typed != code
    differ = [i for i, (a, b) in enumerate(zip(code, typed, strict=True)) if a != b]
    assert len(differ) == 1 or (len(differ) == 2 and differ[1] == differ[0] + 1)


@given(st.integers(0, 10_000), st.dates(dt.date(1900, 1, 1), dt.date(2026, 9, 30)))
def test_a_mistyped_date_of_birth_is_a_real_date_near_the_true_one(
    seed: int, born: dt.date
) -> None:
    days = (born - EPOCH).days
    typed = EPOCH + dt.timedelta(days=mistype_date(rng(seed), days))
    assert typed != born
    assert typed <= born + dt.timedelta(days=366)  # never keyed into the future
    assert abs(typed.year - born.year) <= 81  # a transposed year: 1919 read as 1991
