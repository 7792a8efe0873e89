"""The FHIR API in process (Django's test client, PostgreSQL): SMART Backend Services
tokens, reads and searches within care relationships, creates that never duplicate,
updates that never lose a change, all-or-nothing transactions, subscriptions delivered
in order through a failing receiver, and an OperationOutcome for every bad request."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neighbourhood.care.audit.models import AuditEvent
from neighbourhood.care.fhirapi import clients, notify
from neighbourhood.care.fhirapi.models import Client as ApiClient
from neighbourhood.care.fhirapi.models import Notification, Subscription, Topic
from neighbourhood.care.plans.models import CarePlan, Task
from neighbourhood.care.referrals.models import Referral, Service
from neighbourhood.care.roles import Role
from tests.support import factories
from tests.support.partner import (
    NHS_NUMBER as NHS,
)
from tests.support.partner import (
    PROFESSIONAL,
    Keys,
    cared_for,
    jwks,
    step_up_body,
    task_body,
    token_form,
)
from tests.support.people import not_listed

pytestmark = pytest.mark.django_db
TOKEN_URL = "http://testserver/fhir/token"
FHIR = "application/fhir+json"


@pytest.fixture
def partner(published_dir: Path) -> dict[str, Any]:
    return cared_for(published_dir, Keys.rsa(), "Ashcombe GP system", people=3)


def _token(p: dict[str, Any], scope: str = "system/*.cruds") -> str:
    answer = Client().post(
        "/fhir/token", token_form(p["keys"], p["client"].client_id, TOKEN_URL, scope)
    )
    assert answer.status_code == 200, answer.content
    return str(answer.json()["access_token"])


class Api:
    def __init__(self, token: str) -> None:
        self.http = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT=FHIR)

    def get(self, url: str, **headers: Any) -> Any:
        return self.http.get(url, **headers)

    def post(self, url: str, body: Any, **headers: Any) -> Any:
        return self.http.post(url, json.dumps(body), content_type=FHIR, **headers)

    def put(self, url: str, body: Any, version: int | None, **headers: Any) -> Any:
        if version is not None:
            headers["HTTP_IF_MATCH"] = f'W/"{version}"'
        return self.http.put(url, json.dumps(body), content_type=FHIR, **headers)


@pytest.fixture
def api(partner: dict[str, Any]) -> Api:
    return Api(_token(partner))


def _valid(resource: dict[str, Any]) -> dict[str, Any]:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def _issue(answer: Any) -> dict[str, Any]:
    body = answer.json()
    assert body["resourceType"] == "OperationOutcome", body
    return dict(body["issue"][0])


def _task(p: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**task_body(p, "Review medicines after the fall"), **extra}


# ---------------------------------------------------------------------------------------
# Tokens


def test_a_signed_assertion_gets_a_token_once_and_only_for_the_scopes_registered(
    partner: dict[str, Any],
) -> None:
    p, web = partner, Client()
    clients.set_scopes(p["client"], ["system/Task.rs", "system/Patient.r"], by="ig")
    form = token_form(
        p["keys"], p["client"].client_id, TOKEN_URL, "system/Task.cruds system/CarePlan.rs"
    )
    answer = web.post("/fhir/token", form)
    assert answer.status_code == 200
    assert answer.json()["scope"] == "system/Task.rs"
    assert answer.json()["expires_in"] == 300
    replay = web.post("/fhir/token", form)
    assert (replay.status_code, replay.json()["error"]) == (401, "invalid_client")
    assert "jti was used already" in replay.json()["error_description"]
    stranger = Keys.rsa("key-1")
    forged = web.post(
        "/fhir/token", token_form(stranger, p["client"].client_id, TOKEN_URL, "system/Task.rs")
    )
    assert forged.status_code == 401 and "refused" in forged.json()["error_description"]
    wrong_audience = token_form(
        p["keys"], p["client"].client_id, "https://elsewhere/token", "system/Task.rs"
    )
    assert web.post("/fhir/token", wrong_audience).status_code == 401
    too_long = dict(
        form, client_assertion=p["keys"].assertion(p["client"].client_id, TOKEN_URL, lifetime=3600)
    )
    assert "at most five minutes" in web.post("/fhir/token", too_long).json()["error_description"]
    nothing = token_form(p["keys"], p["client"].client_id, TOKEN_URL, "system/Observation.rs")
    assert web.post("/fhir/token", nothing).json()["error"] == "invalid_scope"
    bad_scope = token_form(p["keys"], p["client"].client_id, TOKEN_URL, "patient/*.read")
    assert web.post("/fhir/token", bad_scope).json()["error"] == "invalid_scope"
    assert (
        web.post("/fhir/token", {"grant_type": "password"}).json()["error"]
        == "unsupported_grant_type"
    )


def test_keys_rotate_and_a_deactivated_client_loses_its_tokens(partner: dict[str, Any]) -> None:
    p = partner
    token = _token(p)
    assert Api(token).get(f"/fhir/Patient/{p['person']['person_id']}").status_code == 200
    new = Keys.ec("key-2")
    clients.rotate_keys(p["client"], jwks(p["keys"], new), by="ig")  # both, while it moves over
    assert _token({**p, "keys": new})
    clients.rotate_keys(p["client"], jwks(new), by="ig")  # then the old one goes
    old = Client().post(
        "/fhir/token", token_form(p["keys"], p["client"].client_id, TOKEN_URL, "system/*.rs")
    )
    assert old.status_code == 401 and "kid" in old.json()["error_description"]
    clients.deactivate(p["client"], by="ig")
    refused = Api(token).get(f"/fhir/Patient/{p['person']['person_id']}")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert _issue(refused)["code"] == "login"
    with pytest.raises(Exception, match="private key"):
        clients.rotate_keys(p["client"], {"keys": [{**new.public_jwk(), "d": "secret"}]}, by="ig")


# ---------------------------------------------------------------------------------------
# Reading and searching


def test_the_capability_statement_says_what_each_type_supports(api: Api) -> None:
    answer = Client().get("/fhir/metadata")
    statement = _valid(answer.json())
    assert answer["Content-Type"] == FHIR
    types = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(types) >= {
        "Patient",
        "CarePlan",
        "Goal",
        "Task",
        "ServiceRequest",
        "CareTeam",
        "EpisodeOfCare",
        "QuestionnaireResponse",
        "Encounter",
        "Observation",
        "Questionnaire",
        "Subscription",
    }
    task = {i["code"] for i in types["Task"]["interaction"]}
    assert task == {"read", "vread", "search-type", "create", "update", "history-instance"}
    assert types["CarePlan"]["searchRevInclude"] == ["Task:based-on"]
    assert {i["code"] for i in types["Patient"]["interaction"]} == {"read", "search-type"}
    smart = Client().get("/fhir/.well-known/smart-configuration").json()
    assert smart["token_endpoint"] == TOKEN_URL


def test_a_patient_is_read_and_found_by_nhs_number_only_within_a_care_relationship(
    api: Api, partner: dict[str, Any], published_dir: Path
) -> None:
    person = partner["person"]
    patient = _valid(api.get(f"/fhir/Patient/{person['person_id']}").json())
    assert patient["identifier"][0] == {"system": NHS, "value": person["nhs_number"]}
    assert patient["name"][0]["family"] == person["family_name"]
    found = api.get(f"/fhir/Patient?identifier={NHS}|{person['nhs_number']}").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [person["person_id"]]
    stranger = not_listed(published_dir)
    refused = api.get(f"/fhir/Patient/{stranger}")
    assert refused.status_code == 403 and "no care relationship" in _issue(refused)["diagnostics"]
    assert api.get("/fhir/Patient").status_code == 400  # never the whole population
    audit = AuditEvent.objects.filter(action="fhir_read", person_id=person["person_id"]).get()
    assert audit.actor == f"api:{partner['client'].client_id}"
    assert audit.detail["organisation"] == partner["nurse"].organisation.ods_code
    assert "caseload" in audit.reason


def test_care_plans_search_by_nhs_number_with_goals_and_tasks_and_pages(
    api: Api, partner: dict[str, Any]
) -> None:
    p = partner
    for n in range(3):
        assert api.post("/fhir/Task", _task(p, description=f"Action {n}")).status_code == 201
    nhs = p["person"]["nhs_number"]
    bundle = api.get(
        f"/fhir/CarePlan?subject:identifier={NHS}|{nhs}&_include=CarePlan:goal&_revinclude=Task:based-on"
    ).json()
    _valid(bundle)
    kinds = [(e["resource"]["resourceType"], e["search"]["mode"]) for e in bundle["entry"]]
    assert kinds == [("CarePlan", "match"), ("Goal", "include")] + [("Task", "include")] * 3
    plan = bundle["entry"][0]["resource"]
    assert plan["description"] == "Retired teacher" and len(plan["activity"]) == 3
    first = api.get(
        f"/fhir/Task?patient=Patient/{p['person']['person_id']}&_count=2&_total=accurate"
    ).json()
    assert first["total"] == 3 and len(first["entry"]) == 2
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = api.get(following.replace("http://testserver", "")).json()
    assert [e["resource"]["description"] for e in second["entry"]] == ["Action 2"]
    assert not any(link["relation"] == "next" for link in second["link"])
    mine = api.get("/fhir/Task?status=requested&owner=" + str(p["nurse"].pk)).json()
    assert len(mine["entry"]) == 3
    done = api.get("/fhir/Task?status=completed").json()
    assert "entry" not in done
    today = dt.date.today().isoformat()
    assert (
        len(api.get(f"/fhir/Task?authored-on=ge{today}&_lastUpdated=le2999").json()["entry"]) == 3
    )
    assert "entry" not in api.get("/fhir/Task?authored-on=lt2000-01-01").json()
    unknown = api.get("/fhir/Task?colour=blue")
    assert unknown.status_code == 400 and _issue(unknown)["expression"] == ["colour"]
    bad_date = api.get("/fhir/Task?authored-on=yesterday")
    assert bad_date.status_code == 400 and "not a FHIR date" in _issue(bad_date)["diagnostics"]


def test_every_resource_type_reads_as_valid_fhir(api: Api, partner: dict[str, Any]) -> None:
    p = partner
    pid = p["person"]["person_id"]
    for path in [
        f"/fhir/Patient/{pid}",
        f"/fhir/CarePlan/{p['plan'].pk}",
        f"/fhir/CareTeam/{p['plan'].pk}",
        f"/fhir/EpisodeOfCare?patient={pid}",
        f"/fhir/Goal?patient={pid}",
        "/fhir/Questionnaire",
        "/fhir/Questionnaire/comprehensive-geriatric-assessment",
        f"/fhir/Encounter?patient={pid}",
        f"/fhir/Observation?patient={pid}",
        f"/fhir/QuestionnaireResponse?patient={pid}",
        "/fhir/HealthcareService",
        "/fhir/Subscription",
    ]:
        answer = api.get(path)
        assert answer.status_code == 200, (path, answer.content)
        _valid(answer.json())
    episode = api.get(f"/fhir/EpisodeOfCare?patient={pid}&status=active").json()["entry"][0][
        "resource"
    ]
    assert episode["careManager"]["display"] == p["nurse"].display_name


# ---------------------------------------------------------------------------------------
# Writing


def test_a_retried_create_makes_one_task_and_a_stale_update_changes_nothing(
    api: Api, partner: dict[str, Any]
) -> None:
    p = partner
    body = _task(p, identifier=[{"system": "https://gp.example/task", "value": "T-42"}])
    condition = {"HTTP_IF_NONE_EXIST": "identifier=https://gp.example/task|T-42"}
    made = api.post("/fhir/Task", body, **condition)
    again = api.post("/fhir/Task", body, **condition)
    assert (made.status_code, again.status_code) == (201, 200)
    assert made.json()["id"] == again.json()["id"] and Task.objects.count() == 1
    assert made["ETag"] == 'W/"1"' and made["Location"].endswith(
        f"/Task/{made.json()['id']}/_history/1"
    )
    plain = api.post("/fhir/Task?_format=json", _task(p))  # no search in it: no condition
    assert plain.status_code == 201 and Task.objects.count() == 2
    Task.objects.filter(pk=plain.json()["id"]).delete()
    duplicate = api.post("/fhir/Task", body)  # without the condition: refused, not doubled
    assert duplicate.status_code == 409 and Task.objects.count() == 1
    task = made.json()
    url = f"/fhir/Task/{task['id']}"
    accepted = api.put(url, {**task, "status": "accepted"}, version=1)
    assert accepted.status_code == 200 and accepted["ETag"] == 'W/"2"'
    stale = api.put(url, {**task, "description": "Something else"}, version=1)
    assert stale.status_code == 412 and stale["ETag"] == 'W/"2"'
    assert "at version 2, not 1" in _issue(stale)["diagnostics"]
    assert Task.objects.get().description == "Review medicines after the fall"
    assert api.put(url, task, version=None).status_code == 412  # no If-Match: refused
    cancel = api.put(url, {**task, "status": "cancelled"}, version=2)
    assert cancel.status_code == 422 and _issue(cancel)["expression"] == ["Task.statusReason"]
    assert api.get(f"{url}/_history/1").json()["status"] == "requested"
    assert api.get(f"{url}/_history/2").json()["status"] == "accepted"
    assert api.get(f"{url}/_history/3").status_code == 404
    history = _valid(api.get(f"{url}/_history").json())
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]
    stranger = api.post(
        "/fhir/Task", _task(p, owner={"identifier": {"system": PROFESSIONAL, "value": "999999"}})
    )
    assert stranger.status_code == 422 and _issue(stranger)["expression"] == [
        "Task.owner.identifier.value"
    ]


def test_care_plan_updates_name_their_version(api: Api, partner: dict[str, Any]) -> None:
    p = partner
    url = f"/fhir/CarePlan/{p['plan'].pk}"
    plan = api.get(url).json()
    changed = api.put(url, {**plan, "description": "Retired teacher, loves gardening"}, version=1)
    assert changed.status_code == 200 and changed.json()["meta"]["versionId"] == "2"
    lost = api.put(url, {**plan, "description": "Overwrites the gardening"}, version=1)
    assert lost.status_code == 412
    saved = CarePlan.objects.get(pk=p["plan"].pk)
    assert (saved.version, saved.current().content["about_me"]) == (
        2,
        "Retired teacher, loves gardening",
    )
    assert api.get(f"{url}/_history/1").json()["description"] == "Retired teacher"
    assert saved.current().change_note == "updated by Ashcombe GP system through the FHIR API"


def _referral(p: dict[str, Any], service: Service) -> dict[str, Any]:
    return step_up_body(p, service.pk, "Falls at home")


def test_a_transaction_makes_a_referral_and_its_tasks_or_nothing(
    api: Api, partner: dict[str, Any]
) -> None:
    p = partner
    service = Service.objects.create(
        name="Reablement at home",
        kind="reablement",
        organisation=p["nurse"].organisation,
        respond_hours=24,
        contact_hours=72,
    )
    referral_url = "urn:uuid:6b1f4a70-0000-4000-8000-000000000001"
    task = _task(p, basedOn=[{"reference": referral_url}])
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:6b1f4a70-0000-4000-8000-000000000002",
                "resource": task,
                "request": {"method": "POST", "url": "Task"},
            },
            {
                "fullUrl": referral_url,
                "resource": _referral(p, service),
                "request": {"method": "POST", "url": "ServiceRequest"},
            },
        ],
    }
    answer = api.post("/fhir/", bundle)
    assert answer.status_code == 200, answer.content
    result = _valid(answer.json())
    assert [e["response"]["status"] for e in result["entry"]] == ["201 Created", "201 Created"]
    referral = Referral.objects.get()
    assert Task.objects.get().referral == referral and referral.status == "requested"
    # The receiving service (this client's organisation) accepts it through its BaRS task.
    bars = api.get(f"/fhir/Task/referral-{referral.pk}").json()
    accepted = api.put(
        f"/fhir/Task/referral-{referral.pk}", {**bars, "status": "accepted"}, version=1
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted["Location"].endswith(f"/Task/referral-{referral.pk}/_history/2")
    assert Referral.objects.get().status == "accepted"
    done = api.put(f"/fhir/Task/referral-{referral.pk}", {**bars, "status": "completed"}, version=1)
    assert done.status_code == 412
    broken = json.loads(json.dumps(bundle))
    broken["entry"][1]["resource"]["performer"] = [{"reference": "HealthcareService/424242"}]
    refused = api.post("/fhir/", broken)
    issue = _issue(refused)
    assert refused.status_code == 422 and issue["diagnostics"].startswith("Bundle.entry[1]: ")
    assert issue["expression"] == ["Bundle.entry[1].resource.ServiceRequest.performer[0]"]
    assert (Referral.objects.count(), Task.objects.count()) == (1, 1)  # the task was not made


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"HTTP_ACCEPT": "application/fhir+xml"}, 406, "not-supported"),
        ({"content_type": "application/xml"}, 415, "not-supported"),
        ({"HTTP_AUTHORIZATION": "Bearer nonsense"}, 401, "login"),
    ],
)
def test_what_the_api_cannot_take_is_an_operation_outcome(
    api: Api, partner: dict[str, Any], change: dict[str, Any], status: int, code: str
) -> None:
    body = json.dumps(_task(partner))
    kwargs = {"content_type": FHIR, **change}
    answer = api.http.post("/fhir/Task", body, **kwargs)
    assert answer.status_code == status and _issue(answer)["code"] == code
    assert Task.objects.count() == 0


def test_bad_resources_are_refused_naming_the_element(api: Api, partner: dict[str, Any]) -> None:
    p = partner
    nhs = _task(p, **{"for": {"identifier": {"system": NHS, "value": "1234567890"}}})
    answer = api.post("/fhir/Task", nhs)
    assert answer.status_code == 422
    assert _issue(answer)["expression"] == ["Task.for.identifier.value"]
    snomed = _task(p, code={"coding": [{"system": "http://snomed.info/sct", "code": "12345"}]})
    assert _issue(api.post("/fhir/Task", snomed))["expression"] == ["Task.code.coding[0].code"]
    shape = _task(p, restriction={"period": {"end": "next week"}})
    assert _issue(api.post("/fhir/Task", shape))["expression"] == ["Task.restriction.period.end"]
    assert api.http.post("/fhir/Task", "{not json", content_type=FHIR).status_code == 400
    assert api.post("/fhir/CarePlan", {"resourceType": "CarePlan"}).status_code == 405
    assert api.get("/fhir/Practitioner/1").status_code == 404
    assert api.get("/fhir/Task/abc").status_code == 404
    for odd in ("/fhir/Patient/%2F%0A", "/fhir/Task//", "/fhir/%0A"):  # no page of HTML
        assert _issue(api.get(odd))["code"] == "not-supported", odd
    narrow = Api(_token(p, "system/Patient.rs"))
    refused = narrow.post("/fhir/Task", _task(p))
    assert refused.status_code == 403 and "system/Task.c" in _issue(refused)["diagnostics"]
    assert Task.objects.count() == 0


# ---------------------------------------------------------------------------------------
# Subscriptions


class _Receiver(BaseHTTPRequestHandler):
    refuse = 0
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if _Receiver.refuse > 0:
            _Receiver.refuse -= 1
            self.send_response(503)
        else:
            _Receiver.received.append(body)
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.received, _Receiver.refuse = [], 2
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_a_failing_receiver_gets_every_task_change_in_order_in_the_end(
    api: Api, partner: dict[str, Any], receiver: str
) -> None:
    p = partner
    subscription = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Our tasks",
        "criteria": Topic.TASK.value,
        "channel": {
            "type": "rest-hook",
            "endpoint": receiver,
            "payload": FHIR,
            "_payload": {
                "extension": [
                    {
                        "url": notify.BACKPORT + "backport-payload-content",
                        "valueCode": "full-resource",
                    }
                ]
            },
        },
    }
    made = api.post("/fhir/Subscription", subscription)
    assert made.status_code == 201, made.content
    task = api.post("/fhir/Task", _task(p)).json()
    api.put(f"/fhir/Task/{task['id']}", {**task, "status": "accepted"}, version=1)
    assert Notification.objects.count() == 2
    first = notify.deliver()
    assert first == {"delivered": 0, "failed": 1}  # refused: the second waits behind it
    sub = Subscription.objects.get()
    assert sub.status == "error" and "event 1" in sub.error
    Notification.objects.update(next_attempt_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert notify.deliver() == {"delivered": 0, "failed": 1}
    backoff = Notification.objects.get(number=1)
    assert backoff.attempts == 2 and backoff.next_attempt_at > dt.datetime.now(
        dt.UTC
    ) + dt.timedelta(seconds=9)
    Notification.objects.update(next_attempt_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert notify.deliver() == {"delivered": 2, "failed": 0}
    assert notify.deliver() == {"delivered": 0, "failed": 0}
    numbers = [
        next(
            part["valueString"]
            for part in b["entry"][0]["resource"]["parameter"][5]["part"]
            if part["name"] == "event-number"
        )
        for b in _Receiver.received
    ]
    assert numbers == ["1", "2"]
    assert [b["entry"][1]["resource"]["status"] for b in _Receiver.received] == [
        "requested",
        "accepted",
    ]
    for b in _Receiver.received:
        _valid(b)
    assert Subscription.objects.get().status == "active"
    other_team = factories.team("ZU0002")
    outsider = factories.professional("far", teams=[other_team])
    Task.objects.create(
        person_id="elsewhere",
        description="x",
        owner_team=other_team,
        due=dt.date.today(),
        requested_by=outsider,
    )
    assert Notification.objects.count() == 2  # not this organisation's: not told


def test_the_ig_lead_role_registers_clients_and_the_system_account_never_signs_in(
    partner: dict[str, Any],
) -> None:
    account = partner["client"].account
    assert account.role == Role.PARTNER_SYSTEM and not account.user.has_usable_password()
    web = Client()
    answer = web.post("/sign-in/", {"username": account.user.username, "password": "anything"})
    assert answer.status_code == 200 and "_auth_user_id" not in web.session


# ---------------------------------------------------------------------------------------
# Whatever a partner sends: an answer, never a server error

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)
TASK_FIELDS = [
    "status",
    "intent",
    "description",
    "for",
    "owner",
    "restriction",
    "basedOn",
    "identifier",
    "code",
    "statusReason",
    "id",
    "resourceType",
]


def _answered(answer: Any, what: str) -> None:
    assert answer.status_code < 500 or answer.status_code == 503, (what, answer.content[:500])
    if answer.status_code >= 400 and answer.status_code != 405:
        assert answer["Content-Type"] == FHIR, what
        assert answer.json()["resourceType"] == "OperationOutcome", what


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(["Task", "ServiceRequest", "Subscription", "CarePlan", "Bundle"]),
    changes=st.dictionaries(
        st.sampled_from(
            [
                *TASK_FIELDS,
                "subject",
                "performer",
                "category",
                "criteria",
                "channel",
                "entry",
                "type",
                "period",
            ]
        ),
        JSON_VALUES,
        max_size=4,
    ),
    dropped=st.lists(st.sampled_from(TASK_FIELDS), max_size=3),
    version=st.none() | st.text(max_size=8) | st.integers(-2, 5).map(lambda n: f'W/"{n}"'),
)
def test_generated_bad_resources_get_an_operation_outcome(
    api: Api,
    partner: dict[str, Any],
    kind: str,
    changes: dict[str, Any],
    dropped: list[str],
    version: str | None,
) -> None:
    body: dict[str, Any] = {**_task(partner), "resourceType": kind, **changes}
    for name in dropped:
        body.pop(name, None)
    headers = {"HTTP_IF_MATCH": version} if version is not None else {}
    target = {"Bundle": "/fhir/", "CarePlan": f"/fhir/CarePlan/{partner['plan'].pk}"}.get(
        kind, f"/fhir/{kind}"
    )
    if kind == "CarePlan":
        _answered(
            api.http.put(target, json.dumps(body), content_type=FHIR, **headers), f"PUT {body}"
        )
    else:
        _answered(api.post(target, body, **headers), f"POST {target} {body}")
    task = Task.objects.first()
    if task is not None:
        _answered(
            api.http.put(f"/fhir/Task/{task.pk}", json.dumps(body), content_type=FHIR, **headers),
            f"PUT task {body}",
        )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(
        [
            "Patient",
            "CarePlan",
            "Goal",
            "Task",
            "ServiceRequest",
            "EpisodeOfCare",
            "Encounter",
            "Observation",
            "QuestionnaireResponse",
            "Questionnaire",
            "HealthcareService",
            "Subscription",
            "CareTeam",
        ]
    ),
    query=st.dictionaries(
        st.sampled_from(
            [
                "patient",
                "subject:identifier",
                "status",
                "_count",
                "_offset",
                "date",
                "_lastUpdated",
                "authored-on",
                "_include",
                "_revinclude",
                "identifier",
                "owner",
                "based-on",
                "_id",
                "category",
                "_sort",
                "performer",
                "code",
                "x",
            ]
        ),
        st.text(max_size=24)
        | st.sampled_from(
            [
                "ge2026-01-01",
                "le2026-13-40",
                "Patient/",
                "a|b|c",
                "CarePlan:goal",
                "-1",
                "99999999999999999999",
            ]
        ),
        max_size=3,
    ),
    rid=st.text(max_size=30),
)
def test_generated_searches_and_addresses_are_answered(
    api: Api, kind: str, query: dict[str, str], rid: str
) -> None:
    _answered(api.http.get(f"/fhir/{kind}", query), f"GET {kind} {query}")
    from urllib.parse import quote

    path = quote(rid, safe="")
    for url in (
        f"/fhir/{kind}/{path}",
        f"/fhir/{kind}/{path}/_history",
        f"/fhir/{kind}/{path}/_history/{path}",
    ):
        _answered(api.get(url), f"GET {url}")


def test_the_ig_lead_registers_a_system_rotates_its_keys_and_deactivates_it(
    partner: dict[str, Any],
) -> None:
    ig = factories.professional("ig", role=Role.IG_LEAD)
    web = Client()
    web.force_login(ig.user)
    keys = Keys.ec("first")
    page = web.get("/api-clients/")
    assert page.status_code == 200 and b"Ashcombe GP system" in page.content
    refused = web.post(
        "/api-clients/new/",
        {
            "name": "Social care system",
            "organisation": partner["nurse"].organisation.pk,
            "teams": [partner["team"].pk],
            "scopes": "system/Task.read patient/*.*",
            "jwks": "{}",
        },
    )
    assert refused.status_code == 200
    assert (
        b"is not a SMART system scope" in refused.content and b"JSON Web Key Set" in refused.content
    )
    made = web.post(
        "/api-clients/new/",
        {
            "name": "Social care system",
            "organisation": partner["nurse"].organisation.pk,
            "teams": [partner["team"].pk],
            "scopes": "system/Task.read\nsystem/CarePlan.rs",
            "jwks": json.dumps(jwks(keys)),
        },
    )
    assert made.status_code == 302
    client = ApiClient.objects.get(name="Social care system")
    assert client.scopes == ["system/Task.rs", "system/CarePlan.rs"]
    assert [t.pk for t in client.account.teams_by_name] == [partner["team"].pk]
    bad = web.post(
        f"/api-clients/{client.pk}/", {"action": "keys", "jwks": '{"keys": [{"kty": "oct"}]}'}
    )
    assert b"only RSA and EC public keys" in bad.content
    assert ApiClient.objects.get(pk=client.pk).jwks == jwks(keys)  # unchanged
    web.post(
        f"/api-clients/{client.pk}/",
        {"action": "keys", "jwks": json.dumps(jwks(Keys.rsa("second")))},
    )
    assert [k["kid"] for k in ApiClient.objects.get(pk=client.pk).jwks["keys"]] == ["second"]
    web.post(f"/api-clients/{client.pk}/deactivate/")
    assert not ApiClient.objects.get(pk=client.pk).active
    registered = AuditEvent.objects.filter(actor="ig", action="register_api_client")
    assert [e.detail["client"] for e in registered] == [
        partner["client"].client_id,
        client.client_id,
    ]
    assert AuditEvent.objects.filter(action="deactivate_api_client").count() == 1
    nurse = Client()
    nurse.force_login(partner["nurse"].user)
    assert nurse.get("/api-clients/").status_code == 403
