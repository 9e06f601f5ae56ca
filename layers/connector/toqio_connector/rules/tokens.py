"""Verifying Toqio's Integration Hub JWT (docs/api.md, Authentication).

Kept free of boto3 and pydantic: the authorizer imports only this module, PyJWT and
cryptography, so its cold start stays small. The claim names and the leeway are also
what the customers API checks an authorizer's (cached) verdict against, so PyJWT and
cryptography are imported only when a verifier is built: importing this module for its
names costs the customers API nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from toqio_connector.models.claims import (
    CUSTOMER_CLAIM,
    DATE_CLAIMS,
    EXPIRY_CLAIM,
    ISSUED_AT_CLAIM,
    ISSUER,
    LEEWAY_SECONDS,
    NOT_BEFORE_CLAIM,
    SUBJECT,
)

__all__ = [  # the claim names stay importable from here, beside the verifier
    "CUSTOMER_CLAIM",
    "DATE_CLAIMS",
    "EXPIRY_CLAIM",
    "ISSUED_AT_CLAIM",
    "ISSUER",
    "LEEWAY_SECONDS",
    "NOT_BEFORE_CLAIM",
    "SUBJECT",
    "InvalidToken",
    "TokenVerifier",
    "VerifiedToken",
    "is_number",
    "outlived",
    "parse_algorithms",
    "parse_public_keys",
]
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_PEM_BLOCK = re.compile(
    r"-----BEGIN (?:RSA )?PUBLIC KEY-----.+?-----END (?:RSA )?PUBLIC KEY-----", re.DOTALL
)


# PyJWT's error -> why a 401, in words (logged, never the token)
_REASONS = {
    "ExpiredSignatureError": "expired (exp, 60 s leeway)",
    "ImmatureSignatureError": "not valid yet (nbf)",
    "InvalidIssuerError": "wrong issuer (iss)",
    "InvalidSignatureError": "signature does not match a configured key",
    "InvalidAlgorithmError": "algorithm not accepted",
    "DecodeError": "malformed token",
    "InvalidKeyError": "signature does not match a configured key",
}


def _reason(exc: Exception) -> str:
    claim = getattr(exc, "claim", None)
    if claim:  # MissingRequiredClaimError
        return f"missing claim {claim}"
    name = type(exc).__name__
    return _REASONS.get(name, name)


class InvalidToken(Exception):
    """The token is missing, malformed, badly signed, expired or wrongly claimed."""


class VerifiedToken(NamedTuple):
    customer_id: str
    expires_at: int | None  # the ``exp`` claim (seconds since the epoch), if the token has one


def is_number(value: Any) -> bool:
    """A JSON number: not a string of digits, not a boolean, not NaN or an infinity."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def outlived(expires_at: Any, now: float) -> bool:
    """Whether a verdict on a token whose ``exp`` is ``expires_at`` must not be honoured
    any more at ``now`` (PyJWT's rule: expired once ``exp <= now - leeway``).

    ``expires_at`` is what the authorizer put in its context (API Gateway hands context
    values over as strings); None means the token has no ``exp``. Anything else that is
    not a number is refused.
    """
    if expires_at is None:
        return False
    try:
        expiry = int(str(expires_at).strip())
    except ValueError:
        return True
    return expiry <= now - LEEWAY_SECONDS


def parse_public_keys(pem_text: str) -> list[Any]:
    """Every PEM public key in ``pem_text`` (one or more; ``\\n`` escapes allowed)."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

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


def _checked(claims: dict[str, Any]) -> VerifiedToken:
    """The claims PyJWT does not check, or checks too leniently (it takes ``"123"`` for a
    date); the verified token if they hold."""
    if claims.get("sub") != SUBJECT:
        raise InvalidToken("wrong subject")
    for name in DATE_CLAIMS:
        if name in claims and not is_number(claims[name]):
            raise InvalidToken(f"{name} is not a number")
    customer_id = claims.get(CUSTOMER_CLAIM)
    if not isinstance(customer_id, str) or not customer_id:
        raise InvalidToken("customerID is not a non-empty string")
    expiry = claims.get(EXPIRY_CLAIM)
    return VerifiedToken(customer_id, None if expiry is None else int(expiry))


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("not a Bearer token")
    return token


class TokenVerifier:
    def __init__(self, public_keys: Sequence[Any], algorithms: Sequence[str] = ("RS256",)) -> None:
        import jwt  # here rather than at the top: see the module's docstring

        self._jwt = jwt
        self.public_keys = list(public_keys)
        self.algorithms = parse_algorithms(",".join(algorithms))

    @classmethod
    def configured(cls, public_keys_pem: str, algorithms: str) -> TokenVerifier:
        """From the configured text: PEM keys, and algorithm names separated by commas."""
        return cls(parse_public_keys(public_keys_pem), parse_algorithms(algorithms))

    def verify(self, authorization: str | None) -> VerifiedToken:
        """The verified token of a ``Bearer <JWT>`` value; InvalidToken otherwise."""
        token = _bearer(authorization)
        jwt = self._jwt
        last_error: Exception | None = None
        for key in self.public_keys:
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=self.algorithms,
                    issuer=ISSUER,
                    leeway=LEEWAY_SECONDS,
                    options={
                        "require": [CUSTOMER_CLAIM, "iss", "sub"],
                        "verify_aud": False,
                        "verify_iat": False,  # iat need only be a number (docs/api.md)
                    },
                )
            except (jwt.InvalidSignatureError, jwt.InvalidKeyError, TypeError, ValueError) as exc:
                # Maybe signed by another of the configured keys (possibly of another type).
                last_error = exc
                continue
            except jwt.PyJWTError as exc:
                raise InvalidToken(_reason(exc)) from None
            return _checked(claims)
        raise InvalidToken(_reason(last_error) if last_error else "no key")
