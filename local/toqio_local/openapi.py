"""The API's OpenAPI 3.1 document, generated from the code.

The Create request schema is the pydantic model's (secret fields are ``writeOnly``)
with the registry's custom parameters merged in at the top level. ``make openapi``
writes ``docs/openapi.json`` (the shipped registry) and ``docs/openapi.example.json``
(the documented example registry); a test fails when either is stale.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

from toqio_connector.models import MASK, CustomerRequest
from toqio_connector.registry import DEFAULT_FILE, Registry, load_registry
from toqio_connector.validation import FIELD_ERROR_CODES
from toqio_local.template import ROOT

DOCS = ROOT / "docs"
OUTPUTS = {
    DOCS / "openapi.json": DEFAULT_FILE,
    DOCS / "openapi.example.json": DEFAULT_FILE.parent / "example.json",
}
REF = "#/components/schemas/{model}"

ERRORS = {
    "400": "BAD_REQUEST: the body is not JSON, not an object, or fails validation",
    "401": "UNAUTHORIZED: missing, malformed, badly signed, expired or wrongly-claimed token",
    "403": "FORBIDDEN: the token's customerID is not the customer addressed",
    "404": "CUSTOMER_NOT_FOUND (Find) or NOT_FOUND (unknown path)",
    "405": "METHOD_NOT_ALLOWED: known path, other method",
    "409": "CUSTOMER_ALREADY_EXISTS: the id exists with different content",
    "413": "PAYLOAD_TOO_LARGE: body over 64 KiB",
    "415": "UNSUPPORTED_MEDIA_TYPE: a body not sent as application/json",
    "500": "INTERNAL_ERROR",
    "503": "SERVICE_UNAVAILABLE: AWS throttling or outage, or the same customer in flight; "
    "retry after Retry-After seconds",
}
CREATE_ERRORS = ("400", "401", "403", "405", "409", "413", "415", "500", "503")
FIND_ERRORS = ("401", "403", "404", "405", "500", "503")


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
        request["properties"][name] = copy.deepcopy(schema)
    request["required"] = [*request.get("required", []), *registry.required]
    view = _masked(request)
    view["title"] = "Customer"
    view["properties"]["createdAt"] = {"type": "string", "format": "date-time"}
    view["required"] = [*view["required"], "createdAt"]
    components = {
        **{name: schema for name, schema in components.items()},
        **{f"{name}View": _masked(schema) for name, schema in components.items()},
        "CreateCustomerRequest": request,
        "Customer": view,
        "CustomerEnvelope": _envelope({"$ref": REF.format(model="Customer")}, error=False),
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

    def responses(codes: tuple[str, ...]) -> dict[str, Any]:
        result: dict[str, Any] = {
            "200": {
                "description": "OK: the customer, secrets masked",
                "content": {
                    "application/json": {"schema": {"$ref": REF.format(model="CustomerEnvelope")}}
                },
            }
        }
        for code in codes:
            result[code] = {
                "description": ERRORS[code],
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
            "description": "Create and Find Customer for Toqio's Integration Hub. Generated from "
            f"the code and the custom parameter registry {Path(registry.source).name}.",
        },
        "servers": [{"url": "http://127.0.0.1:3000", "description": "make run"}],
        "security": [{"toqioJwt": []}],
        "paths": {
            "/customers": {
                "post": {
                    "operationId": "createCustomer",
                    "summary": "Create Customer",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": REF.format(model="CreateCustomerRequest")}
                            }
                        },
                    },
                    "responses": responses(CREATE_ERRORS),
                }
            },
            "/customers/{customerId}": {
                "get": {
                    "operationId": "findCustomer",
                    "summary": "Find Customer",
                    "parameters": [
                        {
                            "name": "customerId",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": responses(FIND_ERRORS),
                }
            },
        },
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
    """Write the documents; with ``--check``, only say which are stale (exit 1)."""
    stale = []
    for output, registry_file in OUTPUTS.items():
        text = render(load_registry(registry_file))
        if "--check" in sys.argv:
            if not output.exists() or output.read_text() != text:
                stale.append(str(output.relative_to(ROOT)))
            continue
        output.parent.mkdir(exist_ok=True)
        output.write_text(text)
        print(f"wrote {output.relative_to(ROOT)}")
    if stale:
        sys.exit(f"stale: {', '.join(stale)} (run `make openapi`)")


if __name__ == "__main__":
    main()
