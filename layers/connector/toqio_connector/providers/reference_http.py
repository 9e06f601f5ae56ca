"""The reference provider adapter: verifies credentials with one signed HTTPS call.

Copy it for a real provider and change what differs. The request:

    POST <PROVIDER_URL>/v1/credentials/verify
    Content-Type: application/json
    Authorization: Key <paymentProvider.key>
    X-Login-Id: <paymentProvider.loginId>
    X-Timestamp: <unix seconds>
    X-Signature: hex(HMAC-SHA256(<paymentProvider.hmacKey>, "<timestamp>\\n<body>"))
                 (only if the customer has an hmacKey)

    {"customerId": "<paymentProvider.customerId, else the Toqio customer id>"}

The answer: 2xx is accepted; 400, 401, 403 and 404 are refused; anything else (429, 5xx,
a timeout, a refused connection) is unavailable, and the linker retries. One attempt per
delivery (the queue retries). ``verify(credentials, within=8.0)`` ends within ``within``
seconds in all (connect, TLS, send, the answer's headers and body; each socket operation
also 8 s at most): past it the verdict is unavailable ("deadline"), and ``within <= 0``
is unavailable at once, sending nothing. Only resolving the host name is not bounded.

PROVIDER_URL must be ``https://host[:port][/path]``: the adapter refuses anything else
when it is made (a ValueError at start-up, which never quotes the URL), as does the
template's ``AllowedPattern``. The one exception is the ``sandbox`` adapter
(``SandboxHttpProvider``, below): the same protocol to the local sandbox provider, whose
URL must be a loopback host (127.0.0.1, ::1, localhost) and only then may be http://.

Redirects are never followed: a 3xx is unavailable ("HTTP 302 (redirect not followed)")
and logged with where it pointed (scheme, host and path; never its query). Following one
would send the credentials' headers again, to wherever the answer names, over http too.
The request goes through ``http.client``, which follows nothing by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import io
import json
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast
from urllib.parse import SplitResult, unquote, urljoin, urlsplit, urlunsplit

from aws_lambda_powertools import Logger

from toqio_connector.ports import ACCEPTED, REFUSED, UNAVAILABLE, Credentials, Verdict

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

    from toqio_connector.ports import ProviderAdapter

TIMEOUT_SECONDS = 8.0  # the adapter's own limit; the linker passes its budget as ``within``
VERIFY_PATH = "/v1/credentials/verify"
REFUSING_STATUSES = frozenset({400, 401, 403, 404})
MAX_ANSWER_BYTES = 4096  # of an accepting answer's body, read and dropped
MAX_LOGGED_TARGET = 200  # characters of a redirect's target in the log
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})  # the sandbox adapter's

logger = Logger(child=True)


def signature(hmac_key: str, timestamp: str, body: bytes) -> str:
    """The request's signature: HMAC-SHA256 over ``<timestamp>\\n<body>``, hex."""
    message = timestamp.encode("ascii") + b"\n" + body
    return hmac.new(hmac_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignedRequest:
    """A verify request's body and headers (``repr`` shows no header: they are secrets)."""

    body: bytes
    headers: dict[str, str] = field(repr=False)


def redirect_target(location: str | None, base: str, credentials: Credentials) -> str:
    """Where a redirect pointed, for the log: scheme, host, port and path; never user
    info, a query or a fragment, and nothing at all if it holds a credential."""
    if not location:
        return "(no Location header)"
    try:
        parts = urlsplit(urljoin(base, location.strip()))
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "(not a URL)"
    target = f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"[:MAX_LOGGED_TARGET]
    secrets = [s for s in (credentials.login_id, credentials.key, credentials.hmac_key) if s]
    if any(secret in text for secret in secrets for text in (target, unquote(target))):
        return "(withheld: it holds a credential)"
    return target


def base_url(url: str, *, loopback_only: bool) -> SplitResult:
    """PROVIDER_URL, checked at start-up: ``https://host[:port][/path]``, or, for the
    sandbox adapter (``loopback_only``), ``http(s)://`` to 127.0.0.1, ::1 or localhost
    only. A refusal never quotes the URL: it might hold a password."""
    if any(ch <= " " or ch == "\x7f" for ch in url):
        raise ValueError("PROVIDER_URL must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        raise ValueError("PROVIDER_URL is not a URL (https://host[:port][/path])") from None
    if parts.username is not None or parts.password is not None:
        raise ValueError("PROVIDER_URL must not hold a user name or password")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ValueError("PROVIDER_URL must be a base URL, without a query or fragment")
    if not parts.hostname:
        raise ValueError("PROVIDER_URL must name a host (https://host[:port][/path])")
    if loopback_only:
        if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK_HOSTS:
            raise ValueError(
                "PROVIDER_URL of the sandbox adapter must be http(s):// to 127.0.0.1, [::1] or"
                " localhost (a real provider: the reference adapter, over https)"
            )
    elif parts.scheme != "https":
        raise ValueError(
            "PROVIDER_URL must be an https:// URL: the credentials travel in the request"
            " (http:// only with the sandbox adapter, to a loopback host)"
        )
    return parts


class DeadlinePassed(TimeoutError):
    """The call's deadline passed before the next socket operation."""


class Deadline:
    """A monotonic deadline: how long the next socket operation may block."""

    def __init__(self, within: float) -> None:
        self.end = time.monotonic() + within

    def passed(self) -> bool:
        return time.monotonic() >= self.end

    def remaining(self) -> float:
        """What is left, at most TIMEOUT_SECONDS; DeadlinePassed if nothing is."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise DeadlinePassed
        return min(left, TIMEOUT_SECONDS)


class _DeadlineReader(io.RawIOBase):
    """The answer's bytes from ``sock``, each read given only the time left."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        super().__init__()
        self._sock, self._deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        self._sock.settimeout(self._deadline.remaining())
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """What ``http.client`` uses of a socket (``sendall``, ``makefile``), each operation
    given only the time left. Its ``close`` does nothing: ``_Connection.release`` closes
    the socket once the answer is read (http.client closes its side before that)."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self._sock, self._deadline = sock, deadline

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(self._deadline.remaining())  # for the whole sendall
        self._sock.sendall(data)

    def makefile(self, _mode: str) -> io.BufferedReader:  # http.client asks for "rb"
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))

    def close(self) -> None:
        pass


class _Connection(http.client.HTTPConnection):
    """One request's connection (TLS if given a context), within ``deadline``: connect,
    the TLS handshake and ``sendall`` each get the time left (CPython bounds the
    handshake and ``sendall`` as a whole), and so does each read of the answer, so a
    provider trickling bytes cannot stretch the call. Host names are resolved first,
    without a bound (``getaddrinfo`` takes none)."""

    def __init__(self, host: str, port: int, deadline: Deadline, tls: ssl.SSLContext | None):
        super().__init__(host, port)  # a port given: an IPv6 host is not split at a colon
        if tls is not None:
            self.default_port = http.client.HTTPS_PORT  # so the Host header omits 443
        self._deadline, self._tls = deadline, tls
        self._socket: socket.socket | None = None

    def connect(self) -> None:
        sock = _connect(self.host, self.port, self._deadline)
        try:
            if self._tls is not None:
                sock.settimeout(self._deadline.remaining())
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self._socket = sock
        self.sock = cast("socket.socket", _DeadlineSocket(sock, self._deadline))

    def release(self) -> None:
        """Close the socket (after the answer is read, or given up)."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _connect(host: str, port: int, deadline: Deadline) -> socket.socket:
    """A TCP connection to the first of ``host``'s addresses that answers in time."""
    failure: OSError = OSError("no address for the provider's host")
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(deadline.remaining())
            sock.connect(address)
        except OSError as exc:
            sock.close()
            if isinstance(exc, DeadlinePassed):
                raise
            failure = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise failure


class ReferenceHttpProvider:
    """``ports.ProviderAdapter`` over the reference HTTP API described above."""

    required: tuple[str, ...] = ("login_id", "key")  # the port's type, for mypy's check

    loopback_only = False  # True for the sandbox adapter: loopback hosts, http allowed

    def __init__(self, url: str, *, tls_context: ssl.SSLContext | None = None) -> None:
        parts = base_url(url, loopback_only=self.loopback_only)
        self._tls = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (http.client.HTTPS_PORT if self._tls else http.client.HTTP_PORT)
        self._path = parts.path.rstrip("/") + VERIFY_PATH
        self.url = urlunsplit((parts.scheme, parts.netloc, self._path, "", ""))
        self._tls_context = tls_context or (ssl.create_default_context() if self._tls else None)

    def request(self, credentials: Credentials, now: float | None = None) -> SignedRequest:
        """The signed request for ``credentials`` (built apart, for tests and docs)."""
        customer = credentials.provider_customer_id or credentials.customer_id
        body = json.dumps({"customerId": customer}, separators=(",", ":")).encode("utf-8")
        timestamp = str(int(time.time() if now is None else now))
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Key {credentials.key}",
            "X-Login-Id": str(credentials.login_id),
            "X-Timestamp": timestamp,
            "User-Agent": "toqio-connector",
            "Connection": "close",
        }
        if credentials.hmac_key:
            headers["X-Signature"] = signature(credentials.hmac_key, timestamp, body)
        return SignedRequest(body, headers)

    def verify(self, credentials: Credentials, within: float = TIMEOUT_SECONDS) -> Verdict:
        """The provider's verdict; the whole call (connect, TLS, send, the answer's status
        line, headers and body) ends within ``within`` seconds. Past them, or if ``within``
        is not above 0 (then nothing is sent), unavailable ("deadline")."""
        if not within > 0:  # NaN too
            return Verdict(UNAVAILABLE, "deadline")
        deadline = Deadline(within)
        try:
            status, location = self._exchange(self.request(credentials), deadline)
        except (OSError, http.client.HTTPException) as exc:  # a timeout is an OSError
            return Verdict(UNAVAILABLE, "deadline" if deadline.passed() else type(exc).__name__)
        except ValueError:  # http.client's message would quote the header value
            return Verdict(UNAVAILABLE, "a credential cannot be sent as an HTTP header")
        if 200 <= status < 300:
            return Verdict(ACCEPTED, f"HTTP {status}")
        if 300 <= status < 400:
            logger.warning(
                "provider redirect not followed",
                extra={
                    "status": status,
                    "target": redirect_target(location, self.url, credentials),
                },
            )
            return Verdict(UNAVAILABLE, f"HTTP {status} (redirect not followed)")
        return Verdict(REFUSED if status in REFUSING_STATUSES else UNAVAILABLE, f"HTTP {status}")

    def _exchange(self, request: SignedRequest, deadline: Deadline) -> tuple[int, str | None]:
        """One POST: the answer's status and Location header (its body read, dropped)."""
        connection = _Connection(self._host, self._port, deadline, self._tls_context)
        try:
            connection.request("POST", self._path, request.body, request.headers)
            answer = connection.getresponse()
            if 200 <= answer.status < 300:
                answer.read(MAX_ANSWER_BYTES)
            return answer.status, answer.getheader("Location")
        finally:
            connection.close()
            connection.release()


class SandboxHttpProvider(ReferenceHttpProvider):
    """The reference adapter for the local sandbox (``make run``, tests): its PROVIDER_URL
    must be a loopback host (127.0.0.1, ::1, localhost), and only then may it be http://.
    Registered as ``sandbox``; a deployed linker has no loopback provider to reach."""

    loopback_only = True


if TYPE_CHECKING:  # mypy checks that both adapters are the port's (its verify, required)
    _ADAPTERS: tuple[type[ProviderAdapter], ...] = (ReferenceHttpProvider, SandboxHttpProvider)
