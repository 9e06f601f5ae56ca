"""Shared fixtures: an emulated AWS account (moto), the handlers loaded afresh per test,
and helpers that look at what the outside world sees (responses, table, secrets, events).

Every handler module builds its AWS clients at import and the adapters cache them, so
each test clears that cache and imports the handler again inside its own ``mock_aws``:
the clients it gets are bound to that test's emulated account and nothing leaks between
tests. Each test also gets its own Powertools service name, so the Logger created at
import writes to the stdout that ``capsys`` captures in that test.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, settings
from moto import mock_aws

from tests.support import TEMPLATE
from toqio_connector.adapters import aws as aws_adapter
from toqio_local import resources
from toqio_local.template import ResolvedTemplate

ROOT = Path(__file__).resolve().parents[1]
REGION = "eu-west-1"
TABLE = "toqio-connector-CustomersTable"  # as created from template.yaml
BUS = "toqio-connector"
SECRET_PREFIX = "toqio-connector/customers/"
MASK = "*****"

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ERROR_CODES = {
    "REQUIRED",
    "INVALID_TYPE",
    "INVALID_VALUE",
    "INVALID_CURRENCY",
    "TOO_LONG",
    "UNKNOWN_PARAMETER",
}

settings.register_profile(
    "connector",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("connector")


class _UniquePaths(list):
    def append(self, path: str) -> None:  # boto3 appends its data path once per session
        if path not in self:
            super().append(path)


@pytest.fixture(scope="session", autouse=True)
def shared_botocore_loader():
    """One botocore data loader for every session the tests create.

    The adapters build each client from a fresh ``boto3.session.Session()``; each would
    parse the service models again (~65 ms a client). Clients made from one session
    share a loader anyway, so sharing it across sessions changes nothing but the time.
    """
    shared = botocore.loaders.create_loader()
    shared._search_paths = _UniquePaths(shared.search_paths)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", lambda *_args, **_kwargs: shared)
        yield shared


# --- environment and AWS --------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def emulator_fixes():
    """moto put right where it differs from AWS in ways the connector relies on."""
    from toqio_local import moto_fixes

    moto_fixes.apply()


@pytest.fixture
def env(monkeypatch):
    """What the functions' environment holds when deployed, with fake credentials."""
    values = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "TABLE_NAME": TABLE,
        "EVENT_BUS_NAME": BUS,
        "SECRET_NAME_PREFIX": SECRET_PREFIX,
        "POWERTOOLS_SERVICE_NAME": f"toqio-test-{uuid.uuid4().hex[:12]}",
        "POWERTOOLS_METRICS_NAMESPACE": "ToqioConnectorTest",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    for key in (
        "AWS_ENDPOINT_URL",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "CUSTOM_PARAMETERS_FILE",
        "POWERTOOLS_LOGGER_LOG_EVENT",
        "POWERTOOLS_DEV",
    ):
        monkeypatch.delenv(key, raising=False)
    _clear_registry_cache()
    yield values
    _clear_registry_cache()


def _clear_registry_cache() -> None:
    """Custom parameters are not under test here: the shipped (empty) registry applies."""
    try:
        from toqio_connector.rules import registry
    except ImportError:  # pragma: no cover - older layouts had no registry
        return
    loader = getattr(registry, "load_registry", None)
    if loader is not None and hasattr(loader, "cache_clear"):
        loader.cache_clear()


