"""template.yaml: what the deployed stack must be (docs/, README.md)."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.harness import iam
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


def test_the_authorizer_is_invoked_only_for_what_could_be_a_bearer_jwt(tmp_path):
    """The header's ValidationExpression passes every form of a real token (``make token``'s)
    that the authorizer accepts, and refuses garbage before any invocation."""
    from toqio_connector.rules.tokens import InvalidToken, TokenVerifier
    from toqio_local import devkeys

    auth = RESOURCES["Api"]["Properties"]["Auth"]
    identity = auth["Authorizers"][auth["DefaultAuthorizer"]]["Identity"]
    expression = re.compile(identity["ValidationExpression"])
    key = tmp_path / "dev-key.pem"
    token = devkeys.token("c1", path=key)
    verifier = TokenVerifier.configured(devkeys.public_key_pem(key), "RS256")
    header, payload, signature = token.split(".")
    real = [
        f"Bearer {token}",
        f"bearer {token}",
        f"BEARER {token}",
        f"Bearer   {token}",
        f" Bearer {token} ",
        f"Bearer {token}" + "=" * (-len(signature) % 4),  # a padded signature
    ]
    garbage = [
        "",
        "Bearer",
        "Bearer ",
        token,
        f"Basic {token}",
        f"Bearer\t{token}",
        "Bearer not-a-jwt",
        "Bearer a.b",
        f"Bearer {token}.x",
        f"Bearer {token} junk",
        f"Bearer {token}, Bearer {token}",
        f"Bearer {header}.{payload}.{signature.replace('-', '+').replace('_', '/')}/",
        'Bearer {"alg":"none"}',
        "Bearer \xe9\xe9.a.b",
        "Bearer " + "A" * 10_000,
    ]
    for value in real:
        assert expression.fullmatch(value), value
        assert verifier.verify(value).customer_id == "c1"
    for value in garbage:
        assert not expression.fullmatch(value), value
        with pytest.raises(InvalidToken):  # refused unseen: the authorizer would refuse it
            verifier.verify(value)


def allows(granted: list[dict], action: str, arn: str) -> bool:
    return iam.allows(STACK, granted, action, arn)


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


def test_the_customers_api_writes_customer_secrets_and_only_reads_or_deletes_pending_ones():
    """On the names the code gives: a customer's secret (with its ARN's random suffix, or
    by name as CreateSecret may be judged) and an operator change's pending secret."""
    from toqio_connector.adapters.secrets import SecretsManagerStore
    from toqio_connector.rules.write_protocol import pending_name

    granted = statements("CustomersApiFunction")
    secret = f"arn:aws:secretsmanager:{STACK.region}:{STACK.account}:secret:"
    store = SecretsManagerStore(STACK.parameter("SecretNamePrefix"), None)
    customers = [store.name_for("c1"), store.name_for("urn:toqio:c-1")]
    named = [secret + name for name in customers]
    arns = [secret + name + "-AbCdEf" for name in customers]
    pending = [pending_name(arn, "2f0c7d1e-1b2c-4d5e-8f90-a1b2c3d4e5f6") for arn in arns]
    pending_arns = [secret + name + "-XyZ123" for name in pending]
    every = {a for s in granted for a in iam.listed(s["Action"]) if a.startswith("secretsmanager:")}
    for action in every:
        for arn in arns + named:
            assert allows(granted, action, arn), (action, arn)
    reading = {"secretsmanager:GetSecretValue", "secretsmanager:DeleteSecret"}
    for arn in pending_arns + [secret + name for name in pending]:
        for action in every:
            assert allows(granted, action, arn) == (action in reading), (action, arn)
    for other in ("toqio-connector/customers/c1", "toqio-connector/customers/c1/other"):
        for action in every:
            assert not allows(granted, action, secret + other + "-AbCdEf"), (action, other)
    assert "secretsmanager:ListSecrets" not in every  # only an operator's change lists


CRYPTO = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}


