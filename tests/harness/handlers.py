"""The Lambda handlers as tests call them: each ``functions/<name>/app.py`` imported once,
under its real name (``functions.<name>.app``), and rewired per test.

A handler module builds its dependencies at import, through ``toqio_connector.bootstrap``
from settings read from the environment. ``wired`` builds them again, with the same
bootstrap function, from the test's environment and inside its AWS mock, and puts them
in place of the module's for that test only (``monkeypatch`` restores them). The
module's logger is pointed at the test's stdout and given the environment's log level,
as a fresh import would configure it.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from tests.harness.aws import REGION

# function folder -> (the module's attribute holding its wiring, the bootstrap builder)
WIRING = {
    "customers_api": ("service", "customers_api"),
    "publisher": ("publisher", "publisher"),
    "authorizer": ("verifier", "authorizer"),
    "linker": ("linker", "linker"),
}

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


class Context:
    function_name = "toqio-connector-test"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:toqio-connector-test"
    aws_request_id = "lambda-request-1"


def function_module(name: str) -> ModuleType:
    """``functions.<name>.app``, imported once (with the current environment)."""
    return importlib.import_module(f"functions.{name}.app")


def wired(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``functions.<name>.app`` wired from the current environment and AWS for this test."""
    from toqio_connector import bootstrap

    module = function_module(name)
    attribute, builder = WIRING[name]
    monkeypatch.setattr(module, attribute, getattr(bootstrap, builder)())
    logger = module.logger
    logger.setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"))
    handler = getattr(logger, "registered_handler", None)  # Powertools' (the authorizer: none)
    if isinstance(handler, logging.StreamHandler):
        # the stdout pytest captures for this test (not setStream: it would flush the
        # stream of an earlier test, closed by now)
        handler.stream = sys.stdout
    return module


def load_handler(name: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """``wired`` with ``env`` set and the AWS clients made anew (in the test's own mock)."""
    from toqio_connector.adapters import aws

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    aws.client.cache_clear()
    return wired(name, monkeypatch).lambda_handler


# --- the customers API -------------------------------------------------------------------


def api_event(method: str, path: str, body: Any = None, customer_id: str = "c1") -> dict:
    """A minimal API Gateway REST proxy event, after the authorizer let ``customer_id`` in."""
    return {
        "resource": "/customers" if path == "/customers" else "/customers/{customerId}",
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "pathParameters": None,
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
        "requestContext": {"requestId": "req-test", "authorizer": {"customerID": customer_id}},
    }


def call(handler: Any, *args: Any, **kwargs: Any) -> tuple[int, dict]:
    response = handler(api_event(*args, **kwargs), Context())
    return response["statusCode"], json.loads(response["body"])


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: Any
    text: str
    request_id: str
    raw: dict[str, Any]


def check_envelope(reply: Reply) -> None:
    """What every response of the API must look like (docs/api.md, Envelopes)."""
    assert reply.headers.get("content-type", "").split(";")[0].strip() == "application/json", (
        reply.headers
    )
    assert isinstance(reply.body, dict), reply.text
    body = reply.body
    assert body.get("httpStatus") == reply.status, body
    assert body.get("requestId") == reply.request_id, body
    assert isinstance(body.get("date"), str) and DATE.match(body["date"]), body
    parsed = datetime.strptime(body["date"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - parsed).total_seconds()) < 300
    assert isinstance(body.get("code"), str) and body["code"]
    assert isinstance(body.get("message"), str) and body["message"]
    if reply.status == 200:
        assert body["code"] == "OK"
        assert body["errorSeverity"] == "NONE"
        assert body["message"] == "Ok"
        assert set(body) == {
            "data",
            "code",
            "errorSeverity",
            "message",
            "httpStatus",
            "requestId",
            "date",
        }
    else:
        assert body["errorSeverity"] == "ERROR"
        assert body["errorOrigin"] == "connector"
        assert set(body) <= {
            "data",
            "code",
            "errorSeverity",
            "message",
            "httpStatus",
            "requestId",
            "date",
            "errorOrigin",
        }
        assert "Traceback" not in reply.text
        assert 'File "' not in reply.text


class Api:
    """The customers API handler, called with API Gateway REST proxy events.

    The handler is wired on first use, i.e. in the test's own body: pytest gives
    ``capsys`` a new stdout for the call phase, and the logger is pointed at the stdout
    current when it is wired.
    """

    def __init__(self, load: Any) -> None:
        self._load = load
        self._module: Any = None
        self.calls = 0

    @property
    def module(self) -> Any:
        if self._module is None:
            self._module = self._load()
        return self._module

    def event(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        customer: str | None = "c1",
        headers: dict[str, str] | None = None,
        base64: bool = False,
    ) -> dict[str, Any]:
        self.calls += 1
        if body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        if headers is None:
            headers = {"Content-Type": "application/json"} if body is not None else {}
        resource = path
        path_parameters = None
        match = re.fullmatch(r"/customers/([^/]+)", path)
        if match:
            resource, path_parameters = "/customers/{customerId}", {"customerId": match[1]}
        elif path == "/customers":
            resource = "/customers"
        else:
            resource = "/{proxy+}"
        authorizer = {"principalId": customer, "customerID": customer} if customer else {}
        return {
            "resource": resource,
            "path": path,
            "httpMethod": method,
            "headers": dict(headers),
            "multiValueHeaders": {key: [value] for key, value in headers.items()},
            "queryStringParameters": None,
            "multiValueQueryStringParameters": None,
            "pathParameters": path_parameters,
            "stageVariables": None,
            "body": body,
            "isBase64Encoded": base64,
            "requestContext": {
                "requestId": f"req-{self.calls}-{uuid.uuid4().hex[:8]}",
                "resourcePath": resource,
                "httpMethod": method,
                "path": f"/live{path}",
                "stage": "live",
                "authorizer": authorizer,
                "identity": {"sourceIp": "203.0.113.1"},
            },
        }

    def invoke(self, event: dict[str, Any]) -> Reply:
        raw = self.module.lambda_handler(event, Context())
        headers = {key.lower(): str(value) for key, value in (raw.get("headers") or {}).items()}
        for key, values in (raw.get("multiValueHeaders") or {}).items():
            headers.setdefault(key.lower(), ", ".join(str(v) for v in values))
        text = raw.get("body") or ""
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        reply = Reply(
            status=raw["statusCode"],
            headers=headers,
            body=body,
            text=text,
            request_id=event["requestContext"]["requestId"],
            raw=raw,
        )
        check_envelope(reply)
        return reply

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.invoke(self.event(method, path, body, **kwargs))

    def create(self, body: dict[str, Any], **kwargs: Any) -> Reply:
        kwargs.setdefault("customer", body.get("id") if isinstance(body.get("id"), str) else "c1")
        return self.call("POST", "/customers", body, **kwargs)

    def find(self, customer_id: str, **kwargs: Any) -> Reply:
        kwargs.setdefault("customer", customer_id)
        return self.call("GET", f"/customers/{customer_id}", **kwargs)


class Publisher:
    """The publisher's handler (wired on first use): ``publisher(records)``."""

    def __init__(self, load: Any) -> None:
        self._load = load
        self._module: Any = None

    def __call__(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        if self._module is None:
            self._module = self._load()
        return self._module.lambda_handler({"Records": records}, Context())
