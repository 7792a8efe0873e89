"""My teams' caseloads, and enrolling, changing, transferring and discharging."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from neighbourhood.care import published
from neighbourhood.care.access import care_relationship, professional_of, requires
from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.caseload import actions
from neighbourhood.care.caseload.forms import (
    DischargeForm,
    EnrolForm,
    TransferForm,
    TransferTeamForm,
    UpdateForm,
)
from neighbourhood.care.caseload.models import Enrolment
from neighbourhood.care.roles import Permission
from neighbourhood.care.teams.models import Professional


def _me(request: HttpRequest) -> Professional:
    professional = professional_of(request)
    if professional is None:  # the middleware admits only staff with a role
        raise PermissionDenied
    return professional


@requires(Permission.VIEW_CASELOAD)
def caseload(request: HttpRequest) -> HttpResponse:
    me = _me(request)
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
    me = _me(request)
    person = _person_or_404(person_id)
    relationship = care_relationship(me, person_id)
    if relationship is None:
        raise PermissionDenied("You can enrol only people your team has a care relationship with.")
    teams = me.teams_by_name
    form = EnrolForm(request.POST or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        try:
            actions.enrol(
                person_id,
                form.cleaned_data["team"],
                form.cleaned_data["care_coordinator"],
                form.cleaned_data["reason"],
                by=me,
            )
        except actions.CaseloadError as error:
            form.add_error(error.field or None, str(error))
        else:
            messages.success(request, "Added to the caseload with a named care coordinator.")
            return redirect("profile", person_id=person_id)
    return render(request, "caseload/enrol.html", {"form": form, "person": person})


def _enrolment_for(me: Professional, enrolment_id: int) -> Enrolment:
    enrolment = get_object_or_404(
        Enrolment.objects.select_related("team", "care_coordinator__user"), pk=enrolment_id
    )
    if not me.memberships.filter(team_id=enrolment.team_id).exists():
        raise PermissionDenied("Only the team whose caseload this is can change it.")
    return enrolment


@requires(Permission.MANAGE_CASELOAD)
def enrolment(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    """Change the care coordinator or notes; transfer; discharge. One page, three forms."""
    me = _me(request)
    current = _enrolment_for(me, enrolment_id)
    person = _person_or_404(current.person_id)
    initial = {"version": current.version}
    update_form = UpdateForm(
        initial=initial | {"care_coordinator": current.care_coordinator_id, "notes": current.notes},
        team=current.team,
    )
    discharge_form = DischargeForm(initial=initial, prefix="discharge")
    # A transfer takes two steps: the team (a GET, so nothing changes), then a care
    # coordinator from that team's members.
    action = request.POST.get("action", "")
    if request.method == "POST" and action == "transfer":
        chosen: str | None = request.POST.get("team", "")
    else:
        chosen = request.GET.get("transfer_to")
    team_form = TransferTeamForm(
        None if chosen is None else {"transfer_to": chosen}, current=current.team
    )
    transfer_form = (
        TransferForm(initial=initial, team=team_form.cleaned_data["transfer_to"], prefix="transfer")
        if team_form.is_bound and team_form.is_valid()
        else None
    )
    conflict: actions.Conflict | None = None
    if request.method == "POST":
        try:
            if action == "update":
                update_form = UpdateForm(request.POST, team=current.team)
                if update_form.is_valid():
                    actions.update(
                        current.pk,
                        update_form.cleaned_data["version"],
                        me,
                        coordinator=update_form.cleaned_data["care_coordinator"],
                        notes=update_form.cleaned_data["notes"],
                    )
                    messages.success(request, "Saved.")
                    return redirect("enrolment", enrolment_id=current.pk)
            elif action == "discharge":
                discharge_form = DischargeForm(request.POST, prefix="discharge")
                if discharge_form.is_valid():
                    data = discharge_form.cleaned_data
                    actions.discharge(
                        current.pk, data["version"], me, data["end_reason"], data["end_note"]
                    )
                    messages.success(request, "Discharged from the caseload.")
                    return redirect("caseload")
            elif action == "transfer":
                if transfer_form is not None:
                    transfer_form = TransferForm(
                        request.POST, team=transfer_form.team, prefix="transfer"
                    )
                    if transfer_form.is_valid():
                        data = transfer_form.cleaned_data
                        actions.transfer(
                            current.pk,
                            data["version"],
                            me,
                            transfer_form.team,
                            data["care_coordinator"],
                            data["note"],
                        )
                        messages.success(request, f"Transferred to {transfer_form.team.name}.")
                        return redirect("caseload")
            else:
                raise actions.CaseloadError("Choose what to do: save, transfer or discharge")
        except actions.Conflict as error:
            conflict = error
            current.refresh_from_db()
        except actions.CaseloadError as error:
            form = {"update": update_form, "discharge": discharge_form}.get(
                action, transfer_form or team_form
            )
            field = error.field if error.field in form.fields else None
            form.add_error(field, str(error))
    record_by(  # only when the page is shown: a saved change has its own event
        me,
        "view_enrolment",
        person_id=current.person_id,
        reason=f"in the caseload of {current.team.name}",
    )
    return render(
        request,
        "caseload/enrolment.html",
        {
            "enrolment": current,
            "person": person,
            "update_form": update_form,
            "discharge_form": discharge_form,
            "team_form": team_form,
            "transfer_form": transfer_form,
            "conflict": conflict,
        },
    )
