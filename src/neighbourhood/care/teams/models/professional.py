from __future__ import annotations

from django.conf import settings
from django.db import models

from neighbourhood.care.roles import Role


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
