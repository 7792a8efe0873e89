"""A partner's system, as the tests play it: its own key pair, registered by the IG lead,
signing SMART Backend Services assertions for its tokens."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa


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
        algorithm = (
            jwt.algorithms.RSAAlgorithm if self.alg == "RS384" else jwt.algorithms.ECAlgorithm
        )
        jwk = json.loads(algorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def assertion(self, client_id: str, audience: str, lifetime: int = 240, **claims: Any) -> str:
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
        return jwt.encode(body, self.private, algorithm=self.alg, headers={"kid": self.kid})


def jwks(*keys: Keys) -> dict[str, Any]:
    return {"keys": [k.public_jwk() for k in keys]}


def token_form(keys: Keys, client_id: str, audience: str, scope: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": keys.assertion(client_id, audience),
    }
