from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models


class Sector(models.TextChoices):
    GENERAL_PRACTICE = "general_practice", "General practice"
    COMMUNITY = "community", "Community health"
    MENTAL_HEALTH = "mental_health", "Mental health"
    ACUTE = "acute", "Acute hospital"
    SOCIAL_CARE = "social_care", "Adult social care"
    PUBLIC_HEALTH = "public_health", "Public health"
    VCFSE = "vcfse", "Voluntary, community, faith and social enterprise"
    COMMISSIONER = "commissioner", "Integrated care board"


ODS_CODE = RegexValidator(r"^[A-Z0-9]{3,10}$", "An ODS code is 3 to 10 capital letters and digits")


class Organisation(models.Model):
    """A partner organisation, known by its Organisation Data Service (ODS) code."""

    ods_code = models.CharField("ODS code", max_length=10, unique=True, validators=[ODS_CODE])
    name = models.CharField(max_length=200)
    sector = models.CharField(max_length=20, choices=Sector.choices)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})"
