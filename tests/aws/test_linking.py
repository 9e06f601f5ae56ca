"""Provider linking and connection status (contract sections 7 and 10), against moto.

The linker's rule runs in-process over the real adapters, with a scripted provider; the
customers API answers the status; the publisher turns a stored status into exactly one
``CustomerConnectionChanged`` (and never a ``CustomerUpdated``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.harness.aws import customer_table, secret_store
from tests.harness.customers import full_customer, secret_values_of
from tests.harness.registries import ROOT
from toqio_connector.models.clock import utc_now
from toqio_connector.ports import ACCEPTED, REFUSED, UNAVAILABLE, Credentials, Verdict
from toqio_connector.rules.linking import Linker, LinkRequest, TryAgainLater
from toqio_connector.rules.operator_changes import Change, CustomerUpdater
from toqio_connector.rules.registry import load_registry


class ScriptedProvider:
    """A provider adapter whose answers are given by the test; it records who asked."""

    required = ("login_id", "key")

    def __init__(self, *outcomes: str) -> None:
        self.outcomes = list(outcomes) or [ACCEPTED]
        self.asked: list[Credentials] = []

    def verify(self, credentials: Credentials, within: float = 8.0) -> Verdict:
        self.asked.append(credentials)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        return Verdict(outcome, "scripted")


class Clock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> Any:
        return self.now


def linker(provider: ScriptedProvider, clock: Clock | None = None, window: float = 3600) -> Linker:
    return Linker(customer_table(), secret_store(""), provider, window, clock or utc_now)


def request_for(customer_id: str, sent_at: Any = None) -> LinkRequest:
    """What the event of the customer's current stored change asks."""
    stored = customer_table().get(customer_id)
    assert stored is not None
    return LinkRequest(
        customer_id, stored.secretArn, stored.secretVersionId, stored.version, sent_at or utc_now()
    )


def status(api, customer_id: str):
    return api.call("GET", f"/customers/{customer_id}/connectionStatus", customer=customer_id)


def test_accepted_credentials_are_connected(api, stack):
    assert api.create(full_customer("c1")).status == 200
    pending = status(api, "c1")
    assert pending.status == 503 and pending.body["code"] == "SERVICE_UNAVAILABLE"
    assert int(pending.headers["retry-after"]) >= 1
    provider = ScriptedProvider(ACCEPTED)
    stored = linker(provider).link(request_for("c1"))
    assert stored is not None and (stored.status, stored.reason) == (
        "CONNECTED",
        "CREDENTIALS_ACCEPTED",
    )
    (asked,) = provider.asked
    assert (asked.login_id, asked.key) == ("Lg5d1eT7-login-value", "Pk2b8cR4-key-value")
    reply = status(api, "c1")
    assert reply.status == 200 and reply.body["data"] == "CONNECTED"
    assert api.find("c1").body["data"] == api.create(full_customer("c1")).body["data"]


def test_refused_credentials_are_failed(api, stack):
    api.create(full_customer("c1", loginId="invalid-login"))
    stored = linker(ScriptedProvider(REFUSED)).link(request_for("c1"))
    assert (stored.status, stored.reason) == ("FAILED", "CREDENTIALS_REFUSED")
    assert status(api, "c1").body["data"] == "FAILED"


def test_a_customer_without_credentials_is_failed_without_asking(api, stack):
    api.create({"id": "c1", "apiKey": "only-an-api-key-0001"})
    provider = ScriptedProvider()
    stored = linker(provider).link(request_for("c1"))
    assert (stored.status, stored.reason) == ("FAILED", "CREDENTIALS_MISSING")
    assert provider.asked == []


def test_unreachable_then_recovered(api, stack):
    api.create(full_customer("c1"))
    provider = ScriptedProvider(UNAVAILABLE, ACCEPTED)
    with pytest.raises(TryAgainLater):
        linker(provider).link(request_for("c1"))
    assert "connectionStatus" not in stack.raw_items()[0]
    assert status(api, "c1").status == 503
    assert linker(provider).link(request_for("c1")).status == "CONNECTED"
    assert status(api, "c1").body["data"] == "CONNECTED"


