"""Bounded validation cost (docs/api.md): JSON Schema keywords a value could make expensive.

In-process, against ``tests/hostile_registry.json`` (a registry declaring the risky
keywords) and small registries made here: ``uniqueItems`` with JSON Schema's equality in
linear time, a nesting-depth limit checked before evaluation, integers a double cannot
hold refused before ``multipleOf`` sees them, at most 100 problems listed, the
``unevaluated*`` keywords, ``anyOf``/``oneOf`` over long arrays, ``enum``/``const`` over
deep values, and a step budget for what a registry could still make exponential.
Over HTTP: ``tests/http/test_validation_bounds_http.py``.

The cost is counted, never timed (a loaded machine would make a timing fail): the calls
the interpreter makes (Python functions and built-ins, the same on any machine) and the
validator's own steps. How long the costliest 64 KiB body takes is `make bench`'s to say.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema.exceptions import ValidationError

from toqio_connector.edge.registry_file import load_registry
from toqio_connector.models.errors import BadRequest
from toqio_connector.rules import schema_keywords
from toqio_connector.rules.registry import parse_registry
from toqio_connector.rules.validation import COMMON_PARAMETERS, parse_json_object, validate_create

HOSTILE_REGISTRY = Path(__file__).parents[1] / "hostile_registry.json"
# What the bounds are, as a caller sees them (toqio_connector.rules.bounds holds them).
MAX_DEPTH = 64
TOO_DEEP = "must not be nested more than 64 levels deep"
MORE_PROBLEMS = (
    "Request body is invalid: more than 100 problems were found, the first 100 are listed"
)
TOO_COMPLEX = "is too complex to validate"
LIMIT = 64 * 1024
MAX_STEPS = 40_000  # the step budget of one request
# What "bounded" means here: twice the calls an evaluation that uses up its whole step
# budget makes (the recursive anyOf, ~20 calls a step: ~1.6 million). A quadratic
# uniqueItems over 64 KiB (~50 million comparisons), or an exponential registry without
# the budget, is past it long before it would end; it is stopped there.
CALLS_PER_STEP = 20
WORK = 2 * MAX_STEPS * CALLS_PER_STEP
BASE = {"id": "c1", "apiKey": "k"}


@functools.cache
def hostile():
    return load_registry(HOSTILE_REGISTRY)


def registry_of(properties: dict, **schema) -> object:
    return parse_registry(
        {"type": "object", "properties": properties, **schema}, "test.json", COMMON_PARAMETERS
    )


def outcome(registry, **custom) -> tuple[list[dict], str]:
    """(the problems, the message) of a Create with ``custom``; ([], "") when accepted."""
    try:
        validate_create({**BASE, **custom}, registry)
    except BadRequest as exc:
        return exc.data, exc.message
    return [], ""


def problems(registry, **custom) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in outcome(registry, **custom)[0]}


class TooMuchWork(BaseException):
    """More than ``WORK`` calls: raised inside the code under test, which it stops (a
    BaseException, so that no ``except Exception`` there can take it for its own)."""


@dataclass
class Work:
    found: list[dict]  # the problems ([] when accepted)
    message: str
    calls: int  # Python functions and built-ins called
    steps: int  # the validator's steps, over every evaluation it made


def counted(registry, **custom) -> Work:
    """The outcome of a Create with ``custom`` and the work it took; fails the test past
    ``WORK`` calls, at once."""
    calls = 0
    spent: list[int] = []

    def profile(_frame: object, event: str, _arg: object) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1
            if calls > WORK:
                raise TooMuchWork

    evaluating = schema_keywords.evaluating

    @contextlib.contextmanager
    def counting(root: object, steps: int = schema_keywords.MAX_STEPS) -> Iterator[object]:
        with evaluating(root, steps) as evaluation:
            try:
                yield evaluation
            finally:
                spent.append(steps - evaluation.steps_left)

    previous = sys.getprofile()
    with mock.patch.object(schema_keywords, "evaluating", counting):
        sys.setprofile(profile)
        try:
            found, message = outcome(registry, **custom)
        except TooMuchWork:
            found, message = [], ""
        finally:
            sys.setprofile(previous)
    assert calls <= WORK, f"unbounded: stopped after {WORK:,} calls"
    return Work(found, message, calls, sum(spent))


def size_of(body: dict) -> int:
    return len(json.dumps(body, separators=(",", ":")).encode())


def largest(make, name: str) -> object:
    """``make(n)`` for (about) the largest ``n`` whose Create body stays within 64 KiB:
    sizes grow linearly with ``n``, so two measures give it, then a few steps down."""
    target = LIMIT - 64  # room for a longer id
    small, large = (size_of({**BASE, name: make(n)}) for n in (100, 200))
    n = max(1, int(100 + (target - small) * 100 / max(1, large - small)))
    while size_of({**BASE, name: make(n)}) > target:
        n = int(n * 0.99)
    return make(n)


def nested(depth: int, leaf: object = 0, kind: str = "array") -> object:
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "array" else {"k": value}
    return value


# --- uniqueItems: JSON Schema's equality, linear -----------------------------------------

UNIQUE = registry_of({"list": {"type": "array", "uniqueItems": True}})


@pytest.mark.parametrize(
    ("items", "unique"),
    [
        ([1, 1.0], False),
        ([0, -0.0], False),
        ([True, 1], True),
        ([False, 0], True),
        ([None, False], True),
        (["1", 1], True),
        ([{"a": 1, "b": [2]}, {"b": [2.0], "a": 1}], False),  # key order irrelevant
        ([[1, 2], [2, 1]], True),  # arrays ordered
        ([[[1.0]], [[1]]], False),
        ([{"a": True}, {"a": 1}], True),
        ([{}, []], True),
        ([[], [[]]], True),
        ([9007199254740993, 9007199254740992.0], True),  # exact, as JSON numbers are
        ([{"a": [{"b": None}]}, {"a": [{"b": None}]}], False),
        ([1, "a", [1], {"a": 1}, None, True, 2.5], True),
    ],
)
def test_unique_items_uses_json_schema_equality(items, unique):
    assert problems(UNIQUE, list=items) == (set() if unique else {("list", "INVALID_VALUE")})


json_values = st.recursive(
    st.sampled_from([0, 1, 1.0, -0.0, 2.5, True, False, None, "1", "a", ""]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b"]), inner, max_size=2)
    ),
    max_leaves=6,
)


def reference_key(value: object) -> object:
    """A second, independent statement of JSON Schema equality: a canonical form."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, int | float):
        return ("number", value.as_integer_ratio())
    if isinstance(value, list):
        return ("array", tuple(reference_key(v) for v in value))
    return ("object", tuple(sorted((k, reference_key(v)) for k, v in value.items())))


