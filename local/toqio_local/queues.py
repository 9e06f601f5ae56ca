"""Feeding an SQS queue to a function, as Lambda's SQS event source mapping does.

Batches of up to ``batch_size`` messages; the messages a function reports in
``batchItemFailures`` (all of them, if the invocation failed) are left on the queue and
come back after ``retry_seconds`` (the deployed queue's visibility timeout is longer:
a local run retries sooner); the others are deleted. The queue's redrive policy moves
a message that keeps failing to its dead-letter queue, as deployed.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

from toqio_local.functions import FunctionCrashed, FunctionError, FunctionPool


def lambda_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A message attribute as ReceiveMessage gives it -> as Lambda gives it (binary in
    base64)."""
    attribute: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    return attribute


def lambda_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """ReceiveMessage's shape -> the record Lambda hands the function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: lambda_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def reported_failures(result: Any, every: set[str]) -> set[str]:
    """The message ids a function's answer reports failed; as Lambda does, an answer
    that is not a valid partial batch response (an unknown or missing id) fails all."""
    if not isinstance(result, dict) or not result.get("batchItemFailures"):
        return set()
    try:
        failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
    except (TypeError, KeyError):
        return every
    return failed if failed <= every else every


class QueueRelay(threading.Thread):
    """Long-polls ``queue_url`` and hands each batch to ``function`` (a daemon thread;
    ``stop()`` returns at once, and the thread ends within ``wait_seconds`` plus the
    invocation under way)."""

    def __init__(
        self,
        session: Any,
        queue_url: str,
        function: FunctionPool,
        *,
        batch_size: int = 10,
        retry_seconds: int = 5,
        wait_seconds: int = 1,
    ) -> None:
        super().__init__(name="queue-relay", daemon=True)
        self.sqs = session.client("sqs")
        self.queue_url = queue_url
        self.function = function
        self.batch_size = min(batch_size, 10)
        self.retry_seconds = retry_seconds
        self.wait_seconds = wait_seconds
        self.region = session.region_name or "eu-west-1"
        self.queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.stopping = threading.Event()

    def stop(self) -> None:
        """Ask the thread to end after the batch under way (failed messages come back)."""
        self.stopping.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # noqa: BLE001 - keep relaying; report and go on
                if not self.stopping.is_set():  # the emulator stopping is no news
                    print(f"[queue] poll failed: {type(exc).__name__}", flush=True)
                self.stopping.wait(1.0)

    def poll_once(self) -> int:
        """Deliver one batch; how many messages it held."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if messages and self.stopping.is_set():  # the functions are going: hand them back
            self._release(messages, 0)
        elif messages:
            self._deliver(messages)
        return len(messages)

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        records = [lambda_record(m, self.queue_arn, self.region) for m in messages]
        every = {m["MessageId"] for m in messages}
        try:
            failed = reported_failures(self.function.invoke({"Records": records}), every)
        except (FunctionError, FunctionCrashed) as exc:
            print(f"[queue] {self.function.spec.name} failed: {type(exc).__name__}", flush=True)
            failed = every
        self._release([m for m in messages if m["MessageId"] in failed], self.retry_seconds)
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def _release(self, messages: list[dict[str, Any]], seconds: int) -> None:
        """Leave ``messages`` on the queue, visible again in ``seconds``."""
        for message in messages:
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=seconds,
            )
