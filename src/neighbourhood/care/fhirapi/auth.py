"""SMART Backend Services: OAuth 2.0 client credentials with a signed JWT assertion.

A partner's system signs a short-lived JWT (RS384 or ES384) with a private key whose
public half the IG lead registered, and exchanges it at the token endpoint for a bearer
token that lasts ``TOKEN_SECONDS``. Scopes are SMART v2 (``system/Task.cruds``); the v1
forms ``.read``, ``.write`` and ``.*`` are read as ``rs``, ``cud`` and ``cruds``. A token
grants the requested scopes the client is registered for, no more.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from neighbourhood.care.fhirapi.models import AccessToken, Assertion, Client
from neighbourhood.care.fhirapi.outcome import FhirError
from neighbourhood.smart import ASSERTION_TYPE

TOKEN_SECONDS = 300
ALGORITHMS = ("RS384", "ES384")
MAX_ASSERTION_LIFE = dt.timedelta(minutes=5)
PERMISSIONS = "cruds"
_SCOPE = re.compile(r"^system/(\*|[A-Z][A-Za-z]+)\.(read|write|\*|c?r?u?d?s?)$")
V1 = {"read": "rs", "write": "cud", "*": "cruds"}


class OAuthError(Exception):
    """An answer of the token endpoint that is not a token (RFC 6749 section 5.2)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(error, description, status)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class Scope:
    resource: str  # a resource type, or "*"
    permissions: str  # a subset of "cruds", in that order

    def __str__(self) -> str:
        return f"system/{self.resource}.{self.permissions}"

    def covers(self, other: Scope) -> bool:
        return self.resource in ("*", other.resource) and set(other.permissions) <= set(
            self.permissions
        )


def parse_scope(text: str) -> Scope:
    found = _SCOPE.match(text)
    if found is None or not found.group(2):
        raise ValueError(
            f"'{text}' is not a SMART system scope: write it as system/<Resource>.<cruds>, "
            "e.g. system/Task.rs"
        )
    resource, permissions = found.groups()
    return Scope(resource, V1.get(permissions, permissions))


def parse_scopes(texts: list[str] | str) -> list[Scope]:
    items = texts.split() if isinstance(texts, str) else texts
    return [parse_scope(t) for t in items if t]


def granted(requested: list[Scope], registered: list[Scope]) -> list[Scope]:
    """Each requested scope narrowed to what some registered scope covers."""
    out = []
    for want in requested:
        allowed = "".join(
            p
            for p in PERMISSIONS
            if p in want.permissions and any(r.covers(Scope(want.resource, p)) for r in registered)
        )
        if allowed:
            out.append(Scope(want.resource, allowed))
    return out


