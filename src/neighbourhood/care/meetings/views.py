"""MDT meeting pages: the team's meetings, scheduling one, its agenda (with last time's
actions, attendance, and the coordinator's adjustments), the case record of one person
at the meeting, flagging a person for discussion, and the GP practice's inbox.

Meetings are their team's: members read them (and so the people on the agenda: the team
is discussing them); care coordinators and clinicians run them. Every read, write and
refusal is on the audit trail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from neighbourhood.care import published
from neighbourhood.care.access import requires, staff_of
from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.meetings import actions, agenda
from neighbourhood.care.meetings.forms import (
    ACTION_ROWS,
    AddPersonForm,
    CaseForm,
    FlagForm,
    ScheduleForm,
)
from neighbourhood.care.meetings.models import (
    AgendaItem,
    Meeting,
    Outcome,
    PracticeMessage,
)
from neighbourhood.care.plans.views import beside, reader
from neighbourhood.care.roles import Permission, allows
from neighbourhood.care.teams.models import Professional

NOT_YOURS = "This meeting is not one of your teams'."


def _meeting_of(me: Professional, meeting_id: int) -> Meeting:
    found = Meeting.objects.select_related("team__neighbourhood").filter(pk=meeting_id).first()
    if found is None:
        raise Http404("No meeting has that number.")
    if not actions.member_of(found.team, me):
        record_by(
            me, "refused_meeting", reason="not a member of the team", detail={"meeting": meeting_id}
        )
        raise PermissionDenied(NOT_YOURS)
    return found


@requires(Permission.VIEW_MEETINGS)
def meetings(request: HttpRequest) -> HttpResponse:
    me = staff_of(request)
    teams = me.teams_by_name
    found = Meeting.objects.filter(team__in=teams).select_related("team")
    since = timezone.now() - dt.timedelta(hours=12)
    upcoming = list(
        found.filter(starts_at__gte=since, status="scheduled").order_by("starts_at")[:20]
    )
    past = Paginator(found.exclude(pk__in=[m.pk for m in upcoming]), 20).get_page(
        request.GET.get("page")
    )
    record_by(me, "view_meetings", reason="my teams' meetings")
    return render(
        request,
        "meetings/meetings.html",
        {"upcoming": upcoming, "past": past, "may_run": allows(me.role, Permission.RUN_MEETINGS)},
    )


@requires(Permission.RUN_MEETINGS)
def meeting_new(request: HttpRequest) -> HttpResponse:
    me = staff_of(request)
    teams = me.teams_by_name
    if not teams:
        raise PermissionDenied("You are in no team, so you have no meetings to schedule.")
    form = ScheduleForm(request.POST or None, teams=teams, initial={"team": teams[0].pk})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = actions.schedule(
                team=data["team"],
                starts_at=data["starts_at"],
                place=data["place"],
                online_link=data["online_link"],
                expected=list(data["expected"]),
                by=me,
            )
        except actions.PlanError as error:
            beside(form, error)
        else:
            messages.success(
                request, f"Meeting scheduled; its agenda has {made.items.count()} people."
            )
            return redirect("meeting", meeting_id=made.pk)
    return render(request, "meetings/new.html", {"form": form})


@requires(Permission.VIEW_MEETINGS)
def meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    me = staff_of(request)
    found = _meeting_of(me, meeting_id)
    items = list(found.items.select_related("updated_by__user").prefetch_related("actions"))
    people = published.people([i.person_id for i in items])
    previous = agenda.previous_actions(found)
    previous_people = published.people([r["person_id"] for r in previous])
    record_by(
        me,
        "view_meeting",
        reason=f"MDT meeting of {found.team.name}",
        detail={"meeting": found.pk, "people_shown": sorted(people)},
    )
    lists = {
        kind: [(i, people.get(i.person_id)) for i in items if i.list == kind]
        for kind in AgendaItem.List.values
    }
    return render(
        request,
        "meetings/meeting.html",
        {
            "meeting": found,
            "lists": lists,
            "previous": [(r, previous_people.get(r["person_id"])) for r in previous],
            "attendees": list(found.attendees.all()),
            "may_run": allows(me.role, Permission.RUN_MEETINGS)
            and found.status == Meeting.Status.SCHEDULED,
            "add_form": AddPersonForm(),
            "adjustments": actions.ADJUSTMENTS,
        },
    )


def _running(request: HttpRequest, meeting_id: int) -> tuple[Professional, Meeting]:
    me = staff_of(request)
    return me, _meeting_of(me, meeting_id)


@requires(Permission.RUN_MEETINGS)
@require_POST
def meeting_adjust(request: HttpRequest, meeting_id: int) -> HttpResponse:
    me, found = _running(request, meeting_id)
    try:
        item = found.items.get(pk=int(request.POST.get("item", "0") or 0))
    except (AgendaItem.DoesNotExist, ValueError):
        messages.error(request, "Choose someone on this meeting's agenda.")
        return redirect("meeting", meeting_id=found.pk)
    try:
        actions.adjust(
            item_id=item.pk,
            how=request.POST.get("how", ""),
            note=request.POST.get("note", ""),
            by=me,
        )
    except actions.PlanError as error:
        messages.error(request, str(error))
    return redirect(f"{found_url(found)}#item-{item.pk}")


def found_url(found: Meeting) -> str:
    from django.urls import reverse

    return reverse("meeting", args=[found.pk])


@requires(Permission.RUN_MEETINGS)
@require_POST
def meeting_add(request: HttpRequest, meeting_id: int) -> HttpResponse:
    me, found = _running(request, meeting_id)
    form = AddPersonForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, str(errors[0]))
        return redirect("meeting", meeting_id=found.pk)
    person_id = form.cleaned_data["person_id"].strip()
    if published.profile(person_id) is None:
        messages.error(request, f"No one in the latest refresh has the person id {person_id}.")
        return redirect("meeting", meeting_id=found.pk)
    try:
        actions.add_person(
            meeting=found, person_id=person_id, reason=form.cleaned_data["reason"], by=me
        )
    except actions.PlanError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Added to the agenda.")
    return redirect("meeting", meeting_id=found.pk)


@requires(Permission.RUN_MEETINGS)
@require_POST
def meeting_rebuild(request: HttpRequest, meeting_id: int) -> HttpResponse:
    _, found = _running(request, meeting_id)
    if found.status != Meeting.Status.SCHEDULED:
        messages.error(request, "A closed meeting's agenda no longer changes.")
        return redirect("meeting", meeting_id=found.pk)
    added = agenda.build(found)
    messages.success(request, f"Agenda brought up to date: {added} added; your changes kept.")
    return redirect("meeting", meeting_id=found.pk)


@requires(Permission.RUN_MEETINGS)
@require_POST
def meeting_attendance(request: HttpRequest, meeting_id: int) -> HttpResponse:
    me, found = _running(request, meeting_id)
    came = {int(v) for v in request.POST.getlist("attended") if v.isascii() and v.isdigit()}
    guests = []
    name, role, organisation = (
        request.POST.get(k, "").strip()[:200]
        for k in ("guest_name", "guest_role", "guest_organisation")
    )
    if name or role or organisation:
        if not (name and role and organisation):
            messages.error(request, "Give a guest's name, role and organisation, or none of them.")
            return redirect("meeting", meeting_id=found.pk)
        guests.append({"name": name, "role": role, "organisation": organisation})
    try:
        version = int(request.POST.get("version", "0"))
        actions.record_attendance(
            meeting_id=found.pk, version=version, attended=came, guests=guests, by=me
        )
    except (actions.PlanError, ValueError) as error:
        messages.error(
            request,
            str(error)
            if isinstance(error, actions.PlanError)
            else "Open the meeting again and record who came.",
        )
    else:
        messages.success(request, "Attendance recorded.")
    return redirect("meeting", meeting_id=found.pk)


@requires(Permission.RUN_MEETINGS)
@require_POST
def meeting_close(request: HttpRequest, meeting_id: int) -> HttpResponse:
    me, found = _running(request, meeting_id)
    try:
        sent = actions.close(meeting_id=found.pk, by=me)
    except actions.PlanError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Meeting closed: {sent['outcomes']} outcome{'s' if sent['outcomes'] != 1 else ''} on "
            f"people's records, {sent['to_practices']} sent to their GP practices.",
        )
    return redirect("meeting", meeting_id=found.pk)


@requires(Permission.VIEW_MEETINGS)
def meeting_item(request: HttpRequest, meeting_id: int, item_id: int) -> HttpResponse:
    me = staff_of(request)
    found = _meeting_of(me, meeting_id)
    item = found.items.select_related("updated_by__user").filter(pk=item_id).first()
    if item is None:
        raise Http404("That person is not on this meeting's agenda.")
    may_run = allows(me.role, Permission.RUN_MEETINGS) and found.status == Meeting.Status.SCHEDULED
    form = CaseForm(
        request.POST if request.method == "POST" else None,
        team=found.team,
        initial={
            "version": item.version,
            "discussion": item.discussion,
            "decisions": item.decisions,
        },
    )
    conflict = ""
    if request.method == "POST":
        if not may_run:
            record_by(
                me,
                "refused_meeting_case",
                person_id=item.person_id,
                reason="may not record this meeting",
            )
            raise PermissionDenied(
                "Only a care coordinator or clinician records a meeting that is open."
            )
        if form.is_valid():
            try:
                actions.record_item(
                    item_id=item.pk,
                    version=form.cleaned_data["version"],
                    discussion=form.cleaned_data["discussion"],
                    decisions=form.cleaned_data["decisions"],
                    new_actions=_actions_of(form.cleaned_data, found),
                    by=me,
                )
            except actions.Conflict as error:
                conflict = str(error)
            except actions.PlanError as error:
                beside(form, error)
            else:
                messages.success(request, "Recorded.")
                return redirect(f"{found_url(found)}#item-{item.pk}")
    else:
        record_by(
            me,
            "view_meeting_case",
            person_id=item.person_id,
            reason=f"on the agenda of {found.team.name}",
            detail={"meeting": found.pk},
        )
    person = published.people([item.person_id]).get(item.person_id)
    earlier = list(Outcome.objects.filter(person_id=item.person_id).exclude(item=item)[:5])
    return render(
        request,
        "meetings/item.html",
        {
            "meeting": found,
            "item": item,
            "person": person,
            "form": form,
            "rows": range(ACTION_ROWS),
            "conflict": conflict,
            "may_run": may_run,
            "actions": list(
                item.actions.select_related(
                    "task__owner__user", "task__owner__organisation", "task__owner_team"
                )
            ),
            "earlier": earlier,
            "today": dt.date.today(),
        },
    )


def _actions_of(data: dict[str, Any], found: Meeting) -> list[actions.Action]:
    members = {str(p.pk): p for p in actions.owners(found.team)}
    made = []
    for n in range(ACTION_ROWS):
        what = data.get(f"action_{n}")
        if not what:
            continue
        owner = data.get(f"owner_{n}")
        made.append(
            actions.Action(
                what,
                data[f"due_{n}"],
                owner=members.get(owner or ""),
                owner_team=found.team if owner == "team" else None,
            )
        )
    return made


@requires(Permission.VIEW_MEETINGS)
def flag(request: HttpRequest, person_id: str) -> HttpResponse:
    me, person, relationship = reader(request, person_id, "flag_form")
    teams = me.teams_by_name
    initial = {
        "team": relationship.team.pk if relationship.team else (teams[0].pk if teams else None)
    }
    form = FlagForm(request.POST or None, teams=teams, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            made = actions.flag(
                team=form.cleaned_data["team"],
                person_id=person_id,
                reason=form.cleaned_data["reason"],
                by=me,
            )
        except actions.PlanError as error:
            beside(form, error)
        else:
            messages.success(
                request,
                "Flagged: they are on the agenda of the team's next meeting."
                if made.item_id
                else "Flagged: they will be on the next agenda the team builds.",
            )
            return redirect("care-plan", person_id=person_id)
    return render(request, "meetings/flag.html", {"person": person, "form": form})


@requires(Permission.PRACTICE_INBOX)
def practice_inbox(request: HttpRequest) -> HttpResponse:
    me = staff_of(request)
    found = PracticeMessage.objects.filter(practice_id=me.organisation_id).select_related(
        "outcome", "read_by__user"
    )
    show_read = request.GET.get("show") == "all"
    if not show_read:
        found = found.filter(read_at__isnull=True)
    page = Paginator(found, 25).get_page(request.GET.get("page"))
    rows = list(page)
    people = published.people([m.person_id for m in rows])
    record_by(
        me,
        "view_practice_inbox",
        reason=f"inbox of {me.organisation.name}",
        detail={"people_shown": sorted({m.person_id for m in rows})},
    )
    return render(
        request,
        "meetings/inbox.html",
        {
            "rows": [(m, people.get(m.person_id)) for m in rows],
            "page": page,
            "show_read": show_read,
            "organisation": me.organisation,
        },
    )


@requires(Permission.PRACTICE_INBOX)
@require_POST
def practice_message_read(request: HttpRequest, message_id: int) -> HttpResponse:
    me = staff_of(request)
    message = PracticeMessage.objects.filter(pk=message_id, practice_id=me.organisation_id).first()
    if message is None:
        raise Http404("No message of that number is in your practice's inbox.")
    actions.mark_read(message=message, by=me)
    record_by(me, "read_practice_message", person_id=message.person_id, reason="MDT outcome read")
    return redirect("practice-inbox")
