"""The IG lead's forms for partners' systems: each says what is wrong in words."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from neighbourhood.care.fhirapi.auth import check_jwks, parse_scopes
from neighbourhood.care.teams.models import Organisation, Team

SCOPES_HELP = (
    "One a line, SMART v2: system/<Resource>.<cruds>, e.g. system/Task.cruds or "
    "system/*.rs (c create, r read, u update, d delete, s search)"
)
KEYS_HELP = (
    'The partner\'s public keys as a JSON Web Key Set: {"keys": [...]}, each with its kid. '
    "To rotate, add the new key beside the old, then remove the old once the partner uses the new."
)


def _scopes(text: str) -> list[str]:
    try:
        found = parse_scopes(text.split())
    except ValueError as error:
        raise forms.ValidationError(str(error)) from error
    if not found:
        raise forms.ValidationError("Give at least one scope, e.g. system/Task.rs")
    return [str(s) for s in found]


def _keys(text: str) -> Any:
    try:
        jwks = json.loads(text)
    except ValueError as error:
        raise forms.ValidationError(f"The keys are not JSON: {error}") from error
    try:
        check_jwks(jwks)
    except ValueError as error:
        raise forms.ValidationError(str(error)) from error
    return jwks


class RegisterForm(forms.Form):
    name = forms.CharField(label="The system's name, as its users know it", max_length=200)
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.order_by("name"),
        label="Organisation",
        error_messages={"required": "Choose the organisation the system belongs to"},
    )
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.order_by("name"),
        label="Teams it acts for: it sees only the people these teams care for",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one team"},
    )
    scopes = forms.CharField(
        label="Scopes", help_text=SCOPES_HELP, widget=forms.Textarea(attrs={"rows": 3})
    )
    jwks = forms.CharField(
        label="Public keys", help_text=KEYS_HELP, widget=forms.Textarea(attrs={"rows": 6})
    )

    def clean_scopes(self) -> list[str]:
        return _scopes(self.cleaned_data["scopes"])

    def clean_jwks(self) -> Any:
        return _keys(self.cleaned_data["jwks"])


class KeysForm(forms.Form):
    jwks = forms.CharField(
        label="Public keys", help_text=KEYS_HELP, widget=forms.Textarea(attrs={"rows": 6})
    )

    def clean_jwks(self) -> Any:
        return _keys(self.cleaned_data["jwks"])


class ScopesForm(forms.Form):
    scopes = forms.CharField(
        label="Scopes", help_text=SCOPES_HELP, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_scopes(self) -> list[str]:
        return _scopes(self.cleaned_data["scopes"])
