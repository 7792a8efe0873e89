"""What a partner's system may write, through the same actions the web pages use, so the
same rules hold (who may own a task, which referral moves are allowed, a plan's version
checked): a ``Task`` (create; update its status, owner, due date or description),
a ``ServiceRequest`` (create a referral; update to send, cancel, or move it on as the
receiving service), a ``CarePlan`` (update its description, review date and what
matters) and its own ``Subscription``s.

Every update names the version it was read at (``If-Match``): a stale one gets 412 and
nothing changes. A create may carry ``If-None-Exist`` (a search, usually the partner's
identifier): if it finds the record, that is returned and nothing is made twice.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone

from neighbourhood.care import published
from neighbourhood.care.fhirapi.models import PartnerIdentifier, Subscription, Topic
from neighbourhood.care.fhirapi.outcome import FhirError, invalid, not_found, unprocessable
from neighbourhood.care.fhirapi.params import Search, whole
from neighbourhood.care.fhirapi.resources import KINDS, Context, TaskKind
from neighbourhood.care.fhirapi.validate import NHS_NUMBER
from neighbourhood.care.plans import actions as plan_actions
from neighbourhood.care.plans.actions import Conflict, PlanError
from neighbourhood.care.plans.fhir import PERSON, PROFESSIONAL, TEAM
from neighbourhood.care.plans.models import NEEDS_REASON, CarePlan, Task, TaskStatus
from neighbourhood.care.referrals import actions as referral_actions
from neighbourhood.care.referrals.models import DischargePathway, Pathway, Referral, Service, Status
from neighbourhood.care.teams.models import Professional, Team

BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
PAYLOAD_CONTENT = BACKPORT + "backport-payload-content"
_ETAG = re.compile(r'^(W/)?"(\d+)"$')


@dataclass
class Written:
    resource_type: str
    record: Any
    created: bool
    person_id: str = ""


def if_match(header: str | None, required: bool = True) -> int | None:
    """The version an ``If-Match: W/"3"`` names; an update without one is refused, so no
    partner overwrites a change it has not seen."""
    if not header:
        if required:
            raise FhirError(
                412,
                "conflict",
                'send If-Match with the version you read (its ETag, e.g. W/"3"): updates '
                "are accepted only against the version they were made to",
            )
        return None
    found = _ETAG.match(header.strip())
    if found is None:
        raise invalid(f"If-Match must be an ETag such as W/\"3\", not '{header}'", "If-Match")
    return int(found.group(2))


def stale(resource_type: str, rid: str, current: int, sent: int) -> FhirError:
    return FhirError(
        412,
        "conflict",
        f"{resource_type}/{rid} is at version {current}, not {sent}: someone changed it since "
        "you read it. Nothing was changed: read it again and make your change to that version.",
        ETag=f'W/"{current}"',
    )


def _plan_error(error: PlanError, resource_type: str, fields: dict[str, str]) -> FhirError:
    if isinstance(error, Conflict):
        return FhirError(412, "conflict", str(error))
    return unprocessable(str(error), fields.get(error.field, resource_type))


# ---------------------------------------------------------------------------------------
# Reading what a partner sent


def _person(ctx: Context, reference: Any, where: str) -> str:
    """The person a reference names (Patient/<id>, or an NHS number identifier), checked
    for a care relationship."""
    if not isinstance(reference, dict):
        raise invalid(f"{where} is required: the Patient the resource is about", where)
    text = reference.get("reference")
    identifier = reference.get("identifier") or {}
    person_id = ""
    if isinstance(text, str) and text:
        if text.startswith("urn:"):
            raise invalid(
                f"{where}.reference must be a Patient of this server", f"{where}.reference"
            )
        parts = text.split("/")
        if len(parts) < 2 or parts[-2] != "Patient":
            raise invalid(
                f"{where}.reference must be Patient/<id>, not '{text}'", f"{where}.reference"
            )
        person_id = parts[-1]
        if published.profile(person_id) is None:
            raise unprocessable(
                f"{where}.reference: {text} is not known here", f"{where}.reference"
            )
    elif identifier.get("system") == NHS_NUMBER:
        person = published.by_nhs_number(str(identifier.get("value", "")))
        if person is None:
            raise unprocessable(
                f"{where}.identifier: no one with this NHS number is known here",
                f"{where}.identifier.value",
            )
        person_id = str(person["person_id"])
    elif identifier.get("system") == PERSON:
        person_id = str(identifier.get("value", ""))
        if published.profile(person_id) is None:
            raise unprocessable(f"{where}.identifier: this person is not known here", where)
    else:
        raise invalid(
            f"{where} must be a reference to Patient/<id> or an identifier with system {NHS_NUMBER}",
            where,
        )
    ctx.relationship(person_id)
    return person_id


def _identifiers(body: dict[str, Any], resource_type: str) -> list[tuple[str, str]]:
    out = []
    for index, item in enumerate(body.get("identifier") or []):
        system, value = item.get("system"), item.get("value")
        if not system or not value:
            raise invalid(
                f"{resource_type}.identifier[{index}] needs a system and a value",
                f"{resource_type}.identifier[{index}]",
            )
        out.append((str(system), str(value)))
    return out


def _keep_identifiers(
    ctx: Context, resource_type: str, rid: str, pairs: list[tuple[str, str]]
) -> None:
    for system, value in pairs:
        if system == PERSON or system.startswith("https://neighbourhood.health/"):
            continue  # our own identifiers are drawn from the record
        try:
            with transaction.atomic():
                PartnerIdentifier.objects.create(
                    resource_type=resource_type,
                    resource_id=rid,
                    system=system,
                    value=value,
                    client=ctx.caller.client,
                )
        except IntegrityError:
            raise FhirError(
                409,
                "duplicate",
                f"another {resource_type} already has the identifier {system}|{value}: use "
                "If-None-Exist to make a create safe to retry",
                f"{resource_type}.identifier",
            ) from None


def _date(value: Any, where: str) -> dt.date:
    if not isinstance(value, str) or not value:
        raise invalid(f"{where} is required", where)
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise invalid(f"{where}: '{value}' is not a date", where) from None


def _owner(reference: Any) -> tuple[Professional | None, Team | None]:
    where = "Task.owner"
    identifier = (reference or {}).get("identifier") or {}
    system, value = identifier.get("system"), str(identifier.get("value", ""))
    if system not in (PROFESSIONAL, TEAM) or not whole(value):
        raise invalid(
            f"{where} must be an identifier: {PROFESSIONAL}|<id> for a professional or "
            f"{TEAM}|<id> for a team",
            where,
        )
    if system == PROFESSIONAL:
        professional = Professional.objects.filter(pk=int(value)).select_related("user").first()
        if professional is None:
            raise unprocessable(
                f"{where}: no professional has the id {value}", f"{where}.identifier.value"
            )
        return professional, None
    team = Team.objects.filter(pk=int(value)).first()
    if team is None:
        raise unprocessable(f"{where}: no team has the id {value}", f"{where}.identifier.value")
    return None, team


def _based_on(body: dict[str, Any], refs: dict[str, str]) -> tuple[int | None, int | None]:
    plan_id = referral_id = None
    for index, item in enumerate(body.get("basedOn") or []):
        text = refs.get(str(item.get("reference", "")), str(item.get("reference", "")))
        kind, _, rid = text.rpartition("/")
        if kind.endswith("CarePlan") and whole(rid):
            plan_id = int(rid)
        elif kind.endswith("ServiceRequest") and whole(rid):
            referral_id = int(rid)
        else:
            raise invalid(
                f"Task.basedOn[{index}] must be CarePlan/<id> or ServiceRequest/<id>, not '{text}'",
                f"Task.basedOn[{index}]",
            )
    return plan_id, referral_id


# ---------------------------------------------------------------------------------------
# Task


def create_task(ctx: Context, body: dict[str, Any], refs: dict[str, str]) -> Written:
    ctx.caller.require("Task", "c")
    if body.get("status") not in (None, "requested"):
        raise unprocessable("a new task's status is requested", "Task.status")
    person_id = _person(ctx, body.get("for"), "Task.for")
    description = str(body.get("description") or "").strip()
    if not description:
        raise invalid("Task.description is required: say what is to be done", "Task.description")
    due = _date(
        ((body.get("restriction") or {}).get("period") or {}).get("end"),
        "Task.restriction.period.end",
    )
    if due < dt.date.today():
        raise unprocessable("the due date cannot be in the past", "Task.restriction.period.end")
    owner, owner_team = _owner(body.get("owner"))
    plan_id, referral_id = _based_on(body, refs)
    plan = CarePlan.objects.filter(person_id=person_id).select_related("team").first()
    if plan_id is not None and (plan is None or plan.pk != plan_id):
        raise unprocessable("Task.basedOn: that CarePlan is not this person's plan", "Task.basedOn")
    referral = None
    if referral_id is not None:
        referral = Referral.objects.filter(pk=referral_id, person_id=person_id).first()
        if referral is None:
            raise unprocessable(
                "Task.basedOn: that ServiceRequest is not a referral of this person", "Task.basedOn"
            )
    if owner is not None and plan is not None:
        try:
            plan_actions._check_owner(plan.team, owner)
        except PlanError as error:
            raise unprocessable(str(error), "Task.owner") from None
    pairs = _identifiers(body, "Task")
    with transaction.atomic():
        task = Task.objects.create(
            person_id=person_id,
            plan=plan,
            referral=referral,
            description=description,
            owner=owner,
            owner_team=None if owner else owner_team,
            due=due,
            requested_by=ctx.account,
        )
        _keep_identifiers(ctx, "Task", str(task.pk), pairs)
    return Written("Task", task, True, person_id)


def update_task(ctx: Context, rid: str, body: dict[str, Any], version: int) -> Written:
    ctx.caller.require("Task", "u")
    if rid.startswith("referral-"):
        return _move_referral(ctx, rid.removeprefix("referral-"), body, version)
    if not whole(rid):
        raise not_found("Task", rid)
    with transaction.atomic():
        task = (
            Task.objects.select_for_update(of=("self",))
            .select_related("plan__team")
            .filter(pk=int(rid))
            .first()
        )
        if task is None:
            raise not_found("Task", rid)
        ctx.relationship(task.person_id)
        if not Task.objects.filter(TaskKind().scope(ctx), pk=task.pk).exists():
            raise FhirError(
                403,
                "forbidden",
                "this task is neither owned by nor asked of this client's organisation or teams",
            )
        if task.version != version:
            raise stale("Task", rid, task.version, version)
        if _person(ctx, body.get("for"), "Task.for") != task.person_id:
            raise unprocessable("a task's person cannot change", "Task.for")
        status = str(body.get("status") or "")
        reason = str(((body.get("statusReason") or {}).get("text")) or "").strip()
        changed = False
        if status != task.status:
            if status not in plan_actions.MOVES.get(task.status, ()):
                label = TaskStatus(task.status).label.lower()
                raise unprocessable(f"a task that is {label} cannot become {status}", "Task.status")
            if status in NEEDS_REASON and not reason:
                raise unprocessable(
                    "a task is cancelled or declined with a reason: give Task.statusReason.text",
                    "Task.statusReason",
                )
            task.status, task.status_reason, changed = status, reason, True
        description = str(body.get("description") or "").strip()
        if not description:
            raise invalid("Task.description is required", "Task.description")
        due = _date(
            ((body.get("restriction") or {}).get("period") or {}).get("end"),
            "Task.restriction.period.end",
        )
        owner, owner_team = _owner(body.get("owner"))
        if owner is not None and task.plan is not None and owner.pk != task.owner_id:
            try:
                plan_actions._check_owner(task.plan.team, owner)
            except PlanError as error:
                raise unprocessable(str(error), "Task.owner") from None
        if (description, due, owner, owner_team if owner is None else None) != (
            task.description,
            task.due,
            task.owner,
            task.owner_team if task.owner is None else None,
        ):
            task.description, task.due = description, due
            task.owner, task.owner_team = owner, None if owner else owner_team
            changed = True
        if changed:
            task.version += 1
            task.save()
    return Written("Task", task, False, task.person_id)


# ---------------------------------------------------------------------------------------
# ServiceRequest


def _service(body: dict[str, Any]) -> Service:
    performers = body.get("performer") or []
    text = str((performers[0] if performers else {}).get("reference", ""))
    kind, _, rid = text.rpartition("/")
    if not kind.endswith("HealthcareService") or not whole(rid):
        raise invalid(
            "ServiceRequest.performer[0] must be HealthcareService/<id>: the service referred to "
            "(search HealthcareService to find it)",
            "ServiceRequest.performer[0]",
        )
    service = Service.objects.select_related("organisation").filter(pk=int(rid)).first()
    if service is None:
        raise unprocessable(
            f"ServiceRequest.performer[0]: {text} is not known here", "ServiceRequest.performer[0]"
        )
    return service


def _category(body: dict[str, Any]) -> tuple[str, int | None]:
    pathway, discharge = "", None
    for category in body.get("category") or []:
        for coding in category.get("coding") or []:
            code = str(coding.get("code", ""))
            if coding.get("system", "").endswith("referral-pathway"):
                pathway = code
            elif coding.get("system", "").endswith("discharge-pathway") and whole(code):
                discharge = int(code)
    if pathway not in Pathway.values:
        raise invalid(
            "ServiceRequest.category needs the pathway: a coding of "
            "https://neighbourhood.health/fhir/CodeSystem/referral-pathway, one of "
            + ", ".join(Pathway.values),
            "ServiceRequest.category",
        )
    if discharge is not None and discharge not in DischargePathway.values:
        raise invalid("the discharge pathway is 0, 1, 2 or 3", "ServiceRequest.category")
    return pathway, discharge


REFERRAL_FIELDS = {
    "service": "ServiceRequest.performer",
    "reason": "ServiceRequest.reasonCode",
    "discharge_pathway": "ServiceRequest.category",
    "not_home_because": "ServiceRequest.note",
    "status": "ServiceRequest.status",
}


def create_referral(ctx: Context, body: dict[str, Any], refs: dict[str, str]) -> Written:
    ctx.caller.require("ServiceRequest", "c")
    status = body.get("status")
    if status not in ("draft", "active"):
        raise unprocessable(
            "a new referral is draft (not sent yet) or active (sent)", "ServiceRequest.status"
        )
    person_id = _person(ctx, body.get("subject"), "ServiceRequest.subject")
    service = _service(body)
    pathway, discharge = _category(body)
    reasons = [str(r.get("text", "")) for r in body.get("reasonCode") or [] if r.get("text")]
    notes = [str(n.get("text", "")) for n in body.get("note") or []]
    not_home = next(
        (n.split(":", 1)[1].strip() for n in notes if n.startswith("Not home first:")), ""
    )
    request = referral_actions.Request(
        service=service,
        pathway=pathway,
        reason=" ".join(reasons),
        discharge_pathway=discharge,
        home_first=not not_home,
        not_home_because=not_home,
        urgent=body.get("priority") in ("urgent", "asap", "stat"),
        what_matters=next(
            (n.split(":", 1)[1].strip() for n in notes if n.startswith("What matters")), ""
        ),
        needs=next((n.split(":", 1)[1].strip() for n in notes if n.startswith("Their needs")), ""),
    )
    relationship = ctx.relationship(person_id)
    team = relationship.team or next(iter(ctx.account.teams_by_name), None)
    pairs = _identifiers(body, "ServiceRequest")
    try:
        with transaction.atomic():
            referral = referral_actions.refer(
                person_id=person_id,
                person=published.profile(person_id) or {},
                request=request,
                by=ctx.account,
                team=team,
                send=status == "active",
            )
            _keep_identifiers(ctx, "ServiceRequest", str(referral.pk), pairs)
    except PlanError as error:
        raise _plan_error(error, "ServiceRequest", REFERRAL_FIELDS) from None
    return Written("ServiceRequest", referral, True, person_id)


def _referral(ctx: Context, rid: str, resource_type: str, shown_as: str) -> Referral:
    """The referral at ``rid``, read within a care relationship."""
    found = Referral.objects.filter(pk=int(rid) if whole(rid) else 0).first()
    if found is None:
        raise not_found(resource_type, shown_as)
    ctx.relationship(found.person_id)
    return found


def update_referral(ctx: Context, rid: str, body: dict[str, Any], version: int) -> Written:
    """The referrer's side sends a draft (status active) or withdraws it (revoked, with
    a note saying why); the receiving service moves it on through its Task."""
    ctx.caller.require("ServiceRequest", "u")
    current = _referral(ctx, rid, "ServiceRequest", rid)
    sent = Status.REQUESTED if current.status == Status.DRAFT else current.status
    targets = {"draft": Status.DRAFT, "active": sent, "revoked": Status.CANCELLED}
    target = targets.get(str(body.get("status") or ""))
    if target is None:
        raise unprocessable(
            "a referral is updated to send it (active) or withdraw it (revoked); the receiving "
            "service accepts, rejects and completes it through its Task",
            "ServiceRequest.status",
        )
    reason = " ".join(str(n.get("text", "")) for n in body.get("note") or []).strip()
    return _move(ctx, current, version, target, reason, ("ServiceRequest", rid))


def _move_referral(ctx: Context, rid: str, body: dict[str, Any], version: int) -> Written:
    """The receiving service (or the referrer) moves a referral on through its BaRS task."""
    address = ("Task", f"referral-{rid}")
    current = _referral(ctx, rid, *address)
    if _person(ctx, body.get("for"), "Task.for") != current.person_id:
        raise unprocessable("a task's person cannot change", "Task.for")
    status = str(body.get("status") or "")
    if status not in Status.values:
        raise invalid(f"Task.status '{status}' is not a referral status", "Task.status")
    reason = str(((body.get("statusReason") or {}).get("text")) or "").strip()
    return _move(ctx, current, version, status, reason, address)


def _move(
    ctx: Context,
    current: Referral,
    version: int,
    target: str,
    reason: str,
    address: tuple[str, str],
) -> Written:
    if current.version != version:
        raise stale(*address, current.version, version)
    if target == current.status:
        return Written("ServiceRequest", current, False, current.person_id)
    try:
        referral = referral_actions.move(
            referral_id=current.pk, version=version, status=target, reason=reason, by=ctx.account
        )
    except Conflict:  # moved by someone else since it was read above
        now = Referral.objects.values_list("version", flat=True).get(pk=current.pk)
        raise stale(*address, now, version) from None
    except PlanError as error:
        raise unprocessable(str(error), f"{address[0]}.status") from None
    return Written("ServiceRequest", referral, False, referral.person_id)


# ---------------------------------------------------------------------------------------
# CarePlan


def update_plan(ctx: Context, rid: str, body: dict[str, Any], version: int) -> Written:
    """A partner changes what a plan says about the person (``description``: about me),
    its next review (``period.end``) and what matters (a note beginning "What matters to
    me:"); goals and tasks are changed as Goals and Tasks of their own."""
    ctx.caller.require("CarePlan", "u")
    plan = CarePlan.objects.filter(pk=int(rid) if whole(rid) else 0).first()
    if plan is None:
        raise not_found("CarePlan", rid)
    ctx.relationship(plan.person_id)
    if _person(ctx, body.get("subject"), "CarePlan.subject") != plan.person_id:
        raise unprocessable("a plan's person cannot change", "CarePlan.subject")
    if plan.version != version:
        raise stale("CarePlan", rid, plan.version, version)
    content = dict(plan.current().content)
    content["about_me"] = str(body.get("description") or "").strip()
    end = (body.get("period") or {}).get("end")
    if end:
        content["review_date"] = _date(end, "CarePlan.period.end").isoformat()
    for note in body.get("note") or []:
        text = str(note.get("text", ""))
        if text.startswith("What matters to me:"):
            content["what_matters"] = text.split(":", 1)[1].strip()
    try:
        saved = plan_actions.save_plan(
            person_id=plan.person_id,
            version=version,
            content=content,
            by=ctx.account,
            note=f"updated by {ctx.caller.client.name} through the FHIR API",
        )
    except Conflict:
        fresh = CarePlan.objects.get(pk=plan.pk)
        raise stale("CarePlan", rid, fresh.version, version) from None
    except PlanError as error:
        raise unprocessable(
            str(error), "CarePlan.period.end" if error.field == "review_date" else "CarePlan"
        ) from None
    return Written("CarePlan", saved, False, plan.person_id)


# ---------------------------------------------------------------------------------------
# Subscription (the R4 topic-based subscriptions backport, rest-hook)


def _subscription_fields(body: dict[str, Any]) -> dict[str, Any]:
    topic = str(body.get("criteria") or "")
    if topic not in Topic.values:
        raise unprocessable(
            "Subscription.criteria must be a topic this server offers: " + ", ".join(Topic.values),
            "Subscription.criteria",
        )
    channel = body.get("channel") or {}
    if channel.get("type") != "rest-hook":
        raise unprocessable(
            "Subscription.channel.type must be rest-hook", "Subscription.channel.type"
        )
    endpoint = str(channel.get("endpoint") or "")
    parsed = urlparse(endpoint)
    local = parsed.hostname in ("localhost", "127.0.0.1", "::1")
    if parsed.scheme != "https" and not (parsed.scheme == "http" and local):
        raise unprocessable(
            "Subscription.channel.endpoint must be an https address (plain http only to this machine)",
            "Subscription.channel.endpoint",
        )
    content = next(
        (
            e.get("valueCode")
            for e in (channel.get("_payload") or {}).get("extension") or []
            if e.get("url") == PAYLOAD_CONTENT
        ),
        "id-only",
    )
    if content not in Subscription.Payload.values:
        raise unprocessable(
            "the payload content is id-only or full-resource", "Subscription.channel._payload"
        )
    headers = [str(h) for h in channel.get("header") or []]
    for index, header in enumerate(headers):
        if ":" not in header:
            raise invalid(
                f"Subscription.channel.header[{index}] must be 'Name: value'",
                f"Subscription.channel.header[{index}]",
            )
    return {
        "topic": topic,
        "endpoint": endpoint,
        "headers": headers,
        "payload": content,
        "reason": str(body.get("reason") or ""),
    }


def create_subscription(ctx: Context, body: dict[str, Any], refs: dict[str, str]) -> Written:
    ctx.caller.require("Subscription", "c")
    fields = _subscription_fields(body)
    made = Subscription.objects.create(client=ctx.caller.client, **fields)
    return Written("Subscription", made, True)


def update_subscription(ctx: Context, rid: str, body: dict[str, Any], version: int) -> Written:
    ctx.caller.require("Subscription", "u")
    fields = _subscription_fields(body)
    status = body.get("status")
    if status not in ("active", "off", "requested"):
        raise unprocessable("set Subscription.status to active or off", "Subscription.status")
    with transaction.atomic():
        found = (
            Subscription.objects.select_for_update()
            .filter(pk=int(rid) if whole(rid) else 0, client=ctx.caller.client)
            .first()
        )
        if found is None:
            raise not_found("Subscription", rid)
        if found.version != version:
            raise stale("Subscription", rid, found.version, version)
        for name, value in fields.items():
            setattr(found, name, value)
        found.status = Subscription.Status.OFF if status == "off" else Subscription.Status.ACTIVE
        found.error = ""
        found.version += 1
        found.save()
    return Written("Subscription", found, False)


def delete_subscription(ctx: Context, rid: str) -> None:
    ctx.caller.require("Subscription", "d")
    updated = Subscription.objects.filter(
        pk=int(rid) if whole(rid) else 0, client=ctx.caller.client
    ).update(status=Subscription.Status.OFF, updated_at=timezone.now())
    if not updated:
        raise not_found("Subscription", rid)


CREATE = {
    "Task": create_task,
    "ServiceRequest": create_referral,
    "Subscription": create_subscription,
}
UPDATE = {
    "Task": update_task,
    "ServiceRequest": update_referral,
    "CarePlan": update_plan,
    "Subscription": update_subscription,
}


def create_once(
    ctx: Context, resource_type: str, body: dict[str, Any], refs: dict[str, str], condition: str
) -> tuple[Any, Written | None]:
    """A create, conditional when ``condition`` (an If-None-Exist search) is given: the
    record it finds and None, or the record made and how."""
    if condition:
        ctx.caller.require(resource_type, "s")
        found = existing(ctx, resource_type, condition)
        if found is not None:
            return found, None
    made = CREATE[resource_type](ctx, body, refs)
    return made.record, made


def existing(ctx: Context, resource_type: str, condition: str) -> Any | None:
    """The record an ``If-None-Exist`` search finds: None for no match, the record for
    one, a 412 for several (the condition is not selective enough)."""
    kind = KINDS[resource_type]
    query = QueryDict(condition.lstrip("?"))
    if not query:
        raise invalid(
            "If-None-Exist must be a search, e.g. identifier=system|value", "If-None-Exist"
        )
    search = Search.read(query, set(kind.params), resource_type)
    if not search.params:
        raise invalid(
            "If-None-Exist must search by the resource's own parameters, e.g. "
            "identifier=system|value",
            "If-None-Exist",
        )
    search.count = 2
    page = kind.search(ctx, search)
    if len(page.records) > 1:
        raise FhirError(
            412,
            "duplicate",
            f"If-None-Exist matches more than one {resource_type}: make the condition selective "
            "(a partner's identifier)",
        )
    return page.records[0] if page.records else None
