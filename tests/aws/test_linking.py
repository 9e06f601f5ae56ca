"""Provider linking and connection status, against moto (docs/linking.md, docs/events.md).

The linker's rule runs in-process over the real adapters, with a scripted provider; the
customers API answers the status; the publisher turns a stored status into exactly one
``CustomerConnectionChanged`` (and never a ``CustomerUpdated``). A message on the
linker's queue is only a hint naming a customer: everything else comes from the item,
so forged messages (last part) do what the genuine one would, or nothing.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from itertools import islice
from typing import Any
from uuid import uuid4

import pytest

from tests.aws.test_no_leaks import powertools_lines
from tests.harness.aws import TABLE, customer_table, secret_store
from tests.harness.customers import full_customer, secret_values_of
from tests.harness.registries import ROOT
from toqio_connector.adapters.sqs import RELINK_SOURCE, hint_message
from toqio_connector.edge.messages import link_hint
from toqio_connector.edge.registry_file import load_registry
from toqio_connector.models.change import LinkHint
from toqio_connector.models.clock import iso, utc_now
from toqio_connector.models.request import SecretDocument
from toqio_connector.ports import ACCEPTED, REFUSED, UNAVAILABLE, Credentials, Verdict
from toqio_connector.rules.linking import Linker, Relinker, TryAgainLater
from toqio_connector.rules.operator_changes import Change, CustomerUpdater
from toqio_connector.rules.write_protocol import CustomerStore, pending_name


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
    """A clock the test moves; by default at the time the customer's item was stored."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or utc_now()

    def __call__(self) -> Any:
        return self.now

    @classmethod
    def at_item(cls, customer_id: str) -> Clock:
        stored = customer_table().get(customer_id)
        assert stored is not None
        return cls(datetime.fromisoformat(stored.updatedAt))


def linker(provider: ScriptedProvider, clock: Any = None, window: float = 3600) -> Linker:
    return Linker(customer_table(), secret_store(""), provider, window, clock or utc_now)


def hint(customer_id: str) -> LinkHint:
    return LinkHint(customer_id)


def status(api, customer_id: str):
    return api.call("GET", f"/customers/{customer_id}/connectionStatus", customer=customer_id)


def operator() -> CustomerUpdater:
    return CustomerUpdater(customer_table(), secret_store(""), load_registry())


def test_accepted_credentials_are_connected(api, stack):
    assert api.create(full_customer("c1")).status == 200
    pending = status(api, "c1")
    assert pending.status == 503 and pending.body["code"] == "SERVICE_UNAVAILABLE"
    assert int(pending.headers["retry-after"]) >= 1
    provider = ScriptedProvider(ACCEPTED)
    stored = linker(provider).link(hint("c1"))
    assert stored is not None and (stored.status, stored.reason) == (
        "CONNECTED",
        "CREDENTIALS_ACCEPTED",
    )
    assert provider.asked == [  # every credential, the HMAC key too, and the provider's id
        Credentials(
            customer_id="c1",
            login_id="Lg5d1eT7-login-value",
            key="Pk2b8cR4-key-value",
            hmac_key="Hm9e4fU2-hmac-value",
            provider_customer_id="pp-customer-42",
        )
    ]
    reply = status(api, "c1")
    assert reply.status == 200 and reply.body["data"] == "CONNECTED"
    assert api.find("c1").body["data"] == api.create(full_customer("c1")).body["data"]


def test_refused_credentials_are_failed(api, stack):
    api.create(full_customer("c1", loginId="invalid-login"))
    stored = linker(ScriptedProvider(REFUSED)).link(hint("c1"))
    assert (stored.status, stored.reason) == ("FAILED", "CREDENTIALS_REFUSED")
    assert status(api, "c1").body["data"] == "FAILED"


def test_a_customer_without_credentials_is_failed_without_asking(api, stack):
    api.create({"id": "c1", "apiKey": "only-an-api-key-0001"})
    provider = ScriptedProvider()
    stored = linker(provider).link(hint("c1"))
    assert (stored.status, stored.reason) == ("FAILED", "CREDENTIALS_MISSING")
    assert provider.asked == []


