"""Linking a customer to its payment provider: verify its credentials, store the outcome.

Driven by the connector's own events (``CustomerCreated``, ``CustomerUpdated``) and by an
operator's relink requests, all through the linker's queue. A message is only a hint:
"look at customer X". Whoever may put events on the bus could forge one, so nothing in it
is believed but the customer's id: the credentials (the secret and its version), the
customer's version, when that version was stored and whether an operator asked for a
new check all come from the customer's item. A forged or redelivered hint therefore does
exactly what the genuine one would, or nothing.

The outcome is stored only if the customer's credentials are still the ones checked (a
conditional write), so a result for older credentials never overwrites or is shown for
newer ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from toqio_connector.models.change import LinkHint
from toqio_connector.models.clock import iso, utc_now
from toqio_connector.models.customer import (
    CONNECTED,
    FAILED,
    Connection,
    LinkRequest,
    StoredCustomer,
)
from toqio_connector.models.errors import (
    CustomerIdTaken,
    CustomerNotFound,
    CustomerSecretMissing,
)
from toqio_connector.ports import (
    ACCEPTED,
    REFUSED,
    Clock,
    Credentials,
    CustomerTable,
    LinkQueue,
    ProviderAdapter,
    SecretStore,
)
from toqio_connector.rules.listing import every_customer
from toqio_connector.rules.write_protocol import CustomerStore

# reason code -> what it means (docs/linking.md lists them from here)
REASONS = {
    "CREDENTIALS_ACCEPTED": "the provider accepted the credentials",
    "CREDENTIALS_REFUSED": "the provider refused the credentials",
    "CREDENTIALS_MISSING": "the customer has no paymentProvider.loginId and key to verify",
    "CREDENTIALS_UNREADABLE": "the customer's secret is gone, or is not one the connector wrote",
    "PROVIDER_UNREACHABLE": "the provider could not be reached for the whole retry window",
}
DEFAULT_RETRY_WINDOW_SECONDS = 3600
# The longest one provider call may take (connect, send, answer), and the least worth
# starting: with less time left in the invocation, the check waits for its redelivery.
PROVIDER_CALL_SECONDS = 8.0
SHORTEST_CALL_SECONDS = 1.0
_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


class TryAgainLater(Exception):
    """The provider is not reachable yet, within the retry window: redeliver."""


def _moment(text: str) -> datetime:
    """A time the connector stored; one it cannot read counts as long ago."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return _LONG_AGO
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def window_start(stored: StoredCustomer) -> datetime:
    """When the retry window of the check due for ``stored`` opened: when its current
    version was stored, or an operator's later relink request."""
    start = _moment(stored.updatedAt)
    request = stored.pending_link_request
    return max(start, _moment(request.requestedAt)) if request else start


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
        self.store = CustomerStore(table, secrets, clock)  # reads through the write protocol
        self.provider = provider
        self.retry_window_seconds = retry_window_seconds
        self.clock = clock

    def link(self, hint: LinkHint, within: float = PROVIDER_CALL_SECONDS) -> Connection | None:
        """The outcome stored for the customer ``hint`` names; None if there was nothing
        to do (the customer is gone, or its current credentials were checked already and
        no operator asked for another check). The provider is given ``within`` seconds
        to answer. TryAgainLater while the provider is unreachable within the retry
        window, or if ``within`` is too short to ask it at all."""
        stored = self.table.get(hint.customer_id)
        if stored is None:
            return None
        request = stored.pending_link_request
        if stored.current_connection is not None and request is None:
            return None  # checked already (a redelivery, a forgery, a change of other fields)
        status, reason = self._check(stored, min(within, PROVIDER_CALL_SECONDS))
        connection = Connection(
            status=status,
            reason=reason,
            secretVersionId=stored.secretVersionId,
            version=stored.version,
            checkedAt=iso(self.clock()),
            linkRequestId=stored.linkRequest.id if stored.linkRequest else "",
        )
        return connection if self.table.store_connection(stored.id, connection) else None

    def _check(self, stored: StoredCustomer, within: float) -> tuple[str, str]:
        try:  # the values the item names; a half-done change's write is finished first
            document = self.store.secret_values(stored)
        except (CustomerIdTaken, CustomerSecretMissing):  # not the connector's, or deleted
            return FAILED, "CREDENTIALS_UNREADABLE"
        credentials = credentials_from(stored, document.get_secret_value())
        if any(not getattr(credentials, name) for name in self.provider.required):
            return FAILED, "CREDENTIALS_MISSING"
        if within < SHORTEST_CALL_SECONDS:  # not the provider's fault: never counted as such
            raise TryAgainLater("no time left in this invocation")
        verdict = self.provider.verify(credentials, within)
        if verdict.outcome == ACCEPTED:
            return CONNECTED, "CREDENTIALS_ACCEPTED"
        if verdict.outcome == REFUSED:
            return FAILED, "CREDENTIALS_REFUSED"
        waited = (self.clock() - window_start(stored)).total_seconds()
        if waited < self.retry_window_seconds:
            raise TryAgainLater(verdict.detail)
        return FAILED, "PROVIDER_UNREACHABLE"


class Relinker:
    """``toqio-admin relink``: link customers again through the linker's queue."""

    def __init__(self, table: CustomerTable, queue: LinkQueue, clock: Clock = utc_now) -> None:
        self.table = table
        self.queue = queue
        self.clock = clock

    def relink(self, customer_id: str) -> None:
        """Record the request in the customer's item, then hint the linker to look."""
        request = LinkRequest(str(uuid4()), iso(self.clock()))
        if not self.table.request_link(customer_id, request):
            raise CustomerNotFound()
        self.queue.send([LinkHint(customer_id)])

    def failed(self) -> Iterator[StoredCustomer]:
        """Every customer whose current credentials were checked and FAILED."""
        for customer in every_customer(self.table):
            connection = customer.current_connection
            if connection is not None and connection.status == FAILED:
                yield customer

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
