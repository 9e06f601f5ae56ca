"""The runner's event source mapping: batches in order, retries from the first failed
record, and after the last retry sends the records to the on-failure queue instead of
blocking the stream (as Lambda does with the template's DestinationConfig)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from tests.harness.aws import FUNCTION_ENV, create_stack, set_aws_env
from tests.harness.handlers import call, load_handler
from toqio_local.functions import FunctionError
from toqio_local.streams import StreamRelay

ENV = FUNCTION_ENV


class FakePublisher:
    """Stands in for the publisher's containers: fails the records it is told to."""

    def __init__(self, failing: set[str] | None = None, crash: bool = False) -> None:
        self.failing = failing or set()
        self.crash = crash
        self.batches: list[list[str]] = []

    def invoke(self, event):
        ids = [r["dynamodb"]["Keys"]["id"]["S"] for r in event["Records"]]
        self.batches.append(ids)
        if self.crash:
            raise FunctionError("RuntimeError", "boom")
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
                for r in event["Records"]
                if r["dynamodb"]["Keys"]["id"]["S"] in self.failing
            ]
        }


@pytest.fixture
def stack(monkeypatch):
    set_aws_env(monkeypatch)
    with mock_aws():
        stack = create_stack()
        api = load_handler("customers_api", ENV, monkeypatch)
        for n in range(3):
            call(api, "POST", "/customers", {"id": f"r{n}", "apiKey": "k"}, customer_id=f"r{n}")
        yield stack


def relay(stack, publisher, **kwargs) -> StreamRelay:
    return StreamRelay(
        boto3.session.Session(),
        stack.attributes[("CustomersTable", "StreamArn")],
        publisher,
        failure_queue_url=stack.refs["PublisherFailureQueue"],
        backoff_seconds=0,
        **kwargs,
    )


def drain(relay: StreamRelay, rounds: int = 10) -> None:
    for _ in range(rounds):
        relay.poll_once()


def failure_messages(stack) -> list[dict]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=stack.refs["PublisherFailureQueue"], MaxNumberOfMessages=10
    )
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_batches_are_delivered_in_order_once(stack):
    publisher = FakePublisher()
    drain(relay(stack, publisher, batch_size=2))
    assert publisher.batches == [["r0", "r1"], ["r2"]]
    assert failure_messages(stack) == []


def test_a_failed_record_is_redelivered_from_itself(stack):
    publisher = FakePublisher(failing={"r1"})
    r = relay(stack, publisher, batch_size=10, max_retries=3)
    r.poll_once()
    publisher.failing.clear()  # the bus recovers
    drain(r)
    assert publisher.batches == [["r0", "r1", "r2"], ["r1", "r2"]]
    assert failure_messages(stack) == []


def test_a_record_that_keeps_failing_ends_in_the_failure_queue(stack):
    publisher = FakePublisher(failing={"r1"})
    drain(relay(stack, publisher, batch_size=10, max_retries=2))
    (message,) = failure_messages(stack)
    info = message["DDBStreamBatchInfo"]
    assert info["batchSize"] == 2
    assert info["streamArn"] == stack.attributes[("CustomersTable", "StreamArn")]
    assert publisher.batches[:3] == [["r0", "r1", "r2"], ["r1", "r2"], ["r1", "r2"]]


def test_a_crashing_publisher_does_not_block_the_stream_forever(stack):
    publisher = FakePublisher(crash=True)
    drain(relay(stack, publisher, batch_size=10, max_retries=1), rounds=5)
    assert len(failure_messages(stack)) == 1
    assert len(publisher.batches) == 2  # the first delivery and one retry
