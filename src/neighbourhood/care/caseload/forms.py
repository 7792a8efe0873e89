"""Caseload forms. Each field's label says what to enter; each error says how to put it right."""

from __future__ import annotations

from typing import Any

from django import forms

from neighbourhood.care.caseload.models import EndReason
from neighbourhood.care.teams.models import Professional, Team


class CoordinatorChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name}, {obj.job_title} ({obj.organisation.name})"


def _members(team: Team | None) -> Any:
    qs = Professional.objects.select_related("user", "organisation")
    return qs.filter(memberships__team=team) if team else qs.none()


class EnrolForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        label="Team",
        empty_label="Choose a team",
        error_messages={"required": "Choose the team whose caseload this person joins"},
    )
    care_coordinator = CoordinatorChoice(
        queryset=Professional.objects.none(),
        label="Named care coordinator",
        empty_label="Choose a care coordinator",
        help_text="The one person the patient and the team go to first.",
        error_messages={"required": "Choose a care coordinator: everyone in a caseload has one"},
    )
    reason = forms.CharField(
        label="Why this person is joining the caseload",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Say why this person is joining the caseload"},
    )

    def __init__(self, *args: Any, teams: list[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids = [t.pk for t in teams]
        self.fields["team"].queryset = Team.objects.filter(pk__in=ids)  # type: ignore[attr-defined]
        self.fields["care_coordinator"].queryset = (  # type: ignore[attr-defined]
            Professional.objects.select_related("user", "organisation")
            .filter(memberships__team__in=ids)
            .distinct()
        )
        if len(teams) == 1:
            self.fields["team"].initial = teams[0].pk


class UpdateForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    care_coordinator = CoordinatorChoice(
        queryset=Professional.objects.none(),
        label="Named care coordinator",
        empty_label=None,
        error_messages={"required": "Choose a care coordinator: everyone in a caseload has one"},
    )
    notes = forms.CharField(
        label="Notes for the team",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=10_000,
    )

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["care_coordinator"].queryset = _members(team)  # type: ignore[attr-defined]


class DischargeForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    end_reason = forms.ChoiceField(
        label="Why is this person leaving the caseload?",
        choices=[("", "Choose a reason")]
        + [(v, label) for v, label in EndReason.choices if v != EndReason.TRANSFERRED],
        error_messages={"required": "Choose why this person is leaving the caseload"},
    )
    end_note = forms.CharField(
        label="More detail (needed when the reason is 'Other')",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class TeamChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.neighbourhood.name})"


class TransferTeamForm(forms.Form):
    """The first step of a transfer: which team takes this person on. Its coordinators
    are then chosen from that team alone, not from every professional in the system."""

    transfer_to = TeamChoice(
        queryset=Team.objects.none(),
        label="Team to transfer to",
        empty_label="Choose a team",
        error_messages={
            "required": "Choose the team that takes this person on",
            "invalid_choice": "Choose a team from the list: that team does not exist "
            "or is this person's current team",
        },
    )

    def __init__(self, *args: Any, current: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["transfer_to"].queryset = (  # type: ignore[attr-defined]
            Team.objects.select_related("neighbourhood")
            .exclude(pk=current.pk)
            .order_by("neighbourhood__name", "name")
        )


class TransferForm(forms.Form):
    """The second step: a care coordinator in the chosen team, and a note."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    care_coordinator = CoordinatorChoice(
        queryset=Professional.objects.none(),
        label="Care coordinator in the new team",
        empty_label="Choose a care coordinator",
        error_messages={
            "required": "Choose a care coordinator in the new team",
            "invalid_choice": "Choose a care coordinator from the list: they must be a "
            "member of the new team",
        },
    )
    note = forms.CharField(label="Note for the new team", required=False, max_length=2000)

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.team = team  # the page sends it back as a hidden "team" input
        self.fields["care_coordinator"].queryset = _members(team)  # type: ignore[attr-defined]
