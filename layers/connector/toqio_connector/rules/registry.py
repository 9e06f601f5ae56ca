"""The custom parameter registry (docs/api.md, Custom parameters).

A JSON Schema (draft 2020-12) whose ``properties`` are the integration's custom
parameters and whose ``required`` lists the mandatory ones; ``writeOnly: true`` marks a
secret one. The file is ``CUSTOM_PARAMETERS_FILE`` if set, else the shipped
``registry/custom_parameters.json``; it is read once per container, and a broken one
raises :class:`RegistryError` at start-up, naming the file and the problem.

Values are validated by :mod:`toqio_connector.rules.schema_keywords` (jsonschema, with the
keywords a request could make expensive replaced) within :mod:`toqio_connector.rules.bounds`.
``pattern`` and ``patternProperties`` are ECMA-262 regular expressions (``regress``, ``u``
flag): one it cannot compile stops the function at start-up, named with where it is.

Registry patterns are code and must be written like code: regress is a backtracking
engine, so a pattern that backtracks catastrophically (``^(a+)+$`` takes seconds on 26
characters) would let a short value keep the function busy. Keep patterns anchored and
free of nested quantifiers over overlapping alternatives; bound string lengths with
``maxLength`` next to a pattern. Nothing here tries to detect such a pattern.

jsonschema is imported only when the registry declares parameters: with none declared
(the default) validation is trivial and cold start pays nothing for it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from toqio_connector.models.field_errors import UNKNOWN, FieldCode, field_error, field_path
from toqio_connector.rules.bounds import MAX_PROBLEMS, shorten, value_problem

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


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
        from toqio_connector.rules.schema_keywords import validator_for

        return validator_for(self.schema)

    def errors(self, custom: dict[str, Any], limit: int = MAX_PROBLEMS + 1) -> list[dict[str, str]]:
        """Field errors of the declared custom parameters (unknown ones are not passed in):
        at most ``limit``, so a caller can tell whether more than ``limit - 1`` were found.

        Each value is measured against the bounds first (:func:`bounds.value_problem`);
        one out of bounds is refused as such, and neither evaluated nor called missing."""
        if not self.properties and not self.required:
            return []
        refused = {
            name: problem for name, value in custom.items() if (problem := value_problem(value))
        }
        found = [
            field_error(name, FieldCode.INVALID_VALUE, problem) for name, problem in refused.items()
        ]
        within = {name: value for name, value in custom.items() if name not in refused}
        self._evaluate(within, found, {(name, FieldCode.REQUIRED) for name in refused}, limit)
        return sorted(found, key=_reading_order)[:limit]

    def _evaluate(
        self,
        custom: dict[str, Any],
        found: list[dict[str, str]],
        skip: set[tuple[str, str]],
        limit: int,
    ) -> None:
        """Add the problems of ``custom`` to ``found`` (but those ``(field, code)`` in
        ``skip``) until it holds ``limit``; jsonschema stops there."""
        from toqio_connector.rules.schema_keywords import TooCostly, evaluating

        with evaluating(custom) as evaluation:
            try:
                for error in self._validator.iter_errors(custom):
                    problem = self._problem(error)
                    if problem not in found and (problem["field"], problem["code"]) not in skip:
                        found.append(problem)
                    if len(found) >= limit:
                        return
            except TooCostly:
                name = evaluation.field or min(custom, default="")
                found.append(field_error(name, FieldCode.INVALID_VALUE, TOO_COSTLY))

    def _problem(self, error: Any) -> dict[str, str]:
        """One jsonschema error as a contract field error."""
        where = list(error.absolute_path)
        if len(where) > 1 and where[0] in self.secret_names:
            return field_error(str(where[0]), FieldCode.INVALID_VALUE, _HIDDEN_DETAIL)
        code, message = _describe(error.validator, error.validator_value)
        return field_error(shorten(field_path(where)), code, message)


# keyword -> (code, message); "{}" shows the keyword's value from the registry, unless
# that is long (see _shown): then the message after "|" is used.
_PROBLEMS: dict[str | None, tuple[FieldCode, str]] = {
    None: (FieldCode.INVALID_VALUE, "is not allowed"),  # a false schema
    "required": (FieldCode.REQUIRED, "is required"),
    "additionalProperties": (FieldCode.UNKNOWN_PARAMETER, UNKNOWN),
    "unevaluatedProperties": (FieldCode.UNKNOWN_PARAMETER, UNKNOWN),
    "type": (FieldCode.INVALID_TYPE, "must be of type {}"),
    "maxLength": (FieldCode.TOO_LONG, "must be at most {} characters|is too long"),
    "maxItems": (FieldCode.TOO_LONG, "must be at most {} items|has too many items"),
    "maxProperties": (FieldCode.TOO_LONG, "must be at most {} properties|has too many properties"),
    "minimum": (FieldCode.INVALID_VALUE, "must be at least {}|is too small"),
    "maximum": (FieldCode.INVALID_VALUE, "must be at most {}|is too large"),
    "exclusiveMinimum": (FieldCode.INVALID_VALUE, "must be more than {}|is too small"),
    "exclusiveMaximum": (FieldCode.INVALID_VALUE, "must be less than {}|is too large"),
    "minLength": (FieldCode.INVALID_VALUE, "must be at least {} characters long|is too short"),
    "minItems": (FieldCode.INVALID_VALUE, "must be at least {} items long|has too few items"),
    "minProperties": (FieldCode.INVALID_VALUE, "must be at least {} properties long|is too small"),
    "multipleOf": (
        FieldCode.INVALID_VALUE,
        "must be a multiple of {}|is not a multiple of its step",
    ),
    "pattern": (FieldCode.INVALID_VALUE, "must match the pattern {}|must match its pattern"),
    "enum": (FieldCode.INVALID_VALUE, "must be one of {}|must be one of the allowed values"),
    "const": (FieldCode.INVALID_VALUE, "must be {}|must be the allowed value"),
    "format": (FieldCode.INVALID_VALUE, "must be a valid {}|is not valid"),
    "uniqueItems": (FieldCode.INVALID_VALUE, "must not contain duplicates"),
    "anyOf": (FieldCode.INVALID_VALUE, "must match at least one of its allowed schemas"),
    "oneOf": (FieldCode.INVALID_VALUE, "must match exactly one of its allowed schemas"),
    "not": (FieldCode.INVALID_VALUE, "must not match its excluded schema"),
    "contains": (FieldCode.INVALID_VALUE, "must contain a matching item"),
    "minContains": (
        FieldCode.INVALID_VALUE,
        "must contain at least {} matching items|too few match",
    ),
    "maxContains": (
        FieldCode.INVALID_VALUE,
        "must contain at most {} matching items|too many match",
    ),
    "unevaluatedItems": (FieldCode.INVALID_VALUE, "has items that its schema does not allow"),
}
_SHOWN_MAX = 120  # characters of a registry value shown in a message
TOO_COSTLY = "is too complex to validate"
_HIDDEN_DETAIL = "is not valid"  # a secret value's keys are part of the value


def _reading_order(problem: dict[str, str]) -> tuple[tuple[str, int], ...]:
    """Fields in the order a person reads them: ``tags[2]`` before ``tags[10]``."""
    parts = re.split(r"\[(\d+)\]", problem["field"])  # names at even places, indexes at odd
    key = tuple(("", int(p)) if i % 2 else (p, -1) for i, p in enumerate(parts))
    return (*key, ("", -2), (problem["code"], -1))  # a field before what is inside it


def _shown(keyword: str | None, expected: Any) -> str:
    """The registry's value for ``keyword`` as a message shows it."""
    if keyword == "type":
        return " or ".join(expected if isinstance(expected, list) else [expected])
    if keyword == "enum":
        return ", ".join(json.dumps(v, ensure_ascii=False) for v in expected)
    if keyword == "const" or not isinstance(expected, str):
        return json.dumps(expected, ensure_ascii=False)
    return expected


