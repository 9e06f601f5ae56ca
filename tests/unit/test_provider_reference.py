"""The reference provider adapter over real HTTP: its request, its signature, how each
answer maps to accepted, refused or unavailable, and the redirects it never follows."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from toqio_connector.ports import ACCEPTED, REFUSED, UNAVAILABLE, Credentials
from toqio_connector.providers import PROVIDERS, provider_for
from toqio_connector.providers.reference_http import (
    ReferenceHttpProvider,
    redirect_target,
    signature,
)

CREDENTIALS = Credentials("c1", login_id="login-1", key="key-1", hmac_key="hmac-1")


class Provider:
    """A provider answering ``status`` and remembering each request it got."""

    def __init__(self) -> None:
        self.status = 200
        self.location: str | None = None  # a Location header to answer with
        self.seen: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(owner.status)
                if owner.location is not None:
                    self.send_header("Location", owner.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


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


class Recorder:
    """A server that records every request it gets, whatever the method, and answers 200."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                owner.seen.append({"method": self.command, "headers": dict(self.headers)})
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _any  # noqa: N815

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture
def target():
    running = Recorder()
    yield running
    running.server.shutdown()


REDIRECT_QUERY = "?session=q-7c1e&next=1"  # must never reach a log line


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_never_followed(provider, target, status, caplog):
    """The provider answers a redirect to another server: nothing reaches it, not even a
    request without the credentials; the verdict is unavailable and the log names where
    the redirect pointed, without its query."""
    provider.status = status
    provider.location = f"{target.url}/elsewhere{REDIRECT_QUERY}"
    with caplog.at_level(logging.INFO):
        verdict = ReferenceHttpProvider(provider.url).verify(CREDENTIALS)
    assert target.seen == []
    assert len(provider.seen) == 1
    assert (verdict.outcome, verdict.detail) == (
        UNAVAILABLE,
        f"HTTP {status} (redirect not followed)",
    )
    (record,) = [r for r in caplog.records if r.getMessage() == "provider redirect not followed"]
    assert record.levelno == logging.WARNING
    assert record.target == f"{target.url}/elsewhere"  # scheme, host, port, path
    assert record.status == status
    logged = repr(record.__dict__)
    assert "session" not in logged and "q-7c1e" not in logged
    assert not any(secret in logged for secret in ("key-1", "login-1", "hmac-1"))


def test_a_relative_redirect_is_logged_against_the_provider_s_url(provider, caplog):
    provider.status, provider.location = 302, "/v2/verify?k=v"
    with caplog.at_level(logging.INFO):
        ReferenceHttpProvider(provider.url).verify(CREDENTIALS)
    (record,) = [r for r in caplog.records if r.getMessage() == "provider redirect not followed"]
    assert record.target == f"{provider.url}/v2/verify"


@pytest.mark.parametrize(
    ("location", "logged"),
    [(None, "(no Location header)"),
     ("http://u:pw@h.example:1/p?q", "http://h.example:1/p"),
     ("http://h.example:99999/p", "(not a URL)"),
     ("https://h.example/key-1/x", "(withheld: it holds a credential)"),
     ("https://h.example/%6Bey-1", "(withheld: it holds a credential)")],
)  # fmt: skip
def test_a_redirect_s_target_is_logged_without_user_info_or_credentials(location, logged):
    assert redirect_target(location, "https://p.example/v1", CREDENTIALS) == logged


def test_a_credential_that_cannot_be_a_header_is_not_quoted(provider):
    verdict = ReferenceHttpProvider(provider.url).verify(
        Credentials("c1", login_id="login-1", key="key-1\r\nX-Injected: 1")
    )
    assert verdict.outcome == UNAVAILABLE and "key-1" not in verdict.detail
    assert provider.seen == []


def test_adapters_are_chosen_by_name():
    assert isinstance(provider_for("reference", "https://p.example"), ReferenceHttpProvider)
    with pytest.raises(ValueError, match="unknown provider adapter 'nope'"):
        provider_for("nope", "https://p.example")
    with pytest.raises(ValueError, match="PROVIDER_URL"):
        provider_for("reference", "")
    assert set(PROVIDERS) == {"reference"}


def test_credentials_never_show_in_a_repr():
    assert "key-1" not in repr(CREDENTIALS) and "hmac-1" not in repr(CREDENTIALS)
