"""Access follows the relationship at every door (issue 22, item 2), and break-glass
access outside it is stated, time-limited, on the trail and reviewed (item 3)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from neighbourhood.care.audit.models import AuditEvent, BreakGlassAccess
from neighbourhood.care.caseload import actions
from neighbourhood.care.caseload.models import EndReason
from neighbourhood.care.roles import Role
from neighbourhood.care.teams.models import Professional
from tests.support import factories
from tests.support.people import listed, not_listed

pytestmark = pytest.mark.django_db
REASON = {"reason": "urgent_care", "explanation": "Call from the urgent response team"}


def _client(professional: Professional) -> Client:
    client = Client()
    client.force_login(professional.user)
    return client


def _body(response: Any) -> str:
    text: str = response.content.decode()
    for fresh in (r'name="csrfmiddlewaretoken" value="[^"]+"', r'nonce="[^"]+"'):
        text = re.sub(fresh, "", text)  # drawn afresh for every answer
    return text.replace("nosuchperson", "ID")


def test_a_missing_person_and_one_you_may_not_see_get_the_same_answer(
    published_dir: Path,
) -> None:
    nurse = factories.professional("nurse", teams=[factories.team("ZU0001")])
    client = _client(nurse)
    hidden = not_listed(published_dir)
    forbidden = client.get(reverse("profile", args=[hidden]))
    missing = client.get(reverse("profile", args=["nosuchperson"]))
    assert forbidden.status_code == missing.status_code == 403
    assert _body(forbidden).replace(hidden, "ID") == _body(missing)
    entries = AuditEvent.objects.filter(action="refused_profile").order_by("seq")
    assert [(e.person_id, e.reason) for e in entries] == [
        (hidden, "no care relationship"),
        ("nosuchperson", "no such person"),
    ]


def test_another_teams_enrolment_and_a_missing_one_get_the_same_answer(
    published_dir: Path,
) -> None:
    mine, theirs = factories.team("ZU0001"), factories.team("ZU0002")
    nurse = factories.professional("nurse", teams=[mine])
    other = factories.professional("other", teams=[theirs])
    person = listed(published_dir, "ZU0002")[0]["person_id"]
    made = actions.enrol(person_id=person, team=theirs, coordinator=other, reason="x", by=other)
    client = _client(nurse)
    answers = [client.get(reverse("enrolment", args=[n])) for n in (made.pk, made.pk + 999)]
    assert [a.status_code for a in answers] == [404, 404]
    assert _body(answers[0]) == _body(answers[1])
    refused = AuditEvent.objects.get(action="refused_enrolment")
    assert (refused.actor, refused.person_id, refused.detail) == (
        "nurse",
        person,
        {"enrolment": made.pk},
    )


def test_break_glass_opens_a_record_for_a_stated_reason_and_is_reviewed(
    published_dir: Path,
) -> None:
    nurse = factories.professional("nurse", teams=[factories.team("ZU0001")])
    ig = factories.professional("ig", role=Role.IG_LEAD)
    hidden = not_listed(published_dir)
    client = _client(nurse)
    refused = client.get(reverse("profile", args=[hidden]))
    assert b"Your access will be recorded" in refused.content

    vague = client.post(reverse("break-glass", args=[hidden]), {"reason": "urgent_care"})
    assert vague.status_code == 403
    assert b"Explain why you need to see this record" in vague.content
    assert not BreakGlassAccess.objects.exists()

    opened = client.post(reverse("break-glass", args=[hidden]), REASON, follow=True)
    assert opened.status_code == 200
    assert b"Break-glass access" in opened.content
    grant = BreakGlassAccess.objects.get()
    assert (grant.professional, grant.person_id, grant.reason) == (nurse, hidden, "urgent_care")
    assert grant.until - grant.at == dt.timedelta(minutes=60)
    trail = list(AuditEvent.objects.filter(person_id=hidden).order_by("seq"))
    assert [e.action for e in trail] == ["refused_profile", "break_glass", "view_profile"]
    assert trail[1].reason == "break-glass: Urgent or emergency care for this person"
    assert trail[1].detail["explanation"] == REASON["explanation"]
    assert trail[2].reason == trail[1].reason

    # The IG lead's queue names who, whom and why; a review is on the trail.
    reviewer = _client(ig)
    queue = reviewer.get(reverse("break-glass-queue"))
    assert queue.status_code == 200
    for shown in ("nurse", hidden, "Urgent or emergency care", REASON["explanation"]):
        assert shown.encode() in queue.content
    done = reviewer.post(
        reverse("break-glass-reviewed", args=[grant.pk]), {"note": "Checked with SPA"}, follow=True
    )
    assert b"marked as reviewed" in done.content
    grant.refresh_from_db()
    assert (grant.reviewed_by, grant.review_note) == (ig, "Checked with SPA")
    assert b"Nothing is waiting for review" in reviewer.get(reverse("break-glass-queue")).content
    assert AuditEvent.objects.filter(action="review_break_glass", person_id=hidden).exists()
    history = reviewer.get(reverse("audit-search"), {"person": hidden, "action": "break_glass"})
    assert b"Call from the urgent" not in history.content  # the reason, not the free text
    assert b"break-glass: Urgent or emergency care" in history.content

    # Care staff cannot review, and the grant ends on time.
    assert client.get(reverse("break-glass-queue")).status_code == 403
    BreakGlassAccess.objects.update(until=timezone.now() - dt.timedelta(seconds=1))
    assert client.get(reverse("profile", args=[hidden])).status_code == 403


def test_break_glass_opens_a_closed_enrolment(published_dir: Path) -> None:
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    hidden = not_listed(published_dir)
    made = actions.enrol(person_id=hidden, team=team, coordinator=nurse, reason="x", by=nurse)
    actions.discharge(
        enrolment_id=made.pk, version=made.version, by=nurse, reason=EndReason.GOALS_MET
    )
    client = _client(nurse)
    assert client.get(reverse("enrolment", args=[made.pk])).status_code == 403
    client.post(reverse("break-glass", args=[hidden]), REASON)
    shown = client.get(reverse("enrolment", args=[made.pk]))
    assert shown.status_code == 200
    viewed = AuditEvent.objects.filter(action="view_enrolment").latest("seq")
    assert "break-glass: Urgent or emergency care" in viewed.reason


def test_break_glass_for_no_one_is_refused_and_recorded(published_dir: Path) -> None:
    nurse = factories.professional("nurse", teams=[factories.team("ZU0001")])
    answer = _client(nurse).post(reverse("break-glass", args=["nosuchperson"]), REASON)
    assert answer.status_code == 404
    assert not BreakGlassAccess.objects.exists()
    entry = AuditEvent.objects.latest("seq")
    assert (entry.action, entry.reason) == (
        "refused_profile",
        "break-glass asked for no such person",
    )


def test_planning_roles_cannot_break_glass(published_dir: Path) -> None:
    analyst = factories.professional("analyst", role=Role.ANALYST)
    hidden = not_listed(published_dir)
    assert _client(analyst).post(reverse("break-glass", args=[hidden]), REASON).status_code == 403
    assert not BreakGlassAccess.objects.exists()


def test_enrolling_someone_without_a_relationship_is_refused_and_recorded(
    published_dir: Path,
) -> None:
    nurse = factories.professional("nurse", teams=[factories.team("ZU0001")])
    client = _client(nurse)
    for person in (not_listed(published_dir), "nosuchperson"):
        answer = client.get(reverse("enrol", args=[person]))
        assert answer.status_code == 403
        entry = AuditEvent.objects.latest("seq")
        assert (entry.action, entry.person_id, entry.reason) == (
            "refused_enrol",
            person,
            "no care relationship",
        )
