"""The registry's JSON Schema validator: bounded cost, ECMA-262 regular expressions.

It is jsonschema's, with keywords replaced for bounded cost and ECMA-262 regular
expressions.

jsonschema (4.26) evaluates some keywords in a way a request can make expensive or that
differs from JSON Schema's semantics; each is replaced through
``jsonschema.validators.extend``:

* ``pattern``, ``patternProperties``, ``additionalProperties``, ``unevaluatedProperties``
  and ``format: regex`` use Python's ``re``, where ``$`` also matches before a final
  newline and ``\\d`` matches any Unicode digit. Here they use ``regress``, an ECMA-262
  engine, with the ``u`` flag (JSON Schema 2020-12, core section 6.4).
* ``uniqueItems`` compares every pair of items when they cannot be sorted (objects,
  arrays, mixed types): quadratic. ``enum`` and ``const`` compare recursively with each
  value. Here every value gets a hashable key with JSON Schema's equality (``1 == 1.0``,
  ``true != 1``, object key order irrelevant, arrays ordered), computed once per
  container per request: linear.
* ``unevaluatedItems``/``unevaluatedProperties`` test membership in lists (quadratic);
  ``anyOf``/``oneOf`` collect every error of every branch when only validity matters.
  Here: sets, and branches evaluated up to their first error.
* ``required`` names each missing property in the error's path, and ``properties``
  notes which parameter is being evaluated, so that an error can name its field.

Every keyword evaluation spends steps, each worth a few microseconds: one, one per
branch of ``allOf``/``anyOf``/``oneOf``, four for a reference, one per item or property
for those that walk a container, one per 1024 characters a ``pattern`` searches and per
2 a ``format`` checks (compiling a value as a regex is the costly one), one per 256
characters of an error message (jsonschema's own keywords quote the instance). Past
``bounds.MAX_STEPS`` in one request, or past as many nested keyword evaluations as
Python's recursion limit leaves room for, :class:`TooCostly` stops the evaluation: a
registry can make a value exponentially costly (``anyOf`` branches that recurse through
``$ref``, re-evaluated by ``unevaluatedProperties``), and stack use per level of a value
depends on the registry too. The keywords here never quote an instance in a message.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from itertools import islice
from typing import Any

import attrs
import regress
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError

from toqio_connector.rules.bounds import MAX_STEPS

REGEX_FLAGS = "u"
RegexError = regress.RegressError


class TooCostly(Exception):
    """Evaluating the custom parameters would take more steps, or nest deeper, than allowed."""


# --- regular expressions ----------------------------------------------------------------


@lru_cache(maxsize=512)
def compiled(pattern: str) -> regress.Regex:
    """A registry pattern as an ECMA-262 regex (RegexError if it is not one)."""
    return regress.Regex(pattern, REGEX_FLAGS)


def matches(pattern: str, text: str) -> bool:
    """JSON Schema's ``pattern``: ``text`` contains a match (the pattern is not anchored)."""
    return compiled(pattern).find(text) is not None


def is_regex(instance: object) -> bool:
    """``format: regex``: the value compiles as an ECMA-262 regex (not cached: a value)."""
    return not isinstance(instance, str) or regress.Regex(instance, REGEX_FLAGS) is not None


# --- one evaluation: its steps and its equality keys -------------------------------------

_NULL = ("null",)


class EqualityKeys:
    """Hashable keys with JSON Schema's equality: equal keys exactly for equal values.

    A container's key is a small int standing for its content (hash-consing), so that
    hashing a key never walks a tree again; each container is keyed once (by identity:
    the container is kept alive here as long as its key is).
    """

    def __init__(self) -> None:
        self._interned: dict[tuple[Any, ...], int] = {}
        self._containers: dict[int, tuple[Any, int]] = {}
        self._sets: dict[int, tuple[list[Any], frozenset[Any]]] = {}

    def of(self, value: Any) -> Any:
        if isinstance(value, bool):
            return ("bool", value)
        if isinstance(value, int | float):
            return ("number", value)  # 1 == 1.0 and hash(1) == hash(1.0)
        if isinstance(value, str):
            return ("string", value)
        if value is None:
            return _NULL
        known = self._containers.get(id(value))
        if known is not None:
            return known[1]
        if isinstance(value, list):
            content: tuple[Any, ...] = ("array", tuple(self.of(item) for item in value))
        else:
            content = ("object", frozenset((k, self.of(v)) for k, v in value.items()))
        key = self._interned.setdefault(content, len(self._interned))
        self._containers[id(value)] = (value, key)
        return key

    def of_all(self, values: list[Any]) -> frozenset[Any]:
        """The keys of ``values`` (an ``enum``), computed once."""
        known = self._sets.get(id(values))
        if known is None:
            known = self._sets[id(values)] = (values, frozenset(self.of(v) for v in values))
        return known[1]


