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
    for token in ("not-a-jwt", forged):
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
    assert forged not in log and "not-a-jwt" not in log
