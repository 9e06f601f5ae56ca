"""Feeding the table's stream to the publisher, as Lambda's event source mapping does.

Batches of up to ``batch_size`` records per shard, in order; a batch whose records are
reported in ``batchItemFailures`` (or whose invocation failed) is retried from the first
failed record, and after ``max_retries`` the remaining records are reported to the
on-failure queue and skipped, so one bad record never blocks the stream.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from toqio_local.functions import FunctionCrashed, FunctionError, FunctionPool


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """GetRecords' shape (boto3 parses dates) -> the JSON Lambda hands the function."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": change, "eventSourceARN": stream_arn}


class StreamRelay(threading.Thread):
    def __init__(
        self,
        session: Any,
        stream_arn: str,
        publisher: FunctionPool,
        *,
        batch_size: int = 10,
        max_retries: int = 20,
        failure_queue_url: str | None = None,
        starting_position: str = "TRIM_HORIZON",
        poll_seconds: float = 0.2,
        backoff_seconds: float = 0.2,
    ) -> None:
        super().__init__(name="stream-relay", daemon=True)
        self.streams = session.client("dynamodbstreams")
        self.sqs = session.client("sqs")
        self.stream_arn = stream_arn
        self.publisher = publisher
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.failure_queue_url = failure_queue_url
        self.starting_position = starting_position
        self.poll_seconds = poll_seconds
        self.backoff_seconds = backoff_seconds
        self.stopping = threading.Event()
        self._iterators: dict[str, str | None] = {}
        self._buffers: dict[str, list[dict[str, Any]]] = {}
        self._retries: dict[str, int] = {}

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = self.poll_once()
            except Exception as exc:  # noqa: BLE001 - keep relaying; report and go on
                print(f"[stream] poll failed: {type(exc).__name__}", flush=True)
                busy = False
            if not busy:
                self.stopping.wait(self.poll_seconds)

    def _discover_shards(self) -> None:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn,
                    ShardId=shard_id,
                    ShardIteratorType=self.starting_position,
                )["ShardIterator"]
                self._buffers[shard_id] = []
                self._retries[shard_id] = 0

    def poll_once(self) -> bool:
        """Read new records and deliver one batch per shard; True if anything was done."""
        self._discover_shards()
        busy = False
        for shard_id, iterator in list(self._iterators.items()):
            buffer = self._buffers[shard_id]
            if len(buffer) < self.batch_size and iterator:
                response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                self._iterators[shard_id] = response.get("NextShardIterator")
                buffer.extend(
                    lambda_record(record, self.stream_arn) for record in response.get("Records", [])
                )
            if buffer:
                self._deliver(shard_id, buffer)
                busy = True
        return busy

    def _deliver(self, shard_id: str, buffer: list[dict[str, Any]]) -> None:
        batch = buffer[: self.batch_size]
        try:
            result = self.publisher.invoke({"Records": batch}) or {}
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        except (FunctionError, FunctionCrashed) as exc:
            print(f"[stream] publisher failed: {type(exc).__name__}", flush=True)
            failed = {record["dynamodb"]["SequenceNumber"] for record in batch}
        done = next(
            (i for i, record in enumerate(batch) if record["dynamodb"]["SequenceNumber"] in failed),
            len(batch),
        )
        del buffer[:done]
        if done == len(batch):
            self._retries[shard_id] = 0
            return
        self._retries[shard_id] += 1
        if 0 <= self.max_retries < self._retries[shard_id]:  # -1: until it ages out
            self._give_up(shard_id, buffer[: len(batch) - done])
            del buffer[: len(batch) - done]
            self._retries[shard_id] = 0
        else:
            self.stopping.wait(min(5.0, self.backoff_seconds * 2 ** self._retries[shard_id]))

    def _give_up(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        """Like Lambda's on-failure destination: metadata of the skipped records."""
        print(f"[stream] {len(records)} record(s) sent to the failure queue", flush=True)
        if not self.failure_queue_url:
            return
        message = {
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "streamArn": self.stream_arn,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "batchSize": len(records),
            }
        }
        self.sqs.send_message(QueueUrl=self.failure_queue_url, MessageBody=json.dumps(message))
