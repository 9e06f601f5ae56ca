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
a timeout, a refused connection) is unavailable, and the linker retries. Timeout: 8 s
for each socket operation (connect, read), one attempt per delivery (the queue retries).

Redirects are never followed: a 3xx is unavailable ("HTTP 302 (redirect not followed)")
and logged with where it pointed (scheme, host and path; never its query). Following one
would send the credentials' headers again, to wherever the answer names, over http too.
The request goes through ``http.client``, which follows nothing by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

from aws_lambda_powertools import Logger

from toqio_connector.ports import ACCEPTED, REFUSED, UNAVAILABLE, Credentials, Verdict

TIMEOUT_SECONDS = 8.0  # within the linker's 20 s, with room for AWS calls
VERIFY_PATH = "/v1/credentials/verify"
REFUSING_STATUSES = frozenset({400, 401, 403, 404})
MAX_ANSWER_BYTES = 4096  # of an accepting answer's body, read and dropped
MAX_LOGGED_TARGET = 200  # characters of a redirect's target in the log

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


class ReferenceHttpProvider:
    """``ports.ProviderAdapter`` over the reference HTTP API described above."""

    required = ("login_id", "key")

    def __init__(self, url: str, *, tls_context: ssl.SSLContext | None = None) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("PROVIDER_URL must be the provider's http(s) base URL")
        self.url = url.rstrip("/") + VERIFY_PATH
        parts = urlsplit(self.url)
        self._tls = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._path = parts.path
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

    def verify(self, credentials: Credentials) -> Verdict:
        try:
            status, location = self._exchange(self.request(credentials))
        except (OSError, http.client.HTTPException) as exc:  # a timeout is an OSError
            return Verdict(UNAVAILABLE, type(exc).__name__)
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

    def _exchange(self, request: SignedRequest) -> tuple[int, str | None]:
        """One POST: the answer's status and Location header (its body read, dropped)."""
        connection: http.client.HTTPConnection
        if self._tls:
            connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=TIMEOUT_SECONDS, context=self._tls_context
            )
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=TIMEOUT_SECONDS)
        try:
            connection.request("POST", self._path, request.body, request.headers)
            answer = connection.getresponse()
            if 200 <= answer.status < 300:
                answer.read(MAX_ANSWER_BYTES)
            return answer.status, answer.getheader("Location")
        finally:
            connection.close()
