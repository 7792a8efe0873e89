"""Writes to personalised care records: each in one transaction with its audit event.

A plan is saved against the version it was opened at; if someone saved a newer one
since, :class:`Conflict` says who and what changed, and nothing is saved. Saving a plan
whose goals changed or went while tasks serving them are still open needs a decision for
each such task (keep, reassign or cancel with a reason): :class:`Unreconciled` lists them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from neighbourhood.care import published
from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.caseload.models import Enrolment
from neighbourhood.care.plans import reviews
from neighbourhood.care.plans.models import (
    NEEDS_REASON,
    OPEN_TASK,
    AdvanceCarePlan,
    AdvanceCarePlanReview,
    Assessment,
    CarePlan,
    CarePlanVersion,
    Task,
    TaskStatus,
    WhatMatters,
)
from neighbourhood.care.plans.questionnaires import Questionnaire
from neighbourhood.care.roles import Permission, allows
from neighbourhood.care.teams.models import Professional, Team
from neighbourhood.errors import UserError

GOAL_LIFECYCLE = {
    "proposed": "Proposed",
    "active": "Active",
    "on-hold": "On hold",
    "completed": "Completed",
    "cancelled": "Cancelled",
}
GOAL_ACHIEVEMENT = {
    "in-progress": "In progress",
    "improving": "Improving",
    "worsening": "Worsening",
    "no-change": "No change",
    "achieved": "Achieved",
    "not-achieved": "Not achieved",
}
# What a goal's change means for the tasks that serve it: these fields, changed, ask for
# each open task to be kept, reassigned or cancelled.
GOAL_FIELDS = ("text", "target", "due", "lifecycle")


class PlanError(UserError):
    """A change that cannot be made, in words the user can act on."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class Conflict(PlanError):  # noqa: N818 - named for what the user meets
    def __init__(self, what: str, now: int, by: str, at: dt.datetime, changes: list[str]) -> None:
        self.changes = changes
        super().__init__(
            f"{by} saved version {now} of this {what} at {timezone.localtime(at):%H:%M} while "
            "you were editing it. Nothing you entered was saved: check what changed and make "
            "your change again."
        )


class Unreconciled(PlanError):  # noqa: N818
    def __init__(self, tasks: list[Task]) -> None:
        self.tasks = tasks
        super().__init__(
            f"{len(tasks)} open task{'s' if len(tasks) != 1 else ''} serve{'' if len(tasks) != 1 else 's'} "
            "a goal you changed or removed: keep, reassign or cancel each, with a reason "
            "to cancel, before the plan is saved",
            "reconcile",
        )


@dataclass(frozen=True)
class Decision:
    """What to do with an open task whose goal changed: ``keep``, ``reassign`` (to
    ``owner``) or ``cancel`` (with ``reason``)."""

    action: str
    owner: Professional | None = None
    reason: str = ""


def open_enrolment(person_id: str, me: Professional) -> Enrolment:
    """The person's open enrolment in one of ``me``'s teams: the plan lives there."""
    enrolment = (
        Enrolment.objects.select_related("team", "care_coordinator__user")
        .filter(person_id=person_id, ended_at__isnull=True, team__memberships__professional=me)
        .first()
    )
    if enrolment is None:
        raise PlanError(
            "This person is not in your teams' caseload: add them to a caseload before "
            "assessing them or writing their plan"
        )
    return enrolment


def record_what_matters(person_id: str, text: str, said_by: str, by: Professional) -> WhatMatters:
    if not text.strip():
        raise PlanError("Write what matters to the person, in their own words", "text")
    if said_by not in WhatMatters.Said.values:
        raise PlanError("Say who said it: the person, or their carer or representative", "said_by")
    enrolment = open_enrolment(person_id, by)
    with transaction.atomic():
        entry = WhatMatters.objects.create(
            person_id=person_id, text=text.strip(), said_by=said_by, recorded_by=by
        )
        record_by(
            by,
            "record_what_matters",
            person_id=person_id,
            reason=f"in the caseload of {enrolment.team.name}",
            detail={"what_matters": entry.pk},
        )
    return entry


