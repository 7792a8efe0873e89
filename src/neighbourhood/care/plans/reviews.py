"""When a plan is due for review, and what in a new published refresh raises a review.

Review intervals are set per cohort in configuration (``settings.REVIEW_MONTHS``, from
``NEIGHBOURHOOD_REVIEW_MONTHS``, e.g. ``palliative=3,severe_frailty=6``); the defaults:
palliative and end-of-life care every 3 months, severe frailty every 6, any other
complex-needs cohort every 6, everyone else every 12. The shortest that applies wins.

A review is raised (a task for the care coordinator, naming the event) by an emergency
admission or an A&E attendance after the last review, a move to a worse frailty category,
or a new long-term condition, each found by comparing the current published refresh with
the plan's baseline. Each trigger raises one task, however often the scan runs.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from neighbourhood.care import published
from neighbourhood.care.audit.chain import record
from neighbourhood.care.plans.rules import DEFAULT_MONTHS
from neighbourhood.errors import UserError
from neighbourhood.phm.vocabulary import FRAILTY_CATEGORIES, condition_name

EVENTS = {"emergency_admission": "an emergency admission", "ed_attendance": "an A&E attendance"}
SCAN_BATCH = 50_000  # people a query; each batch reads the timeline once


def months() -> dict[str, int]:
    return {**DEFAULT_MONTHS, **getattr(settings, "REVIEW_MONTHS", {})}


def add_months(day: dt.date, count: int) -> dt.date:
    month = day.month - 1 + count
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def interval(person: dict[str, Any] | None) -> tuple[int, str]:
    """Months between reviews for this person, and the rule that set it."""
    rules = months()
    person = person or {}
    applies = [(rules["default"], "default")]
    if person.get("cohort_palliative"):
        applies.append((rules["palliative"], "palliative and end-of-life care"))
    if person.get("frailty") == "severe":
        applies.append((rules["severe_frailty"], "severe frailty"))
    if person.get("complex_needs"):
        applies.append((rules["complex_needs"], "complex needs"))
    return min(applies)


def next_review(person: dict[str, Any] | None, from_day: dt.date) -> dt.date:
    return add_months(from_day, interval(person)[0])


def baseline(person: dict[str, Any] | None) -> dict[str, Any]:
    person = person or {}
    return {
        "frailty": person.get("frailty") or "",
        "conditions": sorted(person.get("conditions") or []),
    }


def _worse(before: str, now: str) -> bool:
    order = {name: i for i, name in enumerate(FRAILTY_CATEGORIES)}
    return now in order and order[now] > order.get(before, -1) and before != ""


def triggers(
    plan_baseline: dict[str, Any],
    since: dt.date,
    person: dict[str, Any] | None,
    events: Iterable[dict[str, Any]],
) -> list[tuple[str, str]]:
    """``(key, what happened)`` for each reason to review found since the last review."""
    found = []
    for event in events:
        start = event["start_date"]
        # An event a partner sent without a date cannot be placed after the review.
        if event["activity"] in EVENTS and start is not None and start > since:
            found.append(
                (
                    f"{event['activity']}:{start.isoformat()}",
                    f"{EVENTS[event['activity']]} on {start:%-d %B %Y}",
                )
            )
    person = person or {}
    frailty = person.get("frailty") or ""
    if _worse(plan_baseline.get("frailty", ""), frailty):
        found.append(
            (f"frailty:{frailty}", f"frailty now {frailty} (was {plan_baseline['frailty']})")
        )
    for condition in sorted(
        set(person.get("conditions") or []) - set(plan_baseline.get("conditions", []))
    ):
        found.append(
            (f"condition:{condition}", f"a new long-term condition: {condition_name(condition)}")
        )
    return found


def scan_if_new() -> int | None:
    """Scan once for each published version (the server does, as it starts): the tasks
    raised, or None when this version was scanned already."""
    from neighbourhood.care.plans.models import ReviewScan

    info = published.current_info()
    if info is None:
        return None
    if ReviewScan.objects.filter(published_version=int(info["version"])).exists():
        return None
    return raise_reviews()


def raise_reviews() -> int:
    """Scan every plan against the current published refresh: one review task for each
    plan with something new since its last review, naming what; returns how many."""
    from neighbourhood.care.caseload.models import Enrolment
    from neighbourhood.care.plans.models import CarePlan, RaisedTrigger, ReviewScan

    info = published.current_info()
    if info is None:
        raise UserError(
            "nothing is published yet, so there is nothing to review plans against: run "
            "'neighbourhood refresh' and 'neighbourhood publish' first"
        )
    raised = scanned = 0
    plans = CarePlan.objects.order_by("pk")
    last = 0
    while True:
        batch = list(plans.filter(pk__gt=last)[:SCAN_BATCH])
        if not batch:
            if info is not None:
                ReviewScan.objects.create(
                    published_version=int(info["version"]), plans=scanned, raised=raised
                )
            return raised
        scanned += len(batch)
        last = batch[-1].pk
        ids = [p.person_id for p in batch]
        coordinators = dict(
            Enrolment.objects.filter(person_id__in=ids, ended_at__isnull=True).values_list(
                "person_id", "care_coordinator_id"
            )
        )
        known: dict[int, set[str]] = {}
        for plan_id, key in RaisedTrigger.objects.filter(plan__in=batch).values_list(
            "plan_id", "key"
        ):
            known.setdefault(plan_id, set()).add(key)
        people = published.review_facts(ids)
        events = published.events_of(ids, tuple(EVENTS))
        for plan in batch:
            coordinator = coordinators.get(plan.person_id)
            if coordinator is None:  # no longer in a caseload: nobody to review with
                continue
            found = triggers(
                plan.baseline,
                plan.last_reviewed,
                people.get(plan.person_id),
                events.get(plan.person_id, []),
            )
            new = [(k, what) for k, what in found if k not in known.get(plan.pk, set())]
            if new and _raise(plan, coordinator, new):
                raised += 1


SHOWN = 4  # events named in a review task's description; the rest counted


def _raise(plan: Any, coordinator: int, new: list[tuple[str, str]]) -> bool:
    from neighbourhood.care.plans.models import RaisedTrigger, Task

    named = "; ".join(what for _, what in new[:SHOWN])
    if len(new) > SHOWN:
        named += f"; and {len(new) - SHOWN} more"
    try:
        with transaction.atomic():
            task = Task.objects.create(
                person_id=plan.person_id,
                plan=plan,
                kind=Task.Kind.REVIEW,
                description=f"Review the plan: {named}",
                owner_id=coordinator,
                due=dt.date.today() + dt.timedelta(days=14),
                requested_by_id=coordinator,
            )
            RaisedTrigger.objects.bulk_create(
                [RaisedTrigger(plan=plan, key=key, task=task) for key, _ in new]
            )
            record(
                "system",
                "raise_review",
                person_id=plan.person_id,
                reason="events in the published refresh",
                detail={"task": task.pk, "events": sorted({k.split(":")[0] for k, _ in new})},
            )
    except IntegrityError:
        return False  # another scan raised it a moment ago
    return True
