"""SQS: the linker's queue, for an operator's relink requests."""

from __future__ import annotations

import json
from typing import Any

from toqio_connector.adapters.aws import aws_errors

MAX_ENTRIES = 10  # SendMessageBatch takes at most 10


class SqsLinkQueue:
    """``ports.LinkQueue`` on SQS."""

    def __init__(self, queue_url: str, sqs: Any) -> None:
        self.url = queue_url
        self._client = sqs

    def send(self, messages: list[dict[str, Any]]) -> None:
        """Send every message; RuntimeError naming how many were not accepted."""
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