def start_assessment(person_id: str, questionnaire: Questionnaire, by: Professional) -> Assessment:
    enrolment = open_enrolment(person_id, by)
    with transaction.atomic():
        assessment = Assessment.objects.create(
            person_id=person_id,
            questionnaire=questionnaire.url,
            questionnaire_version=questionnaire.version,
            started_by=by,
            updated_by=by,
        )
        record_by(
            by,
            "start_assessment",
            person_id=person_id,
            reason=f"in the caseload of {enrolment.team.name}",
            detail={"assessment": assessment.pk, "questionnaire": questionnaire.slug},
        )
    return assessment


def save_assessment(
    *,
    assessment_id: int,
    version: int,
    questionnaire: Questionnaire,
    answers: dict[str, Any],
    finish: bool,
    by: Professional,
) -> Assessment:
    """Save the answers, part-done or finished; anyone in the person's team may go on
    with an assessment another began."""
    kept = {
        k: v for k, v in answers.items() if k in questionnaire.questions and v not in (None, "")
    }
    if finish:
        missing = questionnaire.unanswered(kept)
        if missing:
            raise PlanError(
                f"Answer every question marked as needed before finishing: {len(missing)} "
                f"still to answer, the first: '{missing[0].text}'. Or save it to finish later.",
                missing[0].link_id,
            )
    with transaction.atomic():
        current = Assessment.objects.select_for_update().get(pk=assessment_id)
        open_enrolment(current.person_id, by)
        if current.status == Assessment.Status.COMPLETED:
            raise PlanError("This assessment is finished: start a new one to record changes")
        if current.version != version:
            raise Conflict(
                "assessment",
                current.version,
                current.updated_by.display_name,
                current.updated_at,
                [
                    f"it is now at version {current.version}; your form was made at version {version}"
                ],
            )
        current.answers = kept
        current.problems = questionnaire.problems(kept)
        current.updated_by = by
        current.version += 1
        if finish:
            current.status = Assessment.Status.COMPLETED
            current.completed_at = timezone.now()
        current.save()
        record_by(
            by,
            "finish_assessment" if finish else "save_assessment",
            person_id=current.person_id,
            reason="assessment",
            detail={"assessment": current.pk, "answered": len(kept), "version": current.version},
        )
    return current


def _clean_goals(goals: list[dict[str, Any]], before: list[dict[str, Any]]) -> list[dict[str, Any]]:
    used = {g["id"] for g in before}
    number = max((int(g["id"][1:]) for g in before if g["id"][1:].isdigit()), default=0)
    cleaned = []
    for index, goal in enumerate(goals, start=1):
        text = str(goal.get("text") or "").strip()
        if not text:
            raise PlanError(f"Goal {index}: write the goal in the person's words", f"goal-{index}")
        lifecycle = goal.get("lifecycle") or "active"
        achievement = goal.get("achievement") or "in-progress"
        if lifecycle not in GOAL_LIFECYCLE:
            raise PlanError(f"Goal {index}: choose a status", f"goal-{index}")
        if achievement not in GOAL_ACHIEVEMENT:
            raise PlanError(f"Goal {index}: choose how it is going", f"goal-{index}")
        goal_id = str(goal.get("id") or "")
        if goal_id not in used:  # a new goal: the next number, never reused
            number += 1
            goal_id = f"G{number}"
        due = goal.get("due")
        cleaned.append(
            {
                "id": goal_id,
                "text": text,
                "lifecycle": lifecycle,
                "achievement": achievement,
                "target": str(goal.get("target") or "").strip(),
                "due": due.isoformat() if isinstance(due, dt.date) else (due or ""),
            }
        )
    return cleaned


def changed_goals(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, str]:
    """Goals changed or removed, by id, each with what happened to it."""
    now = {g["id"]: g for g in after}
    found = {}
    for goal in before:
        new = now.get(goal["id"])
        if new is None:
            found[goal["id"]] = f"goal removed: {goal['text']}"
        elif any(goal.get(f) != new.get(f) for f in GOAL_FIELDS):
            found[goal["id"]] = f"goal changed: {new['text']}"
    return found


def tasks_to_reconcile(plan: CarePlan | None, goals: list[dict[str, Any]]) -> list[Task]:
    if plan is None:
        return []
    before = plan.current().goals
    affected = changed_goals(before, _clean_goals(goals, before))
    return list(
        _open_tasks_of(plan, affected).select_related(
            "owner__user", "owner__organisation", "owner_team"
        )
    )


