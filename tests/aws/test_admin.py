"""toqio-admin against moto: consistent changes (item, secret, event), refused stale
writes, and a backfill that is interrupted and finished by a second run."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from tests.harness.aws import (
    FUNCTION_ENV,
    Subscriber,
    create_stack,
    customer_table,
    secret_store,
    set_aws_env,
    stream_batch,
)
from tests.harness.handlers import Context, call, load_handler
from tests.harness.registries import EXAMPLE_REGISTRY
from toqio_admin import cli
from toqio_connector.adapters import aws
from toqio_connector.edge.registry_file import load_registry
from toqio_connector.ports import StaleWrite
from toqio_connector.rules.operator_changes import Change, CustomerUpdater
from toqio_local import moto_fixes

TABLE = "toqio-connector-CustomersTable"
ENV = FUNCTION_ENV


def body(customer_id: str, **extra) -> dict:
    return {
        "id": customer_id,
        "apiKey": f"api-key-{customer_id}",
        "merchantCategoryCode": "5411",
        "webhookSigningSecret": f"webhook-secret-{customer_id}-0000",
        **extra,
    }


@pytest.fixture
def env(monkeypatch):
    set_aws_env(monkeypatch)
    monkeypatch.setenv("CUSTOM_PARAMETERS_FILE", str(EXAMPLE_REGISTRY))
    moto_fixes.apply()
    with mock_aws():
        stack = create_stack()
        api = load_handler("customers_api", ENV, monkeypatch)
        yield stack, api


def item(customer_id: str) -> dict:
    raw = boto3.client("dynamodb").get_item(TableName=TABLE, Key={"id": {"S": customer_id}})
    return raw["Item"]


def current_secret(customer_id: str) -> dict:
    arn = item(customer_id)["secretArn"]["S"]
    return json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])


def versions(customer_id: str) -> dict:
    arn = item(customer_id)["secretArn"]["S"]
    return boto3.client("secretsmanager").describe_secret(SecretId=arn)["VersionIdsToStages"]


def run(*argv: str, stdin: str | bytes = "", monkeypatch=None) -> int:
    """The command as an operator runs it, standard input piped in (not a terminal)."""
    if monkeypatch is not None:
        raw = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
    return cli.main(["--table", TABLE, *argv])


def test_show_prints_the_masked_customer_with_its_version(env, capsys):
    _, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    capsys.readouterr()  # the handler's own output
    assert run("show", "a1") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["webhookSigningSecret"] == "*****" and shown["apiKey"] == "*****"
    assert shown["version"] == 1


def test_set_changes_item_secret_and_emits_one_customer_updated(env, monkeypatch, capsys):
    stack, api = env
    subscriber = Subscriber()
    created_with = body("a1", paymentProvider={"hmacKey": "old-hmac"})
    call(api, "POST", "/customers", created_with, customer_id="a1")
    created = stream_batch(stack)["Records"][-1]["dynamodb"]["SequenceNumber"]

    rc = run(
        "set",
        "a1",
        "riskTier=HIGH",
        "settlementDelayDays=5",
        "--secret",
        "webhookSigningSecret",
        "--secret",
        "paymentProvider.hmacKey",
        "--expect-version",
        "1",
        stdin="new-webhook-secret-123\nnew-hmac\n",
        monkeypatch=monkeypatch,
    )
    assert rc == 0, capsys.readouterr().err
    data = json.loads(item("a1")["data"]["S"])
    assert data["riskTier"] == "HIGH" and data["settlementDelayDays"] == 5
    assert data["paymentProvider"] == {"hmacKey": "*****"}
    assert int(item("a1")["version"]["N"]) == 2
    assert current_secret("a1") == {
        "apiKey": "api-key-a1",
        "webhookSigningSecret": "new-webhook-secret-123",
        "paymentProvider": {"hmacKey": "new-hmac"},
    }
    assert "new-webhook-secret-123" not in json.dumps(item("a1"))
    assert "new-webhook-secret-123" not in capsys.readouterr().out

    publisher = load_handler("publisher", ENV, monkeypatch)
    assert publisher(stream_batch(stack, after=created), Context()) == {"batchItemFailures": []}
    (event,) = subscriber.events()
    assert event["detail-type"] == "CustomerUpdated"
    assert event["detail"]["customer"]["riskTier"] == "HIGH"
    assert event["detail"]["customer"]["webhookSigningSecret"] == "*****"
    assert event["detail"]["occurredAt"] == item("a1")["updatedAt"]["S"]
    assert "new-hmac" not in json.dumps(event)


def test_unset_removes_a_parameter_and_a_secret(env, monkeypatch):
    _, api = env
    call(api, "POST", "/customers", body("a1", riskTier="LOW"), customer_id="a1")
    assert run("set", "a1", "--unset", "riskTier", "--unset", "webhookSigningSecret") == 0
    data = json.loads(item("a1")["data"]["S"])
    assert "riskTier" not in data and "webhookSigningSecret" not in data
    assert current_secret("a1") == {"apiKey": "api-key-a1"}


@pytest.mark.parametrize(
    ("argv", "rc"),
    [
        (["set", "a1", "--unset", "merchantCategoryCode"], cli.EXIT_INVALID),  # required
        (["set", "a1", "settlementDelayDays=99"], cli.EXIT_INVALID),  # out of range
        (["set", "a1", "commercialName=Other"], cli.EXIT_USAGE),  # not a custom parameter
        (["set", "a1", "webhookSigningSecret=x" * 3], cli.EXIT_USAGE),  # secrets never in argv
        (["set", "a1", "--unset", "apiKey"], cli.EXIT_USAGE),
        (["set", "nobody", "riskTier=LOW"], cli.EXIT_INVALID),
    ],
)
def test_refused_changes_change_nothing(env, argv, rc, capsys):
    _, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    before, secrets_before = item("a1"), versions("a1")
    assert run(*argv) == rc
    assert item("a1") == before
    assert versions("a1") == secrets_before
    assert "x=x" not in capsys.readouterr().err  # a refused value is never echoed


@pytest.mark.parametrize("dies_at", ["put_pending", "delete", "move_current"])
def test_a_change_that_died_half_way_is_finished_by_the_next_one(env, monkeypatch, dies_at):
    _, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    registry = load_registry(os.environ["CUSTOM_PARAMETERS_FILE"])
    updater = CustomerUpdater(customer_table(), secret_store(""), registry)

    def dies(*_args, **_kwargs):
        raise KeyboardInterrupt  # the process ends after the item, before the secret is done

    monkeypatch.setattr(updater.store.secrets, dies_at, dies)
    with pytest.raises(KeyboardInterrupt):
        updater.update("a1", Change(secrets={"webhookSigningSecret": "healed-secret-00000"}))
    assert current_secret("a1")["webhookSigningSecret"] == "webhook-secret-a1-0000"  # stale
    assert run("set", "a1", "riskTier=LOW") == 0  # the next change finishes it first
    assert current_secret("a1")["webhookSigningSecret"] == "healed-secret-00000"
    current = [v for v, stages in versions("a1").items() if "AWSCURRENT" in stages]
    assert current == [item("a1")["secretVersionId"]["S"]]
    pending = boto3.client("secretsmanager").list_secrets()["SecretList"]
    assert not [s for s in pending if "/pending/" in s["Name"]]


def test_a_value_no_longer_declared_secret_is_never_copied_into_the_clear(
    env, monkeypatch, tmp_path, capsys
):
    _, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    registry = json.loads(EXAMPLE_REGISTRY.read_text())
    del registry["properties"]["webhookSigningSecret"]["writeOnly"]  # now public
    changed = tmp_path / "registry.json"
    changed.write_text(json.dumps(registry))
    before = item("a1")
    assert run("--registry", str(changed), "set", "a1", "riskTier=LOW") == cli.EXIT_USAGE
    assert item("a1") == before
    assert "webhook-secret-a1-0000" not in capsys.readouterr().err
    assert run("--registry", str(changed), "set", "a1", "--unset", "webhookSigningSecret") == 0
    assert "webhookSigningSecret" not in json.loads(item("a1")["data"]["S"])
    assert "webhookSigningSecret" not in current_secret("a1")


def test_a_stale_expected_version_is_refused(env, capsys):
    _, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    assert run("set", "a1", "riskTier=LOW", "--expect-version", "1") == 0
    before = item("a1")
    assert run("set", "a1", "riskTier=HIGH", "--expect-version", "1") == cli.EXIT_STALE
    assert "changed since it was read" in capsys.readouterr().err
    assert item("a1") == before


def test_two_operators_racing_one_wins_the_other_is_refused_and_leaves_no_trace(env):
    """B writes between A's read and A's write: A's write is refused, A's secret version
    never becomes current, and the item is B's."""
    _, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    registry = load_registry(os.environ["CUSTOM_PARAMETERS_FILE"])
    operator_a = CustomerUpdater(customer_table(), secret_store(""), registry)
    operator_b = CustomerUpdater(customer_table(), secret_store(""), registry)

    read_by_a = [operator_a.table.get("a1")]
    real_get = operator_a.table.get
    # A's first read happened before B's change; any later read of A's is fresh.
    operator_a.table.get = lambda _id: read_by_a.pop() if read_by_a else real_get(_id)
    operator_b.update("a1", Change(secrets={"webhookSigningSecret": "b-secret-value-0000"}))
    with pytest.raises(StaleWrite):
        operator_a.update("a1", Change(secrets={"webhookSigningSecret": "a-secret-value-0000"}))
    operator_a.table.get = real_get

    assert current_secret("a1")["webhookSigningSecret"] == "b-secret-value-0000"
    assert int(item("a1")["version"]["N"]) == 2
    current = [v for v, stages in versions("a1").items() if "AWSCURRENT" in stages]
    assert current == [item("a1")["secretVersionId"]["S"]]


