"""The customers table: one item per customer, keyed by ``id``."""

from __future__ import annotations

from typing import Any, cast

from botocore.exceptions import ClientError

from toqio_connector.adapters.aws import aws_errors, error_code
from toqio_connector.models.customer import StoredCustomer
from toqio_connector.ports import CustomerExists, StaleWrite


def to_item(customer: StoredCustomer) -> dict[str, Any]:
    """The item in DynamoDB's wire format: every attribute a string but ``version``."""
    return {
        key: {"N": str(value)} if isinstance(value, int) else {"S": value}
        for key, value in customer.to_record().items()
    }


def from_item(item: dict[str, Any]) -> StoredCustomer:
    return StoredCustomer.from_record(
        {key: int(value["N"]) if "N" in value else value["S"] for key, value in item.items()}
    )


class DynamoDbCustomerTable:
    """The customers table (``ports.CustomerTable``) on DynamoDB."""

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self.name = table_name
        self._client = dynamodb

    def _conditional_put(self, customer: StoredCustomer, **condition: Any) -> bool:
        """PutItem under ``condition``; False if it failed, unless what failed it is this
        very item: the SDK retries a write whose answer timed out, and the retry fails the
        condition that the first attempt, which landed, made false."""
        try:
            with aws_errors():
                self._client.put_item(
                    TableName=self.name,
                    Item=to_item(customer),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    **condition,
                )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            found = exc.response.get("Item")
            return found is not None and from_item(cast(dict[str, Any], found)) == customer
        return True

    def put_new(self, customer: StoredCustomer) -> None:
        """Store a customer unless one with the same id exists (raises CustomerExists)."""
        if not self._conditional_put(customer, ConditionExpression="attribute_not_exists(id)"):
            raise CustomerExists(customer.id)

    def get(self, customer_id: str) -> StoredCustomer | None:
        with aws_errors():
            response = self._client.get_item(
                TableName=self.name, Key={"id": {"S": customer_id}}, ConsistentRead=True
            )
        item = response.get("Item")
        return from_item(item) if item else None

    def replace(self, customer: StoredCustomer, expected_version: int) -> None:
        """Overwrite the item only if it is still at ``expected_version`` (optimistic lock)."""
        if not self._conditional_put(
            customer,
            ConditionExpression="attribute_exists(id) AND version = :expected",
            ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
        ):
            raise StaleWrite(customer.id)

    def scan_page(
        self, start_key: dict[str, Any] | None = None, limit: int = 100
    ) -> tuple[list[StoredCustomer], dict[str, Any] | None]:
        """One page of customers, and the key to continue from (None at the end)."""
        kwargs: dict[str, Any] = {"TableName": self.name, "Limit": limit, "ConsistentRead": True}
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        with aws_errors():
            response = self._client.scan(**kwargs)
        return [from_item(item) for item in response.get("Items", [])], response.get(
            "LastEvaluatedKey"
        )
