"""Referrals with a closed loop: the directory and its Open Referral UK import, step-up
and step-down with Home First, duplicates refused, the receiving side's moves, the clock
from the log, social prescribing with its SNOMED CT codes and ONS4, and ten writers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from neighbourhood.care.referrals import actions, directory
from neighbourhood.care.referrals.models import (
    SOCIAL_PRESCRIBING_DECLINED,
    SOCIAL_PRESCRIBING_REFERRAL,
    Referral,
    ReferralEvent,
    Service,
)
from neighbourhood.care.roles import Role
from neighbourhood.care.teams.models import Organisation
from neighbourhood.errors import UserError
from tests.support import factories
from tests.support.concurrency import writers_at_once

pytestmark = pytest.mark.django_db
PERSON = {"neighbourhood": "ZU0001", "age": 82}

# The first Open Referral UK profile: a page of services with "eligibilitys".
ORUK_V1 = {
    "totalElements": 2,
    "content": [
        {
            "id": "svc-lunch-club",
            "name": "Thursday Lunch Club",
            "description": "A hot meal and company",
            "status": "active",
            "organization": {"id": "org-1", "name": "Ashcombe Age Friendly"},
            "eligibilitys": [{"eligibility": "older people", "minimum_age": 60}],
            "service_areas": [{"service_area": "Ashcombe North"}],
            "service_taxonomys": [{"taxonomy": {"name": "Social activities", "vocabulary": "x"}}],
            "contacts": [{"name": "Jo", "phones": [{"number": "01632 960001"}]}],
        },
        {
            "id": 17,
            "name": "Home from Hospital Reablement",
            "organization": {"id": "org-2", "name": "Ashcombe Care at Home"},
            "service_taxonomys": [{"taxonomy": {"name": "Reablement"}}],
        },
    ],
}
# The UK profile of HSDS 3: "contents", ages on the service, capacities, organisation by id.
HSDS_3 = {
    "total_items": 1,
    "contents": [
        {
            "id": "ac148810-d857-441c-9679-408f346de14b",
            "name": "Community Counselling",
            "organization_id": "d9d5",
            "eligibility_description": "adults with anxiety or low mood",
            "minimum_age": 18,
            "maximum_age": 100,
            "capacities": [{"available": 3, "maximum": 12}],
            "email": "counselling@example.org",
            "extra": {"a partner's": "own field"},
        }
    ],
    "organizations": [{"id": "d9d5", "name": "Example Wellbeing CIC"}],
}


def _sides() -> tuple[Any, Any, Any, Service]:
    """A team with a nurse who refers, and a reablement service whose worker receives."""
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    receiver = factories.professional("reablement", teams=[])
    provider = factories.OrganisationFactory(ods_code="ZRB1", name="Reablement Ltd")
    receiver.organisation = provider
    receiver.save()
    service = Service.objects.create(
        name="Reablement at home",
        kind="reablement",
        organisation=provider,
        respond_hours=24,
        contact_hours=72,
        catchment=["ZU0001"],
        minimum_age=18,
    )
    return team, nurse, receiver, service


def _refer(nurse: Any, team: Any, service: Service, **kw: Any) -> Referral:
    request = actions.Request(
        service=service,
        pathway=kw.pop("pathway", "step-up"),
        reason=kw.pop("reason", "falls at home"),
        **kw,
    )
    return actions.refer(person_id="P1", person=PERSON, request=request, by=nurse, team=team)


def test_a_referral_closes_its_loop_and_its_clock_comes_from_the_log() -> None:
    team, nurse, receiver, service = _sides()
    made = _refer(nurse, team, service)
    assert made.status == "requested" and made.reference == f"R{made.pk:06d}"
    assert actions.allowed_moves(made, nurse) == ["cancelled"]
    assert actions.allowed_moves(made, receiver) == ["accepted", "rejected", "cancelled"]
    with pytest.raises(actions.PlanError, match="Only the service it was sent to"):
        actions.move(referral_id=made.pk, version=1, status="accepted", reason="", by=nurse)
    accepted = actions.move(
        referral_id=made.pk, version=1, status="accepted", reason="", by=receiver
    )
    with pytest.raises(actions.Conflict, match="while you were editing"):
        actions.move(referral_id=made.pk, version=1, status="in-progress", reason="", by=receiver)
    started = actions.move(
        referral_id=made.pk, version=accepted.version, status="in-progress", reason="", by=receiver
    )
    # The clock from the log: received 30 hours before the decision, contact 80 after it.
    now = timezone.now()
    log = {e.status or e.kind: e for e in made.events.all()}
    ReferralEvent.objects.filter(pk=log["requested"].pk).update(at=now - dt.timedelta(hours=110))
    ReferralEvent.objects.filter(pk=log["accepted"].pk).update(at=now - dt.timedelta(hours=80))
    clock = actions.clock(Referral.objects.get(pk=made.pk))
    assert clock.to_decision == 30.0 and clock.to_contact == 80.0
    assert clock.met("decision") is False and clock.met("contact") is False
    done = actions.move(
        referral_id=made.pk, version=started.version, status="completed", reason="", by=receiver
    )
    assert done.status == "completed" and not done.is_open
    assert [e.status or e.kind for e in done.events.all()] == [
        "requested",
        "accepted",
        "in-progress",
        "contact",
        "completed",
    ]
    with pytest.raises(actions.PlanError, match="completed cannot become cancelled"):
        actions.move(
            referral_id=made.pk, version=done.version, status="cancelled", reason="x", by=nurse
        )


def test_a_second_open_referral_is_refused_naming_the_first() -> None:
    team, nurse, receiver, service = _sides()
    first = _refer(nurse, team, service)
    with pytest.raises(
        actions.PlanError,
        match=f"{first.reference} to Reablement at home is "
        "already open for this person \\(requested, made by",
    ):
        _refer(nurse, team, service, reason="again")
    with pytest.raises(actions.PlanError, match="Give a reason"):
        actions.move(referral_id=first.pk, version=1, status="rejected", reason=" ", by=receiver)
    actions.move(
        referral_id=first.pk,
        version=1,
        status="rejected",
        reason="Needs nursing, not reablement",
        by=receiver,
    )
    again = _refer(nurse, team, service, reason="now able to take part")
    assert again.pk != first.pk and Referral.objects.filter(person_id="P1").count() == 2


def test_step_down_needs_a_discharge_pathway_and_puts_home_first() -> None:
    team, nurse, _, service = _sides()
    with pytest.raises(actions.PlanError, match="Choose the discharge pathway") as no_pathway:
        _refer(nurse, team, service, pathway="step-down")
    assert no_pathway.value.field == "discharge_pathway"
    with pytest.raises(actions.PlanError, match="Home First"):
        _refer(nurse, team, service, pathway="step-down", discharge_pathway=2)
    with pytest.raises(actions.PlanError, match="pathway 0 or 1"):
        _refer(
            nurse,
            team,
            service,
            pathway="step-down",
            discharge_pathway=2,
            home_first=False,
            not_home_because="needs a bed to rehabilitate",
        )
    with pytest.raises(actions.PlanError, match="only on a step-down"):
        _refer(nurse, team, service, pathway="step-up", discharge_pathway=1)
    made = _refer(nurse, team, service, pathway="step-down", discharge_pathway=1)
    assert (made.pathway, made.discharge_pathway, made.home_first) == ("step-down", 1, True)
    beds = Service.objects.create(
        name="Step-down beds",
        kind="bed_based",
        organisation=service.organisation,
        respond_hours=4,
        contact_hours=24,
    )
    with pytest.raises(actions.PlanError, match="Say why the person cannot go home first"):
        _refer(nurse, team, beds, pathway="step-down", discharge_pathway=2, home_first=False)
    bed = _refer(
        nurse,
        team,
        beds,
        pathway="step-down",
        discharge_pathway=2,
        home_first=False,
        not_home_because="cannot weight-bear yet",
    )
    assert bed.not_home_because == "cannot weight-bear yet"


def test_eligibility_and_catchment_are_checked() -> None:
    team, nurse, _, service = _sides()
    request = actions.Request(service=service, pathway="step-up", reason="falls")
    with pytest.raises(actions.PlanError, match="does not serve this person's neighbourhood"):
        actions.refer(
            person_id="P1",
            person={"neighbourhood": "ZU0002", "age": 80},
            request=request,
            by=nurse,
            team=team,
        )
    with pytest.raises(actions.PlanError, match="takes people aged 18 and over"):
        actions.refer(
            person_id="P1",
            person={"neighbourhood": "ZU0001", "age": 9},
            request=request,
            by=nurse,
            team=team,
        )
    service.active = False
    service.save()
    with pytest.raises(actions.PlanError, match="no longer taking referrals"):
        actions.refer(person_id="P1", person=PERSON, request=request, by=nurse, team=team)


def test_social_prescribing_is_coded_offers_activities_and_measures_wellbeing() -> None:
    team = factories.team("ZU0001")
    gp = factories.professional("gp", role=Role.CLINICIAN, teams=[team])
    link = factories.professional("link", role=Role.LINK_WORKER, teams=[team])
    pcn = link.organisation
    sp = Service.objects.create(
        name="Social prescribing",
        kind="social_prescribing",
        organisation=pcn,
        respond_hours=72,
        contact_hours=336,
    )
    vcfse_org = factories.OrganisationFactory(
        ods_code="ZV011", name="Community Connect", sector="vcfse"
    )
    worker = factories.professional("vcfse", role=Role.VCFSE_WORKER)
    worker.organisation = vcfse_org
    worker.save()
    club = Service.objects.create(
        name="Lunch club",
        kind="vcfse",
        organisation=vcfse_org,
        respond_hours=120,
        contact_hours=336,
        activities=["Lunch club", "Walking group"],
    )
    made = actions.refer(
        person_id="P1",
        person=PERSON,
        by=gp,
        team=team,
        request=actions.Request(
            service=sp,
            pathway="community",
            reason="lonely since bereaved",
            what_matters="seeing people",
            needs="isolation",
        ),
    )
    assert made.code == SOCIAL_PRESCRIBING_REFERRAL[0] == "871731000000106"
    assert made.pathway == "social-prescribing"
    accepted = actions.move(referral_id=made.pk, version=1, status="accepted", reason="", by=link)
    with pytest.raises(actions.PlanError, match="before support first"):
        actions.record_wellbeing(
            referral=accepted,
            when="after",
            by=link,
            scores=dict(life_satisfaction=5, worthwhile=5, happiness=5, anxiety=5),
        )
    actions.record_wellbeing(
        referral=accepted,
        when="before",
        by=link,
        scores=dict(life_satisfaction=3, worthwhile=4, happiness=2, anxiety=8),
    )
    onward = actions.refer(
        person_id="P1",
        person=PERSON,
        by=link,
        team=team,
        parent=accepted,
        request=actions.Request(
            service=club, pathway="community", reason="company", activities=("Lunch club",)
        ),
    )
    assert onward.pathway == "social-prescribing" and onward.parent_id == made.pk
    assert actions.allowed_moves(onward, worker) == ["accepted", "rejected", "cancelled"]
    seen = actions.move(referral_id=onward.pk, version=1, status="accepted", reason="", by=worker)
    came = actions.record_attendance(
        referral_id=onward.pk, version=seen.version, attended=True, on=dt.date.today(), by=worker
    )
    assert came.status == "in-progress"
    assert actions.clock(came).contact is not None
    with pytest.raises(actions.PlanError, match="not before"):
        actions.record_attendance(
            referral_id=onward.pk,
            version=came.version,
            attended=True,
            on=dt.date.today() + dt.timedelta(days=1),
            by=worker,
        )
    # A second person declines: coded as declined, with the reason.
    other = actions.refer(
        person_id="P2",
        person=PERSON,
        by=gp,
        team=team,
        request=actions.Request(service=sp, pathway="community", reason="low mood"),
    )
    declined = actions.move(
        referral_id=other.pk,
        version=1,
        status="cancelled",
        reason="Does not want to join groups",
        by=link,
        declined=True,
    )
    assert declined.code == SOCIAL_PRESCRIBING_DECLINED[0] == "871711000000103"


def test_open_referral_uk_files_of_both_profiles_import_and_bad_ones_import_nothing(
    tmp_path: Path,
) -> None:
    first = tmp_path / "v1.json"
    first.write_text(json.dumps(ORUK_V1))
    made = directory.import_file(first)
    assert (made.created, made.updated, made.organisations) == (2, 0, 2)
    club = Service.objects.get(hsds_id="svc-lunch-club")
    assert (club.kind, club.minimum_age, club.area, club.contact) == (
        "vcfse",
        60,
        "Ashcombe North",
        "01632 960001",
    )
    assert club.activities == ["Social activities"] and club.eligibility == "older people"
    assert Service.objects.get(hsds_id="17").kind == "reablement"
    again = directory.import_file(first)
    assert (again.created, again.updated) == (0, 2)
    third = tmp_path / "v3.json"
    third.write_text(json.dumps(HSDS_3))
    directory.import_file(third, directory.Options(catchment=("ZU0001",)))
    counselling = Service.objects.get(name="Community Counselling")
    assert (counselling.capacity, counselling.maximum_age, counselling.catchment) == (
        12,
        100,
        ["ZU0001"],
    )
    assert counselling.organisation.name == "Example Wellbeing CIC"
    before = Service.objects.count()
    bad = {
        "content": [
            {"id": "a", "name": "Fine", "organization": {"name": "X"}},
            {"id": "b", "organization": {"name": "X"}},
            {"id": "c", "name": "Old", "minimum_age": "ten", "organization": {"name": "X"}},
            {"name": "No id"},
        ]
    }
    broken = tmp_path / "bad.json"
    broken.write_text(json.dumps(bad))
    with pytest.raises(UserError) as refused:
        directory.import_file(broken)
    message = str(refused.value)
    assert message.startswith("nothing was imported: ")
    assert "service 2 (b): has no name" in message
    assert "service 3 (Old): an age must be a whole number, not 'ten'" in message
    assert "service 4 (No id): has no id" in message
    assert Service.objects.count() == before and not Organisation.objects.filter(name="X").exists()
    for text, said in [
        ("{", r"not JSON \(line 1"),
        ('{"a": 1}', "no services found"),
        ("[]", "lists no services"),
    ]:
        broken.write_text(text)
        with pytest.raises(UserError, match=said):
            directory.import_file(broken)
    with pytest.raises(UserError, match="no such file"):
        directory.import_file(tmp_path / "missing.json")
    with pytest.raises(UserError, match="--kind 'beds' is not a kind"):
        directory.import_file(first, directory.Options(kind="beds"))


@pytest.mark.django_db(transaction=True)
def test_ten_writers_on_one_referral_and_ten_referrers_at_once_lose_nothing() -> None:
    assert connection.vendor == "postgresql"
    team, nurse, receiver, service = _sides()
    made = _refer(nurse, team, service)
    actions.move(referral_id=made.pk, version=1, status="accepted", reason="", by=receiver)
    actions.move(referral_id=made.pk, version=2, status="in-progress", reason="", by=receiver)
    today = dt.date.today()

    def attend(number: int) -> None:
        referral = Referral.objects.get(pk=made.pk)
        actions.record_attendance(
            referral_id=made.pk,
            version=referral.version,
            attended=number % 2 == 0,
            on=today,
            by=receiver,
        )

    conflicts = writers_at_once(10, attend, actions.Conflict)
    after = Referral.objects.get(pk=made.pk)
    assert after.version == 13 and conflicts
    kinds = list(after.events.values_list("kind", flat=True))
    assert kinds.count("attended") == 5 and kinds.count("did-not-attend") == 5
    # Ten referrers of one person to one service at once: one referral, nine told of it.
    refused: list[str] = []

    def refer(number: int) -> None:
        try:
            actions.refer(
                person_id="P7",
                person=PERSON,
                by=nurse,
                team=team,
                request=actions.Request(
                    service=service, pathway="step-up", reason=f"writer {number}"
                ),
            )
        except actions.PlanError as error:
            refused.append(str(error))

    writers_at_once(10, refer, actions.Conflict)
    assert Referral.objects.filter(person_id="P7").count() == 1
    assert len(refused) == 9 and all("is already open for this person" in r for r in refused)


def test_a_referral_is_a_fhir_service_request_with_its_task_and_service() -> None:
    from fhir.resources.R4B.bundle import Bundle

    from neighbourhood.care.referrals import fhir

    team, nurse, receiver, service = _sides()
    made = _refer(
        nurse,
        team,
        service,
        pathway="step-down",
        discharge_pathway=1,
        urgent=True,
        what_matters="My dog",
    )
    actions.move(referral_id=made.pk, version=1, status="accepted", reason="", by=receiver)
    started = actions.move(
        referral_id=made.pk, version=2, status="in-progress", reason="", by=receiver
    )
    bundle = fhir.referral_bundle(
        Referral.objects.select_related("service__organisation", "referred_by__user").get(
            pk=started.pk
        )
    )
    parsed = Bundle.model_validate(bundle)
    assert [e.resource.get_resource_type() for e in parsed.entry] == [
        "ServiceRequest",
        "Task",
        "HealthcareService",
    ]
    request, task, offered = (e["resource"] for e in bundle["entry"])
    assert (request["status"], request["priority"], request["intent"]) == (
        "active",
        "urgent",
        "order",
    )
    assert [c["coding"][0]["code"] for c in request["category"]] == ["step-down", "1"]
    assert {"text": "What matters to them: My dog"} in request["note"]
    assert {"text": "Home First"} in request["note"]
    assert task["status"] == "in-progress" and "start" in task["executionPeriod"]
    assert task["focus"]["reference"] == f"ServiceRequest/{made.pk}"
    assert offered["providedBy"]["identifier"]["value"] == "ZRB1"
    # A social prescribing referral carries the national code; declined, the other one.
    link = factories.professional("link", role=Role.LINK_WORKER, teams=[team])
    sp = Service.objects.create(
        name="SP",
        kind="social_prescribing",
        organisation=link.organisation,
        respond_hours=72,
        contact_hours=336,
    )
    coded = actions.refer(
        person_id="P3",
        person=PERSON,
        by=nurse,
        team=team,
        request=actions.Request(service=sp, pathway="community", reason="lonely"),
    )
    ended = actions.move(
        referral_id=coded.pk,
        version=1,
        status="cancelled",
        reason="Not for now",
        by=link,
        declined=True,
    )
    request = fhir.service_request(
        Referral.objects.select_related("service", "referred_by__user").get(pk=ended.pk)
    )
    assert request["code"]["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "871711000000103",
        "display": "Social prescribing declined",
    }
    assert request["status"] == "revoked"


def test_the_measures_count_each_referral_and_action_once_and_control_disclosure() -> None:
    from neighbourhood.care.meetings import actions as meetings
    from neighbourhood.care.meetings.models import AgendaItem, Meeting
    from neighbourhood.care.plans import actions as plans
    from neighbourhood.care.referrals import measures

    team, nurse, receiver, service = _sides()
    taken = _refer(nurse, team, service)
    actions.move(referral_id=taken.pk, version=1, status="accepted", reason="", by=receiver)
    actions.move(referral_id=taken.pk, version=2, status="in-progress", reason="", by=receiver)
    other = actions.refer(
        person_id="P2",
        person=PERSON,
        by=nurse,
        team=team,
        request=actions.Request(
            service=service, pathway="step-down", discharge_pathway=1, reason="home from the ward"
        ),
    )
    actions.move(
        referral_id=other.pk, version=1, status="rejected", reason="Needs nursing", by=receiver
    )
    actions.refer(
        person_id="P3",
        person=PERSON,
        by=nurse,
        team=team,
        send=False,
        request=actions.Request(service=service, pathway="step-up", reason="draft"),
    )
    meeting = Meeting.objects.create(
        team=team, starts_at=timezone.now(), place="x", created_by=nurse
    )
    item = AgendaItem.objects.create(meeting=meeting, person_id="P1", position=1)
    meetings.record_item(
        item_id=item.pk,
        version=1,
        discussion="",
        decisions="review",
        new_actions=[meetings.Action("Call", dt.date.today(), owner=nurse)],
        by=nurse,
    )
    task = item.actions.get().task
    plans.move_task(task_id=task.pk, version=1, status="accepted", reason="", by=nurse)
    plans.move_task(task_id=task.pk, version=2, status="completed", reason="", by=nurse)
    found = measures.tables([team], "sex", disclosure_control=False)
    (row,) = found["rows"]
    assert row["group"] == "Not in the latest refresh"
    assert row["referrals"] == (2, None, None)  # the draft was never sent
    assert row["accepted"] == (1, 50.0, 2) and row["rejected"] == (1, 50.0, 2)
    assert row["contact_on_time"] == (1, 100.0, 1)
    assert (row["step_up"][0], row["step_down"][0], row["pathway_1"][0]) == (1, 1, 1)
    assert row["mdt_done_on_time"] == (1, 100.0, 1)
    (by_service,) = found["services"]
    assert by_service["referrals"] == 2 and by_service["reasons"] == [("Needs nursing", 1)]
    assert by_service["decision_met"] == 100
    planning = measures.tables(None, "sex", disclosure_control=True)
    (row,) = planning["rows"]
    assert row["referrals"] == (None, None, None) and row["accepted"][1] is None
    assert planning["services"][0]["reasons"] == [] and planning["services"][0]["referrals"] is None


def test_the_service_referred_to_reads_the_record_while_the_referral_is_open(
    published_dir: Path,
) -> None:
    from django.test import Client
    from django.urls import reverse

    from tests.support.people import listed

    team, nurse, receiver, service = _sides()
    person = listed(published_dir, "ZU0001")[0]["person_id"]
    client = Client()
    client.force_login(receiver.user)
    profile = reverse("profile", args=[person])
    assert client.get(profile).status_code == 403  # no team, no referral: no record
    made = actions.refer(
        person_id=person,
        person=PERSON,
        by=nurse,
        team=team,
        request=actions.Request(service=service, pathway="step-up", reason="falls"),
    )
    opened = client.get(profile)
    assert opened.status_code == 200
    from neighbourhood.care.audit.models import AuditEvent

    read = AuditEvent.objects.filter(actor="reablement", person_id=person).order_by("-seq").first()
    assert read is not None and read.reason == f"referred to Reablement at home ({made.reference})"
    actions.move(
        referral_id=made.pk, version=1, status="rejected", reason="Not for us", by=receiver
    )
    assert client.get(profile).status_code == 403  # the loop closed: the record with it
