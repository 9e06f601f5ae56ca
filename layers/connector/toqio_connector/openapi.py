"""The API's OpenAPI 3.1 document, generated from the code (models, errors, registry).

The Create request schema is the pydantic model's (secret fields are ``writeOnly``)
with the registry's custom parameters merged in at the top level; the error responses
come from ``errors.ERRORS``. ``make openapi`` writes ``docs/openapi.json`` (the shipped
registry) and ``docs/openapi.example.json`` (the documented example registry); a test
fails when either is stale.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

from toqio_connector.edge.registry_file import DEFAULT_FILE, load_registry
from toqio_connector.edge.routes import ROUTES
from toqio_connector.models.customer import MASK
from toqio_connector.models.errors import ERRORS
from toqio_connector.models.request import NO_CONTROL_CHARACTERS_PATTERN, CustomerRequest
from toqio_connector.rules.registry import Registry
from toqio_connector.rules.validation import FIELD_ERROR_CODES

# The documents, by file name, and the registry each is made with.
DOCUMENTS = {
    "openapi.json": DEFAULT_FILE,
    "openapi.example.json": DEFAULT_FILE.parent / "example.json",
}
REF = "#/components/schemas/{model}"


def _described(status: int) -> str:
    """The documentation of a status: each code it may carry, and when."""
    return "; ".join(f"{e.code}: {e.when}" for e in ERRORS if e.status == status)


def paths(responses: Any) -> dict[str, Any]:
    """The document's paths: one operation per route of ``ROUTES``."""
    found: dict[str, Any] = {}
    for route in ROUTES:
        operation: dict[str, Any] = {"operationId": route.operation_id, "summary": route.summary}
        if route.description:
            operation["description"] = route.description
        if route.parameters:
            operation["parameters"] = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in route.parameters
            ]
        if route.request:
            schema = {"$ref": REF.format(model=route.request)}
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
        operation["responses"] = responses(route.errors, route.answer, route.answer_description)
        found.setdefault(route.path, {})[route.method.lower()] = operation
    return found


def _masked(schema: dict[str, Any]) -> dict[str, Any]:
    """The response's view of a request schema: writeOnly values come back as *****."""
    if schema.get("writeOnly") is True:
        return {"type": "string", "const": MASK, "description": "secret, masked"}
    result = dict(schema)
    if str(result.get("$ref", "")).startswith(REF.format(model="")):
        result["$ref"] += "View"
    if "properties" in result:
        result["properties"] = {k: _masked(v) for k, v in result["properties"].items()}
    if "anyOf" in result:
        result["anyOf"] = [_masked(v) for v in result["anyOf"]]
    for key in ("default", "title"):
        result.pop(key, None)
    return result


def _declared(name: str, schema: dict[str, Any], registry: Registry) -> dict[str, Any]:
    """A custom parameter as the API takes it: a secret one's text also follows the secret
    text rule (no control characters), as the common secret fields do."""
    declared = copy.deepcopy(schema)
    if name not in registry.secret_names:
        return declared
    if "pattern" not in declared:
        return {**declared, "pattern": NO_CONTROL_CHARACTERS_PATTERN}
    return {"allOf": [declared, {"pattern": NO_CONTROL_CHARACTERS_PATTERN}], "writeOnly": True}


def _envelope(data: dict[str, Any] | None, error: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "code": {"type": "string"},
        "errorSeverity": {"type": "string", "enum": ["ERROR" if error else "NONE"]},
        "message": {"type": "string"},
        "httpStatus": {"type": "integer"},
        "requestId": {"type": "string"},
        "date": {"type": "string", "format": "date-time"},
    }
    if error:
        properties["errorOrigin"] = {"type": "string"}
    if data is not None:
        properties["data"] = data
    required = [name for name in properties if name not in {"data", "errorOrigin"}]
    return {"type": "object", "properties": properties, "required": required}


def document(registry: Registry) -> dict[str, Any]:
    request = CustomerRequest.model_json_schema(ref_template=REF)
    components = request.pop("$defs", {})
    request["title"] = "CreateCustomerRequest"
    for name, schema in registry.properties.items():
        request["properties"][name] = _declared(name, schema, registry)
    request["required"] = [*request.get("required", []), *registry.required]
    view = _masked(request)
    view["title"] = "Customer"
    view["properties"]["createdAt"] = {
        "type": "string",
        "format": "date-time",
        "title": "Created at",
        "description": "When the customer was stored (UTC, milliseconds).",
        "examples": ["2026-11-24T10:15:30.123Z"],
    }
    view["required"] = [*view["required"], "createdAt"]
    components = {
        **{name: schema for name, schema in components.items()},
        **{f"{name}View": _masked(schema) for name, schema in components.items()},
        "CreateCustomerRequest": request,
        "Customer": view,
        "CustomerEnvelope": _envelope({"$ref": REF.format(model="Customer")}, error=False),
        "ConnectionStatusEnvelope": _envelope(
            {
                "type": "string",
                "enum": ["CONNECTED", "FAILED"],
                "description": "whether the provider accepted the customer's current credentials",
            },
            error=False,
        ),
        "FieldError": {
            "type": "object",
            "properties": {
                "field": {"type": "string"},
                "code": {
                    "type": "string",
                    "enum": list(FIELD_ERROR_CODES),
                },
                "message": {"type": "string"},
            },
            "required": ["field", "code", "message"],
        },
        "ErrorEnvelope": _envelope(
            {"type": "array", "items": {"$ref": REF.format(model="FieldError")}}, error=True
        ),
    }

    def responses(
        codes: tuple[int, ...],
        ok: str = "CustomerEnvelope",
        described: str = "OK: the customer, secrets masked",
    ) -> dict[str, Any]:
        result: dict[str, Any] = {
            "200": {
                "description": described,
                "content": {"application/json": {"schema": {"$ref": REF.format(model=ok)}}},
            }
        }
        for code in codes:
            result[str(code)] = {
                "description": _described(code),
                "content": {
                    "application/json": {"schema": {"$ref": REF.format(model="ErrorEnvelope")}}
                },
            }
        return result

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Toqio connector",
            "version": "1",
            "description": "Create Customer, Find Customer and its connection status for Toqio's "
            "Integration Hub. Generated from "
            f"the code and the custom parameter registry {Path(registry.source).name}.",
        },
        "servers": [{"url": "http://127.0.0.1:3000", "description": "make run"}],
        "security": [{"toqioJwt": []}],
        "paths": paths(responses),
        "components": {
            "schemas": components,
            "securitySchemes": {
                "toqioJwt": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT (RS256, by Toqio)",
                }
            },
        },
    }


def render(registry: Registry) -> str:
    return json.dumps(document(registry), indent=2, sort_keys=False) + "\n"


def main() -> None:
    """``python -m toqio_connector.openapi DIR``: write the documents into DIR; with
    ``--check``, only say which are stale (exit 1)."""
    folder = Path(next((a for a in sys.argv[1:] if not a.startswith("-")), "docs"))
    stale = []
    for name, registry_file in DOCUMENTS.items():
        output, text = folder / name, render(load_registry(registry_file))
        if "--check" in sys.argv:
            if not output.exists() or output.read_text() != text:
                stale.append(str(output))
            continue
        output.parent.mkdir(exist_ok=True)
        output.write_text(text)
        print(f"wrote {output}")
    if stale:
        sys.exit(f"stale: {', '.join(stale)} (run `make openapi`)")


if __name__ == "__main__":
    main()
