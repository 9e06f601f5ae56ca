"""The write protocol: how a customer's item and its secret change together.

Every write of the connector goes through here: Create (with its replay and the takeover
of an abandoned secret) and an operator's change. The rules it keeps:

* **The item decides.** A write is stored when its conditional DynamoDB write lands
  (``attribute_not_exists(id)`` for a Create, ``version = <read>`` for a change). The item
  names the secret version holding the customer's values.
* **A loser leaves nothing.** Values are only ever written where they can be erased
  whole if the write loses: a Create puts them in a secret it has just created (its own
  until its item lands); a change puts them in a *pending secret* of their own
  (``<customer secret name>/pending/<version id>``), copied into the customer's secret
  only once the item names that version. A losing or refused write deletes what it
  wrote, so none of its values stays in any secret version.
* **AWSCURRENT only moves forward.** It is moved by compare and swap, from the version
  observed, and only to the version a fresh read of the item names. Items only move
  forward, so a stalled writer can never make an older version current again.
* **Half-done writes are finished by the next reader.** If a writer dies after its item
  landed, ``settle`` copies the values from the pending secret, makes the version
  current and deletes the pending secret.
* **Time bounds who can still be writing.** No writer lives longer than
  ``WRITER_LIFETIME_SECONDS`` (the API function's timeout is 10 s; an operator's change
  checks its own deadline). A secret without an item that is younger than that may
  belong to a Create in flight: it is adopted only by identical content, which then
  writes its item within its own lifetime. One older than ``ABANDONED_AFTER_SECONDS``
  can have no live writer and no future item, so it is deleted and the Create starts
  afresh: the abandoned values go with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from toqio_connector.models.clock import iso, utc_now
from toqio_connector.models.customer import StoredCustomer, same_json
from toqio_connector.models.errors import CustomerIdTaken, CustomerSecretMissing, ServiceUnavailable
from toqio_connector.models.request import NewCustomer, SecretDocument
from toqio_connector.ports import (
    Clock,
    CustomerExists,
    CustomerTable,
    SecretExists,
    SecretNotFound,
    SecretNotOurs,
    SecretStore,
    SecretVersion,
    StaleWrite,
    name_of,
)

# No write outlives this: the customers function's timeout (template.yaml, checked by a
# test) and an operator change's own deadline.
WRITER_LIFETIME_SECONDS = 10
# A secret without an item, younger than this, may still get its item from its writer.
ADOPT_WITHIN_SECONDS = WRITER_LIFETIME_SECONDS
# Older than this, neither its writer nor an adopter can still write an item naming it.
ABANDONED_AFTER_SECONDS = 3 * WRITER_LIFETIME_SECONDS


def pending_prefix(secret_arn: str) -> str:
    """Where the pending secrets of a customer's secret are: ``<its name>/pending/``.
    Ids never hold '/', so no other customer's secret starts with it."""
    return f"{name_of(secret_arn)}/pending/"


def pending_name(secret_arn: str, version_id: str) -> str:
    """The pending secret holding version ``version_id``'s values until it is copied in."""
    return f"{pending_prefix(secret_arn)}{version_id}"


@dataclass(frozen=True)
class Stored:
    """The outcome of a Create: the customer now stored, and whether this call stored it."""

    customer: StoredCustomer
    created: bool


