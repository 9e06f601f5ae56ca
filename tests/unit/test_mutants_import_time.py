"""What the rule modules build when they are imported, checked on a fresh import.

``schema_keywords`` builds its validator's keyword table (each keyword wrapped with its
step cost) and its format checker at import; ``models`` builds the pydantic field types
of the secret and text fields at import. Here each module is executed afresh, under its
own name, and what it built is checked by what it does: the steps a keyword costs (the
cost model of ``schema_keywords``' docstring, which ``bounds.MAX_STEPS`` relies on), the
nesting count left balanced, the formats checked, the secret fields' bounds, masking and
text rule. (Mutation testing switches a mutant on after the suite's own imports; a fresh
import is what lets it reach this import-time code.)
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import pytest
from pydantic import ValidationError

from toqio_connector.rules.bounds import MAX_STEPS

MASK = "*****"


@pytest.fixture
def fresh(monkeypatch):
    """``fresh("toqio_connector.x")``: the module's code executed anew, under its name."""

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, importlib.import_module(name).__file__)
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, module)
        spec.loader.exec_module(module)
        return module

    return load


# --- schema_keywords ----------------------------------------------------------------------


def evaluate(keywords, schema, instance):
    """(steps spent, errors, nesting left over) of validating ``instance``."""
    validator = keywords.validator_for(schema)
    with keywords.evaluating(instance) as evaluation:
        start = evaluation.nesting_left
        errors = list(validator.iter_errors(instance))
    return MAX_STEPS - evaluation.steps_left, len(errors), evaluation.nesting_left - start


DEFS = {"a": {"type": "integer"}}
LONG = "x" * 600  # jsonschema's maxLength message quotes it: 2 steps of 256 characters
STEPS = {
    # one a keyword
    "type": ({"type": "string"}, "x", (1, 0, 0)),
    "maxLength, message of 2 x 256": ({"maxLength": 1}, LONG, (3, 1, 0)),
    # one, plus one per item or property walked (none in a string)
    "items": ({"items": {"type": "integer"}}, [1, 2, 3], (7, 0, 0)),
    "items over a string": ({"items": {"type": "integer"}}, "abc", (1, 0, 0)),
    "properties": ({"properties": {"a": DEFS["a"], "b": {}}}, {"a": 1, "c": 3}, (4, 0, 0)),
    "patternProperties": ({"patternProperties": {"^a": {}}}, {"a1": 1, "a2": 2, "b": 3}, (7, 0, 0)),
    "patternProperties, no keys": ({"patternProperties": {"^a": {}}}, {}, (1, 0, 0)),
    # an error's message is paid once, however many keywords it passes through
    "nested message": ({"properties": {"a": {"maxLength": 1}}}, {"a": LONG}, (5, 1, 0)),
    # one, plus one per branch
    "anyOf": ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, 5, (5, 0, 0)),
    # four a reference
    "$ref": ({"$ref": "#/$defs/a", "$defs": DEFS}, 1, (5, 0, 0)),
    "$dynamicRef": ({"$dynamicRef": "#/$defs/a", "$defs": DEFS}, 1, (5, 0, 0)),
    # one, plus one per 1024 characters searched, per 2 characters of a format checked
    "pattern": ({"pattern": "^a"}, "a" * 2100, (3, 0, 0)),  # whole steps
    "pattern, not a string": ({"pattern": "^a"}, 7, (1, 0, 0)),
    "format": ({"format": "date"}, "2020-01-01", (6, 0, 0)),
    "format, not a string": ({"format": "date"}, 7, (1, 0, 0)),
}  # fmt: skip


def test_each_keyword_costs_its_steps_and_leaves_the_nesting_balanced(fresh):
    keywords = fresh("toqio_connector.rules.schema_keywords")
    for name, (schema, instance, expected) in STEPS.items():
        assert evaluate(keywords, schema, instance) == expected, name


def test_an_error_is_handed_over_with_no_keyword_left_on_the_count(fresh):
    keywords = fresh("toqio_connector.rules.schema_keywords")
    schema = {"properties": {"a": {"properties": {"b": {"type": "integer"}}}}}
    instance = {"a": {"b": "not an integer"}}
    validator = keywords.validator_for(schema)
    with keywords.evaluating(instance) as evaluation:
        start = evaluation.nesting_left
        errors = validator.iter_errors(instance)
        first = next(errors)
        assert evaluation.nesting_left == start  # three keywords deep, all off the count
        assert list(first.absolute_path) == ["a", "b"] and first.validator == "type"
        assert list(errors) == []
        assert evaluation.nesting_left == start


