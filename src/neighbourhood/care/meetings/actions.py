"""Writes to MDT meetings: each in one transaction with its audit event.

An agenda item is recorded against the version the user opened (:class:`Conflict`
otherwise: two people typing up one case at once). Its actions become personalised care
tasks, owned by a member of the team or by the team. Closing a meeting sends each
discussed person's outcomes to their record and to their GP practice's inbox.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from neighbourhood.care import published
from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.meetings import agenda
from neighbourhood.care.meetings.models import (
    AgendaItem,
    Attendee,
    Flag,
    Meeting,
    MeetingAction,
    Outcome,
    PracticeMessage,
)
from neighbourhood.care.plans.actions import Conflict, PlanError
from neighbourhood.care.plans.models import CarePlan, Task
from neighbourhood.care.teams.models import Organisation, Professional, Team

__all__ = ["Conflict", "PlanError"]


def member_of(team: Team, me: Professional) -> bool:
    return any(t.pk == team.pk for t in me.teams_by_name)


def schedule(
    *,
    team: Team,
    starts_at: dt.datetime,
    place: str,
    online_link: str,
    expected: list[Professional],
    by: Professional,
) -> Meeting:
    if not member_of(team, by):
        raise PlanError("You can schedule meetings only for your own teams", "team")
    if not place.strip() and not online_link.strip():
        raise PlanError("Say where the meeting is, or give its online link", "place")
    if starts_at < timezone.now() - dt.timedelta(days=1):
        raise PlanError("A meeting is scheduled for today or later", "starts_at")
    members = {m.professional_id for m in team.memberships.all()}
    strangers = [p.display_name for p in expected if p.pk not in members]
    if strangers:
        raise PlanError(
            f"{', '.join(strangers)} {'is' if len(strangers) == 1 else 'are'} not in "
            f"{team.name}: add them to the team first",
            "expected",
        )
    with transaction.atomic():
        meeting = Meeting.objects.create(
            team=team,
            starts_at=starts_at,
            place=place.strip(),
            online_link=online_link.strip(),
            created_by=by,
        )
        Attendee.objects.bulk_create(
            [
                Attendee(
                    meeting=meeting,
                    professional=p,
                    name=p.display_name,
                    role=p.job_title,
                    organisation=p.organisation.name,
                )
                for p in expected
            ]
        )
        record_by(
            by,
            "schedule_meeting",
            reason=f"MDT meeting of {team.name}",
            detail={"meeting": meeting.pk},
        )
    agenda.build(meeting)
    meeting.refresh_from_db()
    return meeting


def _open(meeting_id: int) -> Meeting:
    meeting = Meeting.objects.select_for_update().select_related("team").get(pk=meeting_id)
    if meeting.status != Meeting.Status.SCHEDULED:
        raise PlanError(
            f"This meeting is {meeting.get_status_display().lower()}: it can no longer change"
        )
    return meeting


ADJUSTMENTS = ("up", "down", "discuss", "noted", "remove")


def adjust(*, item_id: int, how: str, note: str, by: Professional) -> AgendaItem:
    """A coordinator moves an item up or down, between the lists, or off the agenda."""
    if how not in ADJUSTMENTS:
        raise PlanError("Choose how to change the agenda", "how")
    with transaction.atomic():
        item = AgendaItem.objects.select_related("meeting").get(pk=item_id)
        _open(item.meeting_id)
        item = AgendaItem.objects.select_for_update().get(pk=item_id)
        if how in ("up", "down"):
            siblings = list(
                AgendaItem.objects.select_for_update()
                .filter(meeting_id=item.meeting_id, list=item.list)
                .order_by("position", "pk")
            )
            at = next(i for i, s in enumerate(siblings) if s.pk == item.pk)
            other = at - 1 if how == "up" else at + 1
            if 0 <= other < len(siblings):
                swap = siblings[other]
                item.position, swap.position = swap.position, item.position
                if item.position == swap.position:
                    item.position += -1 if how == "up" else 1
                swap.save(update_fields=["position", "updated_at"])
        elif how == "noted":
            if not note.strip():
                raise PlanError("Say which standard of care settles it", "note")
            item.list, item.noted_because = AgendaItem.List.NOTED, note.strip()
        elif how == "remove":
            if not note.strip():
                raise PlanError("Say why they come off the agenda", "note")
            item.list, item.noted_because = AgendaItem.List.REMOVED, note.strip()
        else:
            item.list, item.noted_because = AgendaItem.List.DISCUSS, ""
        item.updated_by = by
        item.version += 1
        item.save()
        record_by(
            by,
            "adjust_agenda",
            person_id=item.person_id,
            reason=f"agenda: {how}",
            detail={"meeting": item.meeting_id, "item": item.pk},
        )
    return item


def add_person(*, meeting: Meeting, person_id: str, reason: str, by: Professional) -> AgendaItem:
    if not reason.strip():
        raise PlanError("Say why they should be discussed", "reason")
    with transaction.atomic():
        meeting = _open(meeting.pk)
        existing = meeting.items.filter(person_id=person_id).first()
        if existing is not None:
            raise PlanError(
                f"They are already on this agenda ({existing.get_list_display().lower()})",
                "person_id",
            )
        position = (meeting.items.aggregate(Max("position"))["position__max"] or 0) + 1
        item = AgendaItem.objects.create(
            meeting=meeting,
            person_id=person_id,
            position=position,
            updated_by=by,
            reasons=[
                {
                    "kind": AgendaItem.Reason.ADDED,
                    "text": f"added by {by.display_name}: {reason.strip()}",
                }
            ],
        )
        record_by(
            by,
            "adjust_agenda",
            person_id=person_id,
            reason="agenda: added",
            detail={"meeting": meeting.pk, "item": item.pk},
        )
    return item


def flag(*, team: Team, person_id: str, reason: str, by: Professional) -> Flag:
    """A member asks for a person to be discussed: on the team's next meeting's agenda if
    one is scheduled, else on the next agenda built."""
    if not reason.strip():
        raise PlanError("Say why the team should discuss them", "reason")
    if not member_of(team, by):
        raise PlanError("You can flag people only to your own teams", "team")
    with transaction.atomic():
        if Flag.objects.filter(team=team, person_id=person_id, item__isnull=True).exists():
            raise PlanError("They are already flagged for the team's next meeting", "reason")
        made = Flag.objects.create(
            team=team, person_id=person_id, reason=reason.strip(), flagged_by=by
        )
        record_by(
            by,
            "flag_for_meeting",
            person_id=person_id,
            reason=f"flagged to {team.name}",
            detail={"flag": made.pk},
        )
    upcoming = (
        Meeting.objects.filter(
            team=team,
            status=Meeting.Status.SCHEDULED,
            starts_at__gte=timezone.now() - dt.timedelta(hours=12),
        )
        .order_by("starts_at")
        .first()
    )
    if upcoming is not None:
        _flag_onto(upcoming, made)
    return made


def _flag_onto(meeting: Meeting, made: Flag) -> None:
    reason = {
        "kind": AgendaItem.Reason.FLAGGED,
        "text": f"flagged by {made.flagged_by.display_name}: {made.reason}",
    }
    with transaction.atomic():
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        item = meeting.items.filter(person_id=made.person_id).first()
        if item is None:
            position = (meeting.items.aggregate(Max("position"))["position__max"] or 0) + 1
            item = AgendaItem.objects.create(
                meeting=meeting, person_id=made.person_id, position=position, reasons=[reason]
            )
        else:
            item.reasons = [*item.reasons, reason]
            if item.list == AgendaItem.List.NOTED:
                item.list, item.noted_because = AgendaItem.List.DISCUSS, ""
            item.version += 1
            item.save()
        made.item = item
        made.save(update_fields=["item"])


def record_attendance(
    *,
    meeting_id: int,
    version: int,
    attended: set[int],
    guests: list[dict[str, str]],
    by: Professional,
) -> Meeting:
    with transaction.atomic():
        meeting = _open(meeting_id)
        if meeting.version != version:
            raise Conflict(
                "meeting's attendance",
                meeting.version,
                "Someone else",
                meeting.created_at,
                ["the attendance was recorded again"],
            )
        for attendee in meeting.attendees.all():
            attendee.attended = attendee.pk in attended
            attendee.save(update_fields=["attended"])
        for guest in guests:
            Attendee.objects.create(
                meeting=meeting,
                name=guest["name"],
                role=guest["role"],
                organisation=guest["organisation"],
                expected=False,
                attended=True,
            )
        meeting.version += 1
        meeting.save(update_fields=["version"])
        record_by(
            by,
            "record_attendance",
            reason="MDT meeting attendance",
            detail={"meeting": meeting.pk, "came": len(attended) + len(guests)},
        )
    return meeting


@dataclass(frozen=True)
class Action:
    description: str
    due: dt.date
    owner: Professional | None = None
    owner_team: Team | None = None


def record_item(
    *,
    item_id: int,
    version: int,
    discussion: str,
    decisions: str,
    new_actions: list[Action],
    by: Professional,
) -> AgendaItem:
    """The discussion in brief, the decisions, and the actions (tasks) for one person."""
    if not decisions.strip():
        raise PlanError(
            "Record what was decided, even if it is to carry on as planned", "decisions"
        )
    today = dt.date.today()
    with transaction.atomic():
        first = AgendaItem.objects.get(pk=item_id)
        meeting = _open(first.meeting_id)
        item = AgendaItem.objects.select_for_update().get(pk=item_id)
        if item.version != version:
            name = item.updated_by.display_name if item.updated_by else "Someone else"
            raise Conflict(
                "case",
                item.version,
                name,
                item.updated_at,
                [f"decisions now read: {item.decisions[:120]}"],
            )
        members = {m.professional_id for m in meeting.team.memberships.all()}
        plan = CarePlan.objects.filter(person_id=item.person_id).first()
        for action in new_actions:
            if not action.description.strip():
                raise PlanError("Each action says what is to be done", "actions")
            if action.due < today:
                raise PlanError(f"'{action.description}' is due in the past", "actions")
            if action.owner is not None and action.owner.pk not in members:
                raise PlanError(
                    f"{action.owner.display_name} is not in {meeting.team.name}", "actions"
                )
            task = Task.objects.create(
                person_id=item.person_id,
                plan=plan,
                description=action.description.strip(),
                owner=action.owner,
                owner_team=action.owner_team if action.owner is None else None,
                due=action.due,
                requested_by=by,
            )
            MeetingAction.objects.create(item=item, task=task)
        item.discussion, item.decisions = discussion.strip(), decisions.strip()
        item.discussed = True
        item.updated_by = by
        item.version += 1
        item.save()
        record_by(
            by,
            "record_meeting_case",
            person_id=item.person_id,
            reason=f"MDT meeting of {meeting.team.name}",
            detail={"meeting": meeting.pk, "item": item.pk, "actions": len(new_actions)},
        )
    return item


def summary(item: AgendaItem, meeting: Meeting) -> str:
    lines = [
        f"MDT meeting of {meeting.team.name} on {timezone.localtime(meeting.starts_at):%-d %B %Y}.",
        "Why discussed: " + "; ".join(r["text"] for r in item.reasons) + ".",
    ]
    if item.discussion:
        lines.append(f"Discussion: {item.discussion}")
    lines.append(f"Decided: {item.decisions}")
    for action in item.actions.select_related(
        "task__owner__user", "task__owner__organisation", "task__owner_team"
    ):
        task = action.task
        lines.append(f"Action: {task.description} ({task.owner_name}, by {task.due:%-d %B %Y})")
    return "\n".join(lines)


def close(*, meeting_id: int, by: Professional) -> dict[str, int]:
    """Close a held meeting: outcomes to records and practices' inboxes; flags on people
    not discussed wait for the next meeting."""
    with transaction.atomic():
        meeting = _open(meeting_id)
        if (
            meeting.attendees.filter(attended__isnull=True).exists()
            or not meeting.attendees.filter(attended=True).exists()
        ):
            raise PlanError("Record who came before closing the meeting", "attendance")
        discussed = list(meeting.items.filter(discussed=True).exclude(list="removed"))
        practices = {
            pid: str(p.get("practice") or "")
            for pid, p in published.people([i.person_id for i in discussed]).items()
        }
        known = {
            o.ods_code: o for o in Organisation.objects.filter(ods_code__in=set(practices.values()))
        }
        sent = 0
        for item in discussed:
            outcome = Outcome.objects.create(
                item=item, person_id=item.person_id, summary=summary(item, meeting)
            )
            practice = known.get(practices.get(item.person_id, ""))
            if practice is not None:
                PracticeMessage.objects.create(
                    practice=practice, outcome=outcome, person_id=item.person_id
                )
                sent += 1
        Flag.objects.filter(item__meeting=meeting, item__discussed=False).update(item=None)
        meeting.status = Meeting.Status.CLOSED
        meeting.closed_at = timezone.now()
        meeting.version += 1
        meeting.save()
        record_by(
            by,
            "close_meeting",
            reason=f"MDT meeting of {meeting.team.name}",
            detail={"meeting": meeting.pk, "outcomes": len(discussed), "to_practices": sent},
        )
    return {"outcomes": len(discussed), "to_practices": sent}


def mark_read(*, message: PracticeMessage, by: Professional) -> None:
    if message.read_at is None:
        message.read_at, message.read_by = timezone.now(), by
        message.save(update_fields=["read_at", "read_by"])


def owners(team: Team) -> list[Professional]:
    return list(
        Professional.objects.filter(memberships__team=team)
        .select_related("user", "organisation")
        .order_by("user__last_name")
    )


def people_of(items: list[Any]) -> dict[str, dict[str, Any]]:
    return published.people([i.person_id for i in items])