def test_a_customer_not_stored_asks_no_provider(stack):
    provider = ScriptedProvider()
    assert linker(provider).link(hint("nobody")) is None
    assert provider.asked == []


def test_unreachable_then_recovered(api, stack):
    api.create(full_customer("c1"))
    provider = ScriptedProvider(UNAVAILABLE, ACCEPTED)
    with pytest.raises(TryAgainLater):
        linker(provider).link(hint("c1"))
    assert "connectionStatus" not in stack.raw_items()[0]
    assert status(api, "c1").status == 503
    assert linker(provider).link(hint("c1")).status == "CONNECTED"
    assert status(api, "c1").body["data"] == "CONNECTED"


def test_the_retry_window_counts_from_when_the_version_was_stored_to_its_very_end(api, stack):
    """Retried with the provider's reason while the window lasts; at exactly its length
    after the item's ``updatedAt``, it is over: FAILED, PROVIDER_UNREACHABLE."""
    api.create(full_customer("c1"))
    clock = Clock.at_item("c1")
    clock.now += timedelta(seconds=59)
    with pytest.raises(TryAgainLater) as waiting:
        linker(ScriptedProvider(UNAVAILABLE), clock, window=60).link(hint("c1"))
    assert str(waiting.value) == "scripted"  # the provider's verdict detail
    clock.now += timedelta(seconds=1)
    stored = linker(ScriptedProvider(UNAVAILABLE), clock, window=60).link(hint("c1"))
    assert (stored.status, stored.reason) == ("FAILED", "PROVIDER_UNREACHABLE")


def test_a_redelivered_hint_changes_nothing(api, stack, publisher, subscriber):
    api.create(full_customer("c1"))
    assert linker(ScriptedProvider()).link(hint("c1")) is not None
    before = stack.raw_items()
    provider = ScriptedProvider(REFUSED)
    assert linker(provider).link(hint("c1")) is None
    assert provider.asked == [] and stack.raw_items() == before
    publisher(stack.stream_records())
    kinds = [event["detail-type"] for event in subscriber.events()]
    assert kinds == ["CustomerCreated", "CustomerConnectionChanged"]


class ChangedWhileChecked(ScriptedProvider):
    """A provider during whose check an operator replaces the customer's credentials."""

    def verify(self, credentials: Credentials, within: float = 8.0) -> Verdict:
        operator().update(
            credentials.customer_id, Change(secrets={"paymentProvider.key": "newer-key-0001"})
        )
        return super().verify(credentials)


def test_an_outcome_for_credentials_replaced_meanwhile_is_not_stored(api, stack):
    """The linker answers None (its handler logs "nothing to link"); the newer
    credentials are then checked on their own hint."""
    api.create(full_customer("c1"))
    assert linker(ChangedWhileChecked()).link(hint("c1")) is None
    assert "connectionStatus" not in stack.raw_items()[0]
    assert status(api, "c1").status == 503
    provider = ScriptedProvider(REFUSED)
    assert linker(provider).link(hint("c1")).version == 2
    assert [asked.key for asked in provider.asked] == ["newer-key-0001"]


def test_an_operator_secret_change_relinks_and_the_status_follows(
    api, stack, publisher, subscriber
):
    api.create(full_customer("c1"))
    linker(ScriptedProvider(ACCEPTED)).link(hint("c1"))
    assert status(api, "c1").body["data"] == "CONNECTED"
    operator().update("c1", Change(secrets={"paymentProvider.loginId": "invalid-new-login"}))
    assert status(api, "c1").status == 503  # the new credentials are not checked yet
    provider = ScriptedProvider(REFUSED)
    stored = linker(provider).link(hint("c1"))
    assert stored.version == 2 and [a.login_id for a in provider.asked] == ["invalid-new-login"]
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
        "eventId": connected["eventId"],
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
    assert len({e["detail"]["eventId"] for e in events}) == 4


