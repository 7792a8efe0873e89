"""Forms of personalised care. Each label says what to enter; each error how to put it right."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from neighbourhood.care.caseload.forms import CoordinatorChoice
from neighbourhood.care.plans.actions import GOAL_ACHIEVEMENT, GOAL_LIFECYCLE, Decision
from neighbourhood.care.plans.models import AdvanceCarePlan, Task, TaskStatus, WhatMatters
from neighbourhood.care.teams.models import Professional, Team


class DateInput(forms.DateInput):
    input_type = "date"

    def format_value(self, value: Any) -> str | None:
        return value.isoformat() if isinstance(value, dt.date) else value


def _date(label: str, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=DateInput,
        error_messages={
            "required": f"Enter {label.lower()}",
            "invalid": f"Enter {label.lower()} as a real date, for example 27 3 2027",
        },
    )


def members(team: Team) -> Any:
    return (
        Professional.objects.select_related("user", "organisation")
        .filter(memberships__team=team)
        .order_by("user__last_name", "user__first_name")
    )


class WhatMattersForm(forms.Form):
    text = forms.CharField(
        label="What matters to the person",
        help_text="In their own words: write down what they say, not a summary.",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        error_messages={"required": "Write what matters to the person, in their own words"},
    )
    said_by = forms.ChoiceField(
        label="Who said it",
        choices=WhatMatters.Said.choices,
        initial=WhatMatters.Said.PERSON,
        widget=forms.RadioSelect,
        error_messages={"required": "Say who said it"},
    )


class GoalForm(forms.Form):
    id = forms.CharField(widget=forms.HiddenInput, required=False)
    text = forms.CharField(
        label="Goal, in the person's words",
        max_length=1000,
        error_messages={"required": "Write the goal in the person's words, or tick remove"},
    )
    target = forms.CharField(label="Target (how we will know)", required=False, max_length=500)
    due = _date("Target date", required=False)
    lifecycle = forms.ChoiceField(
        label="Status", choices=list(GOAL_LIFECYCLE.items()), initial="active"
    )
    achievement = forms.ChoiceField(
        label="How it is going", choices=list(GOAL_ACHIEVEMENT.items()), initial="in-progress"
    )
    remove = forms.BooleanField(label="Remove this goal from the plan", required=False)


GoalFormSet = forms.formset_factory(GoalForm, extra=1, max_num=30, validate_max=True)


class PlanForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    about_me = forms.CharField(
        label="About me",
        help_text="Who the person is, what they want people to know about them.",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=10_000,
    )
    problems = forms.MultipleChoiceField(
        label="Needs from the assessment that this plan addresses",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    contingency_what = forms.CharField(
        label="If things go wrong: what to do",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": "Say what to do when things go wrong: a plan needs one"},
    )
    contingency_call = forms.CharField(
        label="If things go wrong: whom to call, with their number",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": "Say whom to call when things go wrong"},
    )
    people = forms.ModelMultipleChoiceField(
        label="People involved in the person's care",
        queryset=Professional.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    carer_name = forms.CharField(
        label="Unpaid carer (name and relationship)", required=False, max_length=200
    )
    carer_contact = forms.CharField(
        label="Unpaid carer's contact details", required=False, max_length=200
    )
    consent_share = forms.ChoiceField(
        label="Has the person agreed to share this plan with the people involved in their care?",
        choices=[("yes", "Yes"), ("no", "No")],
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the person agreed to share their plan"},
    )
    consent_scope = forms.CharField(
        label="What may be shared, and with whom", required=False, max_length=2000
    )
    review_date = _date(
        "Review date",
        required=False,
        help_text="Leave blank for the date the review rule sets for this person.",
    )
    reviewed = forms.BooleanField(
        label="This change is the plan's review with the person",
        required=False,
        help_text="It closes any review tasks and sets the next review date.",
    )
    change_note = forms.CharField(label="What changed, and why", required=False, max_length=2000)

    def __init__(self, *args: Any, team: Team, problems: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["people"].queryset = members(team)  # type: ignore[attr-defined]
        self.fields["people"].label_from_instance = (  # type: ignore[attr-defined]
            lambda p: f"{p.display_name}, {p.job_title} ({p.organisation.name})"
        )
        self.fields["problems"].choices = [(p, p) for p in problems]  # type: ignore[attr-defined]

    def clean_review_date(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("review_date")
        if day is not None and day <= dt.date.today():
            raise forms.ValidationError("The review date must be in the future")
        return day


def goals_from(formset: Any) -> list[dict[str, Any]]:
    """The goals the formset keeps, in order: blank new rows and removed goals left out."""
    kept = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or data.get("remove"):
            continue
        kept.append(
            {k: data.get(k) for k in ("id", "text", "target", "due", "lifecycle", "achievement")}
        )
    return kept


class ReconcileForm(forms.Form):
    """One decision for each open task whose goal changed or went."""

    CHOICES = [
        ("keep", "Keep it as it is"),
        ("reassign", "Give it to someone else"),
        ("cancel", "Cancel it"),
    ]

    def __init__(self, *args: Any, tasks: list[Task], team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tasks = tasks
        for task in tasks:
            self.fields[f"task-{task.pk}"] = forms.ChoiceField(
                label=f"{task.description} ({task.owner_name}, due {task.due:%-d %B %Y})",
                choices=self.CHOICES,
                widget=forms.RadioSelect,
                error_messages={"required": "Choose what happens to this task"},
            )
            self.fields[f"task-{task.pk}-owner"] = CoordinatorChoice(
                queryset=members(team),
                label="Give it to",
                required=False,
                empty_label="Choose a member of the team",
            )
            self.fields[f"task-{task.pk}-reason"] = forms.CharField(
                label="Why it is cancelled", required=False, max_length=1000
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for task in self.tasks:
            choice = data.get(f"task-{task.pk}")
            if choice == "reassign" and not data.get(f"task-{task.pk}-owner"):
                self.add_error(f"task-{task.pk}-owner", "Choose who the task goes to")
            if choice == "cancel" and not str(data.get(f"task-{task.pk}-reason") or "").strip():
                self.add_error(f"task-{task.pk}-reason", "Say why the task is cancelled")
        return data

    def rows(self) -> list[tuple[Task, Any, Any, Any]]:
        return [
            (t, self[f"task-{t.pk}"], self[f"task-{t.pk}-owner"], self[f"task-{t.pk}-reason"])
            for t in self.tasks
        ]

    def decisions(self) -> dict[int, Decision]:
        data = self.cleaned_data
        return {
            t.pk: Decision(
                data[f"task-{t.pk}"],
                owner=data.get(f"task-{t.pk}-owner"),
                reason=data.get(f"task-{t.pk}-reason") or "",
            )
            for t in self.tasks
        }


class TaskForm(forms.Form):
    description = forms.CharField(
        label="What is to be done",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": "Say what is to be done"},
    )
    goal = forms.ChoiceField(label="The goal it serves", required=False)
    owner = CoordinatorChoice(
        queryset=Professional.objects.none(),
        label="Who it is for",
        required=False,
        empty_label="The whole team (anyone in it may take it)",
        help_text="Anyone in the core or extended team, from any organisation.",
    )
    due = _date("Due date")

    def __init__(self, *args: Any, team: Team, goals: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = members(team)  # type: ignore[attr-defined]
        self.fields["goal"].choices = [("", "No particular goal")] + [  # type: ignore[attr-defined]
            (g["id"], g["text"]) for g in goals if g["lifecycle"] not in ("completed", "cancelled")
        ]

    def clean_due(self) -> dt.date:
        day: dt.date = self.cleaned_data["due"]
        if day < dt.date.today():
            raise forms.ValidationError("The due date cannot be in the past")
        return day


class TaskUpdateForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label="New status",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the task's new status",
            "invalid_choice": "Choose one of the statuses offered: the task may have changed",
        },
    )
    reason = forms.CharField(
        label="Reason (needed to decline or cancel)",
        required=False,
        max_length=1000,
    )

    def __init__(self, *args: Any, allowed: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            (s, TaskStatus(s).label) for s in allowed
        ]


class AdvanceCarePlanForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = AdvanceCarePlan
        fields = [
            "focus",
            "what_matters_most",
            "recommendations",
            "cpr",
            "cpr_registration",
            "capacity",
            "representative",
            "preferred_place_of_care",
            "preferred_place_of_death",
            "documents_kept",
        ]
        labels = {
            "focus": "The person's preference for their care and treatment",
            "what_matters_most": "What matters most to them, in their own words",
            "recommendations": "Clinical recommendations for emergency care and treatment",
            "cpr": "Cardiopulmonary resuscitation (CPR) recommendation",
            "cpr_registration": "Your professional registration number (GMC, NMC or HCPC)",
            "capacity": "Capacity and representation",
            "representative": "Their representative (legal proxy, lasting power of attorney for "
            "health and welfare, or family), if any",
            "preferred_place_of_care": "Preferred place of care",
            "preferred_place_of_death": "Preferred place of death",
            "documents_kept": "Where the signed ReSPECT form, any advance decision to refuse "
            "treatment and any lasting power of attorney are kept",
        }
        help_texts = {
            "cpr": "Only a clinician records this, with their registration number.",
        }
        widgets = {
            "focus": forms.RadioSelect,
            "capacity": forms.RadioSelect,
            "what_matters_most": forms.Textarea(attrs={"rows": 3}),
            "recommendations": forms.Textarea(attrs={"rows": 3}),
            "representative": forms.Textarea(attrs={"rows": 2}),
            "documents_kept": forms.Textarea(attrs={"rows": 2}),
        }
        error_messages = {
            "focus": {"required": "Choose the person's preference for their care"},
            "what_matters_most": {"required": "Write what matters most to them"},
            "capacity": {"required": "Say whether they have capacity to take part"},
        }

    def __init__(self, *args: Any, may_record_cpr: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_record_cpr:
            del self.fields["cpr"], self.fields["cpr_registration"]
        else:
            self.fields["cpr"].choices = [("", "No recommendation recorded")] + [  # type: ignore[attr-defined]
                c for c in AdvanceCarePlan.CPR.choices if c[0]
            ]
            self.fields["cpr"].widget = forms.RadioSelect(choices=self.fields["cpr"].choices)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("cpr") and not str(data.get("cpr_registration") or "").strip():
            self.add_error(
                "cpr_registration",
                "Give your professional registration number with a CPR recommendation",
            )
        return data


class ReviewNoteForm(forms.Form):
    note = forms.CharField(
        label="What the review found",
        help_text="Say so even if nothing changed.",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": "Say what the review found, even if nothing changed"},
    )