def _open_tasks_of(plan: CarePlan, goals: dict[str, str]) -> Any:
    """The open actions of a plan that serve these goals, oldest first."""
    return plan.tasks.filter(
        goal_id__in=list(goals), status__in=OPEN_TASK, kind=Task.Kind.ACTION
    ).order_by("pk")


def save_plan(
    *,
    person_id: str,
    version: int,
    content: dict[str, Any],
    by: Professional,
    note: str = "",
    reviewed: bool = False,
    decisions: dict[int, Decision] | None = None,
) -> CarePlan:
    """Save a new version of the person's plan (the first, when ``version`` is 0)."""
    decisions = decisions or {}
    enrolment = open_enrolment(person_id, by)
    person = published.profile(person_id)
    today = dt.date.today()
    review_date = content.get("review_date")
    if isinstance(review_date, str) and review_date:
        review_date = dt.date.fromisoformat(review_date)
    if isinstance(review_date, dt.date) and review_date <= today:
        raise PlanError("The review date must be in the future", "review_date")
    with transaction.atomic():
        plan = CarePlan.objects.select_for_update().filter(person_id=person_id).first()
        current_version = plan.version if plan else 0
        if current_version != version:
            assert plan is not None
            latest = plan.current()
            raise Conflict(
                "plan",
                plan.version,
                latest.changed_by.display_name,
                latest.changed_at,
                in_words(diff(plan.versions.get(number=version).content, latest.content))
                if version
                else [],
            )
        before = plan.current().content if plan else {}
        goals = _clean_goals(list(content.get("goals", [])), list(before.get("goals", [])))
        affected = changed_goals(list(before.get("goals", [])), goals)
        open_tasks = list(_open_tasks_of(plan, affected).select_for_update()) if plan else []
        undecided = [t for t in open_tasks if not _decided(decisions.get(t.pk))]
        if undecided:
            raise Unreconciled(undecided)
        if plan is None:
            plan = CarePlan(
                person_id=person_id,
                team=enrolment.team,
                review_due=today,
                last_reviewed=today,
                baseline=reviews.baseline(person),
            )
        number = current_version + 1
        review_day = review_date or reviews.next_review(person, today)
        saved = {**content, "goals": goals, "review_date": review_day.isoformat()}
        plan.version = number
        plan.team = enrolment.team
        plan.review_due = dt.date.fromisoformat(saved["review_date"])
        if reviewed or number == 1:
            plan.last_reviewed = today
            plan.baseline = reviews.baseline(person)
        try:
            with transaction.atomic():
                plan.save()
                CarePlanVersion.objects.create(
                    plan=plan, number=number, content=saved, changed_by=by, change_note=note.strip()
                )
        except IntegrityError as error:  # another first version, saved a moment ago
            raise PlanError(
                "Someone else wrote this person's first plan while you were writing yours. "
                "Nothing you entered was saved: open their plan and make your change to it."
            ) from error
        for task in open_tasks:
            _apply(task, decisions[task.pk], enrolment.team, by, affected[task.goal_id])
        if reviewed:
            for task in plan.tasks.filter(kind=Task.Kind.REVIEW, status__in=OPEN_TASK):
                _set_status(task, TaskStatus.COMPLETED, f"plan reviewed in version {number}", by)
        record_by(
            by,
            "save_care_plan",
            person_id=person_id,
            reason=f"in the caseload of {enrolment.team.name}",
            detail={
                "plan": plan.pk,
                "version": number,
                "reviewed": reviewed or number == 1,
                "reconciled": {str(t.pk): decisions[t.pk].action for t in open_tasks},
            },
        )
    return plan


def _decided(decision: Decision | None) -> bool:
    if decision is None:
        return False
    if decision.action == "keep":
        return True
    if decision.action == "reassign":
        return decision.owner is not None
    return decision.action == "cancel" and bool(decision.reason.strip())


def _apply(task: Task, decision: Decision, team: Team, by: Professional, why: str) -> None:
    if decision.action == "reassign":
        assert decision.owner is not None
        _check_owner(team, decision.owner)
        task.owner, task.owner_team = decision.owner, None
        task.status = TaskStatus.REQUESTED
        task.status_reason = f"reassigned: {why}"
        task.version += 1
        task.save()
    elif decision.action == "cancel":
        _set_status(task, TaskStatus.CANCELLED, decision.reason.strip(), by)


