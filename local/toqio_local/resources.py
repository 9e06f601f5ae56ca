"""Creating the template's stateful resources in the AWS emulator."""

from __future__ import annotations

import json
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
    attributes: dict[str, str] = {
        key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
        for key in ("MessageRetentionPeriod", "VisibilityTimeout", "SqsManagedSseEnabled")
        if key in props
    }
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    stack.refs[logical_id] = url
    stack.attributes[(logical_id, "Arn")] = arn
    stack.attributes[(logical_id, "QueueName")] = name
    stack.attributes[(logical_id, "QueueUrl")] = url


def create_rule(
    stack: ResolvedTemplate, session: Any, logical_id: str, props: dict[str, Any]
) -> None:
    """An EventBridge rule on its bus, with its targets (the emulator delivers to queues)."""
    client = session.client("events")
    name = props.get("Name") or physical_name(stack, logical_id)
    bus = props.get("EventBusName", "default")
    rule: dict[str, Any] = {
        key: props[key] for key in ("Description", "ScheduleExpression") if key in props
    }
    pattern = props.get("EventPattern")
    if pattern is not None:  # CloudFormation takes the pattern as an object or as JSON text
        rule["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    arn = client.put_rule(Name=name, EventBusName=bus, State=props.get("State", "ENABLED"), **rule)[
        "RuleArn"
    ]
    targets = [
        {key: target[key] for key in ("Id", "Arn", "Input", "InputPath") if key in target}
        for target in props.get("Targets", [])
    ]
    if targets:
        client.put_targets(Rule=name, EventBusName=bus, Targets=targets)
    stack.refs[logical_id] = name
    stack.attributes[(logical_id, "Arn")] = arn


def create_queue_policy(
    stack: ResolvedTemplate, session: Any, logical_id: str, props: dict[str, Any]
) -> None:
    """The policy set on each of its queues (the emulator does not enforce it)."""
    client = session.client("sqs")
    for url in props.get("Queues", []):
        client.set_queue_attributes(
            QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])}
        )
    stack.refs[logical_id] = physical_name(stack, logical_id)


def create_archive(
    stack: ResolvedTemplate, session: Any, logical_id: str, props: dict[str, Any]
) -> None:
    """The bus's archive, if the emulator keeps archives (replay is not emulated)."""
    name = props.get("ArchiveName") or physical_name(stack, logical_id)
    options: dict[str, Any] = {
        key: props[key] for key in ("Description", "EventPattern") if key in props
    }
    if isinstance(options.get("EventPattern"), dict):
        options["EventPattern"] = json.dumps(options["EventPattern"])
    if "RetentionDays" in props:
        options["RetentionDays"] = int(props["RetentionDays"])
    stack.refs[logical_id] = name
    try:
        arn = session.client("events").create_archive(
            ArchiveName=name, EventSourceArn=props["SourceArn"], **options
        )["ArchiveArn"]
    except Exception as exc:  # noqa: BLE001 - an archive is optional offline
        print(f"[resources] {logical_id} not created ({type(exc).__name__}): skipped", flush=True)
        arn = f"arn:aws:events:{stack.region}:{stack.account}:archive/{name}"
    stack.attributes[(logical_id, "Arn")] = arn


def create_managed_policy(
    stack: ResolvedTemplate, session: Any, logical_id: str, props: dict[str, Any]
) -> None:
    """An IAM managed policy; its Ref is its ARN (the emulator enforces no IAM)."""
    name = props.get("ManagedPolicyName") or physical_name(stack, logical_id)
    arn = f"arn:aws:iam::{stack.account}:policy{props.get('Path', '/')}{name}"
    try:
        arn = session.client("iam").create_policy(
            PolicyName=name,
            Path=props.get("Path", "/"),
            PolicyDocument=json.dumps(props["PolicyDocument"]),
            Description=props.get("Description", ""),
        )["Policy"]["Arn"]
    except Exception as exc:  # noqa: BLE001 - nothing offline depends on it
        print(f"[resources] {logical_id} not created ({type(exc).__name__}): skipped", flush=True)
    stack.refs[logical_id] = arn
    stack.attributes[(logical_id, "PolicyArn")] = arn


def create_key(
    stack: ResolvedTemplate, session: Any, logical_id: str, props: dict[str, Any]
) -> None:
    """A KMS key with its policy (the emulator enforces none) and its rotation."""
    client = session.client("kms")
    options: dict[str, Any] = {
        key: props[key] for key in ("Description", "KeyUsage", "KeySpec") if key in props
    }
    if "KeyPolicy" in props:
        options["Policy"] = json.dumps(props["KeyPolicy"])
    key = client.create_key(**options)["KeyMetadata"]
    if props.get("EnableKeyRotation"):
        client.enable_key_rotation(KeyId=key["KeyId"])
    stack.refs[logical_id] = key["KeyId"]
    stack.attributes[(logical_id, "Arn")] = key["Arn"]
    stack.attributes[(logical_id, "KeyId")] = key["KeyId"]


def create_alias(
    stack: ResolvedTemplate, session: Any, logical_id: str, props: dict[str, Any]
) -> None:
    session.client("kms").create_alias(
        AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"]
    )
    stack.refs[logical_id] = props["AliasName"]


def implicit_roles(stack: ResolvedTemplate) -> None:
    """The role SAM makes for each function that names none (``<function>Role``): its ARN,
    which policies may name (the emulator enforces no IAM, so no role is created)."""
    for fid, resource in stack.of_type("AWS::Serverless::Function").items():
        if "Role" not in resource.get("Properties", {}):
            name = f"{stack.name}-{fid}Role"
            stack.refs[f"{fid}Role"] = name
            stack.attributes[(f"{fid}Role", "Arn")] = f"arn:aws:iam::{stack.account}:role/{name}"


CREATORS = {
    "AWS::DynamoDB::Table": create_table,
    "AWS::Events::EventBus": create_event_bus,
    "AWS::SQS::Queue": create_queue,
    "AWS::SQS::QueuePolicy": create_queue_policy,
    "AWS::Events::Rule": create_rule,
    "AWS::Events::Archive": create_archive,
    "AWS::IAM::ManagedPolicy": create_managed_policy,
    "AWS::KMS::Key": create_key,
    "AWS::KMS::Alias": create_alias,
}


def create_all(stack: ResolvedTemplate, session: Any) -> list[str]:
    """Create every table, bus, queue, rule and key the template declares; their logical ids.

    A resource that refers to one not created yet (a queue naming its dead-letter queue,
    a rule naming its target) waits for a later pass.
    """
    implicit_roles(stack)
    created: list[str] = []
    waiting = [lid for lid, r in stack.resources.items() if r["Type"] in CREATORS]
    while waiting:
        postponed = []
        for logical_id in waiting:
            resource = stack.resources[logical_id]
            try:
                props = stack.resolve(resource.get("Properties", {}))
            except KeyError:  # refers to what is not created yet
                postponed.append(logical_id)
                continue
            CREATORS[resource["Type"]](stack, session, logical_id, props)
            created.append(logical_id)
        if len(postponed) == len(waiting):
            stack.resolve(stack.resources[postponed[0]].get("Properties", {}))  # says what
        waiting = postponed
    return created
