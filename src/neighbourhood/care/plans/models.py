"""Personalised care records, shaped like FHIR R4 UK Core resources so the FHIR API
exposes them without a translation layer (``fhir.py``):

- ``WhatMatters``: what matters to the person, in their own words (an Observation).
- ``Assessment``: a QuestionnaireResponse to one version of a shipped Questionnaire.
- ``CarePlan`` and ``CarePlanVersion``: one living plan per person, every version kept
  (CarePlan, with its Goals and CareTeam inside each version's content).
- ``Task``: an action of the plan, or a review, owned by a professional or a team (Task).
- ``AdvanceCarePlan``: a ReSPECT record; a new one supersedes the old, which stays readable.

Nothing here is overwritten: what matters, plans and advance care plans only gain rows;
tasks change status with ``version`` checked, and the audit trail keeps every step.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q


class WhatMatters(models.Model):
    class Said(models.TextChoices):
        PERSON = "person", "The person, in their own words"
        REPRESENTATIVE = "representative", "Their carer or representative, for them"

    person_id = models.CharField(max_length=40, db_index=True)
    text = models.TextField()
    said_by = models.CharField(max_length=20, choices=Said.choices, default=Said.PERSON)
    recorded_by = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at", "-pk"]


class Assessment(models.Model):
    """Answers to one questionnaire, saved part-done and finished later, perhaps by
    another professional; the problems its answers raise feed the plan."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in-progress", "In progress"
        COMPLETED = "completed", "Completed"

    person_id = models.CharField(max_length=40, db_index=True)
    questionnaire = models.CharField(max_length=200)  # the canonical url
    questionnaire_version = models.CharField(max_length=20)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_PROGRESS)
    answers = models.JSONField(default=dict)  # linkId -> the answer's value
    problems = models.JSONField(default=list)  # [{"text", "domain", "link_id"}]
    started_by = models.ForeignKey("teams.Professional", on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey("teams.Professional", on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="in-progress", completed_at__isnull=True)
                | Q(status="completed", completed_at__isnull=False),
                name="completed_when_finished",
            )
        ]


class CarePlan(models.Model):
    """The one living plan of a person: its versions hold the content; this row holds
    what the worklist sorts and filters by."""

    person_id = models.CharField(max_length=40, unique=True)
    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="care_plans")
    version = models.PositiveIntegerField(default=0)
    review_due = models.DateField(db_index=True)
    last_reviewed = models.DateField()
    # What the published refresh said at the last review, to see what is new since.
    baseline = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def current(self) -> CarePlanVersion:
        return self.versions.select_related("changed_by__user").get(number=self.version)


class CarePlanVersion(models.Model):
    plan = models.ForeignKey(CarePlan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    content = models.JSONField()
    changed_by = models.ForeignKey("teams.Professional", on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)
    change_note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="one_version_number_per_plan")
        ]

    @property
    def goals(self) -> list[dict[str, Any]]:
        return list(self.content.get("goals", []))


class TaskStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted"
    IN_PROGRESS = "in-progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    DECLINED = "rejected", "Declined"  # FHIR Task.status "rejected"


OPEN_TASK = (TaskStatus.REQUESTED, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS)
NEEDS_REASON = (TaskStatus.CANCELLED, TaskStatus.DECLINED)


class Task(models.Model):
    class Kind(models.TextChoices):
        ACTION = "action", "Action of the plan"
        REVIEW = "review", "Review of the plan"

    person_id = models.CharField(max_length=40, db_index=True)
    plan = models.ForeignKey(CarePlan, on_delete=models.PROTECT, related_name="tasks", null=True)
    # The referral it serves, when a partner sent it with one (a FHIR transaction).
    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.PROTECT, related_name="tasks", null=True, blank=True
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ACTION)
    goal_id = models.CharField(max_length=20, blank=True, default="")
    description = models.TextField()
    owner = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="tasks", null=True, blank=True
    )
    owner_team = models.ForeignKey(
        "teams.Team", on_delete=models.PROTECT, related_name="tasks", null=True, blank=True
    )
    due = models.DateField(db_index=True)
    status = models.CharField(max_length=20, choices=TaskStatus.choices, default="requested")
    status_reason = models.TextField(blank=True, default="")
    requested_by = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due", "pk"]
        indexes = [
            models.Index(fields=["owner", "status", "due"], name="task_owner_open"),
            models.Index(fields=["owner_team", "status", "due"], name="task_team_open"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner__isnull=False) | Q(owner_team__isnull=False),
                name="task_has_an_owner",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=NEEDS_REASON) | ~Q(status_reason=""),
                name="task_ended_with_a_reason",
            ),
        ]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TASK

    @property
    def owner_name(self) -> str:
        if self.owner is not None:
            return f"{self.owner.display_name} ({self.owner.organisation.name})"
        return self.owner_team.name if self.owner_team else ""


