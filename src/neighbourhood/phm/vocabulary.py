"""The names population health management gives things, for every reader of its outputs
(the web application among them, which must not load the analytics engines)."""

from __future__ import annotations

import csv
import tomllib
from functools import cache
from importlib import resources

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


@cache
def terms() -> dict[str, str]:
    """The SNOMED CT preferred term of every concept in the shipped codelists, by code:
    read from the files alone, so a reader need load no analytics engine."""
    folder = resources.files("neighbourhood.phm") / "codelists"
    manifest = tomllib.loads((folder / "codelists.toml").read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for entry in manifest.values():
        text = (folder / entry["file"]).read_text(encoding="utf-8")
        for row in csv.DictReader(text.splitlines()):
            found.setdefault(row["code"], row["term"])
    return found


def term(code: str | None) -> str:
    """A concept's term, or "" when the code is not in the shipped codelists."""
    return terms().get(str(code or ""), "")
