"""Mutation survivors of request parsing and validation (validation.py), killed here.

A body that is not JSON is refused with a message that says why, never with a value from
the body: ``NaN`` and the infinities are named as what they are, not JSON values, and a
number beyond a double's range is out of range.
"""

from __future__ import annotations

import pytest

from toqio_connector.models.errors import BadRequest
from toqio_connector.rules.validation import parse_json_object


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_non_json_constant_is_refused_by_name(constant):
    with pytest.raises(BadRequest) as refused:
        parse_json_object('{"id": "c1", "n": ' + constant + "}")
    expected = f"Request body is not valid JSON: {constant} is not a JSON value"
    assert refused.value.message == expected


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1" * 400])
def test_a_number_beyond_a_double_is_refused_as_out_of_range(number):
    with pytest.raises(BadRequest) as refused:
        parse_json_object('{"id": "c1", "n": ' + number + "}")
    assert refused.value.message == "Request body is not valid JSON: number out of range"
