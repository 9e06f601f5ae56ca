"""The publisher: the table's stream -> one event per stored change on the bus (section 7).

Customers are created through the API handler; the stream records moto keeps are read
back with the DynamoDB Streams API and given to the publisher as Lambda would; a
subscriber of our own (a rule on the bus -> SQS) receives what a real subscriber would.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.harness.aws import TABLE
from tests.harness.customers import full_customer, secret_values_of
from tests.harness.handlers import DATE
from toqio_connector.adapters import aws


def created(api, *customer_ids: str) -> dict[str, dict]:
    """Create customers through the API; their Find data by id."""
    found = {}
    for customer_id in customer_ids:
        reply = api.create(full_customer(customer_id))
        assert reply.status == 200, reply.body
        found[customer_id] = api.find(customer_id).body["data"]
    return found


def sequence(record: dict) -> str:
    return record["dynamodb"]["SequenceNumber"]


def customer_of(record: dict) -> str:
    return record["dynamodb"]["Keys"]["id"]["S"]


# --- CustomerCreated -----------------------------------------------------------------------


def test_a_created_customer_becomes_one_customer_created_event(api, stack, publisher, subscriber):
    data = created(api, "c1")["c1"]
    records = stack.stream_records()
    assert [r["eventName"] for r in records] == ["INSERT"]

    assert publisher(records) == {"batchItemFailures": []}

    (event,) = subscriber.events()
    assert event["source"] == "toqio.connector"
    assert event["detail-type"] == "CustomerCreated"
    (item,) = stack.raw_items()
    (secret,) = stack.secret_list()
    detail = event["detail"]
    assert set(detail) == {
        "eventVersion", "eventId", "customer", "secretArn", "secretVersionId", "version",
        "occurredAt",
    }  # fmt: skip
    assert detail["eventId"] == records[0]["eventID"]  # the stream record's own id
    assert detail["version"] == 1
    assert detail["secretVersionId"] == item["secretVersionId"]["S"]
    assert detail["eventVersion"] == "1"
    assert detail["customer"] == data
    assert detail["secretArn"] == secret["ARN"]
    assert secret["ARN"] in json.dumps(item)
    assert DATE.match(detail["occurredAt"]), detail["occurredAt"]


def test_a_redelivered_record_republishes_the_same_event_id(api, stack, publisher, subscriber):
    """At least once: a stream record delivered again becomes the same event again, with
    the same ``eventId``, by which subscribers drop the duplicate."""
    created(api, "c1")
    created(api, "c2")
    records = stack.stream_records()
    publisher(records)
    publisher(records)
    ids = [event["detail"]["eventId"] for event in subscriber.events()]
    assert len(ids) == 4 and len(set(ids)) == 2
    assert sorted(set(ids)) == sorted(record["eventID"] for record in records)


def test_the_event_holds_no_secret_value(api, stack, publisher, subscriber):
    body = full_customer("c1")
    api.create(body)
    assert publisher(stack.stream_records()) == {"batchItemFailures": []}
    assert len(subscriber.events()) == 1
    (raw,) = subscriber.raw
    for value in secret_values_of(body):
        assert value not in raw and value[:8] not in raw


def test_replays_conflicts_and_refusals_store_no_change_so_no_event(
    api, stack, publisher, subscriber
):
    api.create(full_customer("c1"))
    api.create(full_customer("c1"))  # replay
    api.create(full_customer("c1", apiKey="different"))  # conflict
    api.create(full_customer("c2"), customer="c3")  # forbidden
    api.create({"id": "c4", "apiKey": 4})  # invalid
    records = stack.stream_records()
    assert len(records) == 1

    assert publisher(records) == {"batchItemFailures": []}
    assert [e["detail"]["customer"]["id"] for e in subscriber.events()] == ["c1"]


def test_a_batch_of_customers_each_get_their_event(api, stack, publisher, subscriber):
    ids = [f"cust-{n:02d}" for n in range(12)]  # more than one PutEvents call holds
    data = created(api, *ids)
    assert publisher(stack.stream_records()) == {"batchItemFailures": []}
    events = subscriber.events()
    assert sorted(e["detail"]["customer"]["id"] for e in events) == ids
    for event in events:
        assert event["detail-type"] == "CustomerCreated"
        assert event["detail"]["customer"] == data[event["detail"]["customer"]["id"]]


def test_remove_records_produce_no_event(api, stack, publisher, subscriber):
    created(api, "c1")
    stack.dynamodb.delete_item(TableName=TABLE, Key={"id": {"S": "c1"}})
    records = stack.stream_records()
    removes = [r for r in records if r["eventName"] == "REMOVE"]
    assert len(removes) == 1

    assert publisher(removes) == {"batchItemFailures": []}
    assert subscriber.events() == []


def test_a_modified_customer_becomes_customer_updated(api, stack, publisher, subscriber):
    created(api, "c1")
    (item,) = stack.raw_items()
    # a stored change: every write of the connector counts it in ``version``
    item = {**item, "updatedAt": {"S": "2030-01-01T00:00:00.000Z"}, "version": {"N": "2"}}
    stack.dynamodb.put_item(TableName=TABLE, Item=item)
    records = stack.stream_records()
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]

    assert publisher(records[1:]) == {"batchItemFailures": []}
    (event,) = subscriber.events()
    assert event["detail-type"] == "CustomerUpdated"
    assert event["detail"]["customer"] == api.find("c1").body["data"]
    assert event["detail"]["version"] == 2


def test_a_write_that_changes_neither_version_nor_status_emits_nothing(
    api, stack, publisher, subscriber
):
    created(api, "c1")
    (item,) = stack.raw_items()
    stack.dynamodb.put_item(TableName=TABLE, Item={**item, "unrelated": {"S": "x"}})
    records = stack.stream_records()
    assert publisher(records[1:]) == {"batchItemFailures": []}
    assert subscriber.events() == []


# --- partial failure -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        ("ThrottlingException", 400),
        ("AccessDeniedException", 400),
        ("InternalFailure", 500),
    ],
)
def test_put_events_failing_as_a_whole_reports_every_record(
    api, stack, publisher, subscriber, monkeypatch, error
):
    created(api, "c1", "c2", "c3")
    records = stack.stream_records()
    code, status = error

    def failing(**_kwargs):
        raise ClientError(
            {
                "Error": {"Code": code, "Message": "nope"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            "PutEvents",
        )

    monkeypatch.setattr(aws.client("events"), "put_events", failing)
    result = publisher(records)
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == sorted(
        sequence(r) for r in records
    )
    assert subscriber.events() == []


def test_put_events_failing_per_entry_reports_exactly_those_records(
    api, stack, publisher, subscriber, monkeypatch
):
    created(api, "c1", "c2", "c3", "c4")
    records = stack.stream_records()
    client = aws.client("events")
    real = client.put_events
    refused = {"c2", "c4"}

    def partly(**kwargs):
        entries = kwargs["Entries"]
        keep = [e for e in entries if json.loads(e["Detail"])["customer"]["id"] not in refused]
        delivered = iter(real(**{**kwargs, "Entries": keep})["Entries"]) if keep else iter(())
        results = []
        for entry in entries:
            if json.loads(entry["Detail"])["customer"]["id"] in refused:
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
            else:
                results.append(next(delivered))
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}

    monkeypatch.setattr(client, "put_events", partly)
    result = publisher(records)
    expected = sorted(sequence(r) for r in records if customer_of(r) in refused)
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == expected
    assert sorted(e["detail"]["customer"]["id"] for e in subscriber.events()) == ["c1", "c3"]

    # Redelivered, the failed records go through: each customer has its event once.
    monkeypatch.setattr(client, "put_events", real)
    again = [r for r in records if customer_of(r) in refused]
    assert publisher(again) == {"batchItemFailures": []}
    assert sorted(e["detail"]["customer"]["id"] for e in subscriber.events()) == [
        "c1",
        "c2",
        "c3",
        "c4",
    ]


def test_remove_records_are_never_reported_as_failures(
    api, stack, publisher, subscriber, monkeypatch
):
    created(api, "c1")
    stack.dynamodb.delete_item(TableName=TABLE, Key={"id": {"S": "c1"}})
    records = stack.stream_records()

    def failing(**_kwargs):
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "x"}, "ResponseMetadata": {}},
            "PutEvents",
        )

    monkeypatch.setattr(aws.client("events"), "put_events", failing)
    result = publisher(records)
    insert = [sequence(r) for r in records if r["eventName"] == "INSERT"]
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == insert
