"""Urgent neighbourhood services: a call taken, claimed by one clinician and triaged; an
urgent community response on its two-hour clock with one responder on the way; virtual
wards with NEWS2 and their beds; the measures against the 70% standard; and writers at
once on one call, one response and one ward, none lost or doubled."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from neighbourhood.care.access import care_relationship
from neighbourhood.care.audit.models import AuditEvent
from neighbourhood.care.roles import Role
from neighbourhood.care.urgent import actions, measures
from neighbourhood.care.urgent.models import Call, Observation, Response, Stay, Ward
from tests.support import factories
from tests.support.concurrency import writers_at_once
from tests.support.people import listed

pytestmark = pytest.mark.django_db
READINGS: dict[str, Any] = {
    "respiration_rate": 16,
    "spo2": 97,
    "scale2": False,
    "on_oxygen": False,
    "systolic": 120,
    "pulse": 70,
    "consciousness": "A",
    "temperature": Decimal("37.0"),
}


def _client(professional: Any) -> Client:
    client = Client()
    client.force_login(professional.user)
    return client


@pytest.fixture
def spa_team(published_dir: Path) -> dict[str, Any]:
    team = factories.team("ZU0001")
    trust = factories.OrganisationFactory(ods_code="ZCT1", name="Ashcombe Community Trust")
    staff = {}
    for name, role in [
        ("senior", Role.SPA),
        ("second", Role.SPA),
        ("nurse", Role.CLINICIAN),
        ("nurse2", Role.CLINICIAN),
    ]:
        made = factories.professional(name, role=role, teams=[])
        made.organisation = trust
        made.save()
        staff[name] = made
    people = listed(published_dir, "ZU0001", 4)
    ward = Ward.objects.create(
        name="Frailty virtual ward", pathway="frailty", organisation=trust, beds=2
    )
    return {"team": team, "trust": trust, **staff, "people": people, "ward": ward}


def _take(s: dict[str, Any], who: int = 0, minutes_ago: int = 10, need: str = "fall") -> Call:
    return actions.take_call(
        actions.Intake(
            source="ambulance",
            caller="Paramedic on scene",
            need=need,
            details="Fell at home, no injury",
            person_id=s["people"][who]["person_id"],
            received_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        ),
        s["senior"],
    )


def _ucr(s: dict[str, Any], **kw: Any) -> actions.Decision:
    return actions.Decision(acuity="two_hours", outcome="ucr", team=s["team"], **kw)


def test_one_clinician_claims_a_call_and_the_other_is_told_who(spa_team: dict[str, Any]) -> None:
    s = spa_team
    call = _take(s)
    held = actions.claim_call(call_id=call.pk, version=call.version, by=s["senior"])
    assert (held.status, held.claimed_by, held.version) == ("triaging", s["senior"], 2)
    with pytest.raises(actions.Claimed, match="Someone else changed this call"):
        actions.claim_call(call_id=call.pk, version=1, by=s["second"])
    with pytest.raises(actions.Claimed, match=r"Senior Tester took C\d{6} for triage at \d\d:\d\d"):
        actions.claim_call(call_id=call.pk, version=2, by=s["second"])
    with pytest.raises(actions.PlanError, match="senior clinician"):
        actions.claim_call(call_id=call.pk, version=2, by=s["nurse"])
    with pytest.raises(actions.Claimed, match="Senior Tester has it"):
        actions.triage(call_id=call.pk, version=2, decision=_ucr(s), by=s["second"])
    done = actions.triage(call_id=call.pk, version=2, decision=_ucr(s), by=s["senior"])
    response = Response.objects.get(call=done)
    assert (done.status, done.outcome, response.status) == ("done", "ucr", "waiting")
    assert response.received_at == call.received_at  # the clock starts at the call


def test_triage_says_what_is_missing(spa_team: dict[str, Any]) -> None:
    s = spa_team
    call = _take(s)
    held = actions.claim_call(call_id=call.pk, version=1, by=s["senior"])
    cases = [
        (
            actions.Decision(acuity="two_hours", outcome="convey"),
            "Say why they go to hospital",
            "convey_reason",
        ),
        (actions.Decision(acuity="two_hours", outcome="ucr"), "Choose the team", "team"),
        (
            actions.Decision(acuity="two_hours", outcome="virtual_ward"),
            "Choose the virtual ward",
            "ward",
        ),
        (
            actions.Decision(acuity="emergency", outcome="ucr", team=s["team"]),
            "conveyed to hospital",
            "outcome",
        ),
    ]
    for decision, message, field in cases:
        with pytest.raises(actions.PlanError, match=message) as refused:
            actions.triage(call_id=call.pk, version=held.version, decision=decision, by=s["senior"])
        assert refused.value.field == field
    assert Call.objects.get(pk=call.pk).version == held.version  # nothing saved
    with pytest.raises(actions.PlanError, match="describe them"):
        actions.take_call(
            actions.Intake(source="self", caller="Son", need="fall", details="x"), s["senior"]
        )
    unknown = actions.take_call(
        actions.Intake(
            source="self", caller="Son", need="fall", details="x", described="Ada, 1 High St"
        ),
        s["senior"],
    )
    held = actions.claim_call(call_id=unknown.pk, version=1, by=s["senior"])
    with pytest.raises(actions.PlanError, match="identified by NHS number"):
        actions.triage(
            call_id=unknown.pk,
            version=held.version,
            decision=actions.Decision(acuity="same_day", outcome="virtual_ward", ward=s["ward"]),
            by=s["senior"],
        )


def test_the_two_hour_clock_one_responder_and_a_late_visit_with_its_reason(
    spa_team: dict[str, Any],
) -> None:
    s = spa_team
    call = _take(s, minutes_ago=150)
    held = actions.claim_call(call_id=call.pk, version=1, by=s["senior"])
    actions.triage(call_id=call.pk, version=held.version, decision=_ucr(s), by=s["senior"])
    response = Response.objects.get(call=call)
    going = actions.set_off(response_id=response.pk, version=1, by=s["nurse"], eta_minutes=20)
    assert going.responder == s["nurse"] and going.status == "on_the_way"
    with pytest.raises(actions.Claimed, match="Someone else changed"):
        actions.set_off(response_id=response.pk, version=1, by=s["nurse2"], eta_minutes=10)
    with pytest.raises(actions.Claimed, match="is already on the way"):
        actions.set_off(response_id=response.pk, version=2, by=s["nurse2"], eta_minutes=10)
    arrived = call.received_at + dt.timedelta(minutes=131)
    with pytest.raises(actions.PlanError, match="2 h 11 min after the call: say why") as late:
        actions.record_visit(response_id=response.pk, version=2, by=s["nurse"], visited_at=arrived)
    assert late.value.field == "late_reason"
    with pytest.raises(actions.PlanError, match="cannot come before the call"):
        actions.record_visit(
            response_id=response.pk,
            version=2,
            by=s["nurse"],
            visited_at=call.received_at - dt.timedelta(minutes=1),
        )
    visited = actions.record_visit(
        response_id=response.pk, version=2, by=s["nurse"], visited_at=arrived, late_reason="Traffic"
    )
    assert (visited.minutes_to_visit(), visited.on_time(), visited.late_reason) == (
        131,
        False,
        "Traffic",
    )
    closed = actions.close_response(
        response_id=response.pk, version=visited.version, by=s["nurse"], after="home"
    )
    assert closed.status == "closed" and closed.closed_at is not None


def test_the_on_time_share_against_the_standard(spa_team: dict[str, Any]) -> None:
    """Four in-hours referrals: visited at 60 and 120 minutes (on time), 121 (late), and one
    unvisited after 3 hours (late from the moment it passed two hours); one still inside
    its two hours is not counted yet; one received at 21:00 is outside the standard."""
    s = spa_team
    today = timezone.localtime(timezone.now()).replace(hour=10, minute=0, second=0, microsecond=0)
    day = today - dt.timedelta(days=1)
    made = []
    for n, (hour, visit) in enumerate([(9, 60), (10, 120), (11, 121), (12, None), (21, 30)]):
        call = _take(s, who=n % 4, minutes_ago=1)
        received = day.replace(hour=hour)
        Call.objects.filter(pk=call.pk).update(received_at=received)
        call.refresh_from_db()
        held = actions.claim_call(call_id=call.pk, version=1, by=s["senior"])
        actions.triage(call_id=call.pk, version=held.version, decision=_ucr(s), by=s["senior"])
        response = Response.objects.get(call=call)
        if visit is not None:
            actions.record_visit(
                response_id=response.pk,
                version=1,
                by=s["nurse"],
                visited_at=received + dt.timedelta(minutes=visit),
                late_reason="Busy" if visit > 120 else "",
            )
        made.append(response)
    # Read as at 4pm yesterday, so the test does not depend on the hour it runs: a call
    # received at 3pm is still inside its two hours (and in hours), so not counted yet.
    now = day.replace(hour=16)
    fresh = _take(s, who=1, minutes_ago=5)
    Call.objects.filter(pk=fresh.pk).update(received_at=day.replace(hour=15))
    held = actions.claim_call(call_id=fresh.pk, version=1, by=s["senior"])
    actions.triage(call_id=fresh.pk, version=held.version, decision=_ucr(s), by=s["senior"])
    found = measures.tables(None, "sex", disclosure_control=False, now=now)
    team = next(r for r in found["teams"] if r["key"] == s["team"].name)
    assert (team["on_time"], team["counted"], team["share"], team["met"]) == (2, 4, 50.0, False)
    assert found["out_of_hours"] == 1
    assert sorted(x["reason"] for x in found["late"]) == ["Busy", "Not visited yet"]
    assert [d["key"] for d in found["days"]] == [day.date().isoformat()]
    assert sum(g["counted"] for g in found["groups"]) == 4
    planning = measures.tables(None, "sex", disclosure_control=True, now=now)
    assert planning["late"] == [] and planning["missed"] == []
    assert next(r for r in planning["teams"])["counted"] is None  # 4 is suppressed


def test_missed_opportunities_are_conveyances_the_service_could_have_met(
    spa_team: dict[str, Any],
) -> None:
    s = spa_team
    for who, need, acuity in [
        (0, "fall", "two_hours"),
        (1, "chest_pain", "emergency"),
        (2, "delirium", "emergency"),
    ]:
        call = _take(s, who=who, need=need)
        held = actions.claim_call(call_id=call.pk, version=1, by=s["senior"])
        actions.triage(
            call_id=call.pk,
            version=held.version,
            decision=actions.Decision(acuity=acuity, outcome="convey", convey_reason="No capacity"),
            by=s["senior"],
        )
    found = measures.tables(None, "sex", disclosure_control=False)
    # Chest pain is not a response need; delirium was a life-threatening emergency.
    assert [m["call"].need for m in found["missed"]] == ["fall"]
    assert found["missed_by_need"] == [("Fall (no serious injury)", 1)]


def test_a_virtual_ward_admits_observes_escalates_and_discharges(spa_team: dict[str, Any]) -> None:
    s = spa_team
    first, second, third = (p["person_id"] for p in s["people"][:3])
    stay = actions.admit(
        ward=s["ward"], person_id=first, route="step-down", reason="COPD", by=s["nurse"]
    )
    with pytest.raises(
        actions.PlanError, match=f"already on Frailty virtual ward \\({stay.reference}"
    ):
        actions.admit(
            ward=s["ward"], person_id=first, route="step-up", reason="again", by=s["nurse"]
        )
    actions.admit(
        ward=s["ward"], person_id=second, route="step-up", reason="frailty", by=s["nurse"]
    )
    with pytest.raises(actions.PlanError, match="is full \\(2 of 2 beds\\)"):
        actions.admit(
            ward=s["ward"], person_id=third, route="step-up", reason="frailty", by=s["nurse"]
        )
    now = timezone.now()
    calm = actions.observe(stay=stay, readings=READINGS, taken="remote", taken_at=now, by=None)
    assert (calm.news2, calm.risk, calm.escalated) == (0, "low", "")
    worse = actions.observe(
        stay=stay,
        readings={
            **READINGS,
            "respiration_rate": 25,
            "spo2": 91,
            "on_oxygen": True,
            "pulse": 112,
            "temperature": Decimal("38.3"),
        },
        taken="visit",
        taken_at=now,
        by=s["nurse"],
    )
    assert (worse.news2, worse.risk) == (11, "high") and "emergency" in worse.escalated
    assert worse.sub_scores["air_or_oxygen"] == 2 and worse.spo2 == 91  # raw readings kept
    with pytest.raises(actions.PlanError, match="not a plausible reading: from 50 to 100") as typo:
        actions.observe(
            stay=stay, readings={**READINGS, "spo2": 9}, taken="visit", taken_at=now, by=s["nurse"]
        )
    assert typo.value.field == "spo2"
    with pytest.raises(actions.PlanError, match="before the admission"):
        actions.observe(
            stay=stay,
            readings=READINGS,
            taken="visit",
            taken_at=now - dt.timedelta(days=1),
            by=None,
        )
    out = actions.discharge(
        stay_id=stay.pk, version=1, by=s["nurse"], outcome="admitted", note="NEWS2 11"
    )
    assert (out.discharge, out.discharged_at is not None) == ("admitted", True)
    with pytest.raises(actions.Claimed):
        actions.discharge(stay_id=stay.pk, version=1, by=s["nurse2"], outcome="home")
    with pytest.raises(actions.PlanError, match="was discharged"):
        actions.observe(
            stay=Stay.objects.get(pk=stay.pk),
            readings=READINGS,
            taken="visit",
            taken_at=now,
            by=None,
        )
    # A bed is free again: the third person is admitted.
    actions.admit(ward=s["ward"], person_id=third, route="step-up", reason="frailty", by=s["nurse"])
    assert Observation.objects.filter(stay=stay).count() == 2


@pytest.mark.django_db(transaction=True)
def test_ten_clinicians_at_once_claim_one_call_and_ten_responders_one_response(
    spa_team: dict[str, Any],
) -> None:
    s = spa_team
    trust = s["trust"]
    triagers, responders = [], []
    for n in range(10):
        for group, role in ((triagers, Role.SPA), (responders, Role.CLINICIAN)):
            made = factories.professional(f"{role}{n}", role=role, teams=[])
            made.organisation = trust
            made.save()
            group.append(made)
    call = _take(s)
    claimed: list[int] = []

    def claim(n: int) -> None:
        try:
            actions.claim_call(call_id=call.pk, version=1, by=triagers[n])
            claimed.append(n)
        except actions.Claimed:
            pass

    writers_at_once(10, claim, conflict=RuntimeError)
    held = Call.objects.get(pk=call.pk)
    assert len(claimed) == 1 and held.claimed_by == triagers[claimed[0]] and held.version == 2
    actions.triage(call_id=call.pk, version=2, decision=_ucr(s), by=triagers[claimed[0]])
    response = Response.objects.get(call=call)
    going: list[int] = []

    def set_off(n: int) -> None:
        try:
            actions.set_off(response_id=response.pk, version=1, by=responders[n], eta_minutes=15)
            going.append(n)
        except actions.Claimed:
            pass

    writers_at_once(10, set_off, conflict=RuntimeError)
    response.refresh_from_db()
    assert len(going) == 1 and response.responder == responders[going[0]] and response.version == 2
    assert AuditEvent.objects.filter(action="respond_urgent").count() == 1


def test_an_open_urgent_episode_opens_the_record_to_the_service_and_then_closes(
    spa_team: dict[str, Any], published_dir: Path
) -> None:
    s = spa_team
    outsider = listed(published_dir, "ZU0002", 1)[0]["person_id"]
    assert care_relationship(s["senior"], outsider) is None
    call = actions.take_call(
        actions.Intake(source="gp", caller="GP", need="frailty", details="x", person_id=outsider),
        s["senior"],
    )
    assert "urgent call" in care_relationship(s["second"], outsider).reason  # type: ignore[union-attr]
    held = actions.claim_call(call_id=call.pk, version=1, by=s["senior"])
    actions.triage(call_id=call.pk, version=held.version, decision=_ucr(s), by=s["senior"])
    Call.objects.filter(pk=call.pk).update(triaged_at=timezone.now() - dt.timedelta(days=2))
    assert "urgent community response" in care_relationship(s["nurse"], outsider).reason  # type: ignore[union-attr]
    other = factories.professional("elsewhere", role=Role.SPA, teams=[])
    assert care_relationship(other, outsider) is None  # another organisation's SPA
    Response.objects.filter(call=call).update(status="closed", visited_at=timezone.now())
    assert care_relationship(s["nurse"], outsider) is None


def test_the_pages_from_a_call_to_the_board_and_a_ward(spa_team: dict[str, Any]) -> None:
    s = spa_team
    senior, second = _client(s["senior"]), _client(s["second"])
    person = s["people"][0]
    # A bad NHS number and no description: both said, beside their fields.
    page = senior.post(
        reverse("urgent-call-new"), {"nhs_number": "123", "source": "", "details": ""}
    )
    text = page.content.decode()
    assert page.status_code == 200
    for said in (
        "Enter a 10-digit NHS number",
        "Say who is calling",
        "Choose the presenting need",
        "Say what is happening",
    ):
        assert said in text
    page = senior.post(
        reverse("urgent-call-new"),
        {
            "nhs_number": person["nhs_number"],
            "source": "ambulance",
            "caller": "Crew",
            "need": "fall",
            "details": "On the floor",
        },
    )
    call = Call.objects.get()
    assert page.status_code == 302 and page["Location"] == reverse("urgent-call", args=[call.pk])
    assert call.person_id == person["person_id"]
    queue = senior.get(reverse("urgent-queue")).content.decode()
    assert call.reference in queue and person["family_name"] in queue
    senior.post(reverse("urgent-call", args=[call.pk]), {"action": "claim", "version": "1"})
    lost = second.post(
        reverse("urgent-call", args=[call.pk]), {"action": "claim", "version": "1"}
    ).content.decode()
    assert "Someone else got there first" in lost
    shown = senior.get(reverse("urgent-call", args=[call.pk])).content.decode()
    assert "Record the triage" in shown and "Contingency plan" in shown
    page = senior.post(
        reverse("urgent-call", args=[call.pk]),
        {"action": "triage", "version": "2", "acuity": "two_hours", "outcome": "ucr", "team": ""},
    )
    assert "Choose the team that will respond" in page.content.decode()
    page = senior.post(
        reverse("urgent-call", args=[call.pk]),
        {
            "action": "triage",
            "version": "2",
            "acuity": "two_hours",
            "outcome": "ucr",
            "team": str(s["team"].pk),
        },
    )
    response = Response.objects.get()
    assert page["Location"] == reverse("urgent-response", args=[response.pk])
    board = _client(s["nurse"]).get(reverse("urgent-board")).content.decode()
    assert response.reference in board and "No one yet" in board
    nurse = _client(s["nurse"])
    nurse.post(
        reverse("urgent-response", args=[response.pk]),
        {"action": "set_off", "version": "1", "eta_minutes": "20"},
    )
    page = nurse.post(
        reverse("urgent-response", args=[response.pk]),
        {"action": "visit", "version": "2", "visited_at": "not a time"},
    ).content.decode()
    assert "Enter a date and time" in page
    arrived = timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M")
    nurse.post(
        reverse("urgent-response", args=[response.pk]),
        {"action": "visit", "version": "2", "visited_at": arrived},
    )
    response.refresh_from_db()
    assert response.status == "visited" and response.on_time() is True
    # The ward: admit by NHS number, a reading out of range, then a real one.
    page = nurse.post(
        reverse("virtual-ward-admit"),
        {
            "nhs_number": s["people"][1]["nhs_number"],
            "ward": str(s["ward"].pk),
            "route": "step-down",
            "reason": "COPD",
        },
    )
    stay = Stay.objects.get()
    assert page["Location"] == reverse("virtual-ward-stay", args=[stay.pk])
    form = {"action": "observe", "taken": "visit", **{k: str(v) for k, v in READINGS.items()}}
    form.pop("scale2"), form.pop("on_oxygen")
    page = nurse.post(
        reverse("virtual-ward-stay", args=[stay.pk]), {**form, "pulse": "400"}
    ).content.decode()
    assert "Enter a pulse from 20 to 250" in page
    nurse.post(reverse("virtual-ward-stay", args=[stay.pk]), {**form, "consciousness": "C"})
    board = nurse.get(reverse("virtual-ward", args=[s["ward"].pk])).content.decode()
    assert "Urgent review" in board and s["people"][1]["family_name"] in board
    wards = nurse.get(reverse("wards")).content.decode()
    assert "1 of 2 beds in use" in wards and "beds per 100,000" in wards
    assert AuditEvent.objects.filter(
        action="view_urgent_call", person_id=person["person_id"]
    ).exists()
    assert AuditEvent.objects.filter(action="record_observations").count() == 1


def test_remote_monitoring_readings_all_or_nothing(
    spa_team: dict[str, Any], tmp_path: Path
) -> None:
    from neighbourhood.care.urgent import monitoring
    from neighbourhood.errors import UserError

    s = spa_team
    on_ward, not_on_ward = s["people"][0], s["people"][1]
    stay = actions.admit(
        ward=s["ward"],
        person_id=on_ward["person_id"],
        route="step-down",
        reason="COPD",
        by=s["nurse"],
        at=timezone.now() - dt.timedelta(days=1),
    )
    number = on_ward["nhs_number"]
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"
    good = tmp_path / "good.csv"
    # A platform's own column names, an extra column, a byte-order mark, a blank line.
    good.write_text(
        "\ufeffNHS No,Timestamp,RR,Sats,O2,SBP,HR,AVPU,Temp C,Device\n"
        f"{spaced},{(timezone.now() - dt.timedelta(hours=2)).isoformat()},16,97,no,120,70,A,37.0,cuff-1\n"
        "\n"
        f"{number},{(timezone.now() - dt.timedelta(hours=1)).isoformat()},25,91,yes,108,112,A,38.3,cuff-1\n",
        encoding="utf-8",
    )
    done = monitoring.import_file(good)
    assert (done.readings, done.escalations) == (2, 1)
    scores = list(Observation.objects.filter(stay=stay).values_list("news2", "taken"))
    assert scores == [(0, "remote"), (12, "remote")]  # 3+3+2+1+2+0+1
    assert AuditEvent.objects.filter(actor="remote-monitoring").count() == 2
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "nhs_number,taken_at,respiration_rate,spo2,systolic,pulse,consciousness,temperature\n"
        f"{number},2026-12-01T09:00,16,97,120,70,A,37.0\n"
        f"{number},yesterday,16,9,120,70,Q,hot\n"
        f"{not_on_ward['nhs_number']},2026-12-01T09:00,16,97,120,70,A,37.0\n"
        "1234567890,2026-12-01T09:00,16,97,120,70,A,37.0\n",
        encoding="utf-8",
    )
    with pytest.raises(UserError) as refused:
        monitoring.import_file(bad)
    said = str(refused.value)
    for expected in (
        "nothing recorded",
        "line 3: taken_at 'yesterday': not a date and time",
        "line 3: temperature 'hot'",
        "line 3: consciousness 'Q': one of A, C, V, P, U",
        "line 3: spo2 9: not a plausible reading",
        f"line 4: NHS number {not_on_ward['nhs_number']} is not on a virtual ward",
        "line 5: nhs_number '1234567890': not a valid NHS number",
    ):
        assert expected in said, said
    assert Observation.objects.filter(stay=stay).count() == 2  # nothing more
    # A reading before the admission: the whole file is refused, naming the line.
    early = tmp_path / "early.csv"
    early.write_text(
        "nhs_number,taken_at,rr,spo2,sbp,pulse,avpu,temp\n"
        f"{number},{timezone.now().isoformat()},16,97,120,70,A,37.0\n"
        f"{number},{(timezone.now() - dt.timedelta(days=3)).isoformat()},16,97,120,70,A,37.0\n",
        encoding="utf-8",
    )
    with pytest.raises(UserError, match="line 3: These observations were taken before"):
        monitoring.import_file(early)
    assert Observation.objects.filter(stay=stay).count() == 2
    missing = tmp_path / "missing.csv"
    missing.write_text("nhs_number,rr\n1,2\n", encoding="utf-8")
    with pytest.raises(UserError, match="no column for taken_at, spo2, systolic, pulse"):
        monitoring.import_file(missing)
