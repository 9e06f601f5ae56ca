"""Create and Find Customer: the rules (docs/api.md, Create and Find Customer).

Create makes two AWS calls on its happy path: CreateSecret, then a conditional PutItem
(see ``write_protocol`` for why every interleaving of retries, crashes and concurrent
Creates ends well). The DynamoDB stream turns the stored item into the
``CustomerCreated`` event (the transactional outbox), so an event exists if and only if
the customer was stored. A Create for a stored id is a replay when its content equals
the stored customer's, secret values included (200, same data, nothing written), and a
conflict otherwise (409).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from toqio_connector.models.customer import StoredCustomer, same_json
from toqio_connector.models.errors import (
    ConnectionNotChecked,
    CustomerAlreadyExists,
    CustomerNotFound,
    Forbidden,
)
from toqio_connector.models.request import is_customer_id
from toqio_connector.ports import CustomerTable, SecretStore
from toqio_connector.rules.registry import Registry
from toqio_connector.rules.validation import validate_create
from toqio_connector.rules.write_protocol import CustomerStore


@dataclass(frozen=True)
class CreateResult:
    customer: StoredCustomer
    created: bool  # False: a replay of an identical Create


def authorize(customer_id: Any, caller_id: str) -> None:
    """The token's ``customerID`` scopes the call (403 before anything is read)."""
    if isinstance(customer_id, str) and customer_id != caller_id:
        raise Forbidden()


class CustomerService:
    """Create and Find, over a table and a secret store, with the registry in use."""

    def __init__(self, table: CustomerTable, secrets: SecretStore, registry: Registry) -> None:
        self.store = CustomerStore(table, secrets)
        self.registry = registry

    # --- Find -----------------------------------------------------------------------
    def find(self, customer_id: str, caller_id: str) -> StoredCustomer:
        authorize(customer_id, caller_id)
        if not is_customer_id(customer_id):
            raise CustomerNotFound()  # could never have been created
        stored = self.store.get(customer_id)
        if stored is None:
            raise CustomerNotFound()
        return stored

    def connection_status(self, customer_id: str, caller_id: str) -> str:
        """CONNECTED or FAILED for the customer's current credentials; 503 (with
        Retry-After) while they have not been checked yet. Reads DynamoDB only."""
        connection = self.find(customer_id, caller_id).current_connection
        if connection is None:
            raise ConnectionNotChecked(cause="connection status not checked yet")
        return connection.status

    # --- Create ---------------------------------------------------------------------
    def create(self, payload: dict[str, Any], caller_id: str) -> CreateResult:
        authorize(payload.get("id"), caller_id)
        new = validate_create(payload, self.registry)  # a valid id is the one authorized
        outcome = self.store.create(new)
        if outcome.created:
            return CreateResult(outcome.customer, created=True)
        stored = outcome.customer
        if not same_json(stored.data, new.data):
            raise CustomerAlreadyExists()
        stored_secrets = self.store.secret_values(stored)
        if not same_json(stored_secrets.get_secret_value(), new.secrets.get_secret_value()):
            raise CustomerAlreadyExists()
        return CreateResult(stored, created=False)
