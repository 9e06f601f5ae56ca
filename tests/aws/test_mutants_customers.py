"""Mutation survivors of the Create rules (customers.py, customer_store.py), killed here.

Find answers 404 for an id that could never have been created. A replay is a Create whose
content equals the stored customer's as JSON, secret values included: a secret custom
parameter sent as ``1`` where ``true`` was stored is a conflict, not a replay (Python's
``==`` says they are equal; ``1`` and ``1.0`` are one JSON number). And the in-flight
window: a secret without an item is never taken over while its writer, or an adopter, may
still be alive, however long the template lets the function run.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from tests.harness.aws import customer_table, secret_store
from tests.harness.registries import TEMPLATE
from toqio_connector.models.clock import utc_now
from toqio_connector.models.errors import (
    CustomerAlreadyExists,
    CustomerNotFound,
    ServiceUnavailable,
)
from toqio_connector.models.request import NewCustomer
from toqio_connector.rules.create_and_find import CustomerService
from toqio_connector.rules.registry import parse_registry
from toqio_connector.rules.validation import COMMON_PARAMETERS, validate_create

REGISTRY = parse_registry(
    {"type": "object", "properties": {"token": {"writeOnly": True}, "flag": {}}},
    "test.json",
    COMMON_PARAMETERS,
)
BASE = {"id": "c1", "apiKey": "api-key-0001"}


def service() -> CustomerService:
    return CustomerService(customer_table(), secret_store(), REGISTRY)


def test_a_replay_whose_secret_parameter_differs_only_in_json_type_is_a_conflict(stack):
    assert service().create({**BASE, "token": True}, "c1").created
    before = stack.snapshot()
    for other in (1, 1.0, "true", [True], {"true": True}):
        with pytest.raises(CustomerAlreadyExists):
            service().create({**BASE, "token": other}, "c1")
        assert stack.snapshot() == before
    replay = service().create({**BASE, "token": True}, "c1")
    assert not replay.created
    assert stack.snapshot() == before


def test_a_replay_whose_public_parameter_differs_only_in_json_type_is_a_conflict(stack):
    assert service().create({**BASE, "flag": 1}, "c1").created
    for other in (True, "1", [1]):
        with pytest.raises(CustomerAlreadyExists):
            service().create({**BASE, "flag": other}, "c1")
    assert not service().create({**BASE, "flag": 1}, "c1").created
    assert not service().create({**BASE, "flag": 1.0}, "c1").created  # the same number


def test_find_answers_every_id_that_could_exist_and_no_other(stack):
    longest = "L" * 128
    assert service().create({"id": longest, "apiKey": "k"}, longest).created
    assert service().find(longest, longest).id == longest
    for never in ("", "L" * 129, "-starts-with-a-dash", "has space"):
        with pytest.raises(CustomerNotFound):  # without asking DynamoDB ("" it would refuse)
            service().find(never, never)


# --- the in-flight window, against the template's Timeout ----------------------------------


def function_timeout() -> int:
    from toqio_local.template import ResolvedTemplate

    template = ResolvedTemplate.read(TEMPLATE)
    return int(template.function_property("CustomersApiFunction", "Timeout"))


def orphan(content: dict) -> NewCustomer:
    """A secret left by a Create that died (or is still running) before its PutItem."""
    new = validate_create(content, REGISTRY)
    secrets = secret_store()
    secrets.create(secrets.name_for(new.id), new.secrets, token=str(uuid4()))
    return new


def aged(seconds: float) -> CustomerService:
    """A Create running ``seconds`` after the orphan was made."""
    taker = service()
    taker.store.clock = lambda: utc_now() + timedelta(seconds=seconds)
    return taker


def test_an_orphan_is_never_taken_over_while_its_writer_or_an_adopter_may_live(stack):
    """Its writer may run for the function's whole Timeout after making it; an identical
    Create may adopt it until then and write its item for another Timeout. Until both
    are over (plus clock skew), other content waits (503) and the orphan stays."""
    timeout = function_timeout()
    orphan({**BASE, "token": "first-writers-token"})
    (secret,) = stack.secret_list()
    for age in (0, timeout - 2, timeout + 1, 2 * timeout + 5):  # moto keeps whole seconds
        with pytest.raises(ServiceUnavailable):
            aged(age).create({**BASE, "token": "another-token"}, "c1")
        assert [s["ARN"] for s in stack.secret_list()] == [secret["ARN"]]
        assert stack.items() == []


def test_an_orphan_is_adopted_by_identical_content_within_the_writers_lifetime(stack):
    timeout = function_timeout()
    new = orphan({**BASE, "token": "first-writers-token"})
    (secret,) = stack.secret_list()
    result = aged(timeout - 3).create({**BASE, "token": "first-writers-token"}, "c1")
    assert result.created and result.customer.secretArn == secret["ARN"]
    assert result.customer.data == new.data


def test_an_orphan_past_the_window_is_deleted_and_the_create_starts_afresh(stack):
    timeout = function_timeout()
    orphan({**BASE, "token": "dead-writers-token"})
    (dead,) = stack.secret_list()
    result = aged(3 * timeout + 1).create({**BASE, "token": "new-token"}, "c1")
    assert result.created and result.customer.secretArn != dead["ARN"]
    assert "dead-writers-token" not in str(stack.snapshot())
