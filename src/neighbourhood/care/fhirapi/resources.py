"""Each resource type the API serves: where its records live, how one is found, who may
see it, how it is searched, and how it is drawn as FHIR R4 (UK Core) JSON.

The records are the operational ones (plans, tasks, referrals, caseload enrolments,
assessments, urgent care): a resource is drawn from its record on every read, never
kept as a copy that could drift. Only the past versions of tasks and referrals are kept
as they were given out (``ResourceVersion``), for ``vread`` and ``_history``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from django.db.models import Model, Q, QuerySet

from neighbourhood.care import published
from neighbourhood.care.access import Relationship, care_relationship
from neighbourhood.care.caseload.models import Enrolment
from neighbourhood.care.fhirapi.auth import Caller
from neighbourhood.care.fhirapi.models import PartnerIdentifier, ResourceVersion, Subscription
from neighbourhood.care.fhirapi.outcome import FhirError, invalid, not_found
from neighbourhood.care.fhirapi.params import (
    Search,
    date_matches,
    date_q,
    reference_id,
    token,
    whole,
)
from neighbourhood.care.fhirapi.validate import NHS_NUMBER, ODS, SNOMED
from neighbourhood.care.meetings.models import AgendaItem
from neighbourhood.care.plans import fhir as plans_fhir
from neighbourhood.care.plans.fhir import PERSON, PROFESSIONAL, TEAM, UK_CORE, _instant, _subject
from neighbourhood.care.plans.models import Assessment, CarePlan, CarePlanVersion, Task
from neighbourhood.care.plans.questionnaires import FOLDER, shipped
from neighbourhood.care.referrals import fhir as referrals_fhir
from neighbourhood.care.referrals.models import Referral, Service
from neighbourhood.care.urgent import news2
from neighbourhood.care.urgent.models import Observation, Response, Stay

LOINC = "http://loinc.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
NEWS2_TOTAL = (
    "1104051000000101",
    "Royal College of Physicians NEWS2 (National Early Warning Score 2) total score",
)
READING_CODES = {  # LOINC codes of the vital signs NEWS2 reads
    "respiration_rate": ("9279-1", "Respiratory rate", "/min"),
    "spo2": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%"),
    "systolic": ("8480-6", "Systolic blood pressure", "mm[Hg]"),
    "pulse": ("8867-4", "Heart rate", "/min"),
    "temperature": ("8310-5", "Body temperature", "Cel"),
}
GENDER = {"M": "male", "F": "female", "MALE": "male", "FEMALE": "female", "U": "unknown"}
PATIENT_PARAMS = ("patient", "subject")


@dataclass
class Context:
    """One request's caller, the address resources are served from, and what its
    organisation's teams are."""

    caller: Caller
    base: str  # e.g. https://host/fhir/
    seen: dict[str, Relationship] = field(default_factory=dict)

    @property
    def account(self) -> Any:
        return self.caller.client.account

    @cached_property
    def teams(self) -> list[int]:
        return [t.pk for t in self.account.teams_by_name]

    @property
    def organisation_id(self) -> int:
        return int(self.caller.client.organisation_id)

    def relationship(self, person_id: str) -> Relationship:
        """Why this client may see this person's record, or a refusal."""
        if person_id in self.seen:
            return self.seen[person_id]
        found = care_relationship(self.account, person_id) if person_id else None
        if found is None:
            raise FhirError(
                403,
                "forbidden",
                f"{self.caller.client.organisation.name} has no care relationship with this "
                "person (a caseload, a case-finding list, an open referral or urgent care): "
                "their record is not shared with this client",
            )
        self.seen[person_id] = found
        return found


@dataclass
class Page:
    records: list[Any]
    more: bool
    total: int | None = None
    people: list[str] = field(default_factory=list)


class Kind:
    """A resource type. Subclasses say where its records are and how to draw them."""

    name: ClassVar[str]
    params: ClassVar[dict[str, tuple[str, str]]] = {}
    writes: ClassVar[tuple[str, ...]] = ()  # "create", "update"
    history: ClassVar[bool] = False
    about_people: ClassVar[bool] = True

    def get(self, ctx: Context, rid: str) -> Any:
        raise NotImplementedError

    def person_of(self, record: Any) -> str:
        return str(getattr(record, "person_id", ""))

    def version_of(self, record: Any) -> int:
        return int(getattr(record, "version", 1))

    def render(self, ctx: Context, record: Any) -> dict[str, Any]:
        raise NotImplementedError

    def render_many(self, ctx: Context, records: list[Any]) -> list[dict[str, Any]]:
        return [self.render(ctx, r) for r in records]

    def search(self, ctx: Context, search: Search) -> Page:
        raise NotImplementedError

    def past(self, record: Any, version: int) -> dict[str, Any] | None:
        """An earlier version as it was given out, or None."""
        return None

    def versions(self, record: Any) -> list[dict[str, Any]]:
        return []

    def includes(self, ctx: Context, records: list[Any], search: Search) -> list[tuple[str, Any]]:
        if search.include or search.revinclude:
            raise invalid(
                f"{self.name} takes no _include or _revinclude (see /fhir/metadata)", "_include"
            )
        return []


