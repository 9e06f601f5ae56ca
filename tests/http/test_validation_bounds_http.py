"""Over real HTTP: any body up to 64 KiB is answered 200 or 4xx, never 5xx.

The runner serves ``tests/hostile_registry.json``, a registry declaring the keywords
whose cost a value decides (``uniqueItems`` over mixed types, ``unevaluatedProperties``
and ``unevaluatedItems``, ``contains``, nested ``anyOf``/``oneOf`` behind a recursive
``$ref``, ``patternProperties``, ``multipleOf``, ``enum``/``const``, ``format: regex``)
and ECMA-262 patterns. Hand-made 64 KiB bodies aim at each keyword; generated ones
(Hypothesis, derandomized, generated first and then sent) cover uniqueness over mixed
types, objects and nested arrays, nesting up to what 64 KiB allows, and patterns against
``\\n``, ``\\r``, U+2028 and non-ASCII digits.

Every response: never 5xx, Toqio's envelope, at most 100 problems, never ten times the
size of a request of 4 KiB or more. That the work is bounded is counted in
``tests/unit/test_validation_bounds.py``; here an answer must only come at all, within a
generous ``HANG_GUARD`` (a timing would fail on a loaded machine). How long the slowest
64 KiB body takes, quiet and beside CPU-bound processes, is `make bench`'s figure; the
slowest response here is printed in the terminal summary, for information.
"""

from __future__ import annotations

import functools
import http.client
import itertools
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.harness.http import RunningConnector
from tests.unit.test_ecma_patterns import ecma_valid, pattern_text
from tests.unit.test_validation_bounds import (
    MAX_DEPTH,
    MORE_PROBLEMS,
    TOO_DEEP,
    json_values,
    largest,
    nested,
    reference_key,
)
from toqio_local import devkeys

HOSTILE_REGISTRY = Path(__file__).parents[1] / "hostile_registry.json"
LIMIT = 64 * 1024
KiB = 1024
HANG_GUARD = 30.0  # seconds: not what is tested (a second is promised), only a guard


# --- timings, shown in the terminal summary ---------------------------------------------


@dataclass(eq=False)  # a pytest plugin: hashable by identity
class Timings:
    count: int = 0
    slowest: float = 0.0
    slowest_label: str = ""
    slowest_64k: float = 0.0
    sizes: list[int] = field(default_factory=list)

    def record(self, label: str, size: int, seconds: float) -> None:
        self.count += 1
        if seconds > self.slowest:
            self.slowest, self.slowest_label = seconds, label
        if size > LIMIT - 4 * KiB:
            self.slowest_64k = max(self.slowest_64k, seconds)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.count:
            terminalreporter.write_line(
                f"validation bounds over HTTP: {self.count} requests, slowest"
                f" {self.slowest * 1000:.0f} ms ({self.slowest_label}); slowest body of"
                f" 60-64 KiB {self.slowest_64k * 1000:.0f} ms (for information: `make bench`"
                " measures it against its 1000 ms)"
            )


TIMINGS = Timings()


@pytest.fixture(scope="module")
def local(request):
    plugins = request.config.pluginmanager
    if not plugins.is_registered(TIMINGS):
        plugins.register(TIMINGS, "validation-bounds-timings")
    runner = RunningConnector({"CUSTOM_PARAMETERS_FILE": str(HOSTILE_REGISTRY)})
    yield runner
    runner.stop()


# --- one request ------------------------------------------------------------------------

_ids = itertools.count()
REFUSED_ID = "vb-refused"  # the id of every request expected to be refused: none is stored


@functools.cache
def _signing_key() -> Any:
    return serialization.load_pem_private_key(devkeys.private_key_pem(), None)


def token(customer_id: str) -> str:
    """A development-key token (devkeys.token parses the PEM on each call: ~45 ms)."""
    return jwt.encode(devkeys.claims(customer_id), _signing_key(), algorithm="RS256")


@dataclass
class Answer:
    status: int
    body: Any
    raw: bytes
    seconds: float
    sent: int

    def fields(self) -> set[tuple[str, str]]:
        problems = self.body.get("data") if self.status != 200 else None
        return {(e["field"], e["code"]) for e in problems or []}


def create(local: RunningConnector, custom: dict[str, Any], label: str) -> Answer:
    """POST a Create for a new customer with ``custom``; check what every answer must be."""
    customer_id = f"vb-{next(_ids)}"
    body = json.dumps({"id": customer_id, "apiKey": "k", **custom}, separators=(",", ":"))
    return send(local, body.encode(), customer_id, label)


def send(local: RunningConnector, body: bytes, customer_id: str, label: str) -> Answer:
    assert len(body) <= LIMIT, (label, len(body))
    connection = http.client.HTTPConnection("127.0.0.1", local.api_port, timeout=HANG_GUARD)
    headers = {
        "Authorization": "Bearer " + token(customer_id),
        "Content-Type": "application/json",
    }
    try:
        start = time.perf_counter()
        connection.request("POST", "/customers", body, headers)
        response = connection.getresponse()
        raw = response.read()
        seconds = time.perf_counter() - start
    finally:
        connection.close()
    TIMINGS.record(label, len(body), seconds)
    answer = Answer(response.status, json.loads(raw), raw, seconds, len(body))
    problems = what_is_wrong(answer)
    assert not problems, f"{label}: {problems}: {raw[:300]!r}"
    return answer


