"""The custom parameter registry: loading, rejection at start-up, and every keyword family."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.harness.registries import EXAMPLE_REGISTRY
from toqio_connector.edge.registry_file import DEFAULT_FILE, load_registry
from toqio_connector.models.errors import BadRequest
from toqio_connector.rules.registry import RegistryError, parse_registry
from toqio_connector.rules.validation import COMMON_PARAMETERS, validate_create
from toqio_connector.settings import CustomersApiSettings, read_settings

BASE = {"id": "c1", "apiKey": "key-1"}


def registry_of(properties: dict, required: list[str] | None = None):
    schema = {"type": "object", "properties": properties, "required": required or []}
    return parse_registry(schema, "test.json", COMMON_PARAMETERS)


def problems(registry, **custom) -> list[tuple[str, str]]:
    try:
        validate_create({**BASE, **custom}, registry)
    except BadRequest as exc:
        return [(e["field"], e["code"]) for e in exc.data]
    return []


# --- loading ---------------------------------------------------------------------------
def test_default_registry_declares_nothing(monkeypatch):
    monkeypatch.delenv("CUSTOM_PARAMETERS_FILE", raising=False)
    registry = load_registry()
    assert registry.source == str(DEFAULT_FILE)
    assert registry.properties == {}
    assert problems(registry, anything=1) == [("anything", "UNKNOWN_PARAMETER")]


def test_registry_file_is_chosen_by_environment(monkeypatch):
    monkeypatch.setenv("CUSTOM_PARAMETERS_FILE", str(EXAMPLE_REGISTRY))
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("SECRET_NAME_PREFIX", "p/")
    settings = read_settings(CustomersApiSettings)
    registry = load_registry(settings.custom_parameters_file)
    assert registry.secret_names == {"webhookSigningSecret"}
    assert registry.required == ("merchantCategoryCode",)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{", "is not valid JSON"),
        ("[]", "must be a JSON object"),
        (
            '{"properties": {"x": {"type": "strin"}}}',
            "not a valid JSON Schema at properties.x.type",
        ),
        ('{"properties": {"x": {"minLength": -1}}}', "not a valid JSON Schema"),
        ('{"properties": {"apiKey": {"type": "string"}}}', "redeclares common parameter(s) apiKey"),
        (
            '{"properties": {"id": {}, "provider": {}}}',
            "redeclares common parameter(s) id, provider",
        ),
        ('{"properties": {}, "required": ["x"]}', "requires undeclared parameter(s) x"),
        ('{"type": "array"}', '"type" must be "object"'),
        ('{"$schema": "http://json-schema.org/draft-07/schema#"}', "must be draft 2020-12"),
        ('{"properties": {"x": true}}', "must be declared with a schema object"),
        (
            '{"properties": {"x": {"type": "object", "properties": {"y": {"writeOnly": true}}}}}',
            "writeOnly is supported directly on parameters only",
        ),
        (
            '{"$defs": {"s": {"type": "string", "writeOnly": true}},'
            ' "properties": {"x": {"$ref": "#/$defs/s"}}}',
            "writeOnly is supported directly on parameters only",
        ),
        (
            '{"properties": {"createdAt": {"type": "string"}}}',
            "redeclares common parameter(s) createdAt",
        ),
        (
            '{"properties": {"x": {"pattern": "^(?P<digits>[0-9]+)$"}}}',
            'pattern "^(?P<digits>[0-9]+)$" at properties.x.pattern is not an ECMA-262',
        ),
        (
            '{"properties": {"x": {"maximum": 1e400}}}',
            "its schema must not hold a number beyond the range of a double",
        ),
        (
            '{"properties": {"x": ' + '{"not": ' * 70 + "{}" + "}" * 70 + "}}",
            "its schema must not be nested more than 64 levels deep",
        ),
    ],
)
def test_broken_registry_is_refused_naming_file_and_problem(tmp_path, content, problem):
    path = tmp_path / "registry.json"
    path.write_text(content)
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert str(path) in str(caught.value)
    assert problem in str(caught.value)


def test_missing_registry_file_is_refused(tmp_path):
    with pytest.raises(RegistryError, match="cannot be read"):
        load_registry(tmp_path / "absent.json")


def test_a_registry_that_is_not_utf8_is_refused_naming_file_and_byte(tmp_path):
    """JSON text is UTF-8: a file in another encoding stops start-up with the file named
    and where it goes wrong, not with a bare UnicodeDecodeError."""
    path = tmp_path / "registry.json"
    path.write_bytes('{"description": "caf\u00e9"}'.encode("latin-1"))
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    problem = "is not UTF-8 text (at byte offset 20)"
    assert str(caught.value) == f"custom parameter registry {path}: {problem}"


def test_writeonly_value_in_enum_is_not_mistaken_for_a_declaration():
    registry = registry_of({"mode": {"enum": ["writeOnly", "readWrite"]}})
    assert registry.secret_names == frozenset()


# --- keyword families ------------------------------------------------------------------
STRINGS = registry_of(
    {
        "code": {"type": "string", "pattern": "^[0-9]{4}$"},
        "name": {"type": "string", "minLength": 2, "maxLength": 5},
        "email": {"type": "string", "format": "email"},
    }
)
NUMBERS = registry_of(
    {
        "delay": {"type": "integer", "minimum": 0, "maximum": 30},
        "rate": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "step": {"type": "integer", "multipleOf": 5},
    }
)
CHOICES = registry_of(
    {"tier": {"enum": ["LOW", "HIGH"]}, "version": {"const": 2}, "flag": {"type": "boolean"}}
)
ARRAYS = registry_of(
    {
        "tags": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
            "maxItems": 2,
            "uniqueItems": True,
        },
        "ids": {"type": "array", "contains": {"const": "main"}},
    }
)
OBJECTS = registry_of(
    {
        "account": {
            "type": "object",
            "properties": {"iban": {"type": "string"}, "bic": {"type": "string"}},
            "required": ["iban"],
            "additionalProperties": False,
        },
        "labels": {"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}, "maxProperties": 2},
    },
    required=["account"],
)
COMBINED = registry_of(
    {
        "limit": {"anyOf": [{"type": "integer"}, {"const": "unlimited"}]},
        "channel": {"oneOf": [{"const": "web"}, {"const": "app"}]},
        "note": {"not": {"const": "forbidden"}},
        "method": {
            "type": "object",
            "if": {"properties": {"kind": {"const": "card"}}},
            "then": {"required": ["last4"]},
        },
    }
)


@pytest.mark.parametrize(
    ("registry", "custom", "expected"),
    [
        (STRINGS, {"code": "1234", "name": "ab", "email": "a@b.co"}, []),
        (STRINGS, {"code": "12a4"}, [("code", "INVALID_VALUE")]),
        (STRINGS, {"name": "a"}, [("name", "INVALID_VALUE")]),
        (STRINGS, {"name": "abcdef"}, [("name", "TOO_LONG")]),
        (STRINGS, {"email": "not-an-email"}, [("email", "INVALID_VALUE")]),
        (STRINGS, {"code": 1234}, [("code", "INVALID_TYPE")]),
        (NUMBERS, {"delay": 0, "rate": 0.5, "step": 10}, []),
        (NUMBERS, {"delay": 31}, [("delay", "INVALID_VALUE")]),
        (NUMBERS, {"delay": -1}, [("delay", "INVALID_VALUE")]),
        (NUMBERS, {"delay": 1.5}, [("delay", "INVALID_TYPE")]),
        (NUMBERS, {"delay": "3"}, [("delay", "INVALID_TYPE")]),
        (NUMBERS, {"delay": True}, [("delay", "INVALID_TYPE")]),
        (NUMBERS, {"rate": 1}, [("rate", "INVALID_VALUE")]),
        (NUMBERS, {"step": 7}, [("step", "INVALID_VALUE")]),
        (CHOICES, {"tier": "LOW", "version": 2, "flag": False}, []),
        (CHOICES, {"tier": "low"}, [("tier", "INVALID_VALUE")]),
        (CHOICES, {"version": 3}, [("version", "INVALID_VALUE")]),
        (CHOICES, {"flag": "true"}, [("flag", "INVALID_TYPE")]),
        (ARRAYS, {"tags": ["a"], "ids": ["x", "main"]}, []),
        (ARRAYS, {"tags": []}, [("tags", "INVALID_VALUE")]),
        (ARRAYS, {"tags": ["a", "b", "c"]}, [("tags", "TOO_LONG")]),
        (ARRAYS, {"tags": ["a", "a"]}, [("tags", "INVALID_VALUE")]),
        (ARRAYS, {"tags": ["a", 1]}, [("tags[1]", "INVALID_TYPE")]),
        (ARRAYS, {"ids": ["x"]}, [("ids", "INVALID_VALUE")]),
        (OBJECTS, {"account": {"iban": "X"}, "labels": {"a": 1}}, []),
        (OBJECTS, {}, [("account", "REQUIRED")]),
        (OBJECTS, {"account": {}}, [("account.iban", "REQUIRED")]),
        (OBJECTS, {"account": {"iban": "X", "other": 1}}, [("account.other", "UNKNOWN_PARAMETER")]),
        (OBJECTS, {"account": {"iban": 5}}, [("account.iban", "INVALID_TYPE")]),
        (OBJECTS, {"account": {"iban": "X"}, "labels": {"A": 1}}, [("labels", "INVALID_VALUE")]),
        (
            OBJECTS,
            {"account": {"iban": "X"}, "labels": {"a": 1, "b": 2, "c": 3}},
            [("labels", "TOO_LONG")],
        ),
        (
            COMBINED,
            {"limit": 5, "channel": "web", "note": "ok", "method": {"kind": "card", "last4": "1"}},
            [],
        ),
        (COMBINED, {"limit": "lots"}, [("limit", "INVALID_VALUE")]),
        (COMBINED, {"channel": "fax"}, [("channel", "INVALID_VALUE")]),
        (COMBINED, {"note": "forbidden"}, [("note", "INVALID_VALUE")]),
        (COMBINED, {"method": {"kind": "card"}}, [("method.last4", "REQUIRED")]),
    ],
)
def test_every_keyword_is_enforced_per_field(registry, custom, expected):
    assert problems(registry, **custom) == expected


def test_all_problems_are_reported_together_with_common_ones():
    found = problems(NUMBERS, delay=99, step=3, undeclared=True)
    assert ("delay", "INVALID_VALUE") in found
    assert ("step", "INVALID_VALUE") in found
    assert ("undeclared", "UNKNOWN_PARAMETER") in found
    try:
        validate_create({"id": "c1", "delay": 99}, NUMBERS)
    except BadRequest as exc:
        fields = {e["field"] for e in exc.data}
    assert {"apiKey", "delay"} <= fields


def test_secret_parameter_is_split_out_and_masked():
    registry = load_registry(EXAMPLE_REGISTRY)
    new = validate_create(
        {
            **BASE,
            "merchantCategoryCode": "5411",
            "webhookSigningSecret": "s" * 20,
            "riskTier": "LOW",
        },
        registry,
    )
    assert new.data["webhookSigningSecret"] == "*****"
    assert new.data["riskTier"] == "LOW"
    assert new.secrets.get_secret_value() == {"apiKey": "key-1", "webhookSigningSecret": "s" * 20}


CANARY = "CANARY-webhook-31337"


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "merchantCategoryCode",
                "settlementDelayDays",
                "riskTier",
                "tags",
                "settlementAccount",
                "webhookSigningSecret",
                "other",
            ]
        ),
        st.recursive(
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(max_size=20)
            | st.just(CANARY),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=8,
        ),
    )
)
def test_any_custom_values_give_field_errors_and_never_echo_values(custom):
    registry = load_registry(EXAMPLE_REGISTRY)
    try:
        new = validate_create({**BASE, "webhookSigningSecret": CANARY, **custom}, registry)
    except BadRequest as exc:
        text = json.dumps(exc.data) + exc.message
        assert CANARY not in text
        assert all(set(e) == {"field", "code", "message"} for e in exc.data)
    else:
        assert CANARY not in json.dumps(new.data)


# --- formats: the same ones checked wherever the connector runs -----------------------------


@pytest.mark.parametrize("name", ["uri", "hostname", "idn-hostname", "json-pointer", "duration"])
def test_a_format_the_connector_does_not_check_stops_start_up(name):
    schema = {"type": "object", "properties": {"site": {"type": "string", "format": name}}}
    with pytest.raises(RegistryError, match=f'format "{name}" at properties.site.format'):
        parse_registry(schema, "r.json", COMMON_PARAMETERS)


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("date-time", "2026-12-02T10:15:30Z", "2026-13-02T10:15:30Z"),
        ("time", "10:15:30Z", "25:15:30Z"),
        ("date", "2026-12-02", "2026-02-30"),
        ("email", "a@example.com", "example.com"),
        ("ipv4", "192.0.2.1", "192.0.2.256"),
        ("uuid", "0b1f8a42-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "0b1f8a42"),
    ],
)
def test_every_checked_format_is_enforced(name, good, bad):
    registry = parse_registry(
        {"type": "object", "properties": {"when": {"type": "string", "format": name}}},
        "r.json",
        COMMON_PARAMETERS,
    )
    assert registry.errors({"when": good}) == []
    assert [e["code"] for e in registry.errors({"when": bad})] == ["INVALID_VALUE"]


# --- references resolve within the registry, or it does not start -------------------------

DRAFT = "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize(
    "schema",
    [
        {"properties": {"x": {"$ref": "#/$defs/missing"}}},
        {"properties": {"x": {"$ref": "https://example.com/x.json"}}},
        {"properties": {"x": {"$dynamicRef": "#nope"}}},
        {"properties": {"x": {"type": "object", "properties": {"y": {"$ref": "#/nowhere"}}}}},
        {"$ref": "https://example.com/y.json", "properties": {}},
    ],
    ids=["dangling", "remote", "dynamic", "nested", "top-level"],
)
def test_a_reference_that_does_not_resolve_stops_start_up(schema):
    with pytest.raises(RegistryError, match="does not resolve within the registry"):
        parse_registry({"$schema": DRAFT, "type": "object", **schema}, "r.json", COMMON_PARAMETERS)


def test_references_within_the_registry_load_and_validate():
    schema = {
        "$schema": DRAFT,
        "type": "object",
        "$defs": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}},
        "properties": {
            "a": {"$ref": "#/$defs/code"},
            "b": {
                "$id": "https://toqio.example/b",
                "$defs": {"n": {"type": "integer"}},
                "$ref": "#/$defs/n",
            },
        },
    }
    registry = parse_registry(schema, "r.json", COMMON_PARAMETERS)
    assert registry.errors({"a": "EUR", "b": 3}) == []
    assert {e["field"] for e in registry.errors({"a": "eur", "b": "3"})} == {"a", "b"}
