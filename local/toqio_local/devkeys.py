"""The development signing key that ``make token`` uses and ``make run`` trusts."""

from __future__ import annotations

import os
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from toqio_connector.rules.tokens import (
    CUSTOMER_CLAIM,
    EXPIRY_CLAIM,
    ISSUED_AT_CLAIM,
    ISSUER,
    NOT_BEFORE_CLAIM,
    SUBJECT,
)

# In the project's folder (where `make run` and `make token` run), ignored by git.
KEY_FILE = Path(".local") / "toqio-dev-key.pem"


def private_key_pem(path: Path = KEY_FILE) -> bytes:
    """The RSA private key (PEM), created on first use; safe if two processes race."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    return path.read_bytes()


def public_key_pem(path: Path = KEY_FILE) -> str:
    key = serialization.load_pem_private_key(private_key_pem(path), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def claims(customer_id: str, lifetime_seconds: int = 3600) -> dict[str, object]:
    """The claims of a token as Toqio's Integration Hub issues it."""
    now = int(time.time())
    return {
        "iss": ISSUER,
        "sub": SUBJECT,
        CUSTOMER_CLAIM: customer_id,
        ISSUED_AT_CLAIM: now,
        NOT_BEFORE_CLAIM: now,
        EXPIRY_CLAIM: now + lifetime_seconds,
    }


def token(customer_id: str, lifetime_seconds: int = 3600, path: Path = KEY_FILE) -> str:
    return jwt.encode(
        claims(customer_id, lifetime_seconds), private_key_pem(path), algorithm="RS256"
    )


def main() -> None:
    import sys

    customer_id = sys.argv[1] if len(sys.argv) > 1 else ""
    if not customer_id:
        sys.exit("usage: make token CUSTOMER_ID=<id>")
    print(token(customer_id))


if __name__ == "__main__":
    main()
