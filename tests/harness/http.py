"""`make run`'s runner (`python -m toqio_local`) started as a process, for tests over HTTP.

On free ports, with its output drained in a thread (a full pipe would block it after a
few hundred requests) and kept for failure messages.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading

import boto3
import pytest

from tests.harness.aws import REGION
from tests.harness.registries import ROOT
from toqio_local import devkeys


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports nothing listens on now, for one process a test starts.

    All are reserved together: each probe socket stays bound until every port is
    chosen, so the system cannot hand the same port out twice (ports looked up one by
    one can repeat, a port being free again as soon as its probe closes). They are
    released on return, for the process to bind them.
    """
    with contextlib.ExitStack() as probes:
        ports: list[int] = []
        while len(ports) < count:
            probe = probes.enter_context(socket.socket())
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            if port not in ports:  # never, while the others are bound: checked anyway
                ports.append(port)
        return ports


class RunningConnector:
    def __init__(self, extra_env: dict[str, str] | None = None) -> None:
        self.api_port, self.aws_port, self.sandbox_port = free_ports(3)
        self.api = f"http://127.0.0.1:{self.api_port}"
        self.aws = f"http://127.0.0.1:{self.aws_port}"
        self.sandbox = f"http://127.0.0.1:{self.sandbox_port}"
        env = {
            **os.environ,
            "API_PORT": str(self.api_port),
            "AWS_PORT": str(self.aws_port),
            "SANDBOX_PORT": str(self.sandbox_port),
        }
        env.pop("AWS_ENDPOINT_URL", None)
        env.pop("CUSTOM_PARAMETERS_FILE", None)
        env.update(extra_env or {})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "toqio_local"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        self.output: collections.deque[str] = collections.deque(maxlen=400)
        self.banner = ""
        self._tokens: dict[str, str] = {}
        ready = threading.Event()

        def drain() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self.output.append(line)
                if not ready.is_set():
                    self.banner += line
                    if "make token" in line:
                        ready.set()
            ready.set()

        threading.Thread(target=drain, name="runner-output", daemon=True).start()
        ready.wait(90)
        if self.process.poll() is not None or "make token" not in self.banner:
            self.stop()
            pytest.fail("the runner did not start:\n" + "".join(self.output))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def client(self, service: str):
        """A boto3 client on the emulator, as any subscriber or operator would use."""
        return boto3.client(
            service,
            endpoint_url=self.aws,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 - the emulator takes any
        )

    def token(self, customer_id: str) -> str:
        """A development-key token for ``customer_id`` (one per id: the authorizer caches
        per token)."""
        if customer_id not in self._tokens:
            self._tokens[customer_id] = devkeys.token(customer_id)
        return self._tokens[customer_id]
