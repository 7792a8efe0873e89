"""Personalised care pages: the plan (with what matters, assessments, actions and the
advance care plan), writing each of them, tasks, the worklist and the team measures.

Reading a person's records needs a care relationship (or break-glass access), as the
profile does; writing needs the person in one of the writer's teams' caseloads. Every
read and every write is on the audit trail; every refusal too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from neighbourhood.care import published
from neighbourhood.care.access import (
    Relationship,
    relationship_or_break_glass,
    requires,
    staff_of,
)
from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.caseload.models import Enrolment
from neighbourhood.care.meetings.models import Outcome
from neighbourhood.care.plans import actions, measures, questionnaires
from neighbourhood.care.plans.forms import (
    AdvanceCarePlanForm,
    GoalFormSet,
    PlanForm,
    ReconcileForm,
    ReviewNoteForm,
    TaskForm,
    TaskUpdateForm,
    WhatMattersForm,
    goals_from,
)
from neighbourhood.care.plans.models import (
    OPEN_TASK,
    AdvanceCarePlan,
    Assessment,
    CarePlan,
    Task,
    WhatMatters,
)
from neighbourhood.care.referrals.models import Referral
from neighbourhood.care.roles import Permission, allows
from neighbourhood.care.teams.models import Membership, Professional, Team

NOT_SHOWN = "You cannot see this person's care record: they are not in your care, or not in the published refresh."


def reader(
    request: HttpRequest, person_id: str, what: str
) -> tuple[Professional, dict[str, Any], Relationship]:
    """The person, if this member of staff may read their care record; the trail keeps
    the read or the refusal. One answer for a person who does not exist or may not be seen."""
    me = staff_of(request)
    person = published.profile(person_id)
    relationship = relationship_or_break_glass(me, person_id) if person is not None else None
    if person is None or relationship is None:
        record_by(me, f"refused_{what}", person_id=person_id, reason="no care relationship")
        raise PermissionDenied(NOT_SHOWN)
    record_by(me, f"view_{what}", person_id=person_id, reason=relationship.reason)
    return me, person, relationship


def writer(
    request: HttpRequest, person_id: str, what: str
) -> tuple[Professional, dict[str, Any], Enrolment]:
    """The person and their enrolment in one of this member of staff's teams, to write."""
    me = staff_of(request)
    person = published.profile(person_id)
    try:
        enrolment = actions.open_enrolment(person_id, me) if person is not None else None
    except actions.PlanError:
        enrolment = None
    if person is None or enrolment is None:
        record_by(
            me, f"refused_{what}", person_id=person_id, reason="not in the writer's caseloads"
        )
        raise PermissionDenied(
            "You can write care records only for people in your teams' caseloads: add them "
            "to a caseload first."
        )
    if request.method == "GET":  # a form shows the record as it is: a read, on the trail
        record_by(
            me,
            f"view_{what}_form",
            person_id=person_id,
            reason=f"in the caseload of {enrolment.team.name}",
        )
    return me, person, enrolment


def beside(form: Any, error: actions.PlanError) -> None:
    """A refused write's reason, beside the field it is about (or above the form)."""
    form.add_error(error.field if error.field in form.fields else None, str(error))


def _problems(person_id: str) -> list[str]:
    found: list[str] = []
    for assessment in Assessment.objects.filter(person_id=person_id, status="completed"):
        found += [p["text"] for p in assessment.problems if p["text"] not in found]
    return found


