"""The query strings of the case-finding list and the planning page, parsed by Django
forms with bounds: anything odd is named back to the user, never a server error."""

from __future__ import annotations

from typing import Any

from django import forms

from neighbourhood.care import published
from neighbourhood.phm.vocabulary import COHORTS, RISK_BANDS, SEGMENTS

MAX_PAGE = 100_000  # far beyond any list; keeps the offset a small number
SEARCH_LENGTH = 60
QUINTILE_PROBLEM = "Deprivation quintile must be a number from 1 to 5"


def _choice(values: Any, problem: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        choices=[(v, v) for v in values],
        required=False,
        error_messages={"invalid_choice": problem},
    )


class CaseFindingQuery(forms.Form):
    """Filters, search, order and page of the case-finding list. A filter that is not
    valid is named in ``problems`` and left out; an unknown order or page falls back
    to the first."""

    imd_quintile = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=5,
        error_messages={k: QUINTILE_PROBLEM for k in ("invalid", "min_value", "max_value")},
    )
    cohort = _choice(COHORTS, "Choose a cohort from the list")
    segment = _choice(SEGMENTS, "Choose a segment from the list")
    risk_band = _choice(RISK_BANDS, "Choose a risk band from the list")
    sort = forms.CharField(required=False)
    q = forms.CharField(required=False)
    page = forms.CharField(required=False)

    def clean_sort(self) -> str:
        sort = self.cleaned_data["sort"]
        return sort if sort in published.SORTS else "rank"

    def clean_q(self) -> str:
        """What the user searched for, without the characters SQL's LIKE gives meaning."""
        text = self.cleaned_data["q"].strip()
        return "".join(c for c in text if c not in "%_\\")[:SEARCH_LENGTH]

    def clean_page(self) -> int:
        raw = self.cleaned_data["page"]
        number = int(raw) if raw.isascii() and raw.isdigit() else 1
        return min(max(number, 1), MAX_PAGE)

    def filters(self) -> published.Filters:
        self.is_valid()
        data = self.cleaned_data
        return published.Filters(
            cohort=data.get("cohort") or "",
            segment=data.get("segment") or "",
            risk_band=data.get("risk_band") or "",
            imd_quintile=data.get("imd_quintile"),
            search=data.get("q", ""),
            sort=data.get("sort", "rank"),
        )

    def problems(self) -> list[str]:
        self.is_valid()
        return [str(message) for name in self.fields for message in self.errors.get(name, [])]

    @property
    def page_number(self) -> int:
        self.is_valid()
        return int(self.cleaned_data.get("page", 1))


class PlanningQuery(forms.Form):
    """Which dimension the planning figures are broken down by; the default if unknown."""

    by = forms.CharField(required=False)

    def __init__(self, *args: Any, dimensions: dict[str, str], default: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dimensions, self.default = dimensions, default

    def clean_by(self) -> str:
        by = self.cleaned_data["by"]
        return by if by in self.dimensions else self.default

    @property
    def dimension(self) -> str:
        self.is_valid()
        return str(self.cleaned_data.get("by", self.default))
