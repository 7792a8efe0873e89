"""A partner's system, as the tests play it: its own key pair, registered by the IG lead,
signing SMART Backend Services assertions for its tokens (``neighbourhood.smart``); and
the care it reads and writes: a team's nurse with a person in her caseload and a plan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from neighbourhood import smart
from neighbourhood.care.caseload import actions as caseload
from neighbourhood.care.fhirapi import clients
from neighbourhood.care.plans import actions as plans
from tests.support import factories
from tests.support.people import listed


@dataclass
class Keys:
    private: Any
    kid: str
    alg: str

    @classmethod
    def rsa(cls, kid: str = "key-1") -> Keys:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048), kid, "RS384")

    @classmethod
    def ec(cls, kid: str = "key-ec") -> Keys:
        return cls(ec.generate_private_key(ec.SECP384R1()), kid, "ES384")

    def public_jwk(self) -> dict[str, Any]:
        return smart.public_jwk(self.private, self.kid)

    def assertion(self, client_id: str, audience: str, lifetime: int = 240) -> str:
        return smart.client_assertion(self.private, client_id, audience, self.kid, lifetime)


def jwks(*keys: Keys) -> dict[str, Any]:
    return {"keys": [k.public_jwk() for k in keys]}


def token_form(keys: Keys, client_id: str, audience: str, scope: str) -> dict[str, str]:
    return smart.token_form(keys.private, client_id, audience, keys.kid, scope)


def cared_for(published_dir: Path, keys: Keys, name: str, people: int = 1) -> dict[str, Any]:
    """A team of ZU0001 with a nurse, the first of its case-finding list in her caseload
    with a plan of one goal, and a partner's system registered for the team with every
    scope (``system/*.cruds``)."""
    team = factories.team("ZU0001")
    nurse = factories.professional("nurse", teams=[team])
    found = listed(published_dir, "ZU0001", people)
    person = found[0]
    caseload.enrol(
        person_id=person["person_id"], team=team, coordinator=nurse, reason="frailty", by=nurse
    )
    plan = plans.save_plan(
        person_id=person["person_id"],
        version=0,
        content={"about_me": "Retired teacher", "goals": [{"text": "Walk to the shop"}]},
        by=nurse,
    )
    client = clients.register(
        name=name,
        organisation=nurse.organisation,
        teams=[team],
        scopes=["system/*.cruds"],
        jwks=jwks(keys),
        by="ig",
    )
    return {
        "team": team,
        "nurse": nurse,
        "person": person,
        "people": found,
        "plan": plan,
        "keys": keys,
        "client": client,
    }


NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
PROFESSIONAL = "https://neighbourhood.health/fhir/Id/professional"
PATHWAY = "https://neighbourhood.health/fhir/CodeSystem/referral-pathway"


def task_body(world: dict[str, Any], description: str, days: int = 7) -> dict[str, Any]:
    """A partner's new Task for the world's person (by NHS number), owned by its nurse,
    due in ``days``."""
    due = dt.date.today() + dt.timedelta(days=days)
    return {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "description": description,
        "for": {"identifier": {"system": NHS_NUMBER, "value": world["person"]["nhs_number"]}},
        "owner": {"identifier": {"system": PROFESSIONAL, "value": str(world["nurse"].pk)}},
        "restriction": {"period": {"end": due.isoformat()}},
    }


def step_up_body(world: dict[str, Any], service_id: int, reason: str) -> dict[str, Any]:
    """A partner's step-up referral (ServiceRequest) of the world's person to a service."""
    return {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "category": [{"coding": [{"system": PATHWAY, "code": "step-up"}]}],
        "subject": {"reference": f"Patient/{world['person']['person_id']}"},
        "performer": [{"reference": f"HealthcareService/{service_id}"}],
        "reasonCode": [{"text": reason}],
    }
