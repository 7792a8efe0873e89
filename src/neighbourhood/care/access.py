"""Deny by default: every view names the permission it needs, or it is refused.

- ``SignInRequiredMiddleware`` sends anyone not signed in to the sign-in page, and
  refuses (403) any view that declares no permission, so a view added without one is
  closed rather than open.
- ``requires(permission)`` marks a view with the permission the role matrix must grant.
- ``care_relationship`` says why a member of staff may see a person's identifiable
  record (in one of their teams' caseloads, on the case-finding list of one of their
  teams' neighbourhoods, or referred to a service of their organisation and the referral
  still open), or None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from neighbourhood.care import published
from neighbourhood.care.roles import Permission, allows
from neighbourhood.care.teams.models import Professional, Team

if TYPE_CHECKING:
    from neighbourhood.care.caseload.models import Enrolment

View = TypeVar("View", bound=Callable[..., HttpResponseBase])
PUBLIC = "public"
BEARER = "bearer"  # the FHIR API: its views check a partner's bearer token themselves
ADMIN = "admin"
SIGNED_IN = "signed_in"  # any signed-in user (neighbourhood.care.twofactor)


def requires(permission: Permission) -> Callable[[View], View]:
    def mark(view: View) -> View:
        view.required_permission = permission  # type: ignore[attr-defined]
        return view

    return mark


def public(view: View) -> View:
    view.required_permission = PUBLIC  # type: ignore[attr-defined]
    return view


def bearer(view: View) -> View:
    """A view of the FHIR API: no session, a partner's bearer token checked in the view
    for its scopes and its organisation's care relationships (ADR 25)."""
    view.required_permission = BEARER  # type: ignore[attr-defined]
    return view


def professional_of(request: HttpRequest) -> Professional | None:
    user = request.user
    if not user.is_authenticated:
        return None
    try:
        professional: Professional = user.professional
    except Professional.DoesNotExist:  # a user who is not staff of a team, e.g. an admin
        return None
    return professional


def staff_of(request: HttpRequest) -> Professional:
    """The member of staff making a request to a view that needs a permission: the
    middleware admits only staff with a role there, so anyone else is refused."""
    professional = professional_of(request)
    if professional is None:
        raise PermissionDenied
    return professional


class SignInRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, published.NotPublished):
            return render(request, "not_published.html", status=503)
        return None

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return None
        needed = getattr(view_func, "required_permission", None)
        if needed is None:
            view_class = getattr(view_func, "view_class", None)
            needed = getattr(view_class, "required_permission", None)
        if needed in (PUBLIC, BEARER):
            return None
        if needed == SIGNED_IN:  # e.g. the second step of signing in
            if request.user.is_authenticated:
                return None
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        match = request.resolver_match
        if match is not None and match.app_name == ADMIN:
            return None  # the admin site admits only active staff users, and says so
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        professional = professional_of(request)
        if needed is None or professional is None or not allows(professional.role, needed):
            _audit_refusal(request, professional, needed)
            raise PermissionDenied("Your role does not give access to this page.")
        return None


def _audit_refusal(request: HttpRequest, professional: Professional | None, needed: Any) -> None:
    """Every page refused for want of a permission is on the trail: who, and what the page
    needed (its address may hold a person id, which the entry keeps as the person)."""
    from neighbourhood.care.audit.chain import record

    match = request.resolver_match
    person_id = str((match.kwargs if match else {}).get("person_id", ""))
    record(
        request.user.get_username(),
        "refused_page",
        role=professional.role if professional else "",
        person_id=person_id,
        reason=f"needs {needed or 'a declared permission'}",
        detail={"page": match.url_name if match else ""},
    )


@dataclass(frozen=True)
class Relationship:
    """Why someone may see a person's record: written to the audit trail."""

    reason: str
    team: Team | None = None
    break_glass: Any = None  # the BreakGlassAccess, when that is the only reason


def relationship_or_break_glass(
    professional: Professional, person_id: str, enrolments: list[Enrolment] | None = None
) -> Relationship | None:
    """A care relationship, or else this member of staff's unexpired break-glass access
    to this person."""
    from neighbourhood.care.audit import breakglass

    found = care_relationship(professional, person_id, enrolments)
    if found is not None:
        return found
    grant = breakglass.active(professional, person_id)
    if grant is None:
        return None
    return Relationship(f"break-glass: {grant.get_reason_display()}", break_glass=grant)


