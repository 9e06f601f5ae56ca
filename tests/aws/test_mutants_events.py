"""Mutation survivors of the outbox relay (events.py), killed here.

Every stream record is judged on its own: one without an event name, without its
``dynamodb`` part or without a new image, or a ``REMOVE``, publishes nothing and is not
a failure; one that cannot be read is a failure named by its own sequence number, with
its reason, and the records after it are still published. The result counts what was
delivered and names each undelivered record with the bus's reason. A
``CustomerCreated`` event occurred when the customer was created.
"""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from toqio_connector.rules.change_events import ChangePublisher

IMAGE = {
    "id": {"S": "c1"},
    "data": {"S": '{"id":"c1","apiKey":"*****","commercialName":"Café Ünïcode"}'},
    "secretArn": {"S": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf"},
    "secretVersionId": {"S": "v1"},
    "createdAt": {"S": "2026-11-24T10:15:30.123Z"},
    "updatedAt": {"S": "2026-11-24T10:15:31.456Z"},
    "version": {"N": "1"},
}


def record(sequence: str, event_name: str | None = "INSERT", image: dict | None = IMAGE):
    raw: dict = {"eventID": sequence, "eventSource": "aws:dynamodb"}
    if event_name is not None:
        raw["eventName"] = event_name
    raw["dynamodb"] = {"SequenceNumber": sequence, "Keys": {"id": IMAGE["id"]}}
    if image is not None:
        raw["dynamodb"]["NewImage"] = image
    return DynamoDBRecord(raw)


class Bus:
    """A bus that refuses the entries whose customer is in ``refuse`` (with a reason)."""

    def __init__(self, refuse: dict[str, str] | None = None) -> None:
        self.refuse = refuse or {}
        self.delivered: list[dict] = []

    def put(self, entries: list[dict]) -> list[str | None]:
        outcomes = []
        for entry in entries:
            reason = self.refuse.get(json.loads(entry["Detail"])["customer"]["id"])
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