@requires(Permission.VIEW_CARE_RECORD)
def plan(request: HttpRequest, person_id: str) -> HttpResponse:
    me, person, relationship = reader(request, person_id, "care_plan")
    care_plan = CarePlan.objects.filter(person_id=person_id).first()
    current = care_plan.current() if care_plan else None
    tasks = list(
        Task.objects.filter(person_id=person_id)
        .select_related("owner__user", "owner__organisation", "owner_team")
        .order_by("status", "due", "pk")
    )
    goals = current.goals if current else []
    by_goal = {
        g["id"]: [t for t in tasks if t.goal_id == g["id"] and t.kind == "action"] for g in goals
    }
    return render(
        request,
        "plans/plan.html",
        {
            "person": person,
            "relationship": relationship,
            "what_matters": WhatMatters.objects.filter(person_id=person_id)
            .select_related("recorded_by__user")
            .first(),
            "plan": care_plan,
            "current": current,
            "goals": [(g, by_goal.get(g["id"], [])) for g in goals],
            "other_tasks": [t for t in tasks if t.kind == "review" or t.goal_id not in by_goal],
            "assessments": _assessments(person_id),
            "acp": AdvanceCarePlan.in_force(person_id)
            .select_related("recorded_by__user", "cpr_clinician__user")
            .first(),
            "can_write": allows(me.role, Permission.WRITE_CARE_PLAN),
            "can_refer": allows(me.role, Permission.REFER),
            "can_flag": allows(me.role, Permission.VIEW_MEETINGS),
            "referrals": Referral.objects.filter(person_id=person_id).select_related("service")[
                :20
            ],
            "outcomes": Outcome.objects.filter(person_id=person_id)[:5],
            "questionnaires": questionnaires.shipped(),
            "today": dt.date.today(),
            "lifecycle": actions.GOAL_LIFECYCLE,
            "achievement": actions.GOAL_ACHIEVEMENT,
        },
    )


def _assessments(person_id: str) -> list[tuple[Assessment, str]]:
    found = []
    for a in Assessment.objects.filter(person_id=person_id).select_related("updated_by__user"):
        q = questionnaires.by_url(a.questionnaire)
        found.append((a, q.title if q else a.questionnaire))
    return found


@requires(Permission.WRITE_CARE_PLAN)
def what_matters(request: HttpRequest, person_id: str) -> HttpResponse:
    me, person, _ = writer(request, person_id, "what_matters")
    form = WhatMattersForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.record_what_matters(
                person_id, form.cleaned_data["text"], form.cleaned_data["said_by"], me
            )
        except actions.PlanError as error:
            form.add_error(error.field or None, str(error))
        else:
            messages.success(request, "Recorded what matters to them.")
            return redirect("care-plan", person_id=person_id)
    earlier = list(
        WhatMatters.objects.filter(person_id=person_id).select_related("recorded_by__user")[:20]
    )
    return render(
        request, "plans/what_matters.html", {"person": person, "form": form, "earlier": earlier}
    )


@requires(Permission.WRITE_CARE_PLAN)
@require_POST
def assessment_new(request: HttpRequest, person_id: str) -> HttpResponse:
    me, _, _ = writer(request, person_id, "assessment")
    questionnaire = questionnaires.shipped().get(request.POST.get("questionnaire", ""))
    if questionnaire is None:
        messages.error(request, "Choose one of the assessments offered.")
        return redirect("care-plan", person_id=person_id)
    made = actions.start_assessment(person_id, questionnaire, me)
    return redirect("assessment", person_id=person_id, assessment_id=made.pk)


