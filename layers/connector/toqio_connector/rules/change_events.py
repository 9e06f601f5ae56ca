"""Change events: a stored change (from the table's change log) becomes one event on the bus.

This is the outbox's relay. The stream holds exactly the changes that were stored, so
an event is never emitted for a change that was not; a change whose event could not be
delivered is reported back for redelivery, so none is lost (at least once).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from toqio_connector.models.change import StoredChange
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


def change_event(change: StoredChange) -> dict[str, Any] | None:
    """The PutEvents entry for a stored change, or None if the change has no event. Its
    ``eventId`` is the change's own id, so each delivery of it makes the same event."""
    if not change.new:
        return None
    new = StoredCustomer.from_record(change.new)
    old = StoredCustomer.from_record(change.old) if change.old else None
    detail_type = _detail_type(change.kind, old, new)
    if detail_type is None:
        return None
    if detail_type == CONNECTION_CHANGED and new.connection is not None:
        detail = connection_detail(new.id, new.connection, change.change_id)
    else:
        detail = customer_detail(new, detail_type, change.change_id)
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

    def publish(self, changes: Sequence[StoredChange]) -> PublishResult:
        """Publish the changes' events; which were not delivered (by sequence), and why."""
        failed: dict[str, str] = {}
        pending: list[tuple[str, dict[str, Any]]] = []
        for change in changes:
            if change.unreadable:
                failed[change.sequence] = f"unreadable record: {change.unreadable}"
                continue
            try:
                entry = change_event(change)
            except Exception as exc:  # noqa: BLE001 - a malformed change must not block others
                failed[change.sequence] = f"unreadable record: {type(exc).__name__}"
                continue
            if entry is not None:
                pending.append((change.sequence, entry))
        outcomes = self.bus.put([entry for _, entry in pending])
        for (sequence, _), reason in zip(pending, outcomes, strict=True):
            if reason is not None:
                failed[sequence] = reason
        return PublishResult(published=outcomes.count(None), failed=failed)
