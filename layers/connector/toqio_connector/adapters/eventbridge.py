"""EventBridge: PutEvents in as few calls as the service's limits allow."""

from __future__ import annotations

from typing import Any

from toqio_connector.adapters.aws import aws_errors

MAX_ENTRIES = 10  # PutEvents: at most 10 entries...
MAX_BYTES = 256 * 1024  # ...and 256 KiB per call


def entry_size(entry: dict[str, Any]) -> int:
    """PutEvents' own size rule: 14 bytes for Time, plus the UTF-8 text fields."""
    size = 14
    for key in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(key, "")).encode("utf-8"))
    size += sum(len(resource.encode("utf-8")) for resource in entry.get("Resources", ()))
    return size


def chunks(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    batches: list[list[dict[str, Any]]] = []
    batch: list[dict[str, Any]] = []
    batch_bytes = 0
    for entry in entries:
        size = entry_size(entry)
        if batch and (len(batch) == MAX_ENTRIES or batch_bytes + size > MAX_BYTES):
            batches.append(batch)
            batch, batch_bytes = [], 0
        batch.append(entry)
        batch_bytes += size
    if batch:
        batches.append(batch)
    return batches


class EventBridgeBus:
    """The bus (``ports.EventBus``) on EventBridge."""

    def __init__(self, bus_name: str, events: Any) -> None:
        self.name = bus_name
        self._client = events

    def put(self, entries: list[dict[str, Any]]) -> list[str | None]:
        """Send entries (without EventBusName); per entry, None if delivered, else why not.

        A call that fails as a whole marks its entries as not delivered rather than
        raising, so the caller can report exactly those records for redelivery.
        """
        outcomes: list[str | None] = []
        for batch in chunks(entries):
            try:
                with aws_errors():
                    response = self._client.put_events(
                        Entries=[{**entry, "EventBusName": self.name} for entry in batch]
                    )
            except Exception as exc:  # noqa: BLE001 - the records are retried, not lost
                reason = getattr(exc, "cause", "") or type(exc).__name__
                outcomes.extend(reason for _ in batch)
                continue
            outcomes.extend(
                None if "EventId" in result else str(result.get("ErrorCode") or "Failed")
                for result in response["Entries"]
            )
        return outcomes
