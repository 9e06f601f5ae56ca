"""Lambda SnapStart: offered by the template, and what restored containers must not share."""

from __future__ import annotations

import random
import sys
import types

import pytest

from tests.harness.registries import TEMPLATE
from toqio_connector import bootstrap
from toqio_connector.adapters import aws
from toqio_local.template import ResolvedTemplate

STACK = ResolvedTemplate.read(TEMPLATE)


def test_the_template_offers_snapstart_for_the_customers_api_off_by_default():
    parameter = STACK.template["Parameters"]["SnapStart"]
    assert parameter["Default"] == "None"
    assert parameter["AllowedValues"] == ["None", "PublishedVersions"]
    function = STACK.resources["CustomersApiFunction"]["Properties"]
    assert function["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
    # SnapStart snapshots published versions only: API Gateway must call one (the alias).
    assert function["AutoPublishAlias"] == "live"


before: list = []  # the before-snapshot hooks the fixture's runtime was given


@pytest.fixture
def lambda_runtime(monkeypatch):
    """Lambda's runtime hooks library, as its managed Python runtime ships it."""
    registered: list = []
    module = types.ModuleType("snapshot_restore_py")
    module.register_after_restore = registered.append  # type: ignore[attr-defined]
    module.register_before_snapshot = before.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    return registered


def test_restored_containers_reseed_the_prng_they_share(lambda_runtime):
    """Every container restored from one snapshot starts with the same PRNG state: unless
    each reseeds, all draw the same botocore retry jitter and retry in step."""
    assert bootstrap.snapstart_hooks() is True
    assert lambda_runtime == [aws.after_restore]
    random.seed(20261203)  # the state frozen in the snapshot
    frozen = random.getstate()
    drawn_without_hook = random.random()
    random.setstate(frozen)  # a second container restored from it
    lambda_runtime[0]()
    assert random.random() != drawn_without_hook


def test_the_customers_api_registers_its_hooks_when_wired(lambda_runtime, env):
    aws.client.cache_clear()
    try:
        bootstrap.customers_api()  # clients made, no call
    finally:
        aws.client.cache_clear()  # none of them reused by a test against the emulator
    assert lambda_runtime == [aws.after_restore]


def test_the_snapshot_holds_the_request_models_built(lambda_runtime):
    """They are built on first use otherwise: a restored container would build them on
    its first Create, the cost SnapStart is there to take off the first caller."""
    from toqio_connector.models import request

    before.clear()
    assert bootstrap.snapstart_hooks() is True
    assert before == [request.build_models]
    before[0]()
    for model in (request.PaymentProvider, request.CustomerRequest, request.NewCustomer):
        assert model.__pydantic_complete__
        assert type(model.__pydantic_validator__).__name__ == "SchemaValidator"


def test_without_lambdas_runtime_no_hook_is_registered(monkeypatch):
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails
    assert bootstrap.snapstart_hooks() is False
