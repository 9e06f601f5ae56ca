"""Mutation survivors of provider linking (rules/linking.py), killed here.

* A link request is read from its event whole: the customer, the credentials' version,
  the customer version and the event's time (from which the retry window counts).
* The provider is asked with the customer's id and every credential it holds, the HMAC
  key included; it is never asked for a customer that is gone, nor for credentials
  older than the customer's current ones. An outcome is answered (and logged as stored)
  only if it was stored: credentials changed while they were checked leave nothing.
* Credentials the item names but the secret does not hold yet (a change whose values
  are not copied in) are waited for, never replaced by the current (older) ones: the
  provider is not asked, the request is retried, saying why, until the retry window
  ends; then, as when the provider stays unreachable, the status is FAILED
  (PROVIDER_UNREACHABLE). The window is half-open: at its very end it is over. A secret
  version that is not the connector's document is FAILED as CREDENTIALS_MISSING.
* An operator's relink request is an EventBridge-shaped ``LinkRequested`` message from
  the admin source, each with its own id; ``failed`` pages through the whole table; a
  relink of several customers reports each one to its progress callback.
* Asked before its credentials were checked, the connection status is a 503 whose
  logged cause says so.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any
from uuid import uuid4

import pytest

from tests.aws.test_linking import Clock, Queue, ScriptedProvider, linker, request_for, status
from tests.aws.test_no_leaks import powertools_lines
from tests.harness.aws import TABLE, customer_table, secret_store
from tests.harness.customers import full_customer
from toqio_connector.models.request import SecretDocument
from toqio_connector.ports import UNAVAILABLE, Credentials
from toqio_connector.rules.linking import (
    RELINK_SOURCE,
    LinkRequest,
    Relinker,
    TryAgainLater,
    relink_message,
)
from toqio_connector.rules.operator_changes import Change, CustomerUpdater
from toqio_connector.rules.registry import load_registry
from toqio_connector.rules.write_protocol import CustomerStore


def test_a_request_is_read_whole_from_its_event():
    """Every field of the request comes from the event, the time parsed as UTC."""
    event = {
        "time": "2026-11-24T10:15:30Z",
        "detail": {
            "customer": {"id": "c1"},
            "secretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf",
            "secretVersionId": "v1",
            "version": 3,
        },
    }
    assert LinkRequest.from_event(event) == LinkRequest(
        "c1",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf",
        "v1",
        3,
        datetime(2026, 11, 24, 10, 15, 30, tzinfo=UTC),
        relink=False,
    )


def test_the_provider_is_asked_with_the_customer_id_and_every_credential(api, stack):
    """The HMAC key too: a provider that signs its calls needs it."""
    api.create(full_customer("c1"))
    provider = ScriptedProvider()
    assert linker(provider).link(request_for("c1")).status == "CONNECTED"
    assert provider.asked == [
        Credentials(
            customer_id="c1",
            login_id="Lg5d1eT7-login-value",
            key="Pk2b8cR4-key-value",
            hmac_key="Hm9e4fU2-hmac-value",
            provider_customer_id="pp-customer-42",  # paymentProvider.customerId
        )
    ]


def test_no_provider_call_for_a_customer_gone_or_for_older_credentials(api, stack):
    """A request for a customer not stored, or for credentials already replaced (whose
    newer ones are not checked yet), does nothing: it asks no provider."""
    provider = ScriptedProvider()
    gone = LinkRequest("nobody", "arn:aws:secretsmanager:x", "v1", 1, datetime.now(UTC))
    assert linker(provider).link(gone) is None
    api.create(full_customer("c1"))
    older = request_for("c1")
    CustomerUpdater(customer_table(), secret_store(""), load_registry()).update(
        "c1", Change(secrets={"paymentProvider.loginId": "newer-login-0001"})
    )
    assert linker(provider).link(older) is None
    assert provider.asked == []
    assert status(api, "c1").status == 503  # the newer credentials: not checked yet


class ChangedWhileChecked(ScriptedProvider):
    """A provider during whose check an operator replaces the customer's credentials."""

    def verify(self, credentials: Credentials, within: float = 8.0):
        CustomerUpdater(customer_table(), secret_store(""), load_registry()).update(
            credentials.customer_id, Change(secrets={"paymentProvider.key": "newer-key-0001"})
        )
        return super().verify(credentials, within)


def test_an_outcome_for_credentials_replaced_meanwhile_is_neither_stored_nor_answered(api, stack):
    """The linker answers None (its handler logs "nothing to link"): the outcome was
    about credentials that are no longer the customer's, so it was not stored."""
    api.create(full_customer("c1"))
    assert linker(ChangedWhileChecked()).link(request_for("c1")) is None
    assert "connectionStatus" not in stack.raw_items()[0]
    assert status(api, "c1").status == 503


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


def test_credentials_not_in_the_secret_yet_are_waited_for_then_failed(api, stack, monkeypatch):
    """Never the current, older, credentials instead: no provider call; retried with
    its reason within the window, FAILED (PROVIDER_UNREACHABLE) after it."""
    api.create(full_customer("c1"))
    half_done_change(monkeypatch)
    clock = Clock()
    request = request_for("c1", sent_at=clock.now)
    provider = ScriptedProvider()
    with pytest.raises(TryAgainLater) as waiting:
        linker(provider, clock, window=60).link(request)
    assert str(waiting.value) == "credentials not readable yet"
    clock.now += timedelta(seconds=61)
    stored = linker(provider, clock, window=60).link(request)
    assert (stored.status, stored.reason) == ("FAILED", "PROVIDER_UNREACHABLE")
    assert provider.asked == []


