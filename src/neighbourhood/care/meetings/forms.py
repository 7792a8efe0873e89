"""Forms of MDT meetings: each label says what to enter; each error how to put it right."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from neighbourhood.care.plans.forms import DateInput, members
from neighbourhood.care.teams.models import Team

ACTION_ROWS = 3


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dt.datetime):
            return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")
        return None if value is None else str(value)


class TeamChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class MemberChoice(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name}, {obj.job_title} ({obj.organisation.name})"


class ScheduleForm(forms.Form):
    team = TeamChoice(
        label="Team",
        queryset=Team.objects.none(),
        empty_label=None,
        error_messages={"required": "Choose the team that meets"},
    )
    starts_at = forms.DateTimeField(
        label="Date and time",
        widget=DateTimeInput,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={
            "required": "Enter the date and time of the meeting",
            "invalid": "Enter the date and time as a real date and time, for example 27 3 2027 13:30",
        },
    )
    place = forms.CharField(label="Place", required=False, max_length=200)
    online_link = forms.URLField(
        label="Online link",
        assume_scheme="https",
        required=False,
        help_text="If it is online, or both.",
        error_messages={"invalid": "Enter the link as a full web address, starting https://"},
    )
    expected = MemberChoice(
        label="Who is expected",
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, teams: list[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(  # type: ignore[attr-defined]
            pk__in=[t.pk for t in teams]
        )
        from neighbourhood.care.teams.models import Professional

        self.fields["expected"].queryset = (  # type: ignore[attr-defined]
            Professional.objects.filter(memberships__team__in=teams)
            .select_related("user", "organisation")
            .distinct()
            .order_by("user__last_name", "user__first_name")
        )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Why the team should discuss them",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": "Say why the team should discuss them"},
    )


class FlagForm(ReasonForm):
    team = TeamChoice(
        label="Team",
        queryset=Team.objects.none(),
        empty_label=None,
        error_messages={"required": "Choose the team"},
    )

    def __init__(self, *args: Any, teams: list[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(  # type: ignore[attr-defined]
            pk__in=[t.pk for t in teams]
        )


class CaseForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    discussion = forms.CharField(
        label="Discussion, in brief",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )
    decisions = forms.CharField(
        label="Decisions",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={
            "required": "Record what was decided, even if it is to carry on as planned"
        },
    )

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owners = [("", "Choose who does it"), ("team", f"Anyone in {team.name}")] + [
            (str(p.pk), f"{p.display_name} ({p.organisation.name})") for p in members(team)
        ]
        for n in range(ACTION_ROWS):
            self.fields[f"action_{n}"] = forms.CharField(
                label=f"Action {n + 1}: what is to be done", required=False, max_length=2000
            )
            self.fields[f"owner_{n}"] = forms.ChoiceField(
                label=f"Action {n + 1}: who does it", choices=owners, required=False
            )
            self.fields[f"due_{n}"] = forms.DateField(
                label=f"Action {n + 1}: due by",
                required=False,
                widget=DateInput,
                error_messages={"invalid": "Enter the date as a real date, for example 27 3 2027"},
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for n in range(ACTION_ROWS):
            what, owner, due = (data.get(f"{k}_{n}") for k in ("action", "owner", "due"))
            if what and not owner:
                self.add_error(f"owner_{n}", f"Say who does action {n + 1}")
            if what and not due:
                self.add_error(f"due_{n}", f"Give action {n + 1} a date to be done by")
            if (owner or due) and not what:
                self.add_error(f"action_{n}", f"Say what action {n + 1} is")
        return data


class AddPersonForm(ReasonForm):
    person_id = forms.CharField(
        label="Person id",
        max_length=40,
        help_text="From their record's address or the case-finding list.",
        error_messages={"required": "Enter the person id of who to add"},
    )
