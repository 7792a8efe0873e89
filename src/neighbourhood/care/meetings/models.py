"""Neighbourhood multidisciplinary team (MDT) meetings.

- ``Meeting``: a team's meeting: when, where, who is expected; its agenda builds itself
  (``agenda.py``) and a coordinator adjusts it; it is held, then closed, and closing it
  sends each person's outcomes to their record and their GP practice's inbox.
- ``Attendee``: who was expected and who came, by role and organisation.
- ``AgendaItem``: one person on the agenda, why, in what order; the discussion in
  brief and the decisions; its actions are personalised care tasks (``MeetingAction``).
- ``Flag``: a member asks for a person to be discussed, with a reason.
- ``Outcome``: what the meeting decided for a person, on their record.
- ``PracticeMessage``: the same, in their GP practice's inbox.
"""

from __future__ import annotations

import builtins

from django.db import models
from django.db.models import Q


class Meeting(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CLOSED = "closed", "Held and closed"
        CANCELLED = "cancelled", "Cancelled"

    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="meetings")
    starts_at = models.DateTimeField(db_index=True)
    place = models.CharField(max_length=200, blank=True, default="")
    online_link = models.URLField(blank=True, default="")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    # Who was on the team's case-finding list when the agenda was built: the next
    # meeting's "new on the list" is who is on it then and not here.
    listed = models.JSONField(default=list)
    published_version = models.PositiveIntegerField(null=True, blank=True)
    # How many more qualified than one meeting can take, by list: {"discuss": n, "noted": m}
    not_shown = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey("teams.Professional", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False) | ~Q(status="closed"),
                name="closed_when_closed",
            ),
            models.CheckConstraint(
                condition=~Q(place="") | ~Q(online_link=""), name="meeting_somewhere"
            ),
        ]


class Attendee(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendees")
    professional = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=200)  # job title, as they were then
    organisation = models.CharField(max_length=200)
    expected = models.BooleanField(default=True)
    attended = models.BooleanField(null=True)  # None until the meeting records it

    class Meta:
        ordering = ["organisation", "name"]


class AgendaItem(models.Model):
    class Reason(models.TextChoices):
        NEW = "new", "New on the case-finding list"
        EVENTS = "events", "Events since their last review"
        REVIEW = "review", "Review due"
        FLAGGED = "flagged", "Flagged by a member"
        ADDED = "added", "Added by the coordinator"

    class List(models.TextChoices):
        DISCUSS = "discuss", "To discuss"
        NOTED = "noted", "Noted, not discussed"
        REMOVED = "removed", "Taken off the agenda"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="items")
    person_id = models.CharField(max_length=40, db_index=True)
    reasons = models.JSONField(default=list)  # [{"kind", "text"}]
    need = models.FloatField(default=0.0)  # the order: highest first
    position = models.PositiveIntegerField()
    list = models.CharField(max_length=10, choices=List.choices, default=List.DISCUSS)
    noted_because = models.TextField(blank=True, default="")
    discussion = models.TextField(blank=True, default="")
    decisions = models.TextField(blank=True, default="")
    discussed = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="+", null=True
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "person_id"], name="once_an_agenda")
        ]

    @property
    def reason_kinds(self) -> builtins.list[str]:
        return [r["kind"] for r in self.reasons]


class MeetingAction(models.Model):
    """A task the meeting decided on: the personalised care issue's task, with its item."""

    item = models.ForeignKey(AgendaItem, on_delete=models.PROTECT, related_name="actions")
    task = models.OneToOneField("plans.Task", on_delete=models.PROTECT, related_name="meeting")


class Flag(models.Model):
    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="flags")
    person_id = models.CharField(max_length=40, db_index=True)
    reason = models.TextField()
    flagged_by = models.ForeignKey("teams.Professional", on_delete=models.PROTECT, related_name="+")
    flagged_at = models.DateTimeField(auto_now_add=True)
    item = models.ForeignKey(
        AgendaItem, on_delete=models.SET_NULL, related_name="flags", null=True, blank=True
    )

    class Meta:
        ordering = ["flagged_at", "pk"]


class Outcome(models.Model):
    """What an MDT meeting decided for a person: on their record."""

    item = models.OneToOneField(AgendaItem, on_delete=models.PROTECT, related_name="outcome")
    person_id = models.CharField(max_length=40, db_index=True)
    summary = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]


class PracticeMessage(models.Model):
    """An MDT outcome sent to the person's GP practice's inbox in the application."""

    practice = models.ForeignKey(
        "teams.Organisation", on_delete=models.PROTECT, related_name="inbox"
    )
    outcome = models.ForeignKey(Outcome, on_delete=models.PROTECT, related_name="messages")
    person_id = models.CharField(max_length=40)
    sent_at = models.DateTimeField(auto_now_add=True)
    read_by = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        indexes = [models.Index(fields=["practice", "read_at"], name="practice_inbox")]
