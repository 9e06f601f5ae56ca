"""The template's functions, each run in worker processes like Lambda containers.

A function scales out to ``max_workers`` concurrent containers; an idle one is reused
(warm), and one whose invocation timed out or that died is discarded.
"""

from __future__ import annotations

import json
import os
import select

# bandit B404/B603: the only command run is this interpreter on our own worker module.
import subprocess  # nosec B404
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class FunctionError(Exception):
    """The handler raised (``error_type``/``error_message`` as Lambda reports them)."""

    def __init__(self, error_type: str, error_message: str) -> None:
        super().__init__(error_type)
        self.error_type = error_type
        self.error_message = error_message


class FunctionCrashed(Exception):
    """The container died or timed out: no reply."""


class _ContainerGone(FunctionCrashed):
    """The container had died before the event reached it: nothing ran."""


class _Worker:
    def __init__(self, spec: FunctionSpec) -> None:
        read_fd, write_fd = os.pipe()
        env = {**os.environ, **spec.environment}
        self.process = subprocess.Popen(  # noqa: S603  # nosec B603
            [
                sys.executable,
                "-m",
                "toqio_local.worker",
                str(spec.code_dir),
                spec.module,
                spec.handler,
                str(write_fd),
            ],
            stdin=subprocess.PIPE,
            pass_fds=(write_fd,),
            env=env,
            text=True,
        )
        os.close(write_fd)
        self.replies = os.fdopen(read_fd, "r", encoding="utf-8")
        self.spec = spec
        if self._read(spec.init_timeout) != {"ready": True}:
            self.close()
            raise FunctionCrashed(f"{spec.name} failed to initialise")

    def _read(self, timeout: float) -> Any:
        ready, _, _ = select.select([self.replies], [], [], timeout)
        line = self.replies.readline() if ready else ""
        if not line:
            raise FunctionCrashed(f"{self.spec.name} gave no reply")
        return json.loads(line)

    def invoke(self, event: dict[str, Any]) -> Any:
        stdin = self.process.stdin
        if stdin is None or self.process.poll() is not None:
            raise _ContainerGone(f"{self.spec.name} is gone")
        try:
            stdin.write(json.dumps(event) + "\n")
            stdin.flush()
        except (OSError, ValueError) as exc:  # a broken pipe: it died while idle
            raise _ContainerGone(f"{self.spec.name} is gone") from exc
        return self._read(self.spec.timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.replies.close()
        if self.process.stdin:
            try:
                self.process.stdin.close()
            except OSError:  # what was buffered for a dead container cannot be flushed
                pass


@dataclass
class FunctionSpec:
    name: str
    code_dir: Path
    module: str
    handler: str
    environment: dict[str, str]
    timeout: float = 10.0
    init_timeout: float = 60.0


class FunctionPool:
    def __init__(self, spec: FunctionSpec, max_workers: int = 4) -> None:
        self.spec = spec
        self.max_workers = max_workers
        self._idle: list[_Worker] = []
        self._busy = 0
        self._lock = threading.Condition()

    def warm(self) -> None:
        """Start one container now: a function that cannot start fails here, loudly."""
        worker = _Worker(self.spec)
        with self._lock:
            self._idle.append(worker)

    def _acquire(self) -> _Worker | None:
        with self._lock:
            while not self._idle and self._busy >= self.max_workers:
                self._lock.wait()
            self._busy += 1
            return self._idle.pop() if self._idle else None

    def _release(self, worker: _Worker | None) -> None:
        with self._lock:
            self._busy -= 1
            if worker is not None:
                self._idle.append(worker)
            self._lock.notify()

    def invoke(self, event: dict[str, Any]) -> Any:
        """The handler's result. A container found dead before the event reached it is
        replaced (the event never ran); one that dies or times out while running it is
        discarded (``FunctionCrashed``). Either way its place in the pool is given back."""
        worker = self._acquire()
        try:
            reply = self._run(worker, event)
        except BaseException:
            self._release(None)
            raise
        self._release(reply[0])
        return self._result(reply[1])

    def _run(self, worker: _Worker | None, event: dict[str, Any]) -> tuple[_Worker, Any]:
        for attempt in (1, 2):
            worker = worker or _Worker(self.spec)
            try:
                return worker, worker.invoke(event)
            except _ContainerGone:
                worker.close()
                worker = None
                if attempt == 2:
                    raise
            except BaseException:
                worker.close()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _result(reply: Any) -> Any:
        if "error" in reply:
            raise FunctionError(reply["error"]["type"], reply["error"]["message"])
        return reply["result"]

    def close(self) -> None:
        with self._lock:
            for worker in self._idle:
                worker.close()
            self._idle.clear()


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
