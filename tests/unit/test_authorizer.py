"""The API Gateway TOKEN authorizer (docs/api.md, Authentication).

A valid token gets an Allow policy and its ``customerID`` in the context; anything else
makes the handler raise ``Exception("Unauthorized")``, which API Gateway turns into 401.
The handler reads ``TOQIO_PUBLIC_KEYS`` and ``JWT_ALGORITHMS`` at import, so each test
rewires it (``bootstrap.authorizer()``, see tests.harness.handlers) with the keys it
configures.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.harness.handlers import Context, wired
from tests.harness.tokens import public_pem

ISSUER = "Toqio"
SUBJECT = "Toqio-integration-hub Authorization"
API = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/live"
METHOD_ARN = f"{API}/POST/customers"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(obj: dict) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def claims(**overrides) -> dict:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "sub": SUBJECT,
        "customerID": "c1",
        "iat": now,
        "nbf": now - 5,
        "exp": now + 3600,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not ...}


def signed(private_key, algorithm: str = "RS256", **overrides) -> str:
    payload = claims(**overrides)
    if algorithm != "RS256":
        return jwt.encode(payload, private_key, algorithm=algorithm)
    # By hand, so that claims PyJWT would refuse to encode (a null iss) can be sent.
    signing_input = f"{segment({'alg': 'RS256', 'typ': 'JWT'})}.{segment(payload)}"
    signature = private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


@pytest.fixture
def authorizer(monkeypatch, rsa_keys, env):
    """``authorizer(keys_text=None, algorithms=None)`` -> the handler, rewired."""

    def load(keys_text: str | None = None, algorithms: str | None = None):
        monkeypatch.setenv("TOQIO_PUBLIC_KEYS", keys_text or public_pem(rsa_keys[0]))
        if algorithms is None:
            monkeypatch.delenv("JWT_ALGORITHMS", raising=False)
        else:
            monkeypatch.setenv("JWT_ALGORITHMS", algorithms)
        return wired("authorizer", monkeypatch).lambda_handler

    return load


def call(handler, token: str | None, *, scheme: str = "Bearer", method_arn: str = METHOD_ARN):
    event = {"type": "TOKEN", "methodArn": method_arn}
    if token is not None:
        event["authorizationToken"] = f"{scheme} {token}" if scheme else token
    return handler(event, Context())


def assert_refused(handler, token: str | None, **kwargs) -> None:
    with pytest.raises(Exception) as caught:  # noqa: PT011 - API Gateway's contract
        call(handler, token, **kwargs)
    assert type(caught.value) is Exception
    assert str(caught.value) == "Unauthorized"


def assert_allowed(result: dict, customer_id: str = "c1", expires_at: object = ...) -> None:
    """``expires_at``: the ``exp`` the context must carry (a string, or None for none);
    by default, whatever it is, as long as it is a string of digits."""
    assert result["principalId"] == customer_id
    context = dict(result["context"])
    assert context.pop("customerID") == customer_id
    exp = context.pop("exp", None)
    assert context == {}, context
    if expires_at is ...:
        assert isinstance(exp, str) and exp.isdigit(), exp
    else:
        assert exp == expires_at
    # API Gateway takes only strings, numbers and booleans as context values.
    assert all(isinstance(value, str) for value in result["context"].values())
    document = result["policyDocument"]
    assert document["Version"] == "2012-10-17"
    (statement,) = document["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] in ("execute-api:Invoke", ["execute-api:Invoke"])
    resources = statement["Resource"]
    resources = [resources] if isinstance(resources, str) else resources
    # The result is cached per token: the policy must cover every route of the API.
    for route in (METHOD_ARN, f"{API}/GET/customers/c1"):
        assert any(fnmatch.fnmatchcase(route, pattern) for pattern in resources), resources
    # ...and nothing beyond this API's stage.
    assert not any(
        fnmatch.fnmatchcase(f"{API.replace('abcdef1234', 'otherapi99')}/GET/x", pattern)
        for pattern in resources
    )


# --- accepted -------------------------------------------------------------------------------


def test_valid_rs256_token_is_allowed_with_its_customer_id(authorizer, rsa_keys):
    handler = authorizer()
    assert_allowed(call(handler, signed(rsa_keys[0], customerID="org:42.a_b-c")), "org:42.a_b-c")


def test_token_without_exp_and_nbf_is_allowed(authorizer, rsa_keys):
    result = call(authorizer(), signed(rsa_keys[0], exp=..., nbf=..., iat=...))
    assert_allowed(result, expires_at=None)


@pytest.mark.parametrize("exp", [4102444800, 4102444800.75, 4.1024448e9])
def test_the_context_carries_the_tokens_expiry(authorizer, rsa_keys, exp):
    """So that the customers API can refuse a cached verdict that outlived its token
    (API Gateway hands context values over as strings: it gets one)."""
    assert_allowed(call(authorizer(), signed(rsa_keys[0], exp=exp)), expires_at=str(int(exp)))


def test_date_claims_may_be_json_numbers_of_any_kind(authorizer, rsa_keys):
    now = time.time()
    token = signed(rsa_keys[0], iat=now - 1.5, nbf=now - 0.25, exp=now + 600.5)
    assert_allowed(call(authorizer(), token), expires_at=str(int(now + 600.5)))


def test_pkcs1_public_key_is_accepted(authorizer, rsa_keys):
    handler = authorizer(public_pem(rsa_keys[0], pkcs1=True))
    assert_allowed(call(handler, signed(rsa_keys[0])))


def test_recently_expired_token_within_the_leeway_is_allowed(authorizer, rsa_keys):
    now = int(time.time())
    assert_allowed(call(authorizer(), signed(rsa_keys[0], exp=now - 30, iat=now - 3600)))


def test_not_before_within_the_leeway_is_allowed(authorizer, rsa_keys):
    assert_allowed(call(authorizer(), signed(rsa_keys[0], nbf=int(time.time()) + 30)))


def test_token_signed_by_any_configured_key_passes(authorizer, rsa_keys):
    both = public_pem(rsa_keys[0]) + public_pem(rsa_keys[1])
    handler = authorizer(both)
    assert_allowed(call(handler, signed(rsa_keys[0])))
    assert_allowed(call(handler, signed(rsa_keys[1], customerID="c2")), "c2")
    assert_refused(handler, signed(rsa_keys[2]))


def test_keys_of_several_types_rotate_without_errors(authorizer, rsa_keys):
    """An EC key beside the RSA one (say, mid-rotation): RS256 tokens still verify, and
    tokens signed by neither are a clean refusal, never a crash (500)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_key = ec.generate_private_key(ec.SECP256R1())
    both = public_pem(ec_key) + public_pem(rsa_keys[0])
    handler = authorizer(both, "RS256,ES256")
    assert_allowed(call(handler, signed(rsa_keys[0])))
    assert_refused(handler, signed(rsa_keys[2]))


