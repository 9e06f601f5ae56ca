"""template.yaml: what the contract and the issue require of the deployed stack."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.harness.registries import TEMPLATE
from toqio_local.gateway import render_vtl
from toqio_local.template import ResolvedTemplate

ROOT = Path(__file__).resolve().parents[2]
STACK = ResolvedTemplate.read(TEMPLATE)
RESOURCES = STACK.resources


def policies(function: str) -> list:
    return RESOURCES[function]["Properties"].get("Policies", [])


def statements(function: str) -> list[dict]:
    return [
        s for policy in policies(function) if "Statement" in policy for s in policy["Statement"]
    ]


def test_functions_are_arm64_python_with_the_shared_layer():
    globals_ = STACK.template["Globals"]["Function"]
    assert globals_["Architectures"] == ["arm64"]
    assert globals_["Runtime"].startswith("python3.")
    assert globals_["Layers"] == [{"Ref": "ConnectorLayer"}]
    layer = RESOURCES["ConnectorLayer"]
    assert layer["Metadata"]["BuildMethod"] == globals_["Runtime"]
    assert layer["Properties"]["ContentUri"] == "layers/connector"


def test_table_is_on_demand_encrypted_recoverable_and_streamed():
    table = RESOURCES["CustomersTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["StreamSpecification"]["StreamViewType"] in {"NEW_IMAGE", "NEW_AND_OLD_IMAGES"}
    assert RESOURCES["CustomersTable"]["DeletionPolicy"] == "Retain"


def test_event_bus_default_name():
    assert RESOURCES["ConnectorEventBus"]["Properties"]["Name"] == {"Ref": "EventBusName"}
    assert STACK.template["Parameters"]["EventBusName"]["Default"] == "toqio-connector"


def test_api_uses_the_cached_token_authorizer_with_toqio_keys_as_a_parameter():
    auth = RESOURCES["Api"]["Properties"]["Auth"]
    authorizer = auth["Authorizers"][auth["DefaultAuthorizer"]]
    assert authorizer["FunctionArn"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
    assert authorizer["Identity"]["Header"] == "Authorization"
    assert authorizer["Identity"]["ReauthorizeEvery"] == {"Ref": "AuthorizerCacheSeconds"}
    assert STACK.template["Parameters"]["AuthorizerCacheSeconds"]["Default"] > 0
    env = RESOURCES["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert env["TOQIO_PUBLIC_KEYS"] == {"Ref": "ToqioPublicKeys"}
    assert "Policies" not in RESOURCES["AuthorizerFunction"]["Properties"]  # no AWS access


def test_customers_api_may_touch_only_its_table_and_its_secret_prefix():
    allowed = {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "secretsmanager:CreateSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:DescribeSecret",
        "secretsmanager:UpdateSecretVersionStage",
        "secretsmanager:DeleteSecret",
    }
    granted = statements("CustomersApiFunction")
    assert {action for s in granted for action in s["Action"]} == allowed
    for statement in granted:
        assert "*" not in json.dumps(statement["Action"])
        resource = json.dumps(statement["Resource"])
        assert resource != '"*"'
        if statement["Action"][0].startswith("secretsmanager:"):
            assert "${SecretNamePrefix}*" in resource
    assert len(policies("CustomersApiFunction")) == len(
        [p for p in policies("CustomersApiFunction") if "Statement" in p]
    )


def test_publisher_reports_partial_failures_and_has_an_on_failure_destination():
    event = RESOURCES["PublisherFunction"]["Properties"]["Events"]["CustomerChanges"]
    props = event["Properties"]
    assert event["Type"] == "DynamoDB"
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BatchSize"] <= 10  # one PutEvents per batch
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["PublisherFailureQueue", "Arn"]
    }
    kinds = [next(iter(p)) for p in policies("PublisherFunction")]
    assert kinds == ["EventBridgePutEventsPolicy", "SQSSendMessagePolicy"]


GATEWAY = {
    res["Properties"]["ResponseType"]: res["Properties"]
    for res in STACK.of_type("AWS::ApiGateway::GatewayResponse").values()
}


def test_gateway_responses_are_the_error_table_s():
    """Status, code, message and Retry-After as errors.py defines them: one source."""
    from toqio_connector.models.errors import GATEWAY_RESPONSES, ServiceUnavailable

    assert set(GATEWAY) == set(GATEWAY_RESPONSES)
    for kind, error in GATEWAY_RESPONSES.items():
        props = GATEWAY[kind]
        assert int(props["StatusCode"]) == error.status
        assert props["ResponseParameters"]["gatewayresponse.header.Content-Type"] == (
            "'application/json'"
        )
        body = json.loads(
            render_vtl(
                STACK.resolve(props["ResponseTemplates"]["application/json"]),
                {"requestId": "req-1", "requestTimeEpoch": 1795492440857},
            )
        )
        assert body == {
            "code": error.code,
            "errorSeverity": "ERROR",
            "message": error.message,
            "httpStatus": error.status,
            "requestId": "req-1",
            "date": "2026-11-24T03:54:00.857Z",
            "errorOrigin": "connector",
        }
        retry_after = props["ResponseParameters"].get("gatewayresponse.header.Retry-After")
        if issubclass(error, ServiceUnavailable):
            assert retry_after == f"'{ServiceUnavailable.retry_after_seconds}'"
        else:
            assert retry_after is None


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=253_402_300_799_999))  # up to 9999-12-31
def test_gateway_date_arithmetic_is_iso_8601_utc_milliseconds(epoch_ms):
    template = STACK.resolve(GATEWAY["UNAUTHORIZED"]["ResponseTemplates"]["application/json"])
    rendered = json.loads(render_vtl(template, {"requestId": "r", "requestTimeEpoch": epoch_ms}))
    expected = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=epoch_ms)
    assert rendered["date"] == expected.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_layer_requirements_are_pinned_to_the_lock_file():
    """The layer is built from the locked versions (`make layer-requirements`)."""
    locked = {
        package["name"]: package["version"]
        for package in tomllib.loads((ROOT / "uv.lock").read_text())["package"]
    }
    lines = [
        line.split(";")[0].strip()
        for line in (ROOT / "layers/connector/requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    pinned = dict(line.split("==") for line in lines)
    assert pinned == {name: locked[name] for name in pinned}, "run `make layer-requirements`"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    direct = {re.split(r"[\[=<>]", requirement)[0].lower() for requirement in project}
    assert direct - {"boto3"} <= set(pinned)
    assert not {"boto3", "botocore"} & set(pinned)  # the Lambda runtime's own


def test_only_the_publisher_may_put_events_with_the_connector_s_sources():
    """Anyone else allowed events:PutEvents on the bus (a subscriber, a policy mistake)
    is denied an event that looks like the connector's."""
    (policy,) = [r for r in RESOURCES.values() if r["Type"] == "AWS::Events::EventBusPolicy"]
    statement = policy["Properties"]["Statement"]
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == (
        "Deny",
        "*",
        "events:PutEvents",
    )
    condition = statement["Condition"]
    assert condition["StringLike"]["events:source"] == ["toqio.connector", "toqio.connector.*"]
    assert condition["ArnNotEquals"]["aws:PrincipalArn"] == {
        "Fn::GetAtt": ["PublisherFunctionRole", "Arn"]
    }
    assert "PublisherFunction" in RESOURCES
    assert policy["Properties"]["EventBusName"] == {"Ref": "ConnectorEventBus"}


