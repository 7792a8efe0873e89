"""Personalised care records: assessments, what matters, the versioned plan and its
reconciliation of tasks, tasks across organisations, the advance care plan, and reviews
raised by the published refresh."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from neighbourhood.care.audit.models import AuditEvent
from neighbourhood.care.caseload import actions as caseload
from neighbourhood.care.plans import actions, reviews
from neighbourhood.care.plans.models import (
    AdvanceCarePlan,
    CarePlan,
    CarePlanVersion,
    Task,
    TaskStatus,
)
from neighbourhood.care.plans.questionnaires import shipped
from neighbourhood.care.roles import Role
from tests.support import factories
from tests.support.concurrency import writers_at_once
from tests.support.people import admitted as _admitted

pytestmark = pytest.mark.django_db
FUTURE = dt.date.today() + dt.timedelta(days=30)


def _team_of_two() -> tuple[Any, Any, Any]:
    """A team with a community nurse (core) and a social worker of another organisation
    (extended), and a person in its caseload."""
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    social = factories.professional("social", teams=[])
    social.organisation = factories.OrganisationFactory(ods_code="ZLA1", name="Council")
    social.save()
    factories.MembershipFactory(team=team, professional=social, kind="extended")
    caseload.enrol(person_id="P1", team=team, coordinator=nurse, reason="frail", by=nurse)
    return team, nurse, social


def _plan(nurse: Any, goals: list[dict[str, Any]], version: int = 0, **kw: Any) -> CarePlan:
    content = {"about_me": "Retired teacher", "goals": goals, **kw.pop("content", {})}
    return actions.save_plan(person_id="P1", version=version, content=content, by=nurse, **kw)


def test_the_shipped_questionnaires_are_fhir_with_a_version_and_a_source() -> None:
    found = shipped()
    assert set(found) == {"comprehensive-geriatric-assessment", "carers-needs-assessment"}
    cga = found["comprehensive-geriatric-assessment"]
    assert cga.version == "1.0.0" and "British Geriatrics Society" in cga.copyright
    assert [d.title for d in cga.domains] == [
        "Physical health",
        "Function",
        "Social and environmental",
        "Psychological and cognitive",
        "Medicines review",
        "Summary",
    ]


def test_an_assessment_saved_part_done_is_finished_by_another_professional() -> None:
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    _, nurse, social = _team_of_two()
    cga = shipped()["comprehensive-geriatric-assessment"]
    started = actions.start_assessment("P1", cga, nurse)
    part = actions.save_assessment(
        assessment_id=started.pk,
        version=1,
        questionnaire=cga,
        answers={"physical.falls": "yes", "medicines.count": "10+", "not.a.question": "x"},
        finish=False,
        by=nurse,
    )
    assert part.status == "in-progress" and part.version == 2
    assert part.answers == {"physical.falls": "yes", "medicines.count": "10+"}
    assert [p["text"] for p in part.problems] == [
        "Falls in the last year",
        "Polypharmacy: structured medication review",
    ]
    with pytest.raises(actions.PlanError, match="still to answer") as missing:
        actions.save_assessment(
            assessment_id=started.pk,
            version=2,
            questionnaire=cga,
            answers=part.answers,
            finish=True,
            by=social,
        )
    assert missing.value.field == "physical.pain"
    answers = {q: "no" for q, question in cga.questions.items() if question.kind == "choice"}
    answers |= {"physical.falls": "yes", "functional.mobility": "aid", "medicines.count": "5-9"}
    done = actions.save_assessment(
        assessment_id=started.pk,
        version=2,
        questionnaire=cga,
        answers=answers,
        finish=True,
        by=social,
    )
    assert done.status == "completed" and done.updated_by == social and done.started_by == nurse
    assert [p["text"] for p in done.problems] == ["Falls in the last year"]
    response = cga.response(done.pk, "P1", done.status, done.answers, "2026-12-04")
    QuestionnaireResponse.model_validate(response)  # a FHIR R4 QuestionnaireResponse
    with pytest.raises(actions.PlanError, match="finished: start a new one"):
        actions.save_assessment(
            assessment_id=started.pk,
            version=3,
            questionnaire=cga,
            answers={},
            finish=False,
            by=nurse,
        )
    other = actions.start_assessment("P1", cga, nurse)
    with pytest.raises(actions.Conflict, match="saved version 1 of this assessment"):
        actions.save_assessment(
            assessment_id=other.pk, version=0, questionnaire=cga, answers={}, finish=False, by=nurse
        )


def test_writing_needs_the_person_in_ones_teams_caseload() -> None:
    _team_of_two()
    outsider = factories.professional("outsider", teams=[factories.team("ZU0002")])
    with pytest.raises(actions.PlanError, match="not in your teams' caseload"):
        actions.record_what_matters("P1", "My garden", "person", outsider)
    with pytest.raises(actions.PlanError, match="not in your teams' caseload"):
        actions.save_plan(person_id="P1", version=0, content={"goals": []}, by=outsider)


def test_every_plan_change_is_a_new_version_with_who_and_what() -> None:
    _, nurse, social = _team_of_two()
    first = _plan(nurse, [{"text": "Walk to the shop", "target": "twice a week"}])
    assert first.version == 1
    goal = first.current().goals[0]
    assert goal["id"] == "G1" and goal["lifecycle"] == "active"
    second = actions.save_plan(
        person_id="P1",
        version=1,
        content={
            "about_me": "Retired teacher, lives with her husband",
            "goals": [goal, {"text": "Sleep through the night"}],
        },
        by=social,
        note="after the home visit",
    )
    assert second.version == 2
    versions = list(CarePlanVersion.objects.filter(plan=second).order_by("number"))
    assert [(v.number, v.changed_by.pk) for v in versions] == [(1, nurse.pk), (2, social.pk)]
    assert versions[0].content["about_me"] == "Retired teacher"  # nothing overwritten
    assert [g["id"] for g in versions[1].goals] == ["G1", "G2"]
    assert actions.diff(versions[0].content, versions[1].content) == [
        ("About me", "Retired teacher", "Retired teacher, lives with her husband"),
        ("Goal G2", "", "Sleep through the night | Active, in progress"),
    ]
    with pytest.raises(actions.Conflict, match="saved version 2") as conflict:
        actions.save_plan(person_id="P1", version=1, content={"goals": []}, by=nurse)
    assert conflict.value.changes[0].startswith("About me: 'Retired teacher' became")
    assert CarePlanVersion.objects.filter(plan=second).count() == 2
    assert AuditEvent.objects.filter(action="save_care_plan", person_id="P1").count() == 2


def test_a_goal_removed_or_changed_asks_for_each_open_task_to_be_reconciled() -> None:
    team, nurse, social = _team_of_two()
    plan = _plan(nurse, [{"text": "Walk to the shop"}, {"text": "See my grandson"}])
    walk, visit = plan.current().goals
    physio = actions.add_task(
        plan=plan,
        goal_id=walk["id"],
        description="Physiotherapy",
        due=FUTURE,
        by=nurse,
        owner=nurse,
    )
    rail = actions.add_task(
        plan=plan, goal_id=walk["id"], description="Grab rail", due=FUTURE, by=nurse, owner=social
    )
    transport = actions.add_task(
        plan=plan,
        goal_id=visit["id"],
        description="Transport",
        due=FUTURE,
        by=nurse,
        owner_team=team,
    )
    changed = [{**walk, "text": "Walk to the park"}]  # the visit goal is removed
    assert [t.pk for t in actions.tasks_to_reconcile(plan, changed)] == [
        physio.pk,
        rail.pk,
        transport.pk,
    ]
    with pytest.raises(actions.Unreconciled) as asked:
        actions.save_plan(
            person_id="P1",
            version=1,
            content={"goals": changed},
            by=nurse,
            decisions={physio.pk: actions.Decision("keep")},
        )
    assert [t.pk for t in asked.value.tasks] == [rail.pk, transport.pk]
    assert CarePlan.objects.get(pk=plan.pk).version == 1  # nothing saved

    def decided(reason: str) -> dict[int, actions.Decision]:
        return {
            physio.pk: actions.Decision("keep"),
            rail.pk: actions.Decision("reassign", owner=nurse),
            transport.pk: actions.Decision("cancel", reason=reason),
        }

    with pytest.raises(actions.Unreconciled):  # a cancel needs a reason
        actions.save_plan(
            person_id="P1", version=1, content={"goals": changed}, by=nurse, decisions=decided(" ")
        )
    saved = actions.save_plan(
        person_id="P1",
        version=1,
        content={"goals": changed},
        by=nurse,
        decisions=decided("goal no longer wanted"),
    )
    assert saved.version == 2
    physio.refresh_from_db(), rail.refresh_from_db(), transport.refresh_from_db()
    assert (physio.status, physio.owner_id) == (TaskStatus.REQUESTED, nurse.pk)
    assert (rail.status, rail.owner_id, rail.version) == (TaskStatus.REQUESTED, nurse.pk, 2)
    assert (transport.status, transport.status_reason) == ("cancelled", "goal no longer wanted")
    event = AuditEvent.objects.filter(action="save_care_plan").order_by("-seq").first()
    assert event is not None and event.detail["reconciled"] == {
        str(physio.pk): "keep",
        str(rail.pk): "reassign",
        str(transport.pk): "cancel",
    }
    # An achievement change alone leaves the tasks as they are.
    now = saved.current().goals
    again = actions.save_plan(
        person_id="P1",
        version=2,
        content={"goals": [{**now[0], "achievement": "improving"}]},
        by=nurse,
    )
    assert again.version == 3


def test_a_task_moves_through_its_statuses_by_its_owner_only() -> None:
    team, nurse, social = _team_of_two()
    plan = _plan(nurse, [{"text": "Stay at home"}])
    task = actions.add_task(
        plan=plan,
        goal_id="G1",
        description="Care needs assessment",
        due=FUTURE,
        by=nurse,
        owner=social,
    )
    with pytest.raises(actions.PlanError, match="Only the task's owner"):
        actions.move_task(task_id=task.pk, version=1, status="accepted", reason="", by=nurse)
    with pytest.raises(actions.PlanError, match="Give a reason"):
        actions.move_task(task_id=task.pk, version=1, status="rejected", reason="", by=social)
    accepted = actions.move_task(
        task_id=task.pk, version=1, status="accepted", reason="", by=social
    )
    with pytest.raises(actions.PlanError, match="cannot become requested"):
        actions.move_task(task_id=task.pk, version=2, status="requested", reason="", by=social)
    with pytest.raises(actions.Conflict):
        actions.move_task(task_id=task.pk, version=1, status="completed", reason="", by=social)
    done = actions.move_task(
        task_id=task.pk, version=accepted.version, status="completed", reason="", by=social
    )
    assert done.status == "completed" and done.version == 3
    with pytest.raises(actions.PlanError, match="not in the core or extended team"):
        actions.add_task(
            plan=plan,
            goal_id="G1",
            description="x",
            due=FUTURE,
            by=nurse,
            owner=factories.professional("stranger"),
        )
    with pytest.raises(actions.PlanError, match="in the past"):
        actions.add_task(
            plan=plan, goal_id="G1", description="x", due=dt.date(2020, 1, 1), by=nurse, owner=nurse
        )
    # The database holds the rules too: an owner, and a reason to end.
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(
            person_id="P1", plan=plan, description="x", due=FUTURE, requested_by=nurse
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(pk=task.pk).update(status="cancelled", status_reason="")
    assert team.pk == plan.team_id


def test_only_a_registered_clinician_records_a_cpr_recommendation() -> None:
    team, nurse, _ = _team_of_two()
    doctor = factories.professional("doctor", role=Role.CLINICIAN, teams=[team])
    fields = {
        "focus": AdvanceCarePlan.Focus.COMFORT,
        "what_matters_most": "Being at home with my cat",
        "capacity": AdvanceCarePlan.Capacity.HAS,
        "preferred_place_of_death": "Home",
        "cpr": AdvanceCarePlan.CPR.DO_NOT_ATTEMPT,
        "cpr_registration": "",
    }
    with pytest.raises(actions.PlanError, match="Only a clinician"):
        actions.record_advance_care_plan(person_id="P1", fields=fields, by=nurse)
    with pytest.raises(actions.PlanError, match="registration number"):
        actions.record_advance_care_plan(person_id="P1", fields=fields, by=doctor)
    first = actions.record_advance_care_plan(
        person_id="P1", fields={**fields, "cpr_registration": "GMC 7654321"}, by=doctor
    )
    assert (first.number, first.cpr_clinician, first.cpr_registration) == (1, doctor, "GMC 7654321")
    second = actions.record_advance_care_plan(
        person_id="P1",
        fields={**fields, "cpr": "", "preferred_place_of_death": "Hospice"},
        by=nurse,
    )
    first.refresh_from_db()
    assert first.superseded_at is not None and second.superseded_at is None and second.number == 2
    assert AdvanceCarePlan.objects.filter(person_id="P1").count() == 2  # the old stays readable
    with pytest.raises(IntegrityError), transaction.atomic():  # and the database says so too
        AdvanceCarePlan.objects.filter(pk=first.pk).update(superseded_at=None)
    review = actions.review_advance_care_plan(plan=second, note="No change", by=nurse)
    assert list(second.reviews.all()) == [review]


def test_review_interval_by_cohort_and_configuration(settings: Any) -> None:
    today = dt.date(2026, 1, 31)
    assert reviews.next_review({}, today) == dt.date(2027, 1, 31)
    assert reviews.next_review({"cohort_palliative": True, "frailty": "severe"}, today) == dt.date(
        2026, 4, 30
    )
    assert reviews.next_review({"frailty": "severe"}, today) == dt.date(2026, 7, 31)
    settings.REVIEW_MONTHS = {"severe_frailty": 2}
    assert reviews.interval({"frailty": "severe"}) == (2, "severe frailty")
    from neighbourhood.care.plans.rules import parse_months
    from neighbourhood.errors import UserError

    assert parse_months(" palliative=1, default=24 ") == {"palliative": 1, "default": 24}
    for bad in ("palliative=0", "frail=3", "default=x", "default"):
        with pytest.raises(UserError, match="NEIGHBOURHOOD_REVIEW_MONTHS"):
            parse_months(bad)


def test_a_new_refresh_raises_a_review_for_events_since_the_last(published_dir: Path) -> None:
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    person, admitted = _admitted(published_dir)
    caseload.enrol(person_id=person, team=team, coordinator=nurse, reason="frail", by=nurse)
    plan = actions.save_plan(person_id=person, version=0, content={"goals": []}, by=nurse)
    assert reviews.raise_reviews() == 0  # reviewed today: nothing has happened since
    CarePlan.objects.filter(pk=plan.pk).update(
        last_reviewed=admitted - dt.timedelta(days=1),
        baseline={"frailty": "fit", "conditions": []},
    )
    assert reviews.raise_reviews() == 1  # one review, naming what happened
    task = Task.objects.get(plan=plan, kind="review")
    keys = set(plan.raised.values_list("key", flat=True))
    assert f"emergency_admission:{admitted.isoformat()}" in keys
    assert "frailty:fit" not in keys and all(
        k.split(":")[0] in ("emergency_admission", "ed_attendance", "frailty", "condition")
        for k in keys
    )
    assert task.description.startswith("Review the plan: ") and task.owner_id == nurse.pk
    named = task.description.removeprefix("Review the plan: ").split("; ")
    assert len(named) == min(len(keys), reviews.SHOWN) + (len(keys) > reviews.SHOWN)
    assert reviews.raise_reviews() == 0  # each event raises one review, once
    # The review itself closes them, and moves the baseline on.
    reviewed = actions.save_plan(
        person_id=person, version=1, content={"goals": []}, by=nurse, reviewed=True
    )
    assert not Task.objects.filter(plan=plan, status__in=["requested", "accepted"]).exists()
    assert reviewed.last_reviewed == dt.date.today() and reviews.raise_reviews() == 0


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_plan_writers_on_postgresql_lose_no_update() -> None:
    assert connection.vendor == "postgresql"
    team = factories.team("ZU0001")
    writers = [factories.professional(f"writer{n}", teams=[team]) for n in range(10)]
    caseload.enrol(person_id="P9", team=team, coordinator=writers[0], reason="frail", by=writers[0])
    actions.save_plan(person_id="P9", version=0, content={"goals": []}, by=writers[0])

    def write(number: int) -> None:
        plan = CarePlan.objects.get(person_id="P9")
        goals = [*plan.current().goals, {"text": f"goal of writer {number}"}]
        actions.save_plan(
            person_id="P9", version=plan.version, content={"goals": goals}, by=writers[number]
        )

    conflicts = writers_at_once(10, write, actions.Conflict)
    plan = CarePlan.objects.get(person_id="P9")
    assert plan.version == 11 and plan.versions.count() == 11
    goals = plan.current().goals
    assert sorted(g["text"] for g in goals) == sorted(f"goal of writer {n}" for n in range(10))
    assert len({g["id"] for g in goals}) == 10
    assert conflicts


def test_the_records_are_fhir_r4_resources() -> None:
    from fhir.resources.R4B.bundle import Bundle

    from neighbourhood.care.plans import fhir

    team, nurse, social = _team_of_two()
    plan = _plan(
        nurse,
        [{"text": "Walk to the shop", "target": "twice a week", "due": FUTURE}],
        content={"what_matters": "My garden", "contingency_what": "Call", "contingency_call": "Me"},
    )
    mine = actions.add_task(
        plan=plan, goal_id="G1", description="Physio", due=FUTURE, by=nurse, owner=social
    )
    theirs = actions.add_task(
        plan=plan, goal_id="", description="Call", due=FUTURE, by=nurse, owner_team=team
    )
    actions.move_task(
        task_id=theirs.pk, version=1, status="cancelled", reason="not needed", by=nurse
    )
    tasks = list(
        Task.objects.filter(plan=plan)
        .select_related("owner__user", "owner__organisation", "owner_team", "requested_by__user")
        .order_by("pk")
    )
    bundle = fhir.care_plan(plan, tasks)
    parsed = Bundle.model_validate(bundle)
    kinds = [e.resource.get_resource_type() for e in parsed.entry]
    assert kinds == ["CarePlan", "CareTeam", "Goal", "Task", "Task"]
    goal, task = bundle["entry"][2]["resource"], bundle["entry"][3]["resource"]
    assert (
        goal["lifecycleStatus"] == "active" and goal["target"][0]["dueDate"] == FUTURE.isoformat()
    )
    assert task["reasonReference"]["reference"] == f"Goal/{goal['id']}"
    assert task["owner"]["display"].startswith("Social Tester") and task["status"] == "requested"
    cancelled = bundle["entry"][4]["resource"]
    assert cancelled["status"] == "cancelled" and cancelled["statusReason"]["text"] == "not needed"
    assert mine.pk == int(task["id"])
