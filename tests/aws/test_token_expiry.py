"""A cached authorizer verdict never outlives its token (docs/api.md, Authentication).

API Gateway serves the authorizer's verdict for ``AuthorizerCacheSeconds`` (300 s by
default) without asking again; the authorizer therefore hands over the token's ``exp``
in its context (as a string, as API Gateway does with context values), and the customers
API refuses, on every request and before anything is read, one whose ``exp`` plus the
60 s leeway has passed. Over the local runner's real HTTP: ``test_local_runner.py``.
"""

from __future__ import annotations

import time

from tests.harness.customers import full_customer
from toqio_connector.rules.tokens import LEEWAY_SECONDS


def with_expiry(event: dict, exp: object) -> dict:
    event["requestContext"]["authorizer"]["exp"] = exp
    return event


def past_leeway() -> str:
    return str(int(time.time()) - LEEWAY_SECONDS - 2)


def within_leeway() -> str:
    return str(int(time.time()) - LEEWAY_SECONDS + 30)


def test_create_with_a_verdict_past_its_tokens_expiry_is_401_and_stores_nothing(api, stack):
    reply = api.invoke(
        with_expiry(api.event("POST", "/customers", full_customer("c1")), past_leeway())
    )
    assert (reply.status, reply.body["code"]) == (401, "UNAUTHORIZED")
    assert stack.raw_items() == [] and stack.secret_list() == []


def test_find_with_a_verdict_past_its_tokens_expiry_is_401(api, stack):
    assert api.create(full_customer("c1")).status == 200
    reply = api.invoke(with_expiry(api.event("GET", "/customers/c1", customer="c1"), past_leeway()))
    assert (reply.status, reply.body["code"]) == (401, "UNAUTHORIZED")
    assert "ACME" not in reply.text


# (method, path, body, headers) that would otherwise be 400, 415, 413, 405, and a Find of
# an odd id (routed through the not-found handler).
ELSEWHERE = [
    ("POST", "/customers", "{not json", None),
    ("POST", "/customers", "{}", {"Content-Type": "text/plain"}),
    ("POST", "/customers", "x" * (65 * 1024), None),
    ("DELETE", "/customers/c1", None, None),
    ("GET", "/customers/c1%3F", None, None),
]


def test_an_outlived_verdict_is_401_before_anything_else(api):
    for method, path, body, headers in ELSEWHERE:
        event = api.event(method, path, body, customer="c1", headers=headers)
        reply = api.invoke(with_expiry(event, past_leeway()))
        assert (reply.status, reply.body["code"]) == (401, "UNAUTHORIZED"), (method, path)


def test_an_unreadable_expiry_in_the_context_is_401(api):
    for exp in ["soon", "", "1e12", "12.5", "None", "-", "[]"]:
        reply = api.invoke(with_expiry(api.event("GET", "/customers/c1", customer="c1"), exp))
        assert (reply.status, reply.body["code"]) == (401, "UNAUTHORIZED"), exp


def test_a_verdict_within_the_leeway_or_without_expiry_is_honoured(api):
    event = with_expiry(api.event("POST", "/customers", full_customer("c1")), within_leeway())
    assert api.invoke(event).status == 200
    far = str(int(time.time()) + 3600)
    assert api.invoke(with_expiry(api.event("GET", "/customers/c1"), far)).status == 200
    assert api.invoke(with_expiry(api.event("GET", "/customers/c1"), int(far))).status == 200
    assert api.find("c1").status == 200  # a token without exp: nothing to outlive