def test_the_linker_may_finish_a_half_done_change_and_delete_only_pending_secrets():
    """It reads values through the write protocol, which copies a change's values in from
    its pending secret, makes them current, then deletes that pending secret."""
    shared = RESOURCES["CustomerSecretsReadPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert {"Ref": "CustomerSecretsReadPolicy"} in policies("LinkerFunction")
    granted = {
        action: json.dumps(s["Resource"])
        for s in statements("LinkerFunction") + shared
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        if action.startswith("secretsmanager:")
    }
    assert set(granted) == {
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:DescribeSecret",
        "secretsmanager:UpdateSecretVersionStage",
        "secretsmanager:DeleteSecret",
    }
    assert granted["secretsmanager:DeleteSecret"].endswith('${SecretNamePrefix}*/pending/*"}')
    for action, resource in granted.items():
        assert "${SecretNamePrefix}*" in resource, action


def test_the_linker_s_batch_fits_its_timeout_and_its_queue_outlasts_the_retry_window():
    """Every message of a batch gets a whole provider call and the write of its outcome
    before the function's timeout (the batch's partial answer is never lost); a message
    comes back until the longest retry window is over, so none is dead-lettered before
    its customer's FAILED status is stored."""
    from toqio_connector.adapters.aws import LAST_CALL_SECONDS, RESERVE_SECONDS
    from toqio_connector.rules.linking import PROVIDER_CALL_SECONDS

    linker = RESOURCES["LinkerFunction"]["Properties"]
    batch = linker["Events"]["CustomerEvents"]["Properties"]["BatchSize"]
    per_message = PROVIDER_CALL_SECONDS + LAST_CALL_SECONDS
    assert batch * per_message + RESERVE_SECONDS <= linker["Timeout"]
    queue = RESOURCES["LinkerQueue"]["Properties"]
    visibility = queue["VisibilityTimeout"]
    assert visibility >= 6 * linker["Timeout"]  # AWS's advice for SQS event sources
    longest_window = STACK.template["Parameters"]["LinkRetryWindowSeconds"]["MaxValue"]
    redeliveries = queue["RedrivePolicy"]["maxReceiveCount"] - 1
    assert redeliveries * visibility >= longest_window + visibility
