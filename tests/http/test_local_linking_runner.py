"""`make run`'s linking parts: the sandbox provider, the linker's queue and rule, and
the queue relay that feeds the linker, in process and through the running runner."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.harness.http import RunningConnector, free_ports
from tests.harness.registries import ROOT
from toqio_local import resources
from toqio_local.functions import FunctionCrashed, FunctionSpec, wait_until
from toqio_local.queues import QueueRelay, reported_failures
from toqio_local.sandbox import SandboxProvider
from toqio_local.template import TEMPLATE, ResolvedTemplate

REGION = "eu-west-1"
BUS = "toqio-connector"
LINKER_QUEUE = "toqio-connector-LinkerQueue"
DEAD_LETTERS = "toqio-connector-LinkerDeadLetterQueue"
RULE = "toqio-connector-LinkerRule"
CREDENTIALS = {"key": "sandbox-key-3f9a", "loginId": "sandbox-login-8b1c"}


def post(url: str, body: bytes = b"{}", headers: dict[str, str] | None = None, method="POST"):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - local
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def verify(base: str, login_id: str | None = "login-1", key: str | None = "key-1"):
    headers = {"Content-Type": "application/json", "X-Timestamp": str(int(time.time()))}
    if login_id is not None:
        headers["X-Login-Id"] = login_id
    if key is not None:
        headers["Authorization"] = f"Key {key}"
    return post(base + "/v1/credentials/verify", b'{"customerId":"c1"}', headers)


# -- the sandbox, in process ---------------------------------------------------------


@pytest.fixture
def sandbox():
    provider = SandboxProvider(port=0).start()
    yield provider
    provider.stop()


def test_sandbox_accepts_refuses_and_says_why(sandbox):
    assert verify(sandbox.url) == (200, {"status": "ACCEPTED"})
    assert verify(sandbox.url, login_id="invalid-x") == (
        401,
        {"status": "REFUSED", "reason": "INVALID_CREDENTIALS"},
    )
    for missing in ({"login_id": None}, {"key": None}, {"login_id": ""}):
        assert verify(sandbox.url, **missing) == (
            400,
            {"status": "REFUSED", "reason": "MISSING_CREDENTIALS"},
        )


def test_sandbox_knows_one_path_and_one_method(sandbox):
    assert post(sandbox.url + "/v1/other")[0] == 404
    assert post(sandbox.url + "/v1/credentials/verify", None, method="GET")[0] == 405
    assert post(sandbox.url + "/v1/credentials/verify", None, method="DELETE")[0] == 405


def test_sandbox_fails_the_next_requests_on_demand(sandbox):
    sandbox.fail_next(2)
    assert [verify(sandbox.url)[0] for _ in range(3)] == [503, 503, 200]
    assert post(sandbox.url + "/_sandbox/fail-next?count=1")[0] == 200
    assert [verify(sandbox.url)[0] for _ in range(2)] == [503, 200]


def test_sandbox_never_prints_a_header_value(capfd):
    provider = SandboxProvider(port=0, verbose=True).start()
    try:
        verify(provider.url, login_id="canary-login-51a7", key="canary-key-9e2d")
    finally:
        provider.stop()
    out, err = capfd.readouterr()
    assert "/v1/credentials/verify -> 200" in out
    assert "canary" not in out + err


# -- resources and the queue relay, in process ------------------------------------------


@pytest.fixture
def emulated():
    with mock_aws():
        session = boto3.session.Session(
            region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test"
        )
        stack = ResolvedTemplate.read(TEMPLATE, region=REGION)
        stack.parameter_values["ToqioPublicKeys"] = "x" * 100
        resources.create_all(stack, session)
        yield stack, session


def test_create_all_makes_the_linker_s_queues_rule_archive_and_policy(emulated):
    stack, session = emulated
    sqs, events = session.client("sqs"), session.client("events")
    queue = sqs.get_queue_url(QueueName=LINKER_QUEUE)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    declared = stack.resources["LinkerQueue"]["Properties"]
    # as deployed (the runner shortens retries by its own relay, not the queue)
    assert attributes["VisibilityTimeout"] == str(declared["VisibilityTimeout"])
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == stack.attributes[("LinkerDeadLetterQueue", "Arn")]
    assert int(redrive["maxReceiveCount"]) == declared["RedrivePolicy"]["maxReceiveCount"]
    policy = json.loads(attributes["Policy"])
    condition = policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert condition == stack.attributes[("LinkerRule", "Arn")]
    rule = events.describe_rule(Name=RULE, EventBusName=BUS)
    assert json.loads(rule["EventPattern"])["detail-type"] == ["CustomerCreated", "CustomerUpdated"]
    targets = events.list_targets_by_rule(Rule=RULE, EventBusName=BUS)["Targets"]
    assert [t["Arn"] for t in targets] == [attributes["QueueArn"]]
    assert events.list_archives()["Archives"][0]["ArchiveName"] == stack.refs["EventArchive"]
    assert stack.refs["CustomerSecretsReadPolicy"].startswith("arn:aws:iam::")
    assert (
        stack.resolve({"Ref": "CustomerSecretsReadPolicy"})
        == stack.refs["CustomerSecretsReadPolicy"]
    )


def test_create_all_makes_the_customer_secrets_key_its_alias_and_the_api_s_setting(emulated):
    stack, session = emulated
    kms = session.client("kms")
    key = kms.describe_key(KeyId="alias/toqio-connector/customer-secrets")["KeyMetadata"]
    assert key["Arn"] == stack.attributes[("CustomerSecretsKey", "Arn")]
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    users = [s["Principal"]["AWS"] for s in policy["Statement"]][1:]  # no deployer's roles
    assert users == [
        [
            f"arn:aws:iam::{stack.account}:role/toqio-connector-CustomersApiFunctionRole",
            f"arn:aws:iam::{stack.account}:role/toqio-connector-LinkerFunctionRole",
        ]
    ]
    environment = stack.function_environment("CustomersApiFunction")
    assert environment["SECRETS_KMS_KEY_ID"] == key["Arn"]


def test_the_key_policy_names_the_deployer_s_roles_only_when_given():
    """Conditions, !If and AWS::NoValue, and a CommaDelimitedList, as CloudFormation
    resolves them (the runner's resolver)."""
    stack = ResolvedTemplate.read(TEMPLATE, region=REGION)
    stack.attributes.update(
        {(f"{f}Role", "Arn"): f"role-{f}" for f in ("CustomersApiFunction", "LinkerFunction")}
    )
    policy = stack.resources["CustomerSecretsKey"]["Properties"]["KeyPolicy"]
    assert not stack.condition("HasSecretsReaders")
    assert len(stack.resolve(policy)["Statement"]) == 2
    stack.parameter_values["SecretsReaderArns"] = "arn:aws:iam::1:role/a, arn:aws:iam::1:role/b"
    assert stack.condition("HasSecretsReaders") and not stack.condition("HasSecretsOperators")
    (*_, readers) = stack.resolve(policy)["Statement"]
    assert readers["Sid"] == "SubscribersReadSecretValues"
    assert readers["Principal"]["AWS"] == ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"]


def test_the_rule_puts_customer_events_on_the_linker_queue_and_nothing_else(emulated):
    _, session = emulated
    sqs, events = session.client("sqs"), session.client("events")
    queue = sqs.get_queue_url(QueueName=LINKER_QUEUE)["QueueUrl"]
    entries = [
        {"Source": "toqio.connector", "DetailType": kind, "Detail": json.dumps({"n": n})}
        for n, kind in enumerate(
            ["CustomerCreated", "CustomerConnectionChanged", "CustomerUpdated"]
        )
    ]
    entries.append({"Source": "someone.else", "DetailType": "CustomerCreated", "Detail": "{}"})
    events.put_events(Entries=[{**entry, "EventBusName": BUS} for entry in entries])
    bodies = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    ]
    assert sorted(b["detail-type"] for b in bodies) == ["CustomerCreated", "CustomerUpdated"]


