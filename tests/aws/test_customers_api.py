"""The customers API end to end, through its Lambda handler, against an emulated account.

docs/api.md: envelopes, Create Customer and Find Customer. Every
reply is checked against the envelope rules by ``Api.invoke`` (tests.harness.handlers); the tests
here check the statuses, the data, and what is (or is not) stored.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.harness.aws import SECRET_PREFIX
from tests.harness.customers import (
    FULL_CUSTOMER_VIEW,
    MASK,
    full_customer,
    leaves,
    secret_values_of,
)
from tests.harness.handlers import Api, wired
from toqio_connector.adapters import dynamodb as dynamodb_adapter
from toqio_connector.adapters import secrets as secrets_adapter

EXPECTED_DATA = FULL_CUSTOMER_VIEW


def fragments(secret: str) -> list[str]:
    """What would betray a secret value: itself, its ends, and its usual digests."""
    raw = secret.encode()
    return [
        secret,
        secret[:8],
        secret[-8:],
        base64.b64encode(raw).decode(),
        hashlib.md5(raw).hexdigest(),  # noqa: S324 - looking for it, not using it
        hashlib.sha1(raw).hexdigest(),  # noqa: S324
        hashlib.sha256(raw).hexdigest(),
        hashlib.sha512(raw).hexdigest(),
    ]


def only_secret(stack) -> dict:
    (secret,) = stack.secret_list()
    return secret


# --- Create -------------------------------------------------------------------------------


def test_create_returns_the_masked_normalised_customer(api):
    reply = api.create(full_customer("c1"))
    assert reply.status == 200, reply.body
    data = reply.body["data"]
    created_at = data.pop("createdAt")
    assert data == EXPECTED_DATA
    parsed = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    assert parsed.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - parsed).total_seconds()) < 300


@pytest.mark.parametrize("with_key", [True, False])
def test_a_customer_s_secret_is_encrypted_with_the_key_the_environment_names(
    stack, monkeypatch, with_key
):
    """SECRETS_KMS_KEY_ID, as the template sets it to its key (created by create_all, as
    under make run); unset, Secrets Manager's own key."""
    import boto3

    from toqio_connector import bootstrap

    key = boto3.client("kms").describe_key(KeyId="alias/toqio-connector/customer-secrets")
    arn = key["KeyMetadata"]["Arn"]
    if with_key:
        monkeypatch.setenv("SECRETS_KMS_KEY_ID", arn)
    else:
        monkeypatch.delenv("SECRETS_KMS_KEY_ID", raising=False)
    assert bootstrap.customers_api().create(full_customer("c1"), "c1").created
    assert stack.secretsmanager.describe_secret(SecretId=only_secret(stack)["ARN"]).get(
        "KmsKeyId"
    ) == (arn if with_key else None)


def test_create_minimal_customer_omits_absent_fields(api):
    reply = api.create({"id": "c1", "apiKey": "k", "provider": None})
    assert reply.status == 200
    assert set(reply.body["data"]) == {"id", "apiKey", "createdAt"}
    assert reply.body["data"]["apiKey"] == MASK


def test_create_stores_the_arn_and_never_a_secret_value(api, stack):
    body = full_customer("c1")
    assert api.create(body).status == 200

    secret = only_secret(stack)
    assert secret["Name"].startswith(SECRET_PREFIX)
    (item,) = stack.raw_items()
    assert secret["ARN"] in leaves(item) or secret["ARN"] in json.dumps(item)
    stored = json.dumps(item)
    for value in secret_values_of(body):
        for fragment in fragments(value):
            assert fragment not in stored, fragment


def test_the_secret_holds_exactly_the_secret_values(api, stack):
    body = full_customer("c1")
    api.create(body)
    document = json.loads(stack.secret_string(only_secret(stack)["ARN"]))
    assert sorted(leaves(document)) == sorted(secret_values_of(body))


