"""Mutation survivors of the registry's problem list (registry.py), killed here.

A 400 lists the custom parameters' problems in the order a person reads the fields: by
name, ``tags[2]`` before ``tags[10]`` (indexes as numbers), a field before what is inside
it, and one field's problems by code. A reference that does not resolve within the
registry stops start-up, named with where it is and why, a ``$dynamicRef`` beside a
``$ref`` too; references resolve against the registry's own ``$id``, as the validator
resolves them.
"""

from __future__ import annotations

import pytest

from toqio_connector.rules.registry import RegistryError, parse_registry
from toqio_connector.rules.validation import COMMON_PARAMETERS

REGISTRY = parse_registry(
    {
        "type": "object",
        "properties": {
            "n": {"type": "string", "maxLength": 1, "pattern": "^z"},
            "tags": {
                "type": "array",
                "maxItems": 2,
                "items": {
                    "type": "object",
                    "properties": {"x": {"type": "integer"}},
                    "required": ["x"],
                },
            },
        },
    },
    "t.json",
    COMMON_PARAMETERS,
)


def test_problems_come_in_reading_order():
    tags: list = [{"x": 1} for _ in range(11)]
    tags[2], tags[3], tags[10] = {"x": "s"}, "not an object", {}
    found = [(e["field"], e["code"]) for e in REGISTRY.errors({"tags": tags, "n": "abc"})]
    assert found == [
        ("n", "INVALID_VALUE"),
        ("n", "TOO_LONG"),
        ("tags", "TOO_LONG"),
        ("tags[2].x", "INVALID_TYPE"),
        ("tags[3]", "INVALID_TYPE"),
        ("tags[10].x", "REQUIRED"),
    ]


DRAFT = "https://json-schema.org/draft/2020-12/schema"


def registry_of(**schema):
    return parse_registry(
        {"$schema": DRAFT, "type": "object", **schema}, "r.json", COMMON_PARAMETERS
    )


def test_an_unresolvable_reference_is_named_with_where_and_why():
    cases = {
        "properties.x.$dynamicRef": ({"x": {"$dynamicRef": "#nope"}}, "#nope", "NoSuchAnchor"),
        "properties.y.$dynamicRef": (
            {"y": {"$ref": "#/$defs/c", "$dynamicRef": "#gone"}},
            "#gone",
            "NoSuchAnchor",
        ),
        "properties.z.$ref": ({"z": {"$ref": "#/$defs/none"}}, "#/$defs/none", "PointerToNowhere"),
    }
    for where, (properties, reference, why) in cases.items():
        with pytest.raises(RegistryError) as refused:
            registry_of(properties=properties, **{"$defs": {"c": {"type": "string"}}})
        assert str(refused.value) == (
            f'custom parameter registry r.json: reference "{reference}" at {where}'
            f" does not resolve within the registry ({why})"
        )


def test_references_resolve_against_the_registrys_own_id():
    registry = registry_of(
        **{
            "$id": "https://toqio.example/registry",
            "$defs": {"code": {"type": "string"}},
            "properties": {
                "a": {"$ref": "https://toqio.example/registry#/$defs/code"},
                "b": {"$ref": "registry#/$defs/code"},
                "c": {"$ref": "#/$defs/code"},
            },
        }
    )
    found = [(e["field"], e["code"]) for e in registry.errors({"a": 1, "b": 2, "c": 3})]
    assert found == [("a", "INVALID_TYPE"), ("b", "INVALID_TYPE"), ("c", "INVALID_TYPE")]