@given(st.lists(json_values, max_size=8))
def test_unique_items_agrees_with_a_canonical_form(items):
    keys = [reference_key(item) for item in items]
    unique = len(set(keys)) == len(keys)
    assert problems(UNIQUE, list=items) == (set() if unique else {("list", "INVALID_VALUE")})


@pytest.mark.parametrize(
    "make",
    [
        lambda n: [[i] if i % 3 == 0 else ({"a": i} if i % 3 == 1 else i) for i in range(n)],
        lambda n: [{"a": i, "b": [i, {"c": str(i)}]} for i in range(n)],
        lambda n: [nested(20, i) for i in range(n)],
        lambda n: [[i, [i, [i]]] for i in range(n)],
    ],
    ids=["mixed", "objects", "deep-arrays", "nested-arrays"],
)
@pytest.mark.parametrize("duplicate", [False, True])
def test_unique_items_over_64_kib_is_bounded_work(make, duplicate):
    items = largest(make, "uniqueList")
    if duplicate:
        items = [*items[:-1], json.loads(json.dumps(items[0]))]
    done = counted(hostile(), uniqueList=items)
    expected = [("uniqueList", "INVALID_VALUE")] if duplicate else []
    assert [(e["field"], e["code"]) for e in done.found] == expected


# --- depth: measured before any keyword evaluates the value -------------------------------


@pytest.mark.parametrize("name", ["uniqueList", "tree", "level", "fixed", "choice", "sequence"])
@pytest.mark.parametrize("kind", ["array", "object"])
def test_a_value_nested_deeper_than_the_limit_is_refused_before_evaluation(name, kind):
    deep = nested(MAX_DEPTH + 1, kind=kind)
    done = counted(hostile(), **{name: [deep, deep] if name == "uniqueList" else deep})
    assert done.found == [{"field": name, "code": "INVALID_VALUE", "message": TOO_DEEP}]
    assert done.steps == counted(hostile()).steps  # not a step spent on the value


