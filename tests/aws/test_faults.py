"""Faults at every step of Create, then the caller's retry (issue: reliability).

Each AWS call Create makes is made to fail in turn, by throttling, a service error, a
timeout or an unexpected error, and the function is made to die right after each call
(so between any two calls). The response must be the contract's (503 + Retry-After for
throttling, outages and timeouts; 500 otherwise; none when the function died), and after
the caller retries the same request until it succeeds the account must hold exactly one
item, one secret holding the right values (current, and the version the item names),
one insert on the stream (so one CustomerCreated), and no orphaned secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from tests.harness.customers import full_customer
from toqio_connector.adapters import aws

BODY = full_customer("f1")
SECRET_DOC = {
    "apiKey": BODY["apiKey"],
    "paymentProvider": {k: BODY["paymentProvider"][k] for k in ("key", "loginId", "hmacKey")},
}


class Died(BaseException):
    """The Lambda process dying mid-request: nothing after this point runs."""


def throttled(operation: str) -> Exception:
    return ClientError(
        {
            "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        operation,
    )


def service_error(operation: str) -> Exception:
    return ClientError(
        {
            "Error": {"Code": "InternalFailure", "Message": "boom"},
            "ResponseMetadata": {"HTTPStatusCode": 500},
        },
        operation,
    )


def timeout(_operation: str) -> Exception:
    return ReadTimeoutError(endpoint_url="https://aws.example")


def unexpected(operation: str) -> Exception:
    return ClientError(
        {
            "Error": {"Code": "ValidationException", "Message": "no"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        operation,
    )


FAULTS = {  # kind -> (exception factory, expected status of the faulty attempt)
    "throttling": (throttled, 503),
    "service-error": (service_error, 503),
    "timeout": (timeout, 503),
    "unexpected": (unexpected, 500),
}


@dataclass
class Injector:
    """Counts the AWS calls of the handler's clients; breaks call number ``at``."""

    at: int = 0
    kind: str = ""
    calls: list[str] = field(default_factory=list)

    def before(self, model, **_kwargs):
        self.calls.append(model.name)
        if len(self.calls) == self.at and self.kind in FAULTS:
            raise FAULTS[self.kind][0](model.name)

    def after(self, model, **_kwargs):
        if len(self.calls) == self.at and self.kind == "dies-after":
            raise Died(model.name)

    def install(self):
        for service in ("dynamodb", "secretsmanager"):
            events = aws.client(service).meta.events
            events.register("before-call.*.*", self.before, unique_id=f"faults-b-{service}")
            events.register("after-call.*.*", self.after, unique_id=f"faults-a-{service}")

    def remove(self):
        for service in ("dynamodb", "secretsmanager"):
            events = aws.client(service).meta.events
            events.unregister("before-call.*.*", unique_id=f"faults-b-{service}")
            events.unregister("after-call.*.*", unique_id=f"faults-a-{service}")


def attempt(api, injector: Injector | None = None):
    """One Create; None if the function died."""
    if injector:
        injector.install()
    try:
        return api.create(BODY)
    except Died:
        return None
    finally:
        if injector:
            injector.remove()


def retry_until_ok(api, limit: int = 5):
    for _ in range(limit):
        reply = api.create(BODY)
        if reply.status == 200:
            return reply
        assert reply.status == 503 and reply.headers["retry-after"], reply.body
    raise AssertionError("the retries never succeeded")


def assert_exactly_one_customer(stack):
    items = stack.items()
    assert [item["id"] for item in items] == ["f1"]
    secrets = stack.secret_list()
    assert len(secrets) == 1, "an orphaned or duplicate secret"
    arn = secrets[0]["ARN"]
    assert items[0]["secretArn"] == arn
    assert json.loads(stack.secret_string(arn)) == SECRET_DOC
    current = [
        v["VersionId"] for v in stack.versions(arn) if "AWSCURRENT" in v.get("VersionStages", [])
    ]
    assert current == [items[0]["secretVersionId"]]
    inserts = [r for r in stack.stream_records() if r["eventName"] == "INSERT"]
    assert len(inserts) == 1, "one stored change, so one CustomerCreated"


def clean_sequence(api) -> list[str]:
    injector = Injector()
    assert attempt(api, injector).status == 200
    return injector.calls


