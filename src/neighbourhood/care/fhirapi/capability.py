"""What the API says about itself: the CapabilityStatement at ``/fhir/metadata`` (drawn
from the resource types' own declarations, so it cannot claim what they do not do) and
the SMART configuration of its token endpoint."""

from __future__ import annotations

from typing import Any

from neighbourhood.care.fhirapi.auth import ALGORITHMS
from neighbourhood.care.fhirapi.models import Topic
from neighbourhood.care.fhirapi.resources import KINDS
from neighbourhood.care.fhirapi.writes import CREATE, UPDATE

SMART = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
INCLUDES = {"CarePlan": ["CarePlan:goal", "CarePlan:care-team"]}
REVINCLUDES = {"CarePlan": ["Task:based-on"]}
SORTS = ("_count", "_offset", "_total", "_sort")


def statement(base: str) -> dict[str, Any]:
    resources = []
    for name, kind in sorted(KINDS.items()):
        interactions = ["read", "search-type"]
        if kind.history:
            interactions += ["vread", "history-instance"]
        if name in CREATE:
            interactions.append("create")
        if name in UPDATE:
            interactions.append("update")
        if "delete" in kind.writes:
            interactions.append("delete")
        entry: dict[str, Any] = {
            "type": name,
            "interaction": [{"code": i} for i in interactions],
            "versioning": "versioned-update" if name in UPDATE else "versioned",
            "readHistory": kind.history,
            "updateCreate": False,
            "conditionalCreate": name in CREATE and name != "Subscription",
            "conditionalUpdate": False,
            "conditionalDelete": "not-supported",
            "searchParam": [
                {"name": param, "type": kind_, "documentation": text}
                for param, (kind_, text) in sorted(kind.params.items())
            ],
        }
        if name in INCLUDES:
            entry["searchInclude"] = INCLUDES[name]
        if name in REVINCLUDES:
            entry["searchRevInclude"] = REVINCLUDES[name]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "id": "neighbourhood",
        "url": f"{base}metadata",
        "name": "NeighbourhoodCareRecordApi",
        "title": "Neighbourhood care record: FHIR R4 API for partners' systems",
        "status": "active",
        "date": "2026-12-04",
        "publisher": "neighbourhood",
        "kind": "instance",
        "software": {"name": "neighbourhood"},
        "implementation": {
            "description": "The integrated neighbourhood team's care record",
            "url": base,
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Search results come 20 a page (at most 100 with _count), with a next link; "
                    "_total=accurate counts them. Updates need If-Match with the version read. "
                    "Subscriptions follow the R4 topic-based subscriptions backport, topics: "
                    + ", ".join(Topic.values)
                ),
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": (
                        "SMART Backend Services: OAuth 2.0 client credentials with a JWT client "
                        f"assertion signed {' or '.join(ALGORITHMS)}; scopes system/<Resource>.<cruds>"
                    ),
                    "extension": [
                        {"url": SMART, "extension": [{"url": "token", "valueUri": f"{base}token"}]}
                    ],
                },
                "resource": resources,
                "interaction": [{"code": "transaction"}],
            }
        ],
    }


def smart_configuration(base: str) -> dict[str, Any]:
    return {
        "token_endpoint": f"{base}token",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
        "scopes_supported": sorted(f"system/{name}.rs" for name in KINDS),
        "capabilities": ["client-confidential-asymmetric"],
    }
