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


def test_connection_status_sample_is_503_until_checked(emulated, monkeypatch):
    api = handler("CustomersApiFunction", "customers_api", monkeypatch)
    assert api(sample("create_customer.json"), Context())["statusCode"] == 200
    reply = api(sample("connection_status.json"), Context())
    assert reply["statusCode"] == 503 and int(reply["multiValueHeaders"]["Retry-After"][0]) >= 1
    assert json.loads(reply["body"])["code"] == "SERVICE_UNAVAILABLE"


def test_link_batch_sample_is_taken_and_links_the_customer_it_names(emulated, monkeypatch):
    """Only the customer's id is read from the event: the credentials checked are the
    item's (the sample's secret ARN and version are not the emulator's)."""
    from toqio_local.sandbox import SandboxProvider

    provider = SandboxProvider().start()
    api = handler("CustomersApiFunction", "customers_api", monkeypatch)
    assert api(sample("create_customer.json"), Context())["statusCode"] == 200
    env = {**ENV["LinkerFunction"], "PROVIDER_URL": provider.url}
    linker = load_handler("linker", env, monkeypatch)
    batch = sample("link_batch.json")
    assert linker(batch, Context()) == {"batchItemFailures": []}
    assert provider.requests == 1
    reply = api(sample("connection_status.json"), Context())
    assert reply["statusCode"] == 200 and json.loads(reply["body"])["data"] == "CONNECTED"
    garbage = {**batch["Records"][0], "messageId": "m2", "body": "not an event"}
    batch["Records"].append(garbage)
    assert linker(batch, Context()) == {"batchItemFailures": []}  # checked, and dropped
    assert provider.requests == 1
    provider.stop()