@requires(Permission.VIEW_CARE_RECORD)
def assessment(request: HttpRequest, person_id: str, assessment_id: int) -> HttpResponse:
    found = (
        Assessment.objects.filter(pk=assessment_id, person_id=person_id)
        .select_related("started_by__user", "updated_by__user")
        .first()
    )
    if request.method == "POST":
        me, person, _ = writer(request, person_id, "assessment")
        if not allows(me.role, Permission.WRITE_CARE_PLAN):
            raise PermissionDenied("Your role does not give access to this page.")
    else:
        me, person, _ = reader(request, person_id, "assessment")
    if found is None:
        raise Http404("There is no assessment with that number in this person's record.")
    questionnaire = questionnaires.by_url(found.questionnaire)
    if questionnaire is None:
        raise Http404("That assessment's questionnaire is no longer shipped.")
    form = questionnaire.form(
        request.POST if request.method == "POST" else None, initial=found.answers
    )
    error = ""
    if (
        request.method == "POST"
        and found.status == Assessment.Status.IN_PROGRESS
        and form.is_valid()
    ):
        finish = "finish" in request.POST
        try:
            saved = actions.save_assessment(
                assessment_id=found.pk,
                version=_version(request.POST.get("version")),
                questionnaire=questionnaire,
                answers=form.cleaned_data,
                finish=finish,
                by=me,
            )
        except actions.PlanError as problem:
            if problem.field in form.fields:
                form.add_error(problem.field, str(problem))
                for q in questionnaire.unanswered(form.cleaned_data):
                    if q.link_id != problem.field and q.link_id not in form.errors:
                        form.add_error(q.link_id, "Answer this question before finishing")
            else:
                error = str(problem)
        else:
            messages.success(
                request,
                "Assessment finished: its problems are ready for the plan."
                if finish
                else "Saved: anyone in the team can finish it later.",
            )
            return redirect(
                "assessment" if not finish else "care-plan",
                **(
                    {"person_id": person_id, "assessment_id": saved.pk}
                    if not finish
                    else {"person_id": person_id}
                ),
            )
    return render(
        request,
        "plans/assessment.html",
        {
            "person": person,
            "assessment": found,
            "questionnaire": questionnaire,
            "form": form,
            "error": error,
            "can_write": allows(me.role, Permission.WRITE_CARE_PLAN),
        },
    )


@requires(Permission.WRITE_CARE_PLAN)
def plan_edit(request: HttpRequest, person_id: str) -> HttpResponse:
    me, person, enrolment = writer(request, person_id, "care_plan_edit")
    care_plan = CarePlan.objects.filter(person_id=person_id).first()
    content = care_plan.current().content if care_plan else {}
    latest = WhatMatters.objects.filter(person_id=person_id).first()
    problems = _problems(person_id)
    for kept in content.get("problems", []):
        if kept not in problems:
            problems.append(kept)
    data = request.POST if request.method == "POST" else None
    form = PlanForm(
        data,
        team=enrolment.team,
        problems=problems,
        initial={
            "version": care_plan.version if care_plan else 0,
            **{
                k: content.get(k, "")
                for k in (
                    "about_me",
                    "contingency_what",
                    "contingency_call",
                    "carer_name",
                    "carer_contact",
                    "consent_share",
                    "consent_scope",
                )
            },
            "problems": content.get("problems", problems if not care_plan else []),
            "people": [p["id"] for p in content.get("people", [])],
        },
    )
    goals = GoalFormSet(data, prefix="goal", initial=content.get("goals", []))
    reconcile: ReconcileForm | None = None
    conflict: actions.Conflict | None = None
    if data is not None and form.is_valid() and goals.is_valid():
        kept_goals = goals_from(goals)
        open_tasks = actions.tasks_to_reconcile(care_plan, kept_goals)
        if open_tasks:
            reconcile = ReconcileForm(
                data if "reconciling" in data else None, tasks=open_tasks, team=enrolment.team
            )
        if reconcile is None or reconcile.is_valid():
            try:
                actions.save_plan(
                    person_id=person_id,
                    version=form.cleaned_data["version"],
                    content=_content(form.cleaned_data, kept_goals, latest, enrolment.team),
                    by=me,
                    note=form.cleaned_data["change_note"],
                    reviewed=form.cleaned_data["reviewed"],
                    decisions=reconcile.decisions() if reconcile else {},
                )
            except actions.Conflict as error:
                conflict = error
            except actions.Unreconciled as error:
                reconcile = ReconcileForm(None, tasks=error.tasks, team=enrolment.team)
            except actions.PlanError as error:
                beside(form, error)
            else:
                messages.success(request, "Plan saved as a new version; the earlier one is kept.")
                return redirect("care-plan", person_id=person_id)
    return render(
        request,
        "plans/plan_edit.html",
        {
            "person": person,
            "form": form,
            "goals": goals,
            "reconcile": reconcile,
            "conflict": conflict,
            "what_matters": latest,
            "plan": care_plan,
            "rule": _rule(person),
        },
    )


