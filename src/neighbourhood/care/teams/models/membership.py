from __future__ import annotations

from django.db import models


class Membership(models.Model):
    """One professional in one team; a professional may be in many teams."""

    class Kind(models.TextChoices):
        CORE = "core", "Core team"
        EXTENDED = "extended", "Extended team"

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="memberships")
    professional = models.ForeignKey(
        "teams.Professional", on_delete=models.CASCADE, related_name="memberships"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CORE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "professional"], name="one_membership_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.professional} in {self.team} ({self.get_kind_display()})"
