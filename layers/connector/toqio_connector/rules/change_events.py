"""Change events: a stored change (a DynamoDB stream record) becomes one EventBridge event.

This is the outbox's relay. The stream holds exactly the changes that were stored, so
an event is never emitted for a change that was not; a change whose event could not be
delivered is reported back for redelivery, so none is lost (at least once).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from toqio_connector.models.customer import Connection, StoredCustomer
from toqio_connector.ports import EventBus

SOURCE = "toqio.connector"
EVENT_VERSION = "1"
CREATED, UPDATED, CONNECTION_CHANGED = (
    "CustomerCreated",
    "CustomerUpdated",
    "CustomerConnectionChanged",
)


def _detail_type(event_name: str, old: StoredCustomer | None, new: StoredCustomer) -> str | None:
    """Which event a stored change is: a new customer, a changed customer (a new
    ``version``), or a new connection status alone; None for anything else."""
    if event_name == "INSERT":
        return CREATED
    if event_name != "MODIFY":
        return None
    if old is None or new.version != old.version:  # no old image: a customer change
        return UPDATED
    if new.connection is not None and new.connection != old.connection:
        return CONNECTION_CHANGED
    return None


def event_id(record: DynamoDBRecord) -> str:
    """The event's id, the same at every delivery of its stream record (subscribers drop
    duplicates by it): the record's own id, unique in the stream."""
    if record.event_id:
        return str(record.event_id)
    return f"seq-{record.dynamodb.sequence_number if record.dynamodb else ''}"


def customer_detail(customer: StoredCustomer, detail_type: str, eventid: str) -> dict[str, Any]:
    """``detail`` of CustomerCreated and CustomerUpdated."""
    return {
        "eventVersion": EVENT_VERSION,
        "eventId": eventid,
        "customer": customer.view(),
        "secretArn": customer.secretArn,
        "secretVersionId": customer.secretVersionId,
        "version": customer.version,
        "occurredAt": customer.createdAt if detail_type == CREATED else customer.updatedAt,
    }


def connection_detail(customer_id: str, connection: Connection, eventid: str) -> dict[str, Any]:
    """``detail`` of CustomerConnectionChanged: the status, never a credential."""
    return {
        "eventVersion": EVENT_VERSION,
        "eventId": eventid,
        "customerId": customer_id,
        "status": connection.status,
        "reason": connection.reason,
        "version": connection.version,
        "checkedAt": connection.checkedAt,
    }


def change_event(record: DynamoDBRecord) -> dict[str, Any] | None:
    """The PutEvents entry for a stream record, or None if the change has no event."""
    event_name = record.event_name.name if record.event_name else ""
    if record.dynamodb is None or not record.dynamodb.new_image:
        return None
    new = StoredCustomer.from_record(record.dynamodb.new_image)
    old_image = record.dynamodb.old_image
    old = StoredCustomer.from_record(old_image) if old_image else None
    detail_type = _detail_type(event_name, old, new)
    if detail_type is None:
        return None
    if detail_type == CONNECTION_CHANGED and new.connection is not None:
        detail = connection_detail(new.id, new.connection, event_id(record))
    else:
        detail = customer_detail(new, detail_type, event_id(record))
    return {
        "Source": SOURCE,
        "DetailType": detail_type,
        "Detail": json.dumps(detail, ensure_ascii=False, separators=(",", ":")),
        "Resources": [new.secretArn],
    }


@dataclass
class PublishResult:
    published: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # sequence number -> reason


class ChangePublisher:
    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def publish(self, records: Sequence[DynamoDBRecord]) -> PublishResult:
        """Publish the records' events; which were not delivered, and why."""
        failed: dict[str, str] = {}
        pending: list[tuple[str, dict[str, Any]]] = []
        for record in records:
            sequence = record.dynamodb.sequence_number if record.dynamodb else None
            try:
                entry = change_event(record)
            except Exception as exc:  # noqa: BLE001 - a malformed record must not block others
                failed[str(sequence)] = f"unreadable record: {type(exc).__name__}"
                continue
            if entry is not None:
                pending.append((str(sequence), entry))
        outcomes = self.bus.put([entry for _, entry in pending])
        for (sequence, _), reason in zip(pending, outcomes, strict=True):
            if reason is not None:
                failed[sequence] = reason
        return PublishResult(published=outcomes.count(None), failed=failed)
