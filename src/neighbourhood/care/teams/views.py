"""The front door and the teams page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from neighbourhood.care.access import professional_of, requires
from neighbourhood.care.roles import Permission, allows
from neighbourhood.care.teams.models import IntegratorPartnership, Team
from neighbourhood.care.twofactor import signed_in


@signed_in  # a front door for every role; it only sends each to their first page
def home(request: HttpRequest) -> HttpResponse:
    professional = professional_of(request)
    role = professional.role if professional else None
    for permission, name in (
        (Permission.TRIAGE, "urgent-queue"),  # the single point of access, from its calls
        (Permission.WRITE_CARE_PLAN, "worklist"),  # care staff start from their day's work
        (Permission.SOCIAL_PRESCRIBING, "referrals"),  # link workers, from their referrals
        (Permission.VIEW_CASE_FINDING, "case-finding"),
        (Permission.VIEW_PLANNING, "planning"),
        (Permission.SEARCH_AUDIT, "audit-search"),
        (Permission.RECEIVE_REFERRALS, "referrals"),  # a voluntary sector worker's one page
    ):
        if allows(role, permission):
            return redirect(name)
    return redirect("teams")


@requires(Permission.VIEW_TEAMS)
def teams(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "teams/teams.html",
        {
            "partnerships": IntegratorPartnership.objects.select_related(
                "place", "host", "lead__user"
            ),
            "teams": Team.objects.select_related("neighbourhood__place").prefetch_related(
                "memberships__professional__user", "memberships__professional__organisation"
            ),
        },
    )
