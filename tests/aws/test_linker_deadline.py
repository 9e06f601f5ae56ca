"""The linker keeps to its invocation's time: each provider call gets what is left (less
what storing its outcome takes), a message left too little is retried without asking
the provider, and the batch's answer is always given.

Against a provider that accepts connections and never answers (a black hole), with a
Lambda context counting down from a few seconds: the batch comes back whole as partial
failures, the provider asked once, nothing stored within the retry window; past it,
the one customer asked is FAILED (PROVIDER_UNREACHABLE, which is true: it did not
answer), the ones not asked are left for their redelivery.
"""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from tests.aws.test_event_samples import ENV
from tests.harness.aws import TABLE, create_stack, customer_table, set_aws_env
from tests.harness.customers import full_customer
from tests.harness.handlers import load_handler
from tests.http.test_timeouts import Context, SilentEndpoint
from toqio_connector.adapters.aws import LAST_CALL_SECONDS
from toqio_connector.rules.linking import SHORTEST_CALL_SECONDS

CUSTOMERS = ("c1", "c2", "c3")


@pytest.fixture
def black_hole(monkeypatch):
    set_aws_env(monkeypatch)
    endpoint = SilentEndpoint()
    with mock_aws():
        create_stack()
        yield endpoint
    endpoint.close()


def batch() -> dict:
    records = [
        {
            "messageId": f"m-{customer_id}",
            "receiptHandle": "r",
            "body": json.dumps({"detail": {"customerId": customer_id}}),
            "attributes": {"ApproximateReceiveCount": "1"},
            "eventSource": "aws:sqs",
        }
        for customer_id in CUSTOMERS
    ]
    return {"Records": records}


def create_customers(monkeypatch, updated_at: str | None = None) -> None:
    api = load_handler("customers_api", ENV["CustomersApiFunction"], monkeypatch)
    from tests.harness.handlers import api_event

    for customer_id in CUSTOMERS:
        event = api_event("POST", "/customers", full_customer(customer_id), customer_id)
        assert api(event, Context(10))["statusCode"] == 200
        if updated_at:
            boto3.client("dynamodb").update_item(
                TableName=TABLE,
                Key={"id": {"S": customer_id}},
                UpdateExpression="SET updatedAt = :t",
                ExpressionAttributeValues={":t": {"S": updated_at}},
            )


def linker(black_hole, monkeypatch, window: int = 3600):
    env = {
        **ENV["LinkerFunction"],
        "PROVIDER_ADAPTER": "sandbox",
        "PROVIDER_URL": black_hole.url,
        "LINK_RETRY_WINDOW_SECONDS": str(window),
    }
    return load_handler("linker", env, monkeypatch)


def failed_ids(answer: dict) -> list[str]:
    return sorted(item["itemIdentifier"] for item in answer["batchItemFailures"])


def test_a_black_hole_costs_one_call_and_the_batch_is_answered_whole(black_hole, monkeypatch):
    create_customers(monkeypatch)
    handler = linker(black_hole, monkeypatch)
    # Time for one call (of about 4 s) and the write after it; not for a second call.
    answer = handler(batch(), Context(SHORTEST_CALL_SECONDS + LAST_CALL_SECONDS + 3))
    assert failed_ids(answer) == ["m-c1", "m-c2", "m-c3"]  # all come back, none lost
    assert len(black_hole.connections) == 1  # the others were not started
    assert all(customer_table().get(c).connection is None for c in CUSTOMERS)


def test_past_the_window_the_customer_asked_is_failed_the_others_wait(black_hole, monkeypatch):
    create_customers(monkeypatch, updated_at="2026-01-01T00:00:00.000Z")
    handler = linker(black_hole, monkeypatch, window=60)
    answer = handler(batch(), Context(SHORTEST_CALL_SECONDS + LAST_CALL_SECONDS + 3))
    assert failed_ids(answer) == ["m-c2", "m-c3"]
    first = customer_table().get("c1").connection
    assert (first.status, first.reason) == ("FAILED", "PROVIDER_UNREACHABLE")
    assert [customer_table().get(c).connection for c in ("c2", "c3")] == [None, None]
    assert len(black_hole.connections) == 1
