"""The personalised care pages, as a coordinator, a social worker of another organisation,
a clinician and the single point of access use them: each form says what is wrong and
where, each page is audited, and nobody outside the care relationship sees a thing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from neighbourhood.care.audit.models import AuditEvent
from neighbourhood.care.caseload import actions as caseload
from neighbourhood.care.plans.models import AdvanceCarePlan, Assessment, CarePlan, Task, WhatMatters
from neighbourhood.care.roles import Role
from tests.support import factories
from tests.support.people import listed

pytestmark = pytest.mark.django_db
DUE = (dt.date.today() + dt.timedelta(days=10)).isoformat()


def _client(professional: Any) -> Client:
    client = Client()
    client.force_login(professional.user)
    return client


@pytest.fixture
def team_and_person(published_dir: Path) -> dict[str, Any]:
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    social = factories.professional("social")
    social.organisation = factories.OrganisationFactory(ods_code="ZLA1", name="Ashcombe Council")
    social.save()
    factories.MembershipFactory(team=team, professional=social, kind="extended")
    doctor = factories.professional("doctor", role=Role.CLINICIAN, teams=[team])
    spa = factories.professional("spa", role=Role.SPA, teams=[team])
    person = listed(published_dir, "ZU0001")[0]
    caseload.enrol(
        person_id=person["person_id"], team=team, coordinator=nurse, reason="frail", by=nurse
    )
    return {
        "team": team,
        "nurse": nurse,
        "social": social,
        "doctor": doctor,
        "spa": spa,
        "person": person,
    }


def _goal_form(prefix: str = "goal", goals: list[dict[str, Any]] | None = None) -> dict[str, str]:
    goals = goals or []
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(goals)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "30",
    }
    for n, goal in enumerate(goals):
        data |= {f"{prefix}-{n}-{k}": v for k, v in goal.items()}
    return data


def _plan_form(version: int, goals: list[dict[str, Any]], **extra: str) -> dict[str, str]:
    return {
        "version": str(version),
        "about_me": "Retired bus driver",
        "contingency_what": "If breathless, use the rescue pack",
        "contingency_call": "Community matron, 0300 000 0000",
        "consent_share": "yes",
        **_goal_form(goals=goals),
        **extra,
    }


def test_a_plan_is_written_used_and_changed_through_its_pages(
    team_and_person: dict[str, Any],
) -> None:
    nurse, social = team_and_person["nurse"], team_and_person["social"]
    pid = team_and_person["person"]["person_id"]
    coordinator = _client(nurse)
    page = coordinator.get(reverse("care-plan", args=[pid]))
    assert page.status_code == 200 and b"No care and support plan yet" in page.content
    # What matters: a blank form says what is wrong, and where.
    blank = coordinator.post(
        reverse("what-matters", args=[pid]), {"text": " ", "said_by": "person"}
    )
    assert blank.status_code == 200 and b"in their own words" in blank.content
    assert b'href="#id_text"' in blank.content
    coordinator.post(
        reverse("what-matters", args=[pid]),
        {"text": "Getting to church on Sunday", "said_by": "person"},
    )
    assert WhatMatters.objects.get(person_id=pid).text == "Getting to church on Sunday"
    # An assessment: started, saved part-done, finished.
    started = coordinator.post(
        reverse("assessment-new", args=[pid]),
        {"questionnaire": "comprehensive-geriatric-assessment"},
    )
    assessment = Assessment.objects.get(person_id=pid)
    assert started["Location"] == reverse("assessment", args=[pid, assessment.pk])
    form = coordinator.get(started["Location"])
    assert b"fallen in the last 12 months" in form.content and b'type="radio"' in form.content
    coordinator.post(started["Location"], {"version": "1", "physical.falls": "yes", "save": "1"})
    refused = coordinator.post(
        started["Location"], {"version": "2", "physical.falls": "yes", "finish": "1"}
    )
    assert b"still to answer" in refused.content and b"nhsuk-error-message" in refused.content
    assert Assessment.objects.get(pk=assessment.pk).status == "in-progress"
    # The plan, with a goal; then an action for the social worker of another organisation.
    edit = coordinator.get(reverse("care-plan-edit", args=[pid]))
    assert b"Getting to church on Sunday" in edit.content
    missing = coordinator.post(
        reverse("care-plan-edit", args=[pid]), {**_plan_form(0, []), "contingency_what": ""}
    )
    assert b"Say what to do when things go wrong" in missing.content
    assert not CarePlan.objects.filter(person_id=pid).exists()
    saved = coordinator.post(
        reverse("care-plan-edit", args=[pid]),
        {
            **_plan_form(
                0, [{"text": "Get to church", "lifecycle": "active", "achievement": "in-progress"}]
            ),
            "people": [str(social.pk), str(nurse.pk)],
        },
    )
    assert saved.status_code == 302
    plan = CarePlan.objects.get(person_id=pid)
    assert plan.current().content["what_matters"] == "Getting to church on Sunday"
    assert [(p["id"], p["kind"]) for p in plan.current().content["people"]] == [
        (nurse.pk, "core"),
        (social.pk, "extended"),
    ]
    added = coordinator.post(
        reverse("task-new", args=[pid]),
        {
            "description": "Blue badge application",
            "goal": "G1",
            "owner": str(social.pk),
            "due": DUE,
        },
    )
    assert added.status_code == 302
    task = Task.objects.get(person_id=pid)
    # The social worker sees it in My tasks, and completes it.
    worker = _client(social)
    mine = worker.get(reverse("my-tasks"))
    assert b"Blue badge application" in mine.content
    assert (
        worker.post(
            reverse("task", args=[task.pk]), {"version": "1", "status": "accepted"}
        ).status_code
        == 302
    )
    assert (
        worker.post(
            reverse("task", args=[task.pk]), {"version": "2", "status": "completed"}
        ).status_code
        == 302
    )
    assert Task.objects.get(pk=task.pk).status == "completed"
    # A stale form meets a conflict, not an overwrite.
    stale = worker.post(reverse("task", args=[task.pk]), {"version": "1", "status": "accepted"})
    assert b"Someone else changed this task" in stale.content
    # Versions and the copy for the person.
    second = coordinator.post(
        reverse("care-plan-edit", args=[pid]),
        _plan_form(
            1,
            [
                {
                    "id": "G1",
                    "text": "Get to church",
                    "lifecycle": "active",
                    "achievement": "improving",
                }
            ],
            change_note="better",
        ),
    )
    assert second.status_code == 302
    versions = coordinator.get(reverse("care-plan-versions", args=[pid]))
    assert b"Improving" in versions.content or b"improving" in versions.content
    copy = coordinator.get(reverse("care-plan-copy", args=[pid]))
    assert b"My care and support plan" in copy.content and b"Blue badge" not in copy.content  # done
    assert b"frail" not in copy.content  # the enrolment's internal reason is not in it
    worklist = coordinator.get(reverse("worklist"))
    assert worklist.status_code == 200
    actions = set(AuditEvent.objects.filter(person_id=pid).values_list("action", flat=True))
    assert {
        "view_care_plan",
        "record_what_matters",
        "start_assessment",
        "save_assessment",
        "save_care_plan",
        "add_task",
        "update_task",
        "view_care_plan_versions",
        "view_care_plan_copy",
        "view_care_plan_edit_form",
    } <= actions


def test_reconciling_open_tasks_through_the_page(team_and_person: dict[str, Any]) -> None:
    nurse, social = team_and_person["nurse"], team_and_person["social"]
    pid = team_and_person["person"]["person_id"]
    client = _client(nurse)
    client.post(
        reverse("care-plan-edit", args=[pid]),
        _plan_form(
            0, [{"text": "Walk to the shop", "lifecycle": "active", "achievement": "in-progress"}]
        ),
    )
    client.post(
        reverse("task-new", args=[pid]),
        {"description": "Walking frame", "goal": "G1", "owner": str(social.pk), "due": DUE},
    )
    task = Task.objects.get(person_id=pid)
    removed = _plan_form(
        1,
        [
            {
                "id": "G1",
                "text": "Walk to the shop",
                "remove": "on",
                "lifecycle": "active",
                "achievement": "in-progress",
            }
        ],
    )
    asked = client.post(reverse("care-plan-edit", args=[pid]), removed)
    assert (
        asked.status_code == 200
        and b"Open tasks serve goals you changed or removed" in asked.content
    )
    assert b"Walking frame" in asked.content and CarePlan.objects.get(person_id=pid).version == 1
    no_reason = client.post(
        reverse("care-plan-edit", args=[pid]),
        {**removed, "reconciling": "1", f"task-{task.pk}": "cancel"},
    )
    assert b"Say why the task is cancelled" in no_reason.content
    done = client.post(
        reverse("care-plan-edit", args=[pid]),
        {
            **removed,
            "reconciling": "1",
            f"task-{task.pk}": "cancel",
            f"task-{task.pk}-reason": "no longer wanted",
        },
    )
    assert done.status_code == 302
    assert CarePlan.objects.get(person_id=pid).version == 2
    assert Task.objects.get(pk=task.pk).status == "cancelled"


def test_the_advance_care_plan_cpr_only_by_a_clinician_and_first_for_the_spa(
    team_and_person: dict[str, Any],
) -> None:
    pid = team_and_person["person"]["person_id"]
    base = {
        "focus": "comfort",
        "what_matters_most": "Being at home",
        "capacity": "has",
        "preferred_place_of_death": "Home",
    }
    nurse_page = _client(team_and_person["nurse"]).get(reverse("advance-care-plan-new", args=[pid]))
    assert (
        b'name="cpr"' not in nurse_page.content
        and b"Only a clinician records" in nurse_page.content
    )
    doctor = _client(team_and_person["doctor"])
    refused = doctor.post(
        reverse("advance-care-plan-new", args=[pid]), {**base, "cpr": "do_not_attempt"}
    )
    assert b"registration number" in refused.content and not AdvanceCarePlan.objects.exists()
    doctor.post(
        reverse("advance-care-plan-new", args=[pid]),
        {**base, "cpr": "do_not_attempt", "cpr_registration": "GMC 1234567"},
    )
    # A nurse's new version keeps the clinician's recommendation, under the clinician's name.
    _client(team_and_person["nurse"]).post(
        reverse("advance-care-plan-new", args=[pid]),
        {**base, "preferred_place_of_death": "Hospice"},
    )
    current = AdvanceCarePlan.objects.get(person_id=pid, superseded_at__isnull=True)
    assert (current.number, current.cpr, current.cpr_clinician, current.cpr_registration) == (
        2,
        "do_not_attempt",
        team_and_person["doctor"],
        "GMC 1234567",
    )
    profile = _client(team_and_person["spa"]).get(reverse("profile", args=[pid])).content.decode()
    assert (
        profile.index("Advance care plan (ReSPECT)")
        < profile.index("What matters to me")
        < profile.index("Care coordination")
    )
    assert "CPR attempts not recommended" in profile


def test_outsiders_see_nothing_and_are_recorded(team_and_person: dict[str, Any]) -> None:
    pid = team_and_person["person"]["person_id"]
    nurse = team_and_person["nurse"]
    client = _client(nurse)
    client.post(
        reverse("care-plan-edit", args=[pid]),
        _plan_form(0, [{"text": "Stay well", "lifecycle": "active", "achievement": "in-progress"}]),
    )
    client.post(
        reverse("task-new", args=[pid]),
        {"description": "Check-in call", "goal": "G1", "owner": str(nurse.pk), "due": DUE},
    )
    task = Task.objects.get(person_id=pid)
    outsider = _client(factories.professional("outsider", teams=[factories.team("ZU0002")]))
    for name in ("care-plan", "care-plan-versions", "care-plan-copy", "advance-care-plan"):
        response = outsider.get(reverse(name, args=[pid]))
        assert response.status_code == 403, name
        assert team_and_person["person"]["family_name"].encode() not in response.content
    for name in ("care-plan-edit", "what-matters", "task-new", "advance-care-plan-new"):
        assert outsider.get(reverse(name, args=[pid])).status_code == 403, name
    assert outsider.get(reverse("task", args=[task.pk])).status_code == 404
    assert outsider.get(reverse("task", args=[task.pk + 1000])).status_code == 404
    refused = set(AuditEvent.objects.filter(actor="outsider").values_list("action", flat=True))
    assert {"refused_care_plan", "refused_care_plan_edit", "refused_task"} <= refused


def test_team_measures_for_the_team_and_disclosure_controlled_for_planning(
    team_and_person: dict[str, Any],
) -> None:
    pid = team_and_person["person"]["person_id"]
    _client(team_and_person["nurse"]).post(
        reverse("what-matters", args=[pid]), {"text": "My dog", "said_by": "person"}
    )
    own = _client(team_and_person["nurse"]).get(reverse("team-measures") + "?by=sex")
    rows = own.context["table"]
    assert sum(r["caseload"] for r in rows) == 1
    assert sum(r["what_matters"][0] for r in rows) == 1 and sum(r["plan"][0] for r in rows) == 0
    analyst = _client(factories.professional("analyst", role=Role.ANALYST))
    planning = analyst.get(reverse("team-measures") + "?by=nonsense")
    assert planning.status_code == 200 and planning.context["dimension"] == "imd_quintile"
    assert [r["caseload"] for r in planning.context["table"]] == [None]  # 1 person: suppressed
    assert team_and_person["person"]["family_name"].encode() not in planning.content


def test_my_tasks_come_a_page_at_a_time_most_urgent_first(team_and_person: dict[str, Any]) -> None:
    from neighbourhood.care.plans import actions

    nurse, pid = team_and_person["nurse"], team_and_person["person"]["person_id"]
    plan = actions.save_plan(person_id=pid, version=0, content={"goals": [{"text": "x"}]}, by=nurse)
    today = dt.date.today()
    for n in range(30):
        actions.add_task(
            plan=plan,
            goal_id="G1",
            description=f"call {n:02d}",
            due=today + dt.timedelta(days=30 - n),
            by=nurse,
            owner=nurse,
        )
    client = _client(nurse)
    first = client.get(reverse("my-tasks"))
    shown = [t.description for t, _ in first.context["rows"]]
    assert shown == [f"call {n:02d}" for n in range(29, 4, -1)]  # the soonest due first
    assert first.context["page"].has_next() and b"Next page" in first.content
    second = client.get(reverse("my-tasks") + "?page=2")
    assert [t.description for t, _ in second.context["rows"]] == [
        f"call {n:02d}" for n in range(4, -1, -1)
    ]
    assert not second.context["page"].has_next() and b"Previous page" in second.content
    # A page beyond the last, or not a number, shows the nearest page, as the audit pages do.
    assert client.get(reverse("my-tasks") + "?page=99").context["page"].number == 2
    assert client.get(reverse("my-tasks") + "?page=²").context["page"].number == 1
