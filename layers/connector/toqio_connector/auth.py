"""Verifying Toqio's Integration Hub JWT (contract section 1).

Kept free of boto3 and pydantic: the authorizer imports only this module, PyJWT and
cryptography, so its cold start stays small.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

ISSUER = "Toqio"
SUBJECT = "Toqio-integration-hub Authorization"
CUSTOMER_CLAIM = "customerID"
LEEWAY_SECONDS = 60
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_PEM_BLOCK = re.compile(
    r"-----BEGIN (?:RSA )?PUBLIC KEY-----.+?-----END (?:RSA )?PUBLIC KEY-----", re.DOTALL
)


class InvalidToken(Exception):
    """The token is missing, malformed, badly signed, expired or wrongly claimed."""


def parse_public_keys(pem_text: str) -> list[Any]:
    """Every PEM public key in ``pem_text`` (one or more; ``\\n`` escapes allowed)."""
    text = pem_text.replace("\\n", "\n")
    keys = [load_pem_public_key(block.encode("ascii")) for block in _PEM_BLOCK.findall(text)]
    if not keys:
        raise ValueError("no PEM public key found in the configured Toqio public keys")
    return keys


def parse_algorithms(names: str) -> list[str]:
    algorithms = [name.strip() for name in names.split(",") if name.strip()]
    refused = [name for name in algorithms if name not in ASYMMETRIC_ALGORITHMS]
    if refused or not algorithms:
        raise ValueError(f"only asymmetric JWT algorithms may be configured, not {refused}")
    return algorithms


class TokenVerifier:
    def __init__(self, public_keys: Sequence[Any], algorithms: Sequence[str] = ("RS256",)) -> None:
        self.public_keys = list(public_keys)
        self.algorithms = parse_algorithms(",".join(algorithms))

    @classmethod
    def from_env(cls) -> TokenVerifier:
        pem = os.environ.get("TOQIO_PUBLIC_KEYS", "")
        return cls(
            parse_public_keys(pem), parse_algorithms(os.environ.get("JWT_ALGORITHMS", "RS256"))
        )

    def verify(self, authorization: str | None) -> str:
        """The verified ``customerID`` of a ``Bearer <JWT>`` value; InvalidToken otherwise."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise InvalidToken("not a Bearer token")
        last_error: Exception | None = None
        for key in self.public_keys:
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=self.algorithms,
                    issuer=ISSUER,
                    leeway=LEEWAY_SECONDS,
                    options={"require": [CUSTOMER_CLAIM, "iss", "sub"], "verify_aud": False},
                )
            except (jwt.InvalidSignatureError, jwt.InvalidKeyError, TypeError, ValueError) as exc:
                # Maybe signed by another of the configured keys (possibly of another type).
                last_error = exc
                continue
            except jwt.PyJWTError as exc:
                raise InvalidToken(type(exc).__name__) from None
            if claims.get("sub") != SUBJECT:
                raise InvalidToken("wrong subject")
            customer_id = claims.get(CUSTOMER_CLAIM)
            if not isinstance(customer_id, str) or not customer_id:
                raise InvalidToken("customerID is not a non-empty string")
            return customer_id
        raise InvalidToken(type(last_error).__name__ if last_error else "no key")