def test_configured_keys_may_use_literal_backslash_n_escapes(authorizer, rsa_keys):
    both = (public_pem(rsa_keys[0]) + public_pem(rsa_keys[1])).replace("\n", "\\n")
    assert "\n" not in both
    handler = authorizer(both)
    assert_allowed(call(handler, signed(rsa_keys[0])))
    assert_allowed(call(handler, signed(rsa_keys[1])))


def test_configured_keys_may_be_separated_by_blank_lines_and_spaces(authorizer, rsa_keys):
    text = "\n\n" + public_pem(rsa_keys[0]) + "\n  \n" + public_pem(rsa_keys[1]) + "\n"
    assert_allowed(call(authorizer(text), signed(rsa_keys[1])))


# --- refused --------------------------------------------------------------------------------


def test_missing_header_is_refused(authorizer):
    assert_refused(authorizer(), None)


@pytest.mark.parametrize("value", ["", " ", "Bearer", "Bearer ", "Bearer  "])
def test_empty_or_bare_scheme_is_refused(authorizer, value):
    assert_refused(authorizer(), value, scheme="")


def test_not_bearer_is_refused(authorizer, rsa_keys):
    handler = authorizer()
    token = signed(rsa_keys[0])
    assert_refused(handler, token, scheme="Basic")
    assert_refused(handler, token, scheme="Token")
    assert_refused(handler, token, scheme="")  # the token without a scheme


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "a.b",
        "....",
        "eyJhbGciOiJSUzI1NiJ9.e30.",
        "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl",
        "%%%.%%%.%%%",
        "x" * 10_000,
    ],
)
def test_garbage_is_refused(authorizer, token):
    assert_refused(authorizer(), token)


def test_tampered_payload_is_refused(authorizer, rsa_keys):
    header, _, signature = signed(rsa_keys[0]).split(".")
    forged = segment(claims(customerID="someone-else"))
    assert_refused(authorizer(), f"{header}.{forged}.{signature}")


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused(authorizer, alg):
    token = f"{segment({'alg': alg, 'typ': 'JWT'})}.{segment(claims())}."
    assert_refused(authorizer(), token)


@pytest.mark.parametrize(("alg", "digest"), [("HS256", hashlib.sha256), ("HS512", hashlib.sha512)])
def test_hmac_signed_with_the_public_key_pem_is_refused(authorizer, rsa_keys, alg, digest):
    """Algorithm confusion: the public key (which is public) used as an HMAC secret."""
    pem = public_pem(rsa_keys[0])
    signing_input = f"{segment({'alg': alg, 'typ': 'JWT'})}.{segment(claims())}"
    for secret in (pem.encode(), pem.strip().encode()):
        mac = hmac.new(secret, signing_input.encode(), digest).digest()
        assert_refused(authorizer(), f"{signing_input}.{b64url(mac)}")


