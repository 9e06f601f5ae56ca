"""Custom parameters through the API (example registry): stored, masked, validated."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from tests.harness.aws import FUNCTION_ENV, Subscriber, create_stack, set_aws_env, stream_batch
from tests.harness.handlers import Context, call, load_handler
from tests.harness.registries import EXAMPLE_REGISTRY

SECRET = "webhook-secret-0123456789"
VALID = {
    "id": "c1",
    "apiKey": "api-key-1",
    "merchantCategoryCode": "5411",
    "settlementDelayDays": 3,
    "riskTier": "MEDIUM",
    "webhookSigningSecret": SECRET,
    "settlementAccount": {"iban": "GB33BUKB20201555555555", "currency": "GBP"},
}
API_ENV = FUNCTION_ENV


@pytest.fixture
def stack(monkeypatch):
    set_aws_env(monkeypatch)
    monkeypatch.setenv("CUSTOM_PARAMETERS_FILE", str(EXAMPLE_REGISTRY))
    with mock_aws():
        yield create_stack()


@pytest.fixture
def api(stack, monkeypatch):
    return load_handler("customers_api", API_ENV, monkeypatch)


def test_valid_custom_parameters_are_stored_and_returned_at_top_level(stack, api):
    status, body = call(api, "POST", "/customers", VALID)
    assert status == 200, body
    data = body["data"]
    assert data["merchantCategoryCode"] == "5411"
    assert data["settlementDelayDays"] == 3
    assert data["riskTier"] == "MEDIUM"
    assert data["settlementAccount"] == VALID["settlementAccount"]
    assert data["webhookSigningSecret"] == "*****"
    assert call(api, "GET", "/customers/c1")[1]["data"] == data

    (item,) = boto3.client("dynamodb").scan(TableName=API_ENV["TABLE_NAME"])["Items"]
    assert SECRET not in json.dumps(item)
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=item["secretArn"]["S"])
    assert json.loads(secret["SecretString"]) == {
        "apiKey": "api-key-1",
        "webhookSigningSecret": SECRET,
    }


def test_created_event_carries_custom_parameters_masked(stack, api, monkeypatch):
    subscriber = Subscriber()
    call(api, "POST", "/customers", VALID)
    publisher = load_handler("publisher", API_ENV, monkeypatch)
    assert publisher(stream_batch(stack), Context()) == {"batchItemFailures": []}
    (event,) = subscriber.events()
    assert event["detail"]["customer"]["webhookSigningSecret"] == "*****"
    assert event["detail"]["customer"]["riskTier"] == "MEDIUM"
    assert SECRET not in json.dumps(event)


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"merchantCategoryCode": "54a1"}, "merchantCategoryCode", "INVALID_VALUE"),
        ({"merchantCategoryCode": None}, "merchantCategoryCode", "REQUIRED"),
        ({"settlementDelayDays": 31}, "settlementDelayDays", "INVALID_VALUE"),
        ({"settlementDelayDays": "3"}, "settlementDelayDays", "INVALID_TYPE"),
        ({"riskTier": "EXTREME"}, "riskTier", "INVALID_VALUE"),
        ({"webhookSigningSecret": "short"}, "webhookSigningSecret", "INVALID_VALUE"),
        ({"webhookSigningSecret": 12345}, "webhookSigningSecret", "INVALID_TYPE"),
        ({"settlementAccount": {"iban": "x"}}, "settlementAccount.iban", "INVALID_VALUE"),
        ({"undeclared": "x"}, "undeclared", "UNKNOWN_PARAMETER"),
    ],
)
def test_each_invalid_value_is_a_400_naming_the_parameter(stack, api, change, field, code):
    status, body = call(api, "POST", "/customers", {**VALID, **change})
    assert status == 400
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in body["data"]
    ]
    assert "short" not in json.dumps(body) and SECRET not in json.dumps(body)
    assert boto3.client("secretsmanager").list_secrets()["SecretList"] == []
    assert boto3.client("dynamodb").scan(TableName=API_ENV["TABLE_NAME"])["Items"] == []


def test_broken_registry_fails_the_function_at_start_up(stack, monkeypatch, tmp_path):
    from toqio_connector.rules.registry import RegistryError

    broken = tmp_path / "broken.json"
    broken.write_text('{"properties": {"apiKey": {"type": "string"}}}')
    monkeypatch.setenv("CUSTOM_PARAMETERS_FILE", str(broken))
    with pytest.raises(RegistryError, match="redeclares common parameter"):
        load_handler("customers_api", API_ENV, monkeypatch)


def test_a_replay_differing_only_in_json_type_is_a_conflict(stack, monkeypatch, tmp_path):
    """``true`` is not ``1`` (nor ``1.0`` ``1``): Python's == must not make it a replay."""
    registry = tmp_path / "any.json"
    registry.write_text('{"properties": {"flag": {}}}')
    monkeypatch.setenv("CUSTOM_PARAMETERS_FILE", str(registry))
    api = load_handler("customers_api", API_ENV, monkeypatch)
    base = {"id": "c1", "apiKey": "k"}
    assert call(api, "POST", "/customers", {**base, "flag": True})[0] == 200
    assert call(api, "POST", "/customers", {**base, "flag": 1})[0] == 409
    assert call(api, "POST", "/customers", {**base, "flag": True})[0] == 200
