"""Secrets never leave Secrets Manager (docs/api.md, docs/events.md, docs/storage.md).

Canary secret values go through every path of the API and the publisher, with the log
level at DEBUG; then everything observable is searched for them: every response (body
and headers), every log line (Powertools writes JSON to stdout; anything else goes
through ``logging``), metrics (EMF on stdout), the table, its stream, and the events a
subscriber receives. Only Secrets Manager may hold them.
"""

from __future__ import annotations

import json
import logging

import pytest
from botocore.exceptions import ClientError

from tests.harness.customers import full_customer
from tests.harness.handlers import Api, Publisher, wired
from toqio_connector.adapters import aws
from toqio_connector.adapters import dynamodb as dynamodb_adapter
from toqio_connector.adapters import secrets as secrets_adapter

CANARIES = {
    "apiKey": "CANARY-apikey-7f3a-b1c2d3e4",
    "key": "CANARY-ppkey-91d0-e5f6a7b8",
    "loginId": "CANARY-login-44ce-c9d0e1f2",
    "hmacKey": "CANARY-hmac-0b6f-a3b4c5d6",
}
OTHER = "CANARY-other-5d2e-f7a8b9c0"  # a different apiKey: the conflict's
WRONG = "CANARY-wrong-8a1b-d1e2f3a4"  # values in refused requests
ALL = [*CANARIES.values(), OTHER, WRONG]
# The AWS SDK's own wire logging is not the connector's output (see the last test).
SDK_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "moto", "werkzeug")


def betrayals(canary: str) -> list[str]:
    """The canary and recognisable parts of it (each canary's first 8 chars differ)."""
    return [canary, canary[:8], canary[-8:], canary.removeprefix("CANARY-")[:12]]


def assert_clean(where: str, text: str) -> None:
    for canary in ALL:
        for part in betrayals(canary):
            assert part not in text, f"{part!r} (from {canary!r}) found in {where}"


@pytest.fixture
def debug_logs(env, monkeypatch, capsys, caplog):
    """Log level DEBUG everywhere, and stdout captured, before any handler is imported."""
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def api(debug_logs, stack, monkeypatch) -> Api:
    return Api(lambda: wired("customers_api", monkeypatch))


@pytest.fixture
def publisher(debug_logs, stack, monkeypatch) -> Publisher:
    return Publisher(lambda: wired("publisher", monkeypatch))


def powertools_lines(out: str) -> list[dict]:
    """The JSON log lines Powertools wrote (metrics lines have no level)."""
    lines = []
    for line in out.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict) and "level" in parsed:
            lines.append(parsed)
    return lines


def connector_log_text(caplog) -> str:
    lines = []
    for record in caplog.records:
        if record.name.split(".")[0] in SDK_LOGGERS:
            continue
        lines.append(record.getMessage())
        lines.append(repr(record.__dict__))
    return "\n".join(lines)


