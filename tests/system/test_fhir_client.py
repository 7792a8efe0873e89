"""A real FHIR client (fhirpy) drives the API over HTTP on a served application with
PostgreSQL: a token by SMART Backend Services, searches with includes and paging, a
conditional create, a conflicting update, a transaction, a subscription delivered, and
ten writers at once on one care plan, none of whose changes is lost."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import MultipleResourcesFound, OperationOutcome

from neighbourhood.care.fhirapi import notify
from neighbourhood.care.fhirapi.models import Topic
from neighbourhood.care.plans.models import CarePlan, Task
from neighbourhood.care.referrals.models import Referral, Service
from tests.support.concurrency import writers_at_once
from tests.support.partner import NHS_NUMBER as NHS
from tests.support.partner import Keys, cared_for, step_up_body, task_body, token_form

pytestmark = pytest.mark.django_db(transaction=True)
WRITERS = 10


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        _Hook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def served(live_server: Any, published_dir: Path) -> dict[str, Any]:
    world = cared_for(published_dir, Keys.ec(), "Community system")
    client = world["client"]
    base = f"{live_server.url}/fhir"
    answer = requests.post(
        f"{base}/token",
        data=token_form(world["keys"], client.client_id, f"{base}/token", "system/*.cruds"),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return {**world, "base": base, "token": answer.json()["access_token"]}


def _fhir(s: dict[str, Any], **headers: str) -> SyncFHIRClient:
    return SyncFHIRClient(
        s["base"], authorization=f"Bearer {s['token']}", extra_headers=headers or None
    )


def _task(s: dict[str, Any], text: str) -> dict[str, Any]:
    """The task's elements, as fhirpy takes them beside the resource type."""
    body = task_body(s, text, days=3)
    del body["resourceType"]
    return body


def test_a_fhir_client_searches_creates_updates_and_transacts(served: dict[str, Any]) -> None:
    s, fhir = served, _fhir(served)
    capability = fhir.execute("metadata", method="get")
    assert capability["resourceType"] == "CapabilityStatement"
    retry = {"identifier": [{"system": "https://community.example/task", "value": "A-1"}]}
    for _ in range(2):  # a retry after a lost answer: fhirpy's conditional create
        fhir.resource("Task", **_task(s, "Phone after the visit"), **retry).create(
            identifier="https://community.example/task|A-1"
        )
    for n in range(3):
        fhir.resource("Task", **_task(s, f"Action {n}")).save()
    assert Task.objects.count() == 4
    everything = (
        fhir.resources("Task").search(patient=f"Patient/{s['person']['person_id']}").limit(3)
    )
    assert len(everything.fetch()) == 3 and len(everything.fetch_all()) == 4  # via next links
    bundle = (
        fhir.resources("CarePlan")
        .search(**{"subject:identifier": f"{NHS}|{s['person']['nhs_number']}"})
        .include("CarePlan", "goal")
        .revinclude("Task", "based-on")
        .fetch_raw()
    )
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["CarePlan", "Goal", "Task", "Task", "Task", "Task"]

    task = fhir.resources("Task").search(identifier="https://community.example/task|A-1").get()
    first = _fhir(s, **{"If-Match": 'W/"1"'})
    second = _fhir(s, **{"If-Match": 'W/"1"'})
    mine = first.resource("Task", **{**task.serialize(), "status": "accepted"})
    assert mine.save()["meta"]["versionId"] == "2"
    theirs = second.resource("Task", **{**task.serialize(), "status": "rejected"})
    theirs["statusReason"] = {"text": "not ours"}
    with pytest.raises(MultipleResourcesFound, match="at version 2, not 1"):  # fhirpy's 412
        theirs.save()
    assert Task.objects.get(pk=int(task.id)).status == "accepted"

    service = Service.objects.create(
        name="Reablement",
        kind="reablement",
        organisation=s["nurse"].organisation,
        respond_hours=4,
        contact_hours=24,
    )
    referral = step_up_body(s, service.pk, "Two falls this week")
    transaction = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:0b7d",
                "resource": referral,
                "request": {"method": "POST", "url": "ServiceRequest"},
            },
            {
                "resource": {
                    "resourceType": "Task",
                    **_task(s, "Visit within 2 days"),
                    "basedOn": [{"reference": "urn:uuid:0b7d"}],
                },
                "request": {"method": "POST", "url": "Task"},
            },
        ],
    }
    answer = fhir.execute("", method="post", data=transaction)
    assert [e["response"]["status"] for e in answer["entry"]] == ["201 Created", "201 Created"]
    assert Task.objects.filter(referral=Referral.objects.get()).count() == 1
    other = Service.objects.create(
        name="Falls service",
        kind="community",
        organisation=s["nurse"].organisation,
        respond_hours=24,
        contact_hours=72,
    )
    transaction["entry"][0]["resource"]["performer"] = [
        {"reference": f"HealthcareService/{other.pk}"}
    ]
    transaction["entry"][1]["resource"]["owner"]["identifier"]["value"] = "0"
    with pytest.raises(OperationOutcome, match=r"Bundle.entry\[1\]"):
        fhir.execute("", method="post", data=transaction)
    assert Referral.objects.count() == 1  # the second referral went with its task


def test_a_subscription_is_delivered_and_ten_writers_lose_no_update(served: dict[str, Any]) -> None:
    s, fhir = served, _fhir(served)
    _Hook.received = []
    hook = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        fhir.resource(
            "Subscription",
            status="requested",
            reason="tasks of our organisation",
            criteria=Topic.TASK.value,
            channel={
                "type": "rest-hook",
                "endpoint": f"http://127.0.0.1:{hook.server_port}/hook",
                "payload": "application/fhir+json",
            },
        ).save()
        made = fhir.resource("Task", **_task(s, "Check the pendant alarm")).save()
        assert notify.deliver() == {"delivered": 1, "failed": 0}
        focus = _Hook.received[0]["entry"][1]["fullUrl"]
        assert focus.endswith(f"/Task/{made.id}")
    finally:
        hook.shutdown()

    url = f"CarePlan/{s['plan'].pk}"

    def write(n: int) -> None:
        plan = _fhir(s).execute(url, method="get")
        plan["description"] = f"{plan['description']} [writer {n}]"
        writer = _fhir(s, **{"If-Match": f'W/"{plan["meta"]["versionId"]}"'})
        writer.execute(url, method="put", data=plan)  # a 412 is MultipleResourcesFound

    conflicts = writers_at_once(WRITERS, write, MultipleResourcesFound)
    saved = CarePlan.objects.get(pk=s["plan"].pk)
    assert saved.version == 1 + WRITERS
    about = saved.current().content["about_me"]
    assert sorted(about.split(" [writer ")[1:]) == sorted(f"{n}]" for n in range(WRITERS))
    assert conflicts  # they did meet: each read again and wrote again
