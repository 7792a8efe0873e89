"""Team measures of personalised care, by deprivation quintile, ethnic group, age band
and sex: the share of each caseload with what matters recorded, with a plan, with a plan
reviewed on time, and of people with palliative needs or severe frailty, with an
advance care plan in force.

INT staff see their own teams' figures as counted: they can see the caseload itself.
Planning roles see every team's, disclosure-controlled (counts of 1 to 7 suppressed, the
rest rounded to 5, rates from the rounded counts; ADR 9), and no one is named.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from neighbourhood.care import published
from neighbourhood.care.caseload.models import Enrolment
from neighbourhood.care.plans.models import AdvanceCarePlan, CarePlan, WhatMatters
from neighbourhood.care.teams.models import Team
from neighbourhood.standards.disclosure import protect, rate

DIMENSIONS = {
    "imd_quintile": "Deprivation quintile (1 = most deprived)",
    "ethnic_group": "Ethnic group",
    "age_band": "Age band",
    "sex": "Sex",
}
MEASURES = {
    "what_matters": "What matters recorded",
    "plan": "With a care and support plan",
    "reviewed": "Plan reviewed on time",
    "acp": "Advance care plan (palliative or severe frailty)",
}


def _group(person: dict[str, Any] | None, dimension: str) -> str:
    if person is None:
        return "Not in the latest refresh"
    value = person.get(dimension)
    return "Not recorded" if value in (None, "") else str(value)


def table(
    teams: list[Team] | None, dimension: str, disclosure_control: bool
) -> list[dict[str, Any]]:
    """One row a team and group: the caseload, and for each measure its count and share
    (of the caseload; for the advance care plan, of those with palliative needs or
    severe frailty)."""
    enrolments = Enrolment.objects.filter(ended_at__isnull=True)
    if teams is not None:
        enrolments = enrolments.filter(team__in=teams)
    rows = list(enrolments.values_list("person_id", "team__name"))
    ids = [pid for pid, _ in rows]
    people = published.demographics(ids)
    today = dt.date.today()
    with_words = set(
        WhatMatters.objects.filter(person_id__in=ids).values_list("person_id", flat=True)
    )
    plans = dict(CarePlan.objects.filter(person_id__in=ids).values_list("person_id", "review_due"))
    acps = set(
        AdvanceCarePlan.objects.filter(person_id__in=ids, superseded_at__isnull=True).values_list(
            "person_id", flat=True
        )
    )
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for person_id, team in rows:
        person = people.get(person_id)
        cell = counts[(team, _group(person, dimension))]
        cell["caseload"] += 1
        cell["what_matters"] += person_id in with_words
        cell["plan"] += person_id in plans
        cell["reviewed"] += person_id in plans and plans[person_id] >= today
        eligible = bool(
            person and (person.get("cohort_palliative") or person.get("frailty") == "severe")
        )
        cell["eligible"] += eligible
        cell["acp"] += eligible and person_id in acps
    found = []
    for (team, group), cell in sorted(counts.items(), key=lambda kv: (kv[0][0], _order(kv[0][1]))):
        shown = {k: (protect(v) if disclosure_control else v) for k, v in cell.items()}
        row: dict[str, Any] = {"team": team, "group": group, "caseload": shown["caseload"]}
        for measure in MEASURES:
            base = shown["eligible"] if measure == "acp" else shown["caseload"]
            row[measure] = (shown[measure], rate(shown[measure], base), base)
        found.append(row)
    return found


def _order(group: str) -> tuple[int, str]:
    return (0, group.zfill(3)) if group.isdigit() else (1, group)