def test_backfill_dry_run_changes_nothing(env, capsys):
    _, api = env
    for n in range(3):
        call(api, "POST", "/customers", body(f"b{n}"), customer_id=f"b{n}")
    before = [item(f"b{n}") for n in range(3)]
    assert run("backfill", "settlementDelayDays", "--value", "2", "--dry-run") == 0
    assert "3 customer(s) lack settlementDelayDays" in capsys.readouterr().err
    assert [item(f"b{n}") for n in range(3)] == before


def test_interrupted_backfill_finishes_on_a_second_run_touching_nobody_twice(
    env, monkeypatch, capsys
):
    stack, api = env
    ids = [f"b{n}" for n in range(6)]
    for customer_id in ids:
        call(api, "POST", "/customers", body(customer_id), customer_id=customer_id)
    call(api, "POST", "/customers", body("had", settlementDelayDays=9), customer_id="had")
    last_create = stream_batch(stack)["Records"][-1]["dynamodb"]["SequenceNumber"]

    real_update, calls = CustomerUpdater.update, []

    def dies_on_the_fourth(self, *args, **kwargs):
        calls.append(args[0])
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real_update(self, *args, **kwargs)

    monkeypatch.setattr(CustomerUpdater, "update", dies_on_the_fourth)
    assert run("backfill", "settlementDelayDays", "--value", "2", "--yes") == cli.EXIT_INTERRUPTED
    assert "interrupted after 3 of 6" in capsys.readouterr().err
    monkeypatch.setattr(CustomerUpdater, "update", real_update)

    assert run("backfill", "settlementDelayDays", "--value", "2", "--yes") == 0
    assert "3 updated" in capsys.readouterr().err
    for customer_id in ids:
        assert json.loads(item(customer_id)["data"]["S"])["settlementDelayDays"] == 2
        assert int(item(customer_id)["version"]["N"]) == 2  # touched exactly once
    assert json.loads(item("had")["data"]["S"])["settlementDelayDays"] == 9
    assert int(item("had")["version"]["N"]) == 1
    changes = stream_batch(stack, after=last_create)["Records"]
    assert sorted(r["dynamodb"]["Keys"]["id"]["S"] for r in changes) == ids
    assert {r["eventName"] for r in changes} == {"MODIFY"}


