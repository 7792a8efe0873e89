"""Registering a partner's system (the IG lead's work): its organisation, the teams it
acts for, the scopes it may be granted and the public keys it signs with. Its system
account is a ``Professional`` of that organisation in those teams (extended team), with
no password: it never signs in to the web pages, and the API's care-relationship rules
are the web pages' own."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from neighbourhood.care.audit.chain import record
from neighbourhood.care.fhirapi.auth import check_jwks, parse_scopes
from neighbourhood.care.fhirapi.models import AccessToken, Client
from neighbourhood.care.roles import Role
from neighbourhood.care.teams.models import Membership, Organisation, Professional, Team
from neighbourhood.errors import UserError


def _checked(scopes: list[str], jwks: Any) -> list[str]:
    try:
        parsed = parse_scopes(scopes)
        check_jwks(jwks)
    except ValueError as error:
        raise UserError(str(error)) from error
    if not parsed:
        raise UserError("give the client at least one scope, e.g. system/Task.rs")
    return [str(s) for s in parsed]


def register(
    *,
    name: str,
    organisation: Organisation,
    teams: list[Team],
    scopes: list[str],
    jwks: Any,
    by: str,
    client_id: str = "",
) -> Client:
    if not name.strip():
        raise UserError("give the client a name: the partner's system, as its users know it")
    if not teams:
        raise UserError("choose the teams the client acts for: it sees only their people")
    scopes = _checked(scopes, jwks)
    client_id = client_id or secrets.token_hex(16)
    if Client.objects.filter(client_id=client_id).exists():
        raise UserError(f"a client with the id {client_id} is registered already")
    with transaction.atomic():
        user = get_user_model().objects.create_user(  # no password: it cannot sign in
            username=f"api-{client_id}"[:150], first_name=name.strip()[:150], last_name="(system)"
        )
        account = Professional.objects.create(
            user=user,
            role=Role.PARTNER_SYSTEM,
            job_title="Partner's system",
            organisation=organisation,
        )
        for team in teams:
            Membership.objects.create(
                team=team, professional=account, kind=Membership.Kind.EXTENDED
            )
        client = Client.objects.create(
            name=name.strip(),
            client_id=client_id,
            organisation=organisation,
            account=account,
            jwks=jwks,
            scopes=scopes,
            registered_by=by,
        )
        record(
            by,
            "register_api_client",
            role=Role.IG_LEAD,
            detail={"client": client_id, "organisation": organisation.ods_code, "scopes": scopes},
        )
    return client


def rotate_keys(client: Client, jwks: Any, by: str) -> Client:
    """New keys replace the old: a partner adds its next key beside the current one, then
    the IG lead removes the old one once the partner signs with the new."""
    _checked(client.scopes, jwks)
    with transaction.atomic():
        client.jwks = jwks
        client.keys_changed_at = timezone.now()
        client.save(update_fields=["jwks", "keys_changed_at"])
        record(by, "rotate_api_client_keys", role=Role.IG_LEAD, detail={"client": client.client_id})
    return client


def set_scopes(client: Client, scopes: list[str], by: str) -> Client:
    scopes = _checked(scopes, client.jwks)
    with transaction.atomic():
        client.scopes = scopes
        client.save(update_fields=["scopes"])
        AccessToken.objects.filter(client=client).delete()  # tokens carry the old scopes
        record(
            by,
            "change_api_client_scopes",
            role=Role.IG_LEAD,
            detail={"client": client.client_id, "scopes": scopes},
        )
    return client


def deactivate(client: Client, by: str) -> Client:
    with transaction.atomic():
        client.active = False
        client.save(update_fields=["active"])
        AccessToken.objects.filter(client=client).delete()
        record(by, "deactivate_api_client", role=Role.IG_LEAD, detail={"client": client.client_id})
    return client