def _pk(rid: str, name: str) -> int:
    if not whole(rid) or len(rid) > 18:
        raise not_found(name, rid)
    return int(rid)


def person_ids(ctx: Context, search: Search) -> list[str] | None:
    """The people a search names (by reference, or by NHS number), each checked for a
    care relationship; None when it names nobody."""
    found: list[str] | None = None
    for name in PATIENT_PARAMS:
        for text in search.values(name):
            found = (found or []) + [reference_id(text, "Patient", name)]
        for text in search.values(f"{name}:identifier"):
            system, value = token(text)
            if system not in (None, NHS_NUMBER, PERSON):
                raise invalid(
                    f"{name}:identifier takes an NHS number ({NHS_NUMBER}|…) or a person id",
                    f"{name}:identifier",
                )
            if system == PERSON:
                found = (found or []) + [value]
                continue
            person = published.by_nhs_number(value)
            found = (found or []) + ([str(person["person_id"])] if person else [])
    if found is None:
        return None
    for person_id in found:
        ctx.relationship(person_id)
    return found


class ModelKind(Kind):
    """A resource type whose records are rows of one table."""

    model: ClassVar[type[Model]]
    person_field: ClassVar[str] = "person_id"
    updated_field: ClassVar[str] = ""

    def queryset(self) -> QuerySet[Any]:
        return self.model._default_manager.all()

    def get(self, ctx: Context, rid: str) -> Any:
        found = self.queryset().filter(pk=_pk(rid, self.name)).first()
        if found is None:
            raise not_found(self.name, rid)
        return found

    def scope(self, ctx: Context) -> Q:
        """The records a search without a patient may return: its organisation's."""
        raise NotImplementedError

    def filters(self, ctx: Context, search: Search) -> Q:
        return Q()

    def search(self, ctx: Context, search: Search) -> Page:
        query = self.queryset()
        people = person_ids(ctx, search)
        if people is not None:
            query = query.filter(**{f"{self.person_field}__in": people})
        else:
            query = query.filter(self.scope(ctx))
        ids = search.values("_id")
        if ids:
            query = query.filter(pk__in=[int(i) for i in ids if whole(i)])
        if self.updated_field:
            query = query.filter(date_q(search, "_lastUpdated", self.updated_field))
        identifiers = search.values("identifier")
        if identifiers:
            query = query.filter(pk__in=_by_identifier(self.name, identifiers))
        query = query.filter(self.filters(ctx, search)).order_by("pk")
        rows = list(query[search.offset : search.offset + search.count + 1])
        total = query.count() if search.total else None
        return Page(rows[: search.count], len(rows) > search.count, total)


def _by_identifier(resource_type: str, values: list[str]) -> list[int]:
    q = Q(pk__in=[])
    for text in values:
        system, value = token(text)
        q |= Q(value=value, **({"system": system} if system is not None else {}))
    return [
        int(r)
        for r in PartnerIdentifier.objects.filter(q, resource_type=resource_type).values_list(
            "resource_id", flat=True
        )
        if whole(r)
    ]


def partner_identifiers(resource_type: str, ids: list[str]) -> dict[str, list[dict[str, str]]]:
    """Partners' own identifiers of these records, by record id: one query for a page."""
    found: dict[str, list[dict[str, str]]] = {}
    for kept in PartnerIdentifier.objects.filter(
        resource_type=resource_type, resource_id__in=ids
    ).order_by("pk"):
        found.setdefault(kept.resource_id, []).append({"system": kept.system, "value": kept.value})
    return found


class KeptVersions:
    """A kind whose past versions are kept as they were given out (``ResourceVersion``,
    written by ``notify`` when the record is saved)."""

    def kept_as(self, record: Any) -> str:
        raise NotImplementedError

    def _kept(self, record: Any) -> QuerySet[ResourceVersion]:
        return ResourceVersion.objects.filter(
            resource_type=self.kept_as(record), resource_id=str(record.pk)
        )

    def past(self, record: Any, version: int) -> dict[str, Any] | None:
        found = self._kept(record).filter(version=version).first()
        return found.resource if found else None

    def versions(self, record: Any) -> list[dict[str, Any]]:
        return [v.resource for v in self._kept(record)]


# ---------------------------------------------------------------------------------------
# Patient, from the published refresh


