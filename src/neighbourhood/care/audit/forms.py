"""The audit search's query string, parsed by a Django form: each field bounded, a date
that is not one named back to the user, and no character PostgreSQL refuses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

FIELD_LENGTH = 150  # the longest username; person ids and actions are shorter


def _text() -> forms.CharField:
    return forms.CharField(required=False, max_length=FIELD_LENGTH)


class AuditQuery(forms.Form):
    actor = _text()
    person = _text()
    action = _text()
    since = forms.CharField(required=False, max_length=40)
    until = forms.CharField(required=False, max_length=40)

    def _date(self, name: str) -> dt.date | None:
        value = self.cleaned_data[name]
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(
                f"'{value}' is not a date: write it as 2026-11-24", code="invalid"
            ) from None

    def clean_since(self) -> dt.date | None:
        return self._date("since")

    def clean_until(self) -> dt.date | None:
        return self._date("until")

    def criteria(self) -> dict[str, Any]:
        """The lookups of the fields that are valid and given."""
        self.is_valid()
        lookups = {
            "actor": "actor",
            "person": "person_id",
            "action": "action",
            "since": "at__date__gte",
            "until": "at__date__lte",
        }
        return {
            lookups[name]: value
            for name, value in self.cleaned_data.items()
            if value not in ("", None)
        }

    def problems(self) -> list[str]:
        self.is_valid()
        return [str(message) for name in self.fields for message in self.errors.get(name, [])]
