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

from toqio_connector.edge.registry_file import load_registry
from toqio_connector.models.errors import BadRequest
from toqio_connector.rules.bounds import MORE_PROBLEMS
from toqio_connector.rules.registry import RegistryError, parse_registry
from toqio_connector.rules.validation import COMMON_PARAMETERS, validate_create

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


def test_a_problem_quotes_the_registry_value_as_a_person_reads_it():
    """A message shows what the registry asks for: types as words ("string or null"),
    enum and const values as JSON (strings quoted, non-ASCII as written), a pattern as
    written; a keyword without a message of its own is named."""
    registry = registry_of(
        properties={
            "a": {"type": "string"},
            "b": {"type": ["string", "null"]},
            "c": {"enum": ["é", 1, None]},
            "d": {"const": "x"},
            "e": {"const": "é"},
            "f": {"pattern": "^é"},
            "g": {"dependentRequired": {"x": ["y"]}},
        }
    )
    custom = {"a": 1, "b": 1, "c": 2, "d": "y", "e": "y", "f": "z", "g": {"x": 1}}
    assert {e["field"]: e["message"] for e in registry.errors(custom)} == {
        "a": "must be of type string",
        "b": "must be of type string or null",
        "c": 'must be one of "é", 1, null',
        "d": 'must be "x"',
        "e": 'must be "é"',
        "f": "must match the pattern ^é",
        "g": "is not valid (dependentRequired)",
    }


@pytest.mark.parametrize(
    ("length", "message"),
    [
        (118, 'must be one of "' + "a" * 118 + '"'),  # 120 characters shown: in full
        (119, "must be one of the allowed values"),  # 121: the short message
    ],
)
def test_a_registry_value_is_shown_up_to_120_characters(length, message):
    """A long registry value is not repeated in every 400: past 120 characters shown,
    the message says what is wrong without it."""
    registry = registry_of(properties={"x": {"enum": ["a" * length]}})
    assert registry.errors({"x": "b"}) == [
        {"field": "x", "code": "INVALID_VALUE", "message": message}
    ]


def test_a_pattern_that_is_not_ecma_262_is_named_as_written():
    """The start-up error quotes the broken pattern as the registry's author wrote it,
    non-ASCII included (not as \\u escapes)."""
    with pytest.raises(RegistryError) as refused:
        registry_of(properties={"p": {"pattern": "é("}})
    assert str(refused.value).startswith(
        'custom parameter registry r.json: pattern "é(" at properties.p.pattern'
        " is not an ECMA-262 regular expression ("
    )


def test_start_up_errors_quote_references_and_formats_as_written():
    """A reference that does not resolve and a format the connector does not check are
    quoted as written (non-ASCII too), with the file, where they are and, for a format,
    the formats the connector does check."""
    with pytest.raises(RegistryError) as refused:
        registry_of(properties={"é": {"$ref": "#/$defs/é"}})
    assert str(refused.value) == (
        'custom parameter registry r.json: reference "#/$defs/é" at properties.é.$ref'
        " does not resolve within the registry (PointerToNowhere)"
    )
    with pytest.raises(RegistryError) as refused:
        registry_of(properties={"x": {"type": "string", "format": "é"}})
    assert str(refused.value) == (
        'custom parameter registry r.json: format "é" at properties.x.format is not one the'
        " connector checks (date, date-time, email, idn-email, ipv4, ipv6, regex, time, uuid):"
        " use a pattern"
    )


def test_a_pattern_only_the_metaschema_reaches_is_checked_as_ecma_262_too():
    """Every pattern of the registry is ECMA-262, also where only the JSON Schema
    metaschema looks (``contentSchema``): the metaschema check uses the connector's
    format checker, so a Python-only pattern there stops start-up as well."""
    schema = {"contentMediaType": "application/json", "contentSchema": {"pattern": "(?P<n>a)"}}
    with pytest.raises(RegistryError) as refused:
        registry_of(properties={"x": schema})
    assert str(refused.value) == (
        "custom parameter registry r.json: not a valid JSON Schema at"
        " properties.x.contentSchema.pattern: '(?P<n>a)' is not a 'regex'"
    )


