"""`make run`'s runner, started as a process and spoken to over real HTTP.

This is the contract's acceptance scenario end to end: the API on one port, the AWS
emulator on another, a token from the development key, and a subscriber of our own on
the event bus.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jwt
import pytest

from tests.harness.http import RunningConnector
from toqio_connector.rules.tokens import LEEWAY_SECONDS
from toqio_local import devkeys

ROOT = Path(__file__).resolve().parents[2]
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SECRETS = {
    "apiKey": "runner-api-key-5a1c",
    "key": "runner-provider-key-0b2d",
    "loginId": "runner-login-7c3e",
    "hmacKey": "runner-hmac-9d4f",
}


class Local(RunningConnector):
    def call(self, method, path, body=None, token=None, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.api + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, dict(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), json.loads(error.read())


@pytest.fixture(scope="module")
def local():
    runner = Local()
    yield runner
    runner.stop()


@pytest.fixture(scope="module")
def subscriber(local):
    """Our own rule and queue on the connector's bus, as a deployed subscriber would."""
    sqs, events = local.client("sqs"), local.client("events")
    queue = sqs.create_queue(QueueName="test-subscriber")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(  # the change events (connection statuses: tests/test_linking_http.py)
        Name="test-subscriber",
        EventBusName="toqio-connector",
        EventPattern=json.dumps(
            {"source": ["toqio.connector"], "detail-type": ["CustomerCreated", "CustomerUpdated"]}
        ),
    )
    events.put_targets(
        Rule="test-subscriber", EventBusName="toqio-connector", Targets=[{"Id": "q", "Arn": arn}]
    )

    def received(customer_id: str, wait: float = 5.0) -> list[dict]:
        found, deadline = [], time.monotonic() + wait
        while time.monotonic() < deadline:
            for message in sqs.receive_message(
                QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", []):
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            mine = [e for e in found if e["detail"]["customer"]["id"] == customer_id]
            if mine and time.monotonic() > deadline - wait + 1.5:
                return mine  # and no second one within a further moment
        return [e for e in found if e["detail"]["customer"]["id"] == customer_id]

    return received


def customer(customer_id: str) -> dict:
    return {
        "id": customer_id,
        "apiKey": SECRETS["apiKey"],
        "provider": "ACME",
        "paymentProvider": {
            "customerId": "p-1",
            "key": SECRETS["key"],
            "loginId": SECRETS["loginId"],
            "hmacKey": SECRETS["hmacKey"],
        },
        "commercialName": "Acme Ltd",
        "availableCurrencies": ["eur", "GBP", "EUR"],
    }


def assert_envelope(status, headers, body):
    assert headers["Content-Type"].startswith("application/json")
    assert body["httpStatus"] == status
    assert DATE.match(body["date"])
    assert body["requestId"]
    assert body["errorSeverity"] == ("NONE" if status == 200 else "ERROR")


def test_banner_says_where_everything_is(local):
    for part in (local.api, local.aws, "toqio-connector", "make token", ".local/toqio-dev-key.pem"):
        assert part in local.banner


def test_create_and_find_end_to_end(local, subscriber):
    token = devkeys.token("e2e-1")
    status, headers, created = local.call("POST", "/customers", customer("e2e-1"), token)
    assert_envelope(status, headers, created)
    assert status == 200 and created["code"] == "OK"
    data = created["data"]
    assert data["apiKey"] == "*****"
    assert {data["paymentProvider"][k] for k in ("key", "loginId", "hmacKey")} == {"*****"}
    assert data["availableCurrencies"] == ["EUR", "GBP"]
    assert DATE.match(data["createdAt"])

    status, _, found = local.call("GET", "/customers/e2e-1", token=token)
    assert status == 200 and found["data"] == data

    # The secret values are in exactly one secret, whose ARN is on the item.
    secrets = local.client("secretsmanager")
    names = [s["Name"] for s in secrets.list_secrets()["SecretList"] if "e2e-1" in s["Name"]]
    assert len(names) == 1
    stored = json.loads(secrets.get_secret_value(SecretId=names[0])["SecretString"])
    assert stored == {
        "apiKey": SECRETS["apiKey"],
        "paymentProvider": {k: SECRETS[k] for k in ("key", "loginId", "hmacKey")},
    }
    dynamodb = local.client("dynamodb")
    table = dynamodb.list_tables()["TableNames"][0]
    item = dynamodb.get_item(TableName=table, Key={"id": {"S": "e2e-1"}})["Item"]
    assert item["secretArn"]["S"] == secrets.describe_secret(SecretId=names[0])["ARN"]
    assert not any(value in json.dumps(item) for value in SECRETS.values())

    events = subscriber("e2e-1")
    assert len(events) == 1
    assert events[0]["detail-type"] == "CustomerCreated"
    assert events[0]["source"] == "toqio.connector"
    assert events[0]["detail"]["customer"] == data
    assert events[0]["detail"]["secretArn"] == item["secretArn"]["S"]
    assert not any(value in json.dumps(events[0]) for value in SECRETS.values())


def test_replay_is_200_and_conflict_is_409(local, subscriber):
    token = devkeys.token("e2e-2")
    _, _, first = local.call("POST", "/customers", customer("e2e-2"), token)
    status, _, again = local.call("POST", "/customers", customer("e2e-2"), token)
    assert status == 200 and again["data"] == first["data"]
    changed = {**customer("e2e-2"), "apiKey": "another-key"}
    status, headers, conflict = local.call("POST", "/customers", changed, token)
    assert_envelope(status, headers, conflict)
    assert (status, conflict["code"]) == (409, "CUSTOMER_ALREADY_EXISTS")
    assert len(subscriber("e2e-2")) == 1


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("POST", "/customers", {"body": {"id": "s1", "apiKey": "x"}}, 401, "UNAUTHORIZED"),
        ("POST", "/customers", {"body": {"id": "s1"}, "token": "not-a-jwt"}, 401, "UNAUTHORIZED"),
        ("GET", "/customers/s1", {"token": "other"}, 403, "FORBIDDEN"),
        (
            "POST",
            "/customers",
            {"body": {"id": "other", "apiKey": "k"}, "token": "s1"},
            403,
            "FORBIDDEN",
        ),
        ("GET", "/customers/s1", {"token": "s1"}, 404, "CUSTOMER_NOT_FOUND"),
        ("GET", "/nowhere", {"token": "s1"}, 404, "NOT_FOUND"),
        ("GET", "/customers/s1/extra", {"token": "s1"}, 404, "NOT_FOUND"),
        ("DELETE", "/customers/s1", {"token": "s1"}, 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/customers", {"token": "s1"}, 405, "METHOD_NOT_ALLOWED"),
        ("POST", "/customers", {"raw": b"{", "token": "s1"}, 400, "BAD_REQUEST"),
        (
            "POST",
            "/customers",
            {"body": {"id": "s1", "apiKey": 7}, "token": "s1"},
            400,
            "BAD_REQUEST",
        ),
        ("POST", "/customers", {"raw": b"\xff\xfe{}", "token": "s1"}, 400, "BAD_REQUEST"),
        (
            "POST",
            "/customers",
            {"raw": b"{" + b" " * 70_000 + b"}", "token": "s1"},
            413,
            "PAYLOAD_TOO_LARGE",
        ),
        (
            "POST",
            "/customers",
            {
                "body": {"id": "s1", "apiKey": "k"},
                "token": "s1",
                "headers": {"Content-Type": "text/plain"},
            },
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
    ],
)
def test_every_status_in_the_envelope(local, method, path, kwargs, status, code):
    token = kwargs.pop("token", None)
    if token and token != "not-a-jwt":
        token = devkeys.token(token)
    got, headers, body = local.call(method, path, token=token, **kwargs)
    assert (got, body["code"]) == (status, code), body
    assert_envelope(got, headers, body)
    assert body["errorOrigin"] == "connector"


def test_simultaneous_identical_creates_make_one_customer(local, subscriber):
    token = devkeys.token("e2e-3")

    def create(_):
        for _attempt in range(10):
            status, headers, body = local.call("POST", "/customers", customer("e2e-3"), token)
            if status != 503:
                return status, body
            assert headers["Retry-After"]
            time.sleep(float(headers["Retry-After"]) / 10)
        return status, body

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(create, range(6)))
    assert {status for status, _ in results} == {200}
    assert len({json.dumps(body["data"], sort_keys=True) for _, body in results}) == 1
    names = [
        s["Name"]
        for s in local.client("secretsmanager").list_secrets()["SecretList"]
        if "e2e-3" in s["Name"]
    ]
    assert len(names) == 1
    assert len(subscriber("e2e-3")) == 1