@pytest.mark.parametrize("depth", [300, 900])
def test_a_kilobyte_of_nesting_inside_unique_items_is_a_400_not_a_recursion_error(depth):
    # Unsortable (objects): jsonschema compared them pairwise, recursively.
    twins = [nested(depth, kind="object"), nested(depth, kind="object")]
    assert problems(hostile(), uniqueList=twins) == {("uniqueList", "INVALID_VALUE")}


def test_nesting_at_the_limit_is_evaluated():
    assert problems(UNIQUE, list=[nested(MAX_DEPTH - 1), nested(MAX_DEPTH - 1)]) == {
        ("list", "INVALID_VALUE")
    }
    assert problems(UNIQUE, list=[nested(MAX_DEPTH - 1), 1]) == set()


def test_a_value_out_of_bounds_is_not_also_reported_missing():
    registry = registry_of({"tree": {}}, required=["tree"])
    found, _ = outcome(registry, tree=nested(MAX_DEPTH + 1))
    assert found == [{"field": "tree", "code": "INVALID_VALUE", "message": TOO_DEEP}]


# --- numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize("digits", [310, 1000, 4000, 5000])
def test_an_integer_no_double_can_hold_is_refused_at_parse_time(digits):
    with pytest.raises(BadRequest, match="number out of range"):
        parse_json_object('{"id": "c1", "apiKey": "k", "step": 1' + "0" * (digits - 1) + "}")


def test_the_largest_integers_a_double_holds_still_parse():
    largest_int = int(1.7976931348623157e308)
    assert parse_json_object(f'{{"step": {largest_int}}}') == {"step": largest_int}
    assert parse_json_object(f'{{"step": -{largest_int}}}') == {"step": -largest_int}


@pytest.mark.parametrize(
    "value", [10**4000, -(10**400), float("inf")], ids=["1e4000", "-1e400", "inf"]
)
def test_out_of_range_numbers_from_other_callers_never_reach_multiple_of(value):
    """toqio-admin parses values itself; validate_create refuses them all the same."""
    found, _ = outcome(hostile(), step=value)
    assert [(e["field"], e["code"]) for e in found] == [("step", "INVALID_VALUE")]


@pytest.mark.parametrize(
    ("value", "valid"),
    [(10**300, True), (-(10**308), None), (1.7e308, None), (0.05, True), (0.015, False)],
    ids=["1e300", "-1e308", "1.7e308", "0.05", "0.015"],
)
def test_multiple_of_a_fraction_over_the_whole_range(value, valid):
    """The quotient overflows a double near the top of the range: jsonschema then divides
    exactly (the double nearest 0.01 is not 1/100, so either verdict is its own)."""
    found = problems(hostile(), step=value)
    if valid is not None:
        assert found == (set() if valid else {("step", "INVALID_VALUE")})
    else:
        assert found <= {("step", "INVALID_VALUE")}


# --- at most 100 problems, each the size of an ordinary error ------------------------------


def test_more_than_100_problems_lists_100_and_says_so():
    found, message = outcome(hostile(), labels={f"K{i}": 1 for i in range(5000)})
    assert len(found) == 100
    assert message == MORE_PROBLEMS


def test_more_than_100_unknown_parameters_lists_100_and_says_so():
    with pytest.raises(BadRequest) as caught:
        validate_create({**BASE, **{f"u{i}": 1 for i in range(5000)}}, hostile())
    assert len(caught.value.data) == 100
    assert caught.value.message == MORE_PROBLEMS


def test_exactly_100_problems_are_all_listed_without_more():
    found, message = outcome(hostile(), labels={f"K{i}": 1 for i in range(100)})
    assert len(found) == 100
    assert message == "Request body is invalid"


def test_100_problems_of_a_64_kib_request_stop_early_and_stay_small(monkeypatch):
    labels = largest(lambda n: {f"K{i}": i for i in range(n)}, "labels")
    assert len(labels) > 5000
    made = []  # every problem jsonschema makes, listed or not
    initial = ValidationError.__init__

    def making(error, *args, **kwargs):
        made.append(error)
        initial(error, *args, **kwargs)

    monkeypatch.setattr(ValidationError, "__init__", making)
    done = counted(hostile(), labels=labels)
    assert (len(done.found), done.message) == (100, MORE_PROBLEMS)
    assert len(made) == 101  # the 101st says there are more: evaluation stops there


