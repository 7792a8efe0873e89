from __future__ import annotations

from django.db import models


class Team(models.Model):
    """An integrated neighbourhood team: a core team and an extended team of professionals
    from several organisations."""

    name = models.CharField(max_length=200, unique=True)
    neighbourhood = models.ForeignKey(
        "teams.Neighbourhood", on_delete=models.PROTECT, related_name="teams"
    )
    members = models.ManyToManyField(
        "teams.Professional", through="teams.Membership", related_name="teams"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