def test_the_happy_path_makes_two_calls(stack, api):
    assert clean_sequence(api) == ["CreateSecret", "PutItem"]
    assert_exactly_one_customer(stack)


FIRST_ATTEMPT = [(at, kind) for at in (1, 2) for kind in [*FAULTS, "dies-after"]]


@pytest.mark.parametrize(
    ("at", "kind"), FIRST_ATTEMPT, ids=[f"call{a}-{k}" for a, k in FIRST_ATTEMPT]
)
def test_fault_in_the_first_attempt_then_retry(stack, api, at, kind):
    reply = attempt(api, Injector(at=at, kind=kind))
    if kind == "dies-after":
        assert reply is None
    else:
        assert reply.status == FAULTS[kind][1]
        if reply.status == 503:
            assert reply.headers["retry-after"].isdigit()
        assert reply.body["code"] in {"SERVICE_UNAVAILABLE", "INTERNAL_ERROR"}
    retry_until_ok(api)
    assert_exactly_one_customer(stack)


# After dying between CreateSecret and PutItem, the retry takes the recovery path:
# CreateSecret (exists) -> GetItem -> GetSecretValue -> PutItem (adopting the secret).
RECOVERY = [(at, kind) for at in (1, 2, 3, 4) for kind in [*FAULTS, "dies-after"]]


@pytest.mark.parametrize(("at", "kind"), RECOVERY, ids=[f"call{a}-{k}" for a, k in RECOVERY])
def test_fault_in_the_recovery_after_a_death(stack, api, at, kind):
    assert attempt(api, Injector(at=1, kind="dies-after")) is None  # secret made, no item
    injector = Injector(at=at, kind=kind)
    reply = attempt(api, injector)
    assert injector.calls[:at] == ["CreateSecret", "GetItem", "GetSecretValue", "PutItem"][:at]
    if kind != "dies-after":
        assert reply.status == FAULTS[kind][1]
    retry_until_ok(api)
    assert_exactly_one_customer(stack)


# A replay of a stored customer: CreateSecret (exists) -> GetItem -> GetSecretValue.
REPLAY = [(at, kind) for at in (1, 2, 3) for kind in FAULTS]


@pytest.mark.parametrize(("at", "kind"), REPLAY, ids=[f"call{a}-{k}" for a, k in REPLAY])
def test_fault_in_a_replay_changes_nothing(stack, api, at, kind):
    first = api.create(BODY)
    before = stack.snapshot()
    reply = attempt(api, Injector(at=at, kind=kind))
    assert reply.status == FAULTS[kind][1]
    assert stack.snapshot() == before
    again = retry_until_ok(api)
    assert again.body["data"] == first.body["data"]
    assert stack.snapshot() == before
    assert_exactly_one_customer(stack)


def test_an_orphan_with_other_content_is_503_while_young_then_taken_over(stack, api):
    """A Create died after CreateSecret; a different Create for the id arrives."""
    from datetime import timedelta

    from toqio_connector.models.clock import utc_now
    from toqio_connector.rules.write_protocol import ABANDONED_AFTER_SECONDS

    assert attempt(api, Injector(at=1, kind="dies-after")) is None
    other = {**BODY, "apiKey": "another-api-key", "commercialName": "Another name"}
    reply = api.create(other)
    assert reply.status == 503 and reply.headers["retry-after"]
    store = api.module.service.store  # time passes: the dead writer's secret is abandoned
    store.clock = lambda: utc_now() + timedelta(seconds=ABANDONED_AFTER_SECONDS + 1)
    reply = api.create(other)
    assert reply.status == 200 and reply.body["data"]["commercialName"] == "Another name"
    assert api.create(BODY).status == 409
    (secret,) = stack.secret_list()
    assert json.loads(stack.secret_string(secret["ARN"]))["apiKey"] == "another-api-key"
    (item,) = stack.items()
    current = [
        v["VersionId"]
        for v in stack.versions(secret["ARN"])
        if "AWSCURRENT" in v.get("VersionStages", [])
    ]
    assert current == [item["secretVersionId"]]
    assert BODY["apiKey"] not in json.dumps(
        [stack.secret_string(s["ARN"]) for s in stack.secret_list()]
    )