def _version(text: str | None) -> int:
    """The version a form was drawn at; anything else is no version (a conflict)."""
    return int(text) if text and text.isascii() and text.isdigit() and len(text) < 10 else -1


def _rule(person: dict[str, Any]) -> str:
    from neighbourhood.care.plans import reviews

    months, why = reviews.interval(person)
    return f"every {months} months ({why})"


def _content(
    data: dict[str, Any], goals: list[dict[str, Any]], latest: WhatMatters | None, team: Team
) -> dict[str, Any]:
    kinds = dict(
        Membership.objects.filter(team=team, professional__in=data["people"]).values_list(
            "professional_id", "kind"
        )
    )
    return {
        "about_me": data["about_me"].strip(),
        "what_matters": latest.text if latest else "",
        "problems": list(data["problems"]),
        "goals": goals,
        "contingency_what": data["contingency_what"].strip(),
        "contingency_call": data["contingency_call"].strip(),
        "people": [
            {
                "id": p.pk,
                "name": p.display_name,
                "role": p.job_title,
                "organisation": p.organisation.name,
                "kind": kinds.get(p.pk, Membership.Kind.EXTENDED),  # core or extended team
            }
            for p in data["people"]
        ],
        "carer_name": data["carer_name"].strip(),
        "carer_contact": data["carer_contact"].strip(),
        "consent_share": data["consent_share"],
        "consent_scope": data["consent_scope"].strip(),
        "review_date": data["review_date"],
    }


@requires(Permission.VIEW_CARE_RECORD)
def plan_versions(request: HttpRequest, person_id: str) -> HttpResponse:
    _, person, _ = reader(request, person_id, "care_plan_versions")
    care_plan = CarePlan.objects.filter(person_id=person_id).first()
    if care_plan is None:
        raise Http404("This person has no care plan yet.")
    versions = list(
        care_plan.versions.select_related("changed_by__user", "changed_by__organisation")
    )
    numbers = [v.number for v in versions]

    def chosen(name: str, default: int) -> int:
        return {str(n): n for n in numbers}.get(request.GET.get(name, ""), default)

    newest = chosen("to", care_plan.version)
    oldest = chosen("from", max(1, newest - 1))
    by_number = {v.number: v for v in versions}
    changes = actions.diff(by_number[oldest].content, by_number[newest].content)
    return render(
        request,
        "plans/versions.html",
        {"person": person, "versions": versions, "from": oldest, "to": newest, "changes": changes},
    )


@requires(Permission.VIEW_CARE_RECORD)
def plan_print(request: HttpRequest, person_id: str) -> HttpResponse:
    _, person, _ = reader(request, person_id, "care_plan_copy")
    care_plan = CarePlan.objects.filter(person_id=person_id).first()
    if care_plan is None:
        raise Http404("This person has no care plan yet.")
    current = care_plan.current()
    tasks = Task.objects.filter(plan=care_plan, kind="action", status__in=OPEN_TASK).select_related(
        "owner__user", "owner__organisation", "owner_team"
    )
    return render(
        request,
        "plans/print.html",
        {
            "person": person,
            "plan": care_plan,
            "current": current,
            "content": current.content,
            "tasks": list(tasks),
            "lifecycle": actions.GOAL_LIFECYCLE,
            "achievement": actions.GOAL_ACHIEVEMENT,
            "acp": AdvanceCarePlan.in_force(person_id).first(),
        },
    )


