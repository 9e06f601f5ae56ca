"""The write protocol seen from outside: over `make run`'s real HTTP and its emulator.

As docs/api.md says of Create: a value sent only in a refused request or a losing
concurrent Create is in no secret version once that request has been answered; a secret
at a customer's name that the connector never wrote is answered with something a caller
can act on, never a 500.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.harness.http import RunningConnector


class Local(RunningConnector):
    def create(self, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{self.api}/customers", data=json.dumps(body).encode(), method="POST"
        )
        request.add_header("Content-Type", "application/json")
        request.add_header("Authorization", f"Bearer {self.token(body['id'])}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def every_stored_value(self) -> str:
        """The text of every version (deprecated ones included) of every secret."""
        secrets = self.client("secretsmanager")
        texts = []
        for secret in secrets.list_secrets()["SecretList"]:
            listed = secrets.list_secret_version_ids(SecretId=secret["ARN"], IncludeDeprecated=True)
            for version in listed["Versions"]:
                value = secrets.get_secret_value(
                    SecretId=secret["ARN"], VersionId=version["VersionId"]
                )
                texts.append(value.get("SecretString", ""))
        return "\n".join(texts)


@pytest.fixture(scope="module")
def local():
    runner = Local()
    yield runner
    runner.stop()


def until_answered(local: Local, body: dict) -> tuple[int, dict]:
    """The caller's retries while the answer is 503 (another Create in flight)."""
    for _ in range(40):
        status, reply = local.create(body)
        if status != 503:
            return status, reply
        time.sleep(0.1)
    raise AssertionError("still 503 after the retries")


def test_concurrent_different_creates_one_wins_and_no_loser_leaves_a_value(local):
    bodies = [{"id": "race-1", "apiKey": f"losing-canary-{n}-Zq7"} for n in range(6)]
    with ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(lambda body: until_answered(local, body), bodies))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 409, 409, 409, 409, 409], statuses
    stored = local.every_stored_value()
    winners = [body for body, (status, _) in zip(bodies, answers, strict=True) if status == 200]
    assert winners[0]["apiKey"] in stored
    for body, (status, _) in zip(bodies, answers, strict=True):
        if status != 200:
            assert body["apiKey"] not in stored


@pytest.mark.parametrize("foreign", ["not json", "[1]", "null"])
def test_a_secret_the_connector_never_wrote_is_a_conflict_not_a_500(local, foreign):
    customer_id = f"foreign-{len(foreign)}"
    secrets = local.client("secretsmanager")
    secrets.create_secret(
        Name=f"toqio-connector/customers/{customer_id}/secrets", SecretString=foreign
    )
    status, reply = local.create({"id": customer_id, "apiKey": "foreign-canary-0000"})
    assert status == 409 and reply["code"] == "CUSTOMER_ALREADY_EXISTS"
    table = local.client("dynamodb")
    assert "Item" not in table.get_item(
        TableName="toqio-connector-CustomersTable", Key={"id": {"S": customer_id}}
    )
    assert "foreign-canary-0000" not in local.every_stored_value()
    assert any("not written by the connector" in line for line in local.output)
