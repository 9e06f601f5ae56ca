"""Registry patterns are ECMA-262 regular expressions (docs/api.md), not Python's.

``pattern``, ``patternProperties`` (in the keyword itself and where ``additionalProperties``
and ``unevaluatedProperties`` decide what they matched) and ``format: regex``. Python's
``re`` lets ``$`` match before a final newline, ``\\d`` match any Unicode digit and ``.``
match ``\\r`` and U+2028; ECMA-262 does none of these. A registry pattern that ECMA-262
does not accept stops the function at start-up, naming the pattern and where it is.
Over HTTP: ``tests/test_validation_bounds_http.py``.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.harness.registries import EXAMPLE_REGISTRY
from tests.unit.test_validation_bounds import hostile, problems, registry_of
from toqio_connector.edge.registry_file import load_registry
from toqio_connector.rules.registry import RegistryError, parse_registry
from toqio_connector.rules.validation import COMMON_PARAMETERS

LINE_TERMINATORS = "\n\r\u2028\u2029"
OTHER_DIGITS = "\u0661\u0968\uff14\U0001d7d8"  # Arabic-Indic 1, Devanagari 4, fullwidth 4, 𝟘


@pytest.mark.parametrize(
    ("name", "value", "valid"),
    [
        ("code", "1234", True),
        ("code", "1234\n", False),  # Python's $ matches before a final newline
        ("code", "\n1234", False),
        ("code", "12\n34", False),
        ("code", "1234\r", False),
        ("code", "1234\u2028", False),
        ("code", "\u0661\u0662\u0663\u0664", False),
        ("digits", "0123456789", True),
        ("digits", "12\u0663", False),  # ECMA's \d is [0-9]
        ("digits", "\uff14\uff12", False),
        ("digits", "1\n", False),
        ("line", "any text, ünïcødé, 🔑", True),
        ("line", "a\rb", False),  # ECMA's . matches no line terminator
        ("line", "a\u2028b", False),
        ("line", "a\u2029b", False),
        ("line", "a\nb", False),
        ("line", "a\u0085b", True),  # NEL is not an ECMA line terminator
        ("line", "", False),
    ],
)
def test_pattern_is_ecma_262(name, value, valid):
    assert problems(hostile(), **{name: value}) == (set() if valid else {(name, "INVALID_VALUE")})


def test_the_example_registry_refuses_a_merchant_code_with_a_final_newline():
    registry = load_registry(EXAMPLE_REGISTRY)
    assert problems(registry, merchantCategoryCode="5411") == set()
    assert problems(registry, merchantCategoryCode="5411\n") == {
        ("merchantCategoryCode", "INVALID_VALUE")
    }
    assert problems(
        registry, merchantCategoryCode="5411", settlementAccount={"iban": "GB33BUKB2020155555\n"}
    ) == {("settlementAccount.iban", "INVALID_VALUE")}


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"abc": "x"}, set()),
        ({"abc\n": "x"}, {("labels.abc\n", "UNKNOWN_PARAMETER")}),  # additionalProperties
        ({"ab\u2028": "x"}, {("labels.ab\u2028", "UNKNOWN_PARAMETER")}),
        ({"abc": 1}, {("labels.abc", "INVALID_TYPE")}),  # patternProperties applies
        ({"abc\n": 1}, {("labels.abc\n", "UNKNOWN_PARAMETER")}),  # ... and here it does not
    ],
)
def test_pattern_properties_and_additional_properties_are_ecma_262(labels, expected):
    assert problems(hostile(), labels=labels) == expected


@pytest.mark.parametrize(
    ("strict", "expected"),
    [
        ({"x-12": None}, set()),
        ({"x-12\n": None}, {("strict.x-12\n", "UNKNOWN_PARAMETER")}),  # unevaluatedProperties
        ({"x-\u0661": None}, {("strict.x-\u0661", "UNKNOWN_PARAMETER")}),
    ],
)
def test_unevaluated_properties_judges_pattern_properties_as_ecma_262(strict, expected):
    assert problems(hostile(), strict=strict) == expected


@pytest.mark.parametrize(
    ("expression", "valid"),
    [
        ("^[a-z]+$", True),
        (r"\p{L}+", True),  # ECMA-262 with the u flag; Python's re refuses \p
        (r"(?<year>\d{4})", True),
        (r"(?P<year>\d{4})", False),  # Python's named groups are not ECMA-262
        ("(?i)abc", False),  # nor are inline flags
        (r"\Z", False),
        ("(", False),
        ("(" * 30_000, False),  # Python's re.compile: RecursionError
    ],
    ids=lambda value: repr(value)[:24] if isinstance(value, str) else str(value),
)
def test_format_regex_is_ecma_262(expression, valid):
    found = problems(hostile(), expression=expression)
    assert found == (set() if valid else {("expression", "INVALID_VALUE")})


# --- generated: line terminators, non-ASCII digits ---------------------------------------

pattern_text = st.text(
    alphabet=st.sampled_from([*"0123456789ab ", *LINE_TERMINATORS, *OTHER_DIGITS, "é"]),
    max_size=8,
)


def ecma_valid(name: str, value: str) -> bool:
    """The three hostile-registry patterns, restated without regular-expression engines."""
    if name == "code":
        return len(value) == 4 and all(c in "0123456789" for c in value)
    if name == "digits":
        return bool(value) and all(c in "0123456789" for c in value)
    return bool(value) and not any(c in LINE_TERMINATORS for c in value)


@given(name=st.sampled_from(["code", "digits", "line"]), value=pattern_text)
def test_generated_strings_match_exactly_as_ecma_262_says(name, value):
    expected = set() if ecma_valid(name, value) else {(name, "INVALID_VALUE")}
    assert problems(hostile(), **{name: value}) == expected


# --- the registry refuses patterns ECMA-262 does not accept, at start-up ----------------------


@pytest.mark.parametrize(
    ("schema", "pattern", "where"),
    [
        ({"properties": {"x": {"pattern": "(?P<n>a)"}}}, "(?P<n>a)", "properties.x.pattern"),
        ({"properties": {"x": {"pattern": "(?i)abc"}}}, "(?i)abc", "properties.x.pattern"),
        (
            {"properties": {"x": {"type": "string", "pattern": "[a-z"}}},
            "[a-z",
            "properties.x.pattern",
        ),
        (
            {"properties": {"x": {"patternProperties": {"^a\\Z": {}}}}},
            "^a\\Z",
            "properties.x.patternProperties",
        ),
        (
            {
                "properties": {"x": {"$ref": "#/$defs/y"}},
                "$defs": {"y": {"items": {"anyOf": [{"pattern": "a{2,1}"}]}}},
            },
            "a{2,1}",
            "$defs.y.items.anyOf[0].pattern",
        ),
        (
            {
                "properties": {"x": {}},
                "$defs": {"unused": {"patternProperties": {"(?<=a": {}}}},
            },
            "(?<=a",
            "$defs.unused.patternProperties",
        ),
    ],
)
def test_a_pattern_ecma_262_refuses_stops_the_registry(tmp_path, schema, pattern, where):
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(schema))
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    message = str(caught.value)
    assert str(path) in message
    assert json.dumps(pattern) in message
    assert f" at {where} " in message
    assert "not an ECMA-262 regular expression" in message


def test_a_pattern_only_ecma_262_accepts_is_a_valid_registry_pattern():
    registry = registry_of({"name": {"pattern": "^\\p{Lu}\\p{Ll}+$"}})
    assert problems(registry, name="Émile") == set()
    assert problems(registry, name="émile") == {("name", "INVALID_VALUE")}


def test_values_that_only_look_like_patterns_are_not_checked():
    registry = parse_registry(
        {
            "properties": {
                "x": {"const": {"pattern": "("}, "enum": [{"pattern": "("}]},
                "pattern": {"type": "string"},
            }
        },
        "t",
        COMMON_PARAMETERS,
    )
    assert set(registry.properties) == {"x", "pattern"}


def test_every_shipped_registry_pattern_is_ecma_262():
    for path in (EXAMPLE_REGISTRY, EXAMPLE_REGISTRY.parent / "custom_parameters.json"):
        load_registry(path)


def test_python_and_ecma_disagree_on_these_cases():
    """The reason for all of the above, stated once: Python's re would accept them."""
    assert re.search(r"^[0-9]{4}$", "1234\n")
    assert re.search(r"^\d+$", "\u0661\u0662")
    assert re.search(r"^.+$", "a\u2028b")
    assert problems(registry_of({"p": {"pattern": "^[0-9]{4}$"}}), p="1234\n") == {
        ("p", "INVALID_VALUE")
    }
