"""The browsable API reference `make run` serves at /docs, fetched over real HTTP."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.harness.http import RunningConnector


@pytest.fixture(scope="module")
def local():
    running = RunningConnector()
    yield running
    running.stop()


def fetch(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - local runner
        return answer.status, answer.headers["Content-Type"], answer.read()


def test_the_page_is_swagger_ui_with_everything_inline(local):
    status, kind, page = fetch(f"{local.api}/docs")
    assert status == 200 and kind.startswith("text/html")
    text = page.decode()
    assert "SwaggerUIBundle(" in text and "<title>Toqio connector API</title>" in text
    assert "src='http" not in text and "href='http" not in text  # offline: nothing fetched


def test_the_document_follows_the_api_port_and_has_every_route(local):
    status, kind, body = fetch(f"{local.api}/docs?format=json")
    document = json.loads(body)
    assert status == 200 and kind.startswith("application/json")
    assert document["servers"] == [{"url": local.api, "description": "make run"}]
    assert set(document["paths"]) == {
        "/customers",
        "/customers/{customerId}",
        "/customers/{customerId}/connectionStatus",
    }


def test_the_banner_names_the_reference_and_the_registry(local):
    assert f"{local.api}/docs" in local.banner
    assert "registry       " in local.banner and "custom_parameters.json" in local.banner


def test_a_401_says_why_in_the_log_never_the_token(local):
    import time
    import urllib.error

    forged = local.token("c1")[:-6] + "AAAAAA"
    for token in ("not.a.jwt", forged):  # shaped as a JWT: the authorizer is asked
        request = urllib.request.Request(
            f"{local.api}/customers/c1", headers={"Authorization": f"Bearer {token}"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)  # noqa: S310 - local runner
        assert refused.value.code == 401
    time.sleep(0.5)
    log = "".join(local.output)
    assert "token refused: malformed token" in log
    assert "token refused: signature does not match a configured key" in log
    assert forged not in log and "not.a.jwt" not in log


def test_a_header_that_is_no_bearer_jwt_is_refused_without_asking_the_authorizer(local):
    import time
    import urllib.error

    time.sleep(0.5)
    asked = "".join(local.output).count("token refused")
    for value in ("Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer a.b", "bearer"):
        request = urllib.request.Request(
            f"{local.api}/customers/c1", headers={"Authorization": value}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)  # noqa: S310 - local runner
        assert refused.value.code == 401
        assert json.loads(refused.value.read())["code"] == "UNAUTHORIZED"
    time.sleep(0.5)
    assert "".join(local.output).count("token refused") == asked


def test_an_encoded_slash_is_part_of_the_id_not_a_separator(local):
    import urllib.error

    request = urllib.request.Request(
        f"{local.api}/customers/c1%2FconnectionStatus",
        headers={"Authorization": f"Bearer {local.token('c1/connectionStatus')}"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310 - local runner
    assert refused.value.code == 404
    assert json.loads(refused.value.read())["code"] == "CUSTOMER_NOT_FOUND"


def test_a_chunked_body_over_10_mib_is_413(local):
    import socket

    port = int(local.api.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(
            b"POST /customers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * (1024 * 1024)
        try:
            for _ in range(11):
                connection.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        except OSError:
            pass  # refused before the end: what was answered is what counts
        answer = b""
        while b'"}' not in answer and (more := connection.recv(65536)):
            answer += more
        answer = answer.decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert '"PAYLOAD_TOO_LARGE"' in answer