def test_simultaneous_different_creates_make_one_customer_and_409s(local, subscriber):
    """Six callers, six different apiKeys, one id: one wins, the others get 409 (after
    503s while the winner is in flight), and the stored secret is the winner's."""
    token = devkeys.token("e2e-5")

    def create(n):
        body = {**customer("e2e-5"), "apiKey": f"key-of-caller-{n}"}
        for _attempt in range(200):  # up to ~10 s on a busy machine
            status, headers, reply = local.call("POST", "/customers", body, token)
            if status != 503:
                return n, status, reply
            assert headers["Retry-After"]
            time.sleep(0.05)
        return n, status, reply

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(create, range(6)))
    statuses = sorted(status for _, status, _ in results)
    assert statuses == [200, 409, 409, 409, 409, 409], results
    (winner,) = [n for n, status, _ in results if status == 200]
    secrets = local.client("secretsmanager")
    (name,) = [s["Name"] for s in secrets.list_secrets()["SecretList"] if "e2e-5" in s["Name"]]
    assert json.loads(secrets.get_secret_value(SecretId=name)["SecretString"])["apiKey"] == (
        f"key-of-caller-{winner}"
    )
    assert len(subscriber("e2e-5")) == 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged(header: dict, claims: dict, sign) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def _claims(**changes) -> dict:
    claims = {**devkeys.claims("atk", lifetime_seconds=600), **changes}
    return {k: v for k, v in claims.items() if v is not None}


