"""Mutation survivors of the outbox relay (events.py), killed here.

Every stream record is judged on its own: one without an event name, without its
``dynamodb`` part or without a new image, or a ``REMOVE``, publishes nothing and is not
a failure; one that cannot be read is a failure named by its own sequence number, with
its reason, and the records after it are still published. The result counts what was
delivered and names each undelivered record with the bus's reason. A
``CustomerCreated`` event occurred when the customer was created. A change that moves
neither the customer's version nor its connection status has no event. An event's
``Detail`` is the customer as stored, compact UTF-8 JSON: a customer at the stored size
limit (64 KiB), whatever its characters, makes an event no larger than that plus its
envelope, so three such events share one PutEvents call (256 KiB).
"""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from toqio_connector.adapters.eventbridge import MAX_BYTES, EventBridgeBus, entry_size
from toqio_connector.edge.stream import stored_change
from toqio_connector.rules.bounds import MAX_STORED_BYTES, stored_size
from toqio_connector.rules.change_events import ChangePublisher as RulePublisher

IMAGE = {
    "id": {"S": "c1"},
    "data": {"S": '{"id":"c1","apiKey":"*****","commercialName":"Café Ünïcode"}'},
    "secretArn": {"S": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf"},
    "secretVersionId": {"S": "v1"},
    "createdAt": {"S": "2026-11-24T10:15:30.123Z"},
    "updatedAt": {"S": "2026-11-24T10:15:31.456Z"},
    "version": {"N": "1"},
}


def record(
    sequence: str,
    event_name: str | None = "INSERT",
    image: dict | None = IMAGE,
    old_image: dict | None = None,
):
    raw: dict = {"eventID": sequence, "eventSource": "aws:dynamodb"}
    if event_name is not None:
        raw["eventName"] = event_name
    raw["dynamodb"] = {"SequenceNumber": sequence, "Keys": {"id": IMAGE["id"]}}
    if image is not None:
        raw["dynamodb"]["NewImage"] = image
    if old_image is not None:
        raw["dynamodb"]["OldImage"] = old_image
    return DynamoDBRecord(raw)


class ChangePublisher(RulePublisher):
    """The rule, handed stream records as the publisher's handler hands them over."""

    def publish(self, records):  # type: ignore[override]
        return super().publish([stored_change(record) for record in records])


class Bus:
    """A bus that refuses the entries whose customer is in ``refuse`` (with a reason)."""

    def __init__(self, refuse: dict[str, str] | None = None) -> None:
        self.refuse = refuse or {}
        self.delivered: list[dict] = []

    def put(self, entries: list[dict]) -> list[str | None]:
        outcomes = []
        for entry in entries:
            detail = json.loads(entry["Detail"])
            customer = detail["customerId"] if "customerId" in detail else detail["customer"]["id"]
            reason = self.refuse.get(customer)
            if reason is None:
                self.delivered.append(entry)
            outcomes.append(reason)
        return outcomes


def test_records_without_an_event_publish_nothing_and_are_not_failures():
    bus = Bus()
    no_dynamodb = DynamoDBRecord({"eventID": "1", "eventName": "INSERT"})
    records = [
        record("1", event_name=None),
        no_dynamodb,
        record("3", image=None),
        record("4", event_name="REMOVE"),
        record("5", event_name="INSERT"),
    ]
    result = ChangePublisher(bus).publish(records)
    assert (result.published, result.failed) == (1, {})
    assert [entry["DetailType"] for entry in bus.delivered] == ["CustomerCreated"]


def test_an_unreadable_record_fails_alone_under_its_own_sequence_number():
    broken = DynamoDBRecord(
        {"eventName": "MODIFY", "dynamodb": {"SequenceNumber": "7", "NewImage": {"id": {"S": "x"}}}}
    )
    bus = Bus()
    result = ChangePublisher(bus).publish([broken, record("8", "MODIFY"), record("9")])
    assert result.failed == {"7": "unreadable record: KeyError"}
    assert result.published == 2
    assert [entry["DetailType"] for entry in bus.delivered] == [
        "CustomerUpdated",
        "CustomerCreated",
    ]


def test_undelivered_events_are_named_with_the_bus_reason_and_delivered_ones_counted():
    other = {**IMAGE, "id": {"S": "c2"}, "data": {"S": '{"id":"c2","apiKey":"*****"}'}}
    records = [record("1"), record("2", image=other), record("3", "MODIFY")]
    result = ChangePublisher(Bus(refuse={"c2": "ThrottlingException"})).publish(records)
    assert result.failed == {"2": "ThrottlingException"}
    assert result.published == 2


def test_a_created_event_occurred_at_creation_an_updated_one_at_its_update():
    bus = Bus()
    ChangePublisher(bus).publish([record("1", "INSERT"), record("2", "MODIFY")])
    created, updated = (json.loads(entry["Detail"]) for entry in bus.delivered)
    assert created["occurredAt"] == "2026-11-24T10:15:30.123Z"
    assert updated["occurredAt"] == "2026-11-24T10:15:31.456Z"
    assert created["customer"]["commercialName"] == "Café Ünïcode"


CONNECTED = {
    "connectionStatus": {"S": "CONNECTED"},
    "connectionReason": {"S": "CREDENTIALS_ACCEPTED"},
    "connectionSecretVersionId": {"S": "v1"},
    "connectionVersion": {"N": "1"},
    "connectionCheckedAt": {"S": "2026-11-24T10:15:40.000Z"},
}


def test_a_change_of_neither_version_nor_connection_status_publishes_nothing():
    """Only a new ``version`` (CustomerUpdated) or a new connection status
    (CustomerConnectionChanged) is an event; any other modification of the item is none."""
    linked = {**IMAGE, **CONNECTED}
    touched = {**linked, "bookkeeping": {"S": "x"}}
    bus = Bus()
    records = [
        record("1", "MODIFY", image=touched, old_image=linked),
        record("2", "MODIFY", image=IMAGE, old_image=linked),
        record("3", "MODIFY", image=linked, old_image=IMAGE),
    ]
    result = ChangePublisher(bus).publish(records)
    assert (result.published, result.failed) == (1, {})
    assert [entry["DetailType"] for entry in bus.delivered] == ["CustomerConnectionChanged"]


class PutEvents:
    """An EventBridge client that accepts every entry and records each PutEvents call."""

    def __init__(self) -> None:
        self.calls: list[list[dict]] = []

    def put_events(self, Entries: list[dict]) -> dict:  # noqa: N803 - boto3's argument name
        self.calls.append(Entries)
        return {"Entries": [{"EventId": str(i)} for i, _ in enumerate(Entries)]}


def test_an_event_is_the_customer_as_stored_compact_utf8_so_three_largest_fit_one_call():
    """EventBridge counts an event's ``Detail`` in UTF-8 bytes, towards 256 KiB per
    entry and per PutEvents call: the Detail is compact UTF-8 JSON, as the customer is
    measured when stored (not ``\\u``-escaped, not spaced), so a customer at the stored
    limit makes an event of that size plus its envelope, and three such share one call."""
    half = MAX_STORED_BYTES // 2 - 100
    data = {"id": "c1", "apiKey": "*****", "name": "é" * (half // 2), "tags": [0] * (half // 2)}
    assert MAX_STORED_BYTES - 300 < stored_size(data) <= MAX_STORED_BYTES - 150
    records = []
    for sequence in ("1", "2", "3"):
        image = {**IMAGE, "data": {"S": json.dumps(data, ensure_ascii=False)}}
        records.append(record(sequence, image=image))
    client = PutEvents()
    result = ChangePublisher(EventBridgeBus("bus", client)).publish(records)
    assert (result.published, result.failed) == (3, {})
    (call,) = client.calls  # one PutEvents call for the three
    for entry in call:
        assert json.loads(entry["Detail"])["customer"]["name"] == data["name"]
        assert entry_size(entry) - stored_size(data) < 512  # the envelope only
    assert sum(entry_size(entry) for entry in call) <= MAX_BYTES