def test_backfill_refuses_secret_parameters(env):
    assert run("backfill", "webhookSigningSecret", "--value", "x" * 20, "--yes") == cli.EXIT_USAGE
    assert run("backfill", "settlementDelayDays", "--value", "99", "--yes") == cli.EXIT_USAGE


# --- only custom parameters and secret values change (docs/operators.md) -------------

COMMON_CHANGES = [
    ["--unset", "commercialName"],
    ["--unset", "provider"],
    ["--unset", "providerConfigId"],
    ["--unset", "availableCurrencies"],
    ["--unset", "paymentProvider"],
    ["--unset", "paymentProvider.hmacKey"],
    ["--unset", "paymentProvider.customerId"],
    ["--unset", "id"],
    ["commercialName=Other Ltd"],
    ["provider=OTHER"],
    ['availableCurrencies=["USD"]'],
    ['paymentProvider={"customerId": "x"}'],
    ["createdAt=2020-01-01T00:00:00.000Z"],
]


@pytest.mark.parametrize("argv", COMMON_CHANGES, ids=[" ".join(a) for a in COMMON_CHANGES])
def test_common_parameters_are_never_changed_nor_removed(env, argv, capsys):
    stack, api = env
    full = body(
        "a1",
        commercialName="Acme Ltd",
        provider="RAILSR",
        providerConfigId="cfg-1",
        availableCurrencies=["EUR"],
        paymentProvider={"customerId": "pp-1", "key": "k-0000", "hmacKey": "h-0000"},
    )
    call(api, "POST", "/customers", full, customer_id="a1")
    before, secrets_before = item("a1"), versions("a1")
    records = len(stream_batch(stack)["Records"])
    assert run("set", "a1", *argv) == cli.EXIT_USAGE
    assert "refused" in capsys.readouterr().err
    assert item("a1") == before and versions("a1") == secrets_before
    assert len(stream_batch(stack)["Records"]) == records  # no CustomerUpdated