class PatientKind(Kind):
    name = "Patient"
    params = {
        "_id": ("token", "The person's id"),
        "identifier": ("token", f"The NHS number: {NHS_NUMBER}|<NHS number>"),
    }

    def get(self, ctx: Context, rid: str) -> Any:
        found = published.profile(rid) if len(rid) <= 64 else None
        if found is None:
            raise not_found(self.name, rid)
        return found

    def person_of(self, record: Any) -> str:
        return str(record["person_id"])

    def render(self, ctx: Context, record: Any) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "resourceType": "Patient",
            "id": str(record["person_id"]),
            "meta": {"profile": [f"{UK_CORE}UKCore-Patient"]},
            "identifier": [{"system": PERSON, "value": str(record["person_id"])}],
        }
        if record.get("nhs_number"):
            resource["identifier"].insert(
                0, {"system": NHS_NUMBER, "value": str(record["nhs_number"])}
            )
        name: dict[str, Any] = {"use": "official"}
        if record.get("family_name"):
            name["family"] = str(record["family_name"])
        if record.get("given_name"):
            name["given"] = [str(record["given_name"])]
        if len(name) > 1:
            resource["name"] = [name]
        gender = GENDER.get(str(record.get("sex") or "").upper())
        if gender:
            resource["gender"] = gender
        born = record.get("date_of_birth")
        if isinstance(born, dt.date):
            resource["birthDate"] = born.isoformat()
        if record.get("postcode"):
            resource["address"] = [{"postalCode": str(record["postcode"])}]
        if record.get("practice"):
            resource["generalPractitioner"] = [
                {"identifier": {"system": ODS, "value": str(record["practice"])}}
            ]
        return resource

    def search(self, ctx: Context, search: Search) -> Page:
        ids = search.values("_id")
        for text in search.values("identifier"):
            system, value = token(text)
            if system not in (None, NHS_NUMBER):
                raise invalid(
                    f"search Patient by NHS number: {NHS_NUMBER}|<NHS number>", "identifier"
                )
            person = published.by_nhs_number(value)
            ids += [str(person["person_id"])] if person else []
        if not search.params:
            raise invalid(
                "search Patient by identifier (an NHS number) or _id: a partner's system finds "
                "the people it cares for, not the whole population",
                "identifier",
            )
        records = []
        for person_id in dict.fromkeys(ids):
            ctx.relationship(person_id)
            found = published.profile(person_id)
            if found is not None:
                records.append(found)
        return Page(records[search.offset : search.offset + search.count], False, len(records))


# ---------------------------------------------------------------------------------------
# Personalised care: CarePlan, Goal, CareTeam, Task, QuestionnaireResponse


class CarePlanKind(ModelKind):
    name = "CarePlan"
    model = CarePlan
    writes = ("update",)
    history = True
    updated_field = "updated_at"
    params = {
        "_id": ("token", "The plan's id"),
        "_lastUpdated": ("date", "When the plan last changed"),
        "patient": ("reference", "The person: Patient/<id>, or patient:identifier=<NHS number>"),
        "subject": ("reference", "As patient"),
        "status": ("token", "active (a plan in use)"),
        "date": ("date", "The plan's period: its end is the next review's due date"),
    }

    def queryset(self) -> QuerySet[Any]:
        return CarePlan.objects.select_related("team")

    def scope(self, ctx: Context) -> Q:
        return Q(team_id__in=ctx.teams)

    def filters(self, ctx: Context, search: Search) -> Q:
        statuses = search.values("status")
        out = date_q(search, "date", "review_due", is_date=True)
        if statuses and "active" not in statuses:
            out &= Q(pk__in=[])
        return out

    def render_many(self, ctx: Context, records: list[Any]) -> list[dict[str, Any]]:
        if not records:
            return []
        versions = current_versions(records)
        tasks: dict[int, list[Task]] = {}
        for task in Task.objects.filter(plan_id__in=[p.pk for p in records]).only("pk", "plan_id"):
            tasks.setdefault(int(task.plan_id or 0), []).append(task)
        return [
            plans_fhir.care_plan_resource(p, versions[p.pk], tasks.get(p.pk, [])) for p in records
        ]

    def render(self, ctx: Context, record: Any) -> dict[str, Any]:
        return self.render_many(ctx, [record])[0]

    def past(self, record: Any, version: int) -> dict[str, Any] | None:
        found = record.versions.filter(number=version).first()
        if found is None:
            return None
        return plans_fhir.care_plan_resource(record, found, list(record.tasks.only("pk")))

    def versions(self, record: Any) -> list[dict[str, Any]]:
        tasks = list(record.tasks.only("pk"))
        return [plans_fhir.care_plan_resource(record, v, tasks) for v in record.versions.all()]

    def includes(self, ctx: Context, records: list[Any], search: Search) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        for name in search.include:
            if name in ("CarePlan:goal", "CarePlan:goal:Goal"):
                out += [("Goal", g) for p in records for g in GOALS.of(p)]
            elif name in ("CarePlan:care-team", "CarePlan:care-team:CareTeam"):
                out += [("CareTeam", p) for p in records]
            else:
                raise invalid(
                    f"CarePlan includes CarePlan:goal or CarePlan:care-team, not '{name}'",
                    "_include",
                )
        for name in search.revinclude:
            if name in ("Task:based-on", "Task:based-on:CarePlan"):
                found = Task.objects.filter(plan_id__in=[p.pk for p in records]).select_related(
                    *TaskKind.RELATED
                )
                out += [("Task", t) for t in found.order_by("pk")]
            else:
                raise invalid(
                    f"CarePlan is revincluded by Task:based-on, not '{name}'", "_revinclude"
                )
        return out


