"""Caseloads: the two invariants held by the database, transfers, discharges, conflicts."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from neighbourhood.care.caseload import actions
from neighbourhood.care.caseload.models import EndReason, Enrolment
from tests.support import factories
from tests.support.concurrency import writers_at_once

pytestmark = pytest.mark.django_db


def test_a_person_is_in_one_caseload_at_a_time_enforced_by_the_database() -> None:
    team_a, team_b = factories.team("ZU0001"), factories.team("ZU0002")
    nurse = factories.professional("nurse", teams=[team_a, team_b])
    Enrolment.objects.create(
        person_id="P1", team=team_a, care_coordinator=nurse, reason="frail", enrolled_by=nurse
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.create(
            person_id="P1", team=team_b, care_coordinator=nurse, reason="x", enrolled_by=nurse
        )
    with pytest.raises(actions.CaseloadError, match="already in the caseload of INT ZU0001"):
        actions.enrol(person_id="P1", team=team_b, coordinator=nurse, reason="frail", by=nurse)
    assert Enrolment.objects.filter(person_id="P1", ended_at__isnull=True).count() == 1


def test_enrolment_without_a_care_coordinator_is_impossible() -> None:
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    with pytest.raises(actions.CaseloadError, match="Choose a care coordinator") as error:
        actions.enrol(person_id="P2", team=team, coordinator=None, reason="frail", by=nurse)
    assert error.value.field == "care_coordinator"
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.create(person_id="P2", team=team, reason="x", enrolled_by=nurse)
    assert not Enrolment.objects.filter(person_id="P2").exists()


def test_the_coordinator_must_be_in_the_team() -> None:
    team_a, team_b = factories.team("ZU0001"), factories.team("ZU0002")
    outsider = factories.professional("outsider", teams=[team_b])
    nurse = factories.professional("nurse", teams=[team_a])
    with pytest.raises(actions.CaseloadError, match="not a member of INT ZU0001"):
        actions.enrol(person_id="P3", team=team_a, coordinator=outsider, reason="frail", by=nurse)


def test_one_professional_in_many_teams_coordinates_in_each() -> None:
    teams = [factories.team(code) for code in ("ZU0001", "ZU0002", "ZU0003")]
    matron = factories.professional("matron", teams=teams)
    for number, team in enumerate(teams):
        actions.enrol(
            person_id=f"Q{number}", team=team, coordinator=matron, reason="needs", by=matron
        )
    assert matron.teams.count() == 3
    assert Enrolment.objects.filter(care_coordinator=matron, ended_at__isnull=True).count() == 3


def test_transfer_ends_one_enrolment_and_opens_the_next_in_one_step() -> None:
    team_a, team_b = factories.team("ZU0001"), factories.team("ZU0002")
    nurse_a = factories.professional("nurse-a", teams=[team_a])
    nurse_b = factories.professional("nurse-b", teams=[team_b])
    first = actions.enrol(
        person_id="P4", team=team_a, coordinator=nurse_a, reason="frail", by=nurse_a
    )
    moved = actions.transfer(
        enrolment_id=first.pk,
        version=first.version,
        by=nurse_a,
        to_team=team_b,
        coordinator=nurse_b,
        note="moved house",
    )
    first.refresh_from_db()
    assert first.end_reason == EndReason.TRANSFERRED and first.ended_at is not None
    assert moved.team == team_b and moved.care_coordinator == nurse_b and moved.is_open
    assert Enrolment.objects.filter(person_id="P4", ended_at__isnull=True).get() == moved
    with pytest.raises(actions.CaseloadError, match="not a member of INT ZU0002"):
        actions.transfer(
            enrolment_id=moved.pk,
            version=moved.version,
            by=nurse_b,
            to_team=team_b,
            coordinator=nurse_a,
        )


def test_discharge_needs_a_reason_and_frees_the_person_for_another_team() -> None:
    team_a, team_b = factories.team("ZU0001"), factories.team("ZU0002")
    nurse = factories.professional("nurse", teams=[team_a, team_b])
    enrolment = actions.enrol(
        person_id="P5", team=team_a, coordinator=nurse, reason="frail", by=nurse
    )
    with pytest.raises(actions.CaseloadError, match="Choose why"):
        actions.discharge(enrolment_id=enrolment.pk, version=enrolment.version, by=nurse, reason="")
    with pytest.raises(actions.CaseloadError, match="Say why"):
        actions.discharge(
            enrolment_id=enrolment.pk,
            version=enrolment.version,
            by=nurse,
            reason=EndReason.OTHER,
            note=" ",
        )
    actions.discharge(
        enrolment_id=enrolment.pk, version=enrolment.version, by=nurse, reason=EndReason.GOALS_MET
    )
    again = actions.enrol(
        person_id="P5", team=team_b, coordinator=nurse, reason="new needs", by=nurse
    )
    assert again.is_open
    with pytest.raises(IntegrityError), transaction.atomic():  # the CHECK constraint
        Enrolment.objects.filter(pk=enrolment.pk).update(end_reason="")


def test_a_stale_change_is_refused_with_what_changed() -> None:
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    other = factories.professional("other", teams=[team])
    enrolment = actions.enrol(
        person_id="P6", team=team, coordinator=nurse, reason="frail", by=nurse
    )
    opened_at = enrolment.version
    actions.update(enrolment_id=enrolment.pk, version=opened_at, by=other, coordinator=other)
    with pytest.raises(actions.Conflict) as conflict:
        actions.update(enrolment_id=enrolment.pk, version=opened_at, by=nurse, notes="my notes")
    assert "Someone else changed this enrolment" in str(conflict.value)
    assert any("care coordinator is now Other Tester" in c for c in conflict.value.changes)
    enrolment.refresh_from_db()
    assert enrolment.notes == "" and enrolment.care_coordinator == other
    assert enrolment.version == opened_at + 1


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_writers_on_postgresql_lose_no_update() -> None:
    assert connection.vendor == "postgresql"
    team = factories.team("ZU0001")
    writers = [factories.professional(f"writer{n}", teams=[team]) for n in range(10)]
    enrolment = actions.enrol(
        person_id="P7", team=team, coordinator=writers[0], reason="frail", by=writers[0]
    )

    def write(number: int) -> None:  # what a person does on a conflict: read again, change again
        current = Enrolment.objects.get(pk=enrolment.pk)
        actions.update(
            enrolment_id=current.pk,
            version=current.version,
            by=writers[number],
            notes=current.notes + f"note from writer {number}\n",
        )

    conflicts = writers_at_once(10, write, actions.Conflict)
    final = Enrolment.objects.get(pk=enrolment.pk)
    assert final.version == 1 + 10
    assert sorted(final.notes.splitlines()) == sorted(f"note from writer {n}" for n in range(10))
    assert conflicts, "ten writers at once should have met at least one conflict"
