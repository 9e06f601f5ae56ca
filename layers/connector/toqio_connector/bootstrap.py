"""Wiring: each function's settings, AWS clients and adapters, handed to its rules.

The one place that knows which adapter implements which port. Each builder imports
only what its function needs, so the authorizer never loads boto3 or pydantic and the
publisher never loads pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toqio_connector.settings import (
    AuthorizerSettings,
    CustomersApiSettings,
    LinkerSettings,
    PublisherSettings,
    read_settings,
)

if TYPE_CHECKING:
    from toqio_connector.rules.change_events import ChangePublisher
    from toqio_connector.rules.create_and_find import CustomerService
    from toqio_connector.rules.linking import Linker, Relinker
    from toqio_connector.rules.operator_changes import CustomerUpdater
    from toqio_connector.rules.registry import Registry
    from toqio_connector.rules.tokens import TokenVerifier


def customers_api(settings: CustomersApiSettings | None = None) -> CustomerService:
    from toqio_connector.adapters.aws import client
    from toqio_connector.adapters.dynamodb import DynamoDbCustomerTable
    from toqio_connector.adapters.secrets import SecretsManagerStore
    from toqio_connector.edge.registry_file import load_registry
    from toqio_connector.rules.create_and_find import CustomerService

    settings = settings or read_settings(CustomersApiSettings)
    snapstart_hooks()
    return CustomerService(
        DynamoDbCustomerTable(settings.table_name, client("dynamodb")),
        SecretsManagerStore(
            settings.secret_name_prefix, client("secretsmanager"), settings.secrets_kms_key_id
        ),
        load_registry(settings.custom_parameters_file or None),
    )


def snapstart_hooks() -> bool:
    """Register the customers API's runtime hooks with Lambda (SnapStart, the template's
    ``SnapStart`` parameter): the request models built before the snapshot, the PRNG
    reseeded after each restore. False where there is no such runtime (tests, ``make run``)."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:  # only Lambda's managed Python runtimes ship it
        return False
    from toqio_connector.adapters.aws import after_restore
    from toqio_connector.models.request import build_models

    register_before_snapshot(build_models)
    register_after_restore(after_restore)
    return True


def publisher(settings: PublisherSettings | None = None) -> ChangePublisher:
    from toqio_connector.adapters.aws import client
    from toqio_connector.adapters.eventbridge import EventBridgeBus
    from toqio_connector.rules.change_events import ChangePublisher

    settings = settings or read_settings(PublisherSettings)
    return ChangePublisher(EventBridgeBus(settings.event_bus_name, client("events")))


def linker(settings: LinkerSettings | None = None) -> Linker:
    from toqio_connector.adapters.aws import client
    from toqio_connector.adapters.dynamodb import DynamoDbCustomerTable
    from toqio_connector.adapters.secrets import SecretsManagerStore
    from toqio_connector.providers import provider_for
    from toqio_connector.rules.linking import Linker

    settings = settings or read_settings(LinkerSettings)
    return Linker(
        DynamoDbCustomerTable(settings.table_name, client("dynamodb")),
        SecretsManagerStore("", client("secretsmanager")),  # reads by ARN only
        provider_for(settings.provider_adapter, settings.provider_url),
        retry_window_seconds=float(settings.retry_window_seconds),
    )


def authorizer(settings: AuthorizerSettings | None = None) -> TokenVerifier:
    from toqio_connector.rules.tokens import TokenVerifier

    settings = settings or read_settings(AuthorizerSettings)
    return TokenVerifier.configured(settings.public_keys, settings.algorithms)


def operator(
    registry: Registry,
    table_name: str,
    profile: str | None = None,
    region: str | None = None,
) -> CustomerUpdater:
    """The operator command's rules, on clients of its own session (profile, region).

    Changes follow each item's secret ARN: the store needs no name prefix.
    """
    from toqio_connector.adapters.aws import new_client
    from toqio_connector.adapters.dynamodb import DynamoDbCustomerTable
    from toqio_connector.adapters.secrets import SecretsManagerStore
    from toqio_connector.rules.operator_changes import CustomerUpdater

    return CustomerUpdater(
        DynamoDbCustomerTable(table_name, new_client("dynamodb", profile, region)),
        SecretsManagerStore("", new_client("secretsmanager", profile, region)),
        registry,
    )


def relinker(
    table_name: str, queue_url: str, profile: str | None = None, region: str | None = None
) -> Relinker:
    """``toqio-admin relink``'s rules, on clients of its own session."""
    from toqio_connector.adapters.aws import new_client
    from toqio_connector.adapters.dynamodb import DynamoDbCustomerTable
    from toqio_connector.adapters.sqs import SqsLinkQueue
    from toqio_connector.rules.linking import Relinker

    return Relinker(
        DynamoDbCustomerTable(table_name, new_client("dynamodb", profile, region)),
        SqsLinkQueue(queue_url, new_client("sqs", profile, region)),
    )
