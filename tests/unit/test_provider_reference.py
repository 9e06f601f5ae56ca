"""The reference provider adapter over real HTTP: its request, its signature, how each
answer maps to accepted, refused or unavailable, the redirects it never follows, and the
URLs it takes (https; http only as the sandbox adapter, to a loopback host), and the
deadline within which a whole call ends.

The local servers here speak http on 127.0.0.1, so most tests use the sandbox adapter
(the same class but for its URL check); the https ones use a throwaway certificate."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from toqio_connector.ports import ACCEPTED, REFUSED, UNAVAILABLE, Credentials
from toqio_connector.providers import PROVIDERS, provider_for
from toqio_connector.providers.reference_http import (
    TIMEOUT_SECONDS,
    Deadline,
    DeadlinePassed,
    ReferenceHttpProvider,
    SandboxHttpProvider,
    redirect_target,
    signature,
)
from toqio_local.template import ResolvedTemplate

CREDENTIALS = Credentials("c1", login_id="login-1", key="key-1", hmac_key="hmac-1")


class Provider:
    """A provider answering ``status`` and remembering each request it got (over https
    if given a server-side TLS context)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
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
        scheme = "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture
def provider():
    running = Provider()
    yield running
    running.server.shutdown()


def test_the_request_is_signed_and_carries_the_credentials(provider):
    verdict = SandboxHttpProvider(provider.url).verify(CREDENTIALS)
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
    SandboxHttpProvider(provider.url).verify(Credentials("c1", login_id="l", key="k"))
    assert "X-Signature" not in provider.seen[0]["headers"]


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, ACCEPTED), (204, ACCEPTED), (400, REFUSED), (401, REFUSED), (403, REFUSED),
     (404, REFUSED), (409, UNAVAILABLE), (429, UNAVAILABLE), (500, UNAVAILABLE),
     (503, UNAVAILABLE)],
)  # fmt: skip
def test_answers_map_to_outcomes(provider, status, outcome):
    provider.status = status
    verdict = SandboxHttpProvider(provider.url).verify(CREDENTIALS)
    assert verdict.outcome == outcome
    assert "key-1" not in verdict.detail and "login-1" not in verdict.detail


def test_an_unreachable_provider_is_unavailable():
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    url = f"http://127.0.0.1:{closed.server_address[1]}"
    closed.server_close()
    assert SandboxHttpProvider(url).verify(CREDENTIALS).outcome == UNAVAILABLE


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
        verdict = SandboxHttpProvider(provider.url).verify(CREDENTIALS)
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
        SandboxHttpProvider(provider.url).verify(CREDENTIALS)
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
    verdict = SandboxHttpProvider(provider.url).verify(
        Credentials("c1", login_id="login-1", key="key-1\r\nX-Injected: 1")
    )
    assert verdict.outcome == UNAVAILABLE and "key-1" not in verdict.detail
    assert provider.seen == []


def test_adapters_are_chosen_by_name():
    reference = provider_for("reference", "https://p.example")
    assert type(reference) is ReferenceHttpProvider
    sandbox = provider_for("sandbox", "http://127.0.0.1:5001")
    assert type(sandbox) is SandboxHttpProvider
    with pytest.raises(ValueError, match="unknown provider adapter 'nope'"):
        provider_for("nope", "https://p.example")
    with pytest.raises(ValueError, match="PROVIDER_URL"):
        provider_for("reference", "")
    assert set(PROVIDERS) == {"reference", "sandbox"}


PASSWORD = "pw-5e1d"  # a URL's password must never show in a refusal


