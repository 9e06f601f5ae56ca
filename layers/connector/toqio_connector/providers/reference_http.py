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
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from toqio_connector.ports import ACCEPTED, REFUSED, UNAVAILABLE, Credentials, Verdict

TIMEOUT_SECONDS = 8.0  # within the linker's 20 s, with room for AWS calls
VERIFY_PATH = "/v1/credentials/verify"
REFUSING_STATUSES = frozenset({400, 401, 403, 404})


def signature(hmac_key: str, timestamp: str, body: bytes) -> str:
    """The request's signature: HMAC-SHA256 over ``<timestamp>\\n<body>``, hex."""
    message = timestamp.encode("ascii") + b"\n" + body
    return hmac.new(hmac_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


class ReferenceHttpProvider:
    """``ports.ProviderAdapter`` over the reference HTTP API described above."""

    required = ("login_id", "key")

    def __init__(self, url: str) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("PROVIDER_URL must be the provider's http(s) base URL")
        self.url = url.rstrip("/") + VERIFY_PATH

    def request(self, credentials: Credentials, now: float | None = None) -> urllib.request.Request:
        """The signed request for ``credentials`` (built apart, for tests and docs)."""
        customer = credentials.provider_customer_id or credentials.customer_id
        body = json.dumps({"customerId": customer}, separators=(",", ":")).encode("utf-8")
        timestamp = str(int(time.time() if now is None else now))
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Key {credentials.key}",
            "X-Login-Id": str(credentials.login_id),
            "X-Timestamp": timestamp,
        }
        if credentials.hmac_key:
            headers["X-Signature"] = signature(credentials.hmac_key, timestamp, body)
        return urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only, checked above

    def verify(self, credentials: Credentials) -> Verdict:
        try:
            with urllib.request.urlopen(  # noqa: S310 # nosec B310
                self.request(credentials), timeout=TIMEOUT_SECONDS
            ) as answer:
                answer.read(4096)
                return Verdict(ACCEPTED, f"HTTP {answer.status}")
        except urllib.error.HTTPError as exc:
            outcome = REFUSED if exc.code in REFUSING_STATUSES else UNAVAILABLE
            return Verdict(outcome, f"HTTP {exc.code}")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            return Verdict(UNAVAILABLE, type(exc).__name__)