def test_a_change_of_other_fields_keeps_the_status(api, stack, monkeypatch, tmp_path):
    registry = tmp_path / "r.json"
    registry.write_text(json.dumps({"type": "object", "properties": {"tier": {"type": "string"}}}))
    monkeypatch.setenv("CUSTOM_PARAMETERS_FILE", str(registry))
    api.create(full_customer("c1"))
    linker(ScriptedProvider(ACCEPTED)).link(hint("c1"))
    CustomerUpdater(customer_table(), secret_store(""), load_registry(registry)).update(
        "c1", Change(values={"tier": "gold"})
    )
    assert status(api, "c1").body["data"] == "CONNECTED"  # same credentials: still checked
    assert linker(ScriptedProvider(REFUSED)).link(hint("c1")) is None


def test_status_refusals(api, stack):
    assert status(api, "nobody").status == 404
    assert status(api, "nobody").body["code"] == "CUSTOMER_NOT_FOUND"
    api.create(full_customer("c1"))
    other = api.call("GET", "/customers/c1/connectionStatus", customer="c2")
    assert other.status == 403
    wrong = api.call("POST", "/customers/c1/connectionStatus", customer="c1")
    assert wrong.status == 405 and wrong.headers["allow"] == "GET"


def test_a_status_not_checked_yet_is_logged_with_its_cause(api, stack, capsys):
    api.create(full_customer("c1"))
    capsys.readouterr()
    assert status(api, "c1").status == 503
    refused = [
        line for line in powertools_lines(capsys.readouterr().out)
        if line.get("message") == "request refused"
    ]  # fmt: skip
    assert [line["cause"] for line in refused] == ["connection status not checked yet"]


def test_no_secret_value_in_a_status_its_event_or_the_item(api, stack, publisher, subscriber):
    body = full_customer("c1", loginId="canary-login-7731", key="canary-key-5519")
    api.create(body)
    linker(ScriptedProvider(REFUSED)).link(hint("c1"))
    publisher(stack.stream_records())
    seen = json.dumps(stack.raw_items()) + json.dumps(subscriber.events())
    seen += json.dumps(status(api, "c1").body)
    for value in secret_values_of(body):
        assert value not in seen


SCHEMAS = json.loads((ROOT / "docs" / "events.schema.json").read_text())


def test_every_event_matches_its_documented_schema(api, stack, publisher, subscriber):
    from jsonschema import Draft202012Validator

    api.create(full_customer("c1"))
    linker(ScriptedProvider(ACCEPTED)).link(hint("c1"))
    operator().update("c1", Change(secrets={"paymentProvider.loginId": "other-login-0001"}))
    linker(ScriptedProvider(UNAVAILABLE), window=0).link(hint("c1"))
    publisher(stack.stream_records())
    events = subscriber.events()
    assert {e["detail-type"] for e in events} == set(SCHEMAS)
    for event in events:
        Draft202012Validator(SCHEMAS[event["detail-type"]]).validate(event["detail"])
        assert SCHEMAS[event["detail-type"]]["required"][:2] == ["eventVersion", "eventId"]


def test_the_documented_reasons_are_the_code_s():
    from toqio_connector.rules.linking import REASONS

    documented = SCHEMAS["CustomerConnectionChanged"]["properties"]["reason"]["enum"]
    assert documented == list(REASONS)
    page = (ROOT / "docs" / "linking.md").read_text()
    for reason, meaning in REASONS.items():
        assert f"| `{reason}` |" in page and meaning in page


def test_the_provider_is_asked_about_its_own_id_for_the_customer_when_given(api, stack):
    """paymentProvider.customerId (the provider's id, not secret, in the item) is what the
    provider knows the customer by; without it, or if it is not text (an item edited by
    hand), the Toqio id is sent."""
    without_id = full_customer("c2")
    without_id["paymentProvider"].pop("customerId", None)
    api.create(full_customer("c1"))
    api.create(without_id)
    api.create(full_customer("c3"))
    raw = stack.dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "c3"}})["Item"]
    data = json.loads(raw["data"]["S"])
    data["paymentProvider"]["customerId"] = 77
    raw["data"] = {"S": json.dumps(data)}
    stack.dynamodb.put_item(TableName=TABLE, Item=raw)
    provider = ScriptedProvider(ACCEPTED)
    for customer_id in ("c1", "c2", "c3"):
        linker(provider).link(hint(customer_id))
    assert [(a.customer_id, a.provider_customer_id) for a in provider.asked] == [
        ("c1", "pp-customer-42"),
        ("c2", None),
        ("c3", None),
    ]


