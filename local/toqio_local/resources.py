"""Creating the template's stateful resources in the AWS emulator."""

from __future__ import annotations

from typing import Any

from toqio_local.template import ResolvedTemplate

_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "ProvisionedThroughput",
)


def physical_name(stack: ResolvedTemplate, logical_id: str) -> str:
    return f"{stack.name}-{logical_id}"


def create_table(
    stack: ResolvedTemplate, session: Any, logical_id: str, props: dict[str, Any]
) -> None:
    client = session.client("dynamodb")
    name = props.get("TableName") or physical_name(stack, logical_id)
    kwargs = {key: props[key] for key in _TABLE_KEYS if key in props}
    sse = props.get("SSESpecification")
    if sse:  # CloudFormation says SSEEnabled where the API says Enabled
        kwargs["SSESpecification"] = {
            "Enabled": bool(sse.get("SSEEnabled")),
            **{key: sse[key] for key in ("SSEType", "KMSMasterKeyId") if key in sse},
        }
    stream = props.get("StreamSpecification")
    if stream:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **stream}
    table = client.create_table(TableName=name, **kwargs)["TableDescription"]
    pitr = props.get("PointInTimeRecoverySpecification", {})
    if pitr.get("PointInTimeRecoveryEnabled"):
        client.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    stack.refs[logical_id] = name
    stack.attributes[(logical_id, "Arn")] = table["TableArn"]
    if "LatestStreamArn" in table:
        stack.attributes[(logical_id, "StreamArn")] = table["LatestStreamArn"]


def create_event_bus(
    stack: ResolvedTemplate, session: Any, logical_id: str, props: dict[str, Any]
) -> None:
    name = props.get("Name") or physical_name(stack, logical_id)
    arn = session.client("events").create_event_bus(Name=name)["EventBusArn"]
    stack.refs[logical_id] = name
    stack.attributes[(logical_id, "Name")] = name
    stack.attributes[(logical_id, "Arn")] = arn


def create_queue(
    stack: ResolvedTemplate, session: Any, logical_id: str, props: dict[str, Any]
) -> None:
    client = session.client("sqs")
    name = props.get("QueueName") or physical_name(stack, logical_id)
    attributes = {
        key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
        for key in ("MessageRetentionPeriod", "VisibilityTimeout", "SqsManagedSseEnabled")
        if key in props
    }
    url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    stack.refs[logical_id] = url
    stack.attributes[(logical_id, "Arn")] = arn
    stack.attributes[(logical_id, "QueueName")] = name
    stack.attributes[(logical_id, "QueueUrl")] = url


CREATORS = {
    "AWS::DynamoDB::Table": create_table,
    "AWS::Events::EventBus": create_event_bus,
    "AWS::SQS::Queue": create_queue,
}


def create_all(stack: ResolvedTemplate, session: Any) -> list[str]:
    """Create every table, bus and queue the template declares; their logical ids."""
    created = []
    for logical_id, resource in stack.resources.items():
        creator = CREATORS.get(resource["Type"])
        if creator is None:
            continue
        creator(stack, session, logical_id, stack.resolve(resource.get("Properties", {})))
        created.append(logical_id)
    return created
