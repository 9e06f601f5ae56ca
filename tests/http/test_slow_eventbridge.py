"""A slow EventBridge: a ``PutEvents`` that lands, then answers seconds later.

The publisher runs as the local runner runs it (its own process, the template's
environment and Timeout), its EventBridge calls through a proxy in front of the emulator
that forwards each ``PutEvents`` at once (the events land) and holds its answer back.
Must hold: the batch is reported done (the stream shard moves on) and each change is
published once, not once per retry; each event keeps its stream record's id.
"""

from __future__ import annotations

import http.client
import http.server
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from tests.harness.aws import Subscriber, create_stack, stream_batch
from toqio_connector.adapters.aws import EVENTS_TIMEOUTS
from toqio_connector.adapters.dynamodb import DynamoDbCustomerTable
from toqio_connector.models.clock import iso
from toqio_connector.models.customer import StoredCustomer
from toqio_local import moto_fixes, runner
from toqio_local.functions import FunctionPool

# Longer than DynamoDB's read timeout (the publisher's EventBridge one once was that),
# well within EventBridge's own.
SLOW_ANSWER_SECONDS = 3.0


class SlowPutEvents:
    """An HTTP proxy to ``upstream`` whose PutEvents answers come ``delay`` s late."""

    def __init__(self, upstream: str, delay: float) -> None:
        target = urlsplit(upstream)
        proxy = self
        self.put_events = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                upstream_call = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                upstream_call.request("POST", self.path, body, dict(self.headers.items()))
                answer = upstream_call.getresponse()
                payload = answer.read()
                if self.headers.get("X-Amz-Target") == "AWSEvents.PutEvents":
                    proxy.put_events += 1
                    time.sleep(delay)  # landed; the answer is slow
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except OSError:  # the caller gave up waiting
                    pass

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def emulator(monkeypatch) -> Iterator[tuple[int, Any]]:
    from moto.server import ThreadedMotoServer

    moto_fixes.apply()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server.get_host_and_port()[1]
    for name, value in runner.emulator_environment(port).items():
        monkeypatch.setenv(name, value)
    try:
        yield port, create_stack(boto3.session.Session())
    finally:
        server.stop()


def customer(customer_id: str, secret_arn: str) -> StoredCustomer:
    now = iso(datetime.now(UTC))
    return StoredCustomer(
        id=customer_id,
        data={"id": customer_id, "apiKey": "*****"},
        secretArn=secret_arn,
        secretVersionId="v1",
        createdAt=now,
        updatedAt=now,
    )


def test_a_put_events_answered_late_is_sent_once_and_the_shard_moves_on(emulator):
    port, stack = emulator
    assert EVENTS_TIMEOUTS.read > SLOW_ANSWER_SECONDS
    table = DynamoDbCustomerTable(stack.refs["CustomersTable"], boto3.client("dynamodb"))
    for customer_id in ("c1", "c2", "c3"):
        arn = f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:x/{customer_id}-AbCdEf"
        table.put_new(customer(customer_id, arn))
    subscriber = Subscriber(
        boto3.client("sqs"), boto3.client("events"), stack.refs["ConnectorEventBus"]
    )
    batch = stream_batch(stack)
    assert len(batch["Records"]) == 3

    slow = SlowPutEvents(f"http://127.0.0.1:{port}", SLOW_ANSWER_SECONDS)
    spec = runner.function_spec(stack, "PublisherFunction")
    spec.environment.update(runner.emulator_environment(port))
    spec.environment["AWS_ENDPOINT_URL_EVENTBRIDGE"] = slow.url
    pool = FunctionPool(spec, max_workers=1)
    try:
        assert pool.invoke(batch) == {"batchItemFailures": []}  # the shard moves on
    finally:
        pool.close()
        slow.close()
    assert slow.put_events == 1  # not once per retry
    events = subscriber.events()
    assert sorted(event["detail"]["customer"]["id"] for event in events) == ["c1", "c2", "c3"]
    assert sorted(event["detail"]["eventId"] for event in events) == sorted(
        record["eventID"] for record in batch["Records"]
    )


def test_the_publisher_s_timeout_holds_a_slow_attempt_and_its_retry():
    from tests.harness.registries import TEMPLATE
    from toqio_connector.adapters.aws import RESERVE_SECONDS
    from toqio_local.template import ResolvedTemplate

    timeout = float(
        ResolvedTemplate.read(TEMPLATE).function_property("PublisherFunction", "Timeout")
    )
    first_backoff = 1.0  # botocore's longest before a second attempt
    assert 2 * EVENTS_TIMEOUTS.attempt + first_backoff + RESERVE_SECONDS <= timeout