def _attacks() -> dict[str, tuple[str, int]]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    dev_key = devkeys.private_key_pem()
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = devkeys.public_key_pem().encode()
    now = int(time.time())
    return {
        "alg none": (_forged({"alg": "none", "typ": "JWT"}, _claims(), lambda _m: b""), 401),
        "HS256 keyed with the public key": (
            _forged(
                {"alg": "HS256", "typ": "JWT"},
                _claims(),
                lambda m: hmac.new(public_pem, m, hashlib.sha256).digest(),
            ),
            401,
        ),
        "another RSA key": (jwt.encode(_claims(), other_key, algorithm="RS256"), 401),
        "expired": (jwt.encode(_claims(exp=now - 120), dev_key, algorithm="RS256"), 401),
        "not yet valid": (jwt.encode(_claims(nbf=now + 600), dev_key, algorithm="RS256"), 401),
        "wrong iss": (jwt.encode(_claims(iss="Evil"), dev_key, algorithm="RS256"), 401),
        "wrong sub": (jwt.encode(_claims(sub="someone"), dev_key, algorithm="RS256"), 401),
        "no customerID": (jwt.encode(_claims(customerID=None), dev_key, algorithm="RS256"), 401),
        # Date claims must be JSON numbers: PyJWT alone would read these strings as dates.
        "exp as a string of digits": (
            jwt.encode(_claims(exp=str(now + 600)), dev_key, algorithm="RS256"),
            401,
        ),
        "nbf as a string of digits": (
            jwt.encode(_claims(nbf=str(now - 60)), dev_key, algorithm="RS256"),
            401,
        ),
        "iat as a string of digits": (
            jwt.encode(_claims(iat=str(now - 60)), dev_key, algorithm="RS256"),
            401,
        ),
        "nbf as a boolean": (jwt.encode(_claims(nbf=True), dev_key, algorithm="RS256"), 401),
        "valid, for another customer": (devkeys.token("someone-else"), 403),
    }


def test_authentication_attacks_are_refused_and_touch_nothing(local):
    dynamodb, secrets = local.client("dynamodb"), local.client("secretsmanager")
    table = dynamodb.list_tables()["TableNames"][0]
    for name, (token, expected) in _attacks().items():
        for method, path, body in (
            ("POST", "/customers", customer("atk")),
            ("GET", "/customers/atk", None),
        ):
            status, headers, reply = local.call(method, path, body, token)
            assert status == expected, (name, method, reply)
            assert_envelope(status, headers, reply)
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"id": {"S": "atk"}})
    assert not [s for s in secrets.list_secrets()["SecretList"] if "/atk/" in s["Name"]]


def test_a_cached_verdict_never_outlives_its_token(local):
    """The gateway caches the authorizer's verdict (AuthorizerCacheSeconds, 300 s); a
    token accepted within its exp leeway is refused once the leeway has run out, cached
    verdict or not, and nothing is read or written for it."""
    dynamodb, secrets = local.client("dynamodb"), local.client("secretsmanager")
    table = dynamodb.list_tables()["TableNames"][0]
    exp = int(time.time()) - LEEWAY_SECONDS + 2  # expired 58 s ago: within the leeway
    token = jwt.encode(
        _claims(customerID="cached-1", exp=exp), devkeys.private_key_pem(), algorithm="RS256"
    )
    status, _, body = local.call("GET", "/customers/cached-1", token=token)
    assert (status, body["code"]) == (404, "CUSTOMER_NOT_FOUND")  # accepted, and cached
    time.sleep(max(0.0, exp + LEEWAY_SECONDS + 0.2 - time.time()))
    for method, path, payload in (
        ("GET", "/customers/cached-1", None),
        ("POST", "/customers", customer("cached-1")),
    ):
        status, headers, body = local.call(method, path, payload, token)
        assert (status, body["code"]) == (401, "UNAUTHORIZED"), (method, body)
        assert_envelope(status, headers, body)
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"id": {"S": "cached-1"}})
    assert not [s for s in secrets.list_secrets()["SecretList"] if "/cached-1/" in s["Name"]]


def test_make_token_prints_a_working_token_last(local):
    output = subprocess.run(
        ["make", "--no-print-directory", "token", "CUSTOMER_ID=e2e-4"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    token = output.strip().splitlines()[-1]
    status, _, body = local.call("GET", "/customers/e2e-4", token=token)
    assert (status, body["code"]) == (404, "CUSTOMER_NOT_FOUND")
