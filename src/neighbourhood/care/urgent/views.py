"""Urgent care pages: the single point of access's queue of calls, a call with what the
triaging clinician needs on one screen, the urgent community response board, virtual
wards and their daily boards, a stay with its observations, and the measures.

Every page needs ``URGENT_CARE``; triage needs ``TRIAGE``, responding and the wards
``RESPOND``. Every read of a person's details and every write is on the audit trail;
a page that lists people records whom it showed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from neighbourhood.care import published
from neighbourhood.care.access import relationship_or_break_glass, requires, staff_of
from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.caseload.models import Enrolment
from neighbourhood.care.plans.models import AdvanceCarePlan, CarePlan
from neighbourhood.care.plans.views import beside, measures_scope
from neighbourhood.care.roles import Permission, allows
from neighbourhood.care.teams.models import Professional, Team
from neighbourhood.care.urgent import actions, measures
from neighbourhood.care.urgent.forms import (
    AdmitForm,
    CallForm,
    CloseForm,
    DischargeForm,
    ObservationForm,
    SetOffForm,
    TriageForm,
    Versioned,
    VisitForm,
)
from neighbourhood.care.urgent.models import (
    BEDS_PER_100K,
    OCCUPANCY_TARGET,
    TWO_HOURS,
    UCR_NEEDS,
    Call,
    Observation,
    Response,
    Stay,
    Ward,
)
from neighbourhood.care.urgent.news2 import CONSCIOUSNESS, READINGS

A_PAGE = 50
RECENT_HOURS = 12


def _name(person: dict[str, Any] | None, fallback: str = "") -> str:
    if person:
        return f"{person['given_name']} {person['family_name']}"
    return fallback or "Not identified"


@requires(Permission.URGENT_CARE)
def queue(request: HttpRequest) -> HttpResponse:
    """Calls waiting for triage or being triaged, oldest first, and those triaged lately."""
    me = staff_of(request)
    mine = Call.objects.filter(organisation_id=me.organisation_id).select_related(
        "claimed_by__user", "taken_by__user"
    )
    open_calls = list(mine.exclude(status=Call.Status.DONE).order_by("received_at", "pk")[:200])
    since = timezone.now() - dt.timedelta(hours=RECENT_HOURS)
    recent = list(
        mine.filter(status=Call.Status.DONE, triaged_at__gte=since).order_by("-triaged_at")[:50]
    )
    people = published.people([c.person_id for c in open_calls + recent if c.person_id])
    record_by(
        me,
        "view_urgent_queue",
        reason="single point of access queue",
        detail={"people_shown": sorted(people)},
    )
    now = timezone.now()
    return render(
        request,
        "urgent/queue.html",
        {
            "show_measures": allows(me.role, Permission.VIEW_TEAM_MEASURES),
            "open": [
                (c, people.get(c.person_id), _minutes(now - c.received_at)) for c in open_calls
            ],
            "recent": [(c, people.get(c.person_id)) for c in recent],
            "may_triage": allows(me.role, Permission.TRIAGE),
            "ucr_needs": UCR_NEEDS,
            "hours": RECENT_HOURS,
        },
    )


def _minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


@requires(Permission.TRIAGE)
def call_new(request: HttpRequest) -> HttpResponse:
    me = staff_of(request)
    form = CallForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = published.by_nhs_number(data["nhs_number"]) if data["nhs_number"] else None
        described = data["described"].strip()
        if data["nhs_number"] and person is None:
            if not described:
                form.add_error(
                    "nhs_number",
                    "No one with this NHS number is in the published refresh: check it with "
                    "the caller, or describe the person below and take the call",
                )
            else:
                described = f"{described} (NHS number given: {data['nhs_number']}, not found)"
        if not form.errors:
            intake = actions.Intake(
                source=data["source"],
                caller=data["caller"],
                need=data["need"],
                details=data["details"],
                callback=data["callback"],
                person_id=str(person["person_id"]) if person else "",
                described=described,
                received_at=data["received_at"],
            )
            try:
                call = actions.take_call(intake, me)
            except actions.PlanError as error:
                beside(form, error)
            else:
                messages.success(request, f"Call {call.reference} is in the queue.")
                return redirect("urgent-call", call_id=call.pk)
    return render(request, "urgent/call_new.html", {"form": form})


def _urgent_record(person_id: str) -> dict[str, Any]:
    """What a triaging clinician needs beside the call: the advance care plan, the
    contingency plan of the care plan, and the care coordinator."""
    if not person_id:
        return {}
    plan = CarePlan.objects.filter(person_id=person_id).first()
    content = plan.current().content if plan is not None and plan.version else {}
    enrolment = (
        Enrolment.objects.filter(person_id=person_id, ended_at__isnull=True)
        .select_related("team", "care_coordinator__user", "care_coordinator__organisation")
        .first()
    )
    return {
        "acp": AdvanceCarePlan.in_force(person_id).select_related("cpr_clinician__user").first(),
        "contingency": {
            "what": content.get("contingency_what", ""),
            "call": content.get("contingency_call", ""),
        },
        "enrolment": enrolment,
        "stay": Stay.objects.filter(person_id=person_id, discharged_at__isnull=True)
        .select_related("ward")
        .first(),
    }


def _call_for(me: Professional, call_id: int) -> Call:
    call = (
        Call.objects.select_related("claimed_by__user", "taken_by__user", "organisation")
        .filter(pk=call_id)
        .first()
    )
    if call is None:
        raise Http404("No call has that number.")
    if call.organisation_id != me.organisation_id:
        record_by(
            me,
            "refused_urgent_call",
            person_id=call.person_id,
            reason="another organisation's call",
        )
        raise PermissionDenied(
            "This call was made to another organisation's single point of access."
        )
    return call


@requires(Permission.URGENT_CARE)
def call(request: HttpRequest, call_id: int) -> HttpResponse:
    me = staff_of(request)
    found = _call_for(me, call_id)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    triage_form = TriageForm(
        request.POST if action == "triage" else None,
        initial={"version": found.version, "team": _team_for(found.person_id)},
    )
    version_form = Versioned(request.POST if action in ("claim", "release") else None)
    conflict = ""
    if action:
        if not allows(me.role, Permission.TRIAGE):
            record_by(me, "refused_urgent_call", person_id=found.person_id, reason="not a triager")
            raise PermissionDenied(
                "Only a senior clinician of the single point of access triages calls."
            )
        try:
            if action == "claim" and version_form.is_valid():
                actions.claim_call(
                    call_id=found.pk, version=version_form.cleaned_data["version"], by=me
                )
                messages.success(request, f"You are triaging {found.reference}.")
                return redirect("urgent-call", call_id=found.pk)
            if action == "release" and version_form.is_valid():
                actions.release_call(
                    call_id=found.pk, version=version_form.cleaned_data["version"], by=me
                )
                messages.success(request, f"{found.reference} is back in the queue.")
                return redirect("urgent-queue")
            if action == "triage" and triage_form.is_valid():
                data = triage_form.cleaned_data
                done = actions.triage(
                    call_id=found.pk,
                    version=data["version"],
                    by=me,
                    decision=actions.Decision(
                        acuity=data["acuity"],
                        outcome=data["outcome"],
                        note=data["note"],
                        convey_reason=data["convey_reason"],
                        team=data["team"],
                        ward=data["ward"],
                    ),
                )
                messages.success(
                    request, f"{done.reference} triaged: {done.get_outcome_display()}."
                )
                if done.outcome == "ucr":
                    return redirect("urgent-response", response_id=done.response.pk)
                if done.outcome == "referral" and done.person_id:
                    return redirect("refer", person_id=done.person_id)
                return redirect("urgent-queue")
            if action not in ("claim", "release", "triage"):
                messages.error(request, "Choose one of the actions on this page.")
            elif action != "triage":
                conflict = "The page was out of date: look at the call as it is now."
        except actions.Claimed as error:
            conflict = str(error)
        except actions.PlanError as error:
            beside(triage_form, error)
    person = published.profile(found.person_id) if found.person_id else None
    record_by(
        me,
        "view_urgent_call",
        person_id=found.person_id,
        reason=f"urgent call {found.reference}",
        detail={"call": found.pk},
    )
    if request.method == "POST":  # a refused action: show the record as it is now
        found.refresh_from_db()
    return render(
        request,
        "urgent/call.html",
        {
            "call": found,
            "person": person,
            "triage": triage_form,
            "conflict": conflict,
            "mine": found.claimed_by_id == me.pk,
            "may_triage": allows(me.role, Permission.TRIAGE),
            "ucr_need": found.ucr_need,
            "waited": _minutes((found.triaged_at or timezone.now()) - found.received_at),
            **_urgent_record(found.person_id),
        },
    )


def _team_for(person_id: str) -> Team | None:
    if not person_id:
        return None
    person = published.people([person_id]).get(person_id)
    code = str(person.get("neighbourhood") or "") if person else ""
    return Team.objects.filter(neighbourhood__code=code).first() if code else None


@requires(Permission.URGENT_CARE)
def board(request: HttpRequest) -> HttpResponse:
    """Open urgent community responses, least time left first."""
    me = staff_of(request)
    team_id = request.GET.get("team", "")
    teams = list(Team.objects.order_by("name"))
    open_ones = Response.objects.filter(call__organisation_id=me.organisation_id).exclude(
        status=Response.Status.CLOSED
    )
    if team_id.isascii() and team_id.isdigit() and len(team_id) < 10:
        open_ones = open_ones.filter(team_id=int(team_id))
    else:
        team_id = ""
    counts = open_ones.aggregate(
        all=Count("pk"),
        waiting=Count("pk", filter=Q(status=Response.Status.WAITING)),
        on_the_way=Count("pk", filter=Q(status=Response.Status.ON_THE_WAY)),
        visited=Count("pk", filter=Q(status=Response.Status.VISITED)),
    )
    page = Paginator(
        open_ones.select_related("team", "responder__user", "call").order_by(
            "visited_at", "received_at", "pk"
        ),
        A_PAGE,
    ).get_page(request.GET.get("page"))
    rows = list(page)
    people = published.people([r.person_id for r in rows if r.person_id])
    record_by(
        me,
        "view_urgent_board",
        reason="urgent community response board",
        detail={"people_shown": sorted(people), "team": team_id},
    )
    now = timezone.now()
    return render(
        request,
        "urgent/board.html",
        {
            "show_measures": allows(me.role, Permission.VIEW_TEAM_MEASURES),
            "rows": [
                (
                    r,
                    _name(people.get(r.person_id), r.call.described[:60]),
                    TWO_HOURS - _minutes(now - r.received_at),
                )
                for r in rows
            ],
            "page": page,
            "counts": counts,
            "teams": teams,
            "team": team_id,
            "today": measures.on_time_today(me.organisation_id),
        },
    )


def _response_for(me: Professional, response_id: int) -> Response:
    found = (
        Response.objects.select_related("team", "responder__user", "call__claimed_by__user")
        .filter(pk=response_id)
        .first()
    )
    if found is None:
        raise Http404("No urgent response has that number.")
    if found.call.organisation_id != me.organisation_id:
        record_by(
            me,
            "refused_urgent_response",
            person_id=found.person_id,
            reason="another organisation's",
        )
        raise PermissionDenied("This urgent response belongs to another organisation.")
    return found


@requires(Permission.URGENT_CARE)
def response(request: HttpRequest, response_id: int) -> HttpResponse:
    me = staff_of(request)
    found = _response_for(me, response_id)
    forms: dict[str, Any] = {
        "set_off": SetOffForm(
            _bound(request, "set_off"),
            auto_id="set_off_%s",
            initial={"version": found.version, "eta_minutes": 30},
        ),
        "visit": VisitForm(
            _bound(request, "visit"),
            auto_id="visit_%s",
            initial={
                "version": found.version,
                "visited_at": f"{timezone.localtime():%Y-%m-%dT%H:%M}",
            },
        ),
        "close": CloseForm(
            _bound(request, "close"), auto_id="close_%s", initial={"version": found.version}
        ),
    }

    def act(action: str, data: dict[str, Any]) -> Said:
        if action == "set_off":
            actions.set_off(
                response_id=found.pk,
                version=data["version"],
                by=me,
                eta_minutes=data["eta_minutes"],
            )
            return f"You are on the way to {found.reference}.", False
        if action == "visit":
            done = actions.record_visit(
                response_id=found.pk,
                version=data["version"],
                by=me,
                visited_at=data["visited_at"],
                late_reason=data["late_reason"],
            )
            minutes = done.minutes_to_visit() or 0
            return (
                f"First visit recorded, {minutes // 60} h {minutes % 60} min after the call.",
                False,
            )
        actions.close_response(
            response_id=found.pk, version=data["version"], by=me, after=data["after"]
        )
        return f"{found.reference} closed.", False

    done, conflict = _posted(request, me, found.person_id, forms, act)
    if done is not None:
        return done
    person = published.profile(found.person_id) if found.person_id else None
    record_by(
        me,
        "view_urgent_response",
        person_id=found.person_id,
        reason=f"urgent community response {found.reference}",
        detail={"response": found.pk},
    )
    if request.method == "POST":  # a refused action: show the record as it is now
        found.refresh_from_db()
    now = timezone.now()
    return render(
        request,
        "urgent/response.html",
        {
            "response": found,
            "call": found.call,
            "person": person,
            "forms": forms,
            "conflict": conflict,
            "left": TWO_HOURS - _minutes(now - found.received_at),
            "may_respond": allows(me.role, Permission.RESPOND),
            **_urgent_record(found.person_id),
        },
    )


Said = tuple[str, bool]  # what to tell the clinician, and whether it is a warning


def _posted(
    request: HttpRequest,
    me: Professional,
    person_id: str,
    forms: dict[str, Any],
    act: Callable[[str, dict[str, Any]], Said],
) -> tuple[HttpResponse | None, str]:
    """A page's posted action, by a clinician who responds: the form checked, the write
    made; a redirect to the page when done, else the conflict to show (a form's errors go
    beside its fields)."""
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if not action:
        return None, ""
    if not allows(me.role, Permission.RESPOND):
        record_by(me, "refused_urgent_action", person_id=person_id, reason="not a responder")
        raise PermissionDenied("Only clinicians who respond to urgent care record this.")
    if action not in forms:
        messages.error(request, "Choose one of the actions on this page.")
        return None, ""
    form = forms[action]
    if not form.is_valid():
        return None, ""
    try:
        said, warning = act(action, form.cleaned_data)
    except actions.Claimed as error:
        return None, str(error)
    except actions.PlanError as error:
        beside(form, error)
        return None, ""
    (messages.warning if warning else messages.success)(request, said)
    return redirect(request.path), ""


def _bound(request: HttpRequest, name: str) -> Any:
    """The POST data, for the form of the action posted; None for the others."""
    posted = request.method == "POST" and request.POST.get("action") == name
    return request.POST if posted else None


def _population_of(ward: Ward, population: dict[str, int]) -> int:
    codes = ward.catchment or list(population)
    return sum(population.get(c, 0) for c in codes)


@requires(Permission.URGENT_CARE)
def wards(request: HttpRequest) -> HttpResponse:
    me = staff_of(request)
    found = list(
        Ward.objects.filter(active=True)
        .select_related("organisation")
        .annotate(occupied=Count("stays", filter=Q(stays__discharged_at__isnull=True)))
    )
    population = published.population()
    rows = []
    for w in found:
        people = _population_of(w, population)
        rows.append(
            {
                "ward": w,
                "occupied": w.occupied,
                "occupancy": round(100 * w.occupied / w.beds),
                "population": people,
                "per_100k": round(100_000 * w.beds / people, 1) if people else None,
            }
        )
    everyone = sum(population.values())
    beds = sum(w.beds for w in found)
    record_by(me, "view_virtual_wards", reason="virtual wards")
    return render(
        request,
        "urgent/wards.html",
        {
            "show_measures": allows(me.role, Permission.VIEW_TEAM_MEASURES),
            "rows": rows,
            "beds": beds,
            "occupied": sum(r["occupied"] for r in rows),
            "population": everyone,
            "per_100k": round(100_000 * beds / everyone, 1) if everyone else None,
            "target": round(100 * OCCUPANCY_TARGET),
            "planning": BEDS_PER_100K,
            "may_admit": allows(me.role, Permission.RESPOND),
        },
    )


@requires(Permission.URGENT_CARE)
def ward(request: HttpRequest, ward_id: int) -> HttpResponse:
    """The daily ward board: who is on it, for how long, their latest NEWS2, escalations."""
    me = staff_of(request)
    found = Ward.objects.filter(pk=ward_id).first()
    if found is None:
        raise Http404("No virtual ward has that number.")
    latest = Observation.objects.filter(stay=OuterRef("pk")).order_by("-taken_at", "-pk")
    stays = list(
        found.stays.filter(discharged_at__isnull=True)
        .annotate(
            news2=Subquery(latest.values("news2")[:1]),
            risk=Subquery(latest.values("risk")[:1]),
            observed_at=Max("observations__taken_at"),
        )
        .order_by("admitted_at", "pk")
    )
    people = published.people([s.person_id for s in stays])
    record_by(
        me,
        "view_virtual_ward",
        reason=found.name,
        detail={"people_shown": sorted(people), "ward": found.pk},
    )
    today = timezone.localdate()
    return render(
        request,
        "urgent/ward.html",
        {
            "ward": found,
            "rows": [
                (
                    s,
                    _name(people.get(s.person_id)),
                    (today - timezone.localtime(s.admitted_at).date()).days,
                )
                for s in stays
            ],
            "occupancy": round(100 * len(stays) / found.beds),
            "target": round(100 * OCCUPANCY_TARGET),
        },
    )


@requires(Permission.RESPOND)
def admit(request: HttpRequest) -> HttpResponse:
    me = staff_of(request)
    form = AdmitForm(request.POST or None, initial={"ward": request.GET.get("ward")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = published.by_nhs_number(data["nhs_number"])
        if person is None:
            form.add_error(
                "nhs_number", "No one with this NHS number is in the published refresh: check it"
            )
        else:
            try:
                stay = actions.admit(
                    ward=data["ward"],
                    person_id=str(person["person_id"]),
                    route=data["route"],
                    reason=data["reason"],
                    by=me,
                )
            except actions.PlanError as error:
                beside(form, error)
            else:
                messages.success(
                    request, f"{_name(person)} admitted to {stay.ward.name} ({stay.reference})."
                )
                return redirect("virtual-ward-stay", stay_id=stay.pk)
    return render(request, "urgent/admit.html", {"form": form})


@requires(Permission.URGENT_CARE)
def stay(request: HttpRequest, stay_id: int) -> HttpResponse:
    me = staff_of(request)
    found = (
        Stay.objects.select_related("ward", "admitted_by__user", "call").filter(pk=stay_id).first()
    )
    if found is None:
        raise Http404("No virtual ward stay has that number.")
    relationship = relationship_or_break_glass(me, found.person_id)
    if relationship is None and found.ward.organisation_id != me.organisation_id:
        record_by(
            me,
            "refused_virtual_ward_stay",
            person_id=found.person_id,
            reason="no care relationship",
        )
        raise PermissionDenied("You cannot see this stay: the person is not in your care.")
    forms: dict[str, Any] = {
        "observe": ObservationForm(_bound(request, "observe"), auto_id="observe_%s"),
        "discharge": DischargeForm(
            _bound(request, "discharge"), auto_id="discharge_%s", initial={"version": found.version}
        ),
    }

    def act(action: str, data: dict[str, Any]) -> Said:
        if action == "observe":
            made = actions.observe(
                stay=found,
                readings={k: data[k] for k in READINGS},
                taken=data["taken"],
                taken_at=data["taken_at"] or timezone.now(),
                by=me,
            )
            if made.escalated:
                return f"Observations recorded: NEWS2 {made.news2}. {made.escalated}.", True
            return f"Observations recorded: NEWS2 {made.news2}.", False
        actions.discharge(
            stay_id=found.pk,
            version=data["version"],
            by=me,
            outcome=data["outcome"],
            note=data["note"],
        )
        return f"{found.reference} discharged.", False

    done, conflict = _posted(request, me, found.person_id, forms, act)
    if done is not None:
        return done
    person = published.profile(found.person_id)
    record_by(
        me,
        "view_virtual_ward_stay",
        person_id=found.person_id,
        reason=relationship.reason if relationship else f"on {found.ward.name}",
        detail={"stay": found.pk},
    )
    if request.method == "POST":  # a refused action: show the record as it is now
        found.refresh_from_db()
    return render(
        request,
        "urgent/stay.html",
        {
            "stay": found,
            "person": person,
            "observations": list(
                found.observations.select_related("recorded_by__user").order_by("-taken_at", "-pk")
            ),
            "forms": forms,
            "conflict": conflict,
            "consciousness": CONSCIOUSNESS,
            "may_act": allows(me.role, Permission.RESPOND) and found.discharged_at is None,
            **_urgent_record(found.person_id),
        },
    )


@requires(Permission.VIEW_TEAM_MEASURES)
def urgent_measures(request: HttpRequest) -> HttpResponse:
    scope = measures_scope(request, "urgent_measures")
    found = measures.tables(scope.teams, scope.dimension, disclosure_control=scope.planning)
    return render(
        request,
        "urgent/measures.html",
        {
            **found,
            "dimension": scope.dimension,
            "dimensions": measures.DIMENSIONS,
            "planning": scope.planning,
        },
    )