def _check_owner(team: Team, owner: Professional) -> None:
    if not team.memberships.filter(professional=owner).exists():
        raise PlanError(
            f"{owner.display_name} is not in the core or extended team of {team.name}: "
            "give the task to a member of the team",
            "owner",
        )


def add_task(
    *,
    plan: CarePlan,
    goal_id: str,
    description: str,
    due: dt.date | None,
    by: Professional,
    owner: Professional | None = None,
    owner_team: Team | None = None,
) -> Task:
    enrolment = open_enrolment(plan.person_id, by)
    if not description.strip():
        raise PlanError("Say what is to be done", "description")
    if due is None:
        raise PlanError("Give the date it is due by", "due")
    if due < dt.date.today():
        raise PlanError("The due date cannot be in the past", "due")
    if owner is None and owner_team is None:
        raise PlanError("Choose who the task is for: a professional or a team", "owner")
    if owner is not None:
        _check_owner(enrolment.team, owner)
    goals = {g["id"]: g for g in plan.current().goals}
    if goal_id and goal_id not in goals:
        raise PlanError("Choose a goal of the current plan", "goal")
    with transaction.atomic():
        task = Task.objects.create(
            person_id=plan.person_id,
            plan=plan,
            goal_id=goal_id,
            description=description.strip(),
            owner=owner,
            owner_team=None if owner else owner_team,
            due=due,
            requested_by=by,
        )
        record_by(
            by,
            "add_task",
            person_id=plan.person_id,
            reason=f"in the caseload of {enrolment.team.name}",
            detail={
                "task": task.pk,
                "owner": owner.pk if owner else None,
                "team": owner_team.pk if owner_team else None,
            },
        )
    return task


# Which status may follow which; cancelling is for whoever asked or the person's team,
# everything else for the task's owner (or a member of the owning team).
MOVES: dict[str, tuple[str, ...]] = {
    TaskStatus.REQUESTED: (TaskStatus.ACCEPTED, TaskStatus.DECLINED, TaskStatus.CANCELLED),
    TaskStatus.ACCEPTED: (TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED, TaskStatus.CANCELLED),
    TaskStatus.IN_PROGRESS: (TaskStatus.COMPLETED, TaskStatus.CANCELLED),
}


def may_work(task: Task, me: Professional) -> bool:
    if task.owner_id is not None:
        return bool(task.owner_id == me.pk)
    return (
        task.owner_team_id is not None
        and me.memberships.filter(team_id=task.owner_team_id).exists()
    )


def may_cancel(task: Task, me: Professional) -> bool:
    if task.requested_by_id == me.pk or may_work(task, me):
        return True
    return task.plan is not None and me.memberships.filter(team_id=task.plan.team_id).exists()


def move_task(*, task_id: int, version: int, status: str, reason: str, by: Professional) -> Task:
    if status in NEEDS_REASON and not reason.strip():
        raise PlanError("Give a reason: a task is cancelled or declined with one", "reason")
    with transaction.atomic():
        task = Task.objects.select_for_update(of=("self",)).select_related("plan").get(pk=task_id)
        if task.version != version:
            raise Conflict(
                "task",
                task.version,
                "Someone else",
                task.updated_at,
                [f"it is now {task.get_status_display().lower()}"],
            )
        if status not in MOVES.get(task.status, ()):
            raise PlanError(
                f"A task that is {task.get_status_display().lower()} cannot become "
                f"{TaskStatus(status).label.lower() if status in TaskStatus.values else status}",
                "status",
            )
        allowed = may_cancel(task, by) if status == TaskStatus.CANCELLED else may_work(task, by)
        if not allowed:
            raise PlanError("Only the task's owner can change it; its team can cancel it", "status")
        _set_status(task, status, reason.strip(), by)
    return task


def _set_status(task: Task, status: str, reason: str, by: Professional) -> None:
    before = task.status
    task.status = status
    task.status_reason = reason
    task.version += 1
    task.save()
    record_by(
        by,
        "update_task",
        person_id=task.person_id,
        reason="task " + TaskStatus(status).label.lower(),
        detail={"task": task.pk, "from": before, "to": status, "version": task.version},
    )


