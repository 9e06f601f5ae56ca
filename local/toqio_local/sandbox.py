"""The sandbox payment provider that ``make run`` serves: the reference adapter's protocol.

``POST /v1/credentials/verify`` (see the connector's ``providers/reference_http.py``):
credentials whose ``X-Login-Id`` begins with ``invalid`` are refused (401), a request
without ``X-Login-Id`` or ``Authorization`` is refused (400), any other is accepted (200).
``fail_next(n)`` (or, from another process, ``POST /_sandbox/fail-next?count=n``) makes it
answer 503 to the next ``n`` verify requests (tests of retries).
It never logs a header value: they are credentials.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VERIFY_PATH = "/v1/credentials/verify"
REFUSED_PREFIX = "invalid"
FAIL_NEXT_PATH = "/_sandbox/fail-next"  # a test hook, as fail_next() is in-process
MAX_BODY = 65536


def verdict(headers: Any) -> tuple[int, dict[str, str]]:
    """The sandbox's rule: (HTTP status, body) for a verify request's headers."""
    login_id, authorization = headers.get("X-Login-Id"), headers.get("Authorization")
    if not login_id or not authorization:
        return 400, {"status": "REFUSED", "reason": "MISSING_CREDENTIALS"}
    if login_id.startswith(REFUSED_PREFIX):
        return 401, {"status": "REFUSED", "reason": "INVALID_CREDENTIALS"}
    return 200, {"status": "ACCEPTED"}


class _Handler(BaseHTTPRequestHandler):
    """One request to the sandbox (its server is a ``_Server``, which knows the sandbox)."""

    server: _Server

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True  # the body is left unread
            return self._answer(400, {"status": "REFUSED", "reason": "BAD_REQUEST"})
        self.rfile.read(length)
        if self._path() == FAIL_NEXT_PATH:
            return self._fail_next()
        if self._path() != VERIFY_PATH:
            return self._answer(404, {"status": "NOT_FOUND"})
        return self._answer(*self.server.sandbox.answer(self.headers))

    def _fail_next(self) -> None:
        """The test hook over HTTP: ``POST /_sandbox/fail-next?count=N``."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        count = (query.get("count") or ["1"])[0]
        if not count.isdigit():
            return self._answer(400, {"status": "REFUSED", "reason": "BAD_COUNT"})
        self.server.sandbox.fail_next(int(count))
        return self._answer(200, {"status": "OK", "failNext": count})

    def _other_method(self) -> None:
        if self._path() != VERIFY_PATH:
            return self._answer(404, {"status": "NOT_FOUND"})
        return self._answer(405, {"status": "METHOD_NOT_ALLOWED"}, allow="POST")

    do_GET = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _other_method  # noqa: N815

    def _path(self) -> str:
        return self.path.split("?", 1)[0]

    def _answer(self, status: int, body: dict[str, str], allow: str = "") -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if allow:
            self.send_header("Allow", allow)
        self.end_headers()
        self.wfile.write(data)
        if self.server.sandbox.verbose:  # the path and the status: never a header
            print(f"[provider] {self.command} {self._path()[:100]} -> {status}", flush=True)

    def log_message(self, *_args: Any) -> None:  # headers hold credentials
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sandbox: SandboxProvider) -> None:
        self.sandbox = sandbox
        super().__init__(address, _Handler)


class SandboxProvider:
    """The sandbox on ``host:port`` (0: any free port), in a thread of its own."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False) -> None:
        self.verbose = verbose
        self._failures = 0
        self._lock = threading.Lock()
        self.requests = 0
        self.server = _Server((host, port), self)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, headers: Any) -> tuple[int, dict[str, str]]:
        """A verify request's answer: 503 while ``fail_next`` lasts, else ``verdict``."""
        with self._lock:
            self.requests += 1
            if self._failures > 0:
                self._failures -= 1
                return 503, {"status": "UNAVAILABLE"}
        return verdict(headers)

    def fail_next(self, count: int) -> None:
        """Answer 503 (provider unavailable) to the next ``count`` verify requests."""
        with self._lock:
            self._failures = count

    def start(self) -> SandboxProvider:
        """Serve in a daemon thread; returns itself."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port (a sandbox never started is only closed)."""
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()
