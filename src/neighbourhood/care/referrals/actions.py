"""Writes to referrals: each in one transaction with its audit event and its log entry.

A referral moves only along ``MOVES``, each move made against the version the user saw
(:class:`Conflict` otherwise), by the side the move belongs to: the referrer's side
sends and cancels; the receiving service accepts, rejects, makes contact, records
attendance and completes. A second open referral of a person to one service is refused,
naming the first, and the database refuses it too when two are made at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from neighbourhood.care.audit.chain import record_by
from neighbourhood.care.plans.actions import Conflict, PlanError
from neighbourhood.care.referrals.models import (
    INTERMEDIATE_CARE,
    OPEN,
    SOCIAL_PRESCRIBING_DECLINED,
    SOCIAL_PRESCRIBING_REFERRAL,
    Pathway,
    Referral,
    ReferralEvent,
    Service,
    ServiceKind,
    Status,
    Wellbeing,
)
from neighbourhood.care.teams.models import Professional, Team

__all__ = ["Conflict", "PlanError", "move", "refer"]

MOVES: dict[str, tuple[str, ...]] = {
    Status.DRAFT: (Status.REQUESTED, Status.CANCELLED),
    Status.REQUESTED: (Status.ACCEPTED, Status.REJECTED, Status.CANCELLED),
    Status.ACCEPTED: (Status.IN_PROGRESS, Status.COMPLETED, Status.CANCELLED),
    Status.IN_PROGRESS: (Status.COMPLETED, Status.CANCELLED),
}
REFERRER_MOVES = (Status.REQUESTED, Status.CANCELLED)
RECEIVER_MOVES = (
    Status.ACCEPTED,
    Status.REJECTED,
    Status.IN_PROGRESS,
    Status.COMPLETED,
    Status.CANCELLED,
)
NEEDS_REASON = (Status.REJECTED, Status.CANCELLED)


def _when(at: dt.datetime) -> str:
    return f"{timezone.localtime(at):%-d %B %Y at %H:%M}"


def already_open(person_id: str, service: Service) -> Referral | None:
    return (
        Referral.objects.filter(person_id=person_id, service=service, status__in=OPEN)
        .select_related("referred_by__user")
        .first()
    )


def _duplicate(existing: Referral) -> PlanError:
    return PlanError(
        f"{existing.reference} to {existing.service.name} is already open for this person "
        f"({existing.get_status_display().lower()}, made by {existing.referred_by.display_name} "
        f"on {_when(existing.created_at)}): follow that one up instead of referring again",
        "service",
    )


@dataclass(frozen=True)
class Request:
    """What a referrer asks for: the ServiceRequest's content."""

    service: Service
    pathway: str
    reason: str
    discharge_pathway: int | None = None
    home_first: bool = True
    not_home_because: str = ""
    urgent: bool = False
    what_matters: str = ""
    needs: str = ""
    activities: tuple[str, ...] = ()


def check(request: Request, person: dict[str, Any]) -> None:
    """Why this request cannot be made for this person, as a :class:`PlanError`."""
    service = request.service
    if not service.active:
        raise PlanError(f"{service.name} is no longer taking referrals", "service")
    refused = service.serves(str(person.get("neighbourhood") or ""), person.get("age"))
    if refused:
        raise PlanError(refused, "service")
    if not request.reason.strip():
        raise PlanError("Say why you are referring them", "reason")
    if (
        service.kind == ServiceKind.SOCIAL_PRESCRIBING
        or request.pathway == Pathway.SOCIAL_PRESCRIBING
    ):
        if service.kind not in (ServiceKind.SOCIAL_PRESCRIBING, ServiceKind.VCFSE):
            raise PlanError(
                "A social prescribing referral goes to a social prescribing or voluntary sector service",
                "service",
            )
        return
    if request.pathway == Pathway.STEP_DOWN:
        if request.discharge_pathway is None:
            raise PlanError("Choose the discharge pathway (0 to 3)", "discharge_pathway")
        if service.kind not in INTERMEDIATE_CARE and request.discharge_pathway != 0:
            raise PlanError(
                "A discharge on pathways 1 to 3 goes to an intermediate care or reablement service",
                "service",
            )
        if request.discharge_pathway >= 2 and request.home_first:
            raise PlanError(
                "Home First: pathways 2 and 3 are for people who cannot go home yet. Untick "
                "Home First and say why not home, or choose pathway 0 or 1",
                "discharge_pathway",
            )
        if service.kind == ServiceKind.BED_BASED and request.discharge_pathway < 2:
            raise PlanError(
                "A bed-based service takes discharges on pathway 2 or 3", "discharge_pathway"
            )
        if service.kind in (ServiceKind.HOME_BASED, ServiceKind.REABLEMENT) and (
            request.discharge_pathway >= 2
        ):
            raise PlanError(
                f"{service.get_kind_display()} supports people at home: pathway 0 or 1",
                "discharge_pathway",
            )
    elif request.discharge_pathway is not None:
        raise PlanError("A discharge pathway is given only on a step-down", "discharge_pathway")
    if not request.home_first and not request.not_home_because.strip():
        raise PlanError("Say why the person cannot go home first", "not_home_because")


