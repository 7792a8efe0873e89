"""An MDT meeting's agenda, built from what the team knows, then adjusted by a coordinator.

Who comes onto the agenda, and why:

- **new on the case-finding list** since the team's last meeting (at a team's first
  meeting, the highest ranked not yet in any caseload), up to ``NEW_AT_MOST``;
- **events since their last review** for people in the team's caseload: an emergency
  admission or an A&E attendance, a worse frailty category or a new long-term condition
  (the same triggers as a plan's review) since the plan was last reviewed or the person
  was last discussed;
- **review due** by the meeting's day;
- **flagged** by any member of the team, with a reason.

Ordered by need: flagged first (a colleague's concern), then by the risk of an emergency
admission the refresh gives; at most ``DISCUSS_AT_MOST`` to discuss (every flag comes
on) and ``NOTED_AT_MOST`` noted, the rest counted. A person whose only reason is a review due, with nothing
new, is *noted, not discussed*: the review standard settles it, and the care coordinator
does the review. The published refresh is read twice whatever the caseload's size: the
list, then the caseload's facts and events together.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from neighbourhood.care import published
from neighbourhood.care.caseload.models import Enrolment
from neighbourhood.care.meetings.models import AgendaItem, Flag, Meeting
from neighbourhood.care.plans import reviews
from neighbourhood.care.plans.models import CarePlan

NEW_AT_MOST = 20
# What one meeting can get through: the most in need to discuss, and the routine reviews
# to note; the others who qualify are counted on the meeting, and come again next time
# if they still do (each is on their care coordinator's worklist meanwhile).
DISCUSS_AT_MOST = 20
NOTED_AT_MOST = 30
NOTED = (
    "A planned review with nothing new: the care coordinator reviews the plan to its "
    "schedule, so the meeting notes it without discussing it."
)


def _previous(meeting: Meeting) -> Meeting | None:
    return (
        Meeting.objects.filter(team=meeting.team, starts_at__lt=meeting.starts_at)
        .exclude(status=Meeting.Status.CANCELLED)
        .exclude(pk=meeting.pk)
        .order_by("-starts_at", "-pk")
        .first()
    )


def candidates(meeting: Meeting) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """person id -> {"reasons": [...], "risk": float}, and who is on the list now."""
    team = meeting.team
    day = timezone.localtime(meeting.starts_at).date()
    found: dict[str, dict[str, Any]] = {}

    def add(person_id: str, kind: str, text: str, risk: float | None = None) -> None:
        entry = found.setdefault(person_id, {"reasons": [], "risk": 0.0})
        entry["reasons"].append({"kind": kind, "text": text})
        if risk is not None:
            entry["risk"] = max(entry["risk"], float(risk))

    listed = published.listed(team.neighbourhood.code)
    listed_ids = [str(r["person_id"]) for r in listed]
    enrolled = dict(
        Enrolment.objects.filter(team=team, ended_at__isnull=True).values_list(
            "person_id", "enrolled_at"
        )
    )
    previous = _previous(meeting)
    if previous is not None and previous.listed:
        before = set(previous.listed)
        new = [r for r in listed if r["person_id"] not in before]
    else:
        in_a_caseload = set(
            Enrolment.objects.filter(
                person_id__in=listed_ids[: NEW_AT_MOST * 10], ended_at__isnull=True
            ).values_list("person_id", flat=True)
        )
        new = [r for r in listed if r["person_id"] not in in_a_caseload]
    for row in new[:NEW_AT_MOST]:
        add(
            str(row["person_id"]),
            AgendaItem.Reason.NEW,
            f"new on the case-finding list (rank {row['rank']})",
            row["risk"],
        )

    ids = list(enrolled)
    plans = {p.person_id: p for p in CarePlan.objects.filter(person_id__in=ids)}
    discussed = dict(
        AgendaItem.objects.filter(
            meeting__team=team,
            meeting__status=Meeting.Status.CLOSED,
            discussed=True,
            person_id__in=ids,
        )
        .values("person_id")
        .annotate(last=Max("meeting__starts_at"))
        .values_list("person_id", "last")
    )
    facts = published.agenda_facts(ids, tuple(reviews.EVENTS)) if ids else {}
    for person_id in ids:
        person = facts.get(person_id)
        plan = plans.get(person_id)
        since = plan.last_reviewed if plan else timezone.localtime(enrolled[person_id]).date()
        if person_id in discussed:
            since = max(since, timezone.localtime(discussed[person_id]).date())
        baseline = plan.baseline if plan else reviews.baseline(person)
        events = (person or {}).get("events") or []
        for _, what in reviews.triggers(baseline, since, person, events)[: reviews.SHOWN]:
            add(person_id, AgendaItem.Reason.EVENTS, what, (person or {}).get("risk"))
        if plan is not None and plan.review_due <= day:
            add(
                person_id,
                AgendaItem.Reason.REVIEW,
                f"review due on {plan.review_due:%-d %B %Y}",
                (person or {}).get("risk"),
            )
    for flag in Flag.objects.filter(team=team, item__isnull=True).select_related(
        "flagged_by__user"
    ):
        add(
            flag.person_id,
            AgendaItem.Reason.FLAGGED,
            f"flagged by {flag.flagged_by.display_name}: {flag.reason}",
        )
    # Risk for those known only by a flag (a few): from the caseload's read, or looked up.
    unknown = [pid for pid, entry in found.items() if not entry["risk"] and pid not in facts]
    looked_up = published.people(unknown)
    for person_id, entry in found.items():
        known = facts.get(person_id) or looked_up.get(person_id) or {}
        entry["risk"] = entry["risk"] or float(known.get("risk") or 0.0)
    return found, listed_ids


def _need(entry: dict[str, Any]) -> tuple[int, float]:
    flagged = any(r["kind"] == AgendaItem.Reason.FLAGGED for r in entry["reasons"])
    return (0 if flagged else 1, -entry["risk"])


def build(meeting: Meeting) -> int:
    """Add everyone with a reason who is not on the agenda yet (a coordinator's changes
    to those already on it stay); returns how many were added."""
    found, listed_ids = candidates(meeting)
    info = published.current_info() or {}
    with transaction.atomic():
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        have = set(meeting.items.values_list("person_id", flat=True))
        position = (meeting.items.aggregate(Max("position"))["position__max"] or 0) + 1
        room = {
            AgendaItem.List.DISCUSS: DISCUSS_AT_MOST
            - meeting.items.filter(list=AgendaItem.List.DISCUSS).count(),
            AgendaItem.List.NOTED: NOTED_AT_MOST
            - meeting.items.filter(list=AgendaItem.List.NOTED).count(),
        }
        left: dict[str, int] = {}
        made = []
        for person_id, entry in sorted(found.items(), key=lambda kv: (_need(kv[1]), kv[0])):
            if person_id in have:
                continue
            kinds = {r["kind"] for r in entry["reasons"]}
            where = (
                AgendaItem.List.NOTED
                if kinds == {AgendaItem.Reason.REVIEW}
                else AgendaItem.List.DISCUSS
            )
            # A flag always comes on: a colleague asked. Others while there is room.
            if room[where] <= 0 and AgendaItem.Reason.FLAGGED not in kinds:
                left[where] = left.get(where, 0) + 1
                continue
            room[where] -= 1
            made.append(
                AgendaItem(
                    meeting=meeting,
                    person_id=person_id,
                    reasons=entry["reasons"],
                    need=entry["risk"],
                    position=position,
                    list=where,
                    noted_because=NOTED if where == AgendaItem.List.NOTED else "",
                )
            )
            position += 1
        AgendaItem.objects.bulk_create(made)
        items = {i.person_id: i for i in meeting.items.all()}
        for flag in Flag.objects.filter(team=meeting.team, item__isnull=True):
            if flag.person_id in items:
                flag.item = items[flag.person_id]
                flag.save(update_fields=["item"])
        meeting.listed = listed_ids
        meeting.published_version = info.get("version")
        meeting.not_shown = left
        meeting.save(update_fields=["listed", "published_version", "not_shown"])
    return len(made)


def previous_actions(meeting: Meeting) -> list[dict[str, Any]]:
    """The actions decided at the team's last meeting, and whether each was done (on time)."""
    from neighbourhood.care.meetings.models import MeetingAction

    previous = _previous(meeting)
    if previous is None:
        return []
    today = dt.date.today()
    rows = []
    for action in MeetingAction.objects.filter(item__meeting=previous).select_related(
        "task__owner__user", "task__owner__organisation", "task__owner_team", "item"
    ):
        task = action.task
        done_on = timezone.localtime(task.updated_at).date() if task.status == "completed" else None
        rows.append(
            {
                "task": task,
                "person_id": action.item.person_id,
                "done": done_on is not None,
                "on_time": done_on is not None and done_on <= task.due,
                "overdue": done_on is None and task.is_open and task.due < today,
            }
        )
    return rows
