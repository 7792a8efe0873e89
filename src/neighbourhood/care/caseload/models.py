from __future__ import annotations

from django.db import models
from django.db.models import Q


class EndReason(models.TextChoices):
    TRANSFERRED = "transferred", "Transferred to another team"
    GOALS_MET = "goals_met", "Goals of care met"
    MOVED_AWAY = "moved_away", "Moved out of the neighbourhood"
    DECLINED = "declined", "Declined further support"
    DIED = "died", "Died"
    OTHER = "other", "Other"


class Enrolment(models.Model):
    """A person in one team's caseload, with a named care coordinator.

    The database enforces both invariants: the care coordinator cannot be empty, and
    a person has at most one open enrolment (a partial unique index). ``version``
    rises with every change, so a stale form is caught instead of overwriting.
    """

    person_id = models.CharField(max_length=40, db_index=True)
    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="enrolments")
    care_coordinator = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="coordinating"
    )
    reason = models.TextField("Why this person is in the caseload")
    notes = models.TextField(blank=True, default="")
    enrolled_at = models.DateTimeField(auto_now_add=True)
    enrolled_by = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)
    end_note = models.TextField(blank=True, default="")
    ended_by = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-enrolled_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["person_id"],
                condition=Q(ended_at__isnull=True),
                name="one_open_caseload_per_person",
            ),
            models.CheckConstraint(
                condition=(Q(ended_at__isnull=True) & Q(end_reason=""))
                | (Q(ended_at__isnull=False) & ~Q(end_reason="")),
                name="ended_with_a_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"enrolment {self.pk} in {self.team_id}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None
