"""What changes is kept and told: each saved version of a task or referral is kept as it
was given out (for ``vread`` and ``_history``), and each change is queued, in the same
transaction, for every subscription it concerns, so a change and its notification
commit together or not at all.

Delivery (``deliver``) posts each subscription's notifications in event-number order,
one at a time, as R4 backport notification bundles. A refused or failed delivery is
retried with exponential back-off (``BACKOFF`` doubling up to ``MAX_BACKOFF``), and the
notifications behind it wait, so a receiver sees every event, in order, at least once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_save
from django.utils import timezone

from neighbourhood.care.fhirapi.models import (
    Notification,
    ResourceVersion,
    Subscription,
    Topic,
)
from neighbourhood.care.plans import fhir as plans_fhir
from neighbourhood.care.plans.models import Task
from neighbourhood.care.referrals import fhir as referrals_fhir
from neighbourhood.care.referrals.models import Referral

log = logging.getLogger(__name__)
BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
BACKOFF = dt.timedelta(seconds=5)
MAX_BACKOFF = dt.timedelta(hours=1)
TIMEOUT_SECONDS = 10


def base_url() -> str:
    return str(getattr(settings, "FHIR_BASE_URL", "http://localhost:8000/fhir/"))


def connect() -> None:
    post_save.connect(_task_saved, sender=Task, dispatch_uid="fhirapi-task")
    post_save.connect(_referral_saved, sender=Referral, dispatch_uid="fhirapi-referral")


def _task_saved(sender: Any, instance: Task, **kwargs: Any) -> None:
    resource = plans_fhir.task(instance)
    _keep("Task", str(instance.pk), instance.version, resource)
    _queue(Topic.TASK, "Task", str(instance.pk), instance.version, _task_concerns(instance))


def _referral_saved(sender: Any, instance: Referral, **kwargs: Any) -> None:
    _keep(
        "ServiceRequest",
        str(instance.pk),
        instance.version,
        referrals_fhir.service_request(instance),
    )
    _keep("ServiceRequestTask", str(instance.pk), instance.version, referrals_fhir.task(instance))
    _queue(
        Topic.REFERRAL,
        "ServiceRequest",
        str(instance.pk),
        instance.version,
        _referral_concerns(instance),
    )


def _keep(resource_type: str, rid: str, version: int, resource: dict[str, Any]) -> None:
    ResourceVersion.objects.bulk_create(
        [
            ResourceVersion(
                resource_type=resource_type,
                resource_id=rid,
                version=version,
                resource=resource,
                at=timezone.now(),
            )
        ],
        ignore_conflicts=True,
    )


def _task_concerns(task: Task) -> Q:
    """The clients a task concerns: its owner's organisation, its owning team's, the
    plan's team's, and the system that asked for it."""
    plan_team = task.plan.team_id if task.plan is not None else None
    teams = [t for t in (task.owner_team_id, plan_team) if t]
    q = Q(client__account__memberships__team_id__in=teams) | Q(
        client__account_id=task.requested_by_id
    )
    if task.owner is not None:
        q |= Q(client__organisation_id=task.owner.organisation_id)
    return q


def _referral_concerns(referral: Referral) -> Q:
    q = Q(client__organisation_id=referral.service.organisation_id) | Q(
        client__organisation_id=referral.referred_by.organisation_id
    )
    if referral.team_id is not None:
        q |= Q(client__account__memberships__team_id=referral.team_id)
    return q


def _queue(topic: str, resource_type: str, rid: str, version: int, concerns: Q) -> None:
    ids = list(
        Subscription.objects.filter(concerns, topic=topic, client__active=True)
        .exclude(status=Subscription.Status.OFF)
        .values_list("pk", flat=True)
        .distinct()
    )
    now = timezone.now()
    for pk in sorted(ids):  # always in the same order: no two writers deadlock
        with transaction.atomic():
            subscription = Subscription.objects.select_for_update().get(pk=pk)
            subscription.events += 1
            subscription.save(update_fields=["events"])
            Notification.objects.create(
                subscription=subscription,
                number=subscription.events,
                resource_type=resource_type,
                resource_id=rid,
                resource_version=version,
                next_attempt_at=now,
            )


def subscription_resource(subscription: Subscription) -> dict[str, Any]:
    status = "active" if subscription.status == Subscription.Status.ACTIVE else subscription.status
    resource: dict[str, Any] = {
        "resourceType": "Subscription",
        "id": str(subscription.pk),
        "meta": {
            "versionId": str(subscription.version),
            "lastUpdated": subscription.updated_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
            "profile": [BACKPORT + "backport-subscription"],
        },
        "status": status,
        "reason": subscription.reason
        or f"{subscription.get_topic_display()} of {subscription.client.organisation.name}",
        "criteria": subscription.topic,
        "channel": {
            "type": "rest-hook",
            "endpoint": subscription.endpoint,
            "payload": "application/fhir+json",
            "_payload": {
                "extension": [
                    {
                        "url": BACKPORT + "backport-payload-content",
                        "valueCode": subscription.payload,
                    }
                ]
            },
        },
    }
    if subscription.headers:
        resource["channel"]["header"] = list(subscription.headers)
    if subscription.error:
        resource["error"] = subscription.error
    return resource


def bundle(notification: Notification) -> dict[str, Any]:
    """The notification as the R4 backport sends it: a history Bundle whose first entry
    is the subscription's status (a Parameters resource), then the focus resource."""
    subscription = notification.subscription
    base = base_url()
    focus = f"{base}{notification.resource_type}/{notification.resource_id}"
    status = {
        "resourceType": "Parameters",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [BACKPORT + "backport-subscription-status-r4"]},
        "parameter": [
            {
                "name": "subscription",
                "valueReference": {"reference": f"{base}Subscription/{subscription.pk}"},
            },
            {"name": "topic", "valueCanonical": subscription.topic},
            {"name": "status", "valueCode": "active"},
            {"name": "type", "valueCode": "event-notification"},
            {"name": "events-since-subscription-start", "valueString": str(subscription.events)},
            {
                "name": "notification-event",
                "part": [
                    {"name": "event-number", "valueString": str(notification.number)},
                    {
                        "name": "timestamp",
                        "valueInstant": notification.created_at.astimezone(dt.UTC).isoformat(
                            timespec="seconds"
                        ),
                    },
                    {"name": "focus", "valueReference": {"reference": focus}},
                ],
            },
        ],
    }
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"urn:uuid:{status['id']}",
            "resource": status,
            "request": {"method": "GET", "url": f"{base}Subscription/{subscription.pk}/$status"},
            "response": {"status": "200"},
        }
    ]
    entry: dict[str, Any] = {
        "fullUrl": focus,
        "request": {
            "method": "PUT",
            "url": f"{notification.resource_type}/{notification.resource_id}",
        },
        "response": {"status": "200", "etag": f'W/"{notification.resource_version}"'},
    }
    if subscription.payload == Subscription.Payload.FULL:
        kept = ResourceVersion.objects.filter(
            resource_type=notification.resource_type,
            resource_id=notification.resource_id,
            version=notification.resource_version,
        ).first()
        if kept is not None:
            entry["resource"] = kept.resource
    entries.append(entry)
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "history",
        "timestamp": timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds"),
        "entry": entries,
    }