def record_advance_care_plan(
    *, person_id: str, fields: dict[str, Any], by: Professional
) -> AdvanceCarePlan:
    """A new ReSPECT record: it supersedes the one in force, which stays readable. A CPR
    recommendation only from a clinician, with their professional registration number."""
    enrolment = open_enrolment(person_id, by)
    cpr = fields.get("cpr") or ""
    registration = str(fields.get("cpr_registration") or "").strip()
    if cpr and not allows(by.role, Permission.RECORD_CPR):
        raise PlanError("Only a clinician can record a CPR recommendation", "cpr")
    if cpr and not registration:
        raise PlanError(
            "Give your professional registration number (GMC, NMC or HCPC) with a CPR "
            "recommendation",
            "cpr_registration",
        )
    clinician: Professional | None = by
    with transaction.atomic():
        current = AdvanceCarePlan.in_force(person_id).select_for_update().first()
        number = 1
        if current is not None:
            if "cpr" not in fields and current.cpr:
                # A new version by someone who may not record CPR keeps the clinician's
                # recommendation as it was, under the clinician's name: never dropped.
                cpr, registration = current.cpr, current.cpr_registration
                clinician = current.cpr_clinician
            number = current.number + 1
            current.superseded_at = timezone.now()
            current.save(update_fields=["superseded_at"])
        made = AdvanceCarePlan.objects.create(
            person_id=person_id,
            number=number,
            recorded_by=by,
            cpr=cpr,
            cpr_clinician=clinician if cpr else None,
            cpr_registration=registration if cpr else "",
            **{k: v for k, v in fields.items() if k not in ("cpr", "cpr_registration")},
        )
        record_by(
            by,
            "record_advance_care_plan",
            person_id=person_id,
            reason=f"in the caseload of {enrolment.team.name}",
            detail={"advance_care_plan": made.pk, "version": number, "cpr": bool(cpr)},
        )
    return made


def review_advance_care_plan(
    *, plan: AdvanceCarePlan, note: str, by: Professional
) -> AdvanceCarePlanReview:
    open_enrolment(plan.person_id, by)
    if not note.strip():
        raise PlanError("Say what the review found, even if nothing changed", "note")
    with transaction.atomic():
        review = AdvanceCarePlanReview.objects.create(plan=plan, reviewed_by=by, note=note.strip())
        record_by(
            by,
            "review_advance_care_plan",
            person_id=plan.person_id,
            reason="advance care plan review",
            detail={"advance_care_plan": plan.pk},
        )
    return review


SECTIONS = (
    ("about_me", "About me"),
    ("what_matters", "What matters to me"),
    ("problems", "Needs from the assessment"),
    ("contingency_what", "If things go wrong: what to do"),
    ("contingency_call", "If things go wrong: whom to call"),
    ("carer_name", "Unpaid carer"),
    ("carer_contact", "Unpaid carer's contact"),
    ("consent_share", "Consent to share"),
    ("consent_scope", "What may be shared, and with whom"),
    ("review_date", "Review date"),
)


def _lines(content: dict[str, Any]) -> dict[str, str]:
    lines: dict[str, str] = {}
    for key, label in SECTIONS:
        value = content.get(key)
        if isinstance(value, list):
            value = "; ".join(str(v) for v in value)
        lines[label] = str(value or "")
    for person in content.get("people", []):
        lines[f"Team: {person.get('name')}"] = f"{person.get('role')} ({person.get('kind')})"
    for goal in content.get("goals", []):
        lines[f"Goal {goal['id']}"] = (
            f"{goal['text']} | {GOAL_LIFECYCLE.get(goal['lifecycle'], goal['lifecycle'])}, "
            f"{GOAL_ACHIEVEMENT.get(goal['achievement'], goal['achievement']).lower()}"
            + (f" | target: {goal['target']}" if goal.get("target") else "")
            + (f" | by {goal['due']}" if goal.get("due") else "")
        )
    return lines


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str, str]]:
    """What changed between two versions' content: (section or goal, before, after)."""
    old, new = _lines(before), _lines(after)
    return [
        (label, old.get(label, ""), new.get(label, ""))
        for label in list(old) + [k for k in new if k not in old]
        if old.get(label, "") != new.get(label, "")
    ]


def in_words(changes: list[tuple[str, str, str]]) -> list[str]:
    words = []
    for label, was, now in changes:
        if not was:
            words.append(f"{label}: added '{now}'")
        elif not now:
            words.append(f"{label}: removed (was '{was}')")
        else:
            words.append(f"{label}: '{was}' became '{now}'")
    return words
