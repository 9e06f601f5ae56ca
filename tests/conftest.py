"""Fixtures only: what they build comes from ``tests.harness``.

The AWS fixtures give each test its own emulated account (moto) and the environment the
functions have when deployed; the handler fixtures wire ``functions.<name>.app`` (imported
once, under its real name) for that account on first use, in the test's body.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from moto import mock_aws

from tests.harness import aws, tokens
from tests.harness.handlers import Api, Publisher, wired

settings.register_profile(
    "connector",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("connector")


@pytest.fixture(scope="session", autouse=True)
def shared_botocore_loader():
    """One botocore data loader for the whole session (see ``aws.shared_botocore_loader``)."""
    with aws.shared_botocore_loader() as shared:
        yield shared


@pytest.fixture(scope="session", autouse=True)
def emulator_fixes():
    """moto put right where it differs from AWS in ways the connector relies on."""
    from toqio_local import moto_fixes

    moto_fixes.apply()


@pytest.fixture
def env(monkeypatch):
    """What the functions' environment holds when deployed, with fake credentials."""
    return aws.set_deployed_env(monkeypatch)


@pytest.fixture
def stack(env):
    """The emulated account, created from template.yaml; AWS clients made anew in it."""
    from toqio_connector.adapters import aws as aws_adapter

    with mock_aws():
        aws_adapter.client.cache_clear()
        yield aws.Account.created()
    aws_adapter.client.cache_clear()


@pytest.fixture
def subscriber(stack) -> aws.Subscriber:
    return aws.Subscriber(stack.sqs, stack.events)


@pytest.fixture
def throttled(stack, monkeypatch):
    """``throttled("dynamodb", "get_item")``: that AWS call is throttled from now on."""

    def apply(service: str, operation: str, message: str = "Rate exceeded") -> None:
        aws.throttle(service, operation, monkeypatch, message)

    return apply


@pytest.fixture
def api(stack, monkeypatch) -> Api:
    return Api(lambda: wired("customers_api", monkeypatch))


@pytest.fixture
def publisher(stack, monkeypatch) -> Publisher:
    return Publisher(lambda: wired("publisher", monkeypatch))


@pytest.fixture(scope="session")
def rsa_keys() -> list:
    """Three RSA private keys: Toqio's current key, its next key, and a stranger's."""
    return [tokens.rsa_private_key() for _ in range(3)]