def test_no_canary_anywhere_but_secrets_manager(
    debug_logs, api, stack, publisher, subscriber, capsys, monkeypatch
):
    replies = []
    good = full_customer("c1", **CANARIES)

    # Created, replayed, found, and a conflicting Create with another secret value.
    replies.append(api.create(good))
    assert replies[-1].status == 200
    replies.append(api.create(good))
    assert replies[-1].status == 200
    replies.append(api.find("c1"))
    assert replies[-1].status == 200
    replies.append(api.create(full_customer("c1", **{**CANARIES, "apiKey": OTHER})))
    assert replies[-1].status == 409
    replies.append(
        api.create({**good, "paymentProvider": {**good["paymentProvider"], "hmacKey": WRONG}})
    )
    assert replies[-1].status == 409

    # Refused before anything is stored: validation, parsing, media type, size, scope.
    too_long = WRONG * (4096 // len(WRONG) + 1)
    refused = [
        {"id": "c2", "apiKey": too_long},
        {"id": "c2", "apiKey": "k", "paymentProvider": {"hmacKey": too_long}},
        {"id": "c2", "apiKey": "k", "paymentProvider": {"loginId": WRONG * 12}},
        {"id": "c2", "apiKey": "k", "notAParameter": WRONG},
        {"id": "c2", "apiKey": "k", "notAParameter": {"deep": [WRONG]}},
        {"id": "c2", "apiKey": "k", "paymentProvider": {"password": WRONG}},
        {"id": "c2", "apiKey": [WRONG]},
        {"id": "c2", "apiKey": {"value": WRONG}},
        {"id": "c2", "apiKey": "k", "paymentProvider": {"key": [WRONG]}},
        {"id": "c2", "apiKey": "k", "paymentProvider": WRONG},
        {"id": "c2", "apiKey": "k", "availableCurrencies": [WRONG]},
        {"id": "c2", "apiKey": "k", "commercialName": WRONG * 10},
        {"id": WRONG + "!", "apiKey": WRONG},
        {"apiKey": WRONG},
    ]
    for body in refused:
        replies.append(api.create(body, customer="c2" if "id" not in body else body["id"]))
        assert replies[-1].status == 400, replies[-1].body
    raw_bodies = [
        f'{{"id": "c2", "apiKey": "{WRONG}"',  # not JSON
        f'{{"id": "c2", "apiKey": "{WRONG}", "apiKey": "{WRONG}"}}',  # duplicate key
        f'{{"id": "c2", "apiKey": "{WRONG}", "n": NaN}}',
        f'["{WRONG}"]',
    ]
    for raw in raw_bodies:
        replies.append(api.call("POST", "/customers", raw, customer="c2"))
        assert replies[-1].status == 400
    replies.append(api.create({"id": "c3", "apiKey": WRONG}, customer="c2"))
    assert replies[-1].status == 403
    replies.append(
        api.create({"id": "c2", "apiKey": WRONG}, headers={"Content-Type": "text/plain"})
    )
    assert replies[-1].status == 415
    replies.append(api.create({"id": "c2", "apiKey": WRONG + " " * 70_000}))
    assert replies[-1].status == 413
    replies.append(api.call("PUT", "/customers/c1", good, customer="c1"))
    assert replies[-1].status == 405

    # Unexpected errors whose message quotes a secret value.
    with monkeypatch.context() as patch:

        def broken_get(self, secret_id, version_id=None):
            raise RuntimeError(f"cannot read secret {CANARIES['apiKey']}")

        patch.setattr(secrets_adapter.SecretsManagerStore, "get", broken_get)
        replies.append(api.create(good))  # a replay reads the secret back
        assert replies[-1].status == 500

    with monkeypatch.context() as patch:

        def broken_put(self, customer):
            raise ValueError(f"Invalid type for parameter Item, value: {WRONG}")

        patch.setattr(dynamodb_adapter.DynamoDbCustomerTable, "put_new", broken_put)
        replies.append(api.create(full_customer("c5", **{**CANARIES, "apiKey": WRONG})))
        assert replies[-1].status == 500

    # AWS throttling, before and after the secret is created.
    with monkeypatch.context() as patch:

        def throttled(**_kwargs):
            raise ClientError(
                {
                    "Error": {"Code": "ThrottlingException", "Message": f"Rate exceeded {WRONG}"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                "PutItem",
            )

        patch.setattr(aws.client("dynamodb"), "put_item", throttled)
        replies.append(api.create(full_customer("c6", **CANARIES)))
        assert replies[-1].status == 503
        patch.setattr(aws.client("secretsmanager"), "create_secret", throttled)
        replies.append(api.create(full_customer("c7", **CANARIES)))
        assert replies[-1].status == 503
    replies.append(api.create(full_customer("c6", **CANARIES)))  # the retry
    assert replies[-1].status == 200

    # The publisher relays every stored change; one delivery fails and is retried.
    records = stack.stream_records()
    assert len(records) == 2  # c1 and c6
    with monkeypatch.context() as patch:

        def failing(**_kwargs):
            raise ClientError(
                {"Error": {"Code": "InternalFailure", "Message": "x"}, "ResponseMetadata": {}},
                "PutEvents",
            )

        patch.setattr(aws.client("events"), "put_events", failing)
        try:
            publisher(records)
        except Exception as exc:  # noqa: BLE001 - how a failed batch is reported is not the point
            assert_clean("the publisher's exception", repr(exc) + str(exc))
    assert publisher(records) == {"batchItemFailures": []}
    events = subscriber.events()
    assert len(events) == 2

    # --- search everything observable --------------------------------------------------
    for reply in replies:
        assert_clean(f"the {reply.status} response", reply.text + json.dumps(reply.headers))
    captured = capsys.readouterr()
    levels = {line["level"] for line in powertools_lines(captured.out)}
    assert {"INFO", "WARNING", "ERROR"} <= levels, "the handlers' logs were captured"
    assert_clean("stdout (Powertools logs and metrics)", captured.out)
    assert_clean("stderr", captured.err)
    assert_clean("log records", connector_log_text(debug_logs))
    assert_clean("the table", json.dumps(stack.raw_items()))
    assert_clean("the stream", json.dumps(stack.stream_records(), default=str))
    assert_clean("the events", "\n".join(subscriber.raw))

    # ...and Secrets Manager does hold them: the paths above really carried them.
    held = "".join(stack.secret_string(s["ARN"]) for s in stack.secret_list())
    for canary in CANARIES.values():
        assert canary in held


def test_logs_of_a_failed_create_say_nothing_of_the_secret(debug_logs, api, capsys, monkeypatch):
    """An error raised with the secret in its message is logged without the message."""

    def broken(self, name, document, token):
        raise RuntimeError(f"CreateSecret failed for {document.get_secret_value()}")

    monkeypatch.setattr(secrets_adapter.SecretsManagerStore, "create", broken)
    reply = api.create(full_customer("c1", **CANARIES))
    assert reply.status == 500
    captured = capsys.readouterr()
    assert "ERROR" in {line["level"] for line in powertools_lines(captured.out)}
    assert_clean("stdout", captured.out + captured.err)
    assert_clean("log records", connector_log_text(debug_logs))
    assert_clean("the response", reply.text)


def test_aws_sdk_debug_logging_does_not_carry_secret_values(debug_logs, api, capsys):
    """Even the AWS SDK's own DEBUG logging (on if the function's log level is DEBUG)."""
    reply = api.create(full_customer("c1", **CANARIES))
    assert reply.status == 200
    sdk = "\n".join(
        record.getMessage()
        for record in debug_logs.records
        if record.name.split(".")[0] in ("botocore", "boto3", "urllib3")
    )
    assert_clean("the AWS SDK's log records", sdk)