def _plain(value: Any) -> Any:
    """boto3's parsed values as the JSON a Lambda event would carry (dates as epoch)."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


@dataclass
class Account:
    """The emulated account: the customers table (streamed), secrets, the event bus."""

    dynamodb: Any
    secretsmanager: Any
    events: Any
    sqs: Any
    streams: Any
    _deserializer: TypeDeserializer = field(default_factory=TypeDeserializer)

    # table
    def raw_items(self) -> list[dict[str, Any]]:
        return self.dynamodb.scan(TableName=TABLE, ConsistentRead=True)["Items"]

    def items(self) -> list[dict[str, Any]]:
        return [
            {key: self._deserializer.deserialize(value) for key, value in item.items()}
            for item in self.raw_items()
        ]

    # secrets
    def secret_list(self) -> list[dict[str, Any]]:
        return self.secretsmanager.list_secrets()["SecretList"]

    def secret_string(self, secret_id: str) -> str:
        return self.secretsmanager.get_secret_value(SecretId=secret_id)["SecretString"]

    def versions(self, secret_id: str) -> list[dict[str, Any]]:
        return self.secretsmanager.list_secret_version_ids(SecretId=secret_id)["Versions"]

    def snapshot(self) -> dict[str, Any]:
        """Everything stored: items, and per secret its current value and its versions."""
        secrets = {}
        for secret in self.secret_list():
            arn = secret["ARN"]
            secrets[arn] = {
                "value": self.secret_string(arn),
                "versions": sorted(
                    (v["VersionId"], tuple(sorted(v.get("VersionStages", ()))))
                    for v in self.versions(arn)
                ),
            }
        items = sorted(self.raw_items(), key=lambda i: json.dumps(i, sort_keys=True))
        return {"items": items, "secrets": secrets}

    # stream
    def stream_records(self) -> list[dict[str, Any]]:
        """Every record of the table's stream, shaped as Lambda's DynamoDB event gives it."""
        table = self.dynamodb.describe_table(TableName=TABLE)["Table"]
        stream_arn = table["LatestStreamArn"]
        shards = self.streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        records: list[dict[str, Any]] = []
        for shard in shards:
            iterator = self.streams.get_shard_iterator(
                StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while iterator:
                page = self.streams.get_records(ShardIterator=iterator)
                if not page["Records"]:
                    break
                for record in page["Records"]:
                    records.append({**_plain(record), "eventSourceARN": stream_arn})
                iterator = page.get("NextShardIterator")
        return records


@pytest.fixture
def stack(env):
    with mock_aws():
        aws_adapter.client.cache_clear()
        session = boto3.session.Session(region_name=REGION)
        created = ResolvedTemplate.read(TEMPLATE)  # the table and bus template.yaml declares
        resources.create_all(created, session)
        assert created.refs["CustomersTable"] == TABLE
        dynamodb, events = session.client("dynamodb"), session.client("events")
        yield Account(
            dynamodb=dynamodb,
            secretsmanager=session.client("secretsmanager"),
            events=events,
            sqs=session.client("sqs"),
            streams=session.client("dynamodbstreams"),
        )
    aws_adapter.client.cache_clear()


class Subscriber:
    """A subscriber of our own: a rule on the bus for the connector's events -> SQS."""

    def __init__(self, stack: Account) -> None:
        self.sqs = stack.sqs
        name = f"subscriber-{uuid.uuid4().hex[:8]}"
        self.queue = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        stack.events.put_rule(
            Name=name, EventBusName=BUS, EventPattern=json.dumps({"source": ["toqio.connector"]})
        )
        stack.events.put_targets(Rule=name, EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn}])
        self.received: list[dict[str, Any]] = []
        self.raw: list[str] = []

    def events(self) -> list[dict[str, Any]]:
        """Every event received so far (each message is taken off the queue once)."""
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                return list(self.received)
            for message in messages:
                self.raw.append(message["Body"])
                self.received.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def subscriber(stack) -> Subscriber:
    return Subscriber(stack)


def throttle(service: str, operation: str, monkeypatch, message: str = "Rate exceeded") -> None:
    """Make the connector's client for ``service`` throttled on ``operation``.

    ``operation`` is the snake_case method (``get_item``). The error is what botocore
    raises once its own retries are spent.
    """
    client = aws_adapter.client(service)
    api_name = "".join(part.title() for part in operation.split("_"))

    def throttled(*_args: Any, **_kwargs: Any) -> Any:
        raise ClientError(
            {
                "Error": {"Code": "ThrottlingException", "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": "aws-req"},
            },
            api_name,
        )

    monkeypatch.setattr(client, operation, throttled)


