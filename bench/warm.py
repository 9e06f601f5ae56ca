"""Warm figures, in this process, against the AWS emulator (moto's threaded server):

* AWS calls per operation, counted at the SDK level: every botocore client created in
  this process gets ``before-call`` / ``before-send`` hooks, so calls made by any client
  of the connector count, however it was created;
* latency of Create and Find through the customers API handler, interleaved call by
  call with a floor that makes the same AWS calls with plain boto3.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from threading import main_thread
from types import ModuleType
from typing import Any

import botocore.session
from common import (
    FUNCTIONS,
    code_dir,
    lambda_environment,
    median,
    percentile,
    sample_create_body,
)
from floor import Context, Floor

from toqio_local.template import ResolvedTemplate

# --- counting AWS calls at the SDK level ---------------------------------------------


class CallCounter:
    """Counts API calls (``before-call``) and HTTP attempts (``before-send``) per owner.

    A client belongs to whoever was current (``owner``) when it was created: the bench's
    own clients (floors, set-up) are created inside ``owning("bench")``; everything
    else, i.e. what the handlers create at import or later, is the connector's.
    """

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()  # (owner, Service.Operation)
        self.attempts: Counter[tuple[str, str]] = Counter()
        self.entries: Counter[str] = Counter()  # PutEvents entries sent, per owner
        self.largest_entry = 0  # bytes of the largest PutEvents entry's Detail
        self.log = LogSink()  # where the handlers' stdout goes: counted, not kept
        self.owner = "connector"
        self._original: Any = None

    def install(self) -> None:
        original = botocore.session.Session.create_client
        self._original = original
        counter = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            owner = counter.owner
            client.meta.events.register("before-call", partial(counter._on_call, owner))
            client.meta.events.register("before-send", partial(counter._on_send, owner))
            client.meta.events.register(
                "before-parameter-build", partial(counter._on_params, owner)
            )
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            botocore.session.Session.create_client = self._original  # type: ignore[method-assign]

    @contextlib.contextmanager
    def owning(self, owner: str) -> Iterator[None]:
        previous, self.owner = self.owner, owner
        try:
            yield
        finally:
            self.owner = previous

    @staticmethod
    def _operation(event_name: str) -> str:
        _, service, operation = event_name.split(".", 2)
        return f"{service}.{operation}"

    def _on_call(self, owner: str, event_name: str = "", **_: Any) -> None:
        if threading.current_thread() is main_thread():  # not the emulator's threads
            self.calls[(owner, self._operation(event_name))] += 1

    def _on_params(self, owner: str, event_name: str = "", params: Any = None, **_: Any) -> None:
        """The API parameters (before-call only sees the serialised request)."""
        if event_name.endswith(".PutEvents") and threading.current_thread() is main_thread():
            entries = (params or {}).get("Entries", ())
            self.entries[owner] += len(entries)
            for entry in entries:
                self.largest_entry = max(self.largest_entry, len(entry.get("Detail", "").encode()))

    def _on_send(self, owner: str, event_name: str = "", **_: Any) -> None:
        if threading.current_thread() is main_thread():
            self.attempts[(owner, self._operation(event_name))] += 1

    @contextlib.contextmanager
    def measure(self, owner: str = "connector") -> Iterator[dict[str, Any]]:
        """``with counter.measure() as seen:`` -> seen = {calls, attempts, by_operation}."""
        calls, attempts, entries = self.calls.copy(), self.attempts.copy(), self.entries.copy()
        logged = self.log.bytes
        seen: dict[str, Any] = {}
        yield seen
        by_operation = {
            operation: count - calls[(who, operation)]
            for (who, operation), count in self.calls.items()
            if who == owner and count - calls[(who, operation)]
        }
        seen["by_operation"] = dict(sorted(by_operation.items()))
        seen["calls"] = sum(by_operation.values())
        seen["attempts"] = sum(
            count - attempts[(who, operation)]
            for (who, operation), count in self.attempts.items()
            if who == owner
        )
        seen["put_events_entries"] = self.entries[owner] - entries[owner]
        seen["log_bytes"] = self.log.bytes - logged


class LogSink:
    """A write-only stream that counts the bytes the handlers log (CloudWatch's input)."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode("utf-8"))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (strings in UTF-8; numbers about
    one byte per two digits plus one)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode("utf-8"))
        if "S" in value:
            size += len(value["S"].encode("utf-8"))
        elif "N" in value:
            size += (len(value["N"].lstrip("-").replace(".", "")) + 1) // 2 + 1
        else:
            size += len(json.dumps(value))  # not used by the connector's items
    return size