def test_a_common_secret_can_be_replaced_but_not_added(env, monkeypatch):
    _, api = env
    call(api, "POST", "/customers", body("a1", paymentProvider={"key": "k-0000"}), customer_id="a1")
    before = item("a1")
    replace = run(
        "set", "a1", "--secret", "paymentProvider.key", stdin="k-0001\n", monkeypatch=monkeypatch
    )
    assert replace == 0
    assert current_secret("a1")["paymentProvider"] == {"key": "k-0001"}
    added = item("a1")
    adding = ["set", "a1", "--secret", "paymentProvider.hmacKey"]
    assert run(*adding, stdin="h-0001\n", monkeypatch=monkeypatch) == cli.EXIT_USAGE
    assert item("a1") == added and json.loads(added["data"]["S"]) == json.loads(before["data"]["S"])


# --- secret values from standard input (docs/operators.md) ---------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (b"new-value-0001\n", "new-value-0001"),
        (b"new-value-0002\r\n", "new-value-0002"),
        (b"new-value-0003", "new-value-0003"),  # no line ending at the end of input
        ("n\u00e9w-v\u00e4lue-0004\n".encode(), "n\u00e9w-v\u00e4lue-0004"),
    ],
)
def test_a_secret_line_is_the_value_without_its_line_ending(env, monkeypatch, typed, stored):
    _, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    argv = ["set", "a1", "--secret", "apiKey"]
    assert run(*argv, stdin=typed, monkeypatch=monkeypatch) == 0
    assert current_secret("a1")["apiKey"] == stored


@pytest.mark.parametrize(
    "typed",
    [
        b"\xff\xfebad-utf8-0001\n",  # not UTF-8
        b"bad\xed\xa0\x80surrogate\n",  # an encoded lone surrogate is not UTF-8 either
        b"bad\x01control-0002\n",
        b"bad\x1b[31mescape-0003\n",
        b"bad\rcarriage-0004\n",
        b"\n",  # empty
    ],
)
def test_a_secret_line_that_is_not_text_is_refused_and_nothing_is_written(
    env, monkeypatch, capsys, typed
):
    stack, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    before, secrets_before = item("a1"), versions("a1")
    records = len(stream_batch(stack)["Records"])
    argv = ["set", "a1", "--secret", "apiKey"]
    assert run(*argv, stdin=typed, monkeypatch=monkeypatch) == cli.EXIT_INVALID
    assert "refused" in capsys.readouterr().err
    assert item("a1") == before and versions("a1") == secrets_before
    assert len(stream_batch(stack)["Records"]) == records