@pytest.fixture
def throttled(stack, monkeypatch):
    """``throttled("dynamodb", "get_item")``: that AWS call is throttled from now on."""

    def apply(service: str, operation: str, message: str = "Rate exceeded") -> None:
        throttle(service, operation, monkeypatch, message)

    return apply


# --- handlers -------------------------------------------------------------------------


class Context:
    function_name = "toqio-connector-test"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:toqio-connector-test"
    aws_request_id = "lambda-request-1"


def load_function(directory: str, monkeypatch) -> Any:
    """``functions/<directory>/app.py`` imported afresh, under a name of its own."""
    name = f"under_test_{directory}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / directory / "app.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: Any
    text: str
    request_id: str
    raw: dict[str, Any]


def check_envelope(reply: Reply) -> None:
    """What every response of the API must look like (contract section 2)."""
    assert reply.headers.get("content-type", "").split(";")[0].strip() == "application/json", (
        reply.headers
    )
    assert isinstance(reply.body, dict), reply.text
    body = reply.body
    assert body.get("httpStatus") == reply.status, body
    assert body.get("requestId") == reply.request_id, body
    assert isinstance(body.get("date"), str) and DATE.match(body["date"]), body
    parsed = datetime.strptime(body["date"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - parsed).total_seconds()) < 300
    assert isinstance(body.get("code"), str) and body["code"]
    assert isinstance(body.get("message"), str) and body["message"]
    if reply.status == 200:
        assert body["code"] == "OK"
        assert body["errorSeverity"] == "NONE"
        assert body["message"] == "Ok"
        assert set(body) == {
            "data",
            "code",
            "errorSeverity",
            "message",
            "httpStatus",
            "requestId",
            "date",
        }
    else:
        assert body["errorSeverity"] == "ERROR"
        assert body["errorOrigin"] == "connector"
        assert set(body) <= {
            "data",
            "code",
            "errorSeverity",
            "message",
            "httpStatus",
            "requestId",
            "date",
            "errorOrigin",
        }
        assert "Traceback" not in reply.text
        assert 'File "' not in reply.text


class Api:
    """The customers API handler, called with API Gateway REST proxy events.

    The handler module is imported on first use, i.e. in the test's own body: pytest
    gives ``capsys`` a new stdout for the call phase, and the Powertools Logger keeps
    the stdout it found at import.
    """

    def __init__(self, load: Any) -> None:
        self._load = load
        self._module: Any = None
        self.calls = 0

    @property
    def module(self) -> Any:
        if self._module is None:
            self._module = self._load()
        return self._module

    def event(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        customer: str | None = "c1",
        headers: dict[str, str] | None = None,
        base64: bool = False,
    ) -> dict[str, Any]:
        self.calls += 1
        if body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        if headers is None:
            headers = {"Content-Type": "application/json"} if body is not None else {}
        resource = path
        path_parameters = None
        match = re.fullmatch(r"/customers/([^/]+)", path)
        if match:
            resource, path_parameters = "/customers/{customerId}", {"customerId": match[1]}
        elif path == "/customers":
            resource = "/customers"
        else:
            resource = "/{proxy+}"
        authorizer = {"principalId": customer, "customerID": customer} if customer else {}
        return {
            "resource": resource,
            "path": path,
            "httpMethod": method,
            "headers": dict(headers),
            "multiValueHeaders": {key: [value] for key, value in headers.items()},
            "queryStringParameters": None,
            "multiValueQueryStringParameters": None,
            "pathParameters": path_parameters,
            "stageVariables": None,
            "body": body,
            "isBase64Encoded": base64,
            "requestContext": {
                "requestId": f"req-{self.calls}-{uuid.uuid4().hex[:8]}",
                "resourcePath": resource,
                "httpMethod": method,
                "path": f"/live{path}",
                "stage": "live",
                "authorizer": authorizer,
                "identity": {"sourceIp": "203.0.113.1"},
            },
        }

    def invoke(self, event: dict[str, Any]) -> Reply:
        raw = self.module.lambda_handler(event, Context())
        headers = {key.lower(): str(value) for key, value in (raw.get("headers") or {}).items()}
        for key, values in (raw.get("multiValueHeaders") or {}).items():
            headers.setdefault(key.lower(), ", ".join(str(v) for v in values))
        text = raw.get("body") or ""
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        reply = Reply(
            status=raw["statusCode"],
            headers=headers,
            body=body,
            text=text,
            request_id=event["requestContext"]["requestId"],
            raw=raw,
        )
        check_envelope(reply)
        return reply

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.invoke(self.event(method, path, body, **kwargs))

    def create(self, body: dict[str, Any], **kwargs: Any) -> Reply:
        kwargs.setdefault("customer", body.get("id") if isinstance(body.get("id"), str) else "c1")
        return self.call("POST", "/customers", body, **kwargs)

    def find(self, customer_id: str, **kwargs: Any) -> Reply:
        kwargs.setdefault("customer", customer_id)
        return self.call("GET", f"/customers/{customer_id}", **kwargs)