# --- the handlers, as Lambda calls them ----------------------------------------------


def context(stack: ResolvedTemplate, key: str) -> Context:
    logical_id = FUNCTIONS[key].logical_id
    memory = int(stack.function_property(logical_id, "MemorySize", 128))
    return Context(f"{stack.name}-{logical_id}", memory)


def load_handler(stack: ResolvedTemplate, key: str) -> ModuleType:
    """``functions/<key>/app.py`` imported as Lambda does (its folder first on sys.path)."""
    folder = code_dir(stack, FUNCTIONS[key])
    spec = importlib.util.spec_from_file_location(f"bench_{key}_app", folder / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    sys.path.insert(0, str(folder))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
    return module


def api_event(method: str, path: str, caller: str, body: Any = None) -> dict[str, Any]:
    """An API Gateway REST proxy event, as the gateway sends it after the authorizer."""
    headers = {
        "Accept": "application/json",
        "Host": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
    }
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    match = path.rsplit("/", 1)
    resource = "/customers" if path == "/customers" else "/customers/{customerId}"
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None if path == "/customers" else {"customerId": match[1]},
        "stageVariables": None,
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/live{path}",
            "stage": "live",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "identity": {"sourceIp": "203.0.113.10", "userAgent": "toqio-integration-hub"},
            "authorizer": {"principalId": caller, "customerID": caller},
        },
    }


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def expect_ok(reply: dict[str, Any], what: str) -> None:
    if reply.get("statusCode") != 200:
        raise RuntimeError(f"{what}: HTTP {reply.get('statusCode')} {reply.get('body')}")


def stream_records(session: Any, table: str, wanted: list[str]) -> list[dict[str, Any]]:
    """The stream's INSERT records of ``wanted`` ids, in Lambda's event shape."""
    from toqio_local.streams import lambda_record

    stream_arn = session.client("dynamodb").describe_table(TableName=table)["Table"][
        "LatestStreamArn"
    ]
    streams = session.client("dynamodbstreams")
    found: dict[str, dict[str, Any]] = {}
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator and len(found) < len(wanted):
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            for record in page["Records"]:
                key = record["dynamodb"]["Keys"]["id"]["S"]
                if record["eventName"] == "INSERT" and key in wanted:
                    found[key] = lambda_record(record, stream_arn)
            iterator = page.get("NextShardIterator")
    missing = [key for key in wanted if key not in found]
    if missing:
        raise RuntimeError(f"stream records missing for {missing}")
    return [found[key] for key in wanted]


# --- the run ---------------------------------------------------------------------------


def run(
    stack: ResolvedTemplate, iterations: int, warmup: int, home: Path, log: Any, endpoint: str
) -> dict[str, Any]:
    """The warm figures against the emulator at ``endpoint`` (the stack's resources made)."""
    counter = CallCounter()
    counter.install()
    saved_env = dict(os.environ)
    try:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        for key in ("customers_api", "publisher"):
            os.environ.update(lambda_environment(stack, FUNCTIONS[key], home))
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
        # Powertools' log lines and EMF metrics (CloudWatch's business): counted only.
        return _measure(stack, counter, iterations, warmup, log, counter.log)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        counter.uninstall()


def _create_event(customer_id: str) -> dict[str, Any]:
    return api_event("POST", "/customers", customer_id, sample_create_body(customer_id))


