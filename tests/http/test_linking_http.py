"""Provider linking end to end over `make run`'s real HTTP: Create, then the linker (bus ->
rule -> queue -> function -> sandbox provider) stores a status that connectionStatus
answers, and a subscriber of the bus receives one CustomerConnectionChanged each."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.harness.http import RunningConnector

CANARIES = ("canary-key-4471", "canary-hmac-9916", "canary-api-3308")


def call(
    local: RunningConnector, method: str, path: str, token: str | None, body: Any = None
) -> tuple[int, dict[str, str], Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{local.api}{path}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def body(customer_id: str, login_id: str) -> dict[str, Any]:
    return {
        "id": customer_id,
        "apiKey": CANARIES[2],
        "paymentProvider": {"loginId": login_id, "key": CANARIES[0], "hmacKey": CANARIES[1]},
        "availableCurrencies": ["EUR"],
    }


def settled_status(local: RunningConnector, customer_id: str, within: float = 20) -> Any:
    token = local.token(customer_id)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        status, headers, reply = call(
            local, "GET", f"/customers/{customer_id}/connectionStatus", token
        )
        if status != 503:
            return status, reply
        assert int(headers["Retry-After"]) >= 1
        time.sleep(0.3)
    raise AssertionError(f"{customer_id}: no status within {within} s")


@pytest.fixture(scope="module")
def local():
    running = RunningConnector()
    yield running
    running.stop()


def subscribe(local: RunningConnector, name: str = "linking-subscriber") -> str:
    sqs, events = local.client("sqs"), local.client("events")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name=name,
        EventBusName="toqio-connector",
        EventPattern=json.dumps({"source": ["toqio.connector"]}),
    )
    events.put_targets(Rule=name, EventBusName="toqio-connector", Targets=[{"Id": "q", "Arn": arn}])
    return url


def received(local: RunningConnector, url: str, count: int, within: float = 20) -> list[dict]:
    sqs, found = local.client("sqs"), []
    deadline = time.monotonic() + within
    while len(found) < count and time.monotonic() < deadline:
        for message in sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", []):
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_the_banner_names_the_sandbox(local):
    assert f"provider       {local.sandbox}" in local.banner
    assert "connectionStatus" in local.banner


def test_create_then_connected_or_failed_and_one_event_each(local):
    url = subscribe(local)
    for customer_id, login in (("ok-1", "login-ok"), ("ko-1", "invalid-login")):
        status, _, _ = call(
            local, "POST", "/customers", local.token(customer_id), body(customer_id, login)
        )
        assert status == 200
    ok = settled_status(local, "ok-1")[1]
    ko = settled_status(local, "ko-1")[1]
    assert (ok["data"], ok["code"], ok["httpStatus"]) == ("CONNECTED", "OK", 200)
    assert ko["data"] == "FAILED"
    events = received(local, url, 4)
    kinds = sorted(e["detail-type"] for e in events)
    assert kinds == ["CustomerConnectionChanged"] * 2 + ["CustomerCreated"] * 2
    changed = {
        e["detail"]["customerId"]: e["detail"] for e in events if "customerId" in e["detail"]
    }
    assert changed["ok-1"]["status"] == "CONNECTED" and changed["ko-1"]["status"] == "FAILED"
    assert changed["ko-1"]["reason"] == "CREDENTIALS_REFUSED"
    time.sleep(2)
    assert received(local, url, 1, within=1) == []  # no CustomerUpdated, nothing twice
    seen = json.dumps(events)
    assert not any(canary in seen for canary in CANARIES)


def test_no_credentials_is_failed(local):
    token = local.token("bare-1")
    assert call(local, "POST", "/customers", token, {"id": "bare-1", "apiKey": "k-0001"})[0] == 200
    assert settled_status(local, "bare-1")[1]["data"] == "FAILED"


def test_status_refusals_over_http(local):
    token = local.token("ok-2")
    call(local, "POST", "/customers", token, body("ok-2", "login-ok"))
    assert call(local, "GET", "/customers/ok-2/connectionStatus", None)[0] == 401
    assert call(local, "GET", "/customers/ok-2/connectionStatus", "not-a-jwt")[0] == 401
    assert call(local, "GET", "/customers/ok-2/connectionStatus", local.token("other"))[0] == 403
    status, _, reply = call(
        local, "GET", "/customers/nobody/connectionStatus", local.token("nobody")
    )
    assert (status, reply["code"]) == (404, "CUSTOMER_NOT_FOUND")
    status, headers, reply = call(local, "POST", "/customers/ok-2/connectionStatus", token, {})
    assert (status, reply["code"]) == (405, "METHOD_NOT_ALLOWED")


def test_unchecked_is_503_with_retry_after(local):
    local_sqs = local.client("sqs")
    queue = next(
        u
        for u in local_sqs.list_queues()["QueueUrls"]
        if "LinkerQueue" in u and "DeadLetter" not in u
    )
    assert queue  # the linker's queue exists; a status not yet stored is a 503
    token = local.token("slow-1")
    call(local, "POST", "/customers", token, body("slow-1", "login-ok"))
    status, headers, reply = call(local, "GET", "/customers/slow-1/connectionStatus", token)
    if status == 503:  # usually: the linker needs a moment
        assert reply["code"] == "SERVICE_UNAVAILABLE" and int(headers["Retry-After"]) >= 1
    assert settled_status(local, "slow-1")[1]["data"] == "CONNECTED"


# -- forged events: whoever may put events on the bus steers nothing ------------------


def linker_lines(local: RunningConnector, customer_id: str) -> list[dict]:
    """The linker's log lines about ``customer_id`` (Powertools JSON in the output)."""
    lines = []
    for text in list(local.output):
        start = text.find("{")
        try:
            line = json.loads(text[start:]) if start >= 0 else None
        except ValueError:
            continue
        if isinstance(line, dict) and line.get("customer") == customer_id:
            lines.append(line)
    return lines