def test_a_secret_custom_parameter_follows_the_same_text_rule(env, monkeypatch, capsys):
    stack, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    before = item("a1")
    argv = ["set", "a1", "--secret", "webhookSigningSecret"]
    typed = b"webhook-\x07bell-secret-0000\n"
    assert run(*argv, stdin=typed, monkeypatch=monkeypatch) == cli.EXIT_INVALID
    assert "must not contain control characters" in capsys.readouterr().err
    assert item("a1") == before
    status, reply = call(
        api,
        "POST",
        "/customers",
        body("a2", webhookSigningSecret="x\ty-0000000000"),
        customer_id="a2",
    )
    assert status == 400 and reply["data"][0]["field"] == "webhookSigningSecret"


def test_a_customer_whose_secret_was_deleted_is_refused_and_backfill_goes_on(env, capsys):
    stack, api = env
    for customer_id in ("b0", "b1", "b2"):
        call(api, "POST", "/customers", body(customer_id), customer_id=customer_id)
    secrets = boto3.client("secretsmanager")
    secrets.delete_secret(SecretId=item("b1")["secretArn"]["S"], ForceDeleteWithoutRecovery=True)
    assert run("set", "b1", "riskTier=LOW") == cli.EXIT_INVALID
    assert "missing" in capsys.readouterr().err
    assert run("backfill", "settlementDelayDays", "--value", "2", "--yes") == cli.EXIT_INVALID
    err = capsys.readouterr().err
    assert "2 updated" in err and "failed b1" in err
    assert json.loads(item("b2")["data"]["S"])["settlementDelayDays"] == 2


def test_a_byte_order_mark_is_not_part_of_the_value(env, monkeypatch):
    _, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    typed = "\ufeffbom-api-key-0001\r\n".encode()
    assert run("set", "a1", "--secret", "apiKey", stdin=typed, monkeypatch=monkeypatch) == 0
    assert current_secret("a1")["apiKey"] == "bom-api-key-0001"


def test_options_and_values_in_any_order(env, monkeypatch):
    _, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    argv = ["set", "a1", "--secret", "apiKey", "riskTier=HIGH"]
    assert run(*argv, stdin=b"any-order-key-0001\n", monkeypatch=monkeypatch) == 0
    assert json.loads(item("a1")["data"]["S"])["riskTier"] == "HIGH"


def test_a_value_that_is_not_unicode_is_refused_not_a_traceback(env, capsys):
    _, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    before = item("a1")
    assert run("set", "a1", 'tags=["\\ud800"]') in (cli.EXIT_INVALID, cli.EXIT_USAGE)
    assert "Traceback" not in capsys.readouterr().err
    assert item("a1") == before


