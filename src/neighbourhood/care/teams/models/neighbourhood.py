from __future__ import annotations

from django.db import models


class Neighbourhood(models.Model):
    """About 50,000 people, usually a primary care network's footprint."""

    code = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=200)
    place = models.ForeignKey(
        "teams.Place", on_delete=models.PROTECT, related_name="neighbourhoods"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