def current_versions(plans: list[CarePlan]) -> dict[int, CarePlanVersion]:
    """Each plan's current version, by plan id, in one query."""
    wanted = Q(pk__in=[])
    for plan in plans:
        wanted |= Q(plan_id=plan.pk, number=plan.version)
    return {v.plan_id: v for v in CarePlanVersion.objects.filter(wanted)}


@dataclass(frozen=True)
class GoalRecord:
    plan: CarePlan
    entry: dict[str, Any]

    @property
    def person_id(self) -> str:
        return self.plan.person_id


class GoalKind(Kind):
    """A goal lives in its plan's current version: its id is ``<plan>-<goal>``."""

    name = "Goal"
    params = {
        "patient": ("reference", "The person"),
        "subject": ("reference", "As patient"),
        "lifecycle-status": ("token", "proposed, active, on-hold, completed or cancelled"),
    }

    def of(self, plan: CarePlan) -> list[GoalRecord]:
        return [GoalRecord(plan, g) for g in plan.current().goals]

    def get(self, ctx: Context, rid: str) -> Any:
        plan_id, _, goal_id = rid.partition("-")
        plan = CarePlan.objects.filter(pk=_pk(plan_id, self.name)).first()
        goal = next((g for g in self.of(plan) if g.entry["id"] == goal_id), None) if plan else None
        if goal is None:
            raise not_found(self.name, rid)
        return goal

    def version_of(self, record: Any) -> int:
        return int(record.plan.version)

    def render(self, ctx: Context, record: Any) -> dict[str, Any]:
        resource = plans_fhir.goal(record.plan, record.entry)
        resource["meta"]["versionId"] = str(record.plan.version)
        return resource

    def search(self, ctx: Context, search: Search) -> Page:
        people = person_ids(ctx, search)
        plans = CarePlan.objects.filter(
            Q(person_id__in=people) if people is not None else Q(team_id__in=ctx.teams)
        ).order_by("pk")
        wanted = set(search.values("lifecycle-status"))
        needed = search.offset + search.count + 1  # goals, not plans: a plan may have none
        goals: list[GoalRecord] = []
        batch = 100
        for first in range(0, plans.count(), batch):
            chunk = list(plans[first : first + batch])
            versions = current_versions(chunk)
            for plan in chunk:
                goals += [
                    GoalRecord(plan, g)
                    for g in versions[plan.pk].goals
                    if not wanted or g["lifecycle"] in wanted
                ]
            if len(goals) >= needed:
                break
        window = goals[search.offset : needed]
        return Page(window[: search.count], len(window) > search.count)


GOALS = GoalKind()


class CareTeamKind(ModelKind):
    name = "CareTeam"
    model = CarePlan
    params = {"patient": ("reference", "The person"), "subject": ("reference", "As patient")}

    def queryset(self) -> QuerySet[Any]:
        return CarePlan.objects.select_related("team")

    def scope(self, ctx: Context) -> Q:
        return Q(team_id__in=ctx.teams)

    def render(self, ctx: Context, record: Any) -> dict[str, Any]:
        resource = plans_fhir.care_team(record, record.current())
        resource["meta"]["versionId"] = str(record.version)
        return resource