def test_one_secret_per_customer(api, stack):
    for customer_id in ("c1", "c2", "org:3.x_y-z"):
        assert api.create(full_customer(customer_id)).status == 200
    secrets = stack.secret_list()
    assert len(secrets) == 3
    assert len({s["ARN"] for s in secrets}) == 3
    assert {i["id"] for i in stack.items()} == {"c1", "c2", "org:3.x_y-z"}


def test_similar_ids_get_separate_secrets(api, stack):
    """Two ids that differ only where secret names are restricted stay two customers."""
    a = full_customer("a:b", apiKey="key-of-a-colon-b")
    b = full_customer("a-b", apiKey="key-of-a-dash-b")
    assert api.create(a).status == 200
    assert api.create(b).status == 200
    values = {
        json.dumps(sorted(leaves(json.loads(stack.secret_string(s["ARN"])))))
        for s in stack.secret_list()
    }
    assert len(values) == 2
    assert api.find("a:b").body["data"]["id"] == "a:b"
    assert api.find("a-b").body["data"]["id"] == "a-b"


# --- Find -----------------------------------------------------------------------------------


def test_find_returns_the_same_data_as_create(api):
    created = api.create(full_customer("c1"))
    found = api.find("c1")
    assert found.status == 200
    assert found.body["data"] == created.body["data"]


def test_find_reads_dynamodb_only_never_secrets_manager(api, monkeypatch):
    created = api.create(full_customer("c1"))
    from toqio_connector.adapters import aws

    def refuse(**_kwargs):
        raise AssertionError("Find must not call Secrets Manager")

    aws.client("secretsmanager").meta.events.register("before-call.secrets-manager", refuse)
    found = api.find("c1")
    assert found.status == 200
    assert found.body["data"] == created.body["data"]


def test_find_unknown_customer_is_customer_not_found(api):
    reply = api.find("c9")
    assert (reply.status, reply.body["code"]) == (404, "CUSTOMER_NOT_FOUND")


def test_find_an_id_that_could_never_exist_is_customer_not_found(api):
    reply = api.find("-nope-", customer="-nope-")
    assert (reply.status, reply.body["code"]) == (404, "CUSTOMER_NOT_FOUND")


# --- retry safety -----------------------------------------------------------------------------


def test_identical_create_is_a_replay(api, stack):
    first = api.create(full_customer("c1"))
    before = stack.snapshot()
    arn = only_secret(stack)["ARN"]
    versions = len(stack.versions(arn))

    again = api.create(full_customer("c1"))
    assert again.status == 200
    assert again.body["data"] == first.body["data"]
    assert again.body["data"]["createdAt"] == first.body["data"]["createdAt"]
    assert len(stack.versions(arn)) == versions == 1
    assert stack.snapshot() == before


def test_replay_compares_after_normalisation(api, stack):
    first = api.create(full_customer("c1"))
    before = stack.snapshot()
    same = full_customer("c1")
    same["availableCurrencies"] = ["EUR", "gbp", "USD", "usd", "Eur"]
    same["paymentProvider"] = dict(reversed(list(same["paymentProvider"].items())))
    same = dict(reversed(list(same.items())))  # key order is not content
    reply = api.create(same)
    assert reply.status == 200
    assert reply.body["data"] == first.body["data"]
    assert stack.snapshot() == before


def test_replay_with_null_optional_fields(api, stack):
    first = api.create({"id": "c1", "apiKey": "k"})
    before = stack.snapshot()
    reply = api.create({"id": "c1", "apiKey": "k", "provider": None, "paymentProvider": None})
    assert reply.status == 200
    assert reply.body["data"] == first.body["data"]
    assert stack.snapshot() == before


