"""My teams' caseloads, and enrolling, changing, transferring and discharging: one view
per action, each posting to its own address."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from neighbourhood.care import published
from neighbourhood.care.access import (
    care_relationship,
    relationship_or_break_glass,
    requires,
    staff_of,
)
from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.caseload import actions
from neighbourhood.care.caseload.forms import DischargeForm, EnrolForm, TransferForm, UpdateForm
from neighbourhood.care.caseload.models import Enrolment
from neighbourhood.care.caseload.presenters import EnrolmentPage
from neighbourhood.care.roles import Permission
from neighbourhood.care.teams.models import Professional


@requires(Permission.VIEW_CASELOAD)
def caseload(request: HttpRequest) -> HttpResponse:
    me = staff_of(request)
    teams = me.teams_by_name
    enrolments = list(
        Enrolment.objects.filter(team__in=teams, ended_at__isnull=True)
        .select_related("team", "care_coordinator__user")
        .order_by("team__name", "enrolled_at")
    )
    people = published.people([e.person_id for e in enrolments])
    record_by(
        me,
        "view_caseload",
        reason="caseloads of " + ", ".join(t.name for t in teams),
        detail={"people_shown": [e.person_id for e in enrolments]},
    )
    return render(
        request,
        "caseload/caseload.html",
        {
            "entries": [(e, people.get(e.person_id)) for e in enrolments],
            "teams": teams,
        },
    )


def _person_or_404(person_id: str) -> dict[str, Any]:
    person = published.profile(person_id)
    if person is None:
        raise Http404("There is no person with that identifier in the published refresh.")
    return person


@requires(Permission.MANAGE_CASELOAD)
def enrol(request: HttpRequest, person_id: str) -> HttpResponse:
    me = staff_of(request)
    # The relationship first: a person who does not exist has none, so both get one answer.
    if care_relationship(me, person_id) is None:
        record_by(me, "refused_enrol", person_id=person_id, reason="no care relationship")
        raise PermissionDenied("You can enrol only people your team has a care relationship with.")
    person = _person_or_404(person_id)
    teams = me.teams_by_name
    form = EnrolForm(request.POST or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        try:
            actions.enrol(
                person_id=person_id,
                team=form.cleaned_data["team"],
                coordinator=form.cleaned_data["care_coordinator"],
                reason=form.cleaned_data["reason"],
                by=me,
            )
        except actions.CaseloadError as error:
            form.add_error(error.field or None, str(error))
        else:
            messages.success(request, "Added to the caseload with a named care coordinator.")
            return redirect("profile", person_id=person_id)
    return render(request, "caseload/enrol.html", {"form": form, "person": person})


NO_ENROLMENT = "There is no enrolment with that number in your teams' caseloads."


def _enrolment_for(me: Professional, enrolment_id: int) -> Enrolment:
    """One answer whether the enrolment does not exist or is another team's, so its number
    tells no one whether it exists; the trail keeps a refusal."""
    enrolment = (
        Enrolment.objects.select_related("team", "care_coordinator__user")
        .filter(pk=enrolment_id)
        .first()
    )
    if enrolment is None:
        raise Http404(NO_ENROLMENT)
    if not me.memberships.filter(team_id=enrolment.team_id).exists():
        record_by(
            me,
            "refused_enrolment",
            person_id=enrolment.person_id,
            reason="another team's enrolment",
            detail={"enrolment": enrolment.pk},
        )
        raise Http404(NO_ENROLMENT)
    return enrolment


def _page(request: HttpRequest, enrolment_id: int) -> EnrolmentPage:
    me = staff_of(request)
    current = _enrolment_for(me, enrolment_id)
    reason = f"in the caseload of {current.team.name}"
    if not current.is_open:
        # A closed enrolment shows who the person is: only to a team that still has a
        # care relationship with them, and the trail says which.
        relationship = relationship_or_break_glass(me, current.person_id)
        if relationship is None:
            record_by(
                me,
                "refused_enrolment",
                person_id=current.person_id,
                reason="closed enrolment, no care relationship",
            )
            raise PermissionDenied(
                "This enrolment has ended, and your team no longer cares for this person. "
                "Open their record from its address to ask for break-glass access."
            )
        reason = f"closed enrolment of {current.team.name}; {relationship.reason}"
    return EnrolmentPage(me, current, _person_or_404(current.person_id), reason)


@requires(Permission.MANAGE_CASELOAD)
def enrolment(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    """The enrolment page: change the care coordinator or notes, transfer, discharge.
    Each of its forms posts to a view of its own."""
    if request.method != "GET":
        return _not_a_form(request)
    page = _page(request, enrolment_id)
    page.choose_team(request.GET.get("transfer_to"))
    return page.render(request)


@requires(Permission.MANAGE_CASELOAD)
@require_POST
def update(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    page = _page(request, enrolment_id)
    form = page.update_form = UpdateForm(request.POST, team=page.enrolment.team)
    return page.attempt(
        request,
        form,
        lambda data: actions.update(
            enrolment_id=page.enrolment.pk,
            version=data["version"],
            by=page.me,
            coordinator=data["care_coordinator"],
            notes=data["notes"],
        ),
        done="Saved.",
        then=reverse("enrolment", args=[page.enrolment.pk]),
    )


@requires(Permission.MANAGE_CASELOAD)
@require_POST
def discharge(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    page = _page(request, enrolment_id)
    form = page.discharge_form = DischargeForm(request.POST, prefix="discharge")
    return page.attempt(
        request,
        form,
        lambda data: actions.discharge(
            enrolment_id=page.enrolment.pk,
            version=data["version"],
            by=page.me,
            reason=data["end_reason"],
            note=data["end_note"],
        ),
        done="Discharged from the caseload.",
        then=reverse("caseload"),
    )


@requires(Permission.MANAGE_CASELOAD)
@require_POST
def transfer(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    page = _page(request, enrolment_id)
    page.choose_team(request.POST.get("team", ""))
    if page.transfer_form is None:  # no team, or not one to transfer to: the team form says
        return page.render(request)
    team = page.transfer_form.team
    form = page.transfer_form = TransferForm(request.POST, team=team, prefix="transfer")
    return page.attempt(
        request,
        form,
        lambda data: actions.transfer(
            enrolment_id=page.enrolment.pk,
            version=data["version"],
            by=page.me,
            to_team=team,
            coordinator=data["care_coordinator"],
            note=data["note"],
        ),
        done=f"Transferred to {team.name}.",
        then=reverse("caseload"),
    )


def _not_a_form(request: HttpRequest) -> HttpResponse:
    """A form sent to the page rather than to one of its actions (from a page opened
    before an upgrade, say): nothing is changed, and the page says what to do."""
    response = render(
        request,
        "405.html",
        {"allowed": "GET"},
        status=405,
    )
    response["Allow"] = "GET"
    return response
