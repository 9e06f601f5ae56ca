"""Turning a Create request body into a :class:`NewCustomer`, or into field errors.

Every problem is reported at once, each as ``{"field", "code", "message"}`` with a
message chosen here: pydantic's own messages are never passed on, and neither is any
input value.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from toqio_connector.errors import BadRequest
from toqio_connector.models import CustomerRequest, NewCustomer

COMMON_PARAMETERS = frozenset(CustomerRequest.model_fields)

# pydantic error type -> (contract code, message)
_ERRORS: dict[str, tuple[str, str]] = {
    "missing": ("REQUIRED", "is required"),
    "string_type": ("INVALID_TYPE", "must be a string"),
    "list_type": ("INVALID_TYPE", "must be an array"),
    "model_type": ("INVALID_TYPE", "must be an object"),
    "dict_type": ("INVALID_TYPE", "must be an object"),
    "string_too_short": ("INVALID_VALUE", "must not be empty"),
    "too_short": ("INVALID_VALUE", "must not be empty"),
    "string_pattern_mismatch": (
        "INVALID_VALUE",
        "must start with a letter or digit and use only A-Z a-z 0-9 . _ : -",
    ),
    "string_too_long": ("TOO_LONG", "must be at most {max_length} characters"),
    "too_long": ("TOO_LONG", "must have at most {max_length} {unit}"),
    "extra_forbidden": ("UNKNOWN_PARAMETER", "is not a known parameter"),
    "invalid_currency": ("INVALID_CURRENCY", "not an ISO 4217 currency code"),
}


def field_error(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


def field_path(loc: tuple[str | int, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise BadRequest("Request body is not valid JSON: duplicate key")
        obj[key] = value
    return obj


def _reject_constant(name: str) -> Any:
    raise BadRequest(f"Request body is not valid JSON: {name} is not a JSON value")


def parse_json_object(body: str | bytes | None) -> dict[str, Any]:
    """The request body as a JSON object; 400 if it is empty, not JSON, or not an object.

    Duplicate keys are refused: which of two values wins differs between parsers, so
    accepting them would let a request mean two things. ``NaN`` and ``Infinity`` are
    not JSON and are refused too.
    """
    if not body:
        raise BadRequest("Request body is missing")
    try:
        parsed = json.loads(
            body, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant
        )
    except BadRequest:
        raise
    except (ValueError, RecursionError):
        raise BadRequest("Request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise BadRequest("Request body must be a JSON object")
    return parsed


def _translate(error: Any, loc_prefix: tuple[str | int, ...] = ()) -> dict[str, str]:
    loc = (*loc_prefix, *error["loc"])
    kind = error["type"]
    code, template = _ERRORS.get(kind, ("INVALID_VALUE", "is not valid"))
    ctx = error.get("ctx") or {}
    message = template.format(
        max_length=ctx.get("max_length", ""),
        unit="items"
        if kind == "too_long" and loc and loc[-1] == "availableCurrencies"
        else "characters",
    )
    return field_error(field_path(loc), code, message)


def _without_nulls(payload: dict[str, Any]) -> dict[str, Any]:
    """``null`` on an optional field means absent (top level and in paymentProvider)."""
    cleaned = {key: value for key, value in payload.items() if value is not None}
    provider = cleaned.get("paymentProvider")
    if isinstance(provider, dict):
        cleaned["paymentProvider"] = {k: v for k, v in provider.items() if v is not None}
    return cleaned


def validate_create(payload: dict[str, Any]) -> NewCustomer:
    """Validate a Create body; raise :class:`BadRequest` listing every problem."""
    payload = _without_nulls(payload)
    common = {key: value for key, value in payload.items() if key in COMMON_PARAMETERS}
    custom = {key: value for key, value in payload.items() if key not in COMMON_PARAMETERS}

    errors: list[dict[str, str]] = []
    request: CustomerRequest | None = None
    try:
        request = CustomerRequest.model_validate(common)
    except ValidationError as exc:
        errors.extend(_translate(error) for error in exc.errors(include_input=False))
    errors.extend(
        field_error(name, "UNKNOWN_PARAMETER", "is not a known parameter") for name in custom
    )
    if errors or request is None:
        raise BadRequest(data=errors)
    return NewCustomer(id=request.id, data=request.masked(), secrets=request.secret_values())
