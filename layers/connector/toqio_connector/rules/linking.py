"""Linking a customer to its payment provider: verify its credentials, store the outcome.

Driven by the connector's own events (``CustomerCreated``, ``CustomerUpdated``), each
naming the customer's ``version`` and ``secretVersionId``. The outcome is stored only if
the customer's credentials are still the ones checked (a conditional write), so a
result for older credentials never overwrites or is shown for newer ones, and a
redelivered or out-of-order event changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from toqio_connector.models.clock import iso, utc_now
from toqio_connector.models.customer import CONNECTED, FAILED, Connection, StoredCustomer
from toqio_connector.models.errors import CustomerNotFound
from toqio_connector.ports import (
    ACCEPTED,
    REFUSED,
    Clock,
    Credentials,
    CustomerTable,
    LinkQueue,
    ProviderAdapter,
    SecretNotFound,
    SecretNotOurs,
    SecretStore,
)

# reason code -> what it means (docs/linking.md lists them from here)
REASONS = {
    "CREDENTIALS_ACCEPTED": "the provider accepted the credentials",
    "CREDENTIALS_REFUSED": "the provider refused the credentials",
    "CREDENTIALS_MISSING": "the customer has no paymentProvider.loginId and key to verify",
    "PROVIDER_UNREACHABLE": "the provider could not be reached for the whole retry window",
}
DEFAULT_RETRY_WINDOW_SECONDS = 3600


class TryAgainLater(Exception):
    """The provider (or the credentials' version) is not reachable yet: redeliver."""


@dataclass(frozen=True)
class LinkRequest:
    """What an event asks: link this customer, at these credentials."""

    customer_id: str
    secret_arn: str
    secret_version_id: str
    version: int
    sent_at: datetime  # the event's time: the retry window counts from it
    relink: bool = False  # an operator's request: check again even if checked already

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> LinkRequest:
        """From a CustomerCreated or CustomerUpdated EventBridge event."""
        detail = event["detail"]
        return cls(
            customer_id=str(detail["customer"]["id"]),
            secret_arn=str(detail["secretArn"]),
            secret_version_id=str(detail["secretVersionId"]),
            version=int(detail["version"]),
            sent_at=datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")),
            relink=detail.get("relink") is True,
        )


def credentials_from(stored: StoredCustomer, document: dict[str, Any]) -> Credentials:
    """The customer's credentials: the secret ``document``'s values, and the provider's
    own id for the customer (``paymentProvider.customerId``, not secret) from the item."""
    provider = document.get("paymentProvider")
    provider = provider if isinstance(provider, dict) else {}
    public = stored.data.get("paymentProvider")
    provider_customer_id = public.get("customerId") if isinstance(public, dict) else None
    return Credentials(
        customer_id=stored.id,
        login_id=provider.get("loginId"),
        key=provider.get("key"),
        hmac_key=provider.get("hmacKey"),
        provider_customer_id=provider_customer_id
        if isinstance(provider_customer_id, str)
        else None,
    )


class Linker:
    """Checks a customer's credentials with its provider and stores the outcome."""

    def __init__(
        self,
        table: CustomerTable,
        secrets: SecretStore,
        provider: ProviderAdapter,
        retry_window_seconds: float = DEFAULT_RETRY_WINDOW_SECONDS,
        clock: Clock = utc_now,
    ) -> None:
        self.table = table
        self.secrets = secrets
        self.provider = provider
        self.retry_window_seconds = retry_window_seconds
        self.clock = clock

    def link(self, request: LinkRequest) -> Connection | None:
        """The outcome stored for ``request``; None if there was nothing to do (the
        customer is gone, has newer credentials, or these were checked already).
        TryAgainLater while the provider is unreachable within the retry window."""
        stored = self.table.get(request.customer_id)
        if stored is None or stored.secretVersionId != request.secret_version_id:
            return None  # gone, or a newer change has its own event
        if stored.current_connection is not None and not request.relink:
            return None  # checked already (a redelivery, or a change of other fields)
        status, reason = self._check(request, stored)
        connection = Connection(
            status=status,
            reason=reason,
            secretVersionId=request.secret_version_id,
            version=request.version,
            checkedAt=iso(self.clock()),
        )
        return connection if self.table.store_connection(request.customer_id, connection) else None

    def _check(self, request: LinkRequest, stored: StoredCustomer) -> tuple[str, str]:
        try:
            document = self.secrets.get(request.secret_arn, request.secret_version_id).value
        except SecretNotFound:  # the version is copied in right after the item is written
            return self._unreachable(request, "credentials not readable yet")
        except SecretNotOurs:
            return FAILED, "CREDENTIALS_MISSING"
        credentials = credentials_from(stored, document.get_secret_value())
        if any(not getattr(credentials, name) for name in self.provider.required):
            return FAILED, "CREDENTIALS_MISSING"
        verdict = self.provider.verify(credentials)
        if verdict.outcome == ACCEPTED:
            return CONNECTED, "CREDENTIALS_ACCEPTED"
        if verdict.outcome == REFUSED:
            return FAILED, "CREDENTIALS_REFUSED"
        return self._unreachable(request, verdict.detail)

    def _unreachable(self, request: LinkRequest, why: str) -> tuple[str, str]:
        waited = (self.clock() - request.sent_at).total_seconds()
        if waited < self.retry_window_seconds:
            raise TryAgainLater(why)
        return FAILED, "PROVIDER_UNREACHABLE"


RELINK_SOURCE = "toqio.connector.admin"


def relink_message(customer: StoredCustomer, now: datetime) -> dict[str, Any]:
    """An operator's request to link ``customer`` again, shaped as the events the linker
    reads (an EventBridge event): it goes through the same queue and the same rule."""
    return {
        "version": "0",
        "id": str(uuid4()),
        "source": RELINK_SOURCE,
        "detail-type": "LinkRequested",
        "time": iso(now),
        "detail": {
            "customer": {"id": customer.id},
            "secretArn": customer.secretArn,
            "secretVersionId": customer.secretVersionId,
            "version": customer.version,
            "relink": True,
        },
    }


class Relinker:
    """``toqio-admin relink``: link customers again through the linker's queue."""

    def __init__(self, table: CustomerTable, queue: LinkQueue, clock: Clock = utc_now) -> None:
        self.table = table
        self.queue = queue
        self.clock = clock

    def relink(self, customer_id: str) -> StoredCustomer:
        stored = self.table.get(customer_id)
        if stored is None:
            raise CustomerNotFound()
        self.queue.send([relink_message(stored, self.clock())])
        return stored

    def failed(self) -> Iterator[StoredCustomer]:
        """Every customer whose current credentials were checked and FAILED."""
        start: dict[str, Any] | None = None
        while True:
            page, start = self.table.scan_page(start)
            for customer in page:
                connection = customer.current_connection
                if connection is not None and connection.status == FAILED:
                    yield customer
            if start is None:
                return

    def relink_all(
        self, customer_ids: list[str], progress: Callable[[str], None] = lambda _id: None
    ) -> list[str]:
        """Relink each customer still stored; the ids sent (gone ones are skipped)."""
        sent = []
        for customer_id in customer_ids:
            try:
                self.relink(customer_id)
            except CustomerNotFound:
                pass
            else:
                sent.append(customer_id)
            progress(customer_id)
        return sent
