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

from toqio_connector.models.customer import StoredCustomer
from toqio_connector.ports import EventBus

SOURCE = "toqio.connector"
EVENT_VERSION = "1"
DETAIL_TYPES = {"INSERT": "CustomerCreated", "MODIFY": "CustomerUpdated"}


def change_event(record: DynamoDBRecord) -> dict[str, Any] | None:
    """The PutEvents entry for a stream record, or None if the change has no event."""
    event_name = record.event_name.name if record.event_name else ""
    detail_type = DETAIL_TYPES.get(event_name)
    if detail_type is None or record.dynamodb is None or not record.dynamodb.new_image:
        return None
    customer = StoredCustomer.from_record(record.dynamodb.new_image)
    detail = {
        "eventVersion": EVENT_VERSION,
        "customer": customer.view(),
        "secretArn": customer.secretArn,
        "occurredAt": customer.createdAt
        if detail_type == "CustomerCreated"
        else customer.updatedAt,
    }
    return {
        "Source": SOURCE,
        "DetailType": detail_type,
        "Detail": json.dumps(detail, ensure_ascii=False, separators=(",", ":")),
        "Resources": [customer.secretArn],
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
