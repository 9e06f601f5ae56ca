"""The custom parameter registry (contract section 4).

A JSON Schema (draft 2020-12) whose ``properties`` are the integration's custom
parameters and whose ``required`` lists the mandatory ones; ``writeOnly: true`` marks a
secret one. The file is ``CUSTOM_PARAMETERS_FILE`` if set, else the shipped
``registry/custom_parameters.json``; it is read once per container, and a broken one
raises :class:`RegistryError` at start-up, naming the file and the problem.

jsonschema is imported only when the registry declares parameters: with none declared
(the default) validation is trivial and cold start pays nothing for it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from toqio_connector.validation import COMMON_PARAMETERS, field_path

DEFAULT_FILE = Path(__file__).parent / "registry" / "custom_parameters.json"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

_TOO_LONG = {"maxLength": "characters", "maxItems": "items", "maxProperties": "properties"}
_BOUNDS = {
    "minimum": "at least",
    "maximum": "at most",
    "exclusiveMinimum": "more than",
    "exclusiveMaximum": "less than",
    "minLength": "at least {} characters long",
    "minItems": "at least {} items long",
    "minProperties": "at least {} properties long",
    "multipleOf": "a multiple of",
}


class RegistryError(RuntimeError):
    """The registry file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Registry:
    source: str
    schema: dict[str, Any]
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)

    @cached_property
    def secret_names(self) -> frozenset[str]:
        return frozenset(n for n, s in self.properties.items() if s.get("writeOnly") is True)

    @cached_property
    def required(self) -> tuple[str, ...]:
        return tuple(self.schema.get("required", ()))

    @cached_property
    def _validator(self) -> Any:
        from jsonschema import Draft202012Validator

        return Draft202012Validator(self.schema, format_checker=Draft202012Validator.FORMAT_CHECKER)

    def errors(self, custom: dict[str, Any]) -> list[dict[str, str]]:
        """Field errors of the declared custom parameters (unknown ones are not passed in)."""
        if not self.properties and not self.required:
            return []
        problems: list[dict[str, str]] = []
        for error in self._validator.iter_errors(custom):
            problems.extend(_translate(error))
        unique = {(p["field"], p["code"], p["message"]): p for p in problems}
        return sorted(unique.values(), key=lambda p: (p["field"], p["code"]))


def _translate(error: Any) -> list[dict[str, str]]:
    """One jsonschema error as contract field errors; never quotes the rejected value."""
    keyword, expected, where = error.validator, error.validator_value, list(error.absolute_path)
    if keyword == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        return [
            {"field": field_path([*where, name]), "code": "REQUIRED", "message": "is required"}
            for name in expected
            if name not in instance
        ]
    if keyword in {"additionalProperties", "unevaluatedProperties"} and isinstance(
        error.instance, dict
    ):
        declared = error.schema.get("properties", {})
        patterns = error.schema.get("patternProperties", {})
        extra = [
            key
            for key in error.instance
            if key not in declared and not any(re.search(p, key) for p in patterns)
        ]
        return [
            {
                "field": field_path([*where, key]),
                "code": "UNKNOWN_PARAMETER",
                "message": "is not a known parameter",
            }
            for key in extra
        ] or [{"field": field_path(where), "code": "INVALID_VALUE", "message": "is not valid"}]
    field_name = field_path(where)
    if keyword == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return [
            {
                "field": field_name,
                "code": "INVALID_TYPE",
                "message": "must be of type " + " or ".join(kinds),
            }
        ]
    if keyword in _TOO_LONG:
        message = f"must be at most {expected} {_TOO_LONG[keyword]}"
        return [{"field": field_name, "code": "TOO_LONG", "message": message}]
    if keyword in _BOUNDS:
        text = _BOUNDS[keyword]
        message = "must be " + (text.format(expected) if "{}" in text else f"{text} {expected}")
    elif keyword == "pattern":
        message = f"must match the pattern {expected}"
    elif keyword == "enum":
        message = "must be one of " + ", ".join(json.dumps(v) for v in expected)
    elif keyword == "const":
        message = f"must be {json.dumps(expected)}"
    elif keyword == "format":
        message = f"must be a valid {expected}"
    elif keyword == "uniqueItems":
        message = "must not contain duplicates"
    else:
        message = f"is not valid ({keyword})"
    return [{"field": field_name, "code": "INVALID_VALUE", "message": message}]


def _declares_write_only(schema: Any) -> bool:
    if isinstance(schema, dict):
        return "writeOnly" in schema or any(_declares_write_only(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_declares_write_only(v) for v in schema)
    return False


_ANNOTATIONS = {"$schema", "$id", "$comment", "title", "description", "type"}


def _trivially_valid(schema: dict[str, Any]) -> bool:
    """A registry that declares nothing (the default) is valid without asking jsonschema."""
    return (
        set(schema) <= _ANNOTATIONS | {"properties", "required"}
        and schema.get("properties", {}) == {}
        and schema.get("required", []) == []
        and schema.get("type", "object") == "object"
        and all(isinstance(schema.get(k, ""), str) for k in _ANNOTATIONS)
    )


def _fail(source: str, problem: str) -> RegistryError:
    return RegistryError(f"custom parameter registry {source}: {problem}")


def parse_registry(schema: Any, source: str, common: frozenset[str]) -> Registry:
    if not isinstance(schema, dict):
        raise _fail(source, "must be a JSON object (a JSON Schema)")
    declared = schema.get("$schema", DRAFT_2020_12)
    if not isinstance(declared, str) or declared.rstrip("#") != DRAFT_2020_12:
        raise _fail(source, f"must be draft 2020-12 ($schema {DRAFT_2020_12}), not {declared}")
    if not _trivially_valid(schema):
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            where = field_path(exc.absolute_path) or "the top level"
            raise _fail(source, f"not a valid JSON Schema at {where}: {exc.message}") from None
    if schema.get("type", "object") != "object":
        raise _fail(source, 'its "type" must be "object"')
    properties = schema.get("properties", {})
    clashes = sorted(set(properties) & (common | {"createdAt"}))
    if clashes:
        raise _fail(source, f"redeclares common parameter(s) {', '.join(clashes)}")
    missing = sorted(set(schema.get("required", ())) - set(properties))
    if missing:
        raise _fail(source, f"requires undeclared parameter(s) {', '.join(missing)}")
    for name, spec in properties.items():
        if not isinstance(spec, dict):
            raise _fail(source, f"parameter {name} must be declared with a schema object")
    elsewhere = {
        **schema,
        "properties": {
            name: {k: v for k, v in spec.items() if k != "writeOnly"}
            for name, spec in properties.items()
        },
    }
    if _declares_write_only(elsewhere):  # e.g. nested, or in $defs behind a $ref
        raise _fail(source, "writeOnly is supported directly on parameters only")
    return Registry(source=source, schema=schema, properties=dict(properties))


def load_registry(path: str | os.PathLike[str] | None = None) -> Registry:
    """The registry in use (``CUSTOM_PARAMETERS_FILE``, else the shipped default)."""
    chosen = Path(path or os.environ.get("CUSTOM_PARAMETERS_FILE") or DEFAULT_FILE)
    source = str(chosen)
    try:
        text = chosen.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(source, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        schema = json.loads(text)
    except ValueError as exc:
        raise _fail(source, f"is not valid JSON ({exc})") from None
    return parse_registry(schema, source, COMMON_PARAMETERS)
