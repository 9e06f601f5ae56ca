"""The emulated AWS account (moto): created from template.yaml as `make run` creates it,
the environment the functions get there, and reading back what the connector left in
it (items, secrets, the stream, the events a subscriber receives).

Everything here expects an active ``moto.mock_aws`` (the ``stack`` fixture, or a test's
own ``with mock_aws():``).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from tests.harness.registries import TEMPLATE
from toqio_local import resources
from toqio_local.streams import lambda_record
from toqio_local.template import ResolvedTemplate

REGION = "eu-west-1"
TABLE = "toqio-connector-CustomersTable"  # as created from template.yaml
BUS = "toqio-connector"
SECRET_PREFIX = "toqio-connector/customers/"

# Fake credentials in the emulated region (what any process talking to moto needs).
AWS_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_SERVICE_NAME": "toqio-connector",
    "POWERTOOLS_METRICS_NAMESPACE": "ToqioConnector",
}

# The environment template.yaml gives the functions, as `make run` names things.
FUNCTION_ENV = {
    "TABLE_NAME": TABLE,
    "SECRET_NAME_PREFIX": SECRET_PREFIX,
    "EVENT_BUS_NAME": BUS,
}

# What the functions' environment holds when deployed, with fake credentials.
DEPLOYED_ENV = {
    **AWS_ENV,
    "AWS_REGION": REGION,
    **FUNCTION_ENV,
    "POWERTOOLS_SERVICE_NAME": "toqio-connector-test",
    "POWERTOOLS_METRICS_NAMESPACE": "ToqioConnectorTest",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
# ...and what it must not hold: a real endpoint, profile or session, a registry of
# another test, Powertools' event logging or dev mode.
NOT_DEPLOYED = (
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "CUSTOM_PARAMETERS_FILE",
    "POWERTOOLS_LOGGER_LOG_EVENT",
    "POWERTOOLS_DEV",
)


def set_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def set_deployed_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in DEPLOYED_ENV.items():
        monkeypatch.setenv(key, value)
    for key in NOT_DEPLOYED:
        monkeypatch.delenv(key, raising=False)
    return dict(DEPLOYED_ENV)


class _UniquePaths(list):
    def append(self, path: str) -> None:  # boto3 appends its data path once per session
        if path not in self:
            super().append(path)


@contextlib.contextmanager
def shared_botocore_loader() -> Iterator[Any]:
    """One botocore data loader for every session created meanwhile.

    The adapters build each client from a fresh ``boto3.session.Session()``; each would
    parse the service models again (~65 ms a client). Clients made from one session
    share a loader anyway, so sharing it across sessions changes nothing but the time.
    """
    shared = botocore.loaders.create_loader()
    shared._search_paths = _UniquePaths(shared.search_paths)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", lambda *_args, **_kwargs: shared)
        yield shared


def create_stack(session: boto3.session.Session | None = None) -> ResolvedTemplate:
    """Inside an active moto mock: the template's table, bus and queue."""
    stack = ResolvedTemplate.read(TEMPLATE)
    resources.create_all(stack, session or boto3.session.Session())
    return stack


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

    @classmethod
    def created(cls) -> Account:
        """Inside an active moto mock: template.yaml's resources, and clients on them."""
        session = boto3.session.Session(region_name=REGION)
        created = create_stack(session)  # the table and bus template.yaml declares
        assert created.refs["CustomersTable"] == TABLE
        return cls(
            dynamodb=session.client("dynamodb"),
            secretsmanager=session.client("secretsmanager"),
            events=session.client("events"),
            sqs=session.client("sqs"),
            streams=session.client("dynamodbstreams"),
        )

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


def stream_batch(stack: ResolvedTemplate, after: str | None = None) -> dict:
    """Every record on the table's stream (after sequence number ``after``), as Lambda
    would hand them to the publisher (converted by the runner's own code)."""
    streams = boto3.client("dynamodbstreams")
    arn = stack.attributes[("CustomersTable", "StreamArn")]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = streams.get_records(ShardIterator=iterator)
            records += [lambda_record(r, arn) for r in response["Records"]]
            if not response["Records"]:
                break
            iterator = response.get("NextShardIterator")
    if after is not None:
        records = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) > int(after)]
    return {"Records": records}


class Subscriber:
    """A subscriber of our own: a rule on the bus for the connector's events -> SQS.

    On the given clients, or on the default session's (inside the test's mock)."""

    def __init__(self, sqs: Any = None, events: Any = None, bus: str = BUS) -> None:
        self.sqs = sqs or boto3.client("sqs")
        events = events or boto3.client("events")
        name = f"subscriber-{uuid.uuid4().hex[:8]}"
        self.queue = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["toqio.connector"]})
        )
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
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


def throttle(service: str, operation: str, monkeypatch, message: str = "Rate exceeded") -> None:
    """Make the connector's client for ``service`` throttled on ``operation``.

    ``operation`` is the snake_case method (``get_item``). The error is what botocore
    raises once its own retries are spent.
    """
    from toqio_connector.adapters import aws as aws_adapter

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


def customer_table(name: str = TABLE) -> Any:
    """The DynamoDB adapter on the (mocked) table, as the functions wire it."""
    from toqio_connector.adapters.aws import client
    from toqio_connector.adapters.dynamodb import DynamoDbCustomerTable

    return DynamoDbCustomerTable(name, client("dynamodb"))


def secret_store(prefix: str = SECRET_PREFIX) -> Any:
    """The Secrets Manager adapter, as the functions wire it (the operator's: prefix "")."""
    from toqio_connector.adapters.aws import client
    from toqio_connector.adapters.secrets import SecretsManagerStore

    return SecretsManagerStore(prefix, client("secretsmanager"))