@pytest.mark.parametrize("declared", [DRAFT, DRAFT + "#"])
def test_draft_2020_12_is_accepted_with_or_without_its_empty_fragment(declared):
    """``$schema`` names draft 2020-12 with or without the trailing ``#``."""
    registry = parse_registry(
        {"$schema": declared, "properties": {"x": {"type": "string"}}}, "r.json", COMMON_PARAMETERS
    )
    assert registry.errors({"x": 1}) == [
        {"field": "x", "code": "INVALID_TYPE", "message": "must be of type string"}
    ]


@pytest.mark.parametrize(
    ("declared", "shown"),
    [
        (7, "7"),
        ("http://json-schema.org/draft-07/schema#", "http://json-schema.org/draft-07/schema#"),
        (DRAFT + "X", DRAFT + "X"),  # only starts like the draft's URI
    ],
)
def test_another_schema_dialect_stops_start_up_naming_both(declared, shown):
    """Any other ``$schema`` (a number too) is refused, saying which is required and
    which was found."""
    with pytest.raises(RegistryError) as refused:
        parse_registry({"$schema": declared}, "r.json", COMMON_PARAMETERS)
    assert str(refused.value) == (
        f"custom parameter registry r.json: must be draft 2020-12 ($schema {DRAFT}), not {shown}"
    )


def test_a_registry_file_that_cannot_be_read_is_named_with_the_reason(tmp_path):
    """A missing file, a directory: start-up stops naming the file and the system's reason."""
    for path, reason in [
        (tmp_path / "absent.json", "No such file or directory"),
        (tmp_path, "Is a directory"),
    ]:
        with pytest.raises(RegistryError) as refused:
            load_registry(path)
        assert str(refused.value) == f"custom parameter registry {path}: cannot be read ({reason})"