def check_jwks(jwks: Any) -> list[str]:
    """The key ids of a JWK Set fit to verify assertions, or a ValueError saying why not."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise ValueError('The keys must be a JSON Web Key Set: {"keys": [ ... ]}')
    kids = []
    for index, key in enumerate(jwks["keys"]):
        where = f"keys[{index}]"
        if not isinstance(key, dict) or key.get("kty") not in ("RSA", "EC"):
            raise ValueError(f"{where}: only RSA and EC public keys are accepted")
        if "d" in key:
            raise ValueError(f"{where} is a private key: register only the public half")
        if not key.get("kid"):
            raise ValueError(f"{where} has no kid: each key needs one, so keys can rotate")
        try:
            jwt.PyJWK(key)
        except jwt.PyJWTError as error:
            raise ValueError(f"{where} is not a usable key: {error}") from error
        kids.append(str(key["kid"]))
    if len(set(kids)) != len(kids):
        raise ValueError("Two keys share a kid: each key's kid must be its own")
    return kids


def issue_token(form: dict[str, str], audience: str) -> dict[str, Any]:
    """The token endpoint: a bearer token for a valid assertion, or an ``OAuthError``."""
    if form.get("grant_type") != "client_credentials":
        raise OAuthError("unsupported_grant_type", "grant_type must be client_credentials")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise OAuthError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
    assertion = form.get("client_assertion", "")
    if not assertion:
        raise OAuthError("invalid_request", "client_assertion is missing")
    try:
        requested = parse_scopes(form.get("scope", ""))
    except ValueError as error:
        raise OAuthError("invalid_scope", str(error)) from error
    if not requested:
        raise OAuthError("invalid_scope", "ask for at least one scope, e.g. system/Task.rs")
    client = _verify(assertion, audience)
    scopes = granted(requested, parse_scopes(client.scopes))
    if not scopes:
        raise OAuthError(
            "invalid_scope", "this client is registered for none of the scopes it asked for"
        )
    token = secrets.token_urlsafe(32)
    AccessToken.objects.create(
        digest=_digest(token),
        client=client,
        scopes=[str(s) for s in scopes],
        expires_at=timezone.now() + dt.timedelta(seconds=TOKEN_SECONDS),
    )
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": TOKEN_SECONDS,
        "scope": " ".join(str(s) for s in scopes),
    }


def _verify(assertion: str, audience: str) -> Client:
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise OAuthError("invalid_client", f"the client assertion is not a JWT: {error}") from error
    issuer = claims.get("iss")
    client = Client.objects.filter(client_id=str(issuer or ""), active=True).first()
    if client is None:
        raise OAuthError("invalid_client", "no active client is registered with this iss", 401)
    if header.get("alg") not in ALGORITHMS:
        raise OAuthError(
            "invalid_client", f"sign the assertion with one of {', '.join(ALGORITHMS)}"
        )
    key = next((k for k in client.jwks.get("keys", []) if k.get("kid") == header.get("kid")), None)
    if key is None:
        raise OAuthError(
            "invalid_client", "the assertion's kid is not one of this client's registered keys", 401
        )
    try:
        verified = jwt.decode(
            assertion,
            key=jwt.PyJWK(key, algorithm=header["alg"]),
            algorithms=[header["alg"]],
            audience=audience,
            issuer=client.client_id,
            options={"require": ["iss", "sub", "aud", "exp", "jti"]},
        )
    except jwt.PyJWTError as error:
        raise OAuthError(
            "invalid_client", f"the client assertion is refused: {error}", 401
        ) from error
    if verified["sub"] != client.client_id:
        raise OAuthError("invalid_client", "the assertion's sub must be the client_id", 401)
    expires = dt.datetime.fromtimestamp(int(verified["exp"]), dt.UTC)
    if expires - timezone.now() > MAX_ASSERTION_LIFE:
        raise OAuthError("invalid_client", "the assertion may live at most five minutes", 401)
    try:
        with transaction.atomic():
            Assertion.objects.filter(expires_at__lt=timezone.now()).delete()
            Assertion.objects.create(
                client=client, jti=str(verified["jti"])[:200], expires_at=expires
            )
    except IntegrityError:
        raise OAuthError("invalid_client", "this assertion's jti was used already", 401) from None
    return client


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    """The client behind a request, and what its token lets it do."""

    client: Client
    scopes: tuple[Scope, ...]

    def may(self, resource: str, permission: str) -> bool:
        return any(s.covers(Scope(resource, permission)) for s in self.scopes)

    def require(self, resource: str, permission: str) -> None:
        if not self.may(resource, permission):
            raise FhirError(
                403,
                "forbidden",
                f"the token's scopes do not allow this: it needs system/{resource}.{permission}",
            )


# The token's row is read on every request (one statement, so a deactivated client or a
# withdrawn token is refused at once); the client it names, with its system account and
# teams, is kept by each worker for CLIENT_SECONDS.
_TOKEN_SQL = (
    "SELECT t.client_id, c.account_id, c.organisation_id, t.scopes, t.expires_at "
    "FROM fhirapi_accesstoken t "
    "JOIN fhirapi_client c ON c.id = t.client_id WHERE t.digest = %s AND c.active"
)
CLIENT_SECONDS = 30.0
_clients: dict[int, tuple[float, Client]] = {}


def caller(request: HttpRequest) -> Caller:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorised(
            "send a bearer token from the token endpoint in the Authorization header"
        )
    with connection.cursor() as cursor:
        cursor.execute(_TOKEN_SQL, [_digest(token.strip())])
        row = cursor.fetchone()
    if row is None:
        raise _unauthorised("the bearer token is not known, or its client was deactivated")
    client_pk, account, organisation, scopes, expires_at = row
    if isinstance(scopes, str):  # SQLite gives the JSON as text
        scopes = json.loads(scopes)
    if isinstance(expires_at, str):
        expires_at = dt.datetime.fromisoformat(expires_at)
    if timezone.is_naive(expires_at):
        expires_at = timezone.make_aware(expires_at, dt.UTC)
    if expires_at <= timezone.now():
        raise _unauthorised("the bearer token has expired: get a new one")
    client = _client(int(client_pk), int(account), int(organisation))
    return Caller(client, tuple(parse_scopes(scopes)))


def _client(pk: int, account: int, organisation: int) -> Client:
    now = time.monotonic()
    kept = _clients.get(pk)
    if (
        kept is not None
        and now - kept[0] < CLIENT_SECONDS
        and (kept[1].account_id, kept[1].organisation_id) == (account, organisation)
    ):
        return kept[1]
    client = Client.objects.select_related(
        "organisation", "account__user", "account__organisation"
    ).get(pk=pk)
    client.account.teams_by_name  # noqa: B018 - read once, kept with it
    _clients[pk] = (now, client)
    return client


def _unauthorised(message: str) -> FhirError:
    return FhirError(401, "login", message, WWW_Authenticate='Bearer realm="fhir"')