# Python frames between a keyword's evaluation and a keyword it nests (descend, $ref,
# is_valid, the applicators here...), at most; and frames kept for what recurses
# without nesting keywords (equality keys and reprs of a value up to MAX_DEPTH deep,
# the unevaluated* walk over a subschema's in-place applicators).
_FRAMES_PER_NESTING = 6
_RESERVED_FRAMES = 200


def _nesting_allowed() -> int:
    """How deep keyword evaluations may nest from here within Python's recursion limit."""
    depth = sum(1 for _ in traceback.walk_stack(None))
    return max(0, (sys.getrecursionlimit() - depth - _RESERVED_FRAMES) // _FRAMES_PER_NESTING)


class Evaluation:
    """The state of validating one request's custom parameters."""

    def __init__(self, root: Any = None, steps: int = MAX_STEPS, nesting: int = 100) -> None:
        self.root = root
        self.steps_left = steps
        self.nesting_left = nesting
        self.keys = EqualityKeys()
        self.field: str | None = None  # the top-level parameter being evaluated

    def spend(self, steps: int = 1) -> None:
        self.steps_left -= steps
        if self.steps_left < 0:
            raise TooCostly()

    def nest(self, levels: int) -> None:
        """Keyword evaluations on the stack: ``+1`` entering one, ``-1`` leaving it."""
        self.nesting_left -= levels
        if self.nesting_left < 0:
            raise TooCostly()


_current: ContextVar[Evaluation | None] = ContextVar("schema_evaluation", default=None)


def _evaluation() -> Evaluation:
    return _current.get() or Evaluation()


@contextmanager
def evaluating(root: Any, steps: int = MAX_STEPS) -> Iterator[Evaluation]:
    """Validation of ``root`` runs inside: it shares one step budget and one key table."""
    evaluation = Evaluation(root, steps, _nesting_allowed())
    token = _current.set(evaluation)
    try:
        yield evaluation
    finally:
        _current.reset(token)


# --- keywords ---------------------------------------------------------------------------

Errors = Iterator[ValidationError]


def _valid(validator: Any, instance: Any, schema: Any) -> bool:
    """Whether ``instance`` is valid under ``schema``, stopping at the first error."""
    if isinstance(schema, bool):
        return schema
    return next(validator.descend(instance, schema), None) is None


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Errors:
    if validator.is_type(instance, "string") and not matches(pattern, instance):
        yield ValidationError("does not match the pattern")


def _pattern_properties(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: Any
) -> Errors:
    if not validator.is_type(instance, "object"):
        return
    _evaluation().spend(len(patterns) * len(instance))  # regex searches
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if matches(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_keys(instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    declared = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    _evaluation().spend(len(instance) * len(patterns))  # regex searches
    return [
        key
        for key in instance
        if key not in declared and not any(matches(p, key) for p in patterns)
    ]


def _additional_properties(validator: Any, extra: Any, instance: Any, schema: Any) -> Errors:
    if not validator.is_type(instance, "object"):
        return
    for key in _additional_keys(instance, schema):
        if validator.is_type(extra, "object"):
            yield from validator.descend(instance[key], extra, path=key)
        elif not extra:
            yield ValidationError("is not a known property", path=[key])


def _properties(validator: Any, properties: dict[str, Any], instance: Any, schema: Any) -> Errors:
    if not validator.is_type(instance, "object"):
        return
    evaluation = _evaluation()
    top = instance is evaluation.root
    for name, subschema in properties.items():
        if name in instance:
            if top:
                evaluation.field = name
            yield from validator.descend(instance[name], subschema, path=name, schema_path=name)


def _required(validator: Any, names: list[str], instance: Any, schema: Any) -> Errors:
    if validator.is_type(instance, "object"):
        for name in names:
            if name not in instance:
                yield ValidationError("is required", path=[name])


def _unique_items(validator: Any, unique: bool, instance: Any, schema: Any) -> Errors:
    if not unique or not validator.is_type(instance, "array"):
        return
    evaluation = _evaluation()
    seen: set[Any] = set()
    for item in instance:
        key = evaluation.keys.of(item)
        if key in seen:
            yield ValidationError("has duplicate items")
            return
        seen.add(key)


def _enum(validator: Any, values: list[Any], instance: Any, schema: Any) -> Errors:
    keys = _evaluation().keys
    if keys.of(instance) not in keys.of_all(values):
        yield ValidationError("is not one of the allowed values")


def _const(validator: Any, value: Any, instance: Any, schema: Any) -> Errors:
    keys = _evaluation().keys
    if keys.of(instance) != keys.of(value):
        yield ValidationError("is not the allowed value")


def _any_of(validator: Any, branches: list[Any], instance: Any, schema: Any) -> Errors:
    if not any(_valid(validator, instance, branch) for branch in branches):
        yield ValidationError("is not valid under any of the given schemas")


def _one_of(validator: Any, branches: list[Any], instance: Any, schema: Any) -> Errors:
    holding = (branch for branch in branches if _valid(validator, instance, branch))
    if len(list(islice(holding, 2))) != 1:  # a second one is enough to know
        yield ValidationError("is valid under none, or more than one, of the given schemas")


# --- unevaluatedItems / unevaluatedProperties ---------------------------------------------
# What jsonschema's find_evaluated_*_by_schema compute, as sets, with ECMA-262 patterns.


def _referenced(validator: Any, schema: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    """(validator, schema) of each ``$ref``/``$dynamicRef`` of ``schema``, resolved."""
    for keyword in ("$ref", "$dynamicRef"):
        reference = schema.get(keyword)
        if reference is not None:
            _evaluation().spend(_REFERENCE_STEPS)
            resolved = validator._resolver.lookup(reference)
            yield (
                validator.evolve(schema=resolved.contents, _resolver=resolved.resolver),
                resolved.contents,
            )


def _conditional(validator: Any, instance: Any, schema: dict[str, Any]) -> list[Any]:
    """``if`` and ``then`` when ``if`` holds, else ``else`` (those present)."""
    if "if" not in schema:
        return []
    if _valid(validator, instance, schema["if"]):
        return [schema["if"], *([schema["then"]] if "then" in schema else [])]
    return [schema["else"]] if "else" in schema else []


def _in_place(validator: Any, instance: Any, schema: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    """(validator, subschema) of each subschema applied to ``instance`` itself that
    holds: references, valid ``allOf``/``anyOf``/``oneOf`` branches, ``if`` with
    ``then`` or else ``else``, and (for objects) ``dependentSchemas`` that apply."""
    yield from _referenced(validator, schema)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for branch in schema.get(keyword, ()):
            if _valid(validator, instance, branch):
                yield validator, branch
    yield from ((validator, subschema) for subschema in _conditional(validator, instance, schema))
    if isinstance(instance, dict):
        for key, dependent in schema.get("dependentSchemas", {}).items():
            if key in instance:
                yield validator, dependent


def _evaluated_indexes(validator: Any, instance: list[Any], schema: Any) -> set[int]:
    if not isinstance(schema, dict):
        return set()
    if "items" in schema:
        return set(range(len(instance)))
    found = set(range(min(len(schema.get("prefixItems", ())), len(instance))))
    for keyword in ("contains", "unevaluatedItems"):
        if keyword in schema:
            _evaluation().spend(len(instance))
            found.update(
                i for i, item in enumerate(instance) if _valid(validator, item, schema[keyword])
            )
    for inner, subschema in _in_place(validator, instance, schema):
        found |= _evaluated_indexes(inner, instance, subschema)
    return found


def _evaluated_keys(validator: Any, instance: dict[str, Any], schema: Any) -> set[str]:
    if not isinstance(schema, dict):
        return set()
    patterns = schema.get("patternProperties", {})
    _evaluation().spend(len(instance) * (1 + len(patterns)))
    found = set(instance.keys() & schema.get("properties", {}).keys())
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        if keyword in schema:
            found.update(k for k, v in instance.items() if _valid(validator, v, schema[keyword]))
    found.update(key for key in instance if any(matches(p, key) for p in patterns))
    for inner, subschema in _in_place(validator, instance, schema):
        found |= _evaluated_keys(inner, instance, subschema)
    return found


def _unevaluated_items(validator: Any, rest: Any, instance: Any, schema: Any) -> Errors:
    if validator.is_type(instance, "array"):
        evaluated = _evaluated_indexes(validator, instance, schema)
        if len(evaluated) < len(instance):
            yield ValidationError("has items that its schema does not allow")


def _unevaluated_properties(validator: Any, rest: Any, instance: Any, schema: Any) -> Errors:
    if not validator.is_type(instance, "object"):
        return
    evaluated = _evaluated_keys(validator, instance, schema)
    for key, value in instance.items():
        if key in evaluated:
            continue
        if rest is False:
            yield ValidationError("is not a known property", path=[key])
        else:
            yield from validator.descend(value, rest, path=key, schema_path=key)


# --- the validator ----------------------------------------------------------------------

_REPLACED: dict[str, Callable[..., Errors]] = {
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
    "properties": _properties,
    "required": _required,
    "uniqueItems": _unique_items,
    "enum": _enum,
    "const": _const,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "unevaluatedItems": _unevaluated_items,
    "unevaluatedProperties": _unevaluated_properties,
}


# Keywords that may evaluate a subschema on each item or property of the instance.
_WALKERS = frozenset(
    {
        "items", "prefixItems", "contains", "properties", "patternProperties",
        "additionalProperties", "propertyNames", "dependentSchemas", "unevaluatedItems",
        "unevaluatedProperties", "uniqueItems",
    }
)  # fmt: skip
_BRANCHES = frozenset({"allOf", "anyOf", "oneOf"})
_REFERENCE_STEPS = 4  # resolving a reference costs about four ordinary keywords
# Characters of a string per step: a regex search scans ~1000 in a step's time; compiling
# a value as a regex (format: regex) takes up to ~2 microseconds a character (\p{L}).
_CHARACTERS_PER_STEP = {"pattern": 1024, "format": 2}
_MESSAGE_CHARACTERS_PER_STEP = 256  # jsonschema's own messages quote the instance


def _steps(keyword: str) -> Callable[[Any, Any], int]:
    """How many steps evaluating ``keyword`` (its value, the instance) costs up front."""
    if keyword in _WALKERS:
        return lambda _value, instance: (
            1 + (len(instance) if isinstance(instance, list | dict) else 0)
        )
    if keyword in _BRANCHES:
        return lambda value, _instance: 1 + len(value)
    if keyword in _CHARACTERS_PER_STEP:
        per_step = _CHARACTERS_PER_STEP[keyword]
        return lambda _value, instance: (
            1 + (len(instance) // per_step if isinstance(instance, str) else 0)
        )
    steps = _REFERENCE_STEPS if keyword in {"$ref", "$dynamicRef"} else 1
    return lambda _value, _instance: steps


def _counted(keyword: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` spending its steps: one, plus one per item or property it walks, plus
    one per 256 characters of each error message it writes (the first time one passes)."""
    steps = _steps(keyword)

    def counted(validator: Any, value: Any, instance: Any, schema: Any) -> Errors:
        evaluation = _evaluation()
        evaluation.spend(steps(value, instance))
        evaluation.nest(1)
        try:
            for error in function(validator, value, instance, schema) or ():
                if "_steps" not in error.__dict__:
                    error._steps = len(error.message) // _MESSAGE_CHARACTERS_PER_STEP
                    evaluation.spend(error._steps)
                evaluation.nest(-1)  # off the stack while the consumer has the error
                try:
                    yield error
                finally:
                    evaluation.nest(1)
        finally:
            evaluation.nest(-1)

    return counted


# The formats enforced, the same wherever the connector runs: jsonschema checks a format
# only when an optional package for it is installed, which differs between a developer's
# environment and the Lambda layer. These need the standard library, or rfc3339-validator
# (date-time, time), a dependency of the layer. A registry using another format is refused.
CHECKED_FORMATS = frozenset(
    {"date", "date-time", "time", "email", "idn-email", "ipv4", "ipv6", "uuid", "regex"}
)


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    known = Draft202012Validator.FORMAT_CHECKER.checkers
    checker.checkers = {name: known[name] for name in CHECKED_FORMATS - {"regex"}}
    checker.checks("regex", raises=RegexError)(is_regex)
    return checker


def _keyword_function(keyword: str, original: Callable[..., Errors]) -> Callable[..., Errors]:
    """The function checking ``keyword``: the connector's own where it has one."""
    return _REPLACED.get(keyword, original)


# types-jsonschema leaves extend() unannotated
BoundedValidator = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    validators={
        keyword: _counted(keyword, _keyword_function(keyword, function))
        for keyword, function in Draft202012Validator.VALIDATORS.items()
    },
)
FORMAT_CHECKER = _format_checker()


def _evolve(self: Any, **changes: Any) -> Any:
    """``validator.evolve`` (how jsonschema makes the validator of a subschema or of a
    ``$ref``'s target), always of this class. jsonschema's picks the class named by the
    new schema's ``$schema``: under a subschema declaring one (an embedded resource, or
    the root reached through ``$ref: "#"``), plain jsonschema evaluated the value, with
    Python's ``re`` and no step budget."""
    for name, alias in _FIELDS:
        if alias not in changes:
            changes[alias] = getattr(self, name)
    return BoundedValidator(**changes)


_FIELDS = [(field.name, field.alias) for field in attrs.fields(BoundedValidator) if field.init]
BoundedValidator.evolve = _evolve


def validator_for(schema: dict[str, Any]) -> Any:
    """The validator of ``schema``; use it inside :func:`evaluating`."""
    return BoundedValidator(schema, format_checker=FORMAT_CHECKER)


# Where JSON Schema 2020-12 has subschemas: one, a map of them, or a list of them.
_ONE = (
    "additionalProperties", "unevaluatedProperties", "items", "contains", "propertyNames",
    "not", "if", "then", "else", "unevaluatedItems",
)  # fmt: skip
_MAP = ("properties", "patternProperties", "$defs", "dependentSchemas")
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")

Location = tuple[str | int, ...]


def _subschemas(schema: dict[str, Any], at: Location) -> Iterator[tuple[Any, Location]]:
    for keyword in _ONE:
        if keyword in schema:
            yield schema[keyword], (*at, keyword)
    for keyword in _MAP:
        if isinstance(schema.get(keyword), dict):
            yield from ((s, (*at, keyword, k)) for k, s in schema[keyword].items())
    for keyword in _LIST:
        if isinstance(schema.get(keyword), list):
            yield from ((s, (*at, keyword, i)) for i, s in enumerate(schema[keyword]))


def _patterns(schema: dict[str, Any], at: Location) -> Iterator[tuple[str, Location]]:
    if isinstance(schema.get("pattern"), str):
        yield schema["pattern"], (*at, "pattern")
    if isinstance(schema.get("patternProperties"), dict):
        yield from ((key, (*at, "patternProperties")) for key in schema["patternProperties"])


def unresolvable_refs(schema: Any) -> Iterator[tuple[str, Location, str]]:
    """(reference, where, why) for each ``$ref``/``$dynamicRef`` of ``schema`` that does not
    resolve within the registry itself (nothing is fetched: a Lambda has no business
    downloading schemas, and a reference that cannot be resolved would fail each request)."""
    from referencing import Registry as References
    from referencing import Resource
    from referencing.exceptions import Unresolvable
    from referencing.jsonschema import DRAFT202012

    def resource(contents: Any) -> Any:
        return Resource.from_contents(contents, default_specification=DRAFT202012)

    root = References().with_resource("", resource(schema)).resolver(base_uri="")
    pending: list[tuple[Any, Location, Any]] = [(schema, (), root)]
    while pending:
        node, at, resolver = pending.pop()
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("$id"), str):  # a new base for the refs below (the root too)
            resolver = resolver.in_subresource(resource(node))
        for keyword in ("$ref", "$dynamicRef"):
            reference = node.get(keyword)
            if not isinstance(reference, str):
                continue
            try:
                resolver.lookup(reference)
            except Unresolvable as exc:
                yield reference, (*at, keyword), type(exc).__name__
        pending.extend((child, where, resolver) for child, where in _subschemas(node, at))


def unchecked_formats(schema: Any) -> Iterator[tuple[str, Location]]:
    """(format, where) for each ``format`` of ``schema`` and its subschemas that the
    connector does not check (see CHECKED_FORMATS)."""
    pending: list[tuple[Any, Location]] = [(schema, ())]
    while pending:
        node, at = pending.pop()
        if not isinstance(node, dict):
            continue
        if "format" in node and node["format"] not in CHECKED_FORMATS:
            yield str(node["format"]), (*at, "format")
        pending.extend(_subschemas(node, at))


def bad_patterns(schema: Any) -> Iterator[tuple[str, Location, str]]:
    """(pattern, where, why) for each ``pattern`` value and ``patternProperties`` key of
    ``schema`` and its subschemas (``$defs`` included) that ECMA-262 does not accept."""
    pending: list[tuple[Any, Location]] = [(schema, ())]
    while pending:
        node, at = pending.pop()
        if not isinstance(node, dict):
            continue
        for pattern, where in _patterns(node, at):
            try:
                compiled(pattern)
            except RegexError as exc:
                yield pattern, where, str(exc)
        pending.extend(_subschemas(node, at))