class TaskKind(KeptVersions, ModelKind):
    name = "Task"
    model = Task
    writes = ("create", "update")
    history = True
    updated_field = "updated_at"
    RELATED = ("owner__user", "owner__organisation", "owner_team", "requested_by__user")
    params = {
        "_id": ("token", "The task's id"),
        "_lastUpdated": ("date", "When the task last changed"),
        "identifier": ("token", "The partner's own identifier: system|value"),
        "patient": ("reference", "The person the task is for"),
        "subject": ("reference", "As patient"),
        "status": ("token", "requested, accepted, in-progress, completed, cancelled, rejected"),
        "owner": (
            "reference",
            "Whose task: a professional's id; owner:identifier=system|value for a team",
        ),
        "based-on": ("reference", "CarePlan/<id> or ServiceRequest/<id>"),
        "authored-on": ("date", "When the task was made"),
        "modified": ("date", "When the task last changed"),
        "period": ("date", "When the task is due (its restriction period's end)"),
    }

    def queryset(self) -> QuerySet[Any]:
        return Task.objects.select_related(*self.RELATED)

    def get(self, ctx: Context, rid: str) -> Any:
        if rid.startswith("referral-"):
            return REFERRALS.get(ctx, rid.removeprefix("referral-"))
        return super().get(ctx, rid)

    def kept_as(self, record: Any) -> str:
        return "ServiceRequestTask" if isinstance(record, Referral) else "Task"

    def render(self, ctx: Context, record: Any) -> dict[str, Any]:
        return self.render_many(ctx, [record])[0]

    def render_many(self, ctx: Context, records: list[Any]) -> list[dict[str, Any]]:
        identifiers = partner_identifiers(
            "Task", [str(r.pk) for r in records if not isinstance(r, Referral)]
        )
        out = []
        for record in records:
            if isinstance(record, Referral):
                resource = referrals_fhir.task(record)
                resource["meta"]["lastUpdated"] = _instant(record.updated_at)
            else:
                resource = plans_fhir.task(record)
                if str(record.pk) in identifiers:
                    resource["identifier"] = identifiers[str(record.pk)]
            out.append(resource)
        return out

    def scope(self, ctx: Context) -> Q:
        return (
            Q(owner__organisation_id=ctx.organisation_id)
            | Q(owner_team_id__in=ctx.teams)
            | Q(plan__team_id__in=ctx.teams)
            | Q(requested_by_id=ctx.account.pk)
        )

    def filters(self, ctx: Context, search: Search) -> Q:
        out = Q()
        statuses = search.values("status")
        if statuses:
            out &= Q(status__in=statuses)
        owners = search.values("owner")
        if owners:
            ids = [reference_id(v, "Practitioner", "owner") for v in owners]
            out &= Q(owner_id__in=[int(i) for i in ids if whole(i)])
        for text in search.values("owner:identifier"):
            system, value = token(text)
            if not whole(value) or system not in (PROFESSIONAL, TEAM, None):
                raise invalid(f"owner:identifier takes {PROFESSIONAL}|<id> or {TEAM}|<id>", "owner")
            out &= Q(owner_team_id=int(value)) if system == TEAM else Q(owner_id=int(value))
        for text in search.values("based-on"):
            kind, _, rid = text.rpartition("/")
            if not whole(rid) or kind.split("/")[-1] not in ("CarePlan", "ServiceRequest"):
                raise invalid("based-on takes CarePlan/<id> or ServiceRequest/<id>", "based-on")
            out &= Q(plan_id=int(rid)) if kind.endswith("CarePlan") else Q(referral_id=int(rid))
        out &= date_q(search, "authored-on", "created_at")
        out &= date_q(search, "modified", "updated_at")
        out &= date_q(search, "period", "due", is_date=True)
        return out

    def version_of(self, record: Any) -> int:
        return int(record.version)


class AssessmentKind(ModelKind):
    name = "QuestionnaireResponse"
    model = Assessment
    updated_field = "updated_at"
    params = {
        "_id": ("token", "The assessment's id"),
        "_lastUpdated": ("date", "When it last changed"),
        "patient": ("reference", "The person assessed"),
        "subject": ("reference", "As patient"),
        "status": ("token", "in-progress or completed"),
        "authored": ("date", "When it was last saved"),
        "questionnaire": ("reference", "The questionnaire's canonical URL"),
    }

    def scope(self, ctx: Context) -> Q:
        return Q(
            person_id__in=Enrolment.objects.filter(
                team_id__in=ctx.teams, ended_at__isnull=True
            ).values("person_id")
        )

    def filters(self, ctx: Context, search: Search) -> Q:
        out = date_q(search, "authored", "updated_at")
        if search.values("status"):
            out &= Q(status__in=search.values("status"))
        if search.values("questionnaire"):
            out &= Q(questionnaire__in=[v.split("|")[0] for v in search.values("questionnaire")])
        return out

    def render(self, ctx: Context, record: Any) -> dict[str, Any]:
        questionnaire = next((q for q in shipped().values() if q.url == record.questionnaire), None)
        if questionnaire is None:
            raise FhirError(500, "exception", "the assessment's questionnaire is no longer shipped")
        resource = questionnaire.response(
            record.pk, record.person_id, record.status, record.answers, _instant(record.updated_at)
        )
        resource["id"] = str(record.pk)
        resource["subject"] = _subject(record.person_id)
        resource["meta"] = {
            "versionId": str(record.version),
            "lastUpdated": _instant(record.updated_at),
            "profile": [f"{UK_CORE}UKCore-QuestionnaireResponse"],
        }
        return resource


class QuestionnaireKind(Kind):
    name = "Questionnaire"
    about_people = False
    params = {"_id": ("token", "The questionnaire's id"), "url": ("uri", "Its canonical URL")}

    def get(self, ctx: Context, rid: str) -> Any:
        if rid not in shipped():
            raise not_found(self.name, rid)
        resource = json.loads((FOLDER / f"{rid}.json").read_text(encoding="utf-8"))
        resource["id"] = rid
        return resource

    def person_of(self, record: Any) -> str:
        return ""

    def version_of(self, record: Any) -> int:
        return 1

    def render(self, ctx: Context, record: Any) -> dict[str, Any]:
        return dict(record)

    def search(self, ctx: Context, search: Search) -> Page:
        urls = {v.split("|")[0] for v in search.values("url")}
        ids = set(search.values("_id"))
        found = [
            self.get(ctx, slug)
            for slug, q in shipped().items()
            if (not urls or q.url in urls) and (not ids or slug in ids)
        ]
        return Page(found[search.offset : search.offset + search.count], False, len(found))


# ---------------------------------------------------------------------------------------
# Coordination: ServiceRequest (referrals), HealthcareService, EpisodeOfCare