def _describe(keyword: str | None, expected: Any) -> tuple[FieldCode, str]:
    """(code, message) of a failed ``keyword``; never quotes the rejected value."""
    code, template = _PROBLEMS.get(keyword, (FieldCode.INVALID_VALUE, f"is not valid ({keyword})"))
    message, _, short = template.partition("|")
    if "{}" not in message:
        return code, message
    shown = _shown(keyword, expected)
    return code, (message.format(shown) if len(shown) <= _SHOWN_MAX else short)


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


def registry_error(source: str, problem: str) -> RegistryError:
    """The error that stops start-up: the registry ``source`` and what is wrong with it."""
    return RegistryError(f"custom parameter registry {source}: {problem}")


_fail = registry_error


def _check_schema(schema: dict[str, Any], source: str) -> None:
    """A valid JSON Schema, within the request's own bounds, with ECMA-262 patterns."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    from toqio_connector.rules.schema_keywords import (
        CHECKED_FORMATS,
        FORMAT_CHECKER,
        bad_patterns,
        unchecked_formats,
        unresolvable_refs,
    )

    problem = value_problem(schema)  # before jsonschema walks it: a value, like a request's
    if problem:
        raise _fail(source, f"its schema {problem}")
    for pattern, where, why in bad_patterns(schema):
        raise _fail(
            source,
            f"pattern {json.dumps(pattern, ensure_ascii=False)} at {field_path(where)}"
            f" is not an ECMA-262 regular expression ({why})",
        )
    for reference, where, why in unresolvable_refs(schema):
        raise _fail(
            source,
            f"reference {json.dumps(reference, ensure_ascii=False)} at {field_path(where)}"
            f" does not resolve within the registry ({why})",
        )
    for name, where in unchecked_formats(schema):
        raise _fail(
            source,
            f"format {json.dumps(name, ensure_ascii=False)} at {field_path(where)} is not one"
            f" the connector checks ({', '.join(sorted(CHECKED_FORMATS))}): use a pattern",
        )
    try:  # its format checker: "regex" is ECMA-262 there too
        Draft202012Validator.check_schema(schema, format_checker=FORMAT_CHECKER)
    except SchemaError as exc:
        location = field_path(exc.absolute_path) or "the top level"
        raise _fail(source, f"not a valid JSON Schema at {location}: {exc.message}") from None


def parse_registry(schema: Any, source: str, common: frozenset[str]) -> Registry:
    if not isinstance(schema, dict):
        raise _fail(source, "must be a JSON object (a JSON Schema)")
    declared = schema.get("$schema", DRAFT_2020_12)
    if not isinstance(declared, str) or declared.rstrip("#") != DRAFT_2020_12:
        raise _fail(source, f"must be draft 2020-12 ($schema {DRAFT_2020_12}), not {declared}")
    if not _trivially_valid(schema):
        _check_schema(schema, source)
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
