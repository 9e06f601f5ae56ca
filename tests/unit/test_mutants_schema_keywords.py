"""The registry's validator (rules/schema_keywords.py) where its cost and its meaning are
decided: each value and each ``enum`` keyed once per request, what ``unevaluatedProperties``
counts as evaluated (``oneOf`` branches, ``if`` without ``else``, references resolved from
their own resource) and what it spends, and every subschema evaluated by the bounded
validator, whatever ``$schema`` it declares. Written against the survivors of
`make mutate` (docs/mutation.md)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
import regress

from toqio_connector.rules import schema_keywords
from toqio_connector.rules.bounds import MAX_STEPS
from toqio_connector.rules.registry import RegistryError, parse_registry
from toqio_connector.rules.schema_keywords import RegexError, TooCostly, evaluating, validator_for
from toqio_connector.rules.validation import COMMON_PARAMETERS

DRAFT = "https://json-schema.org/draft/2020-12/schema"


class Walked(list):
    """A JSON array that counts how many times it is walked (iterated)."""

    walks = 0

    def __iter__(self):
        self.walks += 1
        return super().__iter__()


def errors(schema: dict[str, Any], instance: Any) -> list[tuple[list[Any], str]]:
    """(path, keyword) of each error of ``instance``, in one evaluation."""
    validator = validator_for(schema)
    with evaluating(instance):
        return [(list(e.absolute_path), e.validator) for e in validator.iter_errors(instance)]


def steps(schema: dict[str, Any], instance: Any) -> int:
    """The steps validating ``instance`` spends."""
    validator = validator_for(schema)
    with evaluating(instance) as evaluation:
        list(validator.iter_errors(instance))
    return MAX_STEPS - evaluation.steps_left


# --- equality keys: computed once per request -------------------------------------------


def test_a_value_compared_by_many_keywords_is_walked_once():
    """``const``/``enum``/``uniqueItems`` key a container once per request: comparing a
    large value with many branches costs its size once, not once per branch."""
    value = Walked([Walked([1, 2]), 3])
    branches = [{"const": [[1, 2], n]} for n in range(5)]
    assert errors({"anyOf": branches}, value) == []  # the last branch holds: [[1, 2], 3]
    assert (value.walks, value[0].walks) == (1, 1)


def test_an_enum_is_keyed_once_per_request_however_many_values_it_checks():
    """An ``enum`` of the registry (a list of codes, say) is keyed once per request: an
    array of thousands of values checked against it costs one key per value, not the
    whole enum again for each."""
    codes = Walked(["a", "b", "c"])
    schema = {"items": {"enum": codes}}
    assert errors(schema, ["a", "c", "b", "a"]) == []
    assert errors(schema, ["a", "z"]) == [([1], "enum")]
    assert codes.walks == 2  # once in each request


# --- unevaluatedProperties --------------------------------------------------------------


def test_an_unevaluated_property_is_judged_by_its_own_value():
    """A property no other keyword evaluates is checked against ``unevaluatedProperties``
    with its value: too long here (nothing else would say so)."""
    schema = {"properties": {"a": {}}, "unevaluatedProperties": {"maxLength": 1}}
    assert errors(schema, {"a": "long", "b": "long"}) == [(["b"], "maxLength")]
    assert errors(schema, {"a": "long", "b": "s"}) == []


def test_a_property_a_valid_one_of_branch_declares_is_evaluated():
    schema = {
        "oneOf": [{"properties": {"a": {}}, "required": ["a"]}, {"required": ["b"]}],
        "unevaluatedProperties": False,
    }
    assert errors(schema, {"a": 1}) == []
    assert errors(schema, {"b": 1}) == [(["b"], "unevaluatedProperties")]


def test_an_if_that_fails_without_else_evaluates_nothing():
    schema = {
        "if": {"required": ["k"]},
        "then": {"properties": {"k": {}, "t": {}}},
        "properties": {"a": {}},
        "unevaluatedProperties": False,
    }
    assert errors(schema, {"a": 1}) == []
    assert errors(schema, {"a": 1, "t": 1}) == [(["t"], "unevaluatedProperties")]
    assert errors(schema, {"k": 1, "t": 1}) == []


def test_a_reference_inside_a_referenced_resource_resolves_against_that_resource():
    """``#/$defs/x`` inside the resource ``urn:inner`` is that resource's ``x``, not the
    root's: the properties it declares are the evaluated ones."""
    schema = {
        "$ref": "urn:inner",
        "$defs": {
            "x": {"properties": {"root": {}}},
            "inner": {
                "$id": "urn:inner",
                "$ref": "#/$defs/x",
                "$defs": {"x": {"properties": {"inner": {}}}},
            },
        },
        "unevaluatedProperties": False,
    }
    assert errors(schema, {"inner": 1}) == []
    assert errors(schema, {"root": 1}) == [(["root"], "unevaluatedProperties")]


def test_unevaluated_properties_spends_a_step_per_property_and_per_pattern_tried():
    """Its walk over the properties costs one step a property, plus one a property for
    each ``patternProperties`` pattern tried on its name (the cost model of the module)."""
    schema = {"patternProperties": {"^a": {}, "^b": {}}, "unevaluatedProperties": False}
    instance = {"a1": 1, "b1": 2, "c": 3}
    # patternProperties: 1 + 3 (walker) + 2 x 3 searches; unevaluatedProperties: 1 + 3
    # (walker) + 3 x (1 + 2) for the evaluated keys
    assert steps(schema, instance) == 10 + 4 + 9
    assert steps({"unevaluatedProperties": False}, instance) == 4 + 3


# --- every subschema is evaluated by the bounded validator --------------------------------


