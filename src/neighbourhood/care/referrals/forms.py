"""Forms of referrals and social prescribing: each label says what to enter; each error
how to put it right."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from neighbourhood.care.plans.forms import DateInput
from neighbourhood.care.referrals.models import (
    ONS4,
    DischargePathway,
    Pathway,
    Service,
    ServiceKind,
    Status,
    Wellbeing,
)


class ServiceChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}: {obj.get_kind_display()} ({obj.organisation.name})"


class ReferralForm(forms.Form):
    service = ServiceChoice(
        label="Service",
        queryset=Service.objects.none(),
        empty_label="Choose a service",
        error_messages={"required": "Choose the service to refer to"},
    )
    pathway = forms.ChoiceField(
        label="Kind of referral",
        choices=[(p.value, p.label) for p in Pathway if p != Pathway.SOCIAL_PRESCRIBING],
        initial=Pathway.STEP_UP,
        widget=forms.RadioSelect,
        help_text="A referral to a social prescribing service is coded as one whatever you choose.",
        error_messages={
            "required": "Say whether this is a step-up, a step-down or another referral"
        },
    )
    discharge_pathway = forms.TypedChoiceField(
        label="Discharge pathway (step-down only)",
        choices=[("", "Not a discharge")] + [(p.value, p.label) for p in DischargePathway],
        coerce=int,
        empty_value=None,
        required=False,
    )
    home_first = forms.BooleanField(
        label="Home First: home is the first choice",
        help_text="Untick only if they cannot go home yet, and say why below.",
        required=False,
        initial=True,
    )
    not_home_because = forms.CharField(
        label="Why not home first (if Home First is unticked)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
    urgent = forms.BooleanField(label="Urgent", required=False)
    reason = forms.CharField(
        label="Why you are referring them",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": "Say why you are referring them"},
    )
    what_matters = forms.CharField(
        label="What matters to them",
        help_text="From their record, in their words: change it only if they say otherwise.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
    )
    needs = forms.CharField(
        label="Their needs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
    )

    def __init__(self, *args: Any, services: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services  # type: ignore[attr-defined]


class MoveForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label="Move the referral to",
        choices=Status.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what happens to the referral"},
    )
    reason = forms.CharField(
        label="Reason (needed to reject or cancel)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
    declined = forms.BooleanField(label="The person declined (social prescribing)", required=False)

    def __init__(self, *args: Any, allowed: list[str], coded: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            (s, Status(s).label) for s in allowed
        ]
        if not coded or "cancelled" not in allowed:  # the declined code is social prescribing's
            del self.fields["declined"]


class AttendanceForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    attended = forms.TypedChoiceField(
        label="Did they come?",
        choices=[("yes", "Attended"), ("no", "Did not attend")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether they came"},
    )
    on = forms.DateField(
        label="On",
        widget=DateInput,
        initial=dt.date.today,
        error_messages={
            "required": "Enter the day",
            "invalid": "Enter the day as a real date, for example 27 3 2027",
        },
    )


def _score(name: str, question: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=question,
        min_value=0,
        max_value=10,
        help_text="0 is not at all, 10 is completely.",
        error_messages={
            "required": "Give an answer from 0 to 10",
            "invalid": "Give a whole number from 0 to 10",
            "min_value": "Give an answer from 0 to 10",
            "max_value": "Give an answer from 0 to 10",
        },
    )


class WellbeingForm(forms.Form):
    when = forms.ChoiceField(
        label="When",
        choices=Wellbeing.When.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether this is before or after support"},
    )
    life_satisfaction = _score("life_satisfaction", ONS4["life_satisfaction"])
    worthwhile = _score("worthwhile", ONS4["worthwhile"])
    happiness = _score("happiness", ONS4["happiness"])
    anxiety = _score("anxiety", ONS4["anxiety"])


class OnwardForm(forms.Form):
    service = ServiceChoice(
        label="Voluntary sector organisation",
        queryset=Service.objects.none(),
        empty_label="Choose who will support them",
        error_messages={"required": "Choose the organisation to refer to"},
    )
    activities = forms.CharField(
        label="Activities offered",
        help_text="One a line, e.g. lunch club, walking group.",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": "Say which activities they were offered"},
    )
    reason = forms.CharField(
        label="What the support is for",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": "Say what the support is for"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = (  # type: ignore[attr-defined]
            Service.objects.filter(kind=ServiceKind.VCFSE, active=True).select_related(
                "organisation"
            )
        )