@pytest.mark.parametrize(
    "url",
    ["http://p.example", "http://127.0.0.1:5001", "http://localhost", "ftp://p.example",
     "p.example", "//p.example", "", "https://", "https://:443", f"https://u:{PASSWORD}@p.example",
     f"https://{PASSWORD}@p.example", f"http://u:{PASSWORD}@p.example", "https://p.example?a=1",
     "https://p.example/#x", "https://p.example?", "https://p.example:99999",
     "https://p.example:port", "https://[::1", "https://p.exa mple", "https://p.example\n/x"],
)  # fmt: skip
def test_the_reference_adapter_takes_only_an_https_base_url(url):
    with pytest.raises(ValueError, match="PROVIDER_URL") as refused:
        ReferenceHttpProvider(url)
    assert PASSWORD not in str(refused.value) and "p.example" not in str(refused.value)


@pytest.mark.parametrize(
    ("url", "calls"),
    [("https://p.example", "https://p.example/v1/credentials/verify"),
     ("HTTPS://p.example/", "https://p.example/v1/credentials/verify"),
     ("https://p.example:8443/base/", "https://p.example:8443/base/v1/credentials/verify"),
     ("https://[2001:db8::1]/", "https://[2001:db8::1]/v1/credentials/verify")],
)  # fmt: skip
def test_an_https_base_url_is_taken(url, calls):
    assert ReferenceHttpProvider(url).url == calls


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:5001", "http://[::1]:5001/", "http://localhost:5001",
     "https://localhost:5001"],
)  # fmt: skip
def test_the_sandbox_adapter_takes_a_loopback_host_over_http(url):
    assert SandboxHttpProvider(url).url == url.rstrip("/") + "/v1/credentials/verify"


@pytest.mark.parametrize(
    "url",
    ["http://p.example", "https://p.example", "http://10.0.0.1:5001", "http://127.0.0.2",
     "http://localhost.p.example", "http://127.0.0.1.nip.io", "http://0.0.0.0:5001",
     f"http://u:{PASSWORD}@127.0.0.1:5001", "ftp://127.0.0.1", "127.0.0.1:5001"],
)  # fmt: skip
def test_the_sandbox_adapter_refuses_any_other_host(url):
    with pytest.raises(ValueError, match="PROVIDER_URL") as refused:
        SandboxHttpProvider(url)
    assert PASSWORD not in str(refused.value)


def test_the_template_takes_only_an_https_provider_url():
    parameter = ResolvedTemplate.read().template["Parameters"]["ProviderUrl"]
    assert parameter["AllowedPattern"] == "^https://" and parameter["ConstraintDescription"]
    assert "Default" not in parameter  # an empty URL would fail it: the URL is required


# -- over https ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A throwaway certificate for 127.0.0.1: (the server's context, a client's trusting it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cafile=str(folder / "cert.pem"))
    return server, client


@pytest.fixture
def https_provider(certificate):
    running = Provider(tls=certificate[0])
    yield running
    running.server.shutdown()


def test_over_https_the_request_is_signed_and_accepted(https_provider, certificate):
    adapter = ReferenceHttpProvider(https_provider.url, tls_context=certificate[1])
    assert adapter.verify(CREDENTIALS).outcome == ACCEPTED
    (seen,) = https_provider.seen
    assert seen["headers"]["Authorization"] == "Key key-1"
    assert seen["headers"]["Host"] == https_provider.url.removeprefix("https://")


def test_an_untrusted_certificate_is_unavailable(https_provider):
    verdict = ReferenceHttpProvider(https_provider.url).verify(CREDENTIALS)
    assert (verdict.outcome, verdict.detail) == (UNAVAILABLE, "SSLCertVerificationError")
    assert https_provider.seen == []


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_an_https_to_http_redirect_sends_nothing_in_clear_text(
    https_provider, certificate, target, status
):
    https_provider.status = status
    https_provider.location = f"{target.url}/v1/credentials/verify"
    verdict = ReferenceHttpProvider(https_provider.url, tls_context=certificate[1]).verify(
        CREDENTIALS
    )
    assert (verdict.outcome, verdict.detail) == (
        UNAVAILABLE,
        f"HTTP {status} (redirect not followed)",
    )
    assert len(https_provider.seen) == 1 and target.seen == []