class CustomerStore:
    def __init__(self, table: CustomerTable, secrets: SecretStore, clock: Clock = utc_now) -> None:
        self.table = table
        self.secrets = secrets
        self.clock = clock

    def _age(self, moment: datetime) -> float:
        return (self.clock() - moment).total_seconds()

    def get(self, customer_id: str) -> StoredCustomer | None:
        return self.table.get(customer_id)

    # --- Create -----------------------------------------------------------------------
    def create(self, new: NewCustomer) -> Stored:
        """Store a new customer, or return the one already stored (``created=False``).

        ServiceUnavailable while another Create of the id may be in flight; CustomerIdTaken
        if the secret's name holds something the connector never wrote.
        """
        name = self.secrets.name_for(new.id)
        for _attempt in range(2):
            try:
                arn, version_id = self.secrets.create(name, new.secrets, token=str(uuid4()))
            except SecretExists:
                stored = self._secret_exists(new, name)
                if stored is None:  # an abandoned secret was deleted: create afresh
                    continue
                return stored
            return self._store_new(new, arn, version_id, own_secret=True)
        raise ServiceUnavailable(cause="secret name not free yet")

    def _secret_exists(self, new: NewCustomer, name: str) -> Stored | None:
        existing = self.table.get(new.id)
        if existing is not None:
            return Stored(existing, created=False)
        try:
            found = self.secrets.get(name)
        except SecretNotFound:  # just created and not readable yet, or just deleted
            raise ServiceUnavailable(cause="customer secret not readable yet") from None
        except SecretNotOurs:
            raise CustomerIdTaken() from None
        age = self._age(found.created)
        if age < ADOPT_WITHIN_SECONDS and same_json(
            found.value.get_secret_value(), new.secrets.get_secret_value()
        ):
            return self._store_new(new, found.arn, found.version_id, own_secret=False)
        if age < ABANDONED_AFTER_SECONDS:
            raise ServiceUnavailable(cause="another Create of this customer may be in flight")
        if not self.secrets.is_ours(found.arn):  # someone else's: never deleted
            raise CustomerIdTaken()
        self.secrets.delete(found.arn)  # by ARN: never a newer secret of the same name
        return None

    def _store_new(
        self, new: NewCustomer, arn: str, version_id: str, *, own_secret: bool
    ) -> Stored:
        now = iso(self.clock())
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
            existing = self.table.get(new.id)
            if existing is None:  # pragma: no cover - items are never deleted
                raise ServiceUnavailable(cause="customer vanished") from None
            if own_secret and existing.secretArn != arn:
                self.secrets.delete(arn)  # named by nobody: its values go with it
            return Stored(existing, created=False)
        return Stored(customer, created=True)

    # --- reading the values -----------------------------------------------------------
    def secret_values(self, stored: StoredCustomer) -> SecretDocument:
        """The values the item names (the half-done write that put them there finished)."""
        try:
            return self.settle(stored).value
        except SecretNotOurs:
            raise CustomerIdTaken() from None
        except SecretNotFound:  # neither in the secret nor pending: deleted by someone else
            raise CustomerSecretMissing() from None

    def settle(self, stored: StoredCustomer) -> SecretVersion:
        """Finish whatever write left the item's version not yet copied or not current."""
        try:
            version = self.secrets.get(stored.secretArn, stored.secretVersionId)
        except SecretNotFound:
            version = self._copy_pending(stored)
        if not version.is_current:
            self.secrets.delete(pending_name(stored.secretArn, stored.secretVersionId))
            self._promote(stored)
        return version

    def _copy_pending(self, stored: StoredCustomer) -> SecretVersion:
        """The item names a version its writer never copied in: copy it from its pending
        secret (idempotent: the version id is the request token)."""
        try:
            pending = self.secrets.get(pending_name(stored.secretArn, stored.secretVersionId))
        except SecretNotFound:  # its writer copied it and deleted the pending one meanwhile
            return self.secrets.get(stored.secretArn, stored.secretVersionId)
        self.secrets.put_pending(stored.secretArn, pending.value, stored.secretVersionId)
        return self.secrets.get(stored.secretArn, stored.secretVersionId)

    def _promote(self, stored: StoredCustomer) -> None:
        """AWSCURRENT to the item's version: forward only (see the module docstring)."""
        current = self.secrets.current_version(stored.secretArn)
        if current == stored.secretVersionId:
            return
        fresh = self.table.get(stored.id)
        if fresh is None or fresh.secretVersionId != stored.secretVersionId:
            return  # a newer change names its own version and will promote it
        if self.secrets.move_current(stored.secretArn, current, stored.secretVersionId):
            self.secrets.drop_pending_label(stored.secretArn, stored.secretVersionId)

    # --- an operator's change ---------------------------------------------------------
    def change(
        self, stored: StoredCustomer, data: dict[str, Any], secrets: SecretDocument | None
    ) -> StoredCustomer:
        """Replace ``stored`` (as read) with ``data`` and, if given, new secret values.

        StaleWrite if the customer changed since it was read; then nothing was written.
        """
        now = self.clock()
        updated = stored.changed(data=data, version=stored.version + 1, updatedAt=iso(now))
        self._sweep_pending(stored)
        if secrets is None:
            self.table.replace(updated, expected_version=stored.version)
            return updated
        version_id = str(uuid4())
        pending_arn, _ = self.secrets.create(
            pending_name(stored.secretArn, version_id), secrets, token=version_id
        )
        updated = updated.changed(secretVersionId=version_id)
        self._replace_or_clean_up(updated, stored, pending_arn, started=now)
        self.secrets.put_pending(stored.secretArn, secrets, version_id)
        self.secrets.delete(pending_arn)
        self._promote(updated)
        return updated

    def _replace_or_clean_up(
        self, updated: StoredCustomer, stored: StoredCustomer, pending_arn: str, started: datetime
    ) -> None:
        """The conditional write; on a loss, the pending secret goes with its values."""
        if self._age(started) > WRITER_LIFETIME_SECONDS:  # others may take us for dead
            self.secrets.delete(pending_arn)
            raise ServiceUnavailable(cause="change took too long; nothing was written")
        try:
            self.table.replace(updated, expected_version=stored.version)
        except StaleWrite:
            self.secrets.delete(pending_arn)
            raise
        except (ServiceUnavailable, KeyboardInterrupt) as exc:  # did it land? Read it again
            fresh = self.table.get(stored.id)
            if fresh is None or fresh.secretVersionId != updated.secretVersionId:
                self.secrets.delete(pending_arn)  # it did not: its values go
                raise
            if isinstance(exc, KeyboardInterrupt):  # it did: the next reader finishes it
                raise

    def _sweep_pending(self, stored: StoredCustomer) -> None:
        """Delete pending secrets left by changes that lost and died before cleaning up:
        not named by the item and too old for their writer to be alive."""
        keep = pending_name(stored.secretArn, stored.secretVersionId)
        for listing in self.secrets.listed(pending_prefix(stored.secretArn)):
            if listing.name != keep and self._age(listing.created) > ABANDONED_AFTER_SECONDS:
                self.secrets.delete(listing.arn)