class FakePool:
    """A function that answers what the test says, and keeps the events it was given."""

    def __init__(self, answer: Any) -> None:
        self.spec = FunctionSpec("Fake", ROOT, "app", "handler", {})
        self.answer = answer
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return self.answer(event) if callable(self.answer) else self.answer


def relay_on(session: Any, pool: FakePool, retry_seconds: int = 1) -> tuple[QueueRelay, str]:
    sqs = session.client("sqs")
    queue = sqs.get_queue_url(QueueName=LINKER_QUEUE)["QueueUrl"]
    for n in range(3):
        sqs.send_message(
            QueueUrl=queue,
            MessageBody=json.dumps({"n": n}),
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
        )
    return QueueRelay(session, queue, pool, retry_seconds=retry_seconds, wait_seconds=0), queue


def visible(session: Any, queue: str) -> int:
    attributes = session.client("sqs").get_queue_attributes(
        QueueUrl=queue,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_the_relay_hands_lambda_s_sqs_event_and_deletes_what_succeeded(emulated):
    _, session = emulated
    pool = FakePool({"batchItemFailures": []})
    relay, queue = relay_on(session, pool)
    assert relay.poll_once() == 3
    (record, *_) = pool.events[0]["Records"]
    assert set(record) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":" + LINKER_QUEUE)
    assert record["awsRegion"] == REGION
    for name in ("ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp"):
        assert record["attributes"][name]
    assert record["messageAttributes"]["kind"]["stringValue"] == "test"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"
    assert visible(session, queue) == 0