class ReferralKind(KeptVersions, ModelKind):
    name = "ServiceRequest"
    model = Referral
    writes = ("create", "update")
    history = True
    updated_field = "updated_at"
    STATUS = {
        "draft": ["draft"],
        "active": ["requested", "accepted", "in-progress"],
        "completed": ["completed"],
        "revoked": ["rejected", "cancelled"],
    }
    params = {
        "_id": ("token", "The referral's id"),
        "_lastUpdated": ("date", "When it last changed"),
        "identifier": ("token", "The partner's own identifier, or the referral's reference"),
        "patient": ("reference", "The person referred"),
        "subject": ("reference", "As patient"),
        "status": ("token", "draft, active, completed or revoked"),
        "category": ("token", "step-up, step-down, community or social-prescribing"),
        "authored": ("date", "When the referral was made"),
        "performer": ("reference", "HealthcareService/<id>: the service referred to"),
    }

    def queryset(self) -> QuerySet[Any]:
        return Referral.objects.select_related("service__organisation", "referred_by__user")

    def scope(self, ctx: Context) -> Q:
        return (
            Q(service__organisation_id=ctx.organisation_id)
            | Q(team_id__in=ctx.teams)
            | Q(referred_by__organisation_id=ctx.organisation_id)
        )

    def filters(self, ctx: Context, search: Search) -> Q:
        out = date_q(search, "authored", "created_at")
        statuses = search.values("status")
        if statuses:
            out &= Q(status__in=[s for v in statuses for s in self.STATUS.get(v, [])])
        if search.values("category"):
            out &= Q(pathway__in=[token(v)[1] for v in search.values("category")])
        performers = search.values("performer")
        if performers:
            ids = [reference_id(v, "HealthcareService", "performer") for v in performers]
            out &= Q(service_id__in=[int(i) for i in ids if whole(i)])
        return out

    def kept_as(self, record: Any) -> str:
        return self.name

    def render(self, ctx: Context, record: Any) -> dict[str, Any]:
        return self.render_many(ctx, [record])[0]

    def render_many(self, ctx: Context, records: list[Any]) -> list[dict[str, Any]]:
        identifiers = partner_identifiers(self.name, [str(r.pk) for r in records])
        out = []
        for record in records:
            resource = referrals_fhir.service_request(record)
            resource["meta"]["lastUpdated"] = _instant(record.updated_at)
            resource["identifier"] += identifiers.get(str(record.pk), [])
            out.append(resource)
        return out


REFERRALS = ReferralKind()


class HealthcareServiceKind(ModelKind):
    name = "HealthcareService"
    model = Service
    about_people = False
    params = {
        "_id": ("token", "The service's id"),
        "name": ("string", "Part of its name"),
        "active": ("token", "true or false"),
        "organization:identifier": ("token", f"Its provider's ODS code: {ODS}|<code>"),
    }

    def queryset(self) -> QuerySet[Any]:
        return Service.objects.select_related("organisation")

    def person_of(self, record: Any) -> str:
        return ""

    def scope(self, ctx: Context) -> Q:
        return Q()

    def filters(self, ctx: Context, search: Search) -> Q:
        out = Q()
        for name in search.values("name"):
            out &= Q(name__icontains=name)
        if search.values("active"):
            out &= Q(active__in=[v == "true" for v in search.values("active")])
        if search.values("organization:identifier"):
            out &= Q(
                organisation__ods_code__in=[
                    token(v)[1] for v in search.values("organization:identifier")
                ]
            )
        return out

    def search(self, ctx: Context, search: Search) -> Page:
        if search.values("organization"):
            raise invalid("search by organization:identifier=<ODS code>", "organization")
        return super().search(ctx, search)

    def version_of(self, record: Any) -> int:
        return 1

    def render(self, ctx: Context, record: Any) -> dict[str, Any]:
        return referrals_fhir.healthcare_service(record)


