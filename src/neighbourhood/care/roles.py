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
    LINK_WORKER = "link_worker", "Social prescribing link worker"
    VCFSE_WORKER = "vcfse_worker", "Voluntary sector worker"
    # The account a partner's system acts through on the FHIR API (ADR 25): it never
    # signs in to the web pages.
    PARTNER_SYSTEM = "partner_system", "Partner's system (FHIR API)"


class Permission(StrEnum):
    VIEW_TEAMS = "view_teams"
    VIEW_CASE_FINDING = "view_case_finding"
    VIEW_PERSON = "view_person"
    VIEW_CASELOAD = "view_caseload"
    MANAGE_CASELOAD = "manage_caseload"
    VIEW_PLANNING = "view_planning"
    SEARCH_AUDIT = "search_audit"
    # Personalised care (assessments, what matters, the care plan, tasks, advance care plan)
    VIEW_CARE_RECORD = "view_care_record"
    WRITE_CARE_PLAN = "write_care_plan"
    WORK_TASKS = "work_tasks"
    RECORD_CPR = "record_cpr"
    VIEW_TEAM_MEASURES = "view_team_measures"
    # Coordination: MDT meetings, referrals and the directory of services, social prescribing
    VIEW_MEETINGS = "view_meetings"
    RUN_MEETINGS = "run_meetings"
    VIEW_DIRECTORY = "view_directory"
    REFER = "refer"
    RECEIVE_REFERRALS = "receive_referrals"
    SOCIAL_PRESCRIBING = "social_prescribing"
    PRACTICE_INBOX = "practice_inbox"
    # Urgent neighbourhood services: the single point of access, urgent community
    # response and virtual wards
    URGENT_CARE = "urgent_care"
    TRIAGE = "triage"
    RESPOND = "respond"
    # The FHIR API: registering partners' systems, their keys and scopes
    MANAGE_API_CLIENTS = "manage_api_clients"


_DIRECT_CARE = {
    Permission.VIEW_TEAMS,
    Permission.VIEW_CASE_FINDING,
    Permission.VIEW_PERSON,
    Permission.VIEW_CASELOAD,
    Permission.VIEW_CARE_RECORD,
    Permission.WORK_TASKS,
    Permission.VIEW_MEETINGS,
    Permission.VIEW_DIRECTORY,
    Permission.REFER,
    Permission.RECEIVE_REFERRALS,
    Permission.PRACTICE_INBOX,
}
_PLANNING = {
    Permission.VIEW_TEAMS,
    Permission.VIEW_PLANNING,
    Permission.VIEW_TEAM_MEASURES,
    Permission.VIEW_DIRECTORY,
}

MATRIX: dict[str, frozenset[Permission]] = {
    Role.CARE_COORDINATOR: frozenset(
        _DIRECT_CARE
        | {
            Permission.MANAGE_CASELOAD,
            Permission.WRITE_CARE_PLAN,
            Permission.VIEW_TEAM_MEASURES,
            Permission.RUN_MEETINGS,
            Permission.URGENT_CARE,
        }
    ),
    # A CPR recommendation is a clinical decision: only a clinician records one (ReSPECT).
    Role.CLINICIAN: frozenset(
        _DIRECT_CARE
        | {
            Permission.MANAGE_CASELOAD,
            Permission.WRITE_CARE_PLAN,
            Permission.VIEW_TEAM_MEASURES,
            Permission.RECORD_CPR,
            Permission.RUN_MEETINGS,
            Permission.URGENT_CARE,
            Permission.RESPOND,
        }
    ),
    # The single point of access takes calls, and its senior clinicians triage them,
    # reading the advance care plan first; they may respond and admit to a virtual ward.
    # The neighbourhood team that takes the person on enrols them and writes their plan.
    Role.SPA: frozenset(
        _DIRECT_CARE
        | {
            Permission.URGENT_CARE,
            Permission.TRIAGE,
            Permission.RESPOND,
            Permission.VIEW_TEAM_MEASURES,
        }
    ),
    Role.ANALYST: frozenset(_PLANNING),
    Role.PARTNERSHIP_LEAD: frozenset(_PLANNING),
    Role.IG_LEAD: frozenset(
        {Permission.VIEW_TEAMS, Permission.SEARCH_AUDIT, Permission.MANAGE_API_CLIENTS}
    ),
    # A link worker is in the extended team: reads the record of the people referred to
    # them, offers activities and VCFSE organisations, and measures wellbeing.
    Role.LINK_WORKER: frozenset(_DIRECT_CARE | {Permission.SOCIAL_PRESCRIBING}),
    # A voluntary sector worker sees only the people referred to their organisation
    # (their inbox) and confirms contact and attendance: nothing else.
    Role.VCFSE_WORKER: frozenset({Permission.RECEIVE_REFERRALS}),
    # What its scopes allow, within direct care: the API checks both.
    Role.PARTNER_SYSTEM: frozenset(
        _DIRECT_CARE | {Permission.WRITE_CARE_PLAN, Permission.URGENT_CARE}
    ),
}


def role_of(user: Any) -> str:
    """A user's role: their professional record's, or none for an account that is not
    staff of a team (e.g. an admin)."""
    return str(getattr(getattr(user, "professional", None), "role", ""))


def allows(role: str | None, permission: Permission) -> bool:
    return role is not None and permission in MATRIX.get(role, frozenset())


def in_urgent_care(role: str | None) -> bool:
    """The single point of access sees what matters in an emergency first: the advance
    care plan comes before everything else on a person's record."""
    return role == Role.SPA