def function_statements(function: str) -> list[dict]:
    """Inline statements and those of the template's managed policies the function names."""
    found = statements(function)
    for policy in policies(function):
        if isinstance(policy, dict) and set(policy) == {"Ref"} and policy["Ref"] in RESOURCES:
            found += RESOURCES[policy["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
    return found


def key_statements() -> list[dict]:
    """The key policy's statements, both branches of each conditional one."""
    found = []
    for statement in RESOURCES["CustomerSecretsKey"]["Properties"]["KeyPolicy"]["Statement"]:
        if "Fn::If" in statement:
            found += [s for s in statement["Fn::If"][1:] if s != {"Ref": "AWS::NoValue"}]
        else:
            found.append(statement)
    return found


def test_customers_secrets_have_a_rotated_key_that_only_the_roles_using_them_may_use():
    (key_id,) = STACK.of_type("AWS::KMS::Key")
    key = RESOURCES[key_id]
    assert key_id == "CustomerSecretsKey"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"  # as the table
    ((_alias, alias),) = STACK.of_type("AWS::KMS::Alias").items()
    assert alias["Properties"]["TargetKeyId"] == {"Ref": key_id}
    assert STACK.resolve(alias["Properties"]["AliasName"]).startswith("alias/")

    root = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    via = {"kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}}
    users: dict[str, set[str]] = {}  # principal -> the key's uses it is allowed
    for statement in key_statements():
        assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
        actions = set(iam.listed(statement["Action"]))
        assert not any("*" in action for action in actions)
        principals = statement["Principal"]["AWS"]
        if principals == root:  # the account administers the key, and cannot use it
            assert {"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"} <= actions
            assert not actions & (CRYPTO | {"kms:CreateGrant", "kms:ReEncryptFrom"})
            continue
        assert actions <= CRYPTO and statement["Condition"] == {"StringEquals": via}
        for principal in principals if isinstance(principals, list) else [principals]:
            users.setdefault(json.dumps(principal), set()).update(actions)

    # the functions' roles named are those of the functions that touch secret values
    reading = {"secretsmanager:GetSecretValue"}
    writing = {"secretsmanager:CreateSecret", "secretsmanager:PutSecretValue"}
    expected = {}
    for fid in STACK.of_type("AWS::Serverless::Function"):
        actions = {a for s in function_statements(fid) for a in iam.listed(s["Action"])}
        assert not any(a.startswith("kms:") for a in actions), fid  # the key policy grants
        if actions & (reading | writing):
            role = json.dumps({"Fn::GetAtt": [f"{fid}Role", "Arn"]})
            expected[role] = {"kms:Decrypt"} | (
                {"kms:GenerateDataKey"} if actions & writing else set()
            )
    named_roles = {p: uses for p, uses in users.items() if "Fn::GetAtt" in p}
    assert set(named_roles) == set(expected)
    for role, uses in expected.items():
        assert uses <= named_roles[role], role
    linker = json.dumps({"Fn::GetAtt": ["LinkerFunctionRole", "Arn"]})
    assert named_roles[linker] >= {"kms:Decrypt", "kms:GenerateDataKey"}  # finishing changes
    # and no one else but the roles the deployer names (default: none)
    others = {p for p in users if p not in named_roles}
    assert others == {
        json.dumps({"Ref": "SecretsOperatorArns"}),
        json.dumps({"Ref": "SecretsReaderArns"}),
    }
    assert users[json.dumps({"Ref": "SecretsReaderArns"})] == {"kms:Decrypt"}
    for name in ("SecretsOperatorArns", "SecretsReaderArns"):
        assert STACK.template["Parameters"][name]["Default"] == ""

    # the functions that create secrets name the key
    for fid in STACK.of_type("AWS::Serverless::Function"):
        actions = {a for s in function_statements(fid) for a in iam.listed(s["Action"])}
        env = RESOURCES[fid]["Properties"].get("Environment", {}).get("Variables", {})
        creates = "secretsmanager:CreateSecret" in actions
        assert (env.get("SECRETS_KMS_KEY_ID") == {"Fn::GetAtt": [key_id, "Arn"]}) == creates, fid


def number(value: object) -> int:
    """A template number: a literal, or a parameter's default."""
    return int(STACK.resolve(value))


def checkov_skips() -> dict[tuple[str, str], str]:
    """(logical id, check id) -> the justification of each accepted checkov finding."""
    return {
        (lid, skip["id"]): skip["comment"]
        for lid, resource in RESOURCES.items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }


def test_the_stage_is_throttled_and_its_usage_plan_bounds_each_api_key():
    settings = RESOURCES["Api"]["Properties"]["MethodSettings"]
    (stage,) = [s for s in settings if (s["ResourcePath"], s["HttpMethod"]) == ("/*", "*")]
    rate, burst = number(stage["ThrottlingRateLimit"]), number(stage["ThrottlingBurstLimit"])
    assert 0 < rate <= burst
    plans = STACK.of_type("AWS::ApiGateway::UsagePlan")
    assert len(plans) == 1
    plan = next(iter(plans.values()))["Properties"]
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "Api"}, "Stage": {"Ref": "Api.Stage"}}]
    assert plan["Throttle"] == {
        "RateLimit": stage["ThrottlingRateLimit"],
        "BurstLimit": stage["ThrottlingBurstLimit"],
    }
    assert plan["Quota"]["Period"] in {"DAY", "WEEK", "MONTH"}
    assert number(plan["Quota"]["Limit"]) > 0
    # a throttled request is the retryable 503, not a bare 429
    assert GATEWAY["THROTTLED"]["StatusCode"] == "503"
    # whatever a checkov skip says of the stage's throttling holds
    for (lid, _check), comment in checkov_skips().items():
        if "throttling" in comment:
            events = RESOURCES[lid]["Properties"].get("Events", {}).values()
            assert lid == "AuthorizerFunction" or all(
                e["Type"] == "Api" and e["Properties"]["RestApiId"] == {"Ref": "Api"}
                for e in events
            ), lid