@requires(Permission.WRITE_CARE_PLAN)
def task_new(request: HttpRequest, person_id: str) -> HttpResponse:
    me, person, enrolment = writer(request, person_id, "task")
    care_plan = CarePlan.objects.filter(person_id=person_id).first()
    if care_plan is None:
        messages.error(request, "Write the plan first: an action serves one of its goals.")
        return redirect("care-plan", person_id=person_id)
    goals = care_plan.current().goals
    form = TaskForm(
        request.POST or None,
        team=enrolment.team,
        goals=goals,
        initial={"goal": request.GET.get("goal", "")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.add_task(
                plan=care_plan,
                goal_id=data["goal"],
                description=data["description"],
                due=data["due"],
                by=me,
                owner=data["owner"],
                owner_team=None if data["owner"] else enrolment.team,
            )
        except actions.PlanError as error:
            beside(form, error)
        else:
            messages.success(request, "Action added: it is in its owner's tasks.")
            return redirect("care-plan", person_id=person_id)
    return render(request, "plans/task_new.html", {"person": person, "form": form})


NO_TASK = "There is no task with that number among yours or your teams'."


def _task_for(me: Professional, task_id: int) -> Task:
    """A task this member of staff may see: theirs, their team's, or of a person in their
    teams' caseloads. One answer otherwise, whether or not it exists."""
    task = (
        Task.objects.filter(pk=task_id)
        .select_related(
            "owner__user", "owner__organisation", "owner_team", "plan__team", "requested_by__user"
        )
        .first()
    )
    if task is None:
        raise Http404(NO_TASK)
    teams = {t.pk for t in me.teams_by_name}
    if (
        task.owner_id == me.pk
        or task.owner_team_id in teams
        or (task.plan and task.plan.team_id in teams)
    ):
        return task
    record_by(
        me,
        "refused_task",
        person_id=task.person_id,
        reason="not their task",
        detail={"task": task.pk},
    )
    raise Http404(NO_TASK)


@requires(Permission.WORK_TASKS)
def task(request: HttpRequest, task_id: int) -> HttpResponse:
    me = staff_of(request)
    found = _task_for(me, task_id)
    allowed = tuple(
        s
        for s in actions.MOVES.get(found.status, ())
        if (actions.may_cancel(found, me) if s == "cancelled" else actions.may_work(found, me))
    )
    form = TaskUpdateForm(request.POST or None, allowed=allowed, initial={"version": found.version})
    conflict = None
    if request.method == "POST" and request.POST.get("version") != str(found.version):
        # Changed since this form was drawn: say so, whatever the form now asks.
        conflict = actions.Conflict(
            "task",
            found.version,
            "Someone else",
            found.updated_at,
            [f"it is now {found.get_status_display().lower()}"],
        )
        form = TaskUpdateForm(allowed=allowed, initial={"version": found.version})
    elif request.method == "POST":
        if form.is_valid():
            try:
                actions.move_task(
                    task_id=found.pk,
                    version=form.cleaned_data["version"],
                    status=form.cleaned_data["status"],
                    reason=form.cleaned_data["reason"],
                    by=me,
                )
            except actions.Conflict as error:
                conflict = error
            except actions.PlanError as error:
                beside(form, error)
            else:
                messages.success(request, "Task updated.")
                target = request.POST.get("next") or ""
                return redirect(target if _safe(target) else reverse("my-tasks"))
    else:
        record_by(
            me, "view_task", person_id=found.person_id, reason="task", detail={"task": found.pk}
        )
    person = published.people([found.person_id]).get(found.person_id)
    goal = None
    if found.plan and found.goal_id:
        goal = next((g for g in found.plan.current().goals if g["id"] == found.goal_id), None)
    return render(
        request,
        "plans/task.html",
        {
            "task": found,
            "person": person,
            "form": form,
            "goal": goal,
            "conflict": conflict,
            "allowed": allowed,
            "today": dt.date.today(),
        },
    )


def _safe(target: str) -> bool:
    """Only an address on this site: never another's (an open redirect)."""
    return url_has_allowed_host_and_scheme(target, allowed_hosts=None)


def _task_rows(tasks: list[Task]) -> list[tuple[Task, dict[str, Any] | None]]:
    people = published.people(list({t.person_id for t in tasks}))
    return [(t, people.get(t.person_id)) for t in tasks]


TASKS_A_PAGE = 25


def _tasks_page(request: HttpRequest, which: str) -> HttpResponse:
    me = staff_of(request)
    teams = me.teams_by_name
    base = Task.objects.select_related("owner__user", "owner__organisation", "owner_team")
    show_done = request.GET.get("show") == "done"
    statuses = ["completed", "cancelled", "rejected"] if show_done else list(OPEN_TASK)
    found = (
        base.filter(owner=me, status__in=statuses)
        if which == "mine"
        else base.filter(owner_team__in=teams, status__in=statuses)
    )
    # The most urgent first (finished: the latest first), a page at a time.
    found = found.order_by("-updated_at", "-pk") if show_done else found.order_by("due", "pk")
    page = Paginator(found, TASKS_A_PAGE).get_page(request.GET.get("page"))
    tasks = list(page)
    rows = _task_rows(tasks)
    record_by(
        me,
        "view_tasks",
        reason="my tasks" if which == "mine" else "team tasks",
        detail={"people_shown": sorted({t.person_id for t in tasks})},
    )
    return render(
        request,
        "plans/tasks.html",
        {
            "rows": rows,
            "page": page,
            "which": which,
            "today": dt.date.today(),
            "show_done": show_done,
            "teams": teams,
        },
    )


@requires(Permission.WORK_TASKS)
def my_tasks(request: HttpRequest) -> HttpResponse:
    return _tasks_page(request, "mine")


@requires(Permission.WORK_TASKS)
def team_tasks(request: HttpRequest) -> HttpResponse:
    return _tasks_page(request, "team")


@requires(Permission.WORK_TASKS)
def worklist(request: HttpRequest) -> HttpResponse:
    """The care coordinator's day: reviews due, tasks due, people waiting for an
    assessment or a plan, and events since the last review, each a link to act."""
    me = staff_of(request)
    today = dt.date.today()
    soon = today + dt.timedelta(days=14)
    enrolments = list(
        Enrolment.objects.filter(care_coordinator=me, ended_at__isnull=True).values_list(
            "person_id", flat=True
        )[:2000]
    )
    plans = {p.person_id: p for p in CarePlan.objects.filter(person_id__in=enrolments)}
    assessed = set(
        Assessment.objects.filter(person_id__in=enrolments).values_list("person_id", flat=True)
    )
    reviews_due = sorted(
        (p for p in plans.values() if p.review_due <= soon), key=lambda p: p.review_due
    )
    waiting = [pid for pid in enrolments if pid not in plans or pid not in assessed]
    tasks = list(
        Task.objects.filter(owner=me, status__in=OPEN_TASK, due__lte=soon)
        .exclude(kind=Task.Kind.REVIEW)
        .order_by("due", "pk")[:200]
    )
    raised = list(
        Task.objects.filter(owner=me, status__in=OPEN_TASK, kind=Task.Kind.REVIEW).order_by(
            "due", "pk"
        )[:200]
    )
    shown = (
        {p.person_id for p in reviews_due} | set(waiting) | {t.person_id for t in tasks + raised}
    )
    people = published.people(sorted(shown))
    record_by(me, "view_worklist", reason="own worklist", detail={"people_shown": sorted(shown)})
    return render(
        request,
        "plans/worklist.html",
        {
            "today": today,
            "reviews_due": [(p, people.get(p.person_id)) for p in reviews_due],
            "waiting": [(pid, people.get(pid), pid in plans, pid in assessed) for pid in waiting],
            "tasks": [(t, people.get(t.person_id)) for t in tasks],
            "raised": [(t, people.get(t.person_id)) for t in raised],
            "caseload": len(enrolments),
        },
    )


@requires(Permission.VIEW_CARE_RECORD)
def advance_care_plan(request: HttpRequest, person_id: str) -> HttpResponse:
    me, person, _ = reader(request, person_id, "advance_care_plan")
    plans = list(
        AdvanceCarePlan.objects.filter(person_id=person_id)
        .select_related("recorded_by__user", "cpr_clinician__user")
        .prefetch_related("reviews__reviewed_by__user")
    )
    return render(
        request,
        "plans/acp.html",
        {
            "person": person,
            "plans": plans,
            "review_form": ReviewNoteForm(),
            "can_write": allows(me.role, Permission.WRITE_CARE_PLAN),
        },
    )


@requires(Permission.WRITE_CARE_PLAN)
def advance_care_plan_new(request: HttpRequest, person_id: str) -> HttpResponse:
    me, person, _ = writer(request, person_id, "advance_care_plan")
    current = AdvanceCarePlan.in_force(person_id).first()
    may_cpr = allows(me.role, Permission.RECORD_CPR)
    initial: dict[str, Any] = {}
    if current is not None:
        initial = {f: getattr(current, f) for f in AdvanceCarePlanForm.Meta.fields}
        if not may_cpr:
            initial.pop("cpr"), initial.pop("cpr_registration")
    form = AdvanceCarePlanForm(request.POST or None, may_record_cpr=may_cpr, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            actions.record_advance_care_plan(person_id=person_id, fields=fields, by=me)
        except actions.PlanError as error:
            beside(form, error)
        else:
            messages.success(request, "Advance care plan recorded; the earlier version is kept.")
            return redirect("advance-care-plan", person_id=person_id)
    return render(
        request,
        "plans/acp_new.html",
        {"person": person, "form": form, "current": current, "may_cpr": may_cpr},
    )


@requires(Permission.WRITE_CARE_PLAN)
@require_POST
def advance_care_plan_review(request: HttpRequest, person_id: str) -> HttpResponse:
    me, _, _ = writer(request, person_id, "advance_care_plan")
    current = AdvanceCarePlan.in_force(person_id).first()
    if current is None:
        raise Http404("This person has no advance care plan to review.")
    form = ReviewNoteForm(request.POST)
    if form.is_valid():
        actions.review_advance_care_plan(plan=current, note=form.cleaned_data["note"], by=me)
        messages.success(request, "Review recorded.")
    else:
        messages.error(request, "Say what the review found, even if nothing changed.")
    return redirect("advance-care-plan", person_id=person_id)


@dataclass(frozen=True)
class MeasuresScope:
    """Whose figures a measures page shows, broken down how: a planning role sees every
    team's, disclosure-controlled; INT staff their own teams', as counted."""

    me: Professional
    planning: bool
    dimension: str
    teams: list[Team] | None


def measures_scope(request: HttpRequest, page: str) -> MeasuresScope:
    """The scope of a measures page, its read on the audit trail."""
    me = staff_of(request)
    planning = allows(me.role, Permission.VIEW_PLANNING)
    dimension = request.GET.get("by", "imd_quintile")
    if dimension not in measures.DIMENSIONS:
        dimension = "imd_quintile"
    record_by(
        me,
        f"view_{page}",
        reason=page.replace("_", " "),
        detail={"by": dimension, "planning": planning},
    )
    return MeasuresScope(me, planning, dimension, None if planning else me.teams_by_name)


@requires(Permission.VIEW_TEAM_MEASURES)
def team_measures(request: HttpRequest) -> HttpResponse:
    scope = measures_scope(request, "team_measures")
    planning, dimension = scope.planning, scope.dimension
    table = measures.table(scope.teams, dimension, disclosure_control=planning)
    return render(
        request,
        "plans/measures.html",
        {
            "table": table,
            "dimension": dimension,
            "dimensions": measures.DIMENSIONS,
            "planning": planning,
            "measures": measures.MEASURES,
        },
    )
