"""No 500 from any input (issue 22, item 7): random strings, digits of other scripts, huge
numbers, NUL and the like, in every query parameter and form field of every page, as
every role, on PostgreSQL. A page added without being listed here fails the first test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neighbourhood.care import urls
from neighbourhood.care.audit.breakglass import BreakGlassForm, ReviewForm
from neighbourhood.care.audit.forms import AuditQuery
from neighbourhood.care.capacity.views import MapQuery
from neighbourhood.care.caseload import actions
from neighbourhood.care.caseload.forms import (
    DischargeForm,
    EnrolForm,
    TransferForm,
    TransferTeamForm,
    UpdateForm,
)
from neighbourhood.care.fhirapi import clients as api_clients
from neighbourhood.care.fhirapi.forms import KeysForm, RegisterForm, ScopesForm
from neighbourhood.care.meetings import actions as meetings
from neighbourhood.care.meetings.forms import AddPersonForm, FlagForm, ScheduleForm
from neighbourhood.care.meetings.models import Outcome, PracticeMessage
from neighbourhood.care.people.forms import CaseFindingQuery
from neighbourhood.care.plans import actions as plans
from neighbourhood.care.plans.forms import (
    AdvanceCarePlanForm,
    GoalForm,
    PlanForm,
    ReviewNoteForm,
    TaskForm,
    TaskUpdateForm,
    WhatMattersForm,
)
from neighbourhood.care.plans.questionnaires import shipped
from neighbourhood.care.referrals import actions as refer
from neighbourhood.care.referrals.forms import (
    AttendanceForm,
    MoveForm,
    OnwardForm,
    ReferralForm,
    WellbeingForm,
)
from neighbourhood.care.referrals.models import Service
from neighbourhood.care.roles import Role
from neighbourhood.care.signin import SignInForm
from neighbourhood.care.twofactor import CodeForm
from neighbourhood.care.urgent import actions as urgent
from neighbourhood.care.urgent.forms import (
    AdmitForm,
    CallForm,
    CloseForm,
    ObservationForm,
    SetOffForm,
    TriageForm,
    VisitForm,
)
from neighbourhood.care.urgent.forms import DischargeForm as UrgentDischargeForm
from neighbourhood.care.urgent.models import Ward
from tests.support import factories
from tests.support.partner import Keys, jwks
from tests.support.people import listed

pytestmark = pytest.mark.django_db

NASTY = [
    "",
    "²",  # a digit to str.isdigit, not to int
    "٣",  # Arabic-Indic three
    "\x00",
    "a\x00b",
    str(2**63),
    str(-(2**63) - 1),
    "9" * 400,
    "1e309",
    "NaN",
    "-0",
    " 1 ",
    "%00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\ud7ff\U0010ffff",
    "x" * 5000,
]
VALUES = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=60),
    st.integers().map(str),
    st.lists(st.sampled_from(NASTY), min_size=1, max_size=3).map("".join),
)


def _fields(*forms_: type[forms.Form], prefix: str = "") -> list[str]:
    return [f"{prefix}{name}" for form in forms_ for name in form.base_fields]


# Every page, with the query parameters it reads (GET) or the fields it is posted (POST).
GET_PAGES: dict[str, list[str]] = {
    "home": [],
    "sign-in": ["next"],
    "two-factor": ["next"],
    "two-factor-set-up": ["next"],
    "two-factor-account": [],
    "case-finding": _fields(CaseFindingQuery),
    "profile": ["events"],
    "enrol": [],
    "caseload": [],
    "enrolment": _fields(TransferTeamForm),
    "planning": ["dimension", "by", "neighbourhood"],
    "workforce-map": _fields(MapQuery),
    "capacity-scenarios": ["run", "neighbourhood"],
    "evaluation": ["run"],
    "audit-search": [*_fields(AuditQuery), "page"],
    "break-glass-queue": ["show", "page"],
    "lockouts": [],
    "api-clients": [],
    "api-client-new": [],
    "api-client": [],
    "teams": [],
    "care-plan": [],
    "care-plan-edit": [],
    "care-plan-versions": ["from", "to"],
    "care-plan-copy": [],
    "task-new": ["goal"],
    "what-matters": [],
    "assessment": [],
    "advance-care-plan": [],
    "advance-care-plan-new": [],
    "worklist": [],
    "my-tasks": ["show", "page"],
    "team-tasks": ["show", "page"],
    "task": [],
    "team-measures": ["by"],
    "refer": [],
    "flag": [],
    "directory": ["kind", "page"],
    "referrals": ["show", "page"],
    "referral-measures": ["by"],
    "referral": [],
    "meetings": ["page"],
    "meeting-new": [],
    "meeting": [],
    "meeting-item": [],
    "practice-inbox": ["show", "page"],
    "urgent-queue": [],
    "urgent-call-new": [],
    "urgent-call": [],
    "urgent-board": ["team", "page"],
    "urgent-response": [],
    "urgent-measures": ["by"],
    "wards": [],
    "virtual-ward-admit": ["ward"],
    "virtual-ward": [],
    "virtual-ward-stay": [],
}
POST_PAGES: dict[str, list[str]] = {
    "sign-in": _fields(SignInForm),
    "sign-out": [],
    "two-factor": [*_fields(CodeForm), "next"],
    "two-factor-set-up": [*_fields(CodeForm), "next"],
    "two-factor-recovery-codes": [],
    "enrol": _fields(EnrolForm),
    "enrolment": ["action"],  # a POST to the page itself: 405, nothing changed
    "enrolment-update": _fields(UpdateForm),
    "enrolment-transfer": _fields(TransferForm, prefix="transfer-"),
    "enrolment-discharge": _fields(DischargeForm, prefix="discharge-"),
    "break-glass": _fields(BreakGlassForm),
    "break-glass-reviewed": _fields(ReviewForm),
    "unlock": [],
    "api-client-new": _fields(RegisterForm),
    "api-client": ["action", *_fields(KeysForm), *_fields(ScopesForm)],
    "api-client-deactivate": [],
    "care-plan-edit": [
        *_fields(PlanForm),
        "reconciling",
        *[f"goal-{k}" for k in ("TOTAL_FORMS", "INITIAL_FORMS", "MAX_NUM_FORMS")],
        *_fields(GoalForm, prefix="goal-0-"),
    ],
    "task-new": _fields(TaskForm),
    "what-matters": _fields(WhatMattersForm),
    "assessment-new": ["questionnaire"],
    "assessment": ["version", "finish", "save", "physical.falls", "medicines.count"],
    "advance-care-plan-new": _fields(AdvanceCarePlanForm),
    "advance-care-plan-review": _fields(ReviewNoteForm),
    "task": _fields(TaskUpdateForm),
    "refer": [*_fields(ReferralForm), "send"],
    "flag": _fields(FlagForm),
    "referral": [
        "action",
        *_fields(MoveForm, AttendanceForm, WellbeingForm, OnwardForm),
    ],
    "meeting-new": _fields(ScheduleForm),
    "meeting-adjust": ["item", "how", "note"],
    "meeting-add": _fields(AddPersonForm),
    "meeting-rebuild": [],
    "meeting-attendance": ["version", "attended", "guest_name", "guest_role", "guest_organisation"],
    "meeting-item": [
        "version",
        "discussion",
        "decisions",
        *[f"{k}_{n}" for n in range(3) for k in ("action", "owner", "due")],
    ],
    "meeting-close": [],
    "practice-message-read": [],
    "urgent-call-new": _fields(CallForm),
    "urgent-call": ["action", *_fields(TriageForm)],
    "urgent-response": ["action", *_fields(SetOffForm, VisitForm, CloseForm)],
    "virtual-ward-admit": _fields(AdmitForm),
    "virtual-ward-stay": ["action", *_fields(ObservationForm, UrgentDischargeForm)],
}
NOT_PAGES = {None}  # unnamed: the admin's own site, the stylesheet's icons
ROLES = [r.value for r in Role]


def test_every_page_of_the_application_is_tried() -> None:
    patterns = get_resolver(urls.__name__).url_patterns
    named = {p.name for p in patterns if isinstance(p, URLPattern)} - NOT_PAGES
    named = {n for n in named if not (n or "").startswith("fhir-")}  # test_fhir_api's own
    assert named == set(GET_PAGES) | set(POST_PAGES)


@pytest.fixture
def world(published_dir: Path) -> dict[str, Any]:
    """One member of staff of each role in one team, a person on its list enrolled, a
    break-glass access and a locked account to act on."""
    from axes.models import AccessAttempt
    from django.utils import timezone

    from neighbourhood.care.audit import breakglass

    team = factories.team("ZU0001")
    staff = {role: factories.professional(f"u-{role}", role=role, teams=[team]) for role in ROLES}
    nurse = staff[Role.CLINICIAN]
    person = listed(published_dir, "ZU0001")[0]["person_id"]
    enrolment = actions.enrol(person_id=person, team=team, coordinator=nurse, reason="x", by=nurse)
    grant = breakglass.open_record(nurse, person, "referral", "a referral from the hub")
    plan = plans.save_plan(
        person_id=person, version=0, content={"goals": [{"text": "x"}]}, by=nurse
    )
    task = plans.add_task(
        plan=plan,
        goal_id="G1",
        description="a call",
        due=timezone.localdate(),
        by=nurse,
        owner=staff[Role.CARE_COORDINATOR],
    )
    assessment = plans.start_assessment(
        person, shipped()["comprehensive-geriatric-assessment"], nurse
    )
    attempt = AccessAttempt.objects.create(
        username="someone",
        ip_address="203.0.113.1",
        user_agent="",
        failures_since_start=9,
        attempt_time=timezone.now(),
        get_data="",
        post_data="",
        http_accept="",
        path_info="/sign-in/",
    )
    service = Service.objects.create(
        name="Reablement",
        kind="reablement",
        organisation=staff[Role.VCFSE_WORKER].organisation,
        respond_hours=24,
        contact_hours=72,
    )
    referral = refer.refer(
        person_id=person,
        person={"neighbourhood": "ZU0001", "age": 80},
        by=nurse,
        team=team,
        request=refer.Request(service=service, pathway="step-up", reason="falls"),
    )
    meeting = meetings.schedule(
        team=team,
        starts_at=timezone.now() + dt.timedelta(days=1),
        place="Room 1",
        online_link="",
        expected=[nurse],
        by=nurse,
    )
    item = meeting.items.first() or meetings.add_person(
        meeting=meeting, person_id=person, reason="x", by=nurse
    )
    outcome = Outcome.objects.create(item=item, person_id=person, summary="Decided: x")
    message = PracticeMessage.objects.create(
        practice=staff[Role.CLINICIAN].organisation, outcome=outcome, person_id=person
    )
    spa = staff[Role.SPA]
    ward = Ward.objects.create(
        name="Frailty", pathway="frailty", organisation=spa.organisation, beds=5
    )
    call = urgent.take_call(
        urgent.Intake(source="gp", caller="GP", need="fall", details="x", person_id=person), spa
    )
    call = urgent.claim_call(call_id=call.pk, version=1, by=spa)
    call = urgent.triage(
        call_id=call.pk,
        version=call.version,
        decision=urgent.Decision(acuity="two_hours", outcome="ucr", team=team),
        by=spa,
    )
    stay = urgent.admit(ward=ward, person_id=person, route="step-down", reason="x", by=spa)
    api_client = api_clients.register(
        name="GP system",
        organisation=nurse.organisation,
        teams=[team],
        scopes=["system/*.rs"],
        jwks=jwks(Keys.ec()),
        by="ig",
    )
    clients = {}
    for role, professional in staff.items():
        client = Client()
        client.force_login(professional.user)
        clients[role] = client
    return {
        "clients": clients,
        "args": {
            "person_id": person,
            "enrolment_id": enrolment.pk,
            "access_id": grant.pk,
            "attempt_id": attempt.pk,
            "task_id": task.pk,
            "assessment_id": assessment.pk,
            "referral_id": referral.pk,
            "meeting_id": meeting.pk,
            "item_id": item.pk,
            "message_id": message.pk,
            "call_id": call.pk,
            "response_id": call.response.pk,
            "ward_id": ward.pk,
            "stay_id": stay.pk,
            "client_id": api_client.pk,
        },
    }


def _url(name: str, args: dict[str, Any]) -> str:
    """The page's address, with whichever of the world's ids its pattern takes."""
    pattern = next(
        p for p in get_resolver(urls.__name__).url_patterns if getattr(p, "name", None) == name
    )
    wanted = list(pattern.pattern.converters)
    return reverse(name, kwargs={k: args[k] for k in wanted})


def _no_error(response: Any, where: str) -> None:
    assert response.status_code < 500, where
    assert b"Traceback" not in response.content, where


@pytest.mark.parametrize("role", ROLES)
def test_nasty_values_in_every_parameter_of_every_page(role: str, world: dict[str, Any]) -> None:
    client = world["clients"][role]
    for name, parameters in GET_PAGES.items():
        url = _url(name, world["args"])
        for parameter in [*parameters, "unexpected"]:
            for value in NASTY:
                _no_error(client.get(url, {parameter: value}), f"GET {name} {parameter}={value!r}")
    for name, fields in POST_PAGES.items():
        if name == "sign-out":
            continue  # it would end this client's session
        url = _url(name, world["args"])
        for value in NASTY:
            _no_error(
                client.post(url, dict.fromkeys([*fields, "unexpected"], value)),
                f"POST {name} {value!r}",
            )


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    role=st.sampled_from(ROLES),
    page=st.sampled_from(sorted(GET_PAGES)),
    values=st.dictionaries(st.text(max_size=12), VALUES, max_size=3),
    known=st.lists(VALUES, max_size=6),
)
def test_random_query_strings_never_give_an_error_page(
    world: dict[str, Any], role: str, page: str, values: dict[str, str], known: list[str]
) -> None:
    query = dict(zip(GET_PAGES[page], known, strict=False)) | values
    response = world["clients"][role].get(_url(page, world["args"]), query)
    _no_error(response, f"GET {page} {query!r}")


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    role=st.sampled_from(ROLES),
    page=st.sampled_from(sorted(set(POST_PAGES) - {"sign-out"})),
    known=st.lists(VALUES, max_size=6),
    extra=st.dictionaries(st.text(max_size=12), VALUES, max_size=2),
)
def test_random_forms_never_give_an_error_page(
    world: dict[str, Any], role: str, page: str, known: list[str], extra: dict[str, str]
) -> None:
    data = dict(zip(POST_PAGES[page], known, strict=False)) | extra
    response = world["clients"][role].post(_url(page, world["args"]), data)
    _no_error(response, f"POST {page} {data!r}")