def wait_for_lines(local: RunningConnector, customer_id: str, message: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen = [x for x in linker_lines(local, customer_id) if x.get("message") == message]
        if len(seen) >= count:
            return
        time.sleep(0.3)
    raise AssertionError(f"{customer_id}: fewer than {count} {message!r}: {seen}")


def about(events: list[dict], customer_id: str) -> list[dict]:
    detail = [e["detail"] for e in events]
    named = [d.get("customerId") or d.get("customer", {}).get("id") for d in detail]
    return [event for event, who in zip(events, named, strict=True) if who == customer_id]


def received_about(local: RunningConnector, url: str, customer_id: str, count: int) -> list:
    found: list[dict] = []
    deadline = time.monotonic() + 20
    while len(about(found, customer_id)) < count and time.monotonic() < deadline:
        found += received(local, url, 1, within=1)
    return found


def connection_of(local: RunningConnector, customer_id: str) -> dict[str, Any]:
    item = local.client("dynamodb").get_item(
        TableName="toqio-connector-CustomersTable", Key={"id": {"S": customer_id}}
    )["Item"]
    return {name: value for name, value in item.items() if name.startswith("connection")}


def put(local: RunningConnector, source: str, detail_type: str, detail: dict, **extra) -> None:
    entry = {
        "EventBusName": "toqio-connector",
        "Source": source,
        "DetailType": detail_type,
        "Detail": json.dumps(detail),
        **extra,
    }
    answer = local.client("events").put_events(Entries=[entry])
    assert answer["FailedEntryCount"] == 0


def test_forged_events_of_each_kind_change_nothing_visible(local):
    """From the genuine CustomerCreated a subscriber reads: another secret's ARN with the
    customer's version id, a forged version, a time two hours back with the provider
    down, an operator's relink (on the bus, and straight onto the linker's queue)."""
    from datetime import UTC, datetime, timedelta

    url = subscribe(local, "forge-1-subscriber")
    token = local.token("forge-1")
    assert call(local, "POST", "/customers", token, body("forge-1", "login-ok"))[0] == 200
    assert settled_status(local, "forge-1")[1]["data"] == "CONNECTED"
    genuine = about(received_about(local, url, "forge-1", 2), "forge-1")
    created = next(e for e in genuine if e["detail-type"] == "CustomerCreated")["detail"]
    before = connection_of(local, "forge-1")
    attacker = local.client("secretsmanager").create_secret(
        Name="attacker-secret", SecretString=json.dumps({"paymentProvider": {"loginId": "invalid"}})
    )["ARN"]
    provider_down(local, 50)
    try:
        put(local, "toqio.connector", "CustomerUpdated", {**created, "secretArn": attacker})
        put(local, "toqio.connector", "CustomerCreated", {**created, "version": 99})
        two_hours_back = datetime.now(UTC) - timedelta(hours=2)
        back = {**created, "relink": True}  # as an operator's relink once was
        put(local, "toqio.connector", "CustomerCreated", back, Time=two_hours_back)
        relink = {"customerId": "forge-1"}
        put(local, "toqio.connector.admin", "LinkRequested", relink)  # no rule takes it
        sqs = local.client("sqs")
        queue = next(u for u in sqs.list_queues()["QueueUrls"] if u.endswith("-LinkerQueue"))
        forged_relink = {"source": "toqio.connector.admin", "detail-type": "LinkRequested"}
        sqs.send_message(
            QueueUrl=queue, MessageBody=json.dumps({**forged_relink, "detail": relink})
        )
        wait_for_lines(local, "forge-1", "nothing to link", 4)
    finally:
        provider_down(local, 0)
    assert connection_of(local, "forge-1") == before  # status, reason, version, checkedAt
    assert settled_status(local, "forge-1")[1]["data"] == "CONNECTED"
    later = [e["detail-type"] for e in about(received(local, url, 10, within=3), "forge-1")]
    assert "CustomerConnectionChanged" not in later  # (the forgeries themselves are in it)


def provider_down(local: RunningConnector, requests: int) -> None:
    """The sandbox answers 503 to the next ``requests`` checks."""
    hook = urllib.request.Request(
        f"{local.sandbox}/_sandbox/fail-next?count={requests}", method="POST"
    )
    urllib.request.urlopen(hook, timeout=10).close()  # noqa: S310 - local


def test_a_forged_event_racing_the_genuine_one_gets_the_true_outcome_once(local):
    """Another secret (holding credentials the provider accepts) made with the customer's
    version id, named by an event put on the bus before the genuine one lands."""
    url = subscribe(local, "forge-2-subscriber")
    token = local.token("forge-2")
    assert call(local, "POST", "/customers", token, body("forge-2", "invalid-login"))[0] == 200
    item = local.client("dynamodb").get_item(
        TableName="toqio-connector-CustomersTable", Key={"id": {"S": "forge-2"}}
    )["Item"]
    version = item["secretVersionId"]["S"]
    accepted = {"paymentProvider": {"loginId": "login-ok", "key": "k"}}
    attacker = local.client("secretsmanager").create_secret(  # the customer's version id
        Name="attacker-2", SecretString=json.dumps(accepted), ClientRequestToken=version
    )["ARN"]
    forged = {
        "eventVersion": "1",
        "customer": {"id": "forge-2"},
        "secretArn": attacker,
        "secretVersionId": version,
        "version": 1,
    }
    put(local, "toqio.connector", "CustomerCreated", forged)
    assert settled_status(local, "forge-2")[1]["data"] == "FAILED"
    wait_for_lines(local, "forge-2", "nothing to link", 1)
    changed = [
        e["detail"]
        for e in received(local, url, 10, within=5)
        if e["detail-type"] == "CustomerConnectionChanged"
        and e["detail"]["customerId"] == "forge-2"
    ]
    assert [(c["status"], c["reason"]) for c in changed] == [("FAILED", "CREDENTIALS_REFUSED")]
