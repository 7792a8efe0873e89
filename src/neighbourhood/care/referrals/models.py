"""Referrals with a closed loop, and the directory of services they go to.

- ``Service``: one entry of the directory (FHIR HealthcareService; importable from an
  Open Referral UK file): what it offers, to whom, where, how many, and how fast it
  promises to answer and to make contact.
- ``Referral``: a request from one service to another, shaped like the NHS Booking and
  Referral Standard: a ServiceRequest (what, why, for whom) with a Task whose status
  moves from draft to requested, then accepted or rejected with a reason, in progress,
  completed or cancelled. ``version`` is checked on every move.
- ``ReferralEvent``: the log of every status change and contact: the referral clock is
  computed from it, never stored beside it.
- ``Wellbeing``: the ONS4 personal wellbeing questions, before and after social
  prescribing.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

# SNOMED CT, UK edition: the national codes of social prescribing.
SOCIAL_PRESCRIBING_REFERRAL = ("871731000000106", "Referral to social prescribing service")
SOCIAL_PRESCRIBING_DECLINED = ("871711000000103", "Social prescribing declined")


class ServiceKind(models.TextChoices):
    BED_BASED = "bed_based", "Intermediate care: bed-based"
    HOME_BASED = "home_based", "Intermediate care: home-based"
    REABLEMENT = "reablement", "Reablement"
    COMMUNITY = "community", "Community health service"
    MENTAL_HEALTH = "mental_health", "Mental health"
    SOCIAL_PRESCRIBING = "social_prescribing", "Social prescribing"
    VCFSE = "vcfse", "Voluntary, community, faith and social enterprise"


# What each kind promises when its entry says nothing: hours from a referral's receipt to
# a decision, and from acceptance to first contact.
PROMISES = {
    ServiceKind.BED_BASED: (4, 24),
    ServiceKind.HOME_BASED: (4, 24),
    ServiceKind.REABLEMENT: (24, 72),
    ServiceKind.COMMUNITY: (48, 120),
    ServiceKind.MENTAL_HEALTH: (72, 28 * 24),
    ServiceKind.SOCIAL_PRESCRIBING: (72, 14 * 24),
    ServiceKind.VCFSE: (120, 14 * 24),
}
INTERMEDIATE_CARE = (ServiceKind.BED_BASED, ServiceKind.HOME_BASED, ServiceKind.REABLEMENT)


class Service(models.Model):
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=ServiceKind.choices)
    organisation = models.ForeignKey(
        "teams.Organisation", on_delete=models.PROTECT, related_name="services"
    )
    description = models.TextField(blank=True, default="")
    eligibility = models.TextField(blank=True, default="")
    minimum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    maximum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    # Neighbourhood codes it serves; empty: everywhere. ``area`` says it in words.
    catchment = models.JSONField(default=list, blank=True)
    area = models.TextField(blank=True, default="")
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="People it can take on at once"
    )
    respond_hours = models.PositiveIntegerField(help_text="Hours from receipt to a decision")
    contact_hours = models.PositiveIntegerField(help_text="Hours from acceptance to first contact")
    activities = models.JSONField(default=list, blank=True)  # what a VCFSE service offers
    contact = models.CharField(max_length=200, blank=True, default="")
    hsds_id = models.CharField(max_length=100, blank=True, default="")
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["hsds_id"], condition=~Q(hsds_id=""), name="one_service_an_hsds_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation.name})"

    def serves(self, neighbourhood: str, age: int | None) -> str:
        """Why this service cannot take a person, or '' when it can."""
        if self.catchment and neighbourhood not in self.catchment:
            return f"{self.name} does not serve this person's neighbourhood"
        if age is not None and self.minimum_age is not None and age < self.minimum_age:
            return f"{self.name} takes people aged {self.minimum_age} and over"
        if age is not None and self.maximum_age is not None and age > self.maximum_age:
            return f"{self.name} takes people up to the age of {self.maximum_age}"
        return ""


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    IN_PROGRESS = "in-progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


OPEN = (Status.DRAFT, Status.REQUESTED, Status.ACCEPTED, Status.IN_PROGRESS)
WAITING = (Status.REQUESTED,)  # in the receiving service's inbox, to decide


class Pathway(models.TextChoices):
    STEP_UP = "step-up", "Step-up: from the community, to prevent an admission"
    STEP_DOWN = "step-down", "Step-down: on discharge from hospital"
    COMMUNITY = "community", "Community referral"
    SOCIAL_PRESCRIBING = "social-prescribing", "Social prescribing"


class DischargePathway(models.IntegerChoices):
    HOME = 0, "Pathway 0: home, no new support"
    HOME_WITH_SUPPORT = 1, "Pathway 1: home, with support to recover at home"
    BED_REHABILITATION = 2, "Pathway 2: a bed, for rehabilitation or short-term care"
    CARE_HOME = 3, "Pathway 3: a care home, for people with the highest needs"


class Referral(models.Model):
    person_id = models.CharField(max_length=40, db_index=True)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="referrals")
    pathway = models.CharField(max_length=20, choices=Pathway.choices)
    discharge_pathway = models.PositiveSmallIntegerField(
        choices=DischargePathway.choices, null=True, blank=True
    )
    home_first = models.BooleanField(default=True)
    not_home_because = models.TextField(blank=True, default="")
    urgent = models.BooleanField(default=False)
    reason = models.TextField()
    what_matters = models.TextField(blank=True, default="")
    needs = models.TextField(blank=True, default="")
    activities = models.JSONField(default=list, blank=True)  # offered, for social prescribing
    code = models.CharField(max_length=20, blank=True, default="")  # SNOMED CT
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    status_reason = models.TextField(blank=True, default="")
    referred_by = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="referrals_made"
    )
    team = models.ForeignKey(
        "teams.Team", on_delete=models.PROTECT, related_name="referrals", null=True, blank=True
    )
    # The social prescribing referral an onward VCFSE referral came from.
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="onward", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["service", "status"], name="referral_inbox")]
        constraints = [
            models.UniqueConstraint(
                fields=["person_id", "service"],
                condition=Q(status__in=["draft", "requested", "accepted", "in-progress"]),
                name="one_open_referral_a_service",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["rejected", "cancelled"]) | ~Q(status_reason=""),
                name="referral_ended_with_a_reason",
            ),
            models.CheckConstraint(
                condition=Q(pathway="step-down", discharge_pathway__isnull=False)
                | (~Q(pathway="step-down") & Q(discharge_pathway__isnull=True)),
                name="discharge_pathway_on_step_down",
            ),
        ]

    @property
    def reference(self) -> str:
        return f"R{self.pk:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


class ReferralEvent(models.Model):
    class Kind(models.TextChoices):
        STATUS = "status", "Status changed"
        CONTACT = "contact", "First contact made"
        ATTENDED = "attended", "Attended"
        DID_NOT_ATTEND = "did-not-attend", "Did not attend"

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, blank=True, default="")
    at = models.DateTimeField()
    by = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="+", null=True
    )
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["at", "pk"]


ONS4 = {
    "life_satisfaction": "Overall, how satisfied are you with your life nowadays?",
    "worthwhile": "Overall, to what extent do you feel that the things you do in your life "
    "are worthwhile?",
    "happiness": "Overall, how happy did you feel yesterday?",
    "anxiety": "Overall, how anxious did you feel yesterday?",
}


class Wellbeing(models.Model):
    """The ONS4 personal wellbeing questions, each answered 0 (not at all) to 10
    (completely); for anxiety, lower is better."""

    class When(models.TextChoices):
        BEFORE = "before", "Before support"
        AFTER = "after", "After support"

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="wellbeing")
    when = models.CharField(max_length=10, choices=When.choices)
    life_satisfaction = models.PositiveSmallIntegerField()
    worthwhile = models.PositiveSmallIntegerField()
    happiness = models.PositiveSmallIntegerField()
    anxiety = models.PositiveSmallIntegerField()
    recorded_by = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "when"], name="one_wellbeing_each_time"),
            models.CheckConstraint(
                condition=Q(life_satisfaction__lte=10)
                & Q(worthwhile__lte=10)
                & Q(happiness__lte=10)
                & Q(anxiety__lte=10),
                name="ons4_from_0_to_10",
            ),
        ]
