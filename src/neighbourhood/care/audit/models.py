from __future__ import annotations

from typing import Any

from django.db import models


class AppendOnlyError(Exception):
    """The audit trail is only ever added to."""


class AuditEvent(models.Model):
    """Who did what to whose record, when and why; each entry carries the hash of the one
    before it, so an edited, deleted or reordered entry breaks the chain
    (``neighbourhood audit verify``). On PostgreSQL a trigger also refuses UPDATE and
    DELETE on the table."""

    seq = models.BigAutoField(primary_key=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)  # the username: kept if the account goes
    actor_role = models.CharField(max_length=30, blank=True)
    action = models.CharField(max_length=40, db_index=True)
    person_id = models.CharField(max_length=40, blank=True, db_index=True)
    reason = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)  # many events need no detail
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["actor", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"audit {self.seq}: {self.actor} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events cannot be deleted")


class ChainHead(models.Model):
    """One row: the last entry's sequence number and hash. Appending locks it, so
    concurrent writers extend the chain one at a time."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"chain head at {self.seq}"


class BreakGlassReason(models.TextChoices):
    URGENT = "urgent_care", "Urgent or emergency care for this person"
    REFERRAL = "referral", "A referral or request for care my team has received"
    SAFEGUARDING = "safeguarding", "A safeguarding concern"
    CONTINUITY = "continuity", "Continuity of care after a transfer or discharge"
    OTHER = "other", "Another direct care reason (explain below)"


class BreakGlassAccess(models.Model):
    """A member of staff opened a record outside their care relationship, giving a reason;
    the information governance lead reviews every one. The access itself is on the audit
    trail too (``break_glass``), so the review queue can be checked against it."""

    professional = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="break_glass"
    )
    person_id = models.CharField(max_length=40, db_index=True)
    reason = models.CharField(max_length=20, choices=BreakGlassReason.choices)
    explanation = models.CharField(max_length=500)
    at = models.DateTimeField(db_index=True)
    until = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        "teams.Professional",
        on_delete=models.PROTECT,
        related_name="break_glass_reviewed",
        null=True,
        blank=True,
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = "break-glass access"
        verbose_name_plural = "break-glass accesses"

    def __str__(self) -> str:
        return f"break-glass access {self.pk}"
