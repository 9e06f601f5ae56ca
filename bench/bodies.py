"""The slowest answer to a hostile request body of up to 64 KiB: quiet, then beside two
CPU-bound processes. Every body up to 64 KiB is promised an answer within a second.

The bodies are the validation-bounds tests' (``tests/unit/test_validation_bounds.py``
and ``tests/http/test_validation_bounds_http.py``), aimed at what a value can make
costly against ``tests/hostile_registry.json``: uniqueness over 64 KiB of mixed items,
recursive ``anyOf`` (exponential without the step budget), ``unevaluated*``,
``patternProperties``, ``enum``/``const`` over deep values, ``format: regex`` over
32,000 characters, patterns over long strings, 100 problems and more, nesting as deep
as 64 KiB of brackets holds. Each is sent over HTTP to `make run`'s runner serving that
registry (its own processes: the API, the authorizer's and the customers function's
containers), timed from the request to the answer's last byte; a warm-up pass first.

Then the same again with two processes spinning ``while True: pass`` beside it (as many
as a small build machine has cores), started before the first request and ended after
the last one.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import count
from typing import Any

from common import ROOT

LIMIT = 64 * 1024
TARGET_MS = 1000.0  # the promise: every body up to 64 KiB answered within a second
HOGS = 2
HOSTILE_REGISTRY = ROOT / "tests" / "hostile_registry.json"


def bodies() -> dict[str, bytes]:
    """label -> the members of a Create body after its id and apiKey (JSON text): each
    body, once its id is put in, of at most 64 KiB."""
    from tests.http import test_validation_bounds_http as over_http
    from tests.unit import test_validation_bounds as unit

    custom: dict[str, dict[str, Any]] = {}
    for label, (name, make, _statuses, _listed) in over_http.CASES.items():
        custom[label] = {name: make()}
    for label, (name, make) in unit.CASES.items():
        custom.setdefault(label, {name: unit.largest(make, name)})
    for name in ("code", "digits", "line"):  # ECMA-262 patterns over a long string
        long_string = unit.largest(lambda n: "1" * n + "\u2028", name)
        custom[f"pattern over a long string ({name})"] = {name: long_string}
    labels = unit.largest(lambda n: {f"K{i}": i for i in range(n)}, "labels")
    custom["100 problems listed of 5000"] = {"labels": labels}
    custom["5000 unknown parameters"] = {f"u{i}": 1 for i in range(5000)}
    members: dict[str, bytes] = {}
    for label, values in custom.items():
        text = json.dumps(values, separators=(",", ":"))[1:-1].encode()
        if text not in members.values():  # the two tests share a few bodies
            members[label] = text
    for opener, closer in (("[", "]"), ('{"k":', "}")):  # as deep as 64 KiB holds
        depth = (LIMIT - 100) // (len(opener) + len(closer))
        value = opener * depth + "0" + closer * depth
        members[f"nesting {depth} deep ({opener}...{closer})"] = f'"tree":{value}'.encode()
    return members


def body(customer_id: str, members: bytes) -> bytes:
    return b'{"id":"%s","apiKey":"k",%s}' % (customer_id.encode(), members)


def size(members: bytes) -> int:
    """Bytes of the body sent with ``members`` (ids are about this long)."""
    return len(body("bench-body-00", members))


@contextmanager
def hogs(how_many: int) -> Iterator[None]:
    """``how_many`` processes spinning on the CPU for as long as the block runs."""
    spinning = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])  # noqa: S603
        for _ in range(how_many)
    ]
    try:
        time.sleep(0.5)  # scheduled and spinning before the first request
        yield
    finally:
        for process in spinning:
            process.terminate()
        for process in spinning:
            process.wait()


def _sender(api_port: int) -> Callable[[bytes], tuple[float, int]]:
    from tests.http.test_validation_bounds_http import token

    ids = count()

    def send(members: bytes) -> tuple[float, int]:
        customer_id = f"bench-body-{next(ids)}"
        sent = body(customer_id, members)
        if len(sent) > LIMIT:
            raise RuntimeError(f"a body of {len(sent)} bytes: over 64 KiB")
        headers = {"Authorization": "Bearer " + token(customer_id)}
        headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection("127.0.0.1", api_port, timeout=60)
        try:
            started = time.perf_counter()
            connection.request("POST", "/customers", sent, headers)
            response = connection.getresponse()
            response.read()
            seconds = time.perf_counter() - started
        finally:
            connection.close()
        if response.status >= 500:
            raise RuntimeError(f"HTTP {response.status} to a hostile body")
        return seconds, response.status

    return send


def _pass(
    send: Callable[[bytes], tuple[float, int]], sent: dict[str, bytes]
) -> dict[str, tuple[float, int]]:
    """label -> (ms, status) of one pass over every body."""
    answers = {}
    for label, members in sent.items():
        seconds, status = send(members)
        answers[label] = (seconds * 1000, status)
    return answers


def _slowest_of(
    rounds: list[dict[str, tuple[float, int]]], sent: dict[str, bytes], accepted: bool
) -> dict[str, Any]:
    """The slowest answer among the refused bodies (validation only: nothing is written)
    or the accepted ones (their Create's writes to the emulator included)."""
    answers = [
        (label, ms)
        for one in rounds
        for label, (ms, status) in one.items()
        if (status < 300) == accepted
    ]
    if not answers:
        return {"slowest_ms": 0.0, "slowest_body": "none", "slowest_body_bytes": 0}
    label, ms = max(answers, key=lambda pair: pair[1])
    near_64k = [(name, ms) for name, ms in answers if size(sent[name]) > LIMIT - 4 * 1024]
    label_64k, ms_64k = max(near_64k, key=lambda pair: pair[1]) if near_64k else ("none", 0.0)
    return {
        "slowest_ms": ms,
        "slowest_body": label,
        "slowest_body_bytes": size(sent[label]),
        "slowest_60_64_kib_ms": ms_64k,
        "slowest_60_64_kib_body": label_64k,
        "requests": len(answers),
    }


def _slowest(rounds: list[dict[str, tuple[float, int]]], sent: dict[str, bytes]) -> dict[str, Any]:
    return {
        "refused": _slowest_of(rounds, sent, accepted=False),
        "accepted": _slowest_of(rounds, sent, accepted=True),
        "per_body_max_ms": {
            name: round(max(one[name][0] for one in rounds), 1) for name in rounds[0]
        },
    }


def measure(rounds: int, log: Any) -> dict[str, Any]:
    """The slowest answer over ``rounds`` passes of every body, quiet and under load."""
    from tests.harness.http import RunningConnector

    sent = bodies()
    log(f"hostile bodies: {len(sent)} of up to 64 KiB, {rounds} passes quiet then beside")
    log(f"  {HOGS} CPU-bound processes, over HTTP to the runner (hostile registry)")
    runner = RunningConnector({"CUSTOM_PARAMETERS_FILE": str(HOSTILE_REGISTRY)})
    try:
        send = _sender(runner.api_port)
        _pass(send, sent)  # warm-up: containers started, caches filled
        quiet = [_pass(send, sent) for _ in range(rounds)]
        log("  quiet: done")
        with hogs(HOGS):
            loaded = [_pass(send, sent) for _ in range(rounds)]
        log(f"  beside {HOGS} CPU hogs: done")
    finally:
        runner.stop()
    return {"quiet": _slowest(quiet, sent), "loaded": _slowest(loaded, sent), "hogs": HOGS}
