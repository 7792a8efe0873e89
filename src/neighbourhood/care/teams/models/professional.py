from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.functional import cached_property

from neighbourhood.care.roles import Role

if TYPE_CHECKING:
    from neighbourhood.care.teams.models.team import Team


class Professional(models.Model):
    """A member of staff: a sign-in, a role and an employing organisation."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="professional"
    )
    role = models.CharField(max_length=30, choices=Role.choices)
    job_title = models.CharField(max_length=200)
    organisation = models.ForeignKey(
        "teams.Organisation", on_delete=models.PROTECT, related_name="staff"
    )

    class Meta:
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @cached_property
    def teams_by_name(self) -> list[Team]:
        """The teams this professional is in, with their neighbourhoods, read once for
        this instance: it is loaded afresh for each request, and a page asks more than
        once (the view, then ``care_relationship``)."""
        return list(self.teams.select_related("neighbourhood").order_by("name"))