@pytest.fixture
def api(stack, monkeypatch) -> Api:
    return Api(lambda: load_function("customers_api", monkeypatch))


class Publisher:
    """The publisher's handler (imported on first use): ``publisher(records)``."""

    def __init__(self, load: Any) -> None:
        self._load = load
        self._module: Any = None

    def __call__(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        if self._module is None:
            self._module = self._load()
        return self._module.lambda_handler({"Records": records}, Context())


@pytest.fixture
def publisher(stack, monkeypatch) -> Publisher:
    return Publisher(lambda: load_function("publisher", monkeypatch))


# --- keys and tokens ------------------------------------------------------------------


@pytest.fixture(scope="session")
def rsa_keys() -> list[Any]:
    """Three RSA private keys: Toqio's current key, its next key, and a stranger's."""
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)]


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


# --- a complete customer --------------------------------------------------------------


def full_customer(customer_id: str = "c1", **secrets: str) -> dict[str, Any]:
    """A Create body with every common parameter."""
    return {
        "id": customer_id,
        "apiKey": secrets.get("apiKey", "Ak7f3aQ9-api-value"),
        "providerConfigId": "config-7",
        "provider": "RAILSR",
        "paymentProvider": {
            "customerId": "pp-customer-42",
            "paymentProviderType": "RAILSR",
            "key": secrets.get("key", "Pk2b8cR4-key-value"),
            "loginId": secrets.get("loginId", "Lg5d1eT7-login-value"),
            "hmacKey": secrets.get("hmacKey", "Hm9e4fU2-hmac-value"),
        },
        "commercialName": "ACME Payments Ltd",
        "availableCurrencies": ["eur", "GBP", "Eur", "usd"],
    }


# What full_customer("c1") becomes: normalised, secrets masked (without createdAt).
FULL_CUSTOMER_VIEW = {
    "id": "c1",
    "apiKey": MASK,
    "providerConfigId": "config-7",
    "provider": "RAILSR",
    "paymentProvider": {
        "customerId": "pp-customer-42",
        "paymentProviderType": "RAILSR",
        "key": MASK,
        "loginId": MASK,
        "hmacKey": MASK,
    },
    "commercialName": "ACME Payments Ltd",
    "availableCurrencies": ["EUR", "GBP", "USD"],
}


def secret_values_of(body: dict[str, Any]) -> list[str]:
    provider = body.get("paymentProvider") or {}
    values = [body.get("apiKey")] + [provider.get(k) for k in ("key", "loginId", "hmacKey")]
    return [v for v in values if isinstance(v, str)]


def leaves(value: Any) -> list[Any]:
    """Every scalar inside a JSON-like value."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]