def refer(
    *,
    person_id: str,
    person: dict[str, Any],
    request: Request,
    by: Professional,
    team: Team | None,
    send: bool = True,
    parent: Referral | None = None,
) -> Referral:
    """Make a referral (a draft, or sent at once): refused if one to that service is open."""
    check(request, person)
    service = request.service
    social = service.kind == ServiceKind.SOCIAL_PRESCRIBING
    pathway = Pathway.SOCIAL_PRESCRIBING if social or parent is not None else request.pathway
    existing = already_open(person_id, service)
    if existing is not None:
        raise _duplicate(existing)
    now = timezone.now()
    try:
        with transaction.atomic():
            made = Referral.objects.create(
                person_id=person_id,
                service=service,
                pathway=pathway,
                discharge_pathway=request.discharge_pathway
                if pathway == Pathway.STEP_DOWN
                else None,
                home_first=request.home_first,
                not_home_because=request.not_home_because.strip(),
                urgent=request.urgent,
                reason=request.reason.strip(),
                what_matters=request.what_matters.strip(),
                needs=request.needs.strip(),
                activities=list(request.activities),
                code=SOCIAL_PRESCRIBING_REFERRAL[0] if social else "",
                status=Status.REQUESTED if send else Status.DRAFT,
                referred_by=by,
                team=team,
                parent=parent,
            )
            ReferralEvent.objects.create(
                referral=made, kind=ReferralEvent.Kind.STATUS, status=made.status, at=now, by=by
            )
            record_by(
                by,
                "make_referral",
                person_id=person_id,
                reason=f"{made.get_pathway_display()} to {service.name}",
                detail={"referral": made.pk, "service": service.pk, "status": made.status},
            )
    except IntegrityError:  # made by someone else a moment ago
        existing = already_open(person_id, service)
        if existing is None:
            raise
        raise _duplicate(existing) from None
    return made


def receives(referral: Referral, me: Professional) -> bool:
    """Whether this member of staff works for the service a referral went to."""
    return bool(me.organisation_id == referral.service.organisation_id)


def refers(referral: Referral, me: Professional) -> bool:
    """Whether this member of staff made the referral or is in the team that made it."""
    if referral.referred_by_id == me.pk:
        return True
    return referral.team_id is not None and me.memberships.filter(team_id=referral.team_id).exists()


def allowed_moves(referral: Referral, me: Professional) -> list[str]:
    moves = MOVES.get(referral.status, ())
    mine: set[str] = set()
    if refers(referral, me):
        mine |= set(REFERRER_MOVES)
    if receives(referral, me):
        mine |= set(RECEIVER_MOVES)
    return [m for m in moves if m in mine]


def _locked(referral_id: int, version: int) -> Referral:
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("service__organisation")
        .get(pk=referral_id)
    )
    if referral.version != version:
        raise Conflict(
            "referral",
            referral.version,
            "Someone else",
            referral.updated_at,
            [f"it is now {referral.get_status_display().lower()}"],
        )
    return referral


def move(
    *,
    referral_id: int,
    version: int,
    status: str,
    reason: str,
    by: Professional,
    declined: bool = False,
) -> Referral:
    """Move a referral on; ``declined`` (on a cancellation of a social prescribing
    referral) codes it as declined by the person."""
    reason = reason.strip()
    if status in NEEDS_REASON and not reason:
        raise PlanError("Give a reason: a referral is rejected or cancelled with one", "reason")
    with transaction.atomic():
        referral = _locked(referral_id, version)
        if status not in MOVES.get(referral.status, ()):
            label = Status(status).label.lower() if status in Status.values else status
            raise PlanError(
                f"A referral that is {referral.get_status_display().lower()} cannot become {label}",
                "status",
            )
        if status not in allowed_moves(referral, by):
            raise PlanError(
                "Only the service it was sent to can accept, reject, start or complete a "
                "referral; only the referrer's side can send it",
                "status",
            )
        before = referral.status
        now = timezone.now()
        referral.status = status
        referral.status_reason = reason
        if declined and referral.code == SOCIAL_PRESCRIBING_REFERRAL[0]:
            referral.code = SOCIAL_PRESCRIBING_DECLINED[0]
        referral.version += 1
        referral.save()
        ReferralEvent.objects.create(
            referral=referral,
            kind=ReferralEvent.Kind.STATUS,
            status=status,
            at=now,
            by=by,
            note=reason,
        )
        if status == Status.IN_PROGRESS:  # starting is making contact
            ReferralEvent.objects.create(
                referral=referral, kind=ReferralEvent.Kind.CONTACT, at=now, by=by
            )
        record_by(
            by,
            "update_referral",
            person_id=referral.person_id,
            reason=f"referral {Status(status).label.lower()}",
            detail={
                "referral": referral.pk,
                "from": before,
                "to": status,
                "version": referral.version,
                "declined": declined,
            },
        )
    return referral


