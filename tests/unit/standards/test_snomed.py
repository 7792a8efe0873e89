from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from neighbourhood.standards import snomed
from neighbourhood.synth import catalogue as cat

digits = st.text(alphabet="0123456789", min_size=5, max_size=17).filter(lambda s: s[0] != "0")


def all_catalogue_codes() -> list[str]:
    concepts = [
        cat.PALLIATIVE_CARE,
        cat.CARER,
        cat.GP_CONSULTATION,
        cat.TELEPHONE_CONSULTATION,
        cat.HOME_VISIT,
        cat.ED_ATTENDANCE,
        cat.EMERGENCY_ADMISSION,
        cat.ELECTIVE_ADMISSION,
        cat.WOUND_CARE,
        cat.PHYSIOTHERAPY,
        cat.OCCUPATIONAL_THERAPY,
        cat.PSYCHOTHERAPY,
        cat.NEEDS_ASSESSMENT,
        cat.SOCIAL_PRESCRIBING,
        cat.BMI,
        cat.SYSTOLIC_BP,
        cat.CHOLESTEROL,
        *cat.SMOKING_STATUS.values(),
        *cat.FRAILTY_CODES.values(),
        *(c for c, _ in cat.FRAILTY_DEFICITS),
    ]
    return [c.code for c in concepts] + [c.code for c in cat.CONDITIONS]


def test_well_known_concepts_are_valid() -> None:
    assert snomed.is_concept_id("44054006")  # type 2 diabetes
    assert snomed.is_concept_id("925831000000107")  # moderate frailty, UK extension
    assert not snomed.is_valid_sctid("44054007")
    assert not snomed.is_valid_sctid("012345")


def test_every_code_the_synthetic_ics_uses_is_a_valid_concept_id() -> None:
    bad = [code for code in all_catalogue_codes() if not snomed.is_concept_id(code)]
    assert bad == []


@given(digits)
def test_appending_the_check_digit_makes_a_valid_identifier(body: str) -> None:
    assert snomed.verhoeff_is_valid(body + str(snomed.verhoeff_check_digit(body)))


@given(digits, st.data())
def test_single_digit_errors_and_adjacent_swaps_are_caught(body: str, data: st.DataObject) -> None:
    valid = body + str(snomed.verhoeff_check_digit(body))
    i = data.draw(st.integers(0, len(valid) - 1))
    shift = data.draw(st.integers(1, 9))
    changed = valid[:i] + str((int(valid[i]) + shift) % 10) + valid[i + 1 :]
    assert not snomed.verhoeff_is_valid(changed)
    if i < len(valid) - 1 and valid[i] != valid[i + 1]:
        swapped = valid[:i] + valid[i + 1] + valid[i] + valid[i + 2 :]
        assert not snomed.verhoeff_is_valid(swapped)


@given(st.text(max_size=20))
def test_junk_never_crashes(value: str) -> None:
    assert snomed.is_valid_sctid(value) in (True, False)