def test_a_long_key_is_shortened_in_every_field_it_names():
    key = "K" * 30_000
    found, _ = outcome(hostile(), strict={key: 1}, labels={key: [1] * 100})
    assert found and all(len(e["field"]) <= 200 for e in found)
    assert len(json.dumps(found)) < 60_000  # the request is 60 KB: never ten times more


def test_errors_below_a_secret_parameter_name_only_the_parameter():
    registry = registry_of(
        {
            "vault": {
                "type": "object",
                "writeOnly": True,
                "additionalProperties": {"type": "string"},
            }
        }
    )
    found, _ = outcome(registry, vault={"SECRET-KEY-NAME": 1})
    assert found == [{"field": "vault", "code": "INVALID_VALUE", "message": "is not valid"}]


# --- the other keyword classes: linear, or stopped by the step budget ----------------------


CASES = {
    "unevaluatedProperties, valid": ("strict", lambda n: {f"x-{i}": i for i in range(n)}),
    "unevaluatedProperties, unknown keys": ("strict", lambda n: {f"y{i}": i for i in range(n)}),
    "patternProperties": ("labels", lambda n: {f"k{i}": "v" for i in range(n)}),
    "unevaluatedItems and contains": ("sequence", lambda n: ["s", *range(n)]),
    "unevaluatedItems, unevaluated": ("sequence", lambda n: ["s", *(["x"] * n), 1]),
    "anyOf/oneOf over a long array": ("choice", lambda n: [None] * n),
    "anyOf over nested arrays": ("choice", lambda n: [[]] * n),
    "recursive anyOf, wide": ("tree", lambda n: [[i, str(i)] for i in range(n)]),
    "enum over deep values": ("level", lambda n: {"three": [nested(40), *range(n)]}),
    "const over deep values": ("fixed", lambda n: {"a": [1, {"b": [nested(40)] * n}]}),
    "format regex, invalid": ("expression", lambda n: "(" * n),
    "format regex, costly to compile": ("expression", lambda n: "\\p{L}" * n),
}


@pytest.mark.parametrize(("name", "make"), CASES.values(), ids=CASES)
def test_each_keyword_class_at_64_kib_is_bounded_work(name, make):
    value = largest(make, name)
    done = counted(hostile(), **{name: value})
    assert len(done.found) <= 100
    if done.steps > MAX_STEPS:  # the budget ran out: the parameter is refused as such
        assert done.found == [{"field": name, "code": "INVALID_VALUE", "message": TOO_COMPLEX}]


@pytest.mark.parametrize("depth", [12, 30, 64])
def test_an_exponential_registry_is_stopped_by_the_step_budget(depth):
    """anyOf branches recursing through $ref with unevaluatedProperties: each level
    evaluates the level below several times. A 30-level object is ~2^30 evaluations."""
    value = nested(depth, kind="object")
    done = counted(hostile(), tree=value)
    assert done.found == [{"field": "tree", "code": "INVALID_VALUE", "message": TOO_COMPLEX}]


def test_in_place_applicators_at_every_level_cannot_exhaust_the_stack():
    """allOf/anyOf/oneOf/if/not/$ref at each level: ~25 Python frames per level of the
    value, so 64 levels would pass Python's recursion limit."""
    registry = registry_of(
        {"p": {"$ref": "#/$defs/n"}},
        **{
            "$defs": {
                "n": {"allOf": [{"anyOf": [{"oneOf": [{"$ref": "#/$defs/m"}]}]}]},
                "m": {
                    "if": {"type": "array"},
                    "then": {"items": {"$ref": "#/$defs/n"}, "unevaluatedItems": False},
                    "else": {"not": {"type": "object"}},
                },
            }
        },
    )
    assert problems(registry, p=nested(8, "x")) == set()
    done = counted(registry, p=nested(MAX_DEPTH, "x"))
    assert done.found == [{"field": "p", "code": "INVALID_VALUE", "message": TOO_COMPLEX}]


# --- unevaluated*, contains, anyOf/oneOf: still JSON Schema's semantics -------------------