def record_attendance(
    *, referral_id: int, version: int, attended: bool, on: dt.date, by: Professional
) -> Referral:
    """The receiving service says whether the person came, on a day no later than today."""
    if on > dt.date.today():
        raise PlanError("Attendance is recorded on the day or after it, not before", "on")
    with transaction.atomic():
        referral = _locked(referral_id, version)
        if not receives(referral, by):
            raise PlanError("Only the service it was sent to records attendance", "status")
        if referral.status not in (Status.ACCEPTED, Status.IN_PROGRESS):
            raise PlanError(
                f"A referral that is {referral.get_status_display().lower()} has no "
                "attendance to record: accept it first",
                "status",
            )
        now = timezone.now()
        kind = ReferralEvent.Kind.ATTENDED if attended else ReferralEvent.Kind.DID_NOT_ATTEND
        if attended and referral.status == Status.ACCEPTED:  # coming is contact made
            referral.status = Status.IN_PROGRESS
            ReferralEvent.objects.create(
                referral=referral,
                kind=ReferralEvent.Kind.STATUS,
                status=Status.IN_PROGRESS,
                at=now,
                by=by,
            )
            ReferralEvent.objects.create(
                referral=referral, kind=ReferralEvent.Kind.CONTACT, at=now, by=by
            )
        ReferralEvent.objects.create(
            referral=referral, kind=kind, at=now, by=by, note=on.isoformat()
        )
        referral.version += 1
        referral.save()
        record_by(
            by,
            "record_attendance",
            person_id=referral.person_id,
            reason="attended" if attended else "did not attend",
            detail={"referral": referral.pk, "on": on.isoformat(), "version": referral.version},
        )
    return referral


def record_wellbeing(
    *, referral: Referral, when: str, scores: dict[str, int], by: Professional
) -> Wellbeing:
    if referral.pathway != Pathway.SOCIAL_PRESCRIBING:
        raise PlanError("Wellbeing is measured on social prescribing referrals", "when")
    if when == Wellbeing.When.AFTER and not referral.wellbeing.filter(when="before").exists():
        raise PlanError("Record their wellbeing before support first, to compare with", "when")
    try:
        with transaction.atomic():
            made = Wellbeing.objects.create(referral=referral, when=when, recorded_by=by, **scores)
            record_by(
                by,
                "record_wellbeing",
                person_id=referral.person_id,
                reason=f"ONS4 {Wellbeing.When(when).label.lower()}",
                detail={"referral": referral.pk},
            )
    except IntegrityError:
        raise PlanError(
            f"Their wellbeing {Wellbeing.When(when).label.lower()} is already recorded", "when"
        ) from None
    return made


@dataclass(frozen=True)
class Clock:
    """A referral's times, from its log: hours taken, and whether each met the promise."""

    received: dt.datetime | None
    decided: dt.datetime | None
    contact: dt.datetime | None
    respond_hours: int
    contact_hours: int

    @staticmethod
    def _hours(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
        if start is None or end is None:
            return None
        return round((end - start).total_seconds() / 3600, 1)

    @property
    def to_decision(self) -> float | None:
        return self._hours(self.received, self.decided)

    @property
    def to_contact(self) -> float | None:
        return self._hours(self.decided, self.contact)

    def met(self, which: str, now: dt.datetime | None = None) -> bool | None:
        """True or False once known; None while still within the promise."""
        now = now or timezone.now()
        start, end, limit = (
            (self.received, self.decided, self.respond_hours)
            if which == "decision"
            else (self.decided, self.contact, self.contact_hours)
        )
        if start is None:
            return None
        taken = self._hours(start, end or now) or 0.0
        if end is None:
            return False if taken > limit else None
        return taken <= limit


def clock(referral: Referral, events: list[ReferralEvent] | None = None) -> Clock:
    log = events if events is not None else list(referral.events.all())
    received = next((e.at for e in log if e.status == Status.REQUESTED), None)
    decided = next((e.at for e in log if e.status in (Status.ACCEPTED, Status.REJECTED)), None)
    contact = next((e.at for e in log if e.kind == ReferralEvent.Kind.CONTACT), None)
    return Clock(
        received, decided, contact, referral.service.respond_hours, referral.service.contact_hours
    )