def what_is_wrong(answer: Answer) -> list[str]:
    wrong = []
    if answer.status >= 500:
        wrong.append(f"{answer.status}")
    if answer.body.get("httpStatus") != answer.status:
        wrong.append("httpStatus differs from the status")
    if answer.status == 400 and len(answer.body.get("data") or []) > 100:
        wrong.append(f"{len(answer.body['data'])} problems listed")
    if answer.sent >= 4 * KiB and len(answer.raw) > 10 * answer.sent:
        wrong.append(f"a {len(answer.raw)}-byte answer to a {answer.sent}-byte request")
    return wrong


# --- hand-made: 64 KiB aimed at each keyword --------------------------------------------


def mixed(n: int) -> list:
    return [[i] if i % 3 == 0 else ({"a": i, "b": [i]} if i % 3 == 1 else i) for i in range(n)]


def with_duplicate(items: list) -> list:
    copy = json.loads(json.dumps(items[1]))
    return [*items[:-1], dict(reversed(copy.items()))]  # the same object, keys reordered


# name -> (parameter, value, statuses, problems that must be listed (field, code))
CASES: dict[str, tuple[str, Any, set[int], set[tuple[str, str]]]] = {
    "uniqueItems, mixed types": ("uniqueList", lambda: largest(mixed, "uniqueList"), {200}, set()),
    "uniqueItems, a duplicate object last": (
        "uniqueList",
        lambda: with_duplicate(largest(mixed, "uniqueList")),
        {400},
        {("uniqueList", "INVALID_VALUE")},
    ),
    "uniqueItems, nested arrays": (
        "uniqueList",
        lambda: largest(lambda n: [[[i, [i]]] for i in range(n)], "uniqueList"),
        {200},
        set(),
    ),
    "uniqueItems, twin objects 300 deep": (
        "uniqueList",
        lambda: [nested(300, kind="object"), nested(300, kind="object")],
        {400},
        {("uniqueList", "INVALID_VALUE")},
    ),
    "recursive anyOf, 300 deep": (
        "tree",
        lambda: nested(300, "x"),
        {400},
        {("tree", "INVALID_VALUE")},
    ),
    "recursive anyOf with unevaluatedProperties, exponential": (
        "tree",
        lambda: nested(30, kind="object"),
        {400},
        {("tree", "INVALID_VALUE")},
    ),
    "recursive anyOf, wide": (
        "tree",
        lambda: largest(lambda n: [[i, str(i)] for i in range(n)], "tree"),
        {200, 400},
        set(),
    ),
    "unevaluatedProperties over pattern keys": (
        "strict",
        lambda: largest(lambda n: {f"x-{i}": i for i in range(n)}, "strict"),
        {200},
        set(),
    ),
    "unevaluatedProperties, thousands unknown": (
        "strict",
        lambda: largest(lambda n: {f"y{i}": i for i in range(n)}, "strict"),
        {400},
        set(),
    ),
    "patternProperties with additionalProperties false": (
        "labels",
        lambda: largest(lambda n: {f"K{i}": "v" for i in range(n)}, "labels"),
        {400},
        set(),
    ),
    "contains and unevaluatedItems": (
        "sequence",
        lambda: largest(lambda n: ["s", *range(n)], "sequence"),
        {200, 400},
        set(),
    ),
    "anyOf/oneOf over a long array": (
        "choice",
        lambda: largest(lambda n: [None] * n, "choice"),
        {400},
        {("choice", "INVALID_VALUE")},
    ),
    "multipleOf, a 4000-digit integer": ("step", lambda: 10**3999, {400}, set()),
    "enum over deep values": (
        "level",
        lambda: {"three": [nested(60, kind="object")] * 150},
        {400},
        {("level", "INVALID_VALUE")},
    ),
    "format regex, 30000 open parentheses": (
        "expression",
        lambda: "(" * 30_000,
        {400},
        {("expression", "INVALID_VALUE")},
    ),
}


@pytest.mark.parametrize(("name", "make", "statuses", "listed"), CASES.values(), ids=CASES)
def test_a_64_kib_value_aimed_at_a_keyword_is_answered(
    request, local, name, make, statuses, listed
):
    answer = create(local, {name: make()}, f"hand-made, {request.node.callspec.id}")
    assert answer.status in statuses, answer.raw[:300]
    assert listed <= answer.fields()


def test_thousands_of_problems_list_100_and_say_so(local):
    labels = largest(lambda n: {f"K{i}": i for i in range(n)}, "labels")
    answer = create(local, {"labels": labels}, "hand-made 100 problems")
    assert answer.status == 400
    assert len(answer.body["data"]) == 100
    assert answer.body["message"] == MORE_PROBLEMS
    assert len(answer.raw) < answer.sent


