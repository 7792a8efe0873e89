"""The caseload pages end to end through Django's test client, and what a user sees when
something is wrong on our side."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from neighbourhood.care.audit.models import AuditEvent
from neighbourhood.care.caseload import actions
from neighbourhood.care.caseload.models import EndReason, Enrolment
from neighbourhood.care.roles import Role
from tests.support import factories
from tests.support.commands import neighbourhood
from tests.support.people import listed

pytestmark = pytest.mark.django_db


def _client_for(professional: Any) -> Client:
    client = Client()
    client.force_login(professional.user)
    return client


def test_discharge_and_transfer_through_the_enrolment_page(published_dir: Path) -> None:
    team_a, team_b = factories.team("ZU0001"), factories.team("ZU0002")
    nurse = factories.professional("nurse", teams=[team_a, team_b])
    people = listed(published_dir, "ZU0001", 2)
    first = actions.enrol(
        person_id=people[0]["person_id"], team=team_a, coordinator=nurse, reason="frail", by=nurse
    )
    client = _client_for(nurse)
    page = client.get(reverse("enrolment", args=[first.pk]))
    assert page.status_code == 200 and b"Discharge from the caseload" in page.content
    missing = client.post(
        reverse("enrolment-discharge", args=[first.pk]),
        {"discharge-version": first.version, "discharge-end_reason": ""},
    )
    assert b"Choose why this person is leaving the caseload" in missing.content
    chosen = client.get(reverse("enrolment", args=[first.pk]), {"transfer_to": team_b.pk})
    assert chosen.context["transfer_form"].team == team_b
    moved = client.post(
        reverse("enrolment-transfer", args=[first.pk]),
        {
            "transfer-version": first.version,
            "team": team_b.pk,
            "transfer-care_coordinator": nurse.pk,
            "transfer-note": "closer to home",
        },
    )
    assert moved.status_code == 302
    now = Enrolment.objects.get(person_id=people[0]["person_id"], ended_at__isnull=True)
    assert now.team == team_b
    done = client.post(
        reverse("enrolment-discharge", args=[now.pk]),
        {
            "discharge-version": now.version,
            "discharge-end_reason": EndReason.GOALS_MET,
        },
    )
    assert done.status_code == 302
    assert not Enrolment.objects.filter(
        person_id=people[0]["person_id"], ended_at__isnull=True
    ).exists()
    actions_written = list(
        AuditEvent.objects.filter(person_id=people[0]["person_id"]).values_list("action", flat=True)
    )
    assert actions_written == [
        "enrol",
        "view_enrolment",
        "view_enrolment",
        "view_enrolment",
        "transfer",
        "discharge",
    ]


def _options(page: Any, select_id: str) -> list[str]:
    """The labels of a select's options, as the page shows them."""
    html = page.content.decode()
    start = html.index(f'id="{select_id}"')
    block = html[start : html.index("</select>", start)]
    return [label for _, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)<', block)]


def test_a_transfer_chooses_the_team_first_then_a_coordinator_from_it(
    published_dir: Path,
) -> None:
    team_a, team_b, team_c = (factories.team(f"ZU000{n}") for n in (1, 2, 3))
    nurse = factories.professional("nurse", teams=[team_a])
    factories.professional("in-b", teams=[team_b])
    factories.professional("in-c", teams=[team_c])
    person = listed(published_dir, "ZU0001")[0]["person_id"]
    first = actions.enrol(
        person_id=person, team=team_a, coordinator=nurse, reason="frail", by=nurse
    )
    client = _client_for(nurse)
    url = reverse("enrolment", args=[first.pk])

    page = client.get(url)
    assert _options(page, "id_transfer_to") == [
        "Choose a team",
        f"{team_b.name} ({team_b.neighbourhood.name})",
        f"{team_c.name} ({team_c.neighbourhood.name})",
    ]  # every other team, and not this person's own
    assert 'id="id_transfer-care_coordinator"' not in page.content.decode()

    chosen = client.get(url, {"transfer_to": team_b.pk})
    assert _options(chosen, "id_transfer-care_coordinator") == [
        "Choose a care coordinator",
        *(f"{p.display_name}, Nurse ({p.organisation.name})" for p in team_b.members.all()),
    ]
    assert _options(chosen, "id_care_coordinator") == [  # the update form: team A's own
        f"{nurse.display_name}, Nurse ({nurse.organisation.name})"
    ]
    assert f'<option value="{nurse.pk}" selected>' in chosen.content.decode()  # the current one
    ids = re.findall(r' id="([^"]+)"', chosen.content.decode())
    assert len(ids) == len(set(ids)), "an id is used twice on the page"

    for bad in ("999999", "not-a-team", str(team_a.pk)):
        refused = client.get(url, {"transfer_to": bad})
        assert b"Choose a team from the list" in refused.content
        assert refused.context["transfer_form"] is None

    outsider = team_c.members.get()
    wrong = client.post(
        url + "transfer/",
        {
            "transfer-version": first.version,
            "team": team_b.pk,
            "transfer-care_coordinator": outsider.pk,
        },
    )
    assert wrong.status_code == 200
    assert b"they must be a member of the new team" in wrong.content
    no_team = client.post(
        url + "transfer/",
        {"transfer-version": first.version, "transfer-care_coordinator": 1},
    )
    assert b"Choose the team that takes this person on" in no_team.content
    first.refresh_from_db()
    assert first.is_open and first.team == team_a and first.version == 1