class EpisodeKind(ModelKind):
    name = "EpisodeOfCare"
    model = Enrolment
    updated_field = "updated_at"
    params = {
        "_id": ("token", "The enrolment's id"),
        "_lastUpdated": ("date", "When it last changed"),
        "patient": ("reference", "The person in the caseload"),
        "status": ("token", "active or finished"),
        "date": ("date", "When the person joined the caseload"),
        "care-manager": ("reference", "The care coordinator: a professional's id"),
    }

    def queryset(self) -> QuerySet[Any]:
        return Enrolment.objects.select_related("team", "care_coordinator__user")

    def scope(self, ctx: Context) -> Q:
        return Q(team_id__in=ctx.teams)

    def filters(self, ctx: Context, search: Search) -> Q:
        out = date_q(search, "date", "enrolled_at")
        statuses = set(search.values("status"))
        if statuses:
            wanted = Q(pk__in=[])
            if "active" in statuses:
                wanted |= Q(ended_at__isnull=True)
            if "finished" in statuses:
                wanted |= Q(ended_at__isnull=False)
            out &= wanted
        managers = search.values("care-manager")
        if managers:
            ids = [reference_id(v, "Practitioner", "care-manager") for v in managers]
            out &= Q(care_coordinator_id__in=[int(i) for i in ids if whole(i)])
        return out

    def render(self, ctx: Context, record: Any) -> dict[str, Any]:
        period = {"start": _instant(record.enrolled_at)}
        if record.ended_at:
            period["end"] = _instant(record.ended_at)
        resource: dict[str, Any] = {
            "resourceType": "EpisodeOfCare",
            "id": str(record.pk),
            "meta": {
                "versionId": str(record.version),
                "lastUpdated": _instant(record.updated_at),
                "profile": [f"{UK_CORE}UKCore-EpisodeOfCare"],
            },
            "status": "active" if record.ended_at is None else "finished",
            "type": [{"text": "Integrated neighbourhood team caseload"}],
            "patient": _subject(record.person_id),
            "managingOrganization": {
                "identifier": {"system": TEAM, "value": str(record.team_id)},
                "display": record.team.name,
            },
            "period": period,
            "careManager": {
                "identifier": {"system": PROFESSIONAL, "value": str(record.care_coordinator_id)},
                "display": record.care_coordinator.display_name,
            },
        }
        return resource


# ---------------------------------------------------------------------------------------
# Urgent care: Encounter (an MDT case discussion, a virtual ward stay, an urgent
# community response visit) and Observation (virtual ward readings with their NEWS2)


class EncounterKind(Kind):
    name = "Encounter"
    params = {
        "patient": ("reference", "The person (required: encounters are searched person by person)"),
        "subject": ("reference", "As patient"),
        "status": ("token", "planned, in-progress or finished"),
        "date": ("date", "When the encounter began"),
    }
    SOURCES: ClassVar[dict[str, Any]] = {"mdt": AgendaItem, "stay": Stay, "visit": Response}

    def get(self, ctx: Context, rid: str) -> Any:
        prefix, _, pk = rid.partition("-")
        model = self.SOURCES.get(prefix)
        found = model.objects.filter(pk=_pk(pk, self.name)).first() if model else None
        if found is None or (prefix == "visit" and found.visited_at is None):
            raise not_found(self.name, rid)
        return found

    @staticmethod
    def status_and_start(record: Any) -> tuple[str, dt.datetime]:
        """What a search filters on, without drawing the whole resource."""
        if isinstance(record, AgendaItem):
            meeting = record.meeting
            return ("finished" if meeting.closed_at else "planned"), meeting.starts_at
        if isinstance(record, Stay):
            return ("finished" if record.discharged_at else "in-progress"), record.admitted_at
        closed = record.status == Response.Status.CLOSED
        return ("finished" if closed else "in-progress"), record.visited_at

    def render(self, ctx: Context, record: Any) -> dict[str, Any]:
        status, start = self.status_and_start(record)
        if isinstance(record, AgendaItem):
            meeting = record.meeting
            body: dict[str, Any] = {
                "id": f"mdt-{record.pk}",
                "status": status,
                "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
                "type": [{"text": "Multidisciplinary team case discussion"}],
                "period": {"start": _instant(start)},
                "serviceProvider": {
                    "identifier": {"system": TEAM, "value": str(meeting.team_id)},
                    "display": meeting.team.name,
                },
            }
            reasons = [{"text": str(r.get("text", ""))} for r in record.reasons if r.get("text")]
            if reasons:
                body["reasonCode"] = reasons
        elif isinstance(record, Stay):
            period = {"start": _instant(start)}
            if record.discharged_at:
                period["end"] = _instant(record.discharged_at)
            body = {
                "id": f"stay-{record.pk}",
                "status": status,
                "class": {"system": ACT_CODE, "code": "HH", "display": "home health"},
                "type": [{"text": f"Virtual ward stay ({record.ward.get_pathway_display()})"}],
                "period": period,
                "reasonCode": [{"text": record.reason}],
                "serviceProvider": {
                    "identifier": {"system": ODS, "value": record.ward.organisation.ods_code},
                    "display": record.ward.name,
                },
            }
        else:
            body = {
                "id": f"visit-{record.pk}",
                "status": status,
                "class": {"system": ACT_CODE, "code": "HH", "display": "home health"},
                "type": [{"text": "Urgent community response visit"}],
                "period": {"start": _instant(start)},
                "serviceProvider": {
                    "identifier": {"system": TEAM, "value": str(record.team_id)},
                    "display": record.team.name,
                },
            }
            if record.closed_at:
                body["period"]["end"] = _instant(record.closed_at)
        return {
            "resourceType": "Encounter",
            "meta": {
                "versionId": str(self.version_of(record)),
                "profile": [f"{UK_CORE}UKCore-Encounter"],
            },
            **body,
            "subject": _subject(record.person_id),
        }

    def search(self, ctx: Context, search: Search) -> Page:
        people = person_ids(ctx, search)
        if people is None:
            raise invalid(
                "search Encounter by patient: encounters are found person by person", "patient"
            )
        records: list[Any] = []
        records += AgendaItem.objects.filter(person_id__in=people, discussed=True).select_related(
            "meeting__team"
        )
        records += Stay.objects.filter(person_id__in=people).select_related("ward__organisation")
        records += Response.objects.filter(
            person_id__in=people, visited_at__isnull=False
        ).select_related("team")
        statuses = set(search.values("status"))
        chosen = []
        for record in records:
            status, start = self.status_and_start(record)
            if (not statuses or status in statuses) and date_matches(search, "date", start):
                chosen.append(record)
        window = chosen[search.offset : search.offset + search.count + 1]
        return Page(window[: search.count], len(window) > search.count, len(chosen))


