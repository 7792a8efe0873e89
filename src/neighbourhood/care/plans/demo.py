"""A living caseload for the demonstration: people enrolled with the first team, in every
state a care coordinator meets on a working day, written through the same actions (and
so the same audit trail) as the pages use.

- enrolled and waiting for an assessment and a plan;
- an assessment saved part-done, for a colleague to finish;
- assessed, with what matters in their words, a plan with goals and actions owned by
  professionals of different organisations and by the team, in every status (one
  overdue, one declined with a reason, one cancelled with a reason);
- a review overdue, reviews raised by events in the published refresh, and advance care
  plans (a clinician's CPR recommendation) for people with palliative needs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from neighbourhood.care import published
from neighbourhood.care.caseload import actions as caseload
from neighbourhood.care.caseload.models import Enrolment
from neighbourhood.care.plans import actions, reviews
from neighbourhood.care.plans.models import AdvanceCarePlan, CarePlan, Task, TaskStatus
from neighbourhood.care.plans.questionnaires import shipped
from neighbourhood.care.teams.models import Professional, Team

GOALS = [
    ("Walk to the corner shop on my own again", "twice a week, without a fall", 90),
    ("Stay in my own home", "no unplanned admission this winter", 180),
    ("Get to church on Sunday", "every Sunday, with a lift if needed", 60),
    ("Sleep through the night without pain", "pain no more than 3 out of 10 at night", 45),
]
WHAT_MATTERS = [
    "Being at home with my cat, and seeing my grandchildren at the weekend.",
    "Not going back into hospital. I want to stay in my own bed.",
    "Getting out to the lunch club on Thursdays; it is the only time I see people.",
    "Looking after my wife. She needs me, and I need to stay well enough to do it.",
    "Being able to do my own shopping and pay my own bills.",
    "Gardening, even if it is only the pots by the back door.",
]


def _answers(falls: bool, memory: bool) -> dict[str, str]:
    cga = shipped()["comprehensive-geriatric-assessment"]
    answers = {q: "no" for q, question in cga.questions.items() if question.kind == "choice"}
    answers |= {"functional.mobility": "aid", "medicines.count": "10+" if falls else "5-9"}
    answers |= {
        "physical.falls": "yes" if falls else "no",
        "psychological.memory": "yes" if memory else "no",
    }
    answers |= {"social.lives_alone": "yes", "social.lonely": "yes"}
    return answers


def seed(
    team: Team, coordinator: Professional, clinician: Professional, others: list[Professional]
) -> dict[str, int]:
    """Seed once: a team that already has a caseload keeps it."""
    if Enrolment.objects.filter(team=team).exists():
        return {}
    listed, _ = published.case_finding([team.neighbourhood.code], published.Filters(), 1)
    palliative, _ = published.case_finding(
        [team.neighbourhood.code], published.Filters(cohort="palliative"), 1
    )
    chosen = [r["person_id"] for r in palliative[:2]]
    chosen += [r["person_id"] for r in listed if r["person_id"] not in chosen][: 14 - len(chosen)]
    for person_id in chosen:
        caseload.enrol(
            person_id=person_id,
            team=team,
            coordinator=coordinator,
            reason="On the case-finding list: complex needs and rising risk",
            by=coordinator,
        )
    today = dt.date.today()
    cga = shipped()["comprehensive-geriatric-assessment"]
    counts = {"enrolled": len(chosen), "plans": 0, "tasks": 0, "acp": 0}
    # The last three wait for an assessment and a plan; the two before have one part-done.
    for person_id in chosen[-5:-3]:
        started = actions.start_assessment(person_id, cga, coordinator)
        actions.save_assessment(
            assessment_id=started.pk,
            version=started.version,
            questionnaire=cga,
            answers={"physical.falls": "yes", "physical.pain": "yes"},
            finish=False,
            by=coordinator,
        )
    owners = [clinician, coordinator, *others]
    for number, person_id in enumerate(chosen[:-5]):
        actions.record_what_matters(
            person_id, WHAT_MATTERS[number % len(WHAT_MATTERS)], "person", coordinator
        )
        started = actions.start_assessment(person_id, cga, coordinator)
        actions.save_assessment(
            assessment_id=started.pk,
            version=started.version,
            questionnaire=cga,
            answers=_answers(falls=number % 2 == 0, memory=number % 3 == 0),
            finish=True,
            by=clinician if number % 2 else coordinator,
        )
        picked = [GOALS[number % len(GOALS)], GOALS[(number + 1) % len(GOALS)]]
        goals = [
            {"text": text, "target": target, "due": (today + dt.timedelta(days=days)).isoformat()}
            for text, target, days in picked
        ]
        plan = actions.save_plan(
            person_id=person_id,
            version=0,
            content={
                "about_me": "Lives alone in a ground-floor flat; daughter visits on Saturdays.",
                "what_matters": WHAT_MATTERS[number % len(WHAT_MATTERS)],
                "problems": ["Falls in the last year"] if number % 2 == 0 else [],
                "goals": goals,
                "contingency_what": "If more breathless or confused, or after a fall, call the "
                "care coordinator in working hours; otherwise NHS 111.",
                "contingency_call": f"{coordinator.display_name}, care coordinator, 0300 123 4567",
                "people": [
                    {
                        "id": p.pk,
                        "name": p.display_name,
                        "role": p.job_title,
                        "organisation": p.organisation.name,
                        "kind": "team",
                    }
                    for p in owners[:3]
                ],
                "carer_name": "Daughter, Saturdays" if number % 2 else "",
                "carer_contact": "07700 900123" if number % 2 else "",
                "consent_share": "yes",
                "consent_scope": "With the neighbourhood team and the GP practice",
            },
            by=coordinator,
        )
        counts["plans"] += 1
        for which, status in enumerate(_statuses(number)):
            owner = owners[(number + which) % len(owners)]
            task = actions.add_task(
                plan=plan,
                goal_id=f"G{which % 2 + 1}",
                description=_TASKS[(number + which) % len(_TASKS)],
                due=today + dt.timedelta(days=3 + 5 * which),
                by=coordinator,
                owner=None if which == 3 else owner,
                owner_team=team if which == 3 else None,
            )
            _move(task, status, owner, coordinator)
            counts["tasks"] += 1
        if number == 1:  # a task gone overdue, as the demo's first sight of one
            Task.objects.filter(plan=plan, status__in=["requested", "accepted"]).update(
                due=today - dt.timedelta(days=4)
            )
        if number == 2:  # a review overdue
            CarePlan.objects.filter(pk=plan.pk).update(review_due=today - dt.timedelta(days=10))
        if number in (3, 4):  # events since the last review, raised from the refresh below
            CarePlan.objects.filter(pk=plan.pk).update(
                last_reviewed=today - dt.timedelta(days=400),
                baseline={"frailty": "fit", "conditions": []},
            )
    for person_id in chosen[:2]:
        actions.record_advance_care_plan(
            person_id=person_id,
            fields={
                "focus": AdvanceCarePlan.Focus.COMFORT,
                "what_matters_most": "To be at home, comfortable, with my family around me",
                "recommendations": "Treat reversible causes at home where possible; avoid "
                "admission unless symptoms cannot be controlled at home.",
                "cpr": AdvanceCarePlan.CPR.DO_NOT_ATTEMPT,
                "cpr_registration": "GMC 7012345",
                "capacity": AdvanceCarePlan.Capacity.HAS,
                "preferred_place_of_care": "Home",
                "preferred_place_of_death": "Home",
                "documents_kept": "Signed ReSPECT form in the red folder by the front door; "
                "lasting power of attorney (health and welfare) held by her son",
            },
            by=clinician,
        )
        counts["acp"] += 1
    counts["reviews"] = reviews.raise_reviews()
    return counts


_TASKS = [
    "Falls assessment and strength and balance referral",
    "Structured medication review",
    "Social prescribing referral: lunch club and befriending",
    "Care Act needs assessment",
    "Occupational therapy home assessment: grab rails",
    "Carer's assessment for her daughter",
]


def _statuses(number: int) -> list[str]:
    every: list[str] = [
        TaskStatus.REQUESTED,
        TaskStatus.ACCEPTED,
        TaskStatus.IN_PROGRESS,
        TaskStatus.REQUESTED,
        TaskStatus.COMPLETED,
        TaskStatus.DECLINED,
        TaskStatus.CANCELLED,
    ]
    return [every[(number * 4 + i) % len(every)] for i in range(4)]


def _move(task: Task, status: str, owner: Professional, coordinator: Professional) -> None:
    path: dict[str, list[tuple[str, str, Any]]] = {
        TaskStatus.REQUESTED: [],
        TaskStatus.ACCEPTED: [("accepted", "", owner)],
        TaskStatus.IN_PROGRESS: [("accepted", "", owner), ("in-progress", "", owner)],
        TaskStatus.COMPLETED: [("accepted", "", owner), ("completed", "", owner)],
        TaskStatus.DECLINED: [("rejected", "Not our service: refer to the falls team", owner)],
        TaskStatus.CANCELLED: [
            ("cancelled", "The person said they no longer want it", coordinator)
        ],
    }
    if task.owner_id is None:  # a team's task: anyone in the team works it
        path = {k: [(s, r, coordinator) for s, r, _ in v] for k, v in path.items()}
    version = task.version
    for status_to, reason, by in path[status]:
        version = actions.move_task(
            task_id=task.pk, version=version, status=status_to, reason=reason, by=by
        ).version
