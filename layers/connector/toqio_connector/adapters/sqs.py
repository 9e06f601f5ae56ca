"""SQS: the linker's queue, for an operator's relink requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from toqio_connector.adapters.aws import aws_errors
from toqio_connector.models.change import LinkHint
from toqio_connector.models.clock import iso

MAX_ENTRIES = 10  # SendMessageBatch takes at most 10
RELINK_SOURCE = "toqio.connector.admin"


def hint_message(hint: LinkHint, now: datetime) -> dict[str, Any]:
    """An operator's hint, shaped as the events the linker reads (an EventBridge event,
    as its dead-letter queue would show it). The request itself is in the item."""
    return {
        "version": "0",
        "id": str(uuid4()),
        "source": RELINK_SOURCE,
        "detail-type": "LinkRequested",
        "time": iso(now),
        "detail": {"customerId": hint.customer_id},
    }


class SqsLinkQueue:
    """``ports.LinkQueue`` on SQS."""

    def __init__(self, queue_url: str, sqs: Any) -> None:
        self.url = queue_url
        self._client = sqs

    def send(self, hints: list[LinkHint]) -> None:
        """Send every hint; RuntimeError naming how many were not accepted."""
        now = datetime.now(UTC)
        messages = [hint_message(hint, now) for hint in hints]
        for start in range(0, len(messages), MAX_ENTRIES):
            batch = messages[start : start + MAX_ENTRIES]
            with aws_errors():
                answer = self._client.send_message_batch(
                    QueueUrl=self.url,
                    Entries=[
                        {"Id": str(i), "MessageBody": json.dumps(m, separators=(",", ":"))}
                        for i, m in enumerate(batch)
                    ],
                )
            if answer.get("Failed"):
                raise RuntimeError(f"{len(answer['Failed'])} relink request(s) not accepted")