def registry(**schema: Any) -> Any:
    return parse_registry(
        {"$schema": DRAFT, "type": "object", **schema}, "r.json", COMMON_PARAMETERS
    )


@pytest.mark.parametrize(
    "declared",
    [
        {"$schema": DRAFT},
        {"$id": "urn:code", "$schema": DRAFT},  # an embedded resource
    ],
)
def test_a_subschema_declaring_schema_keeps_ecma_262_patterns(declared):
    """A subschema declaring ``$schema`` (reached through ``$ref`` or directly) is still
    evaluated with ECMA-262 patterns: ``$`` does not match before a final newline."""
    code = {**declared, "pattern": "^[0-9]{4}$"}
    refused = {
        "field": "c",
        "code": "INVALID_VALUE",
        "message": "must match the pattern ^[0-9]{4}$",
    }
    for found in (
        registry(properties={"c": {"$ref": "#/$defs/code"}}, **{"$defs": {"code": code}}),
        registry(properties={"c": code}),
    ):
        assert found.errors({"c": "1234"}) == []
        assert found.errors({"c": "1234\n"}) == [refused]


def test_a_subschema_declaring_schema_spends_steps():
    """The step budget holds below a ``$schema`` too (the root reached through ``$ref: "#"``
    declares one)."""
    schema = {
        "$schema": DRAFT,
        "properties": {"x": {"$ref": "#"}, "n": {"items": {"type": "integer"}}},
    }
    instance = {"x": {"n": list(range(50))}}
    validator = validator_for(schema)
    with evaluating(instance, steps=40), pytest.raises(TooCostly):
        list(validator.iter_errors(instance))
    with evaluating(instance, steps=200):
        assert list(validator.iter_errors(instance)) == []


# --- stack room -------------------------------------------------------------------------


def nesting_allowed(frames_deeper: int = 0) -> int:
    """The keyword nestings an evaluation started ``frames_deeper`` frames down may use."""
    if frames_deeper:
        return nesting_allowed(frames_deeper - 1)
    with evaluating(None) as evaluation:
        return evaluation.nesting_left


def test_keyword_nesting_is_bounded_by_the_stack_room_left(monkeypatch):
    """Six Python frames a keyword nesting: an evaluation started 60 frames deeper may nest
    10 keywords less; with no room left (200 frames are kept for what recurses without
    nesting keywords) not even one keyword is evaluated: too complex, never a
    RecursionError."""
    assert nesting_allowed(0) - nesting_allowed(60) == 10
    monkeypatch.setattr(sys, "getrecursionlimit", lambda: 150)
    assert nesting_allowed(0) == 0
    with evaluating("x"), pytest.raises(TooCostly):
        list(validator_for({"type": "string"}).iter_errors("x"))


# --- what start-up checks -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("subschema", "problem"),
    [
        ({"pattern": "(?P<n>a)"}, 'pattern "(?P<n>a)" at properties.x.pattern is not an ECMA-262'),
        ({"format": "uri"}, 'format "uri" at properties.x.format is not one the connector checks'),
        ({"$ref": "#/$defs/none"}, 'reference "#/$defs/none" at properties.x.$ref does not'),
    ],
)
def test_start_up_checks_the_subschemas_beside_a_boolean_one(subschema, problem):
    """A boolean subschema (``$defs: {"any": true}``) ends no start-up check: the pattern,
    format and reference beside it are still checked."""
    with pytest.raises(RegistryError) as refused:
        registry(properties={"x": subschema}, **{"$defs": {"any": True}})
    assert problem in str(refused.value)


def test_a_pattern_refused_at_start_up_says_why_as_the_ecma_262_engine_does():
    with pytest.raises(RegexError) as engine:
        regress.Regex("(", "u")
    with pytest.raises(RegistryError) as refused:
        registry(properties={"x": {"pattern": "("}})
    assert str(refused.value).endswith(f"is not an ECMA-262 regular expression ({engine.value})")
    assert str(engine.value)  # a reason, not nothing


def test_too_complex_names_the_parameter_being_evaluated():
    """The step budget runs out in ``z``: the problem names ``z``, not the first parameter."""
    found = registry(
        properties={"a": {"type": "string"}, "z": {"items": {"type": "integer"}}}
    ).errors({"a": "fine", "z": list(range(MAX_STEPS))})
    assert found == [
        {"field": "z", "code": "INVALID_VALUE", "message": "is too complex to validate"}
    ]


# --- the budgets are exact ----------------------------------------------------------------


def test_the_step_budget_allows_exactly_its_steps():
    """A keyword costs one step: a budget of one evaluates it, none refuses it."""
    validator = validator_for({"type": "string"})
    with evaluating("x", steps=1) as evaluation:
        assert list(validator.iter_errors("x")) == []
    assert evaluation.steps_left == 0
    with evaluating("x", steps=0), pytest.raises(TooCostly):
        list(validator.iter_errors("x"))


def test_the_nesting_allowance_allows_exactly_its_nestings(monkeypatch):
    """Room for two nested keyword evaluations: ``properties`` then ``type`` below it fit,
    a third level is too complex."""
    monkeypatch.setattr(schema_keywords, "_nesting_allowed", lambda: 2)
    two = {"properties": {"a": {"type": "string"}}}
    three = {"properties": {"a": {"properties": {"b": {"type": "string"}}}}}
    with evaluating({"a": {"b": "x"}}):
        assert list(validator_for(two).iter_errors({"a": "x"})) == []
    with evaluating({"a": {"b": "x"}}), pytest.raises(TooCostly):
        list(validator_for(three).iter_errors({"a": {"b": "x"}}))
