"""Information governance: deny by default, the role × permission matrix pair by pair,
care relationships, planning without identifiers, lockout, and nothing personal in logs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from neighbourhood.care import published
from neighbourhood.care.access import BEARER, PUBLIC
from neighbourhood.care.audit.models import AuditEvent
from neighbourhood.care.caseload import actions
from neighbourhood.care.roles import MATRIX, Permission, Role
from tests.support import factories
from tests.support.people import listed, not_listed, scalar

pytestmark = pytest.mark.django_db

PAGES: dict[str, Permission] = {
    "case-finding": Permission.VIEW_CASE_FINDING,
    "caseload": Permission.VIEW_CASELOAD,
    "planning": Permission.VIEW_PLANNING,
    "workforce-map": Permission.VIEW_PLANNING,
    "capacity-scenarios": Permission.VIEW_PLANNING,
    "evaluation": Permission.VIEW_PLANNING,
    "audit-search": Permission.SEARCH_AUDIT,
    "teams": Permission.VIEW_TEAMS,
    "profile": Permission.VIEW_PERSON,
    "enrol": Permission.MANAGE_CASELOAD,
    "care-plan": Permission.VIEW_CARE_RECORD,
    "advance-care-plan": Permission.VIEW_CARE_RECORD,
    "care-plan-edit": Permission.WRITE_CARE_PLAN,
    "what-matters": Permission.WRITE_CARE_PLAN,
    "advance-care-plan-new": Permission.WRITE_CARE_PLAN,
    "worklist": Permission.WORK_TASKS,
    "my-tasks": Permission.WORK_TASKS,
    "team-tasks": Permission.WORK_TASKS,
    "team-measures": Permission.VIEW_TEAM_MEASURES,
    "meetings": Permission.VIEW_MEETINGS,
    "meeting-new": Permission.RUN_MEETINGS,
    "referrals": Permission.RECEIVE_REFERRALS,
    "directory": Permission.VIEW_DIRECTORY,
    "referral-measures": Permission.VIEW_TEAM_MEASURES,
    "practice-inbox": Permission.PRACTICE_INBOX,
    "refer": Permission.REFER,
    "flag": Permission.VIEW_MEETINGS,
    "urgent-queue": Permission.URGENT_CARE,
    "urgent-call-new": Permission.TRIAGE,
    "urgent-board": Permission.URGENT_CARE,
    "urgent-measures": Permission.VIEW_TEAM_MEASURES,
    "wards": Permission.URGENT_CARE,
    "virtual-ward-admit": Permission.RESPOND,
    "api-clients": Permission.MANAGE_API_CLIENTS,
    "api-client-new": Permission.MANAGE_API_CLIENTS,
}
PERSON_PAGES = {
    "refer",
    "flag",
    "profile",
    "enrol",
    "care-plan",
    "advance-care-plan",
    "care-plan-edit",
    "what-matters",
    "advance-care-plan-new",
}


def _patterns(resolver: URLResolver) -> list[URLPattern]:
    found: list[URLPattern] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver) and entry.app_name == "admin":
            continue  # Django's admin admits staff only (test_the_admin_site_is_for_staff_only)
        if isinstance(entry, URLResolver):
            found += _patterns(entry)
        else:
            found.append(entry)
    return found


def _declared(pattern: URLPattern) -> Any:
    view = pattern.callback
    return getattr(view, "required_permission", None) or getattr(
        getattr(view, "view_class", None), "required_permission", None
    )


def test_every_page_declares_what_it_needs() -> None:
    missing = [str(p.pattern) for p in _patterns(get_resolver()) if _declared(p) is None]
    assert missing == []
    public = sorted(p.name or "" for p in _patterns(get_resolver()) if _declared(p) == PUBLIC)
    assert public == ["", "sign-in", "sign-out"]  # the unnamed one is the /assets/ redirect
    api = {p.name or "" for p in _patterns(get_resolver()) if _declared(p) == BEARER}
    assert api >= {"fhir-token", "fhir-metadata", "fhir-type", "fhir-instance"}
    assert all(name.startswith("fhir-") or not name for name in api)


def _signed_in(role: str, team_codes: tuple[str, ...] = ("ZU0001",)) -> Client:
    teams = [factories.team(code) for code in team_codes]
    professional = factories.professional(f"user-{role}", role=role, teams=teams)
    client = Client()
    client.force_login(professional.user)
    return client


def _url(name: str, person_id: str) -> str:
    return reverse(name, args=[person_id]) if name in PERSON_PAGES else reverse(name)


@pytest.mark.parametrize("role", [r.value for r in Role])
@pytest.mark.parametrize("page", sorted(PAGES))
def test_role_permission_matrix_pair_by_pair(role: str, page: str, published_dir: Path) -> None:
    person = listed(published_dir, "ZU0001")[0]["person_id"]
    client = _signed_in(role)
    if page != "enrol":  # writing a care record needs the person in the team's caseload
        team = factories.team("ZU0001")
        nurse = factories.professional("nurse", teams=[team])
        actions.enrol(person_id=person, team=team, coordinator=nurse, reason="x", by=nurse)
    response = client.get(_url(page, person))
    allowed = PAGES[page] in MATRIX[role]
    assert response.status_code == (200 if allowed else 403), (role, page)
    if not allowed:
        assert b"You cannot see this page" in response.content
        assert b"nhsuk-header" in response.content  # the design system's page, not Django's


@pytest.mark.parametrize("page", sorted(PAGES))
def test_nobody_signed_in_is_sent_to_sign_in(page: str, published_dir: Path) -> None:
    response = Client().get(_url(page, "N000000001"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("sign-in"))


def test_care_staff_see_only_people_their_team_cares_for(published_dir: Path) -> None:
    client = _signed_in(Role.CARE_COORDINATOR, ("ZU0001",))
    mine = listed(published_dir, "ZU0001")[0]
    theirs = listed(published_dir, "ZU0002")[0]
    shown = client.get(reverse("profile", args=[mine["person_id"]]))
    assert shown.status_code == 200
    assert mine["family_name"].encode() in shown.content
    refused = client.get(reverse("profile", args=[theirs["person_id"]]))
    assert refused.status_code == 403
    assert theirs["family_name"].encode() not in refused.content
    unlisted = client.get(reverse("profile", args=[not_listed(published_dir)]))
    assert unlisted.status_code == 403
    events = AuditEvent.objects.filter(person_id__in=[mine["person_id"], theirs["person_id"]])
    assert {(e.person_id, e.action) for e in events} == {
        (mine["person_id"], "view_profile"),
        (theirs["person_id"], "refused_profile"),
    }
    seen = events.get(action="view_profile")
    assert seen.actor == "user-care_coordinator"
    assert seen.reason == "on the case-finding list of Neighbourhood ZU0001"


def test_the_profile_names_conditions_as_a_person_reads_them(published_dir: Path) -> None:
    client = _signed_in(Role.CLINICIAN, ("ZU0001",))
    recorded = {
        p["person_id"]: (published.profile(p["person_id"]) or {})["conditions"]
        for p in listed(published_dir, "ZU0001", 25)
    }
    person, spelt = next((p, c) for p, c in recorded.items() if any("_" in x for x in c))
    page = client.get(reverse("profile", args=[person]))
    read = page.context["conditions"]
    assert len(read) == len(spelt) and not any("_" in c for c in read)
    assert page.context["medicines"] == [] and b"No medicines recorded" in page.content


def test_a_caseload_is_a_care_relationship_too(published_dir: Path) -> None:
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    person = not_listed(published_dir)
    client = Client()
    client.force_login(nurse.user)
    assert client.get(reverse("profile", args=[person])).status_code == 403
    actions.enrol(
        person_id=person, team=team, coordinator=nurse, reason="referred by the GP", by=nurse
    )
    assert client.get(reverse("profile", args=[person])).status_code == 200
    event = AuditEvent.objects.filter(person_id=person, action="view_profile").get()
    assert event.reason == "in the caseload of INT ZU0001"


def test_the_case_finding_list_filters_sorts_and_explains(published_dir: Path) -> None:
    client = _signed_in(Role.CLINICIAN, ("ZU0002",))
    everyone = client.get(reverse("case-finding"))
    total = scalar(published_dir, "SELECT count(*) FROM case_finding WHERE neighbourhood='ZU0002'")
    assert f"{total} match".encode() in everyone.content
    frail = scalar(
        published_dir,
        "SELECT count(*) FROM case_finding WHERE neighbourhood='ZU0002' AND cohort_frailty",
    )
    filtered = client.get(reverse("case-finding"), {"cohort": "frailty", "sort": "age"})
    assert f"{frail} match".encode() in filtered.content
    first = listed(published_dir, "ZU0002")[0]
    found = client.get(reverse("case-finding"), {"q": first["nhs_number"]})
    assert b"1 match" in found.content and first["family_name"].encode() in found.content
    bad = client.get(reverse("case-finding"), {"imd_quintile": "9", "cohort": "nonsense"})
    assert bad.status_code == 200
    assert b"Deprivation quintile must be a number from 1 to 5" in bad.content
    assert b"Choose a cohort from the list" in bad.content


def test_analysts_see_disclosure_controlled_aggregates_and_no_one(published_dir: Path) -> None:
    client = _signed_in(Role.ANALYST, ())
    page = client.get(reverse("planning"), {"by": "age_band"})
    assert page.status_code == 200
    html = page.content.decode()
    people = listed(published_dir, "ZU0001", 20) + listed(published_dir, "ZU0002", 20)
    for person in people:
        assert person["nhs_number"] not in html
        assert f"{person['given_name']} {person['family_name']}" not in html
    as_of = page.context["info"]["as_of"]
    assert f"the figures describe the population on {as_of.day} {as_of:%B %Y}" in html
    published_at = page.context["info"]["published_at"]
    if timezone.is_aware(published_at):  # shown in the site's time zone
        published_at = timezone.localtime(published_at)
    assert f"Published {published_at.day} {published_at:%B %Y at %H:%M};" in html
    rows = page.context["table"]
    cells = [r["people"] for r in rows] + [c for r in rows for c in r["cohorts"]]
    assert all(c is None or (c == 0 or (c >= 8 and c % 5 == 0)) for c in cells)
    assert any(c is None for c in cells)  # small groups exist, and were suppressed
    opted_in = scalar(published_dir, "SELECT count(*) FROM person_profiles WHERE NOT opted_out")
    shown = sum(r["people"] or 0 for r in rows)
    assert abs(shown - opted_in) <= 5 * len(rows) + 7 * len(rows)  # rounding and suppression
    opted_out = scalar(published_dir, "SELECT count(*) FROM person_profiles WHERE opted_out")
    everyone = opted_in + opted_out
    assert opted_out > 0 and shown < everyone - opted_out / 2


def test_forms_say_what_is_wrong_and_where(published_dir: Path) -> None:
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    client = Client()
    client.force_login(nurse.user)
    person = listed(published_dir, "ZU0001")[0]["person_id"]
    response = client.post(reverse("enrol", args=[person]), {"team": team.pk, "reason": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert 'href="#id_care_coordinator">Choose a care coordinator' in html
    assert 'href="#id_reason">Say why this person is joining the caseload' in html
    assert not AuditEvent.objects.filter(action="enrol").exists()


def test_a_stale_form_shows_the_conflict(published_dir: Path) -> None:
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    colleague = factories.professional("colleague", teams=[team])
    person = listed(published_dir, "ZU0001")[0]["person_id"]
    enrolment = actions.enrol(
        person_id=person, team=team, coordinator=nurse, reason="frail", by=nurse
    )
    actions.update(
        enrolment_id=enrolment.pk, version=enrolment.version, by=colleague, coordinator=colleague
    )
    client = Client()
    client.force_login(nurse.user)
    response = client.post(
        reverse("enrolment-update", args=[enrolment.pk]),
        {
            "version": enrolment.version,
            "care_coordinator": nurse.pk,
            "notes": "stale",
        },
    )
    assert response.status_code == 200
    assert b"Someone else changed this while you were editing it" in response.content
    assert b"Care coordinator is now Colleague Tester" in response.content
    enrolment.refresh_from_db()
    assert enrolment.notes == "" and enrolment.care_coordinator == colleague


def test_not_found_is_a_design_system_page() -> None:
    client = _signed_in(Role.CARE_COORDINATOR)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content and b"nhsuk-header" in response.content


def test_five_wrong_passwords_lock_the_account() -> None:
    nurse = factories.professional("nurse", teams=[factories.team("ZU0001")])
    client = Client()
    for _ in range(5):
        wrong = client.post(reverse("sign-in"), {"username": "nurse", "password": "wrong"})
        assert wrong.status_code in (200, 429)
    locked = client.post(reverse("sign-in"), {"username": "nurse", "password": factories.PASSWORD})
    assert b"This account is locked" in locked.content
    assert "_auth_user_id" not in client.session
    other = Client().post(
        reverse("sign-in"), {"username": "someone-else", "password": factories.PASSWORD}
    )
    assert b"This account is locked" not in other.content
    # five wrong passwords, then the right one refused while locked
    assert AuditEvent.objects.filter(action="sign_in_failed", actor="nurse").count() == 6
    assert nurse.user.is_active


def test_sign_in_works_and_is_audited() -> None:
    factories.professional("nurse", teams=[factories.team("ZU0001")])
    client = Client()
    response = client.post(
        reverse("sign-in"), {"username": "nurse", "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="sign_in", actor="nurse").count() == 1


def test_no_nhs_number_or_name_reaches_any_log(
    published_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    person = listed(published_dir, "ZU0001")[0]
    client = Client()
    client.post(reverse("sign-in"), {"username": "nurse", "password": factories.PASSWORD})
    client.get(reverse("case-finding"), {"q": person["nhs_number"]})
    client.get(reverse("profile", args=[person["person_id"]]))
    client.post(
        reverse("enrol", args=[person["person_id"]]),
        {"team": team.pk, "care_coordinator": nurse.pk, "reason": "frail"},
    )
    client.get(reverse("caseload"))
    theirs = listed(published_dir, "ZU0002")[0]["person_id"]
    client.get(reverse("profile", args=[theirs]))  # refused: another team's person
    client.get(reverse("profile", args=["N999999999"]))  # no such person: the same 403
    client.post(
        reverse("break-glass", args=["N999999999"]),
        {"reason": "referral", "explanation": "a referral from the SPA"},
    )  # 404
    assert caplog.records, "the requests should have logged something (the 403 at least)"
    assert "403 Forbidden" in caplog.text and "404 Not Found" in caplog.text
    for planted in (person["nhs_number"], person["family_name"], theirs, "N999999999"):
        assert planted not in caplog.text
    assert "Traceback" not in caplog.text


def test_the_admin_site_is_for_staff_only_and_shows_no_one() -> None:
    from django.contrib import admin
    from django.contrib.auth import get_user_model

    from neighbourhood.care.caseload.models import Enrolment

    coordinator = _signed_in(Role.CARE_COORDINATOR)
    refused = coordinator.get("/admin/teams/team/")
    assert refused.status_code == 302 and "/admin/login/" in refused["Location"]
    staff = get_user_model().objects.create_superuser("sysadmin", password=factories.PASSWORD)
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/teams/team/").status_code == 200
    assert client.get("/admin/teams/professional/").status_code == 200
    assert not admin.site.is_registered(Enrolment)
    assert not admin.site.is_registered(AuditEvent)
    assert client.get("/admin/caseload/enrolment/").status_code == 404
