"""Why a person is on the case-finding list, in the words a care coordinator reads.

Rules checked (ADR 8): one phrase per reason that applies, in this order, joined by
"; ": palliative care; moderate or severe frailty with the eFI; dementia; long-term
conditions named as a clinician writes them ("COPD", "Parkinson's disease"); a child or
young person with their age; A&E attendances (5 or more) and emergency admissions
(2 or more) in the last 12 months. Nobody on the list has no reason.
"""

from __future__ import annotations

from tests.spec.conftest import Engine, on_both_engines
from tests.support.population import Population


@on_both_engines
def test_reasons_in_words(engine: Engine) -> None:
    pop = Population()
    pop.person("palliative", age=70).diagnosed("palliative", "Palliative care")
    pop.person("coded_moderate", age=80).diagnosed("coded_moderate", "Moderate frailty")
    pop.person("frail_with_dementia", age=90).diagnosed(
        "frail_with_dementia",
        *("Dementia", "Falls", "Urinary incontinence", "Hearing loss", "Visual impairment"),
        *("Walking disability", "Housebound", "Lives alone", "Dizziness"),
    )
    pop.person("four_ltcs", age=60).diagnosed(
        "four_ltcs",
        "Heart failure",
        "Chronic obstructive lung disease",
        "Type 2 diabetes mellitus",
        "Parkinson's disease",
    )
    pop.person("learning_disability", age=40).diagnosed(
        "learning_disability", "Intellectual disability"
    )
    pop.person("child", age=12).diagnosed("child", "Epilepsy")
    pop.person("emergencies", age=30).attended_ed("emergencies", 6).admitted("emergencies", 2)
    pop.person("admitted_twice", age=30).admitted("admitted_twice", 2)
    pop.person("nobody", age=30)
    measured = engine.measures(pop)
    assert {p: m["reasons"] for p, m in measured.items()} == {
        "palliative": "palliative care recorded",
        "coded_moderate": "moderate frailty (coded, or eFI 0.0)",
        "frail_with_dementia": "moderate frailty (coded, or eFI 0.25); dementia",
        "four_ltcs": ("4 long-term conditions: COPD, diabetes, heart failure, Parkinson's disease"),
        "learning_disability": "long-term condition: learning disability",
        "child": "a child or young person with complex needs (age 12)",
        "emergencies": (
            "6 A&E attendances in the last 12 months; 2 emergency admissions in the last 12 months"
        ),
        "admitted_twice": "2 emergency admissions in the last 12 months",
        "nobody": "",
    }
    assert all(m["reasons"] for m in measured.values() if m["complex_needs"])