def test_thousands_of_unknown_parameters_list_100_and_say_so(local):
    customer_id = f"vb-{next(_ids)}"
    body = {"id": customer_id, "apiKey": "k"}
    body.update((f"u{i}", 1) for i in range(5000))
    text = json.dumps(body, separators=(",", ":"))
    answer = send(local, text.encode(), customer_id, "hand-made unknown keys")
    assert (answer.status, len(answer.body["data"])) == (400, 100)
    assert answer.body["message"] == MORE_PROBLEMS


# --- generated --------------------------------------------------------------------------


def generate(strategy: Any, count: int) -> list[Any]:
    """``count`` examples of ``strategy``, the same on every run."""
    examples: list[Any] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Any) -> None:
        examples.append(example)

    collect()
    return examples


def random_item(i: int, rng: random.Random) -> Any:
    """A value unique by ``i``, of a shape picked at random (at most ~15 bytes, so that
    4000 of them fit in a body): scalar, object, nested arrays."""
    shape = rng.randrange(6)
    if shape == 0:
        return i
    if shape == 1:
        return str(i)
    if shape == 2:
        return {"n": i} if rng.random() < 0.5 else {"n": [i]}
    if shape == 3:
        return [[i]]
    if shape == 4:
        return nested(rng.randrange(1, 4), i)
    return {"a": [i]}


def equal_copy(value: Any, rng: random.Random) -> Any:
    """A different spelling of the same JSON Schema value: keys reordered, 1 as 1.0."""
    if isinstance(value, dict):
        items = [(k, equal_copy(v, rng)) for k, v in value.items()]
        rng.shuffle(items)
        return dict(items)
    if isinstance(value, list):
        return [equal_copy(v, rng) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**52:
        return float(value)
    return value


@st.composite
def unique_item_arrays(draw: Any) -> tuple[list, bool]:
    """(an array, whether its items are unique): long arrays of mixed shapes, or short
    ones over a small pool of values where JSON Schema's equality decides."""
    if draw(st.booleans()):  # (Hypothesis starts from False: the long arrays)
        items = draw(st.lists(json_values, max_size=8))
        keys = [reference_key(item) for item in items]
        return items, len(set(keys)) == len(keys)
    rng = random.Random(draw(st.integers(0, 2**32)))  # noqa: S311 - test data, seeded
    length = rng.choice([4000, 3000, 2000, 400, 40, 2]) + rng.randrange(50)
    items = [random_item(i, rng) for i in range(length)]
    if items and draw(st.booleans()):
        copy = equal_copy(rng.choice(items), rng)
        items.insert(rng.randrange(len(items) + 1), copy)
        return items, False
    return items, True


def test_generated_unique_items_over_mixed_types_objects_and_nested_arrays(local):
    for items, unique in generate(unique_item_arrays(), 60):
        answer = create(local, {"uniqueList": items}, f"uniqueItems, {len(items)} items")
        expected = (200, set()) if unique else (400, {("uniqueList", "INVALID_VALUE")})
        assert (answer.status, answer.fields()) == expected, items[:5]


@st.composite
def deep_values(draw: Any) -> tuple[str, int, str]:
    """(parameter, depth, the value's JSON text): written out, as no encoder nests so deep."""
    name = draw(st.sampled_from(["uniqueList", "tree", "level", "fixed", "choice", "sequence"]))
    depth = draw(st.integers(1, 2 * MAX_DEPTH) | st.integers(2 * MAX_DEPTH, 30_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"k":', "}"), ('[{"k":', "}]")]))
    depth = min(depth, (LIMIT - 100) // (len(opener) + len(closer)))  # what 64 KiB can hold
    leaf = draw(st.sampled_from(["0", '"x"', "null", "[]", "{}"]))
    levels = depth * (2 if opener == '[{"k":' else 1)
    return name, levels, opener * depth + leaf + closer * depth


def test_generated_nesting_up_to_what_64_kib_allows(local):
    for name, depth, text in generate(deep_values(), 45):
        customer_id = f"vb-{next(_ids)}"
        body = f'{{"id":"{customer_id}","apiKey":"k","{name}":{text}}}'.encode()
        answer = send(local, body, customer_id, f"{depth} deep in {name}")
        assert answer.status in (200, 400)
        problems = answer.body.get("data") if answer.status == 400 else None
        problems = problems or []
        if depth > MAX_DEPTH and problems:  # refused before evaluation, by the bound
            assert problems == [{"field": name, "code": "INVALID_VALUE", "message": TOO_DEEP}]
        elif depth > MAX_DEPTH:  # deeper than even the JSON parser goes
            assert answer.body["message"] == "Request body is not valid JSON"
        else:
            assert all(p["message"] != TOO_DEEP for p in problems)


def test_generated_patterns_against_line_terminators_and_other_digits(local):
    strings = st.fixed_dictionaries(
        {"code": pattern_text, "digits": pattern_text, "line": pattern_text}
    )
    for values in generate(strings, 60):
        answer = create(local, values, "patterns")
        invalid = {
            (name, "INVALID_VALUE") for name, value in values.items() if not ecma_valid(name, value)
        }
        assert answer.fields() == invalid, values
        assert answer.status == (400 if invalid else 200)
