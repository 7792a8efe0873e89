"""Bridges to Health segments: each person in exactly one, the first that applies.

Rules checked (Lynn et al. 2007, as ADR 8 adapts them), in order of precedence:
end of life (palliative care coded); frailty and dementia (moderate or severe frailty,
or dementia); limited reserve (heart failure, COPD, chronic kidney disease or liver
disease); short period of decline (cancer); stable but serious disability (learning
disability, multiple sclerosis, Parkinson's disease, or severe mental illness);
long-term conditions (any other); healthy (none).
"""

from __future__ import annotations

from tests.spec.conftest import Engine, on_both_engines
from tests.support.population import Population


@on_both_engines
def test_each_segment_and_its_precedence(engine: Engine) -> None:
    pop = Population()
    pop.person("palliative_with_cancer", age=70).diagnosed(
        "palliative_with_cancer", "Palliative care", "Malignant neoplastic disease"
    )
    pop.person("dementia_with_heart_failure", age=70).diagnosed(
        "dementia_with_heart_failure", "Dementia", "Heart failure"
    )
    pop.person("severely_frail", age=85).diagnosed("severely_frail", "Severe frailty")
    pop.person("mildly_frail_with_asthma", age=85).diagnosed(
        "mildly_frail_with_asthma", "Mild frailty", "Asthma"
    )
    for organ in ("Heart failure", "Chronic obstructive lung disease", "Chronic liver disease"):
        pop.person(organ).diagnosed(organ, organ)
    pop.person("kidneys").diagnosed("kidneys", "Chronic kidney disease")
    pop.person("cancer_with_ms").diagnosed(
        "cancer_with_ms", "Malignant neoplastic disease", "Multiple sclerosis"
    )
    pop.person("bipolar").diagnosed("bipolar", "Bipolar disorder")
    pop.person("parkinsons").diagnosed("parkinsons", "Parkinson's disease")
    pop.person("learning_disability").diagnosed("learning_disability", "Intellectual disability")
    pop.person("asthma").diagnosed("asthma", "Asthma")
    pop.person("healthy")
    measured = engine.measures(pop)
    assert {p: m["segment"] for p, m in measured.items()} == {
        "palliative_with_cancer": "end of life",
        "dementia_with_heart_failure": "frailty and dementia",
        "severely_frail": "frailty and dementia",
        "mildly_frail_with_asthma": "long-term conditions",
        "Heart failure": "limited reserve",
        "Chronic obstructive lung disease": "limited reserve",
        "Chronic liver disease": "limited reserve",
        "kidneys": "limited reserve",
        "cancer_with_ms": "short period of decline",
        "bipolar": "stable but serious disability",
        "parkinsons": "stable but serious disability",
        "learning_disability": "stable but serious disability",
        "asthma": "long-term conditions",
        "healthy": "healthy",
    }