@pytest.mark.parametrize(
    "change",
    [
        {"apiKey": "another-api-key"},
        {"commercialName": "Other Ltd"},
        {"availableCurrencies": ["EUR"]},
        {"provider": None},
        {"paymentProvider": {"key": "Pk2b8cR4-key-value"}},
        {"paymentProvider": {**full_customer()["paymentProvider"], "hmacKey": "other-hmac"}},
        {"paymentProvider": {**full_customer()["paymentProvider"], "loginId": "other-login"}},
    ],
    ids=lambda change: ",".join(change),
)
def test_different_content_is_a_conflict_and_changes_nothing(api, stack, change):
    api.create(full_customer("c1"))
    before = stack.snapshot()
    reply = api.create({**full_customer("c1"), **change})
    assert (reply.status, reply.body["code"]) == (409, "CUSTOMER_ALREADY_EXISTS")
    assert stack.snapshot() == before
    assert api.find("c1").body["data"]["commercialName"] == "ACME Payments Ltd"


def test_conflict_then_replay_still_works(api, stack):
    first = api.create(full_customer("c1"))
    api.create(full_customer("c1", apiKey="other"))
    again = api.create(full_customer("c1"))
    assert again.status == 200
    assert again.body["data"] == first.body["data"]
    assert len(stack.versions(only_secret(stack)["ARN"])) == 1


# --- scope of the token -----------------------------------------------------------------------


def test_create_for_another_customer_is_forbidden_and_writes_nothing(api, stack):
    reply = api.create(full_customer("c1"), customer="c2")
    assert (reply.status, reply.body["code"]) == (403, "FORBIDDEN")
    assert stack.raw_items() == []
    assert stack.secret_list() == []


def test_create_for_another_customer_changes_no_existing_customer(api, stack):
    api.create(full_customer("c1"))
    before = stack.snapshot()
    reply = api.create(full_customer("c1", apiKey="attacker"), customer="c2")
    assert (reply.status, reply.body["code"]) == (403, "FORBIDDEN")
    assert stack.snapshot() == before


def test_find_another_customer_is_forbidden(api):
    api.create(full_customer("c1"))
    reply = api.find("c1", customer="c2")
    assert (reply.status, reply.body["code"]) == (403, "FORBIDDEN")
    assert "ACME" not in reply.text and "c1" not in json.dumps(reply.body.get("data"))


def test_find_unknown_customer_of_another_caller_is_forbidden_not_not_found(api):
    reply = api.find("c9", customer="c2")
    assert (reply.status, reply.body["code"]) == (403, "FORBIDDEN")


def test_request_without_a_verified_customer_is_unauthorized(api, stack):
    reply = api.create(full_customer("c1"), customer=None)
    assert (reply.status, reply.body["code"]) == (401, "UNAUTHORIZED")
    assert stack.raw_items() == [] and stack.secret_list() == []


