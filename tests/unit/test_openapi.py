"""docs/ holds the OpenAPI documents generated from the code; they must not go stale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toqio_connector import openapi
from toqio_connector.edge.registry_file import load_registry

DOCS = Path(__file__).resolve().parents[2] / "docs"
OUTPUTS = {DOCS / name: registry for name, registry in openapi.DOCUMENTS.items()}


@pytest.mark.parametrize("output", list(OUTPUTS), ids=lambda p: p.name)
def test_committed_openapi_is_current(output):
    expected = openapi.render(load_registry(OUTPUTS[output]))
    assert output.exists(), f"{output.name} is missing: run `make openapi`"
    assert output.read_text() == expected, f"{output.name} is stale: run `make openapi`"


def test_registry_parameters_are_merged_into_the_create_request():
    document = json.loads((DOCS / "openapi.json").read_text())
    example = json.loads((DOCS / "openapi.example.json").read_text())
    request = example["components"]["schemas"]["CreateCustomerRequest"]
    assert request["properties"]["webhookSigningSecret"]["writeOnly"] is True
    assert request["properties"]["settlementDelayDays"]["maximum"] == 30
    assert "merchantCategoryCode" in request["required"]
    assert request["properties"]["apiKey"]["writeOnly"] is True
    assert request["additionalProperties"] is False
    view = example["components"]["schemas"]["Customer"]
    assert view["properties"]["webhookSigningSecret"] == {
        "type": "string",
        "const": "*****",
        "description": "secret, masked",
    }
    base = document["components"]["schemas"]["CreateCustomerRequest"]
    assert set(base["properties"]) == {
        "id",
        "apiKey",
        "providerConfigId",
        "provider",
        "paymentProvider",
        "commercialName",
        "availableCurrencies",
    }


def test_documents_are_valid_openapi_3_1():
    from jsonschema import Draft202012Validator

    for output in OUTPUTS:
        document = json.loads(output.read_text())
        assert document["openapi"] == "3.1.0"
        for schema in document["components"]["schemas"].values():
            Draft202012Validator.check_schema(schema)


def test_every_request_field_has_a_human_title_a_description_and_an_example():
    from toqio_connector.edge.registry_file import load_registry
    from toqio_connector.openapi import document

    schemas = document(load_registry())["components"]["schemas"]
    for model in ("CreateCustomerRequest", "PaymentProvider"):
        for name, field in schemas[model]["properties"].items():
            assert field.get("description"), (model, name)
            assert field.get("title") and field["title"].lower() != name.lower(), (model, name)
            if name != "paymentProvider":  # an object: its own fields have examples
                assert field.get("examples"), (model, name)
    assert schemas["Customer"]["properties"]["createdAt"]["examples"]
