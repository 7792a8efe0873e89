"""Writes to caseloads: each in one transaction with its audit event.

Every change to an enrolment names the version it was made against; if someone else
changed it since, :class:`Conflict` says what they changed instead of overwriting it.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.caseload.models import EndReason, Enrolment
from neighbourhood.care.teams.models import Professional, Team
from neighbourhood.errors import UserError


class CaseloadError(UserError):
    """A caseload change that cannot be made, in words the user can act on."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class Conflict(CaseloadError):  # noqa: N818 - named for what the user meets
    """Someone changed the enrolment after this form was opened."""

    def __init__(self, current: Enrolment, changes: list[str]) -> None:
        self.current = current
        self.changes = changes
        super().__init__(
            "Someone else changed this enrolment while you were editing it. Nothing you "
            "entered was saved: check what changed and make your change again."
        )


def _check_coordinator(team: Team, coordinator: Professional | None) -> Professional:
    if coordinator is None:
        raise CaseloadError(
            "Choose a care coordinator: everyone in a caseload has a named care coordinator",
            "care_coordinator",
        )
    if not team.memberships.filter(professional=coordinator).exists():
        raise CaseloadError(
            f"{coordinator.display_name} is not a member of {team.name}: choose a care "
            "coordinator from the team",
            "care_coordinator",
        )
    return coordinator


def enrol(
    *,
    person_id: str,
    team: Team,
    coordinator: Professional | None,
    reason: str,
    by: Professional,
) -> Enrolment:
    coordinator = _check_coordinator(team, coordinator)
    if not reason.strip():
        raise CaseloadError("Say why this person is joining the caseload", "reason")
    try:
        with transaction.atomic():
            enrolment = Enrolment.objects.create(
                person_id=person_id,
                team=team,
                care_coordinator=coordinator,
                reason=reason.strip(),
                enrolled_by=by,
            )
            record_by(
                by,
                "enrol",
                person_id=person_id,
                reason=f"enrolled in {team.name}",
                detail={"enrolment": enrolment.pk, "team": team.pk, "coordinator": coordinator.pk},
            )
    except IntegrityError as error:
        current = Enrolment.objects.filter(person_id=person_id, ended_at__isnull=True).first()
        where = current.team.name if current else "another team"
        raise CaseloadError(
            f"This person is already in the caseload of {where}. A person is in one team's "
            "caseload at a time: ask that team to transfer them.",
            "team",
        ) from error
    return enrolment


def _locked(enrolment_id: int, version: int) -> Enrolment:
    # Lock the enrolment row only (of=self): locking the joined team too would collide
    # with the deferred foreign-key checks other writers make on it at commit.
    current = (
        Enrolment.objects.select_for_update(of=("self",))
        .select_related("team")
        .get(pk=enrolment_id)
    )
    if current.version != version:
        raise Conflict(current, describe_changes(current, version))
    if current.ended_at is not None:
        raise CaseloadError("This person has already left the caseload")
    return current


def describe_changes(current: Enrolment, version: int) -> list[str]:
    changes = [f"it is now at version {current.version}; your form was made at version {version}"]
    changes.append(f"care coordinator is now {current.care_coordinator.display_name}")
    if current.ended_at is not None:
        changes.append(f"it was ended: {current.get_end_reason_display()}")
    return changes


def update(
    *,
    enrolment_id: int,
    version: int,
    by: Professional,
    coordinator: Professional | None = None,
    notes: str | None = None,
) -> Enrolment:
    """Change the care coordinator or notes, if nobody else has changed the enrolment."""
    with transaction.atomic():
        current = _locked(enrolment_id, version)
        changed: dict[str, Any] = {}
        if coordinator is not None and coordinator.pk != current.care_coordinator_id:
            current.care_coordinator = _check_coordinator(current.team, coordinator)
            changed["coordinator"] = coordinator.pk
        if notes is not None and notes != current.notes:
            current.notes = notes
            changed["notes"] = True
        if not changed:
            return current
        current.version += 1
        current.save()
        record_by(
            by,
            "update_enrolment",
            person_id=current.person_id,
            reason=f"changed in {current.team.name}",
            detail={"enrolment": current.pk, **changed, "version": current.version},
        )
    return current


def discharge(
    *, enrolment_id: int, version: int, by: Professional, reason: str, note: str = ""
) -> Enrolment:
    if reason not in EndReason.values or reason == EndReason.TRANSFERRED:
        raise CaseloadError("Choose why this person is leaving the caseload", "end_reason")
    if reason == EndReason.OTHER and not note.strip():
        raise CaseloadError("Say why, when the reason is 'Other'", "end_note")
    with transaction.atomic():
        current = _locked(enrolment_id, version)
        _end(current, reason, note, by)
        record_by(
            by,
            "discharge",
            person_id=current.person_id,
            reason=f"discharged from {current.team.name}",
            detail={"enrolment": current.pk, "end_reason": reason},
        )
    return current


def _end(current: Enrolment, reason: str, note: str, by: Professional) -> None:
    current.ended_at = timezone.now()
    current.end_reason = reason
    current.end_note = note.strip()
    current.ended_by = by
    current.version += 1
    current.save()


def transfer(
    *,
    enrolment_id: int,
    version: int,
    by: Professional,
    to_team: Team,
    coordinator: Professional | None,
    note: str = "",
) -> Enrolment:
    """End the enrolment and open one in another team, in one step."""
    coordinator = _check_coordinator(to_team, coordinator)
    with transaction.atomic():
        current = _locked(enrolment_id, version)
        if current.team_id == to_team.pk:
            raise CaseloadError("Choose a different team to transfer to", "team")
        _end(current, EndReason.TRANSFERRED, note or f"to {to_team.name}", by)
        moved = Enrolment.objects.create(
            person_id=current.person_id,
            team=to_team,
            care_coordinator=coordinator,
            reason=current.reason,
            notes=current.notes,
            enrolled_by=by,
        )
        record_by(
            by,
            "transfer",
            person_id=current.person_id,
            reason=f"transferred from {current.team.name} to {to_team.name}",
            detail={"from": current.pk, "to": moved.pk, "coordinator": coordinator.pk},
        )
    return moved
