"""The customers table: one item per customer, keyed by ``id``."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from toqio_connector.adapters.aws import aws_errors, client, error_code, setting
from toqio_connector.models import StoredCustomer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class CustomerExists(Exception):
    """A conditional write found the customer already stored."""


def to_item(customer: StoredCustomer) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in customer.to_record().items()}


def from_item(item: dict[str, Any]) -> StoredCustomer:
    return StoredCustomer.from_record(
        {key: _deserializer.deserialize(value) for key, value in item.items()}
    )


class CustomerTable:
    def __init__(self, table_name: str | None = None) -> None:
        self.name = table_name or setting("TABLE_NAME")
        self._client = client("dynamodb")

    def put_new(self, customer: StoredCustomer) -> None:
        """Store a customer unless one with the same id exists (raises CustomerExists)."""
        try:
            with aws_errors():
                self._client.put_item(
                    TableName=self.name,
                    Item=to_item(customer),
                    ConditionExpression="attribute_not_exists(id)",
                )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise CustomerExists(customer.id) from None
            raise

    def get(self, customer_id: str) -> StoredCustomer | None:
        with aws_errors():
            response = self._client.get_item(
                TableName=self.name, Key={"id": {"S": customer_id}}, ConsistentRead=True
            )
        item = response.get("Item")
        return from_item(item) if item else None