# Secrets as the item names them: half-done changes, versions not the connector's.


def half_done_change(monkeypatch) -> None:
    """A change of c1's credentials whose writer died once its item named the new
    version, before copying the values into the customer's secret."""
    writer = CustomerStore(customer_table(), secret_store(""))
    stored = writer.get("c1")

    def dies(*_args: Any, **_kwargs: Any) -> None:
        raise KeyboardInterrupt

    values = {"apiKey": "Ak7f3aQ9-api-value"}
    values["paymentProvider"] = {"loginId": "newer-login-0001", "key": "newer-key-0001"}
    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(writer.secrets, "put_pending", dies)
        writer.change(stored, stored.data, SecretDocument(values))


def test_a_half_done_operator_change_is_finished_by_the_linker_and_checked(api, stack, monkeypatch):
    """The new credentials are checked at once (no waiting for the retry window): the
    linker copies the values in, makes the item's version current, deletes the pending
    secret, and the status is true."""
    api.create(full_customer("c1"))
    half_done_change(monkeypatch)
    stored = customer_table().get("c1")
    assert stored.version == 2
    provider = ScriptedProvider(ACCEPTED)
    connection = linker(provider).link(hint("c1"))
    assert (connection.status, connection.reason, connection.version) == (
        "CONNECTED",
        "CREDENTIALS_ACCEPTED",
        2,
    )
    assert [(a.login_id, a.key) for a in provider.asked] == [("newer-login-0001", "newer-key-0001")]
    stages = {v["VersionId"]: v.get("VersionStages", []) for v in stack.versions(stored.secretArn)}
    assert "AWSCURRENT" in stages[stored.secretVersionId]
    names = [secret["Name"] for secret in stack.secret_list()]
    assert pending_name(stored.secretArn, stored.secretVersionId) not in names
    assert status(api, "c1").body["data"] == "CONNECTED"


def test_a_secret_version_not_written_by_the_connector_is_failed_as_unreadable(api, stack):
    """A version the item names that is not a JSON object (edited by hand): FAILED,
    CREDENTIALS_UNREADABLE, without asking the provider."""
    api.create(full_customer("c1"))
    table = customer_table()
    stored = table.get("c1")
    by_hand = str(uuid4())
    stack.secretsmanager.put_secret_value(
        SecretId=stored.secretArn, SecretString="edited by hand", ClientRequestToken=by_hand
    )
    table.replace(stored.changed(secretVersionId=by_hand, version=2), expected_version=1)
    provider = ScriptedProvider()
    stored = linker(provider).link(hint("c1"))
    assert (stored.status, stored.reason) == ("FAILED", "CREDENTIALS_UNREADABLE")
    assert provider.asked == []


def test_a_deleted_secret_is_failed_as_unreadable_not_as_missing_credentials(api, stack):
    api.create(full_customer("c1"))
    stored = customer_table().get("c1")
    stack.secretsmanager.delete_secret(SecretId=stored.secretArn, ForceDeleteWithoutRecovery=True)
    provider = ScriptedProvider()
    connection = linker(provider).link(hint("c1"))
    assert (connection.status, connection.reason) == ("FAILED", "CREDENTIALS_UNREADABLE")
    assert provider.asked == []


# An operator's relink: the request is in the item; the message only says where to look.