# --- the HTTP edge ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nope"), ("GET", "/customers/c1/extra"), ("POST", "/customer"), ("GET", "/")],
)
def test_unknown_path_is_not_found(api, method, path):
    reply = api.call(method, path, customer="c1")
    assert (reply.status, reply.body["code"]) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/customers"),
        ("PUT", "/customers"),
        ("DELETE", "/customers"),
        ("POST", "/customers/c1"),
        ("PUT", "/customers/c1"),
        ("PATCH", "/customers/c1"),
        ("DELETE", "/customers/c1"),
    ],
)
def test_known_path_other_method_is_method_not_allowed(api, stack, method, path):
    api.create(full_customer("c1"))
    before = stack.snapshot()
    body = full_customer("c1", apiKey="changed") if method != "GET" else None
    reply = api.call(method, path, body, customer="c1")
    assert (reply.status, reply.body["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert stack.snapshot() == before


def padded(size: int) -> str:
    """A valid Create body of exactly ``size`` UTF-8 bytes (padded with JSON whitespace)."""
    text = json.dumps({"id": "c1", "apiKey": "k"})
    assert len(text) <= size
    return text[:-1] + " " * (size - len(text)) + "}"


def test_body_of_exactly_64_kib_is_accepted(api):
    reply = api.call("POST", "/customers", padded(64 * 1024))
    assert reply.status == 200


def test_body_over_64_kib_is_payload_too_large(api, stack):
    reply = api.call("POST", "/customers", padded(64 * 1024 + 1))
    assert (reply.status, reply.body["code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert stack.raw_items() == [] and stack.secret_list() == []


def test_payload_limit_counts_bytes_not_characters(api):
    body = json.dumps({"id": "c1", "apiKey": "é" * 33_000})  # 66 000 bytes, 33 000 chars
    reply = api.call("POST", "/customers", body)
    assert (reply.status, reply.body["code"]) == (413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "application/jsonp"},
        {},
    ],
    ids=["text", "form", "jsonp", "none"],
)
def test_body_not_sent_as_json_is_unsupported_media_type(api, stack, headers):
    reply = api.call("POST", "/customers", full_customer("c1"), headers=headers)
    assert (reply.status, reply.body["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert stack.raw_items() == [] and stack.secret_list() == []


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "application/json"},
        {"Content-Type": "application/json; charset=utf-8"},
        {"CONTENT-TYPE": "Application/JSON"},
    ],
)
def test_json_content_type_variants_are_accepted(api, headers):
    assert api.call("POST", "/customers", full_customer("c1"), headers=headers).status == 200


def test_base64_encoded_json_body_is_accepted(api):
    raw = base64.b64encode(json.dumps(full_customer("c1")).encode()).decode()
    reply = api.call("POST", "/customers", raw, base64=True)
    assert reply.status == 200
    assert reply.body["data"]["commercialName"] == "ACME Payments Ltd"


@pytest.mark.parametrize(
    "body", ["{bad", "[]", '"c1"', "null", "", '{"id":"c1","id":"c1","apiKey":"k"}', '{"id":NaN}']
)
def test_body_that_is_not_a_json_object_is_bad_request(api, stack, body):
    reply = api.call("POST", "/customers", body, headers={"Content-Type": "application/json"})
    assert (reply.status, reply.body["code"]) == (400, "BAD_REQUEST")
    assert stack.raw_items() == [] and stack.secret_list() == []


def test_validation_failure_lists_every_problem_and_stores_nothing(api, stack):
    body = {
        "id": "c1",
        "apiKey": 7,
        "availableCurrencies": ["eur", "XXXX"],
        "paymentProvider": {"key": "k", "pin": "1234"},
        "notAParameter": "x",
    }
    reply = api.create(body)
    assert (reply.status, reply.body["code"]) == (400, "BAD_REQUEST")
    assert {(p["field"], p["code"]) for p in reply.body["data"]} == {
        ("apiKey", "INVALID_TYPE"),
        ("availableCurrencies[1]", "INVALID_CURRENCY"),
        ("paymentProvider.pin", "UNKNOWN_PARAMETER"),
        ("notAParameter", "UNKNOWN_PARAMETER"),
    }
    for problem in reply.body["data"]:
        assert set(problem) == {"field", "code", "message"}
    assert stack.raw_items() == [] and stack.secret_list() == []


def test_currency_error_matches_the_contract_example(api):
    reply = api.create({"id": "c1", "apiKey": "k", "availableCurrencies": ["EUR", "gold"]})
    assert reply.status == 400
    assert reply.body["message"] == "Request body is invalid"
    assert reply.body["data"] == [
        {
            "field": "availableCurrencies[1]",
            "code": "INVALID_CURRENCY",
            "message": "not an ISO 4217 currency code",
        }
    ]


# --- unexpected errors and AWS trouble ------------------------------------------------------


def test_unexpected_error_on_find_is_a_generic_500(api, monkeypatch):
    def broken(self, customer_id):
        raise RuntimeError("boom: table exploded at /var/task/secret-path")

    monkeypatch.setattr(dynamodb_adapter.DynamoDbCustomerTable, "get", broken)
    reply = api.find("c1")
    assert (reply.status, reply.body["code"]) == (500, "INTERNAL_ERROR")
    for leak in ("boom", "exploded", "RuntimeError", "secret-path", "Traceback"):
        assert leak not in reply.text


def test_unexpected_error_on_create_is_a_generic_500_and_stores_nothing(api, stack, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("boom with value Ak7f3aQ9-0001")

    monkeypatch.setattr(secrets_adapter.SecretsManagerStore, "create", broken)
    reply = api.create(full_customer("c1"))
    assert (reply.status, reply.body["code"]) == (500, "INTERNAL_ERROR")
    assert "boom" not in reply.text and "Ak7f3aQ9" not in reply.text
    assert stack.raw_items() == []


def test_non_transient_aws_error_is_a_generic_500(api, stack, monkeypatch):
    from toqio_connector.adapters import aws

    def denied(**_kwargs):
        raise ClientError(
            {
                "Error": {
                    "Code": "AccessDeniedException",
                    "Message": "User arn:aws:iam::123456789012:role/x is not authorized",
                },
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
            "GetItem",
        )

    monkeypatch.setattr(aws.client("dynamodb"), "get_item", denied)
    reply = api.find("c1")
    assert (reply.status, reply.body["code"]) == (500, "INTERNAL_ERROR")
    assert "not authorized" not in reply.text and "arn:aws" not in reply.text


def assert_unavailable(reply) -> None:
    assert (reply.status, reply.body["code"]) == (503, "SERVICE_UNAVAILABLE"), reply.body
    assert int(reply.headers["retry-after"]) >= 1
    assert "Rate exceeded" not in reply.text and "Throttling" not in reply.text


def test_throttled_find_is_503_with_retry_after(api, throttled):
    api.create(full_customer("c1"))
    throttled("dynamodb", "get_item")
    assert_unavailable(api.find("c1"))


def test_throttled_secret_creation_is_503_and_stores_nothing(api, stack, throttled):
    throttled("secretsmanager", "create_secret")
    assert_unavailable(api.create(full_customer("c1")))
    assert stack.raw_items() == [] and stack.secret_list() == []


def test_after_a_throttled_item_write_a_retry_gets_200_and_one_secret_version(
    api, stack, monkeypatch
):
    from toqio_connector.adapters import aws

    client = aws.client("dynamodb")
    real_put = client.put_item
    failures = iter([True])

    def flaky_put(**kwargs):
        if next(failures, False):
            raise ClientError(
                {
                    "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                "PutItem",
            )
        return real_put(**kwargs)

    monkeypatch.setattr(client, "put_item", flaky_put)
    assert_unavailable(api.create(full_customer("c1")))
    assert stack.raw_items() == []
    again = api.create(full_customer("c1"))
    assert again.status == 200
    assert again.body["data"]["apiKey"] == MASK
    arn = only_secret(stack)["ARN"]
    assert len(stack.versions(arn)) == 1
    assert api.find("c1").body["data"] == again.body["data"]


# --- every status in the envelope ----------------------------------------------------------------


def test_request_id_is_echoed_on_success_and_error(api):
    ok = api.create(full_customer("c1"))
    err = api.find("c9")
    assert ok.body["requestId"] == ok.request_id
    assert err.body["requestId"] == err.request_id
    assert ok.request_id != err.request_id


@pytest.mark.parametrize(
    "failure",
    [
        lambda: EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/"),
        lambda: ReadTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/"),
        lambda: ClientError(
            {
                "Error": {"Code": "InternalServerError", "Message": "We are down"},
                "ResponseMetadata": {"HTTPStatusCode": 500},
            },
            "GetItem",
        ),
        lambda: ClientError(
            {
                "Error": {"Code": "ServiceUnavailable", "Message": "We are down"},
                "ResponseMetadata": {"HTTPStatusCode": 503},
            },
            "GetItem",
        ),
    ],
    ids=["connection", "read-timeout", "500", "503"],
)
def test_aws_outage_is_503_with_retry_after(api, monkeypatch, failure):
    from toqio_connector.adapters import aws

    def down(**_kwargs):
        raise failure()

    monkeypatch.setattr(aws.client("dynamodb"), "get_item", down)
    reply = api.find("c1")
    assert_unavailable(reply)
    assert "We are down" not in reply.text and "amazonaws" not in reply.text


# --- two Creates of one customer at once ------------------------------------------------------


def in_another_container(create):
    """Run ``create`` as if in another Lambda container, while this one is mid-request.

    Powertools keeps the current event on a class (one request per process is all
    Lambda ever runs), so a second container in this process must not clobber it.
    """
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    saved = {name: BaseRouter.__dict__.get(name) for name in ("current_event", "lambda_context")}
    try:
        return create()
    finally:
        for name, value in saved.items():
            setattr(BaseRouter, name, value)


@pytest.mark.parametrize("at", ["create_secret", "put_item"])
def test_identical_creates_racing_both_succeed_with_one_customer(api, stack, monkeypatch, at):
    """Create B runs to its end while Create A is paused just before ``at``.

    Two Lambda containers: two wirings of the handler, sharing only the AWS account.
    """
    from toqio_connector.adapters import aws

    other = Api(lambda: wired("customers_api", monkeypatch))
    service = "secretsmanager" if at == "create_secret" else "dynamodb"
    client = aws.client(service)
    real = getattr(client, at)
    interleaved = []

    def paused(**kwargs):
        if not interleaved:  # only A's call pauses, not B's own
            interleaved.append(None)
            interleaved[0] = in_another_container(lambda: other.create(full_customer("c1")))
        return real(**kwargs)

    monkeypatch.setattr(client, at, paused)
    first = api.create(full_customer("c1"))
    (second,) = interleaved

    assert first.status in (200, 503) and second.status in (200, 503)
    if first.status == 503:
        first = api.create(full_customer("c1"))  # the retry the contract promises
    if second.status == 503:
        second = other.create(full_customer("c1"))
    assert (first.status, second.status) == (200, 200)
    assert first.body["data"] == second.body["data"]
    (secret,) = stack.secret_list()
    assert len(stack.versions(secret["ARN"])) == 1
    assert len(stack.raw_items()) == 1
    assert [r["eventName"] for r in stack.stream_records()] == ["INSERT"]


def test_different_creates_racing_leave_one_consistent_customer(api, stack, monkeypatch):
    """B (different secret) runs while A is between CreateSecret and PutItem."""
    from toqio_connector.adapters import aws

    other = Api(lambda: wired("customers_api", monkeypatch))
    client = aws.client("dynamodb")
    real = client.put_item
    interleaved = []

    def paused(**kwargs):
        if not interleaved:  # only A's call pauses, not B's own
            interleaved.append(None)
            interleaved[0] = in_another_container(
                lambda: other.create(full_customer("c1", apiKey="key-of-b"))
            )
        return real(**kwargs)

    monkeypatch.setattr(client, "put_item", paused)
    first = api.create(full_customer("c1", apiKey="key-of-a"))
    (second,) = interleaved
    statuses = sorted([first.status, second.status])
    assert statuses in ([200, 409], [200, 503]), statuses
    winner = first if first.status == 200 else second
    (secret,) = stack.secret_list()
    held = json.loads(stack.secret_string(secret["ARN"]))
    expected_key = "key-of-a" if winner is first else "key-of-b"
    assert expected_key in leaves(held)
    assert api.find("c1").body["data"] == winner.body["data"]
    assert [r["eventName"] for r in stack.stream_records()] == ["INSERT"]


# --- whatever arrives, the answer is an envelope -------------------------------------------------

junk_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
junk_bodies = st.one_of(
    st.text(max_size=60),
    st.dictionaries(
        st.sampled_from(["id", "apiKey", "paymentProvider", "availableCurrencies", "x"]),
        junk_values | st.sampled_from(["c1", "k", "EUR"]),
        max_size=5,
    ).map(json.dumps),
)


@settings(max_examples=40)
@given(body=junk_bodies)
def test_any_body_gets_an_envelope_never_a_500(api, body):
    reply = api.call("POST", "/customers", body, headers={"Content-Type": "application/json"})
    assert reply.status in (200, 400, 403, 409), reply.body
