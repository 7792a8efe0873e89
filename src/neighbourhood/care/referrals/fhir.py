"""A referral as FHIR R4 resources, shaped like the NHS Booking and Referral Standard: a
``ServiceRequest`` (what is asked, why, for whom, of which service) and the ``Task``
whose status carries the request through its life, with the ``HealthcareService`` it
went to. Validated with fhir.resources by the tests; plain dicts here, ready for JSON."""

from __future__ import annotations

from typing import Any

from neighbourhood.care.plans.fhir import (
    PROFESSIONAL,
    UK_CORE,
    _instant,
    _subject,
    collection,
)
from neighbourhood.care.referrals.actions import clock
from neighbourhood.care.referrals.models import (
    SOCIAL_PRESCRIBING_DECLINED,
    SOCIAL_PRESCRIBING_REFERRAL,
    Referral,
    Service,
    Status,
)

SNOMED = "http://snomed.info/sct"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
SERVICE = "https://neighbourhood.health/fhir/Id/service"
CATEGORY = "https://neighbourhood.health/fhir/CodeSystem/referral-pathway"
DISCHARGE = "https://neighbourhood.health/fhir/CodeSystem/discharge-pathway"
# The request stays active while the service works on it; it ends completed or revoked.
REQUEST_STATUS = {
    Status.DRAFT: "draft",
    Status.REQUESTED: "active",
    Status.ACCEPTED: "active",
    Status.IN_PROGRESS: "active",
    Status.COMPLETED: "completed",
    Status.REJECTED: "revoked",
    Status.CANCELLED: "revoked",
}
NAMES = dict([SOCIAL_PRESCRIBING_REFERRAL, SOCIAL_PRESCRIBING_DECLINED])


def healthcare_service(service: Service) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "HealthcareService",
        "id": str(service.pk),
        "meta": {"profile": [f"{UK_CORE}UKCore-HealthcareService"]},
        "identifier": [{"system": SERVICE, "value": service.hsds_id or str(service.pk)}],
        "active": service.active,
        "providedBy": {
            "identifier": {"system": ODS, "value": service.organisation.ods_code},
            "display": service.organisation.name,
        },
        "type": [{"text": service.get_kind_display()}],
        "name": service.name,
    }
    if service.description:
        resource["comment"] = service.description
    if service.eligibility:
        resource["eligibility"] = [{"comment": service.eligibility}]
    if service.area:
        resource["extraDetails"] = service.area
    return resource


def _requester(referral: Referral) -> dict[str, Any]:
    return {
        "identifier": {"system": PROFESSIONAL, "value": str(referral.referred_by_id)},
        "display": referral.referred_by.display_name,
    }


def service_request(referral: Referral) -> dict[str, Any]:
    code: dict[str, Any] = {"text": f"Referral to {referral.service.name}"}
    if referral.code:
        code = {
            "coding": [{"system": SNOMED, "code": referral.code, "display": NAMES[referral.code]}]
        }
    category = [{"coding": [{"system": CATEGORY, "code": referral.pathway}]}]
    if referral.discharge_pathway is not None:
        category.append(
            {"coding": [{"system": DISCHARGE, "code": str(referral.discharge_pathway)}]}
        )
    notes = (
        [{"text": f"What matters to them: {referral.what_matters}"}]
        if referral.what_matters
        else []
    )
    if referral.needs:
        notes.append({"text": f"Their needs: {referral.needs}"})
    if referral.pathway == "step-down":
        notes.append(
            {
                "text": "Home First"
                if referral.home_first
                else f"Not home first: {referral.not_home_because}"
            }
        )
    if referral.activities:
        notes.append({"text": "Activities offered: " + ", ".join(referral.activities)})
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(referral.pk),
        "meta": {
            "versionId": str(referral.version),
            "profile": [f"{UK_CORE}UKCore-ServiceRequest"],
        },
        "identifier": [{"system": SERVICE + "/referral", "value": referral.reference}],
        "status": REQUEST_STATUS[Status(referral.status)],
        "intent": "order",
        "category": category,
        "priority": "urgent" if referral.urgent else "routine",
        "code": code,
        "subject": _subject(referral.person_id),
        "authoredOn": _instant(referral.created_at),
        "requester": _requester(referral),
        "performer": [{"reference": f"HealthcareService/{referral.service_id}"}],
        "reasonCode": [{"text": referral.reason}],
    }
    if referral.parent_id is not None:
        resource["basedOn"] = [{"reference": f"ServiceRequest/{referral.parent_id}"}]
    if notes:
        resource["note"] = notes
    return resource


def task(referral: Referral) -> dict[str, Any]:
    taken = clock(referral)
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": f"referral-{referral.pk}",
        "meta": {"versionId": str(referral.version), "profile": [f"{UK_CORE}UKCore-Task"]},
        "status": referral.status,
        "intent": "order",
        "focus": {"reference": f"ServiceRequest/{referral.pk}"},
        "for": _subject(referral.person_id),
        "authoredOn": _instant(referral.created_at),
        "lastModified": _instant(referral.updated_at),
        "requester": _requester(referral),
        "owner": {"reference": f"HealthcareService/{referral.service_id}"},
    }
    if referral.status_reason:
        resource["statusReason"] = {"text": referral.status_reason}
    if taken.contact is not None:
        resource["executionPeriod"] = {"start": _instant(taken.contact)}
    return resource


def referral_bundle(referral: Referral) -> dict[str, Any]:
    return collection(
        [service_request(referral), task(referral), healthcare_service(referral.service)]
    )
