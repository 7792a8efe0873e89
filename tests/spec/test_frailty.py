"""Frailty: the electronic Frailty Index (eFI) and its categories.

Rules checked (ADR 8, after Clegg et al. 2016, Age and Ageing 45:353):
- the eFI is the number of distinct deficits coded, out of 36, to 3 decimal places;
- several codes of one deficit count once; a code recorded after the as-of date does not count;
- categories: fit up to 0.12, mild up to 0.24, moderate up to 0.36, severe above;
- a coded frailty category (mild, moderate, severe) counts when worse than the eFI's;
- the eFI is validated from 65: younger people have no eFI and no category.
"""

from __future__ import annotations

from neighbourhood.phm.codelists import codelists
from tests.spec.conftest import Engine, on_both_engines
from tests.support.population import Population, born

# Thirteen distinct deficits, in the order a test adds them.
DEFICITS = (
    "Falls",
    "Urinary incontinence",
    "Hearing loss",
    "Visual impairment",
    "Walking disability",
    "Memory impairment",
    "Housebound",
    "Lives alone",
    "Fracture of neck of femur",
    "Dizziness",
    "Dyspnoea",
    "Weight loss",
    "Essential hypertension",
)


@on_both_engines
def test_every_code_of_the_deficit_codelist_counts_as_one_deficit(engine: Engine) -> None:
    rows = codelists()["frailty_deficits"].rows
    pop = Population()
    for i, row in enumerate(rows):
        pop.person(f"p{i}", age=80).diagnosed(f"p{i}", row["term"])
    measured = engine.measures(pop)
    assert {row["term"]: measured[f"p{i}"]["deficits"] for i, row in enumerate(rows)} == {
        row["term"]: 1 for row in rows
    }
    assert {measured[f"p{i}"]["efi"] for i in range(len(rows))} == {0.028}  # 1/36


@on_both_engines
def test_codes_of_one_deficit_count_once_and_later_codes_not_at_all(engine: Engine) -> None:
    pop = Population()
    pop.person("memory", age=80).diagnosed("memory", "Memory impairment", "Dementia")
    pop.person("breath", age=80).diagnosed("breath", "Asthma", "Chronic obstructive lung disease")
    pop.person("later", age=80).diagnosed("later", "Falls").diagnosed(
        "later", "Dizziness", days_ago=-1
    )
    pop.person("repeated", age=80).diagnosed("repeated", "Falls").diagnosed(
        "repeated", "Falls", days_ago=10
    )
    pop.person("not_a_diagnosis", age=80).event("not_a_diagnosis", "referral", code="161898004")
    measured = engine.measures(pop)
    assert {p: m["deficits"] for p, m in measured.items()} == {
        "memory": 1,
        "breath": 1,
        "later": 1,
        "repeated": 1,
        "not_a_diagnosis": 0,
    }


# Deficits coded, and the eFI and category they give.
BANDS = {0: (0.0, "fit"), 4: (0.111, "fit"), 5: (0.139, "mild"), 8: (0.222, "mild")} | {
    9: (0.25, "moderate"),
    12: (0.333, "moderate"),
    13: (0.361, "severe"),
}


@on_both_engines
def test_efi_and_its_category_at_each_cut_off(engine: Engine) -> None:
    pop = Population()
    for deficits in BANDS:
        pop.person(f"d{deficits}", age=80).diagnosed(f"d{deficits}", *DEFICITS[:deficits])
    measured = engine.measures(pop)
    assert {
        d: (measured[f"d{d}"]["deficits"], measured[f"d{d}"]["efi"], measured[f"d{d}"]["frailty"])
        for d in BANDS
    } == {d: (d, *expected) for d, expected in BANDS.items()}


@on_both_engines
def test_a_coded_category_counts_when_worse_than_the_efi(engine: Engine) -> None:
    pop = Population()
    pop.person("coded_severe", age=80).diagnosed("coded_severe", "Severe frailty")
    pop.person("coded_mild_efi_moderate", age=80).diagnosed(
        "coded_mild_efi_moderate", "Mild frailty", *DEFICITS[:9]
    )
    pop.person("coded_moderate_efi_mild", age=80).diagnosed(
        "coded_moderate_efi_mild", "Moderate frailty", *DEFICITS[:5]
    )
    measured = engine.measures(pop)
    assert {p: (m["efi"], m["frailty"], m["cohort_frailty"]) for p, m in measured.items()} == {
        "coded_severe": (0.0, "severe", True),
        "coded_mild_efi_moderate": (0.25, "moderate", True),
        "coded_moderate_efi_mild": (0.139, "moderate", True),
    }


@on_both_engines
def test_the_efi_is_measured_from_the_65th_birthday(engine: Engine) -> None:
    pop = Population()
    pop.person("turns_65_today", date_of_birth=born(65)).diagnosed("turns_65_today", *DEFICITS)
    pop.person("turns_65_tomorrow", date_of_birth=born(65, days_after_birthday=-1))
    pop.diagnosed("turns_65_tomorrow", *DEFICITS)
    pop.person("coded_at_50", age=50).diagnosed("coded_at_50", "Severe frailty")
    measured = engine.measures(pop)
    assert {
        p: (m["age"], m["efi"], m["frailty"], m["cohort_frailty"]) for p, m in measured.items()
    } == {
        "turns_65_today": (65, 0.361, "severe", True),
        "turns_65_tomorrow": (64, None, None, False),
        "coded_at_50": (50, None, None, False),
    }
