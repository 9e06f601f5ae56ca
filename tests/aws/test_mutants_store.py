"""Mutation survivors of the write protocol (customer_store.py), killed here.

A half-done change is finished by the next reader even when its writer finishes it at
the same moment: the reader finds the item's version neither in the customer's secret
nor, a moment later, in its pending secret (the writer copied it in and deleted the
pending one meanwhile); it then reads that version, not the current one, so it never
answers with the values the change replaced, and the version ends up current. A change
may take up to the writers' lifetime, not a moment more, and says why it gave up. A
change never sweeps away a pending secret that another writer may still finish from (one
named by the item, or younger than the abandonment window), and it stamps the item with
the time of the change.
"""

from __future__ import annotations

import json
from datetime import timedelta
from uuid import uuid4

import pytest

from tests.harness.aws import customer_table, secret_store
from toqio_connector.models.clock import iso, utc_now
from toqio_connector.models.errors import ServiceUnavailable
from toqio_connector.models.request import SecretDocument
from toqio_connector.ports import StaleWrite
from toqio_connector.rules.create_and_find import CustomerService
from toqio_connector.rules.registry import parse_registry
from toqio_connector.rules.validation import COMMON_PARAMETERS
from toqio_connector.rules.write_protocol import (
    ABANDONED_AFTER_SECONDS,
    WRITER_LIFETIME_SECONDS,
    CustomerStore,
    pending_name,
    pending_prefix,
)

TABLE = "toqio-connector-CustomersTable"
REGISTRY = parse_registry(
    {"type": "object", "properties": {"token": {"writeOnly": True}}}, "t.json", COMMON_PARAMETERS
)


def test_a_reader_racing_the_writer_that_finishes_a_change_reads_the_items_version(
    stack, monkeypatch
):
    CustomerService(customer_table(), secret_store(), REGISTRY).create(
        {"id": "c1", "apiKey": "k", "token": "old-token"}, "c1"
    )
    writer = CustomerStore(customer_table(), secret_store(""))
    stored = writer.get("c1")
    new_values = {"apiKey": "k", "token": "new-token"}

    def dies(*_args, **_kwargs):
        raise KeyboardInterrupt  # after the item names the new version, before the copy

    monkeypatch.setattr(writer.secrets, "put_pending", dies)
    with pytest.raises(KeyboardInterrupt):
        writer.change(stored, stored.data, SecretDocument(new_values))
    monkeypatch.undo()
    changed = writer.get("c1")
    assert changed.secretVersionId != stored.secretVersionId

    reader = CustomerStore(customer_table(), secret_store(""))
    real_get = reader.secrets.get
    pending = pending_name(changed.secretArn, changed.secretVersionId)

    def get(secret_id, version_id=None):
        if secret_id == pending:  # the writer finishes first, then the reader looks
            finisher = secret_store("")
            held = finisher.get(pending)
            finisher.put_pending(changed.secretArn, held.value, changed.secretVersionId)
            finisher.delete(held.arn)
        return real_get(secret_id, version_id)

    monkeypatch.setattr(reader.secrets, "get", get)
    assert reader.secret_values(changed).get_secret_value() == new_values
    held = json.loads(stack.secret_string(changed.secretArn))  # the current version
    assert held == new_values


def created_c1() -> CustomerStore:
    CustomerService(customer_table(), secret_store(), REGISTRY).create(
        {"id": "c1", "apiKey": "k", "token": "old-token"}, "c1"
    )
    return CustomerStore(customer_table(), secret_store(""))


def values(token: str) -> SecretDocument:
    return SecretDocument({"apiKey": "k", "token": token})


def test_a_losing_change_leaves_the_pending_secret_of_a_winner_that_died(stack, monkeypatch):
    store = created_c1()
    read_by_both = store.get("c1")
    winner = CustomerStore(customer_table(), secret_store(""))

    def dies(*_args, **_kwargs):
        raise KeyboardInterrupt  # its item landed; its values are still in its pending secret

    monkeypatch.setattr(winner.secrets, "put_pending", dies)
    with pytest.raises(KeyboardInterrupt):
        winner.change(read_by_both, read_by_both.data, values("winners-token"))
    with pytest.raises(StaleWrite):
        CustomerStore(customer_table(), secret_store("")).change(
            read_by_both, read_by_both.data, values("losers-token")
        )
    reader = CustomerStore(customer_table(), secret_store(""))
    assert reader.secret_values(reader.get("c1")).get_secret_value()["token"] == "winners-token"


def test_a_change_may_take_the_writers_lifetime_and_no_longer(stack):
    store = created_c1()
    for took, lands in ((WRITER_LIFETIME_SECONDS, True), (WRITER_LIFETIME_SECONDS + 0.001, False)):
        stored = store.get("c1")
        start = utc_now()
        moments = iter([start, start + timedelta(seconds=took)])
        store.clock = lambda moments=moments: next(moments)  # its start, then its write
        if lands:
            assert store.change(stored, stored.data, values("in-time")).version == 2
            continue
        with pytest.raises(ServiceUnavailable) as gave_up:
            store.change(stored, stored.data, values("too-late"))
        assert gave_up.value.cause == "change took too long; nothing was written"
        assert store.get("c1") == stored
        assert [s["Name"] for s in stack.secret_list() if "/pending/" in s["Name"]] == []


def test_an_abandoned_pending_secret_is_swept_only_past_the_window(stack):
    store = created_c1()
    dead = str(uuid4())
    arn = store.get("c1").secretArn
    store.secrets.create(pending_name(arn, dead), values("dead-token"), token=dead)
    (listing,) = store.secrets.listed(pending_prefix(arn))
    for extra, left in ((0, [listing.name]), (0.001, [])):
        moment = listing.created + timedelta(seconds=ABANDONED_AFTER_SECONDS + extra)
        store.clock = lambda moment=moment: moment
        stored = store.get("c1")
        store.change(stored, stored.data, values(f"token-{extra}"))
        assert [s["Name"] for s in stack.secret_list() if "/pending/" in s["Name"]] == left


def test_a_change_is_stamped_with_its_own_time(stack):
    store = created_c1()
    stored = store.get("c1")
    moment = utc_now() + timedelta(minutes=5)
    store.clock = lambda: moment
    store.change(stored, {**stored.data, "id": "c1"}, None)
    item = store.get("c1")
    assert (item.updatedAt, item.createdAt, item.version) == (iso(moment), stored.createdAt, 2)