def test_a_registry_file_that_is_not_json_is_named_with_the_parser_s_reason(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"properties": ', encoding="utf-8")
    with pytest.raises(RegistryError) as refused:
        load_registry(path)
    assert str(refused.value) == (
        f"custom parameter registry {path}: is not valid JSON"
        " (Expecting value: line 1 column 16 (char 15))"
    )


def test_a_registry_file_is_read_as_utf_8(tmp_path):
    """Names and patterns outside ASCII are read as UTF-8, whatever the locale."""
    path = tmp_path / "r.json"
    path.write_text('{"properties": {"café": {"pattern": "^é"}}}', encoding="utf-8")
    assert load_registry(path).errors({"café": "e"}) == [
        {"field": "café", "code": "INVALID_VALUE", "message": "must match the pattern ^é"}
    ]


TRIVIAL = [
    {},
    {"type": "object"},
    {
        "$schema": DRAFT,
        "$id": "https://toqio.example/registry",
        "$comment": "nothing yet",
        "title": "Custom parameters",
        "description": "none declared",
        "type": "object",
        "properties": {},
        "required": [],
    },
]
DECLARING = [
    {"properties": {"x": {}}},
    {"minProperties": 0},
    {"properties": {}, "additionalProperties": False},
    {"type": "object", "if": True},
    {"title": "t", "description": 5},
    {"$comment": ["not text"]},
    {"properties": {}, "required": [], "$defs": {}},
    {"required": ["x"]},
    {"properties": []},
    {"type": "array"},
    {"type": ["object"]},
]


def test_only_a_registry_that_declares_something_is_checked_by_jsonschema(monkeypatch):
    """A registry that declares nothing (the shipped default: annotations, no properties,
    no required, type object) is accepted without asking jsonschema, so that cold start
    does not pay for importing it; anything more is checked."""
    from toqio_connector.rules import registry as registry_module

    checked = []
    check = registry_module._check_schema
    monkeypatch.setattr(
        registry_module,
        "_check_schema",
        lambda schema, source: (checked.append(schema), check(schema, source)),
    )
    for schema in TRIVIAL:
        assert parse_registry(schema, "r.json", COMMON_PARAMETERS).properties == {}
    assert checked == []
    for schema in DECLARING:
        try:
            parse_registry(schema, "r.json", COMMON_PARAMETERS)
        except RegistryError:
            pass
    assert checked == DECLARING


def test_write_only_anywhere_but_directly_on_a_parameter_stops_start_up():
    """``writeOnly`` marks a secret parameter only directly on it: inside a list of
    subschemas (``allOf``), it stops start-up like anywhere else."""
    with pytest.raises(RegistryError) as refused:
        registry_of(properties={"x": {"allOf": [{"type": "string"}, {"writeOnly": True}]}})
    assert str(refused.value) == (
        "custom parameter registry r.json: writeOnly is supported directly on parameters only"
    )


def test_a_registry_file_unreadable_for_no_stated_reason_is_named_with_the_error(
    tmp_path, monkeypatch
):
    """When the system gives no reason (no ``strerror``), the error's type says what
    went wrong."""
    from pathlib import Path

    def refuse(*_args, **_kwargs):
        raise PermissionError

    monkeypatch.setattr(Path, "read_text", refuse)
    path = tmp_path / "r.json"
    with pytest.raises(RegistryError) as refused:
        load_registry(path)
    expected = f"custom parameter registry {path}: cannot be read (PermissionError)"
    assert str(refused.value) == expected


# --- the work one request may cause ------------------------------------------------------

LOOP = {"loop": {"allOf": [{"$ref": "#/$defs/loop"}]}}  # never ends: stopped as too costly


def test_a_parameter_too_costly_to_validate_is_the_one_named():
    """The parameter whose evaluation exceeded the budget is named, not another one."""
    registry = registry_of(
        **{"$defs": LOOP},
        properties={"a": {"type": "string"}, "z": {"$ref": "#/$defs/loop"}},
    )
    assert registry.errors({"a": "x", "z": 1}) == [
        {"field": "z", "code": "INVALID_VALUE", "message": "is too complex to validate"}
    ]


def test_a_registry_too_costly_outside_any_parameter_names_the_first_one_sent_or_none():
    """Too costly before any parameter was evaluated (a keyword of the whole object):
    the 400 names the first parameter sent in alphabetical order, or no field (empty)
    when none was sent."""
    registry = registry_of(
        **{"$defs": LOOP},
        allOf=[{"$ref": "#/$defs/loop"}],
        properties={"a": {"type": "string"}, "b": {"type": "string"}},
    )
    too_costly = {"code": "INVALID_VALUE", "message": "is too complex to validate"}
    assert registry.errors({"b": "x", "a": "y"}) == [{"field": "a", **too_costly}]
    assert registry.errors({}) == [{"field": "", **too_costly}]


def test_evaluation_stops_at_the_101st_problem():
    """101 problems are enough to say there are more than 100: jsonschema stops there,
    so of 102 invalid parameters the one evaluated last (declared last) is never
    reached, and the 400 lists the first 100 of those found in reading order."""
    names = [f"p{n:03d}" for n in range(102)]
    registry = registry_of(properties={name: {"type": "string"} for name in reversed(names)})
    with pytest.raises(BadRequest) as refused:
        validate_create({"id": "c1", "apiKey": "k", **dict.fromkeys(names, 1)}, registry)
    assert refused.value.message == MORE_PROBLEMS
    assert [e["field"] for e in refused.value.data] == names[1:101]


@pytest.mark.parametrize("schema", [{"type": "object"}, {"minProperties": 1}])
def test_a_registry_that_declares_no_parameter_judges_nothing(monkeypatch, schema):
    """With no parameter declared, every custom value is unknown before the registry
    sees it: it builds no validator (jsonschema stays out of a cold start) and applies
    nothing to the empty set of custom parameters, whatever it says of the object."""
    from toqio_connector.rules import schema_keywords

    def no_validator(_schema):
        raise AssertionError("a validator was built for a registry that declares nothing")

    monkeypatch.setattr(schema_keywords, "validator_for", no_validator)
    registry = parse_registry(schema, "r.json", COMMON_PARAMETERS)
    assert registry.errors({}) == []
    assert validate_create({"id": "c1", "apiKey": "k"}, registry).data == {
        "id": "c1",
        "apiKey": "*****",
    }


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ([], "must be a JSON object (a JSON Schema)"),
        ({"type": "array"}, 'its "type" must be "object"'),
        (
            {"properties": {"a": {}}, "required": ["z", "a", "y"]},
            "requires undeclared parameter(s) y, z",
        ),
    ],
)
def test_a_registry_of_the_wrong_shape_stops_start_up_saying_what_is_wrong(schema, problem):
    with pytest.raises(RegistryError) as refused:
        parse_registry(schema, "r.json", COMMON_PARAMETERS)
    assert str(refused.value) == f"custom parameter registry r.json: {problem}"
