"""The demonstration's living caseload: a new user signs in to real work in every state."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from neighbourhood.care.audit.chain import verify
from neighbourhood.care.caseload.models import Enrolment
from neighbourhood.care.plans.models import AdvanceCarePlan, Assessment, CarePlan, Task
from neighbourhood.care.teams.demo import setup_demo
from neighbourhood.care.teams.models import Professional

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_work_in_every_state_once() -> None:
    setup_demo()
    coordinator = Professional.objects.get(user__username="coordinator")
    today = dt.date.today()
    enrolled = list(Enrolment.objects.filter(care_coordinator=coordinator, ended_at__isnull=True))
    assert len(enrolled) >= 10
    statuses = set(Task.objects.filter(kind="action").values_list("status", flat=True))
    assert statuses == {
        "requested",
        "accepted",
        "in-progress",
        "completed",
        "rejected",
        "cancelled",
    }
    assert Task.objects.filter(kind="action", status="requested", due__lt=today).exists()
    assert Task.objects.filter(owner__isnull=True, owner_team__isnull=False).exists()
    owners = set(Task.objects.values_list("owner__organisation", flat=True)) - {None}
    assert len(owners) >= 2  # professionals of more than one organisation
    assert CarePlan.objects.filter(review_due__lt=today).exists()
    assert Task.objects.filter(kind="review").count() >= 1
    assert Assessment.objects.filter(status="in-progress").exists()
    assert AdvanceCarePlan.objects.filter(cpr="do_not_attempt").exists()
    planned = set(CarePlan.objects.values_list("person_id", flat=True))
    assert any(e.person_id not in planned for e in enrolled)  # waiting for a plan
    assert verify().intact  # written through the actions, each on the trail
    again = Task.objects.count()
    setup_demo()  # a second run keeps the caseload it made
    assert Task.objects.count() == again
    # The coordinator's home page is the worklist, with each kind of work on it.
    client = Client()
    client.force_login(coordinator.user)
    home = client.get(reverse("home"), follow=True)
    assert home.request["PATH_INFO"] == reverse("worklist")
    context = home.context
    assert context["reviews_due"] and context["tasks"] and context["waiting"] and context["raised"]


def test_the_demo_seeds_meetings_referrals_and_the_voluntary_sector() -> None:
    from neighbourhood.care.meetings.models import Meeting, PracticeMessage
    from neighbourhood.care.referrals.models import Referral, Service, Wellbeing

    setup_demo()
    kinds = set(Service.objects.values_list("kind", flat=True))
    assert {"home_based", "bed_based", "reablement", "social_prescribing", "vcfse"} <= kinds
    statuses = set(Referral.objects.values_list("status", flat=True))
    assert {"requested", "accepted", "cancelled"} <= statuses
    assert Referral.objects.filter(pathway="step-down", discharge_pathway=2, home_first=False)
    assert Referral.objects.filter(code="871711000000103").exists()  # declined, coded
    assert Wellbeing.objects.filter(when="before").exists()
    closed, upcoming = Meeting.objects.order_by("starts_at")
    assert closed.status == "closed" and upcoming.status == "scheduled"
    assert upcoming.items.exists()
    clinician = Professional.objects.get(user__username="clinician")
    assert PracticeMessage.objects.filter(practice=clinician.organisation).exists()
    # Each role starts where its work is; the voluntary sector worker sees one referral.
    for username, page in [("vcfse", "referrals"), ("link-worker", "referrals")]:
        client = Client()
        client.force_login(Professional.objects.get(user__username=username).user)
        home = client.get(reverse("home"), follow=True)
        assert home.request["PATH_INFO"] == reverse(page), username
    vcfse = Professional.objects.get(user__username="vcfse")
    waiting = Referral.objects.filter(service__organisation=vcfse.organisation, status="requested")
    assert waiting.count() == 1 and waiting.get().parent is not None
    client = Client()
    client.force_login(clinician.user)
    inbox = client.get(reverse("practice-inbox"))
    assert inbox.status_code == 200 and b"Decided: " in inbox.content
    agenda = client.get(reverse("meeting", args=[closed.pk]))
    assert b"Discussed" in agenda.content and b"Ann Lee" in agenda.content  # a guest came
    following = client.get(reverse("meeting", args=[upcoming.pk]))
    assert b"Not done: overdue" in following.content and b"Done on time" in following.content


def test_the_demo_seeds_a_mornings_queue_a_board_and_the_wards() -> None:
    from neighbourhood.care.urgent.models import Call, Observation, Response, Stay, Ward

    setup_demo()
    assert set(Call.objects.values_list("status", flat=True)) == {"waiting", "triaging", "done"}
    assert Call.objects.filter(status="waiting").count() == 4
    assert {"waiting", "on_the_way", "visited", "closed"} <= set(
        Response.objects.values_list("status", flat=True)
    )
    late = Response.objects.exclude(late_reason="")
    assert late.exists() and all(r.on_time() is False for r in late)
    assert Call.objects.filter(outcome="convey", need="fall").exclude(convey_reason="").exists()
    assert sorted(Ward.objects.values_list("pathway", flat=True)) == [
        "frailty",
        "heart_failure",
        "respiratory",
    ]
    assert set(Stay.objects.values_list("route", flat=True)) == {"step-up", "step-down"}
    assert Observation.objects.filter(risk="high").exists()
    # The single point of access starts at its queue; history is not "triaged lately".
    spa = Professional.objects.get(user__username="spa")
    client = Client()
    client.force_login(spa.user)
    home = client.get(reverse("home"), follow=True)
    assert home.request["PATH_INFO"] == reverse("urgent-queue")
    assert home.content.count(b">Waiting</strong>") == 4
    assert home.content.count(b"Being triaged by Sam Brennan") == 1
    from django.utils import timezone

    four_hours_ago = timezone.now() - dt.timedelta(hours=4)
    assert Call.objects.filter(triaged_at__lt=four_hours_ago).count() == 39  # two weeks behind
    setup_demo()  # a second run keeps the queue it made
    assert Call.objects.count() == 39 + 12
