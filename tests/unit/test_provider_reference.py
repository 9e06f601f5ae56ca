"""The reference provider adapter over real HTTP: its request, its signature, and how
each answer maps to accepted, refused or unavailable."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from toqio_connector.ports import ACCEPTED, REFUSED, UNAVAILABLE, Credentials
from toqio_connector.providers import PROVIDERS, provider_for
from toqio_connector.providers.reference_http import ReferenceHttpProvider, signature

CREDENTIALS = Credentials("c1", login_id="login-1", key="key-1", hmac_key="hmac-1")


class Provider:
    """A provider answering ``status`` and remembering each request it got."""

    def __init__(self) -> None:
        self.status = 200
        self.seen: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(owner.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def provider():
    running = Provider()
    yield running
    running.server.shutdown()


def test_the_request_is_signed_and_carries_the_credentials(provider):
    verdict = ReferenceHttpProvider(provider.url).verify(CREDENTIALS)
    assert verdict.outcome == ACCEPTED
    (seen,) = provider.seen
    headers = seen["headers"]
    assert seen["path"] == "/v1/credentials/verify"
    assert headers["Authorization"] == "Key key-1" and headers["X-Login-Id"] == "login-1"
    assert json.loads(seen["body"]) == {"customerId": "c1"}
    expected = hmac.new(
        b"hmac-1", headers["X-Timestamp"].encode() + b"\n" + seen["body"], hashlib.sha256
    ).hexdigest()
    assert (
        headers["X-Signature"]
        == expected
        == signature("hmac-1", headers["X-Timestamp"], seen["body"])
    )


def test_without_an_hmac_key_nothing_is_signed(provider):
    ReferenceHttpProvider(provider.url).verify(Credentials("c1", login_id="l", key="k"))
    assert "X-Signature" not in provider.seen[0]["headers"]


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, ACCEPTED), (204, ACCEPTED), (400, REFUSED), (401, REFUSED), (403, REFUSED),
     (404, REFUSED), (409, UNAVAILABLE), (429, UNAVAILABLE), (500, UNAVAILABLE),
     (503, UNAVAILABLE)],
)  # fmt: skip
def test_answers_map_to_outcomes(provider, status, outcome):
    provider.status = status
    verdict = ReferenceHttpProvider(provider.url).verify(CREDENTIALS)
    assert verdict.outcome == outcome
    assert "key-1" not in verdict.detail and "login-1" not in verdict.detail


def test_an_unreachable_provider_is_unavailable():
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    url = f"http://127.0.0.1:{closed.server_address[1]}"
    closed.server_close()
    assert ReferenceHttpProvider(url).verify(CREDENTIALS).outcome == UNAVAILABLE


def test_adapters_are_chosen_by_name():
    assert isinstance(provider_for("reference", "https://p.example"), ReferenceHttpProvider)
    with pytest.raises(ValueError, match="unknown provider adapter 'nope'"):
        provider_for("nope", "https://p.example")
    with pytest.raises(ValueError, match="PROVIDER_URL"):
        provider_for("reference", "")
    assert set(PROVIDERS) == {"reference"}


def test_credentials_never_show_in_a_repr():
    assert "key-1" not in repr(CREDENTIALS) and "hmac-1" not in repr(CREDENTIALS)
