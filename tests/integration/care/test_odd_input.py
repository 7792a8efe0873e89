"""Query strings and forms as an attacker or an old browser tab sends them: every one is
parsed by a form with bounds, so the page names the problem and nothing is changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from neighbourhood.care.audit.models import AuditEvent
from neighbourhood.care.caseload import actions
from neighbourhood.care.roles import Role
from tests.support import factories
from tests.support.people import listed

pytestmark = pytest.mark.django_db


def _client(role: str = Role.CARE_COORDINATOR) -> tuple[Client, object]:
    me = factories.professional(f"odd-{role}", role=role, teams=[factories.team("ZU0001")])
    client = Client()
    client.force_login(me.user)
    return client, me


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"page": "²"}, None),  # a digit to str.isdigit, not to int
        ({"page": str(2**63)}, None),
        ({"page": "-3"}, None),
        ({"imd_quintile": "²"}, "Deprivation quintile must be a number from 1 to 5"),
        ({"imd_quintile": str(2**63)}, "Deprivation quintile must be a number from 1 to 5"),
        ({"imd_quintile": "0"}, "Deprivation quintile must be a number from 1 to 5"),
        ({"cohort": "\x00"}, "Choose a cohort from the list"),
        ({"q": "%_\\" * 100, "sort": "'; DROP TABLE"}, None),
        ({"q": "\x00"}, "Null characters are not allowed."),
    ],
)
def test_odd_case_finding_queries_are_named_not_errors(
    query: dict[str, str], problem: str | None
) -> None:
    client, _ = _client()
    response = client.get(reverse("case-finding"), query)
    assert response.status_code == 200
    problems = response.context["problems"]
    assert problems == ([problem] if problem else [])
    assert 1 <= response.context["page"] <= response.context["pages"]


def test_odd_planning_and_audit_queries_are_named_not_errors() -> None:
    client, _ = _client(Role.ANALYST)
    planning = client.get(reverse("planning"), {"by": "\x00²"})
    assert planning.status_code == 200 and planning.context["dimension"] == "imd_quintile"
    ig, _ = _client(Role.IG_LEAD)
    searched = ig.get(
        reverse("audit-search"),
        {"actor": "a\x00b", "since": "²", "until": "2026-02-30", "page": str(2**63)},
    )
    assert searched.status_code == 200
    assert searched.context["problems"] == [
        "Null characters are not allowed.",
        "'²' is not a date: write it as 2026-11-24",
        "'2026-02-30' is not a date: write it as 2026-11-24",
    ]
    entry = AuditEvent.objects.filter(action="search_audit").latest("seq")
    assert entry.detail["actor"] == "ab" and entry.detail["since"] == "²"


def test_a_form_sent_to_the_enrolment_page_itself_changes_nothing(published_dir: Path) -> None:
    client, me = _client()
    person = listed(published_dir, "ZU0001")[0]["person_id"]
    team = factories.team("ZU0001")
    enrolment = actions.enrol(person_id=person, team=team, coordinator=me, reason="x", by=me)
    url = reverse("enrolment", args=[enrolment.pk])
    for data in ({"action": "discharge", "discharge-end_reason": "goals_met"}, {}):
        sent = client.post(url, data | {"discharge-version": enrolment.version})
        assert sent.status_code == 405 and sent["Allow"] == "GET"
        assert b"Nothing was changed" in sent.content
    enrolment.refresh_from_db()
    assert enrolment.is_open and enrolment.version == 1
    assert client.get(reverse("enrolment-update", args=[enrolment.pk])).status_code == 405
