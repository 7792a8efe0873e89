"""The personalised care records as FHIR R4 resources (UK Core profiles where they exist:
CarePlan, Goal, Task, CareTeam, QuestionnaireResponse), so the FHIR API for partners'
systems gives them out without a translation layer. Each resource is validated with
fhir.resources by the tests; here they are plain dicts, ready for JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from neighbourhood.care.plans.models import CarePlan, CarePlanVersion, Task

PERSON = "https://neighbourhood.health/fhir/Id/person"
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/"
ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
PROFESSIONAL = "https://neighbourhood.health/fhir/Id/professional"
TEAM = "https://neighbourhood.health/fhir/Id/team"


def _subject(person_id: str) -> dict[str, Any]:
    """A reference to the person: their Patient resource on the FHIR API, and the
    person id it is known by (a partner searches by NHS number: ``subject:identifier``)."""
    return {
        "reference": f"Patient/{person_id}",
        "identifier": {"system": PERSON, "value": person_id},
    }


def _instant(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="seconds")


def goal(plan: CarePlan, entry: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Goal",
        "id": f"{plan.pk}-{entry['id']}",
        "meta": {"profile": [f"{UK_CORE}UKCore-Goal"]},
        "lifecycleStatus": entry["lifecycle"],
        "achievementStatus": {"coding": [{"system": ACHIEVEMENT, "code": entry["achievement"]}]},
        "description": {"text": entry["text"]},
        "subject": _subject(plan.person_id),
    }
    target: dict[str, Any] = {}
    if entry.get("target"):
        target["detailString"] = entry["target"]
    if entry.get("due"):
        target["dueDate"] = entry["due"]
    if target:
        resource["target"] = [target]
    return resource


def care_team(plan: CarePlan, version: CarePlanVersion) -> dict[str, Any]:
    content = version.content
    participants = [
        {
            "role": [{"text": person.get("role", "")}],
            "member": {
                "identifier": {"system": PROFESSIONAL, "value": str(person["id"])},
                "display": person.get("name", ""),
            },
            "onBehalfOf": {"display": person.get("organisation", "")},
        }
        for person in content.get("people", [])
    ]
    if content.get("carer_name"):
        participants.append(
            {"role": [{"text": "Unpaid carer"}], "member": {"display": content["carer_name"]}}
        )
    resource: dict[str, Any] = {
        "resourceType": "CareTeam",
        "id": f"{plan.pk}",
        "meta": {"profile": [f"{UK_CORE}UKCore-CareTeam"]},
        "status": "active",
        "subject": _subject(plan.person_id),
        "managingOrganization": [
            {"identifier": {"system": TEAM, "value": str(plan.team_id)}, "display": plan.team.name}
        ],
    }
    if participants:
        resource["participant"] = participants
    return resource


def task(item: Task) -> dict[str, Any]:
    owner: dict[str, Any]
    if item.owner is not None:
        owner = {
            "identifier": {"system": PROFESSIONAL, "value": str(item.owner_id)},
            "display": item.owner_name,
        }
    else:
        owner = {
            "identifier": {"system": TEAM, "value": str(item.owner_team_id)},
            "display": item.owner_name,
        }
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(item.pk),
        "meta": {
            "versionId": str(item.version),
            "lastUpdated": _instant(item.updated_at),
            "profile": [f"{UK_CORE}UKCore-Task"],
        },
        "status": item.status,
        "intent": "plan",
        "description": item.description,
        "for": _subject(item.person_id),
        "authoredOn": _instant(item.created_at),
        "lastModified": _instant(item.updated_at),
        "requester": {
            "identifier": {"system": PROFESSIONAL, "value": str(item.requested_by_id)},
            "display": item.requested_by.display_name,
        },
        "owner": owner,
        "restriction": {"period": {"end": item.due.isoformat()}},
    }
    based_on = []
    if item.plan_id is not None:
        based_on.append({"reference": f"CarePlan/{item.plan_id}"})
    if item.referral_id is not None:
        based_on.append({"reference": f"ServiceRequest/{item.referral_id}"})
    if based_on:
        resource["basedOn"] = based_on
    if item.goal_id:
        resource["reasonReference"] = {"reference": f"Goal/{item.plan_id}-{item.goal_id}"}
    if item.status_reason:
        resource["statusReason"] = {"text": item.status_reason}
    return resource


def care_plan(plan: CarePlan, tasks: list[Task]) -> dict[str, Any]:
    """The plan's current version, with its goals, care team and tasks, as a Bundle."""
    version = plan.current()
    entries = [care_plan_resource(plan, version, tasks), care_team(plan, version)]
    entries += [goal(plan, g) for g in version.goals]
    entries += [task(t) for t in tasks]
    return collection(entries)


def care_plan_resource(
    plan: CarePlan, version: CarePlanVersion, tasks: list[Task]
) -> dict[str, Any]:
    """One version of the plan as a FHIR CarePlan: its goals and care team by reference,
    its tasks as activities."""
    content = version.content
    notes = []
    if content.get("what_matters"):
        notes.append({"text": f"What matters to me: {content['what_matters']}"})
    if content.get("contingency_what"):
        notes.append(
            {
                "text": f"If things go wrong: {content['contingency_what']} "
                f"Whom to call: {content.get('contingency_call', '')}"
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(plan.pk),
        "meta": {
            "versionId": str(version.number),
            "lastUpdated": _instant(version.changed_at),
            "profile": [f"{UK_CORE}UKCore-CarePlan"],
        },
        "status": "active",
        "intent": "plan",
        "title": "Personalised care and support plan",
        "subject": _subject(plan.person_id),
        "created": _instant(plan.created_at),
        "period": {"end": plan.review_due.isoformat()},
        "careTeam": [{"reference": f"CareTeam/{plan.pk}"}],
    }
    if version.goals:
        resource["goal"] = [{"reference": f"Goal/{plan.pk}-{g['id']}"} for g in version.goals]
    if tasks:
        resource["activity"] = [{"reference": {"reference": f"Task/{t.pk}"}} for t in tasks]
    if content.get("about_me"):
        resource["description"] = content["about_me"]
    if notes:
        resource["note"] = notes
    return resource


def collection(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Resources as a Bundle of type collection, each with a stable full URL."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:neighbourhood:{e['resourceType']}/{e['id']}", "resource": e}
            for e in entries
        ],
    }
