from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from neighbourhood.standards import nhs_number

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


def test_a_published_example_is_valid() -> None:
    # The NHS Data Dictionary's worked example.
    assert nhs_number.check_digit("943476591") == 9
    assert nhs_number.is_valid("9434765919")
    assert nhs_number.is_valid("943 476 5919")


def test_wrong_length_or_letters_are_invalid() -> None:
    for value in ("943476591", "94347659190", "94347659X9", ""):
        assert not nhs_number.is_valid(value)


def test_nine_digits_with_no_possible_check_digit_make_no_valid_number() -> None:
    # 10 as a check digit means no ten-digit number starting so is valid.
    first_nine = next(f"{i:09d}" for i in range(10**6) if nhs_number.check_digit(f"{i:09d}") == 10)
    assert not any(nhs_number.is_valid(first_nine + str(d)) for d in range(10))


@given(nine_digits, st.integers(0, 9), st.integers(1, 9))
def test_every_single_digit_error_is_caught(first: str, position: int, shift: int) -> None:
    check = nhs_number.check_digit(first)
    if check == 10:
        return
    valid = first + str(check)
    wrong = valid[:position] + str((int(valid[position]) + shift) % 10) + valid[position + 1 :]
    assert nhs_number.is_valid(valid)
    assert not nhs_number.is_valid(wrong)


@given(st.lists(st.integers(0, 10**9 - 1), min_size=1, max_size=50))
def test_vectorised_check_digits_match_the_scalar_rule(values: list[int]) -> None:
    vectorised = nhs_number.check_digits(np.array(values, dtype=np.int64)).tolist()
    assert vectorised == [nhs_number.check_digit(f"{v:09d}") for v in values]


@given(st.text(max_size=20))
def test_junk_never_crashes(value: str) -> None:
    assert nhs_number.is_valid(value) in (True, False)