def test_an_unreachable_provider_is_retried_with_its_reason_until_the_window_s_very_end(api, stack):
    """The retry says what the provider answered; at exactly the window's length after
    the event, the window is over."""
    api.create(full_customer("c1"))
    clock = Clock()
    request = request_for("c1", sent_at=clock.now)
    with pytest.raises(TryAgainLater) as waiting:
        linker(ScriptedProvider(UNAVAILABLE), clock, window=60).link(request)
    assert str(waiting.value) == "scripted"  # the provider's verdict detail
    clock.now += timedelta(seconds=60)
    stored = linker(ScriptedProvider(UNAVAILABLE), clock, window=60).link(request)
    assert (stored.status, stored.reason) == ("FAILED", "PROVIDER_UNREACHABLE")


def test_a_secret_version_not_written_by_the_connector_is_failed_as_missing(api, stack):
    """A version the item names that is not a JSON object (edited by hand): FAILED,
    CREDENTIALS_MISSING, without asking the provider."""
    api.create(full_customer("c1"))
    table = customer_table()
    stored = table.get("c1")
    by_hand = str(uuid4())
    stack.secretsmanager.put_secret_value(
        SecretId=stored.secretArn, SecretString="edited by hand", ClientRequestToken=by_hand
    )
    table.replace(stored.changed(secretVersionId=by_hand, version=2), expected_version=1)
    provider = ScriptedProvider()
    stored = linker(provider).link(request_for("c1"))
    assert (stored.status, stored.reason) == ("FAILED", "CREDENTIALS_MISSING")
    assert provider.asked == []


def test_a_relink_request_is_an_eventbridge_shaped_link_requested_of_its_own(api, stack):
    """What an operator's relink puts on the linker's queue (and what its dead-letter
    queue would show): the envelope of an EventBridge event, from the admin source."""
    api.create(full_customer("c1"))
    stored = customer_table().get("c1")
    now = datetime(2026, 11, 24, 10, 15, 30, 123000, tzinfo=UTC)
    first, second = relink_message(stored, now), relink_message(stored, now)
    envelope = {key: value for key, value in first.items() if key not in ("id", "detail")}
    assert envelope == {
        "version": "0",
        "source": RELINK_SOURCE,
        "detail-type": "LinkRequested",
        "time": "2026-11-24T10:15:30.123Z",
    }
    assert RELINK_SOURCE == "toqio.connector.admin"
    assert len({first["id"], second["id"]}) == 2 and "None" not in (first["id"], second["id"])


class SmallPages:
    """The customers table answering scans one customer a page."""

    def __init__(self) -> None:
        self.table = customer_table()

    def get(self, customer_id: str):
        return self.table.get(customer_id)

    def scan_page(self, start: dict[str, Any] | None = None):
        return self.table.scan_page(start, limit=1)


def test_failed_pages_through_the_whole_table_and_relink_all_reports_each(api, stack):
    """``relink --failed`` finds every FAILED customer however many pages the table
    takes, and tells its progress callback about each customer, sent or gone."""
    for customer_id in ("c1", "c2", "c3"):
        api.create(full_customer(customer_id))
        outcome = "refused" if customer_id != "c2" else "accepted"
        linker(ScriptedProvider(outcome)).link(request_for(customer_id))
    queue = Queue()
    relinker = Relinker(SmallPages(), queue)
    found = islice(relinker.failed(), 10)  # a scan that never ends fails rather than hangs
    assert sorted(customer.id for customer in found) == ["c1", "c3"]
    progress: list[str] = []
    assert relinker.relink_all(["c1", "gone", "c3"], progress=progress.append) == ["c1", "c3"]
    assert progress == ["c1", "gone", "c3"]
    assert [json.loads(json.dumps(m))["detail"]["customer"]["id"] for m in queue.sent] == [
        "c1",
        "c3",
    ]


def test_a_status_not_checked_yet_is_logged_with_its_cause(api, stack, capsys):
    """The 503 of a connection status asked before linking is logged as such."""
    api.create(full_customer("c1"))
    capsys.readouterr()
    assert status(api, "c1").status == 503
    refused = [
        line for line in powertools_lines(capsys.readouterr().out)
        if line.get("message") == "request refused"
    ]  # fmt: skip
    assert [line["cause"] for line in refused] == ["connection status not checked yet"]


def test_a_provider_id_that_is_not_text_is_not_sent(api, stack):
    """paymentProvider.customerId is text when the API stored it; an item edited by hand
    to hold something else does not reach the provider: the Toqio id is sent instead."""
    api.create(full_customer("c1"))
    raw = stack.dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "c1"}})["Item"]
    data = json.loads(raw["data"]["S"])
    data["paymentProvider"]["customerId"] = 77
    raw["data"] = {"S": json.dumps(data)}
    stack.dynamodb.put_item(TableName=TABLE, Item=raw)
    provider = ScriptedProvider()
    linker(provider).link(request_for("c1"))
    (asked,) = provider.asked
    assert (asked.customer_id, asked.provider_customer_id) == ("c1", None)