@pytest.mark.parametrize(
    ("custom", "expected"),
    [
        ({"strict": {"a": 1, "x-1": True}}, set()),
        ({"strict": {"a": 1, "b": 2}}, {("strict.b", "UNKNOWN_PARAMETER")}),
        ({"strict": {"x-1\n": 1}}, {("strict.x-1\n", "UNKNOWN_PARAMETER")}),
        ({"strict": {"a": "1"}}, {("strict.a", "INVALID_TYPE")}),
        ({"sequence": ["s", 1, 2]}, set()),
        ({"sequence": ["s", 1, "t"]}, {("sequence", "INVALID_VALUE")}),
        ({"sequence": ["s"]}, {("sequence", "INVALID_VALUE")}),
        ({"choice": [1, "a"]}, set()),
        ({"choice": [True, []]}, set()),
        ({"choice": [1, True]}, {("choice", "INVALID_VALUE")}),
        ({"choice": {"any": "thing"}}, set()),
        ({"tree": {"a": ["x", 1, {"b": None}]}}, set()),
        ({"tree": ["x", "x"]}, {("tree", "INVALID_VALUE")}),
        ({"level": {"three": [3.0, 3.5]}}, set()),
        ({"level": [4, [4.0]]}, set()),
        ({"level": [4, [4, 4]]}, {("level", "INVALID_VALUE")}),
        ({"level": True}, {("level", "INVALID_VALUE")}),
        ({"fixed": {"a": [1.0, {"b": None}]}}, set()),
        ({"fixed": {"a": [True, {"b": None}]}}, {("fixed", "INVALID_VALUE")}),
    ],
)
def test_replaced_keywords_keep_json_schema_semantics(custom, expected):
    assert problems(hostile(), **custom) == expected


def test_one_of_valid_under_two_branches_is_refused():
    registry = registry_of({"n": {"oneOf": [{"type": "integer"}, {"minimum": 0}]}})
    assert problems(registry, n=-1) == set()
    assert problems(registry, n=1) == {("n", "INVALID_VALUE")}


# --- the stored form fits where it is stored -------------------------------------------------

NUMBERS = {"type": "array", "items": {"type": "number"}}


@pytest.mark.parametrize("secret", [True, False], ids=["secret", "public"])
def test_a_body_that_grows_past_64_kib_once_normalised_is_refused(secret):
    """1E15 (4 bytes) is stored as 1000000000000000.0 (18): a 60 KiB body would need a
    250 KiB secret (Secrets Manager holds 64 KiB) or event detail."""
    registry = registry_of({"blob": {**NUMBERS, "writeOnly": secret}, "small": {"type": "string"}})
    body = {**BASE, "small": "s", "blob": [1e15] * 12_000}
    raw = json.dumps(body, separators=(",", ":")).replace("1000000000000000.0", "1E15")
    assert len(raw.encode()) <= LIMIT
    try:
        validate_create(parse_json_object(raw.encode()), registry)
    except BadRequest as exc:
        assert exc.data == [
            {
                "field": "blob",
                "code": "TOO_LONG",
                "message": "makes the customer larger than 64 KiB once stored",
            }
        ]
    else:
        raise AssertionError("accepted a customer too large to store")


def test_a_wide_body_within_the_step_budget_is_accepted_and_stays_as_sent():
    """An array of 19,000 numbers (38 KiB) checked item by item fits the step budget."""
    registry = registry_of({"blob": {**NUMBERS, "writeOnly": True}})
    body = {**BASE, "blob": [1] * 19_000}
    assert len(json.dumps(body, separators=(",", ":")).encode()) <= LIMIT
    assert validate_create(body, registry).secrets.get_secret_value()["blob"] == [1] * 19_000
    wider = {**BASE, "blob": [1] * 30_000}  # past it: refused as such, not slowly
    assert outcome(registry, blob=wider["blob"])[0][0]["message"].endswith(TOO_COMPLEX)


def test_a_400_for_long_keys_of_wide_characters_stays_smaller_than_its_request():
    """Field names are shortened in bytes: 101 unknown keys of 160 emoji each (a 64 KiB
    request) get a 400 smaller than the request, not 70 KiB."""
    body = {**BASE, **{f"{n:03d}" + "\U0001f600" * 160: 1 for n in range(101)}}
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    assert len(raw) <= LIMIT
    problems, message = outcome(
        load_registry(None), **{k: v for k, v in body.items() if k not in BASE}
    )
    reply = json.dumps(problems, ensure_ascii=False).encode()
    assert len(problems) == 100 and message == MORE_PROBLEMS
    assert all(len(p["field"].encode()) <= 200 for p in problems)
    assert len(reply) < len(raw) / 2
