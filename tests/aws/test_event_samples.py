"""Each sample in events/ (the ones `sam local invoke` takes) run through its handler.

The table, bus and queue come from template.yaml (as `make run` makes them), and each
function gets the environment events/env.json gives it.
"""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from tests.harness.aws import create_stack, set_aws_env
from tests.harness.handlers import Context, load_handler
from tests.harness.registries import ROOT, TEMPLATE
from toqio_local.template import ResolvedTemplate

EVENTS = ROOT / "events"
ENV = json.loads((EVENTS / "env.json").read_text())


def sample(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def emulated(monkeypatch):
    set_aws_env(monkeypatch)
    with mock_aws():
        yield create_stack()


def handler(function: str, code_dir: str, monkeypatch):
    """The function's handler, wired from the environment events/env.json gives."""
    return load_handler(code_dir, ENV[function], monkeypatch)


def test_env_json_names_every_function_of_the_template():
    functions = ResolvedTemplate.read(TEMPLATE).of_type("AWS::Serverless::Function")
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
