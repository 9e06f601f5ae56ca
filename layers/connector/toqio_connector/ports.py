"""The ports: what the rules need from the table, the secret store and the bus.

The rules speak to these ``Protocol``s and catch these exceptions; the adapters
(``adapters/``, the only code that touches boto3) implement them, and tests may pass
anything that has the same methods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the publisher imports this module without pydantic
    from toqio_connector.models.change import LinkHint
    from toqio_connector.models.customer import Connection, LinkRequest, StoredCustomer
    from toqio_connector.models.request import SecretDocument

CURRENT = "AWSCURRENT"  # the label of the version in use

Clock = Callable[[], datetime]


class CustomerExists(Exception):
    """A conditional write found the customer already stored."""


class StaleWrite(Exception):
    """The customer changed (or vanished) since it was read: nothing was written."""


class SecretExists(Exception):
    """A secret of that name exists already."""


class SecretNotFound(Exception):
    """No such secret (or version), or not readable yet."""


class SecretNotOurs(Exception):
    """The secret holds something the connector never writes (not a JSON object)."""


@dataclass(frozen=True)
class SecretVersion:
    arn: str
    version_id: str
    created: datetime
    stages: tuple[str, ...]
    value: SecretDocument = field(repr=False)

    @property
    def is_current(self) -> bool:
        return CURRENT in self.stages


@dataclass(frozen=True)
class SecretListing:
    name: str
    arn: str
    created: datetime


def name_of(arn: str) -> str:
    """A secret's name from its ARN (Secrets Manager appends '-' and six characters)."""
    return arn.split(":secret:", 1)[1][:-7]


class CustomerTable(Protocol):
    """One item per customer, keyed by id, written under conditions."""

    def put_new(self, customer: StoredCustomer) -> None:
        """Store unless the id is taken (CustomerExists)."""

    def get(self, customer_id: str) -> StoredCustomer | None: ...

    def replace(self, customer: StoredCustomer, expected_version: int) -> None:
        """Overwrite only if still at ``expected_version`` (StaleWrite)."""

    def store_connection(self, customer_id: str, connection: Connection) -> bool:
        """Store a linking outcome if still about the current credentials (and relink
        request) and new."""

    def request_link(self, customer_id: str, request: LinkRequest) -> bool:
        """Record an operator's relink request; False if there is no such customer."""

    def scan_page(
        self, start_key: dict[str, Any] | None = None, limit: int = 100
    ) -> tuple[list[StoredCustomer], dict[str, Any] | None]: ...


class SecretStore(Protocol):
    """One secret per customer (a JSON object of its secret values), with versions."""

    def name_for(self, customer_id: str) -> str: ...

    def create(self, name: str, document: SecretDocument, token: str) -> tuple[str, str]:
        """(arn, version id) of a new secret; SecretExists if the name is taken."""

    def put_pending(self, secret_id: str, document: SecretDocument, version_id: str) -> None: ...

    def get(self, secret_id: str, version_id: str | None = None) -> SecretVersion:
        """A version, the current one by default; SecretNotFound, SecretNotOurs."""

    def delete(self, secret_id: str) -> None: ...

    def listed(self, name_prefix: str) -> list[SecretListing]: ...

    def is_ours(self, arn: str) -> bool: ...

    def current_version(self, arn: str) -> str | None: ...

    def move_current(self, arn: str, from_version: str | None, to_version: str) -> bool:
        """Compare and swap of the current label; False if it moved meanwhile."""

    def drop_pending_label(self, arn: str, version_id: str) -> None: ...


class EventBus(Protocol):
    """Where change events go; per entry, None if delivered, else why not."""

    def put(self, entries: list[dict[str, Any]]) -> list[str | None]: ...


@dataclass(frozen=True)
class Credentials:
    """A customer's provider credentials, read from its secret (``repr`` shows none)."""

    customer_id: str
    login_id: str | None = field(default=None, repr=False)
    key: str | None = field(default=None, repr=False)
    hmac_key: str | None = field(default=None, repr=False)
    provider_customer_id: str | None = None  # paymentProvider.customerId, if given


ACCEPTED, REFUSED, UNAVAILABLE = "accepted", "refused", "unavailable"


@dataclass(frozen=True)
class Verdict:
    """A provider's answer: accepted, refused (with its reason), or unavailable (why)."""

    outcome: str  # ACCEPTED, REFUSED or UNAVAILABLE
    detail: str = ""  # for the logs: never a credential


class LinkQueue(Protocol):
    """The linker's input queue (for an operator's relink requests)."""

    def send(self, hints: list[LinkHint]) -> None: ...


class ProviderAdapter(Protocol):
    """One payment provider, as the linker asks it to verify credentials."""

    required: tuple[str, ...]  # the Credentials fields it cannot work without

    def verify(self, credentials: Credentials, within: float = ...) -> Verdict:
        """The provider's verdict; the whole call ends within ``within`` seconds (the
        adapter's own default if not given). Past them, unavailable; given none
        (``within <= 0``), unavailable at once, with nothing sent."""
        ...