def test_the_relay_leaves_reported_failures_to_come_back_after_the_retry_interval(emulated):
    _, session = emulated

    def fail_first(event: dict[str, Any]) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}

    pool = FakePool(fail_first)
    relay, queue = relay_on(session, pool, retry_seconds=1)
    assert relay.poll_once() == 3
    failed = pool.events[0]["Records"][0]["messageId"]
    assert visible(session, queue) == 1
    assert relay.poll_once() == 0  # not before the retry interval (the queue says 120 s)
    time.sleep(1.2)
    pool.answer = {"batchItemFailures": []}
    assert relay.poll_once() == 1
    again = pool.events[-1]["Records"][0]
    assert (again["messageId"], again["attributes"]["ApproximateReceiveCount"]) == (failed, "2")
    assert visible(session, queue) == 0


def test_a_crashed_invocation_leaves_the_whole_batch(emulated):
    _, session = emulated

    def crash(_event: dict[str, Any]) -> Any:
        raise FunctionCrashed("Fake gave no reply")

    relay, queue = relay_on(session, FakePool(crash), retry_seconds=1)
    assert relay.poll_once() == 3
    assert visible(session, queue) == 3


@pytest.mark.parametrize(
    ("answer", "failed"),
    [
        (None, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "a"}]}, {"a"}),
        ({"batchItemFailures": [{"itemIdentifier": "zz"}]}, {"a", "b"}),  # unknown id
        ({"batchItemFailures": [{"id": "a"}]}, {"a", "b"}),  # malformed
    ],
)
def test_an_invalid_partial_batch_response_fails_the_whole_batch(answer, failed):
    assert reported_failures(answer, {"a", "b"}) == failed


def test_the_relay_stops_promptly(emulated):
    """Once asked to stop, the relay ends after the poll under way at most: counted in
    polls, not timed (the join's 30 s only keep a relay that never ends from hanging)."""
    _, session = emulated
    relay, _ = relay_on(session, FakePool({}), retry_seconds=1)
    relay.wait_seconds = 1
    polls = {"before": 0, "after": 0}
    poll_once = relay.poll_once

    def counted_poll() -> int:
        polls["after" if relay.stopping.is_set() else "before"] += 1
        return poll_once()

    relay.poll_once = counted_poll
    relay.start()
    assert wait_until(lambda: polls["before"] >= 2, 30)  # relaying: the batch, then waiting
    relay.stop()
    relay.join(30)
    assert not relay.is_alive()
    # none begun after stop(); one only if stop() came between the loop's check and it
    assert polls["after"] <= 1


# -- the runner ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local():
    runner = RunningConnector({"LINKER_RETRY_SECONDS": "2"})
    yield runner
    runner.stop()