def care_relationship(
    professional: Professional, person_id: str, enrolments: list[Enrolment] | None = None
) -> Relationship | None:
    """``enrolments``, when the caller has already read them, are all of this person's
    (the profile shows them), so they are not read again."""
    from neighbourhood.care.caseload.models import Enrolment

    teams = professional.teams_by_name
    if enrolments is None:  # a person is in at most one caseload at a time
        enrolments = list(
            Enrolment.objects.filter(person_id=person_id, ended_at__isnull=True).select_related(
                "team"
            )
        )
    mine = {t.pk for t in teams}
    enrolment = next((e for e in enrolments if e.ended_at is None and e.team_id in mine), None)
    if enrolment is not None:
        return Relationship(f"in the caseload of {enrolment.team.name}", enrolment.team)
    codes = sorted({t.neighbourhood.code for t in teams})
    found = published.on_case_finding(person_id, codes)
    if found is not None:
        team = next(t for t in teams if t.neighbourhood.code == found)
        return Relationship(f"on the case-finding list of {team.neighbourhood.name}", team)
    return _referred_to(professional, person_id) or _in_urgent_care(professional, person_id)


def _referred_to(professional: Professional, person_id: str) -> Relationship | None:
    """A referral open with a service of this member of staff's organisation: the service
    that is to care for the person reads their record while it does (ADR 23)."""
    from neighbourhood.care.referrals.models import OPEN, Referral

    found = (
        Referral.objects.filter(
            person_id=person_id,
            service__organisation_id=professional.organisation_id,
            status__in=[s for s in OPEN if s != "draft"],
        )
        .select_related("service")
        .first()
    )
    if found is None:
        return None
    return Relationship(f"referred to {found.service.name} ({found.reference})")


def _in_urgent_care(professional: Professional, person_id: str) -> Relationship | None:
    """An urgent episode open with this member of staff's organisation: a call to its
    single point of access (until a day after triage), a response its team is making, or
    a stay on one of its virtual wards (ADR 24)."""
    if not allows(professional.role, Permission.URGENT_CARE) or not person_id:
        return None
    from django.db.models import Q
    from django.utils import timezone

    from neighbourhood.care.urgent.models import Call, Response, Stay

    since = timezone.now() - timedelta(days=1)
    mine = professional.organisation_id
    call = (
        Call.objects.filter(person_id=person_id, organisation_id=mine)
        .filter(~Q(status=Call.Status.DONE) | Q(triaged_at__gte=since))
        .first()
    )
    if call is not None:
        return Relationship(f"urgent call {call.reference} to the single point of access")
    response = (
        Response.objects.filter(person_id=person_id, call__organisation_id=mine)
        .exclude(status=Response.Status.CLOSED)
        .first()
    )
    if response is not None:
        return Relationship(f"urgent community response {response.reference}")
    stay = (
        Stay.objects.filter(
            person_id=person_id, ward__organisation_id=mine, discharged_at__isnull=True
        )
        .select_related("ward")
        .first()
    )
    if stay is not None:
        return Relationship(f"on {stay.ward.name} ({stay.reference})")
    return None


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The header's links: only the pages this person's role may open."""
    professional = professional_of(request)
    if professional is None:
        return {"nav": [], "professional": None}
    links = [
        (Permission.WORK_TASKS, "worklist", "Worklist"),
        (Permission.WORK_TASKS, "my-tasks", "Tasks"),
        (Permission.VIEW_MEETINGS, "meetings", "MDT meetings"),
        (Permission.RECEIVE_REFERRALS, "referrals", "Referrals"),
        (Permission.VIEW_CASE_FINDING, "case-finding", "Case finding"),
        (Permission.VIEW_CASELOAD, "caseload", "Caseload"),
        (Permission.URGENT_CARE, "urgent-queue", "Urgent care"),
        (Permission.VIEW_PLANNING, "planning", "Population figures"),
        (Permission.VIEW_PLANNING, "workforce-map", "Workforce map"),
        (Permission.VIEW_PLANNING, "capacity-scenarios", "Capacity scenarios"),
        (Permission.VIEW_PLANNING, "evaluation", "Evaluation"),
        (Permission.VIEW_TEAM_MEASURES, "team-measures", "Team measures"),
        (Permission.VIEW_TEAM_MEASURES, "referral-measures", "Referral measures"),
        (Permission.VIEW_TEAM_MEASURES, "urgent-measures", "Urgent care measures"),
        (Permission.VIEW_DIRECTORY, "directory", "Directory of services"),
        (Permission.PRACTICE_INBOX, "practice-inbox", "Practice inbox"),
        (Permission.SEARCH_AUDIT, "audit-search", "Audit trail"),
        (Permission.SEARCH_AUDIT, "break-glass-queue", "Break-glass reviews"),
        (Permission.SEARCH_AUDIT, "lockouts", "Locked accounts"),
        (Permission.MANAGE_API_CLIENTS, "api-clients", "Partners' systems"),
        (Permission.VIEW_TEAMS, "teams", "Teams"),
    ]
    if allows(professional.role, Permission.TRIAGE):  # the single point of access's work first
        links.sort(key=lambda link: link[1] != "urgent-queue")
    return {
        "nav": [
            (name, label) for needed, name, label in links if allows(professional.role, needed)
        ],
        "professional": professional,
    }
