"""Forms of urgent care: each label says what to enter, each error how to put it right."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from neighbourhood.care.teams.models import Team
from neighbourhood.care.urgent.models import (
    Acuity,
    Need,
    Observation,
    Outcome,
    Response,
    Source,
    Stay,
    Ward,
)
from neighbourhood.care.urgent.news2 import CONSCIOUSNESS, LIMITS
from neighbourhood.standards.nhs_number import is_valid, normalise

FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dt.datetime):
            return (
                f"{timezone.localtime(value):%Y-%m-%dT%H:%M}"
                if timezone.is_aware(value)
                else f"{value:%Y-%m-%dT%H:%M}"
            )
        return value  # type: ignore[no-any-return]


def when(label: str, required: bool = False, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=FORMATS,
        widget=DateTimeLocal,
        help_text=help_text,
        error_messages={"invalid": "Enter a date and time, like 2026-12-04 09:30"},
    )


class Versioned(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class NhsNumberField(forms.CharField):
    def clean(self, value: Any) -> str:
        text = normalise(super().clean(value) or "")
        if text and not is_valid(text):
            raise forms.ValidationError(
                "Enter a 10-digit NHS number, like 943 476 5919: this one fails its check digit"
                if len(text) == 10 and text.isdigit()
                else "Enter a 10-digit NHS number, like 943 476 5919"
            )
        return text


class CallForm(forms.Form):
    nhs_number = NhsNumberField(
        label="NHS number",
        required=False,
        max_length=20,
        help_text="Leave empty if the caller does not know it, and describe the person below.",
    )
    described = forms.CharField(
        label="The person, as the caller describes them",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Name, date of birth, address: needed when there is no NHS number.",
    )
    source = forms.ChoiceField(
        label="Who is calling",
        choices=Source.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Say who is calling"},
    )
    caller = forms.CharField(
        label="Caller's name and role",
        max_length=200,
        error_messages={"required": "Give the caller's name and role"},
    )
    callback = forms.CharField(label="Number to call back", required=False, max_length=40)
    need = forms.ChoiceField(
        label="Presenting need",
        choices=[("", "Choose the presenting need"), *list(Need.choices)],
        error_messages={"required": "Choose the presenting need"},
    )
    details = forms.CharField(
        label="What is happening",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what is happening, in the caller's words"},
    )
    received_at = when("When the call came in", help_text="Leave empty for now.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            not data.get("nhs_number")
            and not (data.get("described") or "").strip()
            and "nhs_number" not in self.errors
        ):
            self.add_error(
                "nhs_number",
                "Enter their NHS number, or describe them as the caller did (name, date of birth, address)",
            )
        return data


class TriageForm(Versioned):
    acuity = forms.ChoiceField(
        label="Acuity",
        choices=Acuity.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the acuity"},
    )
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the outcome"},
    )
    team = forms.ModelChoiceField(
        label="Team to respond (urgent community response)",
        queryset=Team.objects.select_related("neighbourhood").order_by("name"),
        required=False,
        empty_label="Choose a team",
    )
    ward = forms.ModelChoiceField(
        label="Virtual ward (step-up)",
        queryset=Ward.objects.filter(active=True).order_by("pathway", "name"),
        required=False,
        empty_label="Choose a ward",
    )
    note = forms.CharField(
        label="Clinical decision in brief",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    convey_reason = forms.CharField(
        label="Why to hospital (conveyance only)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SetOffForm(Versioned):
    eta_minutes = forms.IntegerField(
        label="Minutes until you arrive",
        min_value=1,
        max_value=1440,
        error_messages={
            "required": "Give the minutes until you arrive",
            "min_value": "Give at least 1 minute",
        },
    )


class VisitForm(Versioned):
    visited_at = when("When you arrived", required=True)
    late_reason = forms.CharField(
        label="Why it missed two hours (if it did)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CloseForm(Versioned):
    after = forms.ChoiceField(
        label="After the visit",
        choices=Response.After.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Say what happened after the visit"},
    )


class AdmitForm(forms.Form):
    nhs_number = NhsNumberField(
        label="NHS number", max_length=20, error_messages={"required": "Enter their NHS number"}
    )
    ward = forms.ModelChoiceField(
        label="Virtual ward",
        queryset=Ward.objects.filter(active=True).order_by("pathway", "name"),
        empty_label="Choose a ward",
        error_messages={"required": "Choose the virtual ward"},
    )
    route = forms.ChoiceField(
        label="Route",
        choices=Stay.Route.choices,
        widget=forms.RadioSelect,
        initial=Stay.Route.STEP_DOWN,
        error_messages={"required": "Say whether this is a step-up or a step-down"},
    )
    reason = forms.CharField(
        label="Why they are admitted",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why they are admitted"},
    )


def _reading(label: str, lowest: Any, highest: Any, unit: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=f"{label} ({unit})",
        min_value=lowest,
        max_value=highest,
        error_messages={
            "required": f"Enter the {label.lower()}",
            "min_value": f"Enter a {label.lower()} from {lowest} to {highest}",
            "max_value": f"Enter a {label.lower()} from {lowest} to {highest}",
            "invalid": f"Enter the {label.lower()} as a whole number",
        },
    )


COLDEST, HOTTEST = (Decimal(str(t)) for t in LIMITS["temperature"])


class ObservationForm(forms.Form):
    taken = forms.ChoiceField(
        label="Taken", choices=Observation.Taken.choices, widget=forms.RadioSelect, initial="visit"
    )
    taken_at = when("When they were taken", help_text="Leave empty for now.")
    respiration_rate = _reading("Respiration rate", *LIMITS["respiration_rate"], "breaths a minute")
    spo2 = _reading("Oxygen saturation", *LIMITS["spo2"], "SpO2 %")
    scale2 = forms.BooleanField(
        label="Use SpO2 scale 2 (target 88–92%, hypercapnic respiratory failure)", required=False
    )
    on_oxygen = forms.BooleanField(label="On supplemental oxygen", required=False)
    systolic = _reading("Systolic blood pressure", *LIMITS["systolic"], "mmHg")
    pulse = _reading("Pulse", *LIMITS["pulse"], "beats a minute")
    consciousness = forms.ChoiceField(
        label="Consciousness (ACVPU)",
        choices=list(CONSCIOUSNESS.items()),
        widget=forms.RadioSelect,
        initial="A",
        error_messages={"required": "Choose their level of consciousness"},
    )
    temperature = forms.DecimalField(
        label="Temperature (°C)",
        min_value=COLDEST,
        max_value=HOTTEST,
        decimal_places=1,
        error_messages={
            "required": "Enter the temperature",
            "min_value": f"Enter a temperature from {COLDEST} to {HOTTEST}",
            "max_value": f"Enter a temperature from {COLDEST} to {HOTTEST}",
            "invalid": "Enter the temperature like 37.2",
            "max_decimal_places": "Enter the temperature to one decimal place, like 37.2",
        },
    )


class DischargeForm(Versioned):
    outcome = forms.ChoiceField(
        label="Discharged to",
        choices=Stay.Discharge.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Say where they were discharged to"},
    )
    note = forms.CharField(
        label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