def test_banner_names_the_sandbox_the_linker_queue_and_connection_status(local):
    assert f"provider       {local.sandbox}" in local.banner
    assert '"invalid"' in local.banner
    assert LINKER_QUEUE in local.banner and "LinkerFunction" in local.banner
    assert "GET /customers/{id}/connectionStatus" in local.banner


def test_the_runner_s_sandbox_answers_by_its_rule(local):
    assert verify(local.sandbox) == (200, {"status": "ACCEPTED"})
    assert verify(local.sandbox, login_id="invalid-1")[0] == 401
    assert verify(local.sandbox, key=None)[0] == 400
    assert post(local.sandbox + "/nowhere")[0] == 404


def test_the_runner_creates_the_linker_s_rule_and_queues(local):
    sqs, events = local.client("sqs"), local.client("events")
    queue = sqs.get_queue_url(QueueName=LINKER_QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    targets = events.list_targets_by_rule(Rule=RULE, EventBusName=BUS)["Targets"]
    assert [t["Arn"] for t in targets] == [arn]
    assert sqs.get_queue_url(QueueName=DEAD_LETTERS)["QueueUrl"]


def create(local: RunningConnector, customer_id: str, login_id: str) -> str:
    token = (
        subprocess.run(
            [sys.executable, "-m", "toqio_local.devkeys", customer_id],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    body = {
        "id": customer_id,
        "apiKey": "linking-api-key-1d2e",
        "provider": "ACME",
        "paymentProvider": {**CREDENTIALS, "loginId": login_id},
        "availableCurrencies": ["EUR"],
    }
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    status, answer = post(local.api + "/customers", json.dumps(body).encode(), headers)
    assert status == 200, answer
    return token


def connection_status(local: RunningConnector, customer_id: str, token: str, wait: float = 15):
    request = urllib.request.Request(
        f"{local.api}/customers/{customer_id}/connectionStatus",
        headers={"Authorization": f"Bearer {token}"},
    )
    deadline, last = time.monotonic() + wait, None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - local
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            last = (error.code, json.loads(error.read()))
            if error.code != 503:
                return last
        time.sleep(0.3)
    return last


@pytest.mark.parametrize(
    ("login_id", "expected"),
    [(CREDENTIALS["loginId"], "CONNECTED"), ("invalid-x", "FAILED")],
)
def test_a_created_customer_is_linked_with_the_sandbox(local, login_id, expected):
    customer_id = f"link-{expected.lower()}"
    token = create(local, customer_id, login_id)
    status, body = connection_status(local, customer_id, token)
    assert (status, body.get("data")) == (200, expected), (body, "".join(local.output))


def test_the_linker_retries_while_the_provider_is_unavailable(local):
    assert post(local.sandbox + "/_sandbox/fail-next?count=1")[0] == 200
    token = create(local, "link-retried", CREDENTIALS["loginId"])
    status, body = connection_status(local, "link-retried", token, wait=20)
    output = "".join(local.output)
    assert (status, body.get("data")) == (200, "CONNECTED"), output
    assert "[provider] POST /v1/credentials/verify -> 503" in output


def test_no_credential_reaches_the_runner_s_output(local):
    output = "".join(local.output)
    assert "[provider] POST /v1/credentials/verify" in output
    for value in (*CREDENTIALS.values(), "linking-api-key-1d2e"):
        assert value not in output


# -- ports --------------------------------------------------------------------------------


def run_runner(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env}
    full.pop("AWS_ENDPOINT_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "toqio_local"],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_sandbox_port_must_differ_from_the_others():
    port, aws_port = free_ports(2)
    done = run_runner({"API_PORT": str(port), "AWS_PORT": str(aws_port), "SANDBOX_PORT": str(port)})
    assert done.returncode != 0
    assert "SANDBOX_PORT" in done.stderr + done.stdout


def test_a_sandbox_port_in_use_is_refused():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        api_port, aws_port = free_ports(2)  # neither is the busy one: it is bound
        done = run_runner(
            {"API_PORT": str(api_port), "AWS_PORT": str(aws_port), "SANDBOX_PORT": str(port)}
        )
    assert done.returncode != 0
    assert f"port {port} is in use" in done.stderr + done.stdout
