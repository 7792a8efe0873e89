"""The partner's side of SMART Backend Services: a short-lived client assertion signed
with the system's private key, and the token request that carries it. Used by
``neighbourhood fhir token``, ``bench fhir`` and the tests, which play a partner; the
server's side is ``neighbourhood.care.fhirapi.auth``. No Django here."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
LIFETIME = 240  # seconds: under the five minutes the server allows


def algorithm_of(private: Any) -> str:
    """ES384 for an elliptic-curve key, RS384 for RSA (a key object or PEM bytes)."""
    if isinstance(private, bytes | str):
        text = private.encode() if isinstance(private, str) else private
        try:
            private = load_pem_private_key(text, password=None)
        except (ValueError, TypeError):
            return "RS384"  # jwt.encode says what is wrong with it
    return "ES384" if isinstance(private, ec.EllipticCurvePrivateKey) else "RS384"


def client_assertion(
    private: Any, client_id: str, audience: str, kid: str, lifetime: int = LIFETIME, **claims: Any
) -> str:
    """A JWT whose issuer and subject are the client, for the token endpoint at
    ``audience``, with a fresh ``jti``."""
    now = int(time.time())
    body = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "exp": now + lifetime,
        "iat": now,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    return jwt.encode(body, private, algorithm=algorithm_of(private), headers={"kid": kid})


def token_form(private: Any, client_id: str, audience: str, kid: str, scope: str) -> dict[str, str]:
    """The form a partner posts to the token endpoint (client credentials)."""
    return {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(private, client_id, audience, kid),
    }


def new_key() -> ec.EllipticCurvePrivateKey:
    """A new signing key (P-384, for ES384), as a partner's system makes one."""
    return ec.generate_private_key(ec.SECP384R1())


def pem(private: Any) -> str:
    """The private key as unencrypted PKCS#8 PEM, to keep in a file only its owner reads."""
    return str(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    )


def public_jwk(private: Any, kid: str) -> dict[str, Any]:
    """The public half of a key as a JWK, with its ``kid``: what the IG lead registers."""
    rsa_key = algorithm_of(private) == "RS384"
    algorithm = jwt.algorithms.RSAAlgorithm if rsa_key else jwt.algorithms.ECAlgorithm
    jwk = json.loads(algorithm.to_jwk(private.public_key()))
    return {**jwk, "kid": kid, "alg": algorithm_of(private), "use": "sig"}