def _post(subscription: Subscription, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        subscription.endpoint,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/fhir+json"},
    )
    for header in subscription.headers:
        name, _, value = header.partition(":")
        request.add_header(name.strip(), value.strip())
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
        answer.read()


def backoff(attempts: int) -> dt.timedelta:
    wait: dt.timedelta = BACKOFF * (2 ** max(attempts - 1, 0))
    return min(wait, MAX_BACKOFF)


def deliver(limit: int = 500) -> dict[str, int]:
    """Deliver what is due, oldest event first within each subscription; a failure
    stops that subscription's queue until its retry is due. Safe to run in several
    processes at once: each subscription is worked by one at a time."""
    counts = {"delivered": 0, "failed": 0}
    waiting = (
        Notification.objects.filter(delivered_at__isnull=True)
        .values_list("subscription_id", flat=True)
        .distinct()
        .order_by("subscription_id")
    )
    for subscription_id in waiting:
        if counts["delivered"] + counts["failed"] >= limit:
            break
        _deliver_one(subscription_id, counts, limit)
    return counts


def _deliver_one(subscription_id: int, counts: dict[str, int], limit: int) -> None:
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update(skip_locked=True)
            .select_related("client__organisation")
            .filter(pk=subscription_id)
            .first()
        )
        if subscription is None or subscription.status == Subscription.Status.OFF:
            return
        queue = Notification.objects.filter(
            subscription=subscription, delivered_at__isnull=True
        ).order_by("number")
        for notification in queue[:limit]:
            now = timezone.now()
            if notification.next_attempt_at > now:
                return
            try:
                _post(subscription, bundle(notification))
            except (urllib.error.URLError, OSError, ValueError) as error:
                notification.attempts += 1
                notification.next_attempt_at = now + backoff(notification.attempts)
                notification.last_error = str(error)[:500]
                notification.save(update_fields=["attempts", "next_attempt_at", "last_error"])
                subscription.status = Subscription.Status.ERROR
                subscription.error = f"event {notification.number}: {str(error)[:300]}"
                subscription.save(update_fields=["status", "error", "updated_at"])
                counts["failed"] += 1
                log.warning("subscription %s: delivery failed, retried later", subscription.pk)
                return
            notification.attempts += 1
            notification.delivered_at = now
            notification.save(update_fields=["attempts", "delivered_at"])
            counts["delivered"] += 1
            if subscription.status == Subscription.Status.ERROR:
                subscription.status, subscription.error = Subscription.Status.ACTIVE, ""
                subscription.save(update_fields=["status", "error", "updated_at"])


def run(every: float, once: bool = False) -> None:
    """Deliver what is due, then again every ``every`` seconds (or once)."""
    while True:
        deliver()
        if once:
            return
        time.sleep(every)


def run_forever(every: float = 5.0) -> None:
    """The server's delivery thread: a failure of one round (the database restarting, say)
    is logged and the next round tried, so delivery never stops for good."""
    from django.db import close_old_connections

    while True:
        try:
            deliver()
        except Exception:
            log.exception("subscription delivery round failed; trying again")
        finally:
            close_old_connections()
        time.sleep(every)
