"""Urgent neighbourhood services: the single point of access, urgent community response
(UCR) and virtual wards (hospital at home).

- ``Call``: one call into the single point of access (from an ambulance crew, NHS 111, a
  GP, a care home, community staff or the person), claimed by one senior clinician who
  triages it: the presenting need, acuity and the outcome.
- ``Response``: an urgent community response, from the call received to the first visit
  (the two-hour clock), with who is on the way and, when it missed two hours, why.
- ``Ward``, ``Stay``, ``Observation``: virtual wards by pathway and their beds; a stay
  from admission (step-up or step-down) to discharge with an outcome; observations with
  their NEWS2 score, sub-scores and the raw readings.

Every row a clinician changes carries ``version``: a change made against an older one is
refused and the clinician told who changed it (two claims of one call: one wins).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

TWO_HOURS = 120  # minutes: the national urgent community response standard
STANDARD_SHARE = 0.70  # at least 70% of referrals within two hours
HOURS = (8, 20)  # the standard applies to referrals received from 8am to 8pm, 7 days
OCCUPANCY_TARGET = 0.80
BEDS_PER_100K = (40, 50)


class Source(models.TextChoices):
    AMBULANCE = "ambulance", "Ambulance crew (call before convey)"
    NHS111 = "nhs111", "NHS 111"
    GP = "gp", "GP or practice"
    CARE_HOME = "care_home", "Care home"
    COMMUNITY = "community", "Community staff"
    SELF = "self", "The person, their family or carer"


class Need(models.TextChoices):
    """The national urgent community response conditions, then needs outside them."""

    FALL = "fall", "Fall (no serious injury)"
    FRAILTY = "frailty", "Frailty decompensation"
    REDUCED_FUNCTION = "reduced_function", "Reduced function or mobility"
    PALLIATIVE = "palliative", "Palliative or end-of-life crisis"
    EQUIPMENT = "equipment", "Urgent equipment"
    DELIRIUM = "delirium", "Confusion or delirium"
    CATHETER = "catheter", "Urgent catheter care"
    DIABETES = "diabetes", "Urgent support for diabetes"
    CARER = "carer", "Unpaid carer breakdown"
    BREATHING = "breathing", "Breathing difficulty"
    CHEST_PAIN = "chest_pain", "Chest pain"
    INJURY = "injury", "Injury needing hospital care"
    MENTAL_HEALTH = "mental_health", "Mental health crisis"
    OTHER = "other", "Something else"


UCR_NEEDS = (
    Need.FALL,
    Need.FRAILTY,
    Need.REDUCED_FUNCTION,
    Need.PALLIATIVE,
    Need.EQUIPMENT,
    Need.DELIRIUM,
    Need.CATHETER,
    Need.DIABETES,
    Need.CARER,
)


class Acuity(models.TextChoices):
    EMERGENCY = "emergency", "Emergency: life-threatening now"
    TWO_HOURS = "two_hours", "Urgent: within two hours"
    SAME_DAY = "same_day", "Same day"
    ADVICE = "advice", "Advice: no visit needed"


class Outcome(models.TextChoices):
    UCR = "ucr", "Urgent community response (two hours)"
    VIRTUAL_WARD = "virtual_ward", "Virtual ward, step-up"
    PRIMARY_CARE = "primary_care", "Same-day primary care"
    REFERRAL = "referral", "A referral to another service"
    ADVICE = "advice", "Advice only"
    CONVEY = "convey", "Conveyance to hospital"


class Call(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting for triage"
        TRIAGING = "triaging", "Being triaged"
        DONE = "done", "Triaged"

    # Empty when the caller could not say who it is, or they are not in the refresh:
    # ``described`` then says what the caller said.
    person_id = models.CharField(max_length=40, blank=True, default="", db_index=True)
    described = models.TextField(blank=True, default="")
    organisation = models.ForeignKey(
        "teams.Organisation", on_delete=models.PROTECT, related_name="urgent_calls"
    )
    received_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    caller = models.CharField(max_length=200)
    callback = models.CharField(max_length=40, blank=True, default="")
    need = models.CharField(max_length=20, choices=Need.choices)
    details = models.TextField()
    taken_by = models.ForeignKey("teams.Professional", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    claimed_by = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    acuity = models.CharField(max_length=20, choices=Acuity.choices, blank=True, default="")
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True, default="")
    outcome_note = models.TextField(blank=True, default="")
    convey_reason = models.TextField(blank=True, default="")
    triaged_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["received_at", "pk"]
        indexes = [models.Index(fields=["organisation", "status"], name="call_queue")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(person_id="") | ~Q(described=""), name="call_about_someone"
            ),
            models.CheckConstraint(
                condition=~Q(status="triaging") | Q(claimed_by__isnull=False),
                name="triaging_by_someone",
            ),
            models.CheckConstraint(
                condition=~Q(status="done")
                | (~Q(outcome="") & ~Q(acuity="") & Q(triaged_at__isnull=False)),
                name="triaged_with_an_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="convey") | ~Q(convey_reason=""),
                name="conveyed_with_a_reason",
            ),
        ]

    @property
    def reference(self) -> str:
        return f"C{self.pk:06d}"

    @property
    def ucr_need(self) -> bool:
        return self.need in UCR_NEEDS


class Response(models.Model):
    """An urgent community response: the two-hour clock runs from the call's receipt at
    the single point of access (the service's front door) to the first visit."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting for a responder"
        ON_THE_WAY = "on_the_way", "On the way"
        VISITED = "visited", "Visited"
        CLOSED = "closed", "Closed"

    class After(models.TextChoices):
        HOME = "home", "Stayed at home, needs met"
        VIRTUAL_WARD = "virtual_ward", "Admitted to a virtual ward"
        REFERRED = "referred", "Stayed at home, referred on"
        CONVEYED = "conveyed", "Conveyed to hospital"
        DIED = "died", "Died"

    call = models.OneToOneField(Call, on_delete=models.PROTECT, related_name="response")
    person_id = models.CharField(max_length=40, blank=True, default="", db_index=True)
    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="urgent")
    received_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.WAITING)
    responder = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    eta = models.DateTimeField(null=True, blank=True)
    visited_at = models.DateTimeField(null=True, blank=True)
    late_reason = models.TextField(blank=True, default="")
    after = models.CharField(max_length=20, choices=After.choices, blank=True, default="")
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["received_at", "pk"]
        indexes = [models.Index(fields=["status", "received_at"], name="ucr_board")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="on_the_way") | Q(responder__isnull=False),
                name="on_the_way_by_someone",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["visited", "closed"]) | Q(visited_at__isnull=False),
                name="visited_when_visited",
            ),
        ]

    @property
    def reference(self) -> str:
        return f"U{self.pk:06d}"

    @property
    def in_hours(self) -> bool:
        """Received when the standard applies (8am to 8pm, local time)."""
        hour = timezone.localtime(self.received_at).hour
        return HOURS[0] <= hour < HOURS[1]

    def minutes_to_visit(self) -> int | None:
        if self.visited_at is None:
            return None
        return int((self.visited_at - self.received_at).total_seconds() // 60)

    def on_time(self) -> bool | None:
        minutes = self.minutes_to_visit()
        return None if minutes is None else minutes <= TWO_HOURS


class WardPathway(models.TextChoices):
    FRAILTY = "frailty", "Frailty"
    RESPIRATORY = "respiratory", "Respiratory"
    HEART_FAILURE = "heart_failure", "Heart failure"


class Ward(models.Model):
    name = models.CharField(max_length=200, unique=True)
    pathway = models.CharField(max_length=20, choices=WardPathway.choices)
    organisation = models.ForeignKey(
        "teams.Organisation", on_delete=models.PROTECT, related_name="virtual_wards"
    )
    beds = models.PositiveIntegerField()
    # Neighbourhood codes it serves (its population is theirs); empty: everywhere.
    catchment = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["pathway", "name"]
        constraints = [models.CheckConstraint(condition=Q(beds__gt=0), name="ward_has_beds")]

    def __str__(self) -> str:
        return self.name


class Stay(models.Model):
    class Route(models.TextChoices):
        STEP_UP = "step-up", "Step-up: from the community, instead of an admission"
        STEP_DOWN = "step-down", "Step-down: early discharge from hospital"

    class Discharge(models.TextChoices):
        HOME = "home", "Home, no further care"
        ONWARD = "onward", "Home, with onward care"
        ADMITTED = "admitted", "Admitted to hospital"
        DIED = "died", "Died"

    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="stays")
    person_id = models.CharField(max_length=40, db_index=True)
    route = models.CharField(max_length=10, choices=Route.choices)
    call = models.ForeignKey(
        Call, on_delete=models.PROTECT, related_name="stays", null=True, blank=True
    )
    reason = models.TextField()
    admitted_at = models.DateTimeField()
    admitted_by = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="+"
    )
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharge = models.CharField(max_length=10, choices=Discharge.choices, blank=True, default="")
    discharge_note = models.TextField(blank=True, default="")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["admitted_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person_id"],
                condition=Q(discharged_at__isnull=True),
                name="one_virtual_ward_stay_at_a_time",
            ),
            models.CheckConstraint(
                condition=Q(discharged_at__isnull=True, discharge="")
                | (Q(discharged_at__isnull=False) & ~Q(discharge="")),
                name="discharged_with_an_outcome",
            ),
        ]

    @property
    def reference(self) -> str:
        return f"V{self.pk:06d}"


