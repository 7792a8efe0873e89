"""Long-term conditions: the count, the Charlson index and the conditions named.

Rules checked (ADR 8):
- a condition counts once however many of its codes are recorded (type 1 and type 2
  diabetes are one condition, "diabetes");
- the Charlson index is the sum of the weights of the distinct conditions, with the
  weights of Charlson et al. 1987 as the codelist adapts them to these conditions
  (chronic kidney disease and cancer 2; diabetes, heart failure, COPD 1; hypertension 0);
- the conditions are listed in alphabetical order of their codelist names;
- only diagnoses up to the as-of date count.
"""

from __future__ import annotations

from tests.spec.conftest import Engine, on_both_engines
from tests.support.population import Population


@on_both_engines
def test_count_charlson_and_names(engine: Engine) -> None:
    pop = Population()
    pop.person("none")
    pop.person("diabetes_twice").diagnosed(
        "diabetes_twice", "Type 1 diabetes mellitus", "Type 2 diabetes mellitus"
    )
    pop.person("three").diagnosed(
        "three", "Malignant neoplastic disease", "Essential hypertension", "Chronic kidney disease"
    )
    pop.person("four").diagnosed(
        "four", "Heart failure", "Osteoarthritis", "Chronic obstructive lung disease"
    ).diagnosed("four", "Type 2 diabetes mellitus", days_ago=0)
    pop.person("diagnosed_later").diagnosed("diagnosed_later", "Heart failure", days_ago=-1)
    measured = engine.measures(pop)
    assert {p: (m["ltc_count"], m["charlson"], m["conditions"]) for p, m in measured.items()} == {
        "none": (0, 0, None),
        "diabetes_twice": (1, 1, ["diabetes"]),
        "three": (3, 4, ["cancer", "chronic_kidney_disease", "hypertension"]),
        "four": (4, 3, ["copd", "diabetes", "heart_failure", "osteoarthritis"]),
        "diagnosed_later": (0, 0, None),
    }
