"""What a floor does with plain boto3 (the same AWS calls as the connector's Create and
Find, nothing else), and the parts of Lambda's context object that Powertools reads.

Shared by the warm loop (``warm.py``) and the first-request probe
(``coldstart_probe.py``), which imports this module before its clock starts: it imports
only what the interpreter already has or needs anyway (json, time, uuid).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

REGION = "eu-west-1"


class Context:
    """The parts of Lambda's context object that Powertools reads."""

    def __init__(self, name: str, memory: int) -> None:
        self.function_name = name
        self.memory_limit_in_mb = memory
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:{name}"
        self.aws_request_id = str(uuid.uuid4())


def masked(body: dict[str, Any]) -> dict[str, Any]:
    """The Create body with its secret values as ``*****`` (what the item's data holds)."""
    view = json.loads(json.dumps(body))
    view["apiKey"] = "*****"
    for key in ("key", "loginId", "hmacKey"):
        view["paymentProvider"][key] = "*****"
    view["availableCurrencies"] = [code.upper() for code in view["availableCurrencies"]]
    return view


class Floor:
    """The same AWS calls as the connector, with plain boto3 clients and nothing else."""

    def __init__(self, dynamodb: Any, secrets: Any, table: str, prefix: str) -> None:
        self.dynamodb = dynamodb
        self.secrets = secrets
        self.table = table
        self.prefix = prefix

    def create(self, body: dict[str, Any]) -> None:
        customer_id = body["id"]
        secret = self.secrets.create_secret(
            Name=f"{self.prefix}{customer_id}/secrets",
            SecretString=json.dumps(
                {
                    "apiKey": body["apiKey"],
                    "paymentProvider": {
                        key: body["paymentProvider"][key] for key in ("key", "loginId", "hmacKey")
                    },
                },
                separators=(",", ":"),
            ),
            ClientRequestToken=str(uuid.uuid4()),
            Description="Toqio connector: a customer's provider credentials",
        )
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        self.dynamodb.put_item(
            TableName=self.table,
            Item={
                "id": {"S": customer_id},
                "data": {"S": json.dumps(masked(body), separators=(",", ":"))},
                "secretArn": {"S": secret["ARN"]},
                "secretVersionId": {"S": secret["VersionId"]},
                "createdAt": {"S": now},
                "updatedAt": {"S": now},
                "version": {"N": "1"},
            },
            ConditionExpression="attribute_not_exists(id)",
        )

    def find(self, customer_id: str) -> None:
        item = self.dynamodb.get_item(
            TableName=self.table, Key={"id": {"S": customer_id}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            raise RuntimeError(f"floor Find: {customer_id} not stored")
