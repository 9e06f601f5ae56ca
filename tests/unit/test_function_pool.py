"""The local runner's containers (toqio_local.functions): a dead one never hangs the pool."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from toqio_local import functions
from toqio_local.functions import FunctionCrashed, FunctionPool, FunctionSpec

HANDLER = """
import os


def handler(event, context):
    if event.get("die"):
        os._exit(1)  # the container dies while running the event
    return {"pid": os.getpid(), "echo": event.get("n")}
"""


@pytest.fixture
def pool(tmp_path: Path):
    (tmp_path / "probe.py").write_text(HANDLER)
    environment = {"AWS_LAMBDA_FUNCTION_NAME": "Probe", "LOCAL_FUNCTION_TIMEOUT": "5"}
    spec = FunctionSpec("Probe", tmp_path, "probe", "handler", environment, timeout=5)
    pool = FunctionPool(spec, max_workers=1)
    yield pool
    pool.close()


def _kill_idle(pool: FunctionPool) -> int:
    (worker,) = pool._idle
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    return worker.process.pid


def _invoke_or_fail(pool: FunctionPool, event: dict[str, Any]) -> Any:
    """``pool.invoke(event)``, failing the test rather than hanging it (after 30 s: a
    guard, not what is tested)."""
    replies: list[Any] = []
    invoking = threading.Thread(target=lambda: replies.append(pool.invoke(event)), daemon=True)
    invoking.start()
    invoking.join(30)
    assert replies, "the pool hung (or the invocation failed)"
    return replies[0]


def test_a_container_that_died_idle_is_replaced_and_the_event_still_runs(pool, monkeypatch):
    """The event never reached the dead container: a fresh one runs it, again and again
    (a pool of one would hang at the second death if its place were not given back)."""
    started: list[Any] = []
    start = functions._Worker

    def starting(spec: FunctionSpec) -> Any:
        started.append(start(spec))
        return started[-1]

    monkeypatch.setattr(functions, "_Worker", starting)
    first = pool.invoke({"n": 0})["pid"]
    for n in range(1, 4):
        dead = _kill_idle(pool)
        reply = _invoke_or_fail(pool, {"n": n})
        assert reply["echo"] == n and reply["pid"] not in (dead, first)
    assert len(started) == 4  # the first container, then one in the place of each dead one


def test_a_container_that_dies_while_running_fails_that_event_only(pool):
    for _ in range(3):  # more deaths than the pool has places
        with pytest.raises(FunctionCrashed):
            pool.invoke({"die": True})
    assert pool.invoke({"n": 7})["echo"] == 7
