"""Create and Find Customer: the rules (contract sections 3 and 5).

Create makes two AWS calls on its happy path: CreateSecret, then a conditional PutItem.
The DynamoDB stream turns the stored item into the ``CustomerCreated`` event (the
transactional outbox), so an event exists if and only if the customer was stored.

Why every interleaving ends well (retries, crashes, concurrency):

* The secret's name is derived from the customer id, so at most one secret exists per
  customer, and CreateSecret doubles as "is anybody else at this customer?".
* The item is written last, conditionally; it names the secret version that holds the
  customer's values. Whoever writes the item first has created the customer.
* If the secret exists but the item does not, an earlier Create died between the two
  calls, or another one is between them now. Same content: adopt the secret as it is
  (no new version). Different content: if the secret's current version is younger than
  the longest a Create can run, answer 503 (retry later); if older, its writer is dead,
  so take it over with a new version, pending until the item is written, then current.
* If the item exists, compare: same content (secret values included) is a replay (200,
  same data, nothing written); different is 409. Either way, if the item's version is
  not the current one (a writer died before promoting it), it is made current, forward
  only (see heal_current_version).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from toqio_connector.adapters.dynamodb import CustomerExists, CustomerTable
from toqio_connector.adapters.secrets import SecretExists, SecretNotFound, SecretStore
from toqio_connector.customer import StoredCustomer, same_json
from toqio_connector.envelope import utc_now_iso
from toqio_connector.errors import (
    CustomerAlreadyExists,
    CustomerNotFound,
    Forbidden,
    ServiceUnavailable,
)
from toqio_connector.models import CUSTOMER_ID_MAX, CUSTOMER_ID_PATTERN, NewCustomer
from toqio_connector.registry import Registry, load_registry
from toqio_connector.validation import validate_create

# Longer than a write can possibly take (the API function's timeout is 10 s): a secret
# version or an item younger than this may belong to a change still in flight.
IN_FLIGHT_SECONDS = 30

_customer_id = re.compile(CUSTOMER_ID_PATTERN)


def seconds_since(moment: datetime) -> float:
    return (datetime.now(UTC) - moment).total_seconds()


def heal_current_version(
    table: CustomerTable, secrets: SecretStore, stored: StoredCustomer
) -> None:
    """Make the item's secret version the current one if its writer died before doing so.

    Only forward: AWSCURRENT moves to the item's version only if a fresh read of the item
    still names that version, and only from the version observed as current before that
    read (compare and swap). A stale read of the item, or a writer that promotes its own
    newer version meanwhile, therefore never has a version rolled back.
    """
    current = secrets.current_version(stored.secretArn)
    if current == stored.secretVersionId:
        return
    fresh = table.get(stored.id)
    if fresh is not None and fresh.secretVersionId == stored.secretVersionId:
        secrets.move_current(stored.secretArn, current, stored.secretVersionId)


@dataclass(frozen=True)
class CreateResult:
    customer: StoredCustomer
    created: bool  # False: a replay of an identical Create


def authorize(customer_id: Any, caller_id: str) -> None:
    """The token's ``customerID`` scopes the call (403 before anything is read)."""
    if isinstance(customer_id, str) and customer_id != caller_id:
        raise Forbidden()


class CustomerService:
    def __init__(
        self, table: CustomerTable, secrets: SecretStore, registry: Registry | None = None
    ) -> None:
        self.table = table
        self.secrets = secrets
        self.registry = registry or load_registry()

    # --- Find -----------------------------------------------------------------------
    def find(self, customer_id: str, caller_id: str) -> StoredCustomer:
        authorize(customer_id, caller_id)
        if len(customer_id) > CUSTOMER_ID_MAX or not _customer_id.fullmatch(customer_id):
            raise CustomerNotFound()  # could never have been created
        stored = self.table.get(customer_id)
        if stored is None:
            raise CustomerNotFound()
        return stored

    # --- Create ---------------------------------------------------------------------
    def create(self, payload: dict[str, Any], caller_id: str) -> CreateResult:
        authorize(payload.get("id"), caller_id)
        new = validate_create(payload, self.registry)  # a valid id is the one authorized
        name = self.secrets.name_for(new.id)
        try:
            arn, version_id = self.secrets.create(name, new.secrets, token=str(uuid4()))
        except SecretExists:
            return self._secret_taken(new, name)
        return self._store(new, arn, version_id)

    def _store(
        self, new: NewCustomer, arn: str, version_id: str, *, promote: bool = False
    ) -> CreateResult:
        now = utc_now_iso()
        customer = StoredCustomer(
            id=new.id,
            data=new.data,
            secretArn=arn,
            secretVersionId=version_id,
            createdAt=now,
            updatedAt=now,
        )
        try:
            self.table.put_new(customer)
        except CustomerExists:
            stored = self.table.get(new.id)
            if stored is None:  # removed between the two calls: let the caller retry
                raise ServiceUnavailable() from None
            return self._replay_or_conflict(new, stored)
        if promote:  # a taken-over secret: its version is current only once the item is ours
            self.secrets.make_current(arn, version_id)
        return CreateResult(customer, created=True)

    def _secret_taken(self, new: NewCustomer, name: str) -> CreateResult:
        stored = self.table.get(new.id)
        if stored is not None:
            return self._replay_or_conflict(new, stored)
        try:
            current = self.secrets.get(name)
        except SecretNotFound:  # just created, not yet readable: retry shortly
            raise ServiceUnavailable() from None
        if same_json(current.value.get_secret_value(), new.secrets.get_secret_value()):
            return self._store(new, current.arn, current.version_id)
        if seconds_since(current.created) < IN_FLIGHT_SECONDS:
            raise ServiceUnavailable()
        # An orphan: take it over with a pending version, made current only if we win.
        arn, version_id = self.secrets.put(
            current.arn, new.secrets, token=str(uuid4()), current=False
        )
        return self._store(new, arn, version_id, promote=True)

    def _replay_or_conflict(self, new: NewCustomer, stored: StoredCustomer) -> CreateResult:
        held = self.secrets.get(stored.secretArn, stored.secretVersionId)
        if not held.is_current:
            heal_current_version(self.table, self.secrets, stored)
        if not same_json(stored.data, new.data) or not same_json(
            held.value.get_secret_value(), new.secrets.get_secret_value()
        ):
            raise CustomerAlreadyExists()
        return CreateResult(stored, created=False)