class Observation(models.Model):
    """One set of observations and its NEWS2 (Royal College of Physicians, 2017): the raw
    readings, each parameter's sub-score and the total, computed by ``news2.score``."""

    class Taken(models.TextChoices):
        VISIT = "visit", "At a visit"
        REMOTE = "remote", "Remote monitoring"

    stay = models.ForeignKey(Stay, on_delete=models.PROTECT, related_name="observations")
    taken_at = models.DateTimeField()
    taken = models.CharField(max_length=10, choices=Taken.choices)
    respiration_rate = models.PositiveSmallIntegerField()
    spo2 = models.PositiveSmallIntegerField()
    scale2 = models.BooleanField(default=False)  # SpO2 scale 2: hypercapnic failure
    on_oxygen = models.BooleanField(default=False)
    systolic = models.PositiveSmallIntegerField()
    pulse = models.PositiveSmallIntegerField()
    consciousness = models.CharField(max_length=1)  # A, C, V, P or U (ACVPU)
    temperature = models.DecimalField(max_digits=3, decimal_places=1)
    sub_scores = models.JSONField()
    news2 = models.PositiveSmallIntegerField()
    risk = models.CharField(max_length=12)
    recorded_by = models.ForeignKey(
        "teams.Professional", on_delete=models.PROTECT, related_name="+", null=True
    )
    escalated = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["taken_at", "pk"]