class ObservationKind(ModelKind):
    name = "Observation"
    model = Observation
    person_field = "stay__person_id"
    params = {
        "_id": ("token", "The observation's id"),
        "patient": ("reference", "The person observed"),
        "subject": ("reference", "As patient"),
        "date": ("date", "When the readings were taken"),
        "code": ("token", f"{SNOMED}|{NEWS2_TOTAL[0]} (NEWS2): every set of readings is one"),
        "encounter": ("reference", "Encounter/stay-<id>: the virtual ward stay"),
    }

    def queryset(self) -> QuerySet[Any]:
        return Observation.objects.select_related("stay__ward__organisation")

    def person_of(self, record: Any) -> str:
        return str(record.stay.person_id)

    def version_of(self, record: Any) -> int:
        return 1

    def scope(self, ctx: Context) -> Q:
        return Q(stay__ward__organisation_id=ctx.organisation_id)

    def filters(self, ctx: Context, search: Search) -> Q:
        out = date_q(search, "date", "taken_at")
        codes = [token(v)[1] for v in search.values("code")]
        if codes and NEWS2_TOTAL[0] not in codes:
            out &= Q(pk__in=[])
        for text in search.values("encounter"):
            rid = reference_id(text, "Encounter", "encounter")
            out &= (
                Q(stay_id=int(rid[5:]))
                if rid.startswith("stay-") and whole(rid[5:])
                else Q(pk__in=[])
            )
        return out

    def render(self, ctx: Context, record: Any) -> dict[str, Any]:
        components = []
        for field_name, (code, display, unit) in READING_CODES.items():
            value = getattr(record, field_name)
            components.append(
                {
                    "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                    "valueQuantity": {
                        "value": float(value),
                        "unit": unit,
                        "system": "http://unitsofmeasure.org",
                        "code": unit,
                    },
                }
            )
        components.append(
            {
                "code": {"text": "Level of consciousness (ACVPU)"},
                "valueString": news2.CONSCIOUSNESS.get(record.consciousness, record.consciousness),
            }
        )
        components.append(
            {"code": {"text": "On supplemental oxygen"}, "valueBoolean": bool(record.on_oxygen)}
        )
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "id": str(record.pk),
            "meta": {"versionId": "1", "profile": [f"{UK_CORE}UKCore-Observation"]},
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs",
                        }
                    ]
                }
            ],
            "code": {
                "coding": [{"system": SNOMED, "code": NEWS2_TOTAL[0], "display": NEWS2_TOTAL[1]}]
            },
            "subject": _subject(record.stay.person_id),
            "encounter": {"reference": f"Encounter/stay-{record.stay_id}"},
            "effectiveDateTime": _instant(record.taken_at),
            "valueInteger": int(record.news2),
            "interpretation": [{"text": f"{record.risk} clinical risk"}],
            "component": components,
        }
        if record.taken == Observation.Taken.REMOTE:
            resource["method"] = {"text": "Remote monitoring"}
        return resource


class SubscriptionKind(ModelKind):
    """A partner's own subscriptions: it sees no one else's."""

    name = "Subscription"
    model = Subscription
    about_people = False
    writes = ("create", "update", "delete")
    updated_field = "updated_at"
    params = {
        "_id": ("token", "The subscription's id"),
        "status": ("token", "active, error or off"),
    }

    def person_of(self, record: Any) -> str:
        return ""

    def get(self, ctx: Context, rid: str) -> Any:
        found = Subscription.objects.filter(
            pk=_pk(rid, self.name), client=ctx.caller.client
        ).first()
        if found is None:
            raise not_found(self.name, rid)
        return found

    def scope(self, ctx: Context) -> Q:
        return Q(client=ctx.caller.client)

    def filters(self, ctx: Context, search: Search) -> Q:
        statuses = search.values("status")
        return Q(status__in=statuses) if statuses else Q()

    def render(self, ctx: Context, record: Any) -> dict[str, Any]:
        from neighbourhood.care.fhirapi import notify

        return notify.subscription_resource(record)


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        PatientKind(),
        CarePlanKind(),
        GOALS,
        CareTeamKind(),
        TaskKind(),
        REFERRALS,
        HealthcareServiceKind(),
        EpisodeKind(),
        AssessmentKind(),
        QuestionnaireKind(),
        EncounterKind(),
        ObservationKind(),
        SubscriptionKind(),
    )
}
