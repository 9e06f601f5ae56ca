"""The local runner's containers (toqio_local.functions): a dead one never hangs the pool."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

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


def test_a_container_that_died_idle_is_replaced_and_the_event_still_runs(pool):
    """The event never reached the dead container: a fresh one runs it, again and again
    (a pool of one would hang at the second death if its place were not given back)."""
    first = pool.invoke({"n": 0})["pid"]
    for n in range(1, 4):
        dead = _kill_idle(pool)
        started = time.monotonic()
        reply = pool.invoke({"n": n})
        assert reply["echo"] == n and reply["pid"] not in (dead, first)
        assert time.monotonic() - started < 5


def test_a_container_that_dies_while_running_fails_that_event_only(pool):
    for _ in range(3):  # more deaths than the pool has places
        with pytest.raises(FunctionCrashed):
            pool.invoke({"die": True})
    assert pool.invoke({"n": 7})["echo"] == 7
