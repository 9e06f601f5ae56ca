"""Mutation survivors of operator changes (rules/operator_changes.py), killed here.

* A change that changes nothing writes nothing: no item version, no secret version, no
  stream record (so no ``CustomerUpdated``). "Nothing" is judged as JSON: setting ``1``
  where ``true`` is stored is a change, stored as ``1``, with exactly one event.
* A custom parameter is named, never a path: one whose name holds a dot can be unset
  and (if secret) replaced, and a secret one holding an object does not stop every
  other change of its customer. Unsetting a declared parameter the customer does not
  hold changes nothing; unsetting an object removes it whole.
* A backfill reports each customer's outcome (to its progress callback and in its
  report, with the reason of each failure), retries a customer that changed meanwhile a
  bounded number of times, and never overwrites a value set concurrently.
* A parameter the registry no longer declares can still be unset; a stored secret value
  no longer declared secret refuses any other change, naming it; a stale expected
  version is refused before anything is written.
"""

from __future__ import annotations

import json

import pytest

from tests.harness.aws import customer_table, secret_store
from toqio_connector.models.errors import ServiceUnavailable
from toqio_connector.ports import StaleWrite
from toqio_connector.rules.create_and_find import CustomerService
from toqio_connector.rules.operator_changes import Change, ChangeRefused, CustomerUpdater
from toqio_connector.rules.registry import parse_registry
from toqio_connector.rules.validation import COMMON_PARAMETERS

TABLE = "toqio-connector-CustomersTable"
PROPERTIES = {
    "token": {"writeOnly": True},
    "flag": {},
    "tier": {"type": "string"},
    "account": {"type": "object"},
    "x.y": {"type": "string"},
    "s.t": {"type": "string", "writeOnly": True},
    "creds": {"type": "object", "writeOnly": True},
}
REGISTRY = parse_registry({"type": "object", "properties": PROPERTIES}, "a.json", COMMON_PARAMETERS)
BODY = {
    "id": "c1",
    "apiKey": "api-key-0001",
    "paymentProvider": {"key": "provider-key-0001", "customerId": "pp-1"},
    "flag": True,
    "token": "token-0001",
}


def create(body: dict, registry=REGISTRY) -> None:
    CustomerService(customer_table(), secret_store(), registry).create(body, body["id"])


def operator(registry=REGISTRY) -> CustomerUpdater:
    return CustomerUpdater(customer_table(), secret_store(""), registry)


def modify_records(stack) -> list[dict]:
    return [r for r in stack.stream_records() if r["eventName"] == "MODIFY"]


def data_of(stack, customer_id: str = "c1") -> dict:
    (item,) = [i for i in stack.items() if i["id"] == customer_id]
    return json.loads(item["data"])


def secret_of(stack) -> dict:
    (secret,) = [s for s in stack.secret_list() if "/pending/" not in s["Name"]]
    return json.loads(stack.secret_string(secret["ARN"]))


def test_a_set_that_changes_nothing_writes_no_version_and_no_event(stack):
    create(BODY)
    before = stack.snapshot()
    for change in (
        Change(values={"flag": True}),
        Change(secrets={"token": "token-0001"}),
        Change(values={"flag": True}, secrets={"apiKey": "api-key-0001"}),
        Change(unset=("tier",)),  # declared, not held
    ):
        result = operator().update("c1", change)
        assert not result.changed and result.customer.version == 1
        assert stack.snapshot() == before
    assert modify_records(stack) == []


def test_a_set_differing_only_in_json_type_is_stored_with_one_event(stack):
    create(BODY)
    result = operator().update("c1", Change(values={"flag": 1}))
    assert result.changed and result.customer.version == 2
    stored = data_of(stack)["flag"]
    assert stored == 1 and type(stored) is int  # not true
    assert len(modify_records(stack)) == 1


def test_custom_parameters_with_a_dot_in_their_name_are_unset_and_replaced(stack):
    create({**BODY, "x.y": "public", "s.t": "secret-old"})
    assert operator().update("c1", Change(unset=("x.y",))).changed
    assert "x.y" not in data_of(stack)
    assert operator().update("c1", Change(secrets={"s.t": "secret-new"})).changed
    assert secret_of(stack)["s.t"] == "secret-new"
    assert data_of(stack)["s.t"] == "*****"