def test_hmac_is_refused_even_if_configured(authorizer, rsa_keys):
    pem = public_pem(rsa_keys[0])
    signing_input = f"{segment({'alg': 'HS256', 'typ': 'JWT'})}.{segment(claims())}"
    mac = hmac.new(pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64url(mac)}"
    try:
        handler = authorizer(pem, "RS256,HS256")
    except Exception:  # noqa: BLE001 - refusing the configuration at start-up is fine too
        return
    assert_refused(handler, token)


def test_other_asymmetric_algorithm_than_configured_is_refused(authorizer, rsa_keys):
    assert_refused(authorizer(), signed(rsa_keys[0], algorithm="RS512"))
    assert_refused(authorizer(), signed(rsa_keys[0], algorithm="PS256"))


def test_configured_algorithm_list_is_honoured(authorizer, rsa_keys):
    handler = authorizer(algorithms="RS256,PS256")
    assert_allowed(call(handler, signed(rsa_keys[0], algorithm="PS256")))
    assert_refused(handler, signed(rsa_keys[0], algorithm="RS512"))


def test_token_signed_by_another_key_is_refused(authorizer, rsa_keys):
    assert_refused(authorizer(), signed(rsa_keys[2]))


def test_expired_token_beyond_the_leeway_is_refused(authorizer, rsa_keys):
    now = int(time.time())
    assert_refused(authorizer(), signed(rsa_keys[0], exp=now - 120, iat=now - 3600))


def test_not_yet_valid_token_is_refused(authorizer, rsa_keys):
    now = int(time.time())
    assert_refused(authorizer(), signed(rsa_keys[0], nbf=now + 300))


@pytest.mark.parametrize("issuer", ["toqio", "Toqio ", "Evil", "", ..., None])
def test_wrong_or_missing_issuer_is_refused(authorizer, rsa_keys, issuer):
    assert_refused(authorizer(), signed(rsa_keys[0], iss=issuer))


@pytest.mark.parametrize(
    "subject",
    ["Toqio-integration-hub", "toqio-integration-hub authorization", "c1", "", ..., None],
)
def test_wrong_or_missing_subject_is_refused(authorizer, rsa_keys, subject):
    assert_refused(authorizer(), signed(rsa_keys[0], sub=subject))


def test_missing_customer_id_is_refused(authorizer, rsa_keys):
    assert_refused(authorizer(), signed(rsa_keys[0], customerID=...))


@pytest.mark.parametrize("value", [42, 4.2, True, None, ["c1"], {"id": "c1"}])
def test_non_string_customer_id_is_refused(authorizer, rsa_keys, value):
    assert_refused(authorizer(), signed(rsa_keys[0], customerID=value))


def test_customer_id_claim_name_is_case_sensitive(authorizer, rsa_keys):
    token = signed(rsa_keys[0], customerID=..., customerId="c1", customerid="c1")
    assert_refused(authorizer(), token)


def _far(seconds: int = 3600) -> int:
    return int(time.time()) + seconds


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize(
    "value",
    [
        lambda: str(_far()),  # PyJWT would take a string of digits for a date
        lambda: str(int(time.time()) - 10),
        lambda: f"{_far()}.5",
        lambda: " " + str(_far()),
        lambda: "soon",
        lambda: "",
        lambda: True,
        lambda: False,
        lambda: None,
        lambda: [_far()],
        lambda: {"at": _far()},
    ],
    ids=[
        "digits",
        "past digits",
        "decimal string",
        "padded digits",
        "word",
        "empty",
        "true",
        "false",
        "null",
        "array",
        "object",
    ],
)
def test_date_claims_that_are_not_json_numbers_are_refused(authorizer, rsa_keys, claim, value):
    """docs/api.md, Authentication: ``exp``, ``nbf`` and ``iat`` are JSON numbers when present."""
    assert_refused(authorizer(), signed(rsa_keys[0], **{claim: value()}))


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_date_claims_that_are_not_finite_are_refused(authorizer, rsa_keys, claim, literal):
    """Python's JSON reader takes these; JSON has no such numbers."""
    payload = json.dumps({**claims(), claim: 0}).replace(f'"{claim}": 0', f'"{claim}": {literal}')
    signing_input = f"{segment({'alg': 'RS256', 'typ': 'JWT'})}.{b64url(payload.encode())}"
    signature = rsa_keys[0].sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    assert_refused(authorizer(), f"{signing_input}.{b64url(signature)}")


def test_refusals_log_the_reason_never_the_token(authorizer, rsa_keys, caplog):
    handler = authorizer()
    token = signed(rsa_keys[0], exp=str(_far()))
    with caplog.at_level("DEBUG"):
        assert_refused(handler, token)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "exp is not a number" in text
    for part in token.split("."):
        assert part not in text


@pytest.mark.parametrize("ahead", [70, 3600])
def test_an_issued_at_in_the_future_is_not_a_reason_to_refuse(authorizer, rsa_keys, ahead):
    """exp and nbf are enforced (docs/api.md, Authentication); iat need only be a JSON number."""
    assert_allowed(call(authorizer(), signed(rsa_keys[0], iat=int(time.time()) + ahead)))
