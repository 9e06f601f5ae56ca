"""The customers API's Secrets Manager rights are what its code calls, no more.

Every path of Create and Find runs against the emulated account while its Secrets
Manager calls are recorded: each call must be allowed by template.yaml's statements for
``CustomersApiFunction``, and each action those statements grant must be used, on the
ARNs of that statement, by one of the calls.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from tests.harness import iam
from tests.harness.aws import customer_table, secret_store
from tests.harness.registries import EXAMPLE_REGISTRY, TEMPLATE
from toqio_connector.adapters import aws
from toqio_connector.edge.registry_file import load_registry
from toqio_connector.models.clock import utc_now
from toqio_connector.models.errors import ConnectorError, CustomerAlreadyExists
from toqio_connector.rules.create_and_find import CustomerService
from toqio_connector.rules.operator_changes import Change, CustomerUpdater
from toqio_connector.rules.validation import validate_create
from toqio_connector.rules.write_protocol import ABANDONED_AFTER_SECONDS
from toqio_local.template import ResolvedTemplate

STACK = ResolvedTemplate.read(TEMPLATE)
GRANTED = [
    s
    for s in iam.statements(STACK, "CustomersApiFunction")
    if iam.listed(s["Action"])[0].startswith("secretsmanager:")
]
SECRETS = f"arn:aws:secretsmanager:{STACK.region}:{STACK.account}:secret:"
TABLE = "toqio-connector-CustomersTable"
NAME = "toqio-connector/customers/c1/secrets"


@pytest.fixture
def registry():
    return load_registry(EXAMPLE_REGISTRY)


def body(**extra: Any) -> dict[str, Any]:
    return {
        "id": "c1",
        "apiKey": "api-key-c1",
        "merchantCategoryCode": "5411",
        "webhookSigningSecret": "webhook-secret-0001",
        **extra,
    }


def service(registry) -> CustomerService:
    return CustomerService(customer_table(), secret_store(), registry)


class Calls:
    """Each Secrets Manager call made meanwhile: (action, the ARNs IAM may judge it on)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, list[str]]] = []

    def __call__(self, model: Any, params: dict[str, Any], **_kwargs: Any) -> None:
        target = str(params.get("SecretId") or params.get("Name") or "*")
        # A secret named, not given by ARN: judged on its ARN, whose random suffix a
        # CreateSecret does not have yet. Both forms must be allowed.
        arns = (
            [target]
            if target.startswith("arn:")
            else [SECRETS + target, f"{SECRETS}{target}-AbCdEf"]
        )
        self.seen.append((f"secretsmanager:{model.name}", arns))


@contextlib.contextmanager
def recorded(calls: Calls) -> Iterator[Calls]:
    events = aws.client("secretsmanager").meta.events
    events.register(
        "before-parameter-build.secretsmanager.*", calls, unique_id="secret-permissions"
    )
    try:
        yield calls
    finally:
        events.unregister("before-parameter-build.secretsmanager.*", unique_id="secret-permissions")


def orphan(age: float) -> None:
    """A secret left ``age`` seconds ago by a Create that died before its item."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.secretsmanager.models import secretsmanager_backends

    secrets = secret_store()
    new = validate_create(body(apiKey="dead-writers-key"), load_registry(EXAMPLE_REGISTRY))
    arn, version_id = secrets.create(secrets.name_for(new.id), new.secrets, token=str(uuid4()))
    made = secretsmanager_backends[DEFAULT_ACCOUNT_ID][STACK.region].secrets[arn]
    made.versions[version_id]["createdate"] -= int(age)
    made.created_date -= int(age)


def half_done_change(registry) -> None:
    """An operator's change of a secret value that died right after its item landed."""

    def dies(**_kwargs: Any) -> None:
        raise KeyboardInterrupt

    events = aws.client("dynamodb").meta.events
    events.register("after-call.dynamodb.UpdateItem", dies, unique_id="dies")
    try:
        with pytest.raises(KeyboardInterrupt):
            CustomerUpdater(customer_table(), secret_store(""), registry).update(
                "c1", Change(secrets={"webhookSigningSecret": "changed-by-an-operator"})
            )
    finally:
        events.unregister("after-call.dynamodb.UpdateItem", unique_id="dies")


def test_every_call_of_create_and_find_is_allowed_and_every_right_is_used(stack, registry):
    calls = Calls()
    with recorded(calls):  # happy path, replay, conflict; Find and status read no secret
        assert service(registry).create(body(), "c1").created
        assert not service(registry).create(body(), "c1").created
        with pytest.raises(CustomerAlreadyExists):
            service(registry).create(body(apiKey="another-key"), "c1")
        service(registry).find("c1", "c1")
    half_done_change(registry)
    with recorded(calls), pytest.raises(CustomerAlreadyExists):  # the replay finishes it
        service(registry).create(body(), "c1")
    assert json.loads(stack.secret_string(SECRETS + NAME))

    stack.dynamodb.delete_item(TableName=TABLE, Key={"id": {"S": "c1"}})
    for secret in stack.secret_list():
        stack.secretsmanager.delete_secret(SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True)
    orphan(age=ABANDONED_AFTER_SECONDS + 1)
    taker = service(registry)
    taker.store.clock = lambda: utc_now() + timedelta(seconds=1)
    with recorded(calls):  # takes over an abandoned secret; then loses its item to another
        assert taker.create(body(), "c1").created
        stack.dynamodb.update_item(
            TableName=TABLE,
            Key={"id": {"S": "c1"}},
            UpdateExpression="SET secretArn = :gone",
            ExpressionAttributeValues={":gone": {"S": f"{SECRETS}{NAME}-GoNe00"}},
        )
        for secret in stack.secret_list():
            stack.secretsmanager.delete_secret(
                SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True
            )
        with pytest.raises(ConnectorError):  # its item names a secret deleted meanwhile
            service(registry).create(body(), "c1")

    refused = [
        (a, arn) for a, arns in calls.seen for arn in arns if not iam.allows(STACK, GRANTED, a, arn)
    ]
    assert not refused, refused
    for statement in GRANTED:
        for action in iam.listed(statement["Action"]):
            used = [
                arn
                for a, arns in calls.seen
                for arn in arns
                if a == action and iam.allows(STACK, [statement], a, arn)
            ]
            assert used, f"{statement['Sid']} grants {action}, which no path uses"
