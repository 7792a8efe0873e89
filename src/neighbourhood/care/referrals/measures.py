"""Measures of referrals, MDT actions and social prescribing, for INT leads and (with
disclosure control) for planning: by team and by deprivation quintile, ethnic group, age
band or sex, so inequity in who gets referred, and who is seen on time, shows.

- referrals made; the share accepted and rejected of those decided; the share contacted
  within each service's promise; step-up and step-down; the discharge pathway mix;
- MDT actions due by today and the share done by their date;
- social prescribing referrals, the share taken up (not declined), and the mean change in
  life satisfaction (ONS4) where it was measured before and after;
- by service: the clock (median hours to a decision and to first contact, and the share
  within the promise), and the reasons for rejection.

Planning roles see counts of 1 to 7 suppressed and the rest rounded to 5 (ADR 9); means
are shown only over at least 8 people.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from typing import Any

from django.utils import timezone

from neighbourhood.care import published
from neighbourhood.care.meetings.models import MeetingAction
from neighbourhood.care.plans.measures import DIMENSIONS, _group, _order
from neighbourhood.care.referrals.actions import clock
from neighbourhood.care.referrals.models import (
    SOCIAL_PRESCRIBING_DECLINED,
    Pathway,
    Referral,
    Status,
    Wellbeing,
)
from neighbourhood.care.teams.models import Team
from neighbourhood.standards.disclosure import protect, rate

__all__ = ["DIMENSIONS", "MEASURES", "tables"]
SMALLEST_MEAN = 8

MEASURES = {
    "referrals": "Referrals made",
    "accepted": "Accepted (of those decided)",
    "rejected": "Rejected (of those decided)",
    "contact_on_time": "First contact within the promise",
    "step_up": "Step-up",
    "step_down": "Step-down",
    "pathway_0": "Discharge pathway 0",
    "pathway_1": "Pathway 1",
    "pathway_2": "Pathway 2",
    "pathway_3": "Pathway 3",
    "mdt_done_on_time": "MDT actions done on time (of those due)",
    "social": "Social prescribing referrals",
    "taken_up": "Taken up (of social prescribing decided)",
    "wellbeing_change": "Mean change in life satisfaction (ONS4)",
}
# Each share's denominator.
BASES = {
    "accepted": "decided",
    "rejected": "decided",
    "contact_on_time": "contacted",
    "mdt_done_on_time": "mdt_due",
    "taken_up": "social_decided",
}


def tables(teams: list[Team] | None, dimension: str, disclosure_control: bool) -> dict[str, Any]:
    referrals = Referral.objects.select_related("service", "team")
    actions = MeetingAction.objects.select_related("task", "item__meeting__team")
    if teams is not None:
        referrals = referrals.filter(team__in=teams)
        actions = actions.filter(item__meeting__team__in=teams)
    found = list(referrals.exclude(status=Status.DRAFT).prefetch_related("events"))
    done = list(actions)
    ids = {r.person_id for r in found} | {a.item.person_id for a in done}
    people = published.demographics(sorted(ids))
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    changes: dict[tuple[str, str], list[int]] = defaultdict(list)
    wellbeing: dict[int, dict[str, int]] = defaultdict(dict)
    for w in Wellbeing.objects.filter(referral__in=found):
        wellbeing[w.referral_id][w.when] = w.life_satisfaction
    by_service: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(list))
    now = timezone.now()
    for r in found:
        team = r.team.name if r.team else "No team"
        cell = counts[(team, _group(people.get(r.person_id), dimension))]
        taken = clock(r, list(r.events.all()))
        cell["referrals"] += 1
        decided = taken.decided is not None
        cell["decided"] += decided
        cell["accepted"] += decided and r.status != Status.REJECTED
        cell["rejected"] += r.status == Status.REJECTED
        if taken.contact is not None:
            cell["contacted"] += 1
            cell["contact_on_time"] += bool(taken.met("contact", now))
        cell["step_up"] += r.pathway == Pathway.STEP_UP
        cell["step_down"] += r.pathway == Pathway.STEP_DOWN
        if r.discharge_pathway is not None:
            cell[f"pathway_{r.discharge_pathway}"] += 1
        if r.pathway == Pathway.SOCIAL_PRESCRIBING and r.parent_id is None:
            cell["social"] += 1
            ended = decided or r.code == SOCIAL_PRESCRIBING_DECLINED[0]
            cell["social_decided"] += ended
            cell["taken_up"] += (
                ended and r.code != SOCIAL_PRESCRIBING_DECLINED[0] and (r.status != Status.REJECTED)
            )
        pair = wellbeing.get(r.pk, {})
        if "before" in pair and "after" in pair:
            changes[(team, _group(people.get(r.person_id), dimension))].append(
                pair["after"] - pair["before"]
            )
        service = by_service[r.service.name]
        service["referrals"].append(1)
        if taken.to_decision is not None:
            service["to_decision"].append(taken.to_decision)
            service["decision_met"].append(bool(taken.met("decision", now)))
        if taken.to_contact is not None:
            service["to_contact"].append(taken.to_contact)
            service["contact_met"].append(bool(taken.met("contact", now)))
        if r.status == Status.REJECTED:
            service["reasons"].append(r.status_reason)
    today = dt.date.today()
    for a in done:
        if a.task.due > today and a.task.status != "completed":
            continue  # not due yet, and not done: neither on time nor late
        cell = counts[(a.item.meeting.team.name, _group(people.get(a.item.person_id), dimension))]
        cell["mdt_due"] += 1
        finished = timezone.localtime(a.task.updated_at).date()
        cell["mdt_done_on_time"] += a.task.status == "completed" and finished <= a.task.due
    return {
        "rows": _rows(counts, changes, disclosure_control),
        "services": _services(by_service, disclosure_control),
        "measures": MEASURES,
    }


def _rows(
    counts: dict[tuple[str, str], Counter[str]],
    changes: dict[tuple[str, str], list[int]],
    disclosure_control: bool,
) -> list[dict[str, Any]]:
    rows = []
    for (team, group), cell in sorted(counts.items(), key=lambda kv: (kv[0][0], _order(kv[0][1]))):
        shown = {k: (protect(v) if disclosure_control else v) for k, v in cell.items()}
        row: dict[str, Any] = {"team": team, "group": group}
        for measure in MEASURES:
            if measure == "wellbeing_change":
                values = changes.get((team, group), [])
                enough = values and (not disclosure_control or len(values) >= SMALLEST_MEAN)
                row[measure] = (round(statistics.mean(values), 1) if enough else None, len(values))
            elif measure in BASES:
                base = shown.get(BASES[measure], 0)
                row[measure] = (shown.get(measure, 0), rate(shown.get(measure, 0), base), base)
            else:
                row[measure] = (shown.get(measure, 0), None, None)
        rows.append(row)
    return rows


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _share(values: list[bool]) -> float | None:
    return round(100 * sum(values) / len(values)) if values else None


def _services(by_service: dict[str, Any], disclosure_control: bool) -> list[dict[str, Any]]:
    rows = []
    for name, found in sorted(by_service.items()):
        counted = len(found["referrals"])
        reasons = Counter(found["reasons"]).most_common(5)
        count = protect(counted) if disclosure_control else counted
        if disclosure_control:  # free text may name someone: counts only, for planning
            reasons = []
        rows.append(
            {
                "service": name,
                "referrals": count,
                "to_decision": _median(found["to_decision"]),
                "decision_met": _share(found["decision_met"]),
                "to_contact": _median(found["to_contact"]),
                "contact_met": _share(found["contact_met"]),
                "reasons": reasons,
            }
        )
    return rows