def test_with_no_other_team_the_page_says_so_instead_of_an_empty_list(
    published_dir: Path,
) -> None:
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    person = listed(published_dir, "ZU0001")[0]["person_id"]
    only = actions.enrol(person_id=person, team=team, coordinator=nurse, reason="frail", by=nurse)
    page = _client_for(nurse).get(reverse("enrolment", args=[only.pk]))
    assert b"There is no other team to transfer to yet" in page.content
    assert b'id="id_transfer_to"' not in page.content
    factories.team("ZU0002")
    page = _client_for(nurse).get(reverse("enrolment", args=[only.pk]))
    assert b"There is no other team to transfer to yet" not in page.content
    assert _options(page, "id_transfer_to")[1:] == ["INT ZU0002 (Neighbourhood ZU0002)"]


def test_another_teams_enrolment_cannot_be_changed(published_dir: Path) -> None:
    team_a, team_b = factories.team("ZU0001"), factories.team("ZU0002")
    nurse_a = factories.professional("nurse-a", teams=[team_a])
    nurse_b = factories.professional("nurse-b", teams=[team_b])
    person = listed(published_dir, "ZU0002")[0]["person_id"]
    theirs = actions.enrol(
        person_id=person, team=team_b, coordinator=nurse_b, reason="frail", by=nurse_b
    )
    client = _client_for(nurse_a)
    assert client.get(reverse("enrolment", args=[theirs.pk])).status_code == 404  # as if none
    response = client.post(
        reverse("enrolment-discharge", args=[theirs.pk]),
        {
            "discharge-version": theirs.version,
            "discharge-end_reason": EndReason.DIED,
        },
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_open


def test_the_ig_lead_searches_the_trail(published_dir: Path) -> None:
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    person = listed(published_dir, "ZU0001")[0]["person_id"]
    _client_for(nurse).get(reverse("profile", args=[person]))
    ig = factories.professional("ig", role=Role.IG_LEAD)
    client = _client_for(ig)
    found = client.get(reverse("audit-search"), {"person": person})
    assert found.status_code == 200
    assert [e.action for e in found.context["page"]] == ["view_profile"]
    by_actor = client.get(reverse("audit-search"), {"actor": "nurse", "action": "view_profile"})
    assert by_actor.context["page"].paginator.count == 1
    bad = client.get(reverse("audit-search"), {"since": "24/11/2026"})
    assert b"is not a date: write it as 2026-11-24" in bad.content
    assert AuditEvent.objects.filter(action="search_audit", actor="ig").count() == 3


def test_nothing_published_yet_says_what_to_run(tmp_path: Path, settings: Any) -> None:
    settings.DATA_DIR = tmp_path
    client = _client_for(factories.professional("nurse", teams=[factories.team("ZU0001")]))
    response = client.get(reverse("case-finding"))
    assert response.status_code == 503
    assert b"Nothing has been published yet" in response.content
    assert b"neighbourhood publish" in response.content


def test_a_fault_on_our_side_shows_an_apology_not_a_traceback(
    tmp_path: Path, settings: Any
) -> None:
    (tmp_path / "published").mkdir()
    (tmp_path / "published" / "current.json").write_text(json.dumps({"file": "v0001.duckdb"}))
    (tmp_path / "published" / "v0001.duckdb").write_text("not a database")
    settings.DATA_DIR = tmp_path
    client = _client_for(factories.professional("nurse", teams=[factories.team("ZU0001")]))
    client.raise_request_exception = False
    response = client.get(reverse("case-finding"))
    assert response.status_code == 500
    assert b"Sorry, there is a problem with the service" in response.content
    assert b"Traceback" not in response.content and b"duckdb" not in response.content.lower()


def test_the_default_database_is_sqlite_in_wal_mode(tmp_path: Path) -> None:
    done = neighbourhood("manage", "--data", str(tmp_path), "migrate", "--verbosity", "0")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "care.sqlite3") as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"caseload_enrolment", "audit_auditevent", "teams_team"} <= tables


def test_the_models_and_their_migrations_agree() -> None:
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)  # exits 1 if not