SEMANTICS = [
    ({"type": "integer"}, 1, True),
    ({"type": "integer"}, "1", False),
    ({"properties": {"a": {"type": "integer"}}, "additionalProperties": False}, {"a": 1}, True),
    ({"properties": {"a": {"type": "integer"}}, "additionalProperties": False}, {"b": 1}, False),
    ({"patternProperties": {"^x": {}}, "additionalProperties": False}, {"xa": 1}, True),
    ({"properties": {"a": {}}, "unevaluatedProperties": False}, {"a": 1, "b": 2}, False),
    ({"allOf": [{"unevaluatedItems": {"type": "integer"}}], "unevaluatedItems": False}, [1], True),
    ({"allOf": [{"contains": {"type": "integer"}}], "unevaluatedItems": False}, [1, "a"], False),
    (
        {"allOf": [{"prefixItems": [{}, {}]}, {"prefixItems": [{}]}], "unevaluatedItems": False},
        [1, 2],
        True,
    ),
    # a branch that does not hold for the array evaluates none of its items
    (
        {
            "anyOf": [{"prefixItems": [{}, {}], "type": "null"}, {"prefixItems": [{}]}],
            "unevaluatedItems": False,
        },
        [1, 2],
        False,
    ),
    ({"required": ["a"]}, {}, False),
    ({"items": {"type": "string"}, "uniqueItems": True}, ["a", "b"], True),
    ({"uniqueItems": True}, [1, 1.0], False),
    ({"enum": [1, "a"]}, True, False),
    ({"const": {"a": [1]}}, {"a": [1.0]}, True),
    ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, 5, False),
    ({"anyOf": [{"type": "string"}, {"minimum": 0}]}, 5, True),
    ({"pattern": "^[0-9]{4}$"}, "1234\n", False),
    ({"format": "date"}, "2020-02-30", False),
    ({"format": "email"}, "someone@example.com", True),
    ({"format": "regex"}, "^(a|b)+$", True),
    ({"format": "regex"}, "(", False),
    ({"format": "regex"}, "\\p{L}", True),  # ECMA-262 with the u flag, not Python's re
    ({"format": "unknown-to-the-checker"}, "anything", True),
]


# unevaluatedProperties sees what the in-place applicators evaluated (each case agrees with
# jsonschema's own Draft202012Validator); the path is the field a problem names
IF_THEN_ELSE = {
    "if": {"properties": {"k": {"const": 1}}, "required": ["k"]},
    "then": {"properties": {"t": {}}},
    "else": {"properties": {"k": {}, "e": {}}},
    "unevaluatedProperties": False,
}
X = {"a": {"properties": {"x": {}}}}
UNEVALUATED = [
    ({"$ref": "#/$defs/a", "$defs": X, "unevaluatedProperties": False}, {"x": 1}, []),
    ({"$ref": "#/$defs/a", "$defs": X, "unevaluatedProperties": False}, {"y": 1}, [["y"]]),
    (
        {
            "$ref": "#/$defs/r",
            "$defs": {"r": {"$ref": "#/$defs/a"}, **X},
            "unevaluatedProperties": False,
        },
        {"x": 1},
        [],
    ),
    ({"$dynamicRef": "#/$defs/a", "$defs": X, "unevaluatedProperties": False}, {"x": 1}, []),
    (IF_THEN_ELSE, {"k": 1, "t": 1}, []),
    (IF_THEN_ELSE, {"k": 2, "e": 1}, []),
    (IF_THEN_ELSE, {"k": 1, "e": 1}, [["e"]]),
    (IF_THEN_ELSE, {"k": 2, "t": 1}, [["t"]]),
    ({"if": {"properties": {"k": {}}}, "unevaluatedProperties": False}, {"k": 1}, []),
    (
        {
            "if": {"properties": {"k": {"const": 1}}},
            "else": {"properties": {"k": {}}},
            "unevaluatedProperties": False,
        },
        {"k": 2},
        [],
    ),
    (
        {
            "dependentSchemas": {"k": {"properties": {"d": {}}}},
            "properties": {"k": {}},
            "unevaluatedProperties": False,
        },
        {"k": 1, "d": 1},
        [],
    ),
    (
        {
            "dependentSchemas": {"k": {"properties": {"d": {}}}},
            "properties": {"k": {}},
            "unevaluatedProperties": False,
        },
        {"d": 1},
        [["d"]],
    ),
    (
        {
            "allOf": [{"properties": {"a": {}}}, {"properties": {"b": {}}}],
            "unevaluatedProperties": False,
        },
        {"a": 1, "b": 1},
        [],
    ),
    (
        {"allOf": [{"additionalProperties": {"type": "integer"}}], "unevaluatedProperties": False},
        {"z": 1},
        [],
    ),
    (
        {"allOf": [{"unevaluatedProperties": {"type": "integer"}}], "unevaluatedProperties": False},
        {"z": 1},
        [],
    ),
    (
        {
            "anyOf": [{"properties": {"a": {}}, "type": "null"}, {"properties": {"b": {}}}],
            "unevaluatedProperties": False,
        },
        {"a": 1, "b": 1},
        [["a"]],
    ),
    (
        {"properties": {"a": {}}, "unevaluatedProperties": {"type": "integer"}},
        {"a": "s", "b": 1},
        [],
    ),
    ({"properties": {"a": {}}, "unevaluatedProperties": {"type": "integer"}}, {"b": "s"}, [["b"]]),
]


