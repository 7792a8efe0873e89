from __future__ import annotations

from django.db import models


class Place(models.Model):
    """A place (usually a borough): the footprint of one integrator partnership."""

    code = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class IntegratorPartnership(models.Model):
    """The partnership that integrates care in one place: a host organisation and one
    accountable lead."""

    place = models.OneToOneField(Place, on_delete=models.PROTECT, related_name="partnership")
    name = models.CharField(max_length=200)
    host = models.ForeignKey("teams.Organisation", on_delete=models.PROTECT, related_name="+")
    lead = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="partnerships_led"
    )

    def __str__(self) -> str:
        return self.name
