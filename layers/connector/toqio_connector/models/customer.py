"""The stored customer: what the DynamoDB item holds, and what Toqio sees of it.

A plain dataclass, not a pydantic model: the publisher turns every stream record into
one, and pydantic would add ~50 ms to its cold start to re-check data the connector
itself wrote after validating it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

MASK = "*****"
CONNECTED = "CONNECTED"
FAILED = "FAILED"


@dataclass(frozen=True)
class Connection:
    """The outcome of linking a customer to its provider, for one version of its
    credentials (kept in the item beside the customer, outside Find's ``data``)."""

    status: str  # CONNECTED or FAILED
    reason: str  # a code from rules/linking.py's REASONS
    secretVersionId: str  # noqa: N815 - the credentials checked
    version: int  # the customer version checked
    checkedAt: str  # noqa: N815
    linkRequestId: str = ""  # noqa: N815 - the operator's relink request answered, if any

    ATTRIBUTES = (  # the item's attribute of each field
        ("status", "connectionStatus"),
        ("reason", "connectionReason"),
        ("secretVersionId", "connectionSecretVersionId"),
        ("version", "connectionVersion"),
        ("checkedAt", "connectionCheckedAt"),
        ("linkRequestId", "connectionLinkRequestId"),
    )

    def to_record(self) -> dict[str, Any]:
        return {attribute: getattr(self, name) for name, attribute in self.ATTRIBUTES}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Connection | None:
        if "connectionStatus" not in record:
            return None
        return cls(
            status=str(record["connectionStatus"]),
            reason=str(record.get("connectionReason", "")),
            secretVersionId=str(record.get("connectionSecretVersionId", "")),
            version=int(record.get("connectionVersion", 0)),
            checkedAt=str(record.get("connectionCheckedAt", "")),
            linkRequestId=str(record.get("connectionLinkRequestId", "")),
        )


@dataclass(frozen=True)
class LinkRequest:
    """An operator's request to check a customer's credentials again (``toqio-admin
    relink``), kept in the item: only what the item says makes the linker check again."""

    id: str
    requestedAt: str  # noqa: N815 - when it was asked: the retry window counts from it

    ATTRIBUTES = (("id", "linkRequestId"), ("requestedAt", "linkRequestedAt"))

    def to_record(self) -> dict[str, Any]:
        return {attribute: getattr(self, name) for name, attribute in self.ATTRIBUTES}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> LinkRequest | None:
        if not record.get("linkRequestId"):
            return None
        return cls(
            id=str(record["linkRequestId"]),
            requestedAt=str(record.get("linkRequestedAt", "")),
        )


@dataclass(frozen=True)
class StoredCustomer:
    """The DynamoDB item. It holds the secret's ARN and version, never a secret value."""

    id: str
    data: dict[str, Any]  # as Toqio sees it (secrets masked), without createdAt
    secretArn: str  # noqa: N815 - the item's attribute names
    secretVersionId: str  # noqa: N815
    createdAt: str  # noqa: N815
    updatedAt: str  # noqa: N815
    version: int = 1
    connection: Connection | None = field(default=None, compare=False)  # written apart
    linkRequest: LinkRequest | None = field(default=None, compare=False)  # noqa: N815 - apart too

    @property
    def current_connection(self) -> Connection | None:
        """The stored outcome if it is about the current credentials, else None."""
        connection = self.connection
        if connection is None or connection.secretVersionId != self.secretVersionId:
            return None
        return connection

    @property
    def pending_link_request(self) -> LinkRequest | None:
        """The operator's relink request, unless the stored outcome answers it already."""
        request = self.linkRequest
        connection = self.current_connection
        if request is None or (connection is not None and connection.linkRequestId == request.id):
            return None
        return request

    def view(self) -> dict[str, Any]:
        """The customer as Toqio sees it: Create's and Find's ``data``."""
        return {**self.data, "createdAt": self.createdAt}

    def changed(self, **changes: Any) -> StoredCustomer:
        return replace(self, **changes)

    def to_record(self) -> dict[str, Any]:
        """The item's attributes. ``data`` is kept as JSON text: custom parameters may
        hold what a DynamoDB map cannot (deep nesting, empty keys, any number)."""
        record = asdict(self)
        del record["connection"]  # its own attributes, written by the linker only
        del record["linkRequest"]  # written by an operator's relink only
        record["data"] = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> StoredCustomer:
        """From an item or a stream image (``version`` may come as ``Decimal``)."""
        return cls(
            id=str(record["id"]),
            data=json.loads(record["data"]),
            secretArn=str(record["secretArn"]),
            secretVersionId=str(record["secretVersionId"]),
            createdAt=str(record["createdAt"]),
            updatedAt=str(record.get("updatedAt", record["createdAt"])),
            version=int(record.get("version", 1)),
            connection=Connection.from_record(record),
            linkRequest=LinkRequest.from_record(record),
        )


def json_key(value: Any) -> tuple[str, Any]:
    """A hashable key with JSON's equality: ``5 == 5.0``, but ``true`` is not ``1``;
    object keys unordered, arrays ordered (JSON Schema's equality, as ``uniqueItems``)."""
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, int | float):
        return ("number", value)  # Python compares 5 and 5.0 (and their hashes) as equal
    if isinstance(value, dict):
        return ("object", frozenset((key, json_key(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("array", tuple(json_key(item) for item in value))
    return ("string" if isinstance(value, str) else "null", value)


def same_json(left: Any, right: Any) -> bool:
    """Equal as JSON values: ``5`` is ``5.0``, ``true`` is not ``1`` (Python's ``==`` says
    it is), and object keys are unordered."""
    return json_key(left) == json_key(right)
