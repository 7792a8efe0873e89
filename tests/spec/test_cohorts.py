"""The guidelines' five cohorts of people with complex needs (seed 004), each at its edges.

Rules checked (ADR 8):
- frailty: moderate or severe frailty (eFI or coded) from 65, or dementia at any age;
- palliative: palliative care coded;
- complex long-term conditions: 4 or more; or 3 and an emergency admission in 12 months;
  or severe mental illness and 2 or more; or learning disability, multiple sclerosis or
  Parkinson's disease alone;
- children and young people (under 18): learning disability, epilepsy, or 2 or more
  long-term conditions;
- high-intensity use of A&E: 5 or more attendances in the 12 months before the as-of
  date (a day more than 364 days before it is outside);
- complex needs: any cohort; the cohort count says how many.
"""

from __future__ import annotations

from tests.spec.conftest import Engine, on_both_engines
from tests.support.population import Population

COHORTS = ("frailty", "palliative", "complex_ltc", "children", "high_ed_use")
FOUR = ("Heart failure", "Osteoarthritis", "Asthma", "Type 2 diabetes mellitus")


def cohorts(measured: dict[str, dict[str, object]]) -> dict[str, tuple[str, ...]]:
    return {p: tuple(c for c in COHORTS if m[f"cohort_{c}"]) for p, m in measured.items()}


@on_both_engines
def test_each_cohort_at_its_edges(engine: Engine) -> None:
    pop = Population()
    pop.person("moderately_frail", age=80).diagnosed("moderately_frail", "Moderate frailty")
    pop.person("mildly_frail", age=80).diagnosed("mildly_frail", "Mild frailty")
    pop.person("dementia_at_50", age=50).diagnosed("dementia_at_50", "Dementia")
    pop.person("palliative", age=50).diagnosed("palliative", "Palliative care")
    pop.person("four_ltcs").diagnosed("four_ltcs", *FOUR)
    pop.person("three_ltcs").diagnosed("three_ltcs", *FOUR[:3])
    pop.person("three_ltcs_admitted").diagnosed("three_ltcs_admitted", *FOUR[:3])
    pop.admitted("three_ltcs_admitted", 1, days_ago=364)
    pop.person("three_ltcs_admitted_long_ago").diagnosed("three_ltcs_admitted_long_ago", *FOUR[:3])
    pop.admitted("three_ltcs_admitted_long_ago", 1, days_ago=365)
    pop.person("smi_and_two").diagnosed("smi_and_two", "Schizophrenia", "Asthma")
    pop.person("smi_alone").diagnosed("smi_alone", "Schizophrenia")
    pop.person("multiple_sclerosis").diagnosed("multiple_sclerosis", "Multiple sclerosis")
    pop.person("epilepsy_at_17", age=17).diagnosed("epilepsy_at_17", "Epilepsy")
    pop.person("epilepsy_at_18", age=18).diagnosed("epilepsy_at_18", "Epilepsy")
    pop.person("two_ltcs_at_10", age=10).diagnosed("two_ltcs_at_10", "Asthma", "Epilepsy")
    pop.person("asthma_at_10", age=10).diagnosed("asthma_at_10", "Asthma")
    pop.person("ld_at_12", age=12).diagnosed("ld_at_12", "Intellectual disability")
    pop.person("five_ae").attended_ed("five_ae", 4, days_ago=1).attended_ed(
        "five_ae", 1, days_ago=364
    )
    pop.person("four_ae_in_year").attended_ed("four_ae_in_year", 4).attended_ed(
        "four_ae_in_year", 1, days_ago=365
    )
    pop.person("five_ae_one_tomorrow").attended_ed("five_ae_one_tomorrow", 4)
    pop.attended_ed("five_ae_one_tomorrow", 1, days_ago=-1)
    pop.person("nobody")
    measured = engine.measures(pop)
    assert cohorts(measured) == {
        "moderately_frail": ("frailty",),
        "mildly_frail": (),
        "dementia_at_50": ("frailty",),
        "palliative": ("palliative",),
        "four_ltcs": ("complex_ltc",),
        "three_ltcs": (),
        "three_ltcs_admitted": ("complex_ltc",),
        "three_ltcs_admitted_long_ago": (),
        "smi_and_two": ("complex_ltc",),
        "smi_alone": (),
        "multiple_sclerosis": ("complex_ltc",),
        "epilepsy_at_17": ("children",),
        "epilepsy_at_18": (),
        "two_ltcs_at_10": ("children",),
        "asthma_at_10": (),
        "ld_at_12": ("complex_ltc", "children"),
        "five_ae": ("high_ed_use",),
        "four_ae_in_year": (),
        "five_ae_one_tomorrow": (),
        "nobody": (),
    }
    assert {p: (m["complex_needs"], m["cohort_count"]) for p, m in measured.items()} == {
        p: (bool(found), len(found)) for p, found in cohorts(measured).items()
    }
