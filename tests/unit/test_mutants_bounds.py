"""How a 400 names a field whose name is long (rules/bounds.py's ``shorten``): whole up to
200 bytes of UTF-8, beyond that its first and last 98 bytes around an ellipsis, never a
character cut in half. Written against the survivors of `make mutate` (docs/mutation.md)."""

from __future__ import annotations

import pytest

from toqio_connector.models.errors import BadRequest
from toqio_connector.rules.registry import parse_registry
from toqio_connector.rules.validation import COMMON_PARAMETERS, validate_create

NOTHING_DECLARED = parse_registry({"type": "object"}, "r.json", COMMON_PARAMETERS)
NESTED = parse_registry(
    {"type": "object", "properties": {"labels": {"additionalProperties": {"type": "string"}}}},
    "r.json",
    COMMON_PARAMETERS,
)


def named_field(registry, **custom) -> str:
    """The field the only problem of a Create with ``custom`` names."""
    with pytest.raises(BadRequest) as refused:
        validate_create({"id": "c1", "apiKey": "k", **custom}, registry)
    [problem] = refused.value.data
    return problem["field"]


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("k" * 200, "k" * 200),  # 200 bytes: whole
        ("é" * 100, "é" * 100),  # 200 bytes of two-byte characters: whole
        ("a" * 150 + "z" * 51, "a" * 98 + "…" + "a" * 47 + "z" * 51),  # 201 bytes: shortened
        ("a" * 150 + "z" * 150, "a" * 98 + "…" + "z" * 98),
        # three-byte characters: 98 bytes hold 32 and two bytes, which are dropped
        ("€" * 100, "€" * 32 + "…" + "€" * 32),
    ],
)
def test_an_unknown_parameter_is_named_whole_up_to_200_bytes_then_shortened(name, field):
    assert named_field(NOTHING_DECLARED, **{name: 1}) == field
    assert len(field.encode()) <= 200


def test_a_field_inside_a_parameter_is_shortened_as_a_whole_path():
    key = "b" * 300
    assert named_field(NESTED, labels={key: 1}) == "labels." + "b" * 91 + "…" + "b" * 98
