"""Mutation survivors of the write protocol (rules/write_protocol.py), killed here.

A half-done change is finished by the next reader even when its writer finishes it at
the same moment: the reader finds the item's version neither in the customer's secret
nor, a moment later, in its pending secret (the writer copied it in and deleted the
pending one meanwhile); it then reads that version, not the current one, so it never
answers with the values the change replaced, and the version ends up current. A change
may take up to the writers' lifetime, not a moment more, and says why it gave up. A
change never sweeps away a pending secret that another writer may still finish from (one
named by the item, or younger than the abandonment window), and it stamps the item with
the time of the change.

A Create finding a secret at its customer's name without an item adopts it only with
identical content and strictly within the adoption window, takes it over (deleting it)
from the abandonment age on, and in between, or if it cannot read it yet, is unavailable
with the reason for the logs; an adopter never deletes the secret it adopted. It tries
the name twice, no more, and keeps its secret if the item it lost to vanished. Reading
a settled customer's values reads only the version its item names.
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
from toqio_connector.ports import SecretNotFound, StaleWrite
from toqio_connector.rules.create_and_find import CustomerService
from toqio_connector.rules.registry import parse_registry
from toqio_connector.rules.validation import COMMON_PARAMETERS, validate_create
from toqio_connector.rules.write_protocol import (
    ABANDONED_AFTER_SECONDS,
    ADOPT_WITHIN_SECONDS,
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


# --- Create: a secret already at the customer's name ---------------------------------------


def new_c1(token: str = "old-token"):
    return validate_create({"id": "c1", "apiKey": "k", "token": token}, REGISTRY)


def secret_left_at_c1(token: str = "old-token") -> tuple[CustomerStore, str]:
    """A store, and the secret a Create that has not written its item (yet) left at c1's
    name."""
    store = CustomerStore(customer_table(), secret_store())
    new = new_c1(token)
    arn, _ = store.secrets.create(store.secrets.name_for("c1"), new.secrets, token=str(uuid4()))
    return store, arn


def aged(store: CustomerStore, arn: str, seconds: float) -> None:
    """The store's clock: ``seconds`` after the secret at ``arn`` was made."""
    moment = store.secrets.get(arn).created + timedelta(seconds=seconds)
    store.clock = lambda: moment


def test_a_secret_at_the_name_not_readable_yet_is_unavailable_and_says_why(stack, monkeypatch):
    """CreateSecret refused the name, yet the secret cannot be read (just created
    elsewhere, or just deleted): try again later, with the reason in the logs."""
    store, _ = secret_left_at_c1()

    def not_readable(secret_id, version_id=None):
        raise SecretNotFound(secret_id)

    monkeypatch.setattr(store.secrets, "get", not_readable)
    with pytest.raises(ServiceUnavailable) as unavailable:
        store.create(new_c1())
    assert unavailable.value.cause == "customer secret not readable yet"
    assert stack.items() == []


def test_identical_content_adopts_a_secret_younger_than_the_window_only(stack):
    """A secret without an item is adopted by identical content only while its writer
    may still be alive (strictly younger than ADOPT_WITHIN_SECONDS); at that age exactly
    it is left alone, and the Create says another one may be in flight."""
    store, arn = secret_left_at_c1()
    aged(store, arn, ADOPT_WITHIN_SECONDS)
    with pytest.raises(ServiceUnavailable) as unavailable:
        store.create(new_c1())
    assert unavailable.value.cause == "another Create of this customer may be in flight"
    assert stack.items() == []
    aged(store, arn, ADOPT_WITHIN_SECONDS - 0.001)
    stored = store.create(new_c1())
    assert stored.created and stored.customer.secretArn == arn