def test_every_function_has_reserved_concurrency_the_linker_s_little_enough_for_the_provider():
    functions = STACK.of_type("AWS::Serverless::Function")
    reserved = {
        fid: number(f["Properties"]["ReservedConcurrentExecutions"]) for fid, f in functions.items()
    }
    assert all(n >= 1 for n in reserved.values())
    # AWS keeps 100 of an account's (default) 1,000 unreserved
    assert sum(reserved.values()) <= 900
    # the API's functions take a whole burst, so that the stage throttling refuses first
    settings = RESOURCES["Api"]["Properties"]["MethodSettings"]
    burst = max(number(s["ThrottlingBurstLimit"]) for s in settings)
    assert min(reserved["CustomersApiFunction"], reserved["AuthorizerFunction"]) >= burst
    # the linker: a few provider calls at a time, and no more queue pollers than it may run
    linker = functions["LinkerFunction"]["Properties"]
    scaling = linker["Events"]["CustomerEvents"]["Properties"]["ScalingConfig"]
    assert scaling["MaximumConcurrency"] == linker["ReservedConcurrentExecutions"]
    assert reserved["LinkerFunction"] <= 10
    assert not [key for key in checkov_skips() if key[1] == "CKV_AWS_115"]  # none to accept


EXPRESSION_WORDS = {
    "SET", "REMOVE", "ADD", "DELETE", "AND", "OR", "NOT", "BETWEEN", "IN",
    "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains",
    "size",
}  # fmt: skip


def named_attributes(call: dict) -> tuple[set[str], set[str]]:
    """(attributes an UpdateItem call sets, every attribute it names: key, update, condition)."""
    names = call.get("ExpressionAttributeNames", {})

    def attributes(expression: str) -> set[str]:
        aliased = {names[alias] for alias in re.findall(r"#\w+", expression)}
        bare = set(re.findall(r"(?<![#:\w])[A-Za-z_]\w*", expression)) - EXPRESSION_WORDS
        return aliased | bare

    update = call["UpdateExpression"]
    assert update.startswith("SET ") and "REMOVE" not in update
    written = set()
    for assignment in update.removeprefix("SET ").split(","):
        written |= attributes(assignment.split("=")[0])
    named = set(call["Key"]) | attributes(update) | attributes(call.get("ConditionExpression", ""))
    return written, named


def test_the_linker_may_update_its_connection_attributes_only():
    """The attributes the condition allows, checked against the write the linker makes
    (DynamoDbCustomerTable.store_connection, recorded) and the model it writes."""
    from toqio_connector.adapters.dynamodb import DynamoDbCustomerTable
    from toqio_connector.models.customer import Connection, StoredCustomer

    class Recorder:
        def __init__(self) -> None:
            self.calls: list[dict] = []

        def update_item(self, **call: object) -> dict:
            self.calls.append(call)
            return {}

    recorder = Recorder()
    outcome = Connection(
        status="CONNECTED",
        reason="CREDENTIALS_ACCEPTED",
        secretVersionId="v1",
        version=1,
        checkedAt="2026-11-24T10:15:30.123Z",
    )
    assert DynamoDbCustomerTable("t", recorder).store_connection("c1", outcome)
    (call,) = recorder.calls
    written, named = named_attributes(call)
    assert written == {attribute for _name, attribute in Connection.ATTRIBUTES}

    (update,) = [s for s in statements("LinkerFunction") if "dynamodb:UpdateItem" in s["Action"]]
    assert update["Action"] == "dynamodb:UpdateItem"  # nothing else under this condition
    condition = update["Condition"]
    allowed = set(condition["ForAllValues:StringEquals"]["dynamodb:Attributes"])
    assert condition["Null"] == {"dynamodb:Attributes": "false"}  # no request without them
    assert condition["StringEqualsIfExists"] == {"dynamodb:ReturnValues": "NONE"}
    assert "id" in allowed and named <= allowed  # the linker's own write is allowed...
    own = set(StoredCustomer("c1", {}, "arn", "v1", "t", "t").to_record())
    assert not any(attribute.startswith("connection") for attribute in own)
    for extra in allowed - named:  # ...and beyond it only attributes of the linker's own
        assert extra.startswith("connection") and extra not in own, extra


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


def test_the_template_routes_to_the_customers_function_exactly_the_route_table_s_paths():
    """One route table (edge/routes.py): API Gateway sends each of its paths, whatever the
    method, to the customers function (which answers 405 for the others), and no other."""
    from toqio_connector.edge.routes import ROUTES

    events = RESOURCES["CustomersApiFunction"]["Properties"]["Events"].values()
    api = [e["Properties"] for e in events if e["Type"] == "Api"]
    assert sorted(e["Path"] for e in api) == sorted({route.path for route in ROUTES})
    assert {e["Method"] for e in api} == {"ANY"}