class AdvanceCarePlan(models.Model):
    """A ReSPECT record (Resuscitation Council UK, version 3). Each is a new row: the one
    in force has no ``superseded_at``; earlier ones stay readable."""

    class Focus(models.TextChoices):
        LIFE = "life", "Prioritise sustaining life, even at the expense of some comfort"
        BALANCED = "balanced", "Balance sustaining life and comfort"
        COMFORT = "comfort", "Prioritise comfort, even at the expense of sustaining life"

    class CPR(models.TextChoices):
        NOT_RECORDED = "", "No recommendation recorded"
        ATTEMPT = "attempt", "CPR attempts recommended"
        DO_NOT_ATTEMPT = "do_not_attempt", "CPR attempts not recommended"

    class Capacity(models.TextChoices):
        HAS = "has", "Has capacity to take part in making these recommendations"
        LACKS = "lacks", "Lacks capacity; made with their representative in their best interests"

    person_id = models.CharField(max_length=40, db_index=True)
    number = models.PositiveIntegerField()
    focus = models.CharField(max_length=10, choices=Focus.choices)
    what_matters_most = models.TextField()
    recommendations = models.TextField(blank=True, default="")
    cpr = models.CharField(max_length=20, choices=CPR.choices, blank=True, default="")
    cpr_clinician = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    cpr_registration = models.CharField(max_length=30, blank=True, default="")
    capacity = models.CharField(max_length=10, choices=Capacity.choices)
    representative = models.TextField(blank=True, default="")
    preferred_place_of_care = models.CharField(max_length=200, blank=True, default="")
    preferred_place_of_death = models.CharField(max_length=200, blank=True, default="")
    documents_kept = models.TextField(blank=True, default="")
    recorded_by = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["person_id", "number"], name="acp_version_number"),
            models.UniqueConstraint(
                fields=["person_id"],
                condition=Q(superseded_at__isnull=True),
                name="one_advance_care_plan_in_force",
            ),
            models.CheckConstraint(
                condition=Q(cpr="") | (Q(cpr_clinician__isnull=False) & ~Q(cpr_registration="")),
                name="cpr_by_a_registered_clinician",
            ),
        ]

    @classmethod
    def in_force(cls, person_id: str) -> models.QuerySet[AdvanceCarePlan]:
        """The version in force for this person (at most one: the database says so)."""
        return cls.objects.filter(person_id=person_id, superseded_at__isnull=True)


class AdvanceCarePlanReview(models.Model):
    plan = models.ForeignKey(AdvanceCarePlan, on_delete=models.PROTECT, related_name="reviews")
    reviewed_by = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField()

    class Meta:
        ordering = ["-reviewed_at"]


class RaisedTrigger(models.Model):
    """An event of the published refresh that raised a review of a plan: each is raised
    once, however often the refresh is scanned."""

    plan = models.ForeignKey(CarePlan, on_delete=models.PROTECT, related_name="raised")
    key = models.CharField(max_length=200)
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="raised_by")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "key"], name="one_review_an_event")]


class ReviewScan(models.Model):
    """One scan of the plans against a published version: what it raised, and when."""

    published_version = models.PositiveIntegerField()
    scanned_at = models.DateTimeField(auto_now_add=True)
    plans = models.PositiveIntegerField()
    raised = models.PositiveIntegerField()

    class Meta:
        ordering = ["-scanned_at"]