def test_a_secret_with_other_content_is_taken_over_from_the_abandonment_age_on(stack):
    """A secret without an item holding other content is deleted (its values with it)
    once it is ABANDONED_AFTER_SECONDS old, not a moment later; younger, the Create is
    unavailable because the secret's own Create may still be in flight."""
    store, arn = secret_left_at_c1("dead-writers-token")
    aged(store, arn, ABANDONED_AFTER_SECONDS - 0.001)
    with pytest.raises(ServiceUnavailable) as unavailable:
        store.create(new_c1())
    assert unavailable.value.cause == "another Create of this customer may be in flight"
    aged(store, arn, ABANDONED_AFTER_SECONDS)
    stored = store.create(new_c1())
    assert stored.created and stored.customer.secretArn != arn
    assert [s["ARN"] for s in stack.secret_list()] == [stored.customer.secretArn]
    assert json.loads(stack.secret_string(stored.customer.secretArn))["token"] == "old-token"


def test_an_adopter_losing_its_item_write_leaves_the_secret_it_adopted(stack, monkeypatch):
    """An adopted secret belongs to the Create that made it (it may still be running and
    cleans up after itself): an adopter whose item write loses to an item naming another
    secret returns that item and deletes nothing."""
    store, arn = secret_left_at_c1()
    aged(store, arn, 1)
    real_put_new = store.table.put_new
    other = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other-AbCdEf"

    def loses(customer):
        real_put_new(customer.changed(secretArn=other))  # another Create's item lands first
        real_put_new(customer)

    monkeypatch.setattr(store.table, "put_new", loses)
    stored = store.create(new_c1())
    assert not stored.created and stored.customer.secretArn == other
    assert [s["ARN"] for s in stack.secret_list()] == [arn]


def test_a_create_whose_item_vanishes_after_its_write_lost_is_unavailable_then_stored(
    stack, monkeypatch
):
    """The item write loses to an item that is gone by the time it is read back (deleted
    outside the connector): the Create is unavailable, says why, and keeps its secret,
    which its retry adopts (identical content) to store the customer."""
    store = CustomerStore(customer_table(), secret_store())
    other = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other-AbCdEf"
    real_put_new = store.table.put_new

    def loses_to_a_vanishing_item(customer):
        real_put_new(customer.changed(secretArn=other))
        try:
            real_put_new(customer)
        finally:
            stack.dynamodb.delete_item(TableName=TABLE, Key={"id": {"S": "c1"}})

    monkeypatch.setattr(store.table, "put_new", loses_to_a_vanishing_item)
    with pytest.raises(ServiceUnavailable) as unavailable:
        store.create(new_c1())
    assert unavailable.value.cause == "customer vanished"
    (kept,) = stack.secret_list()
    monkeypatch.undo()
    stored = store.create(new_c1())
    assert stored.created and stored.customer.secretArn == kept["ARN"]


def test_reading_a_settled_customers_values_reads_only_the_version_its_item_names(
    stack, monkeypatch
):
    """A settled customer's values cost one read, by the item's secret ARN and version:
    no pending secret is looked for, and nothing is read under any other name."""
    store = created_c1()
    stored = store.get("c1")
    real_get, reads = store.secrets.get, []

    def get(secret_id, version_id=None):
        reads.append((secret_id, version_id))
        return real_get(secret_id, version_id)

    monkeypatch.setattr(store.secrets, "get", get)
    assert store.secret_values(stored).get_secret_value() == values("old-token").get_secret_value()
    assert reads == [(stored.secretArn, stored.secretVersionId)]


def test_a_create_tries_the_name_twice_then_is_unavailable_until_it_is_free(stack, monkeypatch):
    """When the abandoned secret it deleted is still seen at the name (its deletion not
    visible yet), a Create tries the name once more, and no more: it answers unavailable
    with the reason, and a later Create, the name free, stores the customer."""
    store, arn = secret_left_at_c1("dead-writers-token")
    aged(store, arn, ABANDONED_AFTER_SECONDS + 1)
    real_delete, deletions = store.secrets.delete, []

    def delete(secret_id):
        deletions.append(secret_id)
        if len(deletions) == 2:  # the first deletion takes effect only now
            real_delete(secret_id)

    monkeypatch.setattr(store.secrets, "delete", delete)
    with pytest.raises(ServiceUnavailable) as unavailable:
        store.create(new_c1())
    assert unavailable.value.cause == "secret name not free yet"
    assert deletions == [arn, arn] and stack.items() == []
    stored = store.create(new_c1())
    assert stored.created and stored.customer.secretArn != arn