def test_unevaluated_properties_sees_what_in_place_applicators_evaluated(fresh):
    keywords = fresh("toqio_connector.rules.schema_keywords")
    for schema, instance, paths in UNEVALUATED:
        validator = keywords.validator_for(schema)
        with keywords.evaluating(instance):
            found = [list(e.absolute_path) for e in validator.iter_errors(instance)]
        assert found == paths, (schema, instance)


def test_the_keywords_keep_json_schemas_semantics(fresh):
    keywords = fresh("toqio_connector.rules.schema_keywords")
    for schema, instance, valid in SEMANTICS:
        assert (evaluate(keywords, schema, instance)[1] == 0) is valid, (schema, instance)


def test_exactly_the_listed_formats_are_checked(fresh):
    keywords = fresh("toqio_connector.rules.schema_keywords")
    assert set(keywords.FORMAT_CHECKER.checkers) == keywords.CHECKED_FORMATS
    assert keywords.FORMAT_CHECKER.conforms("^a+$", "regex")
    assert not keywords.FORMAT_CHECKER.conforms("(", "regex")  # refused, not an exception


# --- models -------------------------------------------------------------------------------


def problems(models, **fields) -> list[tuple[str, str]]:
    try:
        models.CustomerRequest.model_validate({"id": "c1", "apiKey": "k", **fields})
    except ValidationError as exc:
        return [(".".join(map(str, e["loc"])), e["type"]) for e in exc.errors()]
    return []


def test_the_secret_and_text_fields_keep_their_bounds_mask_and_text_rule(fresh):
    models = fresh("toqio_connector.models.request")
    provider = {"key": "", "loginId": "l" * 256, "hmacKey": "h" * 4096, "customerId": "c" * 256}
    assert problems(models, paymentProvider=provider, commercialName="n" * 255) == []
    assert problems(models, apiKey="") == [("apiKey", "too_short")]
    assert problems(models, apiKey="a" * 4097) == [("apiKey", "too_long")]
    assert problems(models, paymentProvider={"loginId": "l" * 257}) == [
        ("paymentProvider.loginId", "too_long")
    ]
    assert problems(models, paymentProvider={"customerId": "c" * 257}) == [
        ("paymentProvider.customerId", "string_too_long")
    ]
    assert problems(models, commercialName="n" * 256) == [("commercialName", "string_too_long")]
    assert problems(models, apiKey="a\nb") == [("apiKey", "control_characters")]
    request = models.CustomerRequest.model_validate(
        {"id": "c1", "apiKey": "secret-api-key", "paymentProvider": {"key": "secret-key"}}
    )
    assert request.masked() == {"id": "c1", "apiKey": MASK, "paymentProvider": {"key": MASK}}
    assert request.model_dump_json() == (
        '{"id":"c1","apiKey":"*****","providerConfigId":null,"provider":null,'
        '"paymentProvider":{"customerId":null,"paymentProviderType":null,"key":"*****",'
        '"loginId":null,"hmacKey":null},"commercialName":null,"availableCurrencies":null}'
    )
    schema = models.CustomerRequest.model_json_schema(mode="serialization")
    api_key = schema["properties"]["apiKey"]
    assert api_key["pattern"] == models.NO_CONTROL_CHARACTERS_PATTERN
    assert api_key["type"] == "string"