def _find_event(customer_id: str) -> dict[str, Any]:
    return api_event("GET", f"/customers/{customer_id}", customer_id)


@dataclass
class _Handlers:
    """The two functions' handlers, called as Lambda would, their log lines to ``sink``."""

    api: ModuleType
    publisher: ModuleType
    api_context: Context
    publisher_context: Context
    sink: Any
    linker: ModuleType | None = None
    linker_context: Context | None = None

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        with contextlib.redirect_stdout(self.sink):
            return self.api.lambda_handler(event, self.api_context)

    def create(self, customer_id: str) -> dict[str, Any]:
        return self.invoke(_create_event(customer_id))

    def find(self, customer_id: str) -> dict[str, Any]:
        return self.invoke(_find_event(customer_id))

    def publish(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        with contextlib.redirect_stdout(self.sink):
            return self.publisher.lambda_handler({"Records": records}, self.publisher_context)

    def link(self, item: dict[str, Any]) -> dict[str, Any]:
        """The linker on one CustomerCreated event of the stored ``item`` (an SQS batch)."""
        assert self.linker is not None
        event = {
            "detail-type": "CustomerCreated",
            "time": "2030-01-01T00:00:00Z",
            "detail": {
                "customer": {"id": item["id"]["S"]},
                "secretArn": item["secretArn"]["S"],
                "secretVersionId": item["secretVersionId"]["S"],
                "version": int(item["version"]["N"]),
            },
        }
        record = {"messageId": "m1", "receiptHandle": "r1", "body": json.dumps(event)}
        with contextlib.redirect_stdout(self.sink):
            return self.linker.lambda_handler({"Records": [record]}, self.linker_context)


def _measure(
    stack: ResolvedTemplate,
    counter: CallCounter,
    iterations: int,
    warmup: int,
    log: Any,
    sink: Any,
) -> dict[str, Any]:
    import boto3

    from toqio_connector.adapters import aws

    with counter.owning("bench"):
        session = boto3.session.Session()
        table = stack.refs["CustomersTable"]
        floor = Floor(
            session.client("dynamodb"),
            session.client("secretsmanager"),
            table,
            stack.parameter("SecretNamePrefix"),
        )
    aws.client.cache_clear()  # whatever an earlier import cached: the handlers make their own
    from toqio_local.sandbox import SandboxProvider

    provider = SandboxProvider().start()  # the linker's provider: one HTTP call per event
    os.environ.update(PROVIDER_URL=provider.url, PROVIDER_ADAPTER="sandbox")
    with contextlib.redirect_stdout(sink):
        api = load_handler(stack, "customers_api")
        publisher = load_handler(stack, "publisher")
        linker = load_handler(stack, "linker")
    handlers = _Handlers(
        api,
        publisher,
        context(stack, "customers_api"),
        context(stack, "publisher"),
        sink,
        linker,
        context(stack, "linker"),
    )
    tag = uuid.uuid4().hex[:8]

    # 1. AWS calls per operation (also the stream records the publisher gets).
    counts = _count_calls(counter, session, table, handlers, tag)
    log("  AWS calls counted")

    # 2. Latency: handler and floor alternately, the order swapped every other call.
    ids = [f"lat-{tag}-{n:05d}" for n in range(warmup + iterations)]
    samples, loop_counts = _warm_loops(counter, handlers, floor, ids, warmup, log)
    counts.update(loop_counts)
    return {
        "counts": counts,
        "latency": {name: _latency(values) for name, values in samples.items()},
        "iterations": iterations,
        "warmup": warmup,
    }


def _count_calls(
    counter: CallCounter, session: Any, table: str, handlers: _Handlers, tag: str
) -> dict[str, Any]:
    """AWS calls per operation, the stored item's size and the largest event detail."""
    counts: dict[str, Any] = {}
    created = [f"calls-{tag}-{n:02d}" for n in range(10)]
    per_create = []
    for customer_id in created:
        with counter.measure() as seen:
            expect_ok(handlers.create(customer_id), "Create")
        per_create.append(seen)
    counts["create"] = per_create[0] | {
        "calls_each": sorted({seen["calls"] for seen in per_create}),
    }
    with counter.owning("bench"):
        stored = session.client("dynamodb").get_item(
            TableName=table, Key={"id": {"S": created[0]}}, ConsistentRead=True
        )["Item"]
    counts["item_bytes"] = item_bytes(stored)
    with counter.measure() as seen:
        expect_ok(handlers.create(created[0]), "Create replay")
    counts["create_replay"] = seen
    with counter.measure() as seen:
        expect_ok(handlers.find(created[0]), "Find")
    counts["find"] = seen
    with counter.owning("bench"):
        records = stream_records(session, table, created)
    for size in (10, 1):
        with counter.measure() as seen:
            reply = handlers.publish(records[:size])
        if reply.get("batchItemFailures"):
            raise RuntimeError(f"publisher reported failures: {reply}")
        counts[f"publisher_batch_{size}"] = seen
    counts["largest_event_detail_bytes"] = counter.largest_entry
    if handlers.linker is not None:
        with counter.measure() as seen:
            reply = handlers.link(stored)
        if reply.get("batchItemFailures"):
            raise RuntimeError(f"linker reported failures: {reply}")
        counts["linker_per_event"] = seen
    return counts


def _paired(
    n: int, handler_call: Callable[[], Any], floor_call: Callable[[], Any], what: str
) -> tuple[float, float]:
    """One handler call and one floor call, the order swapped every other ``n``."""
    pair = [partial(timed, handler_call), partial(timed, floor_call)]
    if n % 2:
        pair.reverse()
    results = [call() for call in pair]
    if n % 2:
        results.reverse()
    (handler_s, reply), (floor_s, _) = results
    expect_ok(reply, what)
    return handler_s, floor_s


def _warm_loops(
    counter: CallCounter,
    handlers: _Handlers,
    floor: Floor,
    ids: list[str],
    warmup: int,
    log: Any,
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Warm Create then Find latencies, each beside its floor (the first ``warmup`` pairs
    dropped), and the AWS calls the loops made."""
    samples: dict[str, list[float]] = {
        "create": [],
        "create_floor": [],
        "find": [],
        "find_floor": [],
    }
    with counter.measure() as create_loop:
        for n, customer_id in enumerate(ids):
            floor_body = sample_create_body(f"f{customer_id}")
            handler_s, floor_s = _paired(
                n,
                partial(handlers.invoke, _create_event(customer_id)),
                partial(floor.create, floor_body),
                "Create",
            )
            if n >= warmup:
                samples["create"].append(handler_s)
                samples["create_floor"].append(floor_s)
    log(f"  warm Create: {len(ids)} pairs")
    with counter.measure() as find_loop:
        for n, customer_id in enumerate(ids):
            handler_s, floor_s = _paired(
                n,
                partial(handlers.invoke, _find_event(customer_id)),
                partial(floor.find, customer_id),
                "Find",
            )
            if n >= warmup:
                samples["find"].append(handler_s)
                samples["find_floor"].append(floor_s)
    log(f"  warm Find: {len(ids)} pairs")
    loop_counts = {
        "create_loop_mean": create_loop["calls"] / len(ids),
        "find_loop_mean": find_loop["calls"] / len(ids),
        "loop_attempts": create_loop["attempts"] + find_loop["attempts"],
        "loop_calls": create_loop["calls"] + find_loop["calls"],
    }
    return samples, loop_counts


def _latency(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": percentile(samples, 50) * 1000,
        "p99_ms": percentile(samples, 99) * 1000,
        "median_ms": median(samples) * 1000,
        "max_ms": max(samples) * 1000,
        "n": len(samples),
        "samples_ms": [round(value * 1000, 3) for value in samples],
    }
