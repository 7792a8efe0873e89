"""Referral pages: the directory, making a referral, the inbox of the receiving service
(and of what one's teams sent), a referral with its clock, log and next steps, and the
referral measures.

A referral is seen by the side that made it, the service it went to, and anyone with a
care relationship to the person; a voluntary sector worker only ever by the second.
Every read, write and refusal is on the audit trail.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from neighbourhood.care import published
from neighbourhood.care.access import relationship_or_break_glass, requires, staff_of
from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.plans.models import Assessment, WhatMatters
from neighbourhood.care.plans.views import beside, measures_scope, reader
from neighbourhood.care.referrals import actions, measures
from neighbourhood.care.referrals.forms import (
    AttendanceForm,
    MoveForm,
    OnwardForm,
    ReferralForm,
    WellbeingForm,
)
from neighbourhood.care.referrals.models import (
    ONS4,
    OPEN,
    Pathway,
    Referral,
    Service,
    ServiceKind,
    Status,
    Wellbeing,
)
from neighbourhood.care.roles import Permission, allows
from neighbourhood.care.teams.models import Professional

A_PAGE = 25
NOT_SHOWN = (
    "You cannot see this referral: it was not made by your teams or sent to your organisation."
)


@requires(Permission.VIEW_DIRECTORY)
def directory(request: HttpRequest) -> HttpResponse:
    me = staff_of(request)
    kind = request.GET.get("kind", "")
    kind = kind if kind in ServiceKind.values else ""
    services = Service.objects.filter(active=True).select_related("organisation")
    if kind:
        services = services.filter(kind=kind)
    services = services.annotate(
        taking=Count("referrals", filter=Q(referrals__status__in=["accepted", "in-progress"]))
    )
    page = Paginator(services.order_by("kind", "name"), A_PAGE).get_page(request.GET.get("page"))
    record_by(me, "view_directory", reason="directory of services", detail={"kind": kind})
    return render(
        request,
        "referrals/directory.html",
        {"page": page, "kind": kind, "kinds": ServiceKind.choices},
    )


def _services_for(person: dict[str, Any]) -> Any:
    code = str(person.get("neighbourhood") or "")
    age = person.get("age")
    services = Service.objects.filter(active=True).select_related("organisation")
    wanted = [s.pk for s in services if not s.serves(code, age)]
    return services.filter(pk__in=wanted).exclude(kind=ServiceKind.VCFSE).order_by("kind", "name")


@requires(Permission.REFER)
def refer(request: HttpRequest, person_id: str) -> HttpResponse:
    me, person, relationship = reader(request, person_id, "referral_form")
    services = _services_for(person)
    said = WhatMatters.objects.filter(person_id=person_id).first()
    problems: list[str] = []
    for assessment in Assessment.objects.filter(person_id=person_id, status="completed"):
        problems += [p["text"] for p in assessment.problems if p["text"] not in problems]
    initial = {"what_matters": said.text if said else "", "needs": "; ".join(problems)}
    form = ReferralForm(request.POST or None, services=services, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ask = actions.Request(
            service=data["service"],
            pathway=data["pathway"],
            reason=data["reason"],
            discharge_pathway=data["discharge_pathway"],
            home_first=data["home_first"],
            not_home_because=data["not_home_because"],
            urgent=data["urgent"],
            what_matters=data["what_matters"],
            needs=data["needs"],
        )
        try:
            made = actions.refer(
                person_id=person_id,
                person=person,
                request=ask,
                by=me,
                team=relationship.team,
                send=request.POST.get("send") != "draft",
            )
        except actions.PlanError as error:
            beside(form, error)
        else:
            messages.success(
                request,
                f"Referral {made.reference} {'sent to' if made.status == 'requested' else 'saved as a draft for'} "
                f"{made.service.name}.",
            )
            return redirect("referral", referral_id=made.pk)
    return render(
        request, "referrals/refer.html", {"person": person, "form": form, "services": services}
    )


@requires(Permission.RECEIVE_REFERRALS)
def inbox(request: HttpRequest) -> HttpResponse:
    me = staff_of(request)
    show = request.GET.get("show", "waiting")
    received = Referral.objects.filter(service__organisation_id=me.organisation_id)
    tabs = {
        "waiting": received.filter(status=Status.REQUESTED),
        "active": received.filter(status__in=[Status.ACCEPTED, Status.IN_PROGRESS]),
        "closed": received.exclude(status__in=OPEN),
    }
    if allows(me.role, Permission.REFER):
        tabs["sent"] = Referral.objects.filter(
            Q(referred_by=me) | Q(team__in=me.teams_by_name)
        ).exclude(status__in=[Status.COMPLETED, Status.CANCELLED, Status.REJECTED])
    if show not in tabs:
        show = "waiting"
    found = tabs[show].select_related("service__organisation", "referred_by__user")
    found = found.prefetch_related("events")  # each row's clock, in one query for the page
    found = (
        found.order_by("-urgent", "created_at", "pk")
        if show != "closed"
        else found.order_by("-updated_at")
    )
    page = Paginator(found, A_PAGE).get_page(request.GET.get("page"))
    rows = list(page)
    people = published.people([r.person_id for r in rows])
    record_by(
        me,
        "view_referrals",
        reason=f"referral inbox: {show}",
        detail={"people_shown": sorted({r.person_id for r in rows})},
    )
    return render(
        request,
        "referrals/inbox.html",
        {
            "rows": [(r, people.get(r.person_id), actions.clock(r)) for r in rows],
            "page": page,
            "show": show,
            "tabs": list(tabs),
            "organisation": me.organisation,
        },
    )


def _side(referral: Referral, me: Professional) -> str:
    if actions.receives(referral, me):
        return "receiver"
    if actions.refers(referral, me):
        return "referrer"
    if allows(me.role, Permission.VIEW_CARE_RECORD):
        found = relationship_or_break_glass(me, referral.person_id)
        if found is not None:
            return f"care: {found.reason}"
    return ""


@requires(Permission.RECEIVE_REFERRALS)
def referral(request: HttpRequest, referral_id: int) -> HttpResponse:
    me = staff_of(request)
    found = (
        Referral.objects.select_related(
            "service__organisation",
            "referred_by__user",
            "referred_by__organisation",
            "team",
            "parent",
        )
        .filter(pk=referral_id)
        .first()
    )
    if found is None:
        raise Http404("No referral has that number.")
    side = _side(found, me)
    if not side:
        record_by(me, "refused_referral", person_id=found.person_id, reason="not a side of it")
        raise PermissionDenied(NOT_SHOWN)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    allowed = actions.allowed_moves(found, me)
    forms: dict[str, Any] = {
        "move": MoveForm(
            request.POST if action == "move" else None,
            allowed=allowed,
            coded=bool(found.code),
            initial={"version": found.version},
        ),
        "attendance": AttendanceForm(
            request.POST if action == "attendance" else None, initial={"version": found.version}
        ),
        "wellbeing": WellbeingForm(request.POST if action == "wellbeing" else None),
        "onward": OnwardForm(request.POST if action == "onward" else None),
    }
    conflict = ""
    if action in forms and forms[action].is_valid():
        try:
            said = _act(action, forms[action].cleaned_data, found, me)
        except actions.Conflict as error:
            conflict = str(error)
        except actions.PlanError as error:
            form = forms[action]
            beside(form, error)
        else:
            messages.success(request, said)
            return redirect("referral", referral_id=found.pk)
    elif request.method == "POST" and action not in forms:
        messages.error(request, "Choose one of the actions on this page.")
    else:
        record_by(
            me,
            "view_referral",
            person_id=found.person_id,
            reason=side,
            detail={"referral": found.pk},
        )
    events = list(found.events.select_related("by__user"))
    # Wellbeing is measured on the social prescribing referral, not on those sent onward.
    social = found.pathway == Pathway.SOCIAL_PRESCRIBING and found.parent_id is None
    person = published.people([found.person_id]).get(found.person_id)
    return render(
        request,
        "referrals/referral.html",
        {
            "referral": found,
            "person": person,
            "side": side,
            "events": events,
            "clock": actions.clock(found, events),
            "forms": forms,
            "allowed": allowed,
            "conflict": conflict,
            "receiver": actions.receives(found, me),
            "social": social,
            "may_prescribe": social
            and allows(me.role, Permission.SOCIAL_PRESCRIBING)
            and actions.receives(found, me)
            and found.status in (Status.ACCEPTED, Status.IN_PROGRESS),
            "wellbeing": list(found.wellbeing.all()),
            "onward": list(found.onward.select_related("service__organisation")),
            "ons4": ONS4,
            "can_see_record": allows(me.role, Permission.VIEW_CARE_RECORD),
        },
    )


def _act(action: str, data: dict[str, Any], found: Referral, me: Professional) -> str:
    if action == "move":
        moved = actions.move(
            referral_id=found.pk,
            version=data["version"],
            status=data["status"],
            reason=data["reason"],
            by=me,
            declined=bool(data.get("declined")),
        )
        return f"Referral {moved.reference} is now {moved.get_status_display().lower()}."
    if action == "attendance":
        actions.record_attendance(
            referral_id=found.pk,
            version=data["version"],
            attended=data["attended"],
            on=data["on"],
            by=me,
        )
        return "Attendance recorded."
    if not (allows(me.role, Permission.SOCIAL_PRESCRIBING) and actions.receives(found, me)):
        raise actions.PlanError("Only the social prescribing link worker it was sent to does this")
    if action == "wellbeing":
        actions.record_wellbeing(
            referral=found,
            when=data["when"],
            by=me,
            scores={k: data[k] for k in ONS4},
        )
        return f"Wellbeing {Wellbeing.When(data['when']).label.lower()} recorded."
    person = published.profile(found.person_id) or {}
    made = actions.refer(
        person_id=found.person_id,
        person=person,
        by=me,
        team=found.team,
        parent=found,
        request=actions.Request(
            service=data["service"],
            pathway=Pathway.SOCIAL_PRESCRIBING,
            reason=data["reason"],
            what_matters=found.what_matters,
            needs=found.needs,
            activities=tuple(a.strip() for a in data["activities"].splitlines() if a.strip()),
        ),
    )
    return f"Referred on to {made.service.name} ({made.reference})."


@requires(Permission.VIEW_TEAM_MEASURES)
def referral_measures(request: HttpRequest) -> HttpResponse:
    scope = measures_scope(request, "referral_measures")
    found = measures.tables(scope.teams, scope.dimension, disclosure_control=scope.planning)
    return render(
        request,
        "referrals/measures.html",
        {
            **found,
            "dimension": scope.dimension,
            "dimensions": measures.DIMENSIONS,
            "planning": scope.planning,
        },
    )
