"""Turning a Create request body into a :class:`NewCustomer`, or into field errors.

Every problem is reported at once, each as ``{"field", "code", "message"}`` with a
message chosen here: pydantic's own messages are never passed on, and neither is any
input value.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from toqio_connector.models.customer import MASK
from toqio_connector.models.errors import BadRequest
from toqio_connector.models.field_errors import UNKNOWN, FieldCode, field_error, field_path
from toqio_connector.models.request import (
    COMMON_PARAMETERS,
    CONTROL_CHARACTERS,
    CustomerRequest,
    NewCustomer,
    PaymentProvider,
    secret_text_problem,
)
from toqio_connector.rules.bounds import (
    MAX_PROBLEMS,
    MAX_STORED_BYTES,
    MORE_PROBLEMS,
    TOO_LARGE_STORED,
    integer_in_range,
    shorten,
    stored_size,
)

if TYPE_CHECKING:
    from toqio_connector.rules.registry import Registry

FIELD_ERROR_CODES = tuple(code.value for code in FieldCode)  # for the OpenAPI document

# pydantic error type -> (contract code, message)
_ERRORS: dict[str, tuple[FieldCode, str]] = {
    "missing": (FieldCode.REQUIRED, "is required"),
    "string_type": (FieldCode.INVALID_TYPE, "must be a string"),
    "list_type": (FieldCode.INVALID_TYPE, "must be an array"),
    "model_type": (FieldCode.INVALID_TYPE, "must be an object"),
    "dict_type": (FieldCode.INVALID_TYPE, "must be an object"),
    "string_too_short": (FieldCode.INVALID_VALUE, "must not be empty"),
    "too_short": (FieldCode.INVALID_VALUE, "must not be empty"),
    "string_pattern_mismatch": (
        FieldCode.INVALID_VALUE,
        "must start with a letter or digit and use only A-Z a-z 0-9 . _ : -",
    ),
    "string_too_long": (FieldCode.TOO_LONG, "must be at most {max_length} characters"),
    "too_long": (FieldCode.TOO_LONG, "must be at most {max_length} {unit}"),
    "extra_forbidden": (FieldCode.UNKNOWN_PARAMETER, UNKNOWN),
    "invalid_currency": (FieldCode.INVALID_CURRENCY, "not an ISO 4217 currency code"),
    "control_characters": (FieldCode.INVALID_VALUE, CONTROL_CHARACTERS),
}


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise BadRequest("Request body is not valid JSON: duplicate key")
        obj[key] = value
    return obj


def _reject_constant(name: str) -> Any:
    raise BadRequest(f"Request body is not valid JSON: {name} is not a JSON value")


_OUT_OF_RANGE = "Request body is not valid JSON: number out of range"


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise BadRequest(_OUT_OF_RANGE)
    return number


def _integer(text: str) -> int:
    try:
        return integer_in_range(text)
    except ValueError:
        raise BadRequest(_OUT_OF_RANGE) from None


def parse_json_object(body: str | bytes | None) -> dict[str, Any]:
    """The request body as a JSON object; 400 if it is empty, not JSON, or not an object.

    Duplicate keys are refused: which of two values wins differs between parsers, so
    accepting them would let a request mean two things. ``NaN`` and ``Infinity`` are
    not JSON and are refused too, as are numbers too large for a double (integers
    included: ``multipleOf`` could not divide them), and text that is not Unicode (lone
    surrogates), which nothing downstream could store or send.
    """
    if not body:
        raise BadRequest("Request body is missing")
    if isinstance(body, bytes):
        try:  # JSON on the wire is UTF-8; json.loads would also guess UTF-16 and UTF-32
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("Request body is not valid JSON: not UTF-8") from None
    try:
        parsed = json.loads(
            body,
            object_pairs_hook=_reject_duplicate_keys,
            parse_constant=_reject_constant,
            parse_float=_finite,
            parse_int=_integer,
        )
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except BadRequest:
        raise
    except UnicodeError:
        raise BadRequest("Request body is not valid JSON: text is not valid Unicode") from None
    except (ValueError, RecursionError):
        raise BadRequest("Request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise BadRequest("Request body must be a JSON object")
    return parsed


def _translate(error: Any, loc_prefix: tuple[str | int, ...] = ()) -> dict[str, str]:
    loc = (*loc_prefix, *error["loc"])
    kind = error["type"]
    code, template = _ERRORS.get(kind, (FieldCode.INVALID_VALUE, "is not valid"))
    ctx = error.get("ctx") or {}
    message = template.format(
        max_length=ctx.get("max_length", ""),
        unit="items"
        if kind == "too_long" and loc and loc[-1] == "availableCurrencies"
        else "characters",
    )
    return field_error(shorten(field_path(loc)), code, message)


def _without_nulls(payload: dict[str, Any], known: frozenset[str] | set[str]) -> dict[str, Any]:
    """``null`` on an optional field means absent (top level and in paymentProvider).

    Only on fields that exist: an unknown key stays unknown, whatever its value.
    """
    cleaned = {k: v for k, v in payload.items() if v is not None or k not in known}
    provider = cleaned.get("paymentProvider")
    if isinstance(provider, dict):
        fields = PaymentProvider.model_fields
        cleaned["paymentProvider"] = {
            k: v for k, v in provider.items() if v is not None or k not in fields
        }
    return cleaned


def validate_create(payload: dict[str, Any], registry: Registry) -> NewCustomer:
    """Validate a Create body; raise :class:`BadRequest` listing the problems (at most
    ``MAX_PROBLEMS``; the message says when more were found).

    Common parameters are checked by the pydantic model, custom ones by the registry in
    use (given: read once, at start-up); a key that is neither is ``UNKNOWN_PARAMETER``.
    """
    payload = _without_nulls(payload, COMMON_PARAMETERS | set(registry.properties))
    common = {key: value for key, value in payload.items() if key in COMMON_PARAMETERS}
    custom = {key: value for key, value in payload.items() if key in registry.properties}
    unknown = [key for key in payload if key not in COMMON_PARAMETERS and key not in custom]

    errors: list[dict[str, str]] = []
    request: CustomerRequest | None = None
    try:
        request = CustomerRequest.model_validate(common)
    except ValidationError as exc:
        errors.extend(_translate(error) for error in exc.errors(include_input=False))
    errors.extend(registry.errors(custom))
    errors.extend(
        field_error(name, FieldCode.INVALID_VALUE, problem)
        for name in sorted(registry.secret_names & custom.keys())
        if isinstance(custom[name], str) and (problem := secret_text_problem(custom[name]))
    )
    errors.extend(
        field_error(shorten(name), FieldCode.UNKNOWN_PARAMETER, UNKNOWN)
        for name in unknown[: MAX_PROBLEMS + 1]
    )
    if len(errors) > MAX_PROBLEMS:
        raise BadRequest(MORE_PROBLEMS, data=errors[:MAX_PROBLEMS])
    if errors or request is None:
        raise BadRequest(data=errors)
    secret_names = registry.secret_names
    data = request.masked()
    data.update((key, MASK if key in secret_names else value) for key, value in custom.items())
    secrets = request.secret_values()
    secrets.update((key, value) for key, value in custom.items() if key in secret_names)
    _check_stored_size(data, secrets, custom)
    return NewCustomer(id=request.id, data=data, secrets=secrets)


def _check_stored_size(
    data: dict[str, Any], secrets: dict[str, Any], custom: dict[str, Any]
) -> None:
    """400 if the item's data or the secret would be too large once stored, naming the
    largest custom parameter (common ones are bounded well below)."""
    if stored_size(data) <= MAX_STORED_BYTES and stored_size(secrets) <= MAX_STORED_BYTES:
        return
    largest = max(custom, key=lambda name: stored_size({name: custom[name]}), default="id")
    raise BadRequest(data=[field_error(shorten(largest), FieldCode.TOO_LONG, TOO_LARGE_STORED)])
