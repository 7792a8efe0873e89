"""Information governance at the doors of the application (issue 22, first part): a
closed enrolment shows a person only to a team that still cares for them, every refusal
is on the trail, and no page of a signed-in user is kept in a browser's cache."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from neighbourhood.care.audit.models import AuditEvent
from neighbourhood.care.caseload import actions
from neighbourhood.care.caseload.models import EndReason
from neighbourhood.care.roles import Role
from neighbourhood.care.teams.models import Professional
from tests.support import factories
from tests.support.people import listed, not_listed

pytestmark = pytest.mark.django_db


def _client(professional: Professional) -> Client:
    client = Client()
    client.force_login(professional.user)
    return client


def test_a_closed_enrolment_is_shown_only_while_a_care_relationship_remains(
    published_dir: Path,
) -> None:
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    on_list = listed(published_dir, "ZU0001")[0]["person_id"]
    off_list = not_listed(published_dir)
    client = _client(nurse)
    closed = {}
    for person in (on_list, off_list):
        made = actions.enrol(person_id=person, team=team, coordinator=nurse, reason="x", by=nurse)
        actions.discharge(
            enrolment_id=made.pk, version=made.version, by=nurse, reason=EndReason.GOALS_MET
        )
        closed[person] = made.pk

    still_cared_for = client.get(reverse("enrolment", args=[closed[on_list]]))
    assert still_cared_for.status_code == 200
    viewed = AuditEvent.objects.filter(action="view_enrolment", person_id=on_list).latest("seq")
    assert viewed.reason.startswith("closed enrolment of INT ZU0001; on the case-finding list")

    gone = client.get(reverse("enrolment", args=[closed[off_list]]))
    assert gone.status_code == 403
    assert b"no longer cares for this person" in gone.content
    assert off_list.encode() not in gone.content
    refused = AuditEvent.objects.filter(person_id=off_list).latest("seq")
    assert (refused.action, refused.actor) == ("refused_enrolment", "nurse")
    assert not AuditEvent.objects.filter(action="view_enrolment", person_id=off_list).exists()


def test_a_page_refused_for_the_role_is_on_the_trail(published_dir: Path) -> None:
    analyst = factories.professional("analyst", role=Role.ANALYST)
    person = listed(published_dir, "ZU0001")[0]["person_id"]
    refused = _client(analyst).get(reverse("profile", args=[person]))
    assert refused.status_code == 403
    entry = AuditEvent.objects.latest("seq")
    assert (entry.action, entry.actor, entry.actor_role, entry.person_id) == (
        "refused_page",
        "analyst",
        Role.ANALYST,
        person,
    )
    assert entry.reason == "needs view_person" and entry.detail == {"page": "profile"}


def test_signed_in_pages_are_not_cached_and_features_are_off(published_dir: Path) -> None:
    nurse = factories.professional("nurse", teams=[factories.team("ZU0001")])
    person = listed(published_dir, "ZU0001")[0]["person_id"]
    page = _client(nurse).get(reverse("profile", args=[person]))
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"] and "private" in page["Cache-Control"]
    assert "camera=()" in page["Permissions-Policy"]
    sign_in = Client().get(reverse("sign-in"))
    assert "camera=()" in sign_in["Permissions-Policy"]


def test_changes_of_who_may_see_records_are_audited_with_who_made_them(
    admin_client: Client,
) -> None:
    from neighbourhood.care.teams.models import Membership

    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    assert list(
        AuditEvent.objects.filter(action__in=["account_created", "role_set", "team_member_added"])
        .order_by("seq")
        .values_list("actor", "action")
    )[-3:] == [
        ("system", "account_created"),
        ("system", "role_set"),
        ("system", "team_member_added"),
    ]

    change = reverse("admin:teams_professional_change", args=[nurse.pk])
    form = admin_client.get(change).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data |= {"role": Role.ANALYST, "user": nurse.user.pk, "organisation": nurse.organisation.pk}
    assert admin_client.post(change, data).status_code == 302
    nurse.refresh_from_db()
    assert nurse.role == Role.ANALYST
    entry = AuditEvent.objects.latest("seq")
    assert (entry.actor, entry.actor_role, entry.action) == ("admin", "admin", "role_set")
    assert entry.detail == {
        "professional": "nurse",
        "from": Role.CARE_COORDINATOR,
        "to": Role.ANALYST,
    }

    Membership.objects.filter(professional=nurse).delete()
    removed = AuditEvent.objects.latest("seq")
    assert (removed.action, removed.detail["professional"]) == ("team_member_removed", "nurse")

    nurse.user.is_active = False
    nurse.user.set_password("another-long-passphrase")
    nurse.user.save()
    assert list(AuditEvent.objects.order_by("-seq").values_list("action", flat=True)[:2]) == [
        "password_set",
        "account_changed",
    ]
    assert "another-long-passphrase" not in str(list(AuditEvent.objects.values("detail")))


def test_the_audit_search_pages_through_the_trail() -> None:
    from neighbourhood.care.audit.chain import record

    ig = factories.professional("ig", role=Role.IG_LEAD)
    for n in range(60):
        record("someone", "view_profile", person_id=f"P{n:012d}", reason="test")
    client = _client(ig)
    first = client.get(reverse("audit-search"), {"action": "view_profile"})
    assert b"Page 1 of 2." in first.content
    older = re.search(rb'href="\?([^"]*page=2)">Older</a>', first.content)
    assert older is not None
    query = older.group(1).decode().replace("&amp;", "&")
    second = client.get(reverse("audit-search") + "?" + query)
    assert b"Page 2 of 2." in second.content and b"P000000000000" in second.content


def test_the_pipeline_called_from_python_writes_files_for_their_owner_only(
    published_dir: Path,
) -> None:
    """synth, ingest, link, refresh and publish called in process (as this suite does),
    not only from the command line: extracts, truth, warehouse, refresh and published
    files, and their folders, are closed to group and others."""
    made = [p for p in published_dir.rglob("*") if not p.is_symlink()]
    assert len(made) > 20
    assert {"extracts", "truth", "warehouse.duckdb", "published"} <= {p.name for p in made}
    assert [str(p) for p in made if p.stat().st_mode & 0o077] == []