def test_a_secret_object_does_not_stop_other_changes_and_an_object_is_unset_whole(stack):
    create({**BODY, "creds": {"user": "u", "password": "p"}, "account": {"iban": "X"}})
    assert operator().update("c1", Change(values={"tier": "LOW"})).changed
    assert secret_of(stack)["creds"] == {"user": "u", "password": "p"}
    assert operator().update("c1", Change(unset=("account", "creds"))).changed
    assert "account" not in data_of(stack) and "creds" not in data_of(stack)
    assert "creds" not in secret_of(stack)


def test_a_common_parameter_or_part_of_one_is_refused_as_common(stack):
    create(BODY)
    for name in ("paymentProvider", "paymentProvider.hmacKey", "paymentProvider.key.part"):
        with pytest.raises(ChangeRefused) as refused:
            operator().check(Change(unset=(name,)))
        assert str(refused.value) == f"{name} is a common parameter: it cannot be removed"


# --- backfill -----------------------------------------------------------------------------


def test_a_backfill_reports_each_outcome_and_why(stack, monkeypatch):
    loose = parse_registry(
        {"type": "object", "properties": PROPERTIES}, "a.json", COMMON_PARAMETERS
    )
    everyone = ("has", "ok", "throttled", "racing", "racing-twice", "invalid", "contended")
    for customer_id in (*everyone, "secretless"):
        body = {"id": customer_id, "apiKey": "k"}
        if customer_id == "has":
            body["tier"] = "HIGH"
        if customer_id == "invalid":
            body["account"] = {"no": "iban"}
        create(body, loose)
    strict = parse_registry(
        {
            "type": "object",
            "properties": {
                **PROPERTIES,
                "account": {"type": "object", "required": ["iban", "bic"]},
            },
        },
        "b.json",
        COMMON_PARAMETERS,
    )
    updater = operator(strict)
    real_update, stale = updater.update, {"racing": 3, "racing-twice": 2}
    interloper = ["contended"]  # another operator sets it between the read and the write

    def update(customer_id, change, expected_version=None):
        if customer_id == "throttled":
            raise ServiceUnavailable(cause="throttled")
        if stale.get(customer_id):
            stale[customer_id] -= 1
            raise StaleWrite(customer_id)
        if customer_id in interloper:
            interloper.remove(customer_id)
            operator(strict).update(customer_id, Change(values={"tier": "HIGH"}))
        return real_update(customer_id, change, expected_version)

    monkeypatch.setattr(updater, "update", update)
    (secret,) = [i["secretArn"] for i in stack.items() if i["id"] == "secretless"]
    stack.secretsmanager.delete_secret(SecretId=secret, ForceDeleteWithoutRecovery=True)
    ids = ["has", "gone", "ok", "throttled", "racing", "racing-twice", "invalid", "contended"]
    ids.append("secretless")  # its secret deleted outside the connector
    progress: list[tuple[str, str]] = []
    report = updater.backfill("tier", "LOW", ids, progress=lambda *seen: progress.append(seen))
    assert progress == [
        ("has", "skipped"),
        ("gone", "skipped"),
        ("ok", "updated"),
        ("throttled", "failed"),
        ("racing", "failed"),
        ("racing-twice", "updated"),
        ("invalid", "failed"),
        ("contended", "skipped"),
        ("secretless", "failed"),
    ]
    assert report.candidates == 9
    assert report.updated == ["ok", "racing-twice"]
    assert report.skipped == ["has", "gone", "contended"]
    assert report.failed == {
        "throttled": "AWS throttling or unavailable: run again to finish",
        "racing": "kept changing while being updated",
        "invalid": "account.bic REQUIRED; account.iban REQUIRED",
        "secretless": "the secret version the customer's item names is missing",
    }
    assert data_of(stack, "contended")["tier"] == "HIGH"  # not overwritten
    assert data_of(stack, "ok")["tier"] == "LOW"


def test_a_backfill_value_is_checked_first_with_every_problem_named(stack):
    updater = operator(
        parse_registry(
            {
                "type": "object",
                "properties": {"n": {"type": "integer", "minimum": 3, "multipleOf": 2}},
            },
            "c.json",
            COMMON_PARAMETERS,
        )
    )
    with pytest.raises(ChangeRefused) as refused:
        updater.check_backfill("n", 1)
    assert str(refused.value) == (
        "n: must be at least 3 (INVALID_VALUE); n: must be a multiple of 2 (INVALID_VALUE)"
    )
    with pytest.raises(ChangeRefused) as refused:
        updater.check_backfill("n", "1")
    assert str(refused.value) == "n: must be of type integer (INVALID_TYPE)"


