"""Helpers shared by tests that run the handlers against moto.

Resources are created from template.yaml exactly as `make run` creates them, and each
handler module is imported afresh with the environment its function gets.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import boto3

from toqio_local import resources
from toqio_local.streams import lambda_record
from toqio_local.template import ResolvedTemplate

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
EXAMPLE_REGISTRY = ROOT / "layers/connector/toqio_connector/registry/example.json"
AWS_ENV = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_SERVICE_NAME": "toqio-connector",
    "POWERTOOLS_METRICS_NAMESPACE": "ToqioConnector",
}


# The environment template.yaml gives the functions, as `make run` names things.
FUNCTION_ENV = {
    "TABLE_NAME": "toqio-connector-CustomersTable",
    "SECRET_NAME_PREFIX": "toqio-connector/customers/",
    "EVENT_BUS_NAME": "toqio-connector",
}


class Context:
    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:test"
    aws_request_id = "test-request"


def set_aws_env(monkeypatch) -> None:
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def create_stack() -> ResolvedTemplate:
    """Inside an active moto mock: the template's table, bus and queue."""
    stack = ResolvedTemplate.read(TEMPLATE)
    resources.create_all(stack, boto3.session.Session())
    return stack


def load_handler(code_dir: str, env: dict[str, str], monkeypatch) -> Any:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from toqio_connector.adapters import aws

    aws.client.cache_clear()
    name = f"handler_{code_dir}"
    spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / code_dir / "app.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module.lambda_handler


def api_event(method: str, path: str, body: Any = None, customer_id: str = "c1") -> dict:
    return {
        "resource": "/customers" if path == "/customers" else "/customers/{customerId}",
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "pathParameters": None,
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
        "requestContext": {"requestId": "req-test", "authorizer": {"customerID": customer_id}},
    }


def call(handler: Any, *args: Any, **kwargs: Any) -> tuple[int, dict]:
    response = handler(api_event(*args, **kwargs), Context())
    return response["statusCode"], json.loads(response["body"])


def stream_batch(stack: ResolvedTemplate, after: str | None = None) -> dict:
    """Every record on the table's stream (after sequence number ``after``), as Lambda
    would hand them to the publisher."""
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
    """A rule on the bus delivering to an SQS queue: how a subscriber sees the events."""

    def __init__(self, bus: str = "toqio-connector") -> None:
        self.sqs = boto3.client("sqs")
        self.queue = self.sqs.create_queue(QueueName="subscriber")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events = boto3.client("events")
        events.put_rule(Name="sub", EventBusName=bus, EventPattern='{"source":["toqio.connector"]}')
        events.put_targets(Rule="sub", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    def events(self) -> list[dict]:
        received = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return received
            for message in messages:
                received.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])


def customer_table(name: str = FUNCTION_ENV["TABLE_NAME"]) -> Any:
    """The DynamoDB adapter on the (mocked) table, as the functions wire it."""
    from toqio_connector.adapters.aws import client
    from toqio_connector.adapters.dynamodb import DynamoDbCustomerTable

    return DynamoDbCustomerTable(name, client("dynamodb"))


def secret_store(prefix: str = FUNCTION_ENV["SECRET_NAME_PREFIX"]) -> Any:
    """The Secrets Manager adapter, as the functions wire it (the operator's: prefix "")."""
    from toqio_connector.adapters.aws import client
    from toqio_connector.adapters.secrets import SecretsManagerStore

    return SecretsManagerStore(prefix, client("secretsmanager"))
