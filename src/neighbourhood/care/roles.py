"""Who may do what: the role × permission matrix. Anything not granted here is refused.

Care staff also need a *care relationship* with a person to see their record
(``access.care_relationship``); planning roles never see a name or NHS number.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.db import models


class Role(models.TextChoices):
    CARE_COORDINATOR = "care_coordinator", "Care coordinator"
    CLINICIAN = "clinician", "Clinician"
    SPA = "single_point_of_access", "Single point of access"
    ANALYST = "analyst", "ICB analyst"
    PARTNERSHIP_LEAD = "partnership_lead", "Integrator partnership lead"
    IG_LEAD = "ig_lead", "Information governance lead"


class Permission(StrEnum):
    VIEW_TEAMS = "view_teams"
    VIEW_CASE_FINDING = "view_case_finding"
    VIEW_PERSON = "view_person"
    VIEW_CASELOAD = "view_caseload"
    MANAGE_CASELOAD = "manage_caseload"
    VIEW_PLANNING = "view_planning"
    SEARCH_AUDIT = "search_audit"


_DIRECT_CARE = {
    Permission.VIEW_TEAMS,
    Permission.VIEW_CASE_FINDING,
    Permission.VIEW_PERSON,
    Permission.VIEW_CASELOAD,
}

MATRIX: dict[str, frozenset[Permission]] = {
    Role.CARE_COORDINATOR: frozenset(_DIRECT_CARE | {Permission.MANAGE_CASELOAD}),
    Role.CLINICIAN: frozenset(_DIRECT_CARE | {Permission.MANAGE_CASELOAD}),
    # The single point of access finds and reads records for urgent referrals; the
    # neighbourhood team that takes the person on enrols them.
    Role.SPA: frozenset(_DIRECT_CARE),
    Role.ANALYST: frozenset({Permission.VIEW_TEAMS, Permission.VIEW_PLANNING}),
    Role.PARTNERSHIP_LEAD: frozenset({Permission.VIEW_TEAMS, Permission.VIEW_PLANNING}),
    Role.IG_LEAD: frozenset({Permission.VIEW_TEAMS, Permission.SEARCH_AUDIT}),
}


def role_of(user: Any) -> str:
    """A user's role: their professional record's, or none for an account that is not
    staff of a team (e.g. an admin)."""
    return str(getattr(getattr(user, "professional", None), "role", ""))


def allows(role: str | None, permission: Permission) -> bool:
    return role is not None and permission in MATRIX.get(role, frozenset())
