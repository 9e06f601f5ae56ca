"""Mutation survivors of token verification (auth.py), killed here.

Only asymmetric algorithms can be configured: an HMAC algorithm (or ``none``) in the
configured list stops the authorizer at start-up, wherever it stands in the list, so no
key can ever be used as an HMAC secret. Names are taken exactly, spaces around them
trimmed; a list with nothing in it is refused too. Without public keys it does not start
either. And every refused token's reason, which the authorizer logs (never the token),
says what was wrong with it.
"""

from __future__ import annotations

import time

import jwt
import pytest

from tests.harness.tokens import public_pem
from toqio_connector import bootstrap
from toqio_connector.rules.tokens import (
    ASYMMETRIC_ALGORITHMS,
    InvalidToken,
    TokenVerifier,
    VerifiedToken,
    parse_algorithms,
    parse_public_keys,
)

REFUSED = ["HS256", "HS384", "HS512", "none", "RS256,HS256", "HS512, PS256", "RS256,none",
           "rs256", "", " , ", "RS256,,HS256"]  # fmt: skip


@pytest.mark.parametrize("names", REFUSED)
def test_a_configured_hmac_or_unknown_algorithm_is_refused_at_start_up(
    names, monkeypatch, rsa_keys
):
    refused = "only asymmetric JWT algorithms"
    with pytest.raises(ValueError, match=refused):
        parse_algorithms(names)
    with pytest.raises(ValueError, match=refused):
        TokenVerifier([], names.split(","))
    monkeypatch.setenv("TOQIO_PUBLIC_KEYS", public_pem(rsa_keys[0]))
    monkeypatch.setenv("JWT_ALGORITHMS", names)
    with pytest.raises(ValueError, match=refused):
        bootstrap.authorizer()


def test_every_asymmetric_algorithm_can_be_configured_and_nothing_else():
    assert ASYMMETRIC_ALGORITHMS == {
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
    }  # fmt: skip
    assert parse_algorithms(" RS256 , PS256,EdDSA ") == ["RS256", "PS256", "EdDSA"]
    assert TokenVerifier([], ["ES256", "RS512"]).algorithms == ["ES256", "RS512"]


def test_from_env_reads_the_keys_and_the_algorithms(monkeypatch, rsa_keys):
    monkeypatch.setenv("TOQIO_PUBLIC_KEYS", public_pem(rsa_keys[0]) + public_pem(rsa_keys[1]))
    monkeypatch.setenv("JWT_ALGORITHMS", "PS256,RS256")
    verifier = bootstrap.authorizer()
    assert verifier.algorithms == ["PS256", "RS256"] and len(verifier.public_keys) == 2
    monkeypatch.delenv("JWT_ALGORITHMS")
    assert bootstrap.authorizer().algorithms == ["RS256"]


def test_without_public_keys_the_authorizer_does_not_start(monkeypatch):
    no_keys = "no PEM public key found in the configured Toqio public keys"
    monkeypatch.delenv("TOQIO_PUBLIC_KEYS", raising=False)
    with pytest.raises(ValueError) as refused:
        bootstrap.authorizer()
    assert str(refused.value) == no_keys
    for text in ("", "not a key", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"):
        with pytest.raises(ValueError) as refused:
            parse_public_keys(text)
        assert str(refused.value) == no_keys


# --- the reasons a token is refused (logged by the authorizer) ----------------------------

NOW = int(time.time())
GOOD = {"iss": "Toqio", "sub": "Toqio-integration-hub Authorization", "customerID": "c1",
        "iat": NOW, "exp": NOW + 3600}  # fmt: skip


def token(key, **changes) -> str:
    claims = {k: v for k, v in {**GOOD, **changes}.items() if v is not ...}
    return jwt.encode(claims, key, algorithm="RS256")


def reason(verifier: TokenVerifier, authorization: str | None) -> str:
    with pytest.raises(InvalidToken) as refused:
        verifier.verify(authorization)
    return str(refused.value)


def test_each_refusal_names_its_reason(rsa_keys):
    mine, stranger = rsa_keys[0], rsa_keys[2]
    verifier = TokenVerifier([mine.public_key()])
    cases = {
        "not a Bearer token": ["Basic abc", "Bearer", "Bearer   ", "", None, "abc"],
        "wrong subject": [f"Bearer {token(mine, sub='Someone else')}"],
        "customerID is not a non-empty string": [
            f"Bearer {token(mine, customerID='')}",
            f"Bearer {token(mine, customerID=7)}",
        ],
        "missing claim customerID": [f"Bearer {token(mine, customerID=...)}"],
        "missing claim sub": [f"Bearer {token(mine, sub=...)}"],
        "missing claim iss": [f"Bearer {token(mine, iss=...)}"],
        "wrong issuer (iss)": [f"Bearer {token(mine, iss='Other')}"],
        "expired (exp, 60 s leeway)": [f"Bearer {token(mine, exp=NOW - 120)}"],
        "not valid yet (nbf)": [f"Bearer {token(mine, nbf=NOW + 86400)}"],
        "signature does not match a configured key": [f"Bearer {token(stranger)}"],
        "malformed token": ["Bearer abc.def.ghi"],
        "iat is not a number": [f"Bearer {token(mine, iat='123')}"],
    }
    for expected, authorizations in cases.items():
        for authorization in authorizations:
            assert reason(verifier, authorization) == expected, authorization
    assert reason(TokenVerifier([]), f"Bearer {token(mine)}") == "no key"


def test_a_valid_token_passes_however_the_bearer_scheme_is_spaced_or_cased(rsa_keys):
    verifier = TokenVerifier([rsa_keys[2].public_key(), rsa_keys[0].public_key()])
    valid = token(rsa_keys[0])
    for authorization in (f"Bearer {valid}", f"bearer  {valid} ", f"  BEARER {valid}"):
        assert verifier.verify(authorization) == VerifiedToken("c1", NOW + 3600)


def test_an_audience_claim_is_not_checked(rsa_keys):
    verifier = TokenVerifier([rsa_keys[0].public_key()])
    for audience in ("toqio-connector", ["a", "b"]):
        assert verifier.verify(f"Bearer {token(rsa_keys[0], aud=audience)}").customer_id == "c1"


def test_a_verdict_is_outlived_exactly_at_exp_plus_the_leeway():
    from toqio_connector.rules.tokens import LEEWAY_SECONDS, outlived

    assert outlived(1000, 1000 + LEEWAY_SECONDS) is True  # PyJWT: expired once exp <= now - leeway
    assert outlived(1001, 1000 + LEEWAY_SECONDS) is False
    assert outlived(None, 10**12) is False and outlived("soon", 0) is True


def test_a_refusal_the_reason_table_does_not_word_is_named_by_its_error(rsa_keys):
    """PyJWT refuses a non-string ``sub`` or ``jti`` with errors the reason table does not
    word: the logged reason is then the error's own name, never empty."""
    verifier = TokenVerifier([rsa_keys[0].public_key()])
    assert reason(verifier, f"Bearer {token(rsa_keys[0], sub=123)}") == "InvalidSubjectError"
    assert reason(verifier, f"Bearer {token(rsa_keys[0], jti=5)}") == "InvalidJTIError"
