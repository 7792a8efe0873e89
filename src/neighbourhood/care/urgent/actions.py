"""Writes to urgent care: each in one transaction, with its audit event, against the
version the clinician saw.

A call is claimed by one senior clinician before triage; a response by one responder
before they set off. A claim made against an older version, or of something someone
else holds, is refused and the clinician is told who has it: one wins, no one is lost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from neighbourhood.care.audit.chain import record, record_by
from neighbourhood.care.plans.actions import PlanError
from neighbourhood.care.roles import Permission, allows
from neighbourhood.care.teams.models import Professional, Team
from neighbourhood.care.urgent import news2
from neighbourhood.care.urgent.models import (
    TWO_HOURS,
    Acuity,
    Call,
    Observation,
    Outcome,
    Response,
    Stay,
    Ward,
)

__all__ = ["Claimed", "PlanError"]


Locked = TypeVar("Locked", Call, Response, Stay)


class Claimed(PlanError):  # noqa: N818 - named for what the user meets
    """Someone else changed or holds this record first: nothing of this change was saved."""


def _when(at: dt.datetime | None) -> str:
    return f"{timezone.localtime(at):%H:%M}" if at is not None else "a moment ago"


def _locked(model: type[Locked], pk: int, version: int, what: str) -> Locked:
    found = model._default_manager.select_for_update(of=("self",)).filter(pk=pk).first()
    if found is None:
        raise PlanError(f"There is no such {what}")
    if found.version != version:
        raise Claimed(_changed(found, what))
    return found


def _changed(found: Any, what: str) -> str:
    holder = getattr(found, "claimed_by", None) or getattr(found, "responder", None)
    status = found.get_status_display().lower() if hasattr(found, "get_status_display") else ""
    by = f" {holder.display_name} has it" if holder is not None else ""
    return (
        f"Someone else changed this {what} while you were looking at it: it is now "
        f"{status or 'changed'}.{by and by + '.'} Nothing you entered was saved; "
        "look at it as it is now."
    )


@dataclass(frozen=True)
class Intake:
    """What the call handler hears."""

    source: str
    caller: str
    need: str
    details: str
    callback: str = ""
    person_id: str = ""
    described: str = ""
    received_at: dt.datetime | None = None


def take_call(intake: Intake, by: Professional) -> Call:
    if not intake.person_id and not intake.described.strip():
        raise PlanError(
            "Find the person by NHS number, or describe them as the caller did (name, date "
            "of birth, address)",
            "nhs_number",
        )
    if not intake.caller.strip():
        raise PlanError("Say who is calling", "caller")
    if not intake.details.strip():
        raise PlanError("Say what is happening, in the caller's words", "details")
    received = intake.received_at or timezone.now()
    if received > timezone.now() + dt.timedelta(minutes=1):
        raise PlanError("A call cannot be received in the future", "received_at")
    with transaction.atomic():
        call = Call.objects.create(
            person_id=intake.person_id,
            described=intake.described.strip(),
            organisation=by.organisation,
            received_at=received,
            source=intake.source,
            caller=intake.caller.strip(),
            callback=intake.callback.strip(),
            need=intake.need,
            details=intake.details.strip(),
            taken_by=by,
        )
        record_by(
            by,
            "take_urgent_call",
            person_id=intake.person_id,
            reason=f"call from {call.get_source_display()}",
            detail={"call": call.pk, "need": call.need, "identified": bool(intake.person_id)},
        )
    return call


def claim_call(*, call_id: int, version: int, by: Professional) -> Call:
    """This clinician triages the call: no one else can while they hold it."""
    if not allows(by.role, Permission.TRIAGE):
        raise PlanError("Only a senior clinician of the single point of access triages calls")
    with transaction.atomic():
        call = _locked(Call, call_id, version, "call")
        if call.status == Call.Status.DONE:
            raise Claimed(f"{call.reference} was triaged at {_when(call.triaged_at)}.")
        if call.status == Call.Status.TRIAGING and call.claimed_by_id != by.pk:
            raise Claimed(
                f"{call.claimed_by.display_name if call.claimed_by else 'Someone'} took {call.reference} for triage at "
                f"{_when(call.claimed_at)}: they are triaging it."
            )
        call.status = Call.Status.TRIAGING
        call.claimed_by = by
        call.claimed_at = timezone.now()
        call.version += 1
        call.save()
        record_by(
            by,
            "claim_urgent_call",
            person_id=call.person_id,
            reason="triage",
            detail={"call": call.pk, "version": call.version},
        )
    return call


def release_call(*, call_id: int, version: int, by: Professional) -> Call:
    with transaction.atomic():
        call = _locked(Call, call_id, version, "call")
        if call.status != Call.Status.TRIAGING or call.claimed_by_id != by.pk:
            raise PlanError("Only the clinician triaging a call gives it back")
        call.status, call.claimed_by, call.claimed_at = Call.Status.WAITING, None, None
        call.version += 1
        call.save()
        record_by(
            by,
            "release_urgent_call",
            person_id=call.person_id,
            reason="back to the queue",
            detail={"call": call.pk},
        )
    return call


@dataclass(frozen=True)
class Decision:
    acuity: str
    outcome: str
    note: str = ""
    convey_reason: str = ""
    team: Team | None = None  # for an urgent community response
    ward: Ward | None = None  # for a virtual ward step-up


def triage(*, call_id: int, version: int, decision: Decision, by: Professional) -> Call:
    """Record the triage and start what it decided: a response on the board, or a stay on
    a virtual ward. The call must be held by this clinician."""
    if decision.outcome == Outcome.CONVEY and not decision.convey_reason.strip():
        raise PlanError(
            "Say why they go to hospital: it is how missed opportunities are learnt from",
            "convey_reason",
        )
    if decision.outcome == Outcome.UCR and decision.team is None:
        raise PlanError("Choose the team that will respond", "team")
    if decision.outcome == Outcome.VIRTUAL_WARD and decision.ward is None:
        raise PlanError("Choose the virtual ward", "ward")
    if decision.acuity == Acuity.EMERGENCY and decision.outcome not in (Outcome.CONVEY,):
        raise PlanError(
            "A life-threatening emergency is conveyed to hospital: choose conveyance, or a "
            "lower acuity",
            "outcome",
        )
    with transaction.atomic():
        call = _locked(Call, call_id, version, "call")
        if call.status != Call.Status.TRIAGING or call.claimed_by_id != by.pk:
            raise Claimed(
                f"{call.reference} is not held by you: take it for triage first"
                if call.status == Call.Status.WAITING
                else _changed(call, "call")
            )
        if decision.outcome == Outcome.VIRTUAL_WARD and not call.person_id:
            raise PlanError(
                "A virtual ward admits someone identified by NHS number: find them first",
                "ward",
            )
        now = timezone.now()
        call.acuity, call.outcome = decision.acuity, decision.outcome
        call.outcome_note = decision.note.strip()
        call.convey_reason = (
            decision.convey_reason.strip() if decision.outcome == Outcome.CONVEY else ""
        )
        call.status, call.triaged_at = Call.Status.DONE, now
        call.version += 1
        call.save()
        if decision.outcome == Outcome.UCR:
            assert decision.team is not None
            Response.objects.create(
                call=call,
                person_id=call.person_id,
                team=decision.team,
                received_at=call.received_at,
            )
        if decision.outcome == Outcome.VIRTUAL_WARD:
            assert decision.ward is not None
            admit(
                ward=decision.ward,
                person_id=call.person_id,
                route=Stay.Route.STEP_UP,
                reason=decision.note or call.details,
                by=by,
                call=call,
            )
        record_by(
            by,
            "triage_urgent_call",
            person_id=call.person_id,
            reason=f"triaged: {call.get_outcome_display()}",
            detail={"call": call.pk, "acuity": call.acuity, "outcome": call.outcome},
        )
    return call


def set_off(*, response_id: int, version: int, by: Professional, eta_minutes: int) -> Response:
    """This responder is on the way; a second responder is told who is."""
    if not 0 < eta_minutes <= 24 * 60:
        raise PlanError("Give the minutes until you arrive, from 1 to 1,440", "eta_minutes")
    with transaction.atomic():
        response = _locked(Response, response_id, version, "response")
        if response.status != Response.Status.WAITING:
            who = response.responder.display_name if response.responder else "Someone"
            raise Claimed(
                f"{who} is already {response.get_status_display().lower()} for "
                f"{response.reference}."
            )
        now = timezone.now()
        response.status, response.responder = Response.Status.ON_THE_WAY, by
        response.eta = now + dt.timedelta(minutes=eta_minutes)
        response.version += 1
        response.save()
        record_by(
            by,
            "respond_urgent",
            person_id=response.person_id,
            reason="on the way",
            detail={"response": response.pk, "version": response.version},
        )
    return response


def record_visit(
    *,
    response_id: int,
    version: int,
    by: Professional,
    visited_at: dt.datetime,
    late_reason: str = "",
) -> Response:
    """The first visit: after two hours (in the standard's hours), with the reason."""
    now = timezone.now()
    if visited_at > now + dt.timedelta(minutes=1):
        raise PlanError("A visit is recorded when it has happened, not before", "visited_at")
    with transaction.atomic():
        response = _locked(Response, response_id, version, "response")
        if response.status not in (Response.Status.WAITING, Response.Status.ON_THE_WAY):
            raise PlanError(f"{response.reference}'s first visit is already recorded")
        # Times are entered to the minute: a visit in the minute of the call is at it.
        if visited_at < response.received_at.replace(second=0, microsecond=0):
            raise PlanError(
                f"The visit cannot come before the call was received "
                f"({timezone.localtime(response.received_at):%-d %B at %H:%M})",
                "visited_at",
            )
        visited_at = max(visited_at, response.received_at)
        minutes = int((visited_at - response.received_at).total_seconds() // 60)
        if minutes > TWO_HOURS and not late_reason.strip():
            raise PlanError(
                f"The first visit came {minutes // 60} h {minutes % 60} min after the call: say "
                "why it missed two hours",
                "late_reason",
            )
        response.status, response.visited_at = Response.Status.VISITED, visited_at
        response.responder = response.responder or by
        response.late_reason = late_reason.strip() if minutes > TWO_HOURS else ""
        response.version += 1
        response.save()
        record_by(
            by,
            "record_urgent_visit",
            person_id=response.person_id,
            reason="first visit",
            detail={"response": response.pk, "minutes": minutes},
        )
    return response


def close_response(*, response_id: int, version: int, by: Professional, after: str) -> Response:
    with transaction.atomic():
        response = _locked(Response, response_id, version, "response")
        if response.status != Response.Status.VISITED:
            raise PlanError("Record the first visit before closing the response", "after")
        response.status, response.after, response.closed_at = (
            Response.Status.CLOSED,
            after,
            timezone.now(),
        )
        response.version += 1
        response.save()
        record_by(
            by,
            "close_urgent_response",
            person_id=response.person_id,
            reason=Response.After(after).label,
            detail={"response": response.pk},
        )
    return response


def occupied(ward: Ward) -> int:
    return ward.stays.filter(discharged_at__isnull=True).count()


def admit(
    *,
    ward: Ward,
    person_id: str,
    route: str,
    reason: str,
    by: Professional,
    call: Call | None = None,
    at: dt.datetime | None = None,
) -> Stay:
    if not reason.strip():
        raise PlanError("Say why they are admitted", "reason")
    if not ward.active:
        raise PlanError(f"{ward.name} is not admitting", "ward")
    existing = (
        Stay.objects.filter(person_id=person_id, discharged_at__isnull=True)
        .select_related("ward")
        .first()
    )
    if existing is not None:
        raise PlanError(
            f"They are already on {existing.ward.name} ({existing.reference}, admitted "
            f"{timezone.localtime(existing.admitted_at):%-d %B}): discharge them first",
            "ward",
        )
    try:
        with transaction.atomic():
            Ward.objects.select_for_update().filter(pk=ward.pk).first()  # one admission at a time
            taken = occupied(ward)
            if taken >= ward.beds:
                raise PlanError(f"{ward.name} is full ({taken} of {ward.beds} beds)", "ward")
            stay = Stay.objects.create(
                ward=ward,
                person_id=person_id,
                route=route,
                call=call,
                reason=reason.strip(),
                admitted_at=at or timezone.now(),
                admitted_by=by,
            )
            record_by(
                by,
                "admit_virtual_ward",
                person_id=person_id,
                reason=f"{Stay.Route(route).label.split(':')[0]} to {ward.name}",
                detail={"stay": stay.pk, "ward": ward.pk},
            )
    except IntegrityError:
        raise PlanError("They were admitted to a virtual ward a moment ago", "ward") from None
    return stay


def observe(
    *,
    stay: Stay,
    readings: dict[str, Any],
    taken: str,
    taken_at: dt.datetime,
    by: Professional | None,
) -> Observation:
    if stay.discharged_at is not None:
        raise PlanError(f"{stay.reference} was discharged: observations go on an open stay")
    if taken_at > timezone.now() + dt.timedelta(minutes=1):
        raise PlanError("Observations are recorded when taken, not before", "taken_at")
    if taken_at < stay.admitted_at.replace(second=0, microsecond=0):
        raise PlanError("These observations were taken before the admission", "taken_at")
    for name, (low, high) in news2.LIMITS.items():
        if not low <= readings[name] <= high:
            raise PlanError(
                f"{readings[name]} is not a plausible reading: from {low} to {high}", name
            )
    scored = news2.score(**{**readings, "temperature": Decimal(str(readings["temperature"]))})
    with transaction.atomic():
        made = Observation.objects.create(
            stay=stay,
            taken_at=taken_at,
            taken=taken,
            sub_scores=scored.sub_scores,
            news2=scored.total,
            risk=scored.risk,
            recorded_by=by,
            escalated=scored.response if scored.escalate else "",
            **readings,
        )
        fields: dict[str, Any] = {
            "person_id": stay.person_id,
            "reason": f"NEWS2 {scored.total}",
            "detail": {"stay": stay.pk, "risk": scored.risk, "taken": taken},
        }
        if by is None:  # from a remote monitoring feed: the feed is the actor
            record("remote-monitoring", "record_observations", role="", **fields)
        else:
            record_by(by, "record_observations", **fields)
    return made


def discharge(
    *, stay_id: int, version: int, by: Professional, outcome: str, note: str = ""
) -> Stay:
    with transaction.atomic():
        stay = _locked(Stay, stay_id, version, "stay")
        if stay.discharged_at is not None:
            raise PlanError(f"{stay.reference} is already discharged")
        stay.discharged_at, stay.discharge, stay.discharge_note = (
            timezone.now(),
            outcome,
            note.strip(),
        )
        stay.version += 1
        stay.save()
        record_by(
            by,
            "discharge_virtual_ward",
            person_id=stay.person_id,
            reason=Stay.Discharge(outcome).label,
            detail={"stay": stay.pk},
        )
    return stay
