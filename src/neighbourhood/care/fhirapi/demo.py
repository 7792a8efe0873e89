"""The demo's example partner: a GP system of the demo practice, for the demo teams,
reading and writing through the FHIR API. Its private key is written to the data
directory's keys folder (readable by its owner only), so 'neighbourhood fhir token' can
sign a token request the way a partner's system would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neighbourhood import keyfiles, smart
from neighbourhood.care.fhirapi import clients
from neighbourhood.care.fhirapi.models import Client
from neighbourhood.care.teams.models import Team

CLIENT_ID = "demo-gp-system"
SCOPES = [
    "system/*.rs",
    "system/Task.cu",
    "system/ServiceRequest.cu",
    "system/CarePlan.u",
    "system/Subscription.cud",
]


def setup(keys_dir: Path) -> dict[str, Any]:
    """Register the example partner once; its key file is made with it."""
    key_file = keys_dir / "demo-partner.pem"
    existing = Client.objects.filter(client_id=CLIENT_ID).first()
    if existing is None or not key_file.exists():
        private = smart.new_key()
        key_file.unlink(missing_ok=True)
        keyfiles.ensure(key_file, lambda: smart.pem(private).strip())  # the owner's alone
        jwks = {"keys": [smart.public_jwk(private, "demo-1")]}
        if existing is None:
            teams = list(Team.objects.order_by("name"))
            member = teams[0].memberships.select_related("professional__organisation").first()
            assert member is not None, "the demo teams are made first"
            clients.register(
                name="Demo GP system",
                organisation=member.professional.organisation,  # the first team's
                teams=teams,
                scopes=SCOPES,
                jwks=jwks,
                by="neighbourhood demo",
                client_id=CLIENT_ID,
            )
        else:
            clients.rotate_keys(existing, jwks, by="neighbourhood demo")
    return {"client_id": CLIENT_ID, "key": str(key_file), "scopes": SCOPES}
