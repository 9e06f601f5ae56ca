"""Each sample in events/ (the ones `sam local invoke` takes) run through its handler.

The table, bus and queue come from template.yaml (as `make run` makes them), and each
function gets the environment events/env.json gives it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from toqio_connector.adapters import aws
from toqio_local import resources
from toqio_local.template import Stack, load

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
ENV = json.loads((EVENTS / "env.json").read_text())


class Context:
    function_name = "sample"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:sample"
    aws_request_id = "sample-request"


def sample(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def emulated(monkeypatch):
    for key, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.client.cache_clear()
        stack = Stack(load())
        resources.create_all(stack, boto3.session.Session())
        yield stack
    aws.client.cache_clear()


def handler(function: str, code_dir: str, monkeypatch):
    """The function's handler, imported afresh with the environment events/env.json gives."""
    for key, value in ENV[function].items():
        monkeypatch.setenv(key, value)
    name = f"sample_{function}"
    spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / code_dir / "app.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module.lambda_handler


def test_env_json_names_every_function_of_the_template():
    functions = Stack(load()).of_type("AWS::Serverless::Function")
    assert set(ENV) == set(functions)
    for fid, variables in ENV.items():
        declared = set(functions[fid]["Properties"].get("Environment", {}).get("Variables", {}))
        assert declared <= set(variables), fid


def test_authorizer_sample_is_allowed(monkeypatch):
    result = handler("AuthorizerFunction", "authorizer", monkeypatch)(
        sample("authorizer.json"), Context()
    )
    assert result["context"] == {"customerID": "c1"}
    assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_create_then_find_samples(emulated, monkeypatch):
    api = handler("CustomersApiFunction", "customers_api", monkeypatch)
    created = api(sample("create_customer.json"), Context())
    assert created["statusCode"] == 200, created["body"]
    found = api(sample("find_customer.json"), Context())
    assert found["statusCode"] == 200
    assert json.loads(found["body"])["data"] == json.loads(created["body"])["data"]
    assert json.loads(created["body"])["data"]["paymentProvider"]["key"] == "*****"


def test_stream_batch_sample_reaches_the_bus(emulated, monkeypatch):
    sqs, events = boto3.client("sqs"), boto3.client("events")
    queue = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus = ENV["PublisherFunction"]["EVENT_BUS_NAME"]
    events.put_rule(Name="all", EventBusName=bus, EventPattern='{"source":["toqio.connector"]}')
    events.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])

    result = handler("PublisherFunction", "publisher", monkeypatch)(
        sample("stream_batch.json"), Context()
    )

    assert result == {"batchItemFailures": []}
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    event = json.loads(messages[0]["Body"])
    assert event["detail-type"] == "CustomerCreated"
    assert event["detail"]["customer"]["id"] == "c1"
    assert event["detail"]["occurredAt"] == "2026-11-24T10:15:30.123Z"
