"""Partners' systems and what they do through the FHIR API.

- ``Client``: a partner's system, registered by the IG lead to one organisation, with
  the public keys (a JWKS) it signs its token requests with and the SMART scopes it may
  be granted. It acts through a system account (a ``Professional`` of its organisation,
  in the teams it serves), so the web pages' care-relationship rules apply unchanged.
- ``Assertion``: each signed assertion's ``jti``, kept until it expires, so none is
  replayed.
- ``AccessToken``: a bearer token, stored as its SHA-256 digest, with its scopes and
  expiry.
- ``PartnerIdentifier``: a partner's own identifier for a record it created, so its
  retries (conditional create) and searches find the record, never a duplicate.
- ``ResourceVersion``: each version of a Task or ServiceRequest as it was given out, for
  ``vread`` and ``_history`` (the current version is always read from the record).
- ``Subscription`` and ``Notification``: topic-based subscriptions (the R4 backport),
  and each event queued for delivery in order, retried with back-off until delivered.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Client(models.Model):
    name = models.CharField(max_length=200)
    client_id = models.CharField(max_length=100, unique=True)
    organisation = models.ForeignKey(
        "teams.Organisation", on_delete=models.PROTECT, related_name="api_clients"
    )
    account = models.OneToOneField(
        "teams.Professional", on_delete=models.PROTECT, related_name="api_client"
    )
    jwks = models.JSONField(help_text="The public keys it signs with, as a JSON Web Key Set")
    scopes = models.JSONField(default=list)  # SMART v2, e.g. ["system/Task.cruds"]
    active = models.BooleanField(default=True)
    registered_by = models.CharField(max_length=150)
    registered_at = models.DateTimeField(auto_now_add=True)
    keys_changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"


class Assertion(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=200)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "jti"], name="one_use_an_assertion")
        ]


class AccessToken(models.Model):
    digest = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="tokens")
    scopes = models.JSONField()
    issued_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)


class PartnerIdentifier(models.Model):
    resource_type = models.CharField(max_length=40)
    resource_id = models.CharField(max_length=64)
    system = models.CharField(max_length=300)
    value = models.CharField(max_length=300)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+", null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resource_type", "system", "value"], name="one_record_an_identifier"
            )
        ]
        indexes = [models.Index(fields=["resource_type", "resource_id"], name="identifiers_of")]


class ResourceVersion(models.Model):
    resource_type = models.CharField(max_length=40)
    resource_id = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    resource = models.JSONField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource_type", "resource_id", "version"], name="one_row_a_version"
            )
        ]


class Topic(models.TextChoices):
    TASK = "https://neighbourhood.health/fhir/SubscriptionTopic/task", "Tasks"
    REFERRAL = "https://neighbourhood.health/fhir/SubscriptionTopic/referral", "Referrals"


class Subscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ERROR = "error", "Failing: deliveries are being retried"
        OFF = "off", "Off"

    class Payload(models.TextChoices):
        ID_ONLY = "id-only", "Identifiers only"
        FULL = "full-resource", "Full resources"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="subscriptions")
    topic = models.CharField(max_length=200, choices=Topic.choices)
    endpoint = models.URLField(max_length=500)
    headers = models.JSONField(default=list, blank=True)  # "Name: value" strings
    payload = models.CharField(max_length=20, choices=Payload.choices, default=Payload.ID_ONLY)
    reason = models.TextField(blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    events = models.PositiveBigIntegerField(default=0)  # events since it started
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)


class Notification(models.Model):
    """One event for one subscription. Delivered in ``number`` order: a notification
    waits while an earlier one of its subscription is undelivered."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="notifications"
    )
    number = models.PositiveBigIntegerField()  # the event number, from 1
    resource_type = models.CharField(max_length=40)
    resource_id = models.CharField(max_length=64)
    resource_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["subscription", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "number"], name="one_notification_a_number"
            )
        ]
        indexes = [
            models.Index(
                fields=["subscription", "number"],
                condition=Q(delivered_at__isnull=True),
                name="undelivered",
            )
        ]
