"""The HTTP edge in-process (the runner's HTTP tests run it in another process, where
mutants cannot reach): the caller's id, the body's checks and the exact response text.
Written against the survivors of `make mutate` in edge/http.py (docs/mutation.md)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from toqio_connector.edge import http
from toqio_connector.models.errors import (
    BadRequest,
    Unauthorized,
    UnsupportedMediaType,
)


def event(
    body: str | None = None,
    *,
    base64: bool = False,
    headers: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
    request_id: str | None = "req-1",
) -> APIGatewayProxyEvent:
    context: dict[str, Any] = {"authorizer": authorizer or {}}
    if request_id is not None:
        context["requestId"] = request_id
    return APIGatewayProxyEvent(
        {
            "body": body,
            "isBase64Encoded": base64,
            "headers": headers or {},
            "requestContext": context,
        }
    )


def test_without_a_request_id_the_envelope_has_an_empty_one():
    reply = http.ok({"x": 1}, event(request_id=None))
    assert json.loads(reply.body)["requestId"] == ""


@pytest.mark.parametrize("customer_id", ["", 7, None])
def test_no_verified_customer_id_is_401(customer_id):
    with pytest.raises(Unauthorized):
        http.caller_id(event(authorizer={"customerID": customer_id}))


def test_an_outlived_verdict_is_401_and_says_why_in_the_logs():
    expired = {"customerID": "c1", "exp": str(int(time.time()) - 3600)}
    with pytest.raises(Unauthorized) as refused:
        http.caller_id(event(authorizer=expired))
    assert refused.value.cause == "token expired since the authorizer's (cached) verdict"


def test_an_empty_body_is_no_body_whatever_the_content_type():
    assert http.request_body(event("")) is None
    assert http.request_body(event(None)) is None


def test_a_base64_body_with_characters_outside_the_alphabet_is_400():
    with pytest.raises(BadRequest) as refused:
        http.request_body(
            event("e30=!!", base64=True, headers={"Content-Type": "application/json"})
        )
    assert refused.value.message == "Request body is not valid JSON"


def test_a_lone_surrogate_reaches_the_json_parser_as_bytes():
    body = '{"id": "\ud800"}'
    data = http.request_body(event(body, headers={"Content-Type": "application/json"}))
    assert data == b'{"id": "\xed\xa0\x80"}'


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("application/json", True),
        ("Application/JSON ; charset=utf-8", True),
        ("application/json; charset=utf-8; profile=x", True),
        ("text/plain; application/json", False),
        ("application/jsonx", False),
    ],
)
def test_the_media_type_is_what_comes_before_the_first_semicolon(content_type, accepted):
    request = event("{}", headers={"Content-Type": content_type})
    if accepted:
        assert http.request_body(request) == b"{}"
    else:
        with pytest.raises(UnsupportedMediaType):
            http.request_body(request)


def test_responses_are_compact_json_with_text_as_it_is():
    reply = http.ok({"name": "Café €", "n": [1, 2]}, event())
    assert '"data":{"name":"Café €","n":[1,2]}' in reply.body
    assert ", " not in reply.body and ": " not in reply.body