def test_unreachable_past_the_window_is_failed(api, stack):
    api.create(full_customer("c1"))
    clock = Clock()
    request = request_for("c1", sent_at=clock.now)
    with pytest.raises(TryAgainLater):
        linker(ScriptedProvider(UNAVAILABLE), clock, window=60).link(request)
    clock.now += timedelta(seconds=61)
    stored = linker(ScriptedProvider(UNAVAILABLE), clock, window=60).link(request)
    assert (stored.status, stored.reason) == ("FAILED", "PROVIDER_UNREACHABLE")


def test_a_redelivered_event_changes_nothing(api, stack, publisher, subscriber):
    api.create(full_customer("c1"))
    request = request_for("c1")
    assert linker(ScriptedProvider()).link(request) is not None
    before = stack.raw_items()
    provider = ScriptedProvider(REFUSED)
    assert linker(provider).link(request) is None
    assert provider.asked == [] and stack.raw_items() == before
    publisher(stack.stream_records())
    kinds = [event["detail-type"] for event in subscriber.events()]
    assert kinds == ["CustomerCreated", "CustomerConnectionChanged"]


def operator() -> CustomerUpdater:
    return CustomerUpdater(customer_table(), secret_store(""), load_registry())


def test_a_stale_result_never_overwrites_a_newer_one(api, stack):
    api.create(full_customer("c1"))
    first = request_for("c1")
    operator().update("c1", Change(secrets={"paymentProvider.loginId": "invalid-new-login"}))
    second = request_for("c1")
    assert second.version == 2 and second.secret_version_id != first.secret_version_id
    assert linker(ScriptedProvider(REFUSED)).link(second).status == "FAILED"
    assert linker(ScriptedProvider(ACCEPTED)).link(first) is None  # older credentials
    item = stack.raw_items()[0]
    assert item["connectionSecretVersionId"]["S"] == second.secret_version_id
    assert status(api, "c1").body["data"] == "FAILED"


def test_an_operator_secret_change_relinks_and_the_status_follows(
    api, stack, publisher, subscriber
):
    api.create(full_customer("c1"))
    linker(ScriptedProvider(ACCEPTED)).link(request_for("c1"))
    assert status(api, "c1").body["data"] == "CONNECTED"
    operator().update("c1", Change(secrets={"paymentProvider.loginId": "invalid-new-login"}))
    assert status(api, "c1").status == 503  # the new credentials are not checked yet
    stored = linker(ScriptedProvider(REFUSED)).link(request_for("c1"))
    assert stored.version == 2
    assert status(api, "c1").body["data"] == "FAILED"
    publisher(stack.stream_records())
    events = subscriber.events()
    assert [e["detail-type"] for e in events] == [
        "CustomerCreated",
        "CustomerConnectionChanged",
        "CustomerUpdated",
        "CustomerConnectionChanged",
    ]
    created, connected, updated, failed = (e["detail"] for e in events)
    assert (created["version"], updated["version"]) == (1, 2)
    assert created["secretVersionId"] != updated["secretVersionId"]
    assert connected == {
        "eventVersion": "1",
        "customerId": "c1",
        "status": "CONNECTED",
        "reason": "CREDENTIALS_ACCEPTED",
        "version": 1,
        "checkedAt": connected["checkedAt"],
    }
    assert (failed["status"], failed["reason"], failed["version"]) == (
        "FAILED",
        "CREDENTIALS_REFUSED",
        2,
    )


def test_a_change_of_other_fields_keeps_the_status(api, stack, monkeypatch, tmp_path):
    registry = tmp_path / "r.json"
    registry.write_text(json.dumps({"type": "object", "properties": {"tier": {"type": "string"}}}))
    monkeypatch.setenv("CUSTOM_PARAMETERS_FILE", str(registry))
    api.create(full_customer("c1"))
    linker(ScriptedProvider(ACCEPTED)).link(request_for("c1"))
    CustomerUpdater(customer_table(), secret_store(""), load_registry(registry)).update(
        "c1", Change(values={"tier": "gold"})
    )
    assert status(api, "c1").body["data"] == "CONNECTED"  # same credentials: still checked
    assert linker(ScriptedProvider(REFUSED)).link(request_for("c1")) is None