class Queue:
    """The linker's queue, in memory: each hint as the SQS adapter shapes it, read back
    as the linker's edge reads it."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, hints: list[LinkHint]) -> None:
        self.sent.extend(json.dumps(hint_message(hint, utc_now())) for hint in hints)

    def hints(self) -> list[LinkHint | None]:
        return [link_hint(body) for body in self.sent]


def test_relink_checks_once_again_and_its_redelivery_does_nothing(
    api, stack, publisher, subscriber
):
    api.create(full_customer("c1"))
    linker(ScriptedProvider(ACCEPTED)).link(hint("c1"))
    queue = Queue()
    Relinker(customer_table(), queue).relink("c1")
    assert queue.hints() == [hint("c1")]
    provider = ScriptedProvider(ACCEPTED)
    assert linker(provider).link(hint("c1")).status == "CONNECTED"  # checked again
    assert linker(provider).link(hint("c1")) is None  # the request is answered
    assert len(provider.asked) == 1
    publisher(stack.stream_records())
    kinds = [event["detail-type"] for event in subscriber.events()]
    assert kinds == ["CustomerCreated", "CustomerConnectionChanged", "CustomerConnectionChanged"]


def test_a_relink_s_retry_window_counts_from_the_request(api, stack):
    """Relinked long after its version was stored, an unreachable provider is retried
    for a whole window from the request, then FAILED."""
    api.create(full_customer("c1"))
    clock = Clock.at_item("c1")
    clock.now += timedelta(hours=2)
    failed = linker(ScriptedProvider(UNAVAILABLE), clock, window=60).link(hint("c1"))
    assert failed.reason == "PROVIDER_UNREACHABLE"
    Relinker(customer_table(), Queue(), clock).relink("c1")
    clock.now += timedelta(seconds=59)
    with pytest.raises(TryAgainLater):
        linker(ScriptedProvider(UNAVAILABLE), clock, window=60).link(hint("c1"))
    clock.now += timedelta(seconds=1)
    again = linker(ScriptedProvider(UNAVAILABLE), clock, window=60).link(hint("c1"))
    assert again.reason == "PROVIDER_UNREACHABLE" and again.checkedAt == iso(clock.now)


def test_relinking_a_customer_not_stored_is_refused(stack):
    from toqio_connector.models.errors import CustomerNotFound

    queue = Queue()
    with pytest.raises(CustomerNotFound):
        Relinker(customer_table(), queue).relink("nobody")
    assert queue.sent == [] and stack.raw_items() == []


def test_a_relink_hint_is_an_eventbridge_shaped_link_requested_of_its_own():
    """What an operator's relink puts on the linker's queue (and what its dead-letter
    queue would show): the envelope of an EventBridge event, from the admin source."""
    now = datetime.fromisoformat("2026-11-24T10:15:30.123+00:00")
    first, second = hint_message(hint("c1"), now), hint_message(hint("c1"), now)
    envelope = {key: value for key, value in first.items() if key != "id"}
    assert envelope == {
        "version": "0",
        "source": RELINK_SOURCE,
        "detail-type": "LinkRequested",
        "time": "2026-11-24T10:15:30.123Z",
        "detail": {"customerId": "c1"},
    }
    assert RELINK_SOURCE == "toqio.connector.admin"
    assert len({first["id"], second["id"]}) == 2 and "None" not in (first["id"], second["id"])


class SmallPages:
    """The customers table answering scans one customer a page."""

    def __init__(self) -> None:
        self.table = customer_table()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.table, name)

    def scan_page(self, start: dict[str, Any] | None = None):
        return self.table.scan_page(start, limit=1)


def test_failed_pages_through_the_whole_table_and_relink_all_reports_each(api, stack):
    """``relink --failed`` finds every FAILED customer however many pages the table
    takes, and tells its progress callback about each customer, sent or gone."""
    for customer_id in ("c1", "c2", "c3"):
        api.create(full_customer(customer_id))
        outcome = REFUSED if customer_id != "c2" else ACCEPTED
        linker(ScriptedProvider(outcome)).link(hint(customer_id))
    queue = Queue()
    relinker = Relinker(SmallPages(), queue)
    found = islice(relinker.failed(), 10)  # a scan that never ends fails rather than hangs
    assert sorted(customer.id for customer in found) == ["c1", "c3"]
    progress: list[str] = []
    assert relinker.relink_all(["c1", "gone", "c3"], progress=progress.append) == ["c1", "c3"]
    assert progress == ["c1", "gone", "c3"]
    assert queue.hints() == [hint("c1"), hint("c3")]
    assert linker(ScriptedProvider(ACCEPTED)).link(hint("c1")).status == "CONNECTED"
    assert [customer.id for customer in relinker.failed()] == ["c3"]


# Hints, and messages forged by whoever may put events on the connector's bus.


def created_event(stack, customer_id: str, **detail: Any) -> dict[str, Any]:
    """A ``CustomerCreated`` as the bus would carry it for the stored customer, with
    ``detail`` fields overridden."""
    stored = customer_table().get(customer_id)
    return {
        "version": "0",
        "id": str(uuid4()),
        "source": "toqio.connector",
        "detail-type": "CustomerCreated",
        "time": iso(utc_now()),
        "detail": {
            "eventVersion": "1",
            "eventId": "forged",
            "customer": stored.view(),
            "secretArn": stored.secretArn,
            "secretVersionId": stored.secretVersionId,
            "version": stored.version,
            **detail,
        },
    }


def forged(message: dict[str, Any]) -> LinkHint:
    read = link_hint(json.dumps(message))
    assert read is not None
    return read


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '{"detail": []}',
        '{"detail": {}}',
        '{"detail": {"customer": {"id": 7}}}',
        '{"detail": {"customerId": ""}}',
        '{"detail": {"customerId": "has space"}}',
        json.dumps({"detail": {"customerId": "x" * 300}}),
    ],
)
def test_a_message_naming_no_possible_customer_is_no_hint(body):
    assert link_hint(body) is None


def test_a_hint_is_the_customer_s_id_and_nothing_else():
    event = {
        "time": "2000-01-01T00:00:00Z",
        "detail": {"customer": {"id": "c1"}, "secretArn": "arn:x", "version": 99},
    }
    assert link_hint(json.dumps(event)) == LinkHint("c1")
    assert link_hint('{"detail": {"customerId": "c2"}}') == LinkHint("c2")


def test_a_forged_relink_on_a_connected_customer_does_nothing(api, stack):
    api.create(full_customer("c1"))
    linker(ScriptedProvider(ACCEPTED)).link(hint("c1"))
    before = stack.raw_items()
    provider = ScriptedProvider(UNAVAILABLE)
    assert linker(provider, window=0).link(forged(hint_message(hint("c1"), utc_now()))) is None
    assert provider.asked == [] and stack.raw_items() == before


def test_a_forged_secret_arn_version_and_time_are_not_believed(api, stack):
    """Another secret's ARN (with the customer's version id), a version of 99 and a
    time two hours back: the customer's own credentials are checked, its own version is
    stored, and an unreachable provider is retried within the window, not FAILED."""
    api.create(full_customer("c1"))
    other = stack.secretsmanager.create_secret(
        Name="attacker", SecretString=json.dumps({"paymentProvider": {"loginId": "a", "key": "b"}})
    )
    stored = customer_table().get("c1")
    message = created_event(stack, "c1", secretArn=other["ARN"], version=99)
    message["time"] = iso(utc_now() - timedelta(hours=2))
    with pytest.raises(TryAgainLater):
        linker(ScriptedProvider(UNAVAILABLE)).link(forged(message))
    provider = ScriptedProvider(ACCEPTED)
    connection = linker(provider).link(forged(message))
    assert [(a.login_id, a.key) for a in provider.asked] == [
        ("Lg5d1eT7-login-value", "Pk2b8cR4-key-value")
    ]
    assert (connection.version, connection.secretVersionId) == (1, stored.secretVersionId)


def test_a_forged_event_landing_first_gets_the_genuine_result(api, stack):
    """The genuine event that follows finds the true outcome stored, and does nothing."""
    api.create(full_customer("c1", loginId="invalid-login"))
    forgery = created_event(stack, "c1", secretVersionId="forged-version")
    first = linker(ScriptedProvider(REFUSED)).link(forged(forgery))
    assert (first.status, first.reason) == ("FAILED", "CREDENTIALS_REFUSED")
    provider = ScriptedProvider(REFUSED)
    assert linker(provider).link(forged(created_event(stack, "c1"))) is None
    assert provider.asked == []
    assert status(api, "c1").body["data"] == "FAILED"