def test_credentials_never_show_in_a_repr():
    assert "key-1" not in repr(CREDENTIALS) and "hmac-1" not in repr(CREDENTIALS)


# -- the deadline of a whole call ------------------------------------------------------

TRICKLE_SECONDS = 0.5  # between two bytes of a trickling provider
TRICKLED = 1000  # bytes it would trickle: 500 s of them


class Trickler:
    """A provider that sends ``prefix`` at once, then ``trickled`` one byte every 0.5 s;
    it counts the bytes it managed to send and notices when the caller hangs up."""

    def __init__(self, prefix: bytes, trickled: bytes) -> None:
        self.prefix, self.trickled = prefix, trickled
        self.sent = 0  # of ``trickled``
        self.hung_up = threading.Event()  # the caller closed before the last byte
        self.finished = threading.Event()
        self._stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            connection.recv(65536)  # the request (or a TLS ClientHello)
            try:
                connection.sendall(self.prefix)
                for byte in self.trickled:
                    if self._stop.wait(TRICKLE_SECONDS):
                        return
                    connection.sendall(bytes([byte]))
                    self.sent += 1
            except OSError:  # reset, broken pipe: the caller is gone
                self.hung_up.set()
                return
            self.finished.set()

    def stop(self) -> None:
        self._stop.set()
        self.listener.close()


TRICKLING = {  # what a provider trickles: (scheme, sent at once, trickled)
    "the status line": ("http", b"", b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * TRICKLED),
    "the headers": ("http", b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"a" * TRICKLED),
    "the body": (
        "http",
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % TRICKLED,
        b"x" * TRICKLED,
    ),
    # a TLS handshake record announcing 4 KiB, which never comes in time
    "the TLS handshake": ("https", b"\x16\x03\x03\x10\x00", b"\x00" * TRICKLED),
}


@pytest.mark.parametrize("part", list(TRICKLING))
def test_a_trickling_provider_is_given_up_at_the_deadline(part):
    """Each byte comes well within the 8 s socket timeout, so only the call's deadline
    ends it: the provider manages a handful of its thousand bytes, then sees the caller
    hang up (bounded work, whatever the machine's speed)."""
    scheme, prefix, trickled = TRICKLING[part]
    trickler = Trickler(prefix, trickled)
    url = f"{scheme}://127.0.0.1:{trickler.port}"
    adapter = SandboxHttpProvider(url)
    try:
        verdict = adapter.verify(CREDENTIALS, within=1.5)
        assert (verdict.outcome, verdict.detail) == (UNAVAILABLE, "deadline")
        assert trickler.hung_up.wait(30), "the provider never saw the caller hang up"
        assert not trickler.finished.is_set()
        assert trickler.sent < 20 < len(trickled)  # 1.5 s of bytes, and one or two more
    finally:
        trickler.stop()


@pytest.mark.parametrize("within", [0, -1.0, math.nan])
def test_no_time_left_is_unavailable_without_connecting(within):
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        verdict = SandboxHttpProvider(url).verify(CREDENTIALS, within=within)
        assert (verdict.outcome, verdict.detail) == (UNAVAILABLE, "deadline")
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):  # nobody connected
            listener.accept()
    finally:
        listener.close()


def test_a_provider_in_time_is_answered_within_any_deadline(provider):
    assert SandboxHttpProvider(provider.url).verify(CREDENTIALS, within=5).outcome == ACCEPTED
    assert SandboxHttpProvider(provider.url).verify(CREDENTIALS, within=math.inf).outcome == (
        ACCEPTED
    )


def test_each_socket_operation_waits_what_is_left_and_at_most_the_timeout():
    assert Deadline(3600).remaining() == TIMEOUT_SECONDS
    assert 0 < Deadline(1).remaining() <= 1
    with pytest.raises(DeadlinePassed):
        Deadline(-1).remaining()
    assert Deadline(-1).passed() and not Deadline(60).passed()