def test_ctrl_c_is_an_exit_code_not_a_traceback(env, monkeypatch, capsys):
    def interrupted(_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_operate", interrupted)
    assert cli.main(["show", "a1"]) == cli.EXIT_INTERRUPTED
    assert "interrupted" in capsys.readouterr().err


def test_relink_puts_a_request_on_the_linker_s_queue_and_show_has_the_status(env, capsys):
    stack, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    capsys.readouterr()  # the API's own lines
    assert run("show", "a1") == 0
    assert json.loads(capsys.readouterr().out)["connection"] is None  # not checked yet
    assert run("relink", "a1") == 0  # finds the one *LinkerQueue* itself
    sqs = boto3.client("sqs")
    url = next(u for u in sqs.list_queues()["QueueUrls"] if u.endswith("LinkerQueue"))
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(message["Body"])["detail"] == {"customerId": "a1"}  # a hint only
    assert item("a1")["linkRequestId"]["S"]  # the request itself: in the item
    assert run("relink") == cli.EXIT_USAGE and run("relink", "a1", "--failed") == cli.EXIT_USAGE
    assert run("relink", "nobody") == cli.EXIT_INVALID
    assert run("relink", "--failed") == 0  # none FAILED: nothing sent


def test_a_secret_given_as_name_value_is_told_to_use_secret_and_the_registry_is_named(env, capsys):
    _, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    capsys.readouterr()
    assert run("set", "a1", "webhookSigningSecret=typed-in-clear-77") == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "give it with --secret webhookSigningSecret" in err
    assert "typed-in-clear-77" not in err
    assert f"registry: {EXAMPLE_REGISTRY}" in err


def test_an_interactive_secret_is_asked_twice_and_must_match(env, monkeypatch, capsys):
    _, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    before = versions("a1")
    answers = iter(["new-secret-value-01", "new-secret-value-02"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr(cli.getpass, "getpass", lambda _prompt: next(answers))
    assert run("set", "a1", "--secret", "webhookSigningSecret") == cli.EXIT_INVALID
    assert "the two values given for webhookSigningSecret differ" in capsys.readouterr().err
    assert versions("a1") == before
    answers = iter(["new-secret-value-03", "new-secret-value-03"])
    assert run("set", "a1", "--secret", "webhookSigningSecret") == 0
    assert current_secret("a1")["webhookSigningSecret"] == "new-secret-value-03"


def test_a_change_leaves_no_staging_label_behind(env, monkeypatch, capsys):
    """After `set`, the secret's versions carry only AWS's own labels: the new version
    AWSCURRENT, the one before AWSPREVIOUS; the protocol's TOQIO_PENDING is gone."""
    _, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    for n, value in enumerate(("first-new-secret-000", "second-new-secret-00")):
        rc = run(
            "set", "a1", "--secret", "webhookSigningSecret", stdin=f"{value}\n",
            monkeypatch=monkeypatch,
        )  # fmt: skip
        assert rc == 0, capsys.readouterr().err
        labels = {stage for stages in versions("a1").values() for stage in stages}
        assert labels == {"AWSCURRENT", "AWSPREVIOUS"}, (n, versions("a1"))
    current = [v for v, stages in versions("a1").items() if "AWSCURRENT" in stages]
    assert current == [item("a1")["secretVersionId"]["S"]]


def test_the_exit_codes_documented_are_the_commands():
    """docs/operators.md's exit code table lists every code toqio-admin returns, no other."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "operators.md").read_text()
    table = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", table, re.M)}
    codes = {cli.EXIT_INVALID, cli.EXIT_USAGE, cli.EXIT_STALE, cli.EXIT_UNAVAILABLE}
    codes |= {cli.EXIT_UNREACHABLE}
    assert documented == {0, *codes, cli.EXIT_INTERRUPTED}


def test_a_customer_id_the_api_would_refuse_is_a_usage_error_before_any_aws_call(env, capsys):
    for command in (["show", ""], ["set", "", "riskTier=LOW"], ["relink", "a/b"]):
        with pytest.raises(SystemExit) as exited:
            run(*command)
        assert exited.value.code == cli.EXIT_USAGE
        assert "not a customer id" in capsys.readouterr().err


def test_more_lines_on_stdin_than_secrets_named_is_refused_with_nothing_written(
    env, monkeypatch, capsys
):
    """A file with the wrong lines would otherwise be half applied (its first line only)."""
    _, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    before, secrets_before = item("a1"), versions("a1")
    stdin = "first-line-value-01\nsecond-line-value-2\n"
    rc = run("set", "a1", "--secret", "apiKey", stdin=stdin, monkeypatch=monkeypatch)
    assert rc == cli.EXIT_INVALID
    err = capsys.readouterr().err
    assert "more lines than the 1 --secret" in err and "line-value" not in err
    assert item("a1") == before and versions("a1") == secrets_before
    rc = run(
        "set", "a1", "--secret", "apiKey", stdin="only-line-value-01\n\n", monkeypatch=monkeypatch
    )
    assert rc == 0  # a trailing empty line is no value


def test_a_name_given_twice_is_refused(env, capsys):
    _, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    before = item("a1")
    assert run("set", "a1", "riskTier=HIGH", "riskTier=LOW") == cli.EXIT_USAGE
    assert run("set", "a1", "--secret", "apiKey", "--secret", "apiKey") == cli.EXIT_USAGE
    assert "given more than once: apiKey" in capsys.readouterr().err
    assert item("a1") == before


def test_backfill_of_a_secret_says_why_without_pointing_to_an_option_it_lacks(env, capsys):
    assert run("backfill", "webhookSigningSecret", "--value", "x" * 20, "--yes") == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "is not backfilled" in err and "set ID --secret webhookSigningSecret" in err


def test_relink_failed_says_interrupted_only_when_it_was(env, monkeypatch, capsys):
    assert run("relink", "--failed") == 0
    err = capsys.readouterr().err
    assert "0 sent to the linker" in err and "interrupted" not in err

    def interrupted(self, targets, progress):
        raise KeyboardInterrupt

    from toqio_connector.rules.linking import Relinker

    monkeypatch.setattr(Relinker, "relink_all", interrupted)
    assert run("relink", "--failed") == cli.EXIT_INTERRUPTED
    assert "interrupted after 0 of 0" in capsys.readouterr().err


# Every subcommand, as far as its first AWS call.
EVERY_COMMAND = [
    ["show", "a1"],
    ["set", "a1", "riskTier=HIGH"],
    ["backfill", "settlementDelayDays", "--value", "2", "--yes"],
    ["relink", "a1"],
    ["relink", "--failed"],
]


def told(capsys) -> str:
    """The one line a command that could not be done says why in: no traceback, nothing
    else on standard error but the registry it loaded, nothing on standard output."""
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and captured.out == ""
    lines = [line for line in captured.err.splitlines() if not line.startswith("registry: ")]
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.fixture
def empty_account(monkeypatch):
    """An emulated account with nothing in it, and no table or queue named by variables."""
    set_aws_env(monkeypatch)
    monkeypatch.setenv("CUSTOM_PARAMETERS_FILE", str(EXAMPLE_REGISTRY))
    monkeypatch.delenv("TABLE_NAME", raising=False)
    monkeypatch.delenv("LINKER_QUEUE_URL", raising=False)
    with mock_aws():
        yield


@pytest.mark.parametrize("argv", EVERY_COMMAND, ids=" ".join)
def test_no_table_named_nor_found_is_a_usage_error_saying_so(empty_account, argv, capsys):
    assert cli.main(argv) == cli.EXIT_USAGE
    assert told(capsys) == (
        "toqio-admin: --table is required (or set TABLE_NAME):"
        " no table in eu-west-1 has CustomersTable in its name"
    )


def test_two_customers_tables_are_a_usage_error_naming_both(empty_account, capsys):
    for name in ("a-CustomersTable", "b-CustomersTable"):
        boto3.client("dynamodb").create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert cli.main(["show", "a1"]) == cli.EXIT_USAGE
    assert told(capsys).endswith(
        "2 tables in eu-west-1 have CustomersTable in their names:"
        " a-CustomersTable, b-CustomersTable"
    )


@pytest.mark.parametrize("argv", [["relink", "a1"], ["relink", "--failed"]], ids=" ".join)
def test_no_queue_named_nor_found_is_a_usage_error_saying_so(empty_account, argv, capsys):
    assert cli.main(["--table", TABLE, *argv]) == cli.EXIT_USAGE
    assert told(capsys) == (
        "toqio-admin: --queue is required (or set LINKER_QUEUE_URL):"
        " no queue in eu-west-1 has LinkerQueue in its name"
    )


ACCOUNT_QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012"


@pytest.fixture
def refused_endpoint(monkeypatch):
    """AWS_ENDPOINT_URL on a local port that refuses connections: bound, never listening,
    and held for the test so nothing else takes it. One attempt per AWS call (the
    outcome does not depend on how many)."""
    set_aws_env(monkeypatch)
    monkeypatch.setenv("CUSTOM_PARAMETERS_FILE", str(EXAMPLE_REGISTRY))
    monkeypatch.delenv("TABLE_NAME", raising=False)
    monkeypatch.delenv("LINKER_QUEUE_URL", raising=False)
    monkeypatch.setattr(aws, "DEFAULT_TIMEOUTS", aws.Timeouts(attempts=1))
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{held.getsockname()[1]}"
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        yield url


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "a1"],  # looks for the table first
        *(["--table", TABLE, *command] for command in EVERY_COMMAND),  # for the queue: relink
        # the queue named, not looked for: the scan for FAILED customers is what fails
        ["--table", TABLE, "relink", "--failed", "--queue", f"{ACCOUNT_QUEUE}/LinkerQueue"],
    ],
    ids=" ".join,
)
def test_an_endpoint_that_refuses_connections_is_told_with_what_to_do(
    refused_endpoint, argv, capsys
):
    assert cli.main(argv) == cli.EXIT_UNREACHABLE
    assert told(capsys) == (
        f"toqio-admin: cannot reach AWS at {refused_endpoint}: connection refused;"
        " is `make run` running, and AWS_ENDPOINT_URL its address?"
    )


def test_the_installed_command_says_it_in_one_line_and_exits_with_the_code(refused_endpoint):
    """As an operator sees it: its own process, botocore's retries as shipped."""
    done = subprocess.run(
        [sys.executable, "-m", "toqio_admin.cli", "--table", TABLE, "show", "a1"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
        check=False,
    )
    assert done.returncode == cli.EXIT_UNREACHABLE
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"registry: {EXAMPLE_REGISTRY}",
        f"toqio-admin: cannot reach AWS at {refused_endpoint}: connection refused;"
        " is `make run` running, and AWS_ENDPOINT_URL its address?",
    ]


@pytest.mark.parametrize("argv", EVERY_COMMAND, ids=" ".join)
def test_a_table_that_does_not_exist_is_named_with_its_region(env, argv, capsys):
    capsys.readouterr()
    assert cli.main(["--table", "no-such-table", *argv]) == cli.EXIT_UNREACHABLE
    assert told(capsys) == (
        "toqio-admin: table 'no-such-table' does not exist in eu-west-1 at"
        " https://dynamodb.eu-west-1.amazonaws.com: check --table (or TABLE_NAME) and --region"
    )


def test_a_queue_that_does_not_exist_is_named_with_its_region(env, capsys):
    _, api = env
    call(api, "POST", "/customers", body("a1"), customer_id="a1")
    (url,) = [u for u in boto3.client("sqs").list_queues()["QueueUrls"] if "LinkerQueue" in u]
    capsys.readouterr()
    assert run("relink", "a1", "--queue", f"{url}-gone") == cli.EXIT_UNREACHABLE
    assert told(capsys) == (
        f"toqio-admin: queue {url}-gone does not exist in eu-west-1 at"
        " https://sqs.eu-west-1.amazonaws.com: check --queue (or LINKER_QUEUE_URL) and --region;"
        " the relink request is recorded in the item: relink again once the queue is right"
    )
    with_credentials = url.replace("://", "://user:pw-7731@") + "-gone?secret=token-5519"
    assert run("relink", "a1", "--queue", with_credentials) == cli.EXIT_UNREACHABLE
    shown = told(capsys)
    assert f"queue {url}-gone does not exist" in shown
    assert "pw-7731" not in shown and "token-5519" not in shown


@pytest.mark.parametrize(
    ("unset", "argv", "message"),
    [
        (
            "AWS_DEFAULT_REGION",
            [],
            "no AWS region: give --region, or set AWS_DEFAULT_REGION, or a region in the AWS"
            " profile",
        ),
        (
            "AWS_ACCESS_KEY_ID",
            [],
            "no usable AWS credentials: give --profile (or set AWS_PROFILE), or set"
            " AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values for `make run`)",
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            [],
            "no usable AWS credentials (env: AWS_SECRET_ACCESS_KEY missing): give --profile"
            " (or set AWS_PROFILE), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any"
            " values for `make run`)",
        ),
        (
            "AWS_REGION",  # not set anyway
            ["--profile", "nosuch"],
            "no AWS profile named 'nosuch': check --profile (or AWS_PROFILE)",
        ),
    ],
    ids=["no region", "no credentials", "half the credentials", "no such profile"],
)
@pytest.mark.parametrize("command", EVERY_COMMAND, ids=" ".join)
def test_aws_not_configured_is_a_usage_error_saying_what_to_set(
    refused_endpoint, monkeypatch, tmp_path, capsys, unset, argv, message, command
):
    """Nothing reaches AWS (the endpoint refuses anything that would); the secret key
    given is never repeated."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "never-printed-secret-key")
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(name, str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)
    monkeypatch.delenv(unset, raising=False)
    assert cli.main([*argv, "--table", TABLE, *command]) == cli.EXIT_USAGE
    line = told(capsys)
    assert line == f"toqio-admin: {message}"
    assert "never-printed" not in line
