"""The customers table: one item per customer, keyed by ``id``."""

from __future__ import annotations

from typing import Any, cast

from botocore.exceptions import ClientError

from toqio_connector.adapters.aws import aws_errors, error_code
from toqio_connector.models.customer import Connection, LinkRequest, StoredCustomer
from toqio_connector.ports import CustomerExists, StaleWrite


def _attribute(value: str | int) -> dict[str, str]:
    return {"N": str(value)} if isinstance(value, int) else {"S": value}


def to_item(customer: StoredCustomer) -> dict[str, Any]:
    """The item in DynamoDB's wire format: every attribute a string but the versions."""
    return {key: _attribute(value) for key, value in customer.to_record().items()}


def _set_all(record: dict[str, Any], names: str = "a") -> dict[str, Any]:
    """UpdateItem arguments that SET every attribute of ``record`` (none other changes)."""
    keys = list(record)
    return {
        "UpdateExpression": "SET "
        + ", ".join(f"#{names}{i} = :{names}{i}" for i in range(len(keys))),
        "ExpressionAttributeNames": {f"#{names}{i}": key for i, key in enumerate(keys)},
        "ExpressionAttributeValues": {
            f":{names}{i}": _attribute(record[key]) for i, key in enumerate(keys)
        },
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

    def _conditional_write(self, customer: StoredCustomer, **condition: Any) -> bool:
        """PutItem (a new customer) or UpdateItem (a change: the linker's connection
        attributes stay) under ``condition``; False if it failed, unless what failed it is
        this very item: the SDK retries a write whose answer timed out, and the retry
        fails the condition that the first attempt, which landed, made false."""
        try:
            with aws_errors():
                if "UpdateExpression" in condition:
                    self._client.update_item(
                        TableName=self.name,
                        Key={"id": {"S": customer.id}},
                        ReturnValuesOnConditionCheckFailure="ALL_OLD",
                        **condition,
                    )
                else:
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
        if not self._conditional_write(customer, ConditionExpression="attribute_not_exists(id)"):
            raise CustomerExists(customer.id)

    def get(self, customer_id: str) -> StoredCustomer | None:
        with aws_errors():
            response = self._client.get_item(
                TableName=self.name, Key={"id": {"S": customer_id}}, ConsistentRead=True
            )
        item = response.get("Item")
        return from_item(item) if item else None

    def replace(self, customer: StoredCustomer, expected_version: int) -> None:
        """Overwrite the customer's attributes only if it is still at ``expected_version``
        (optimistic lock); its connection status is left as it is."""
        record = customer.to_record()
        del record["id"]
        update = _set_all(record)
        update["ExpressionAttributeValues"][":expected"] = {"N": str(expected_version)}
        if not self._conditional_write(
            customer, ConditionExpression="attribute_exists(id) AND version = :expected", **update
        ):
            raise StaleWrite(customer.id)

    def store_connection(self, customer_id: str, connection: Connection) -> bool:
        """Store a linking outcome only if the customer's credentials, and the operator's
        relink request it answers (if any), are still the ones checked, and it differs from
        what is stored; False if not written."""
        update = _set_all(connection.to_record())
        values = update["ExpressionAttributeValues"]
        values[":checked"] = {"S": connection.secretVersionId}
        if connection.linkRequestId:
            values[":asked"] = {"S": connection.linkRequestId}
            asked = "linkRequestId = :asked"
        else:
            asked = "attribute_not_exists(linkRequestId)"
        # #a0..#a5: status, reason, secretVersionId, version, checkedAt, linkRequestId
        try:
            with aws_errors():
                self._client.update_item(
                    TableName=self.name,
                    Key={"id": {"S": customer_id}},
                    ConditionExpression=(
                        f"secretVersionId = :checked AND {asked} AND (attribute_not_exists(#a0)"
                        " OR #a2 <> :checked OR #a0 <> :a0 OR #a1 <> :a1 OR NOT #a5 = :a5)"
                    ),
                    **update,
                )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def request_link(self, customer_id: str, request: LinkRequest) -> bool:
        """Record an operator's relink request on a stored customer; False if none."""
        update = _set_all(request.to_record())
        try:
            with aws_errors():
                self._client.update_item(
                    TableName=self.name,
                    Key={"id": {"S": customer_id}},
                    ConditionExpression="attribute_exists(id)",
                    **update,
                )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

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
