"""RSA keys for test tokens, and the PEM text the authorizer is configured with."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def rsa_private_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(private_key: Any, *, pkcs1: bool = False) -> str:
    return (
        private_key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.PKCS1
            if pkcs1
            else serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode("ascii")
    )


def throwaway_public_pem() -> str:
    """The public key (PEM) of a key nobody keeps: enough for the authorizer to start."""
    return public_pem(rsa_private_key())
