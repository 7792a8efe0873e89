"""The names population health management gives things, for every reader of its outputs
(the web application among them, which must not load the analytics engines)."""

from __future__ import annotations

COHORTS = {
    "frailty": "moderate or severe frailty, including dementia",
    "palliative": "palliative and end-of-life care",
    "complex_ltc": "complex physical disability or multiple long-term conditions",
    "children": "children and young people with complex needs",
    "high_ed_use": "high-intensity use of emergency departments",
}
SEGMENTS = (
    "end of life",
    "frailty and dementia",
    "limited reserve",
    "short period of decline",
    "stable but serious disability",
    "long-term conditions",
    "healthy",
)
RISK_BANDS = ("high", "rising", "low")
FRAILTY_CATEGORIES = ("fit", "mild", "moderate", "severe")

# Condition names as the codelists spell them, where replacing underscores with spaces
# would not read as a clinician writes them.
CONDITION_NAMES = {
    "copd": "COPD",
    "parkinsons_disease": "Parkinson's disease",
}


def condition_name(condition: str) -> str:
    """A long-term condition as a person reads it: "chronic kidney disease", "COPD"."""
    return CONDITION_NAMES.get(condition, condition.replace("_", " "))