def test_status_refusals(api, stack):
    assert status(api, "nobody").status == 404
    assert status(api, "nobody").body["code"] == "CUSTOMER_NOT_FOUND"
    api.create(full_customer("c1"))
    other = api.call("GET", "/customers/c1/connectionStatus", customer="c2")
    assert other.status == 403
    wrong = api.call("POST", "/customers/c1/connectionStatus", customer="c1")
    assert wrong.status == 405 and wrong.headers["allow"] == "GET"


def test_no_secret_value_in_a_status_its_event_or_the_item(api, stack, publisher, subscriber):
    body = full_customer("c1", loginId="canary-login-7731", key="canary-key-5519")
    api.create(body)
    linker(ScriptedProvider(REFUSED)).link(request_for("c1"))
    publisher(stack.stream_records())
    seen = json.dumps(stack.raw_items()) + json.dumps(subscriber.events())
    seen += json.dumps(status(api, "c1").body)
    for value in secret_values_of(body):
        assert value not in seen


SCHEMAS = json.loads((ROOT / "docs" / "events.schema.json").read_text())


def test_every_event_matches_its_documented_schema(api, stack, publisher, subscriber):
    from jsonschema import Draft202012Validator

    api.create(full_customer("c1"))
    linker(ScriptedProvider(ACCEPTED)).link(request_for("c1"))
    operator().update("c1", Change(secrets={"paymentProvider.loginId": "other-login-0001"}))
    linker(ScriptedProvider(UNAVAILABLE), window=0).link(request_for("c1"))
    publisher(stack.stream_records())
    events = subscriber.events()
    assert {e["detail-type"] for e in events} == set(SCHEMAS)
    for event in events:
        Draft202012Validator(SCHEMAS[event["detail-type"]]).validate(event["detail"])


def test_the_documented_reasons_are_the_code_s():
    from toqio_connector.rules.linking import REASONS

    documented = SCHEMAS["CustomerConnectionChanged"]["properties"]["reason"]["enum"]
    assert documented == list(REASONS)
    page = (ROOT / "docs" / "linking.md").read_text()
    for reason, meaning in REASONS.items():
        assert f"| `{reason}` |" in page and meaning in page


class Queue:
    """The linker's queue, in memory."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, messages: list[dict[str, Any]]) -> None:
        self.sent.extend(messages)


def test_relink_checks_again_through_the_same_event_path(api, stack):
    from toqio_connector.rules.linking import Relinker

    api.create(full_customer("c1"))
    api.create(full_customer("c2"))
    linker(ScriptedProvider(REFUSED)).link(request_for("c1"))
    linker(ScriptedProvider(ACCEPTED)).link(request_for("c2"))
    queue = Queue()
    relinker = Relinker(customer_table(), queue)
    assert [customer.id for customer in relinker.failed()] == ["c1"]
    assert relinker.relink_all(["c1", "gone"]) == ["c1"]
    (message,) = queue.sent
    request = LinkRequest.from_event(json.loads(json.dumps(message)))
    assert request.relink and request.customer_id == "c1"
    provider = ScriptedProvider(ACCEPTED)
    assert linker(provider).link(request).status == "CONNECTED"  # checked again
    assert len(provider.asked) == 1
    assert status(api, "c1").body["data"] == "CONNECTED"
    assert list(relinker.failed()) == []


def test_the_provider_is_asked_about_its_own_id_for_the_customer_when_given(api, stack):
    """paymentProvider.customerId (the provider's id, not secret, in the item) is what the
    provider knows the customer by; without it, the Toqio id is sent."""
    with_id = full_customer("c1")
    with_id["paymentProvider"]["customerId"] = "acme-merchant-77"
    without_id = full_customer("c2")
    without_id["paymentProvider"].pop("customerId", None)
    api.create(with_id)
    api.create(without_id)
    provider = ScriptedProvider(ACCEPTED)
    linker(provider).link(request_for("c1"))
    linker(provider).link(request_for("c2"))
    assert [(a.customer_id, a.provider_customer_id) for a in provider.asked] == [
        ("c1", "acme-merchant-77"),
        ("c2", None),
    ]