def test_lacking_walks_every_page_of_the_table(stack):
    for n in range(7):
        create({"id": f"p{n}", "apiKey": "k", **({"tier": "LOW"} if n == 3 else {})})
    updater = operator()
    real_scan = updater.table.scan_page
    updater.table.scan_page = lambda start=None, limit=100: real_scan(start, limit=2)
    assert sorted(c.id for c in updater.lacking("tier")) == ["p0", "p1", "p2", "p4", "p5", "p6"]


# --- what a change may name -----------------------------------------------------------------


def test_a_parameter_the_registry_no_longer_declares_can_still_be_unset(stack):
    """Customers holding a parameter since dropped from the registry can be brought back
    in line: it may be unset (only it is checked against what the customer holds); one
    neither declared nor held is refused by name, and nothing is written."""
    create({**BODY, "tier": "HIGH"})
    dropped = {name: schema for name, schema in PROPERTIES.items() if name != "tier"}
    without_tier = parse_registry(
        {"type": "object", "properties": dropped}, "d.json", COMMON_PARAMETERS
    )
    before = stack.snapshot()
    with pytest.raises(ChangeRefused) as refused:
        operator(without_tier).update("c1", Change(unset=("nickname",)))
    assert str(refused.value) == "nickname is not a custom parameter of this customer"
    assert stack.snapshot() == before
    result = operator(without_tier).update("c1", Change(unset=("tier",)))
    assert result.changed and result.customer.version == 2
    assert "tier" not in data_of(stack)


def test_a_stored_secret_no_longer_declared_secret_refuses_the_change_by_name(stack):
    """A secret value the registry now declares public would be copied into the clear
    by any change: the change is refused, naming the value(s) and how to proceed."""
    create({**BODY, "s.t": "secret-s-t"})
    public = {**PROPERTIES, "token": {"type": "string"}, "s.t": {"type": "string"}}
    now_public = parse_registry(
        {"type": "object", "properties": public}, "p.json", COMMON_PARAMETERS
    )
    before = stack.snapshot()
    with pytest.raises(ChangeRefused) as refused:
        operator(now_public).update("c1", Change(values={"tier": "LOW"}))
    assert str(refused.value) == (
        "the stored secret value(s) s.t, token are no longer declared secret: "
        "unset them first (--unset NAME)"
    )
    assert stack.snapshot() == before


def test_a_stale_expected_version_refuses_the_change_naming_the_customer(stack):
    """Given the version the operator saw, a customer at another version is refused with
    StaleWrite naming the customer (as the table's own refusal does); nothing is written."""
    create(BODY)
    before = stack.snapshot()
    with pytest.raises(StaleWrite) as stale:
        operator().update("c1", Change(values={"tier": "LOW"}), expected_version=2)
    assert stale.value.args == ("c1",)
    assert stack.snapshot() == before
    assert operator().update("c1", Change(values={"tier": "LOW"}), expected_version=1).changed


def test_a_refused_change_names_every_problem_and_how_to_proceed(stack):
    """Each name a change may not use is refused with its own reason, all in one
    message: a secret given as a value (and how to give it instead), a name that is no
    custom parameter, a public one given as a secret, a common secret the customer does
    not hold, a parameter the customer neither holds nor may hold, and one both set and
    unset."""
    held = frozenset({"apiKey", "paymentProvider.key"})
    change = Change(
        values={"token": "t", "nickname": "n", "tier": "LOW"},
        secrets={"flag": "f", "paymentProvider.hmacKey": "h", "paymentProvider.key": "k"},
        unset=("ghost", "tier"),
    )
    with pytest.raises(ChangeRefused) as refused:
        operator().check(change, frozenset({"id", "apiKey"}), held)
    assert str(refused.value) == "; ".join(
        [
            "token is secret: give it with --secret token (prompted for, or read from standard "
            "input; never from the command line)",
            "nickname is not a custom parameter",
            "flag is not a secret field",
            "paymentProvider.hmacKey can only be replaced, and this customer has none",
            "ghost is not a custom parameter of this customer",
            "tier is both set and unset",
        ]
    )
