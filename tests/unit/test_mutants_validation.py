"""Mutation survivors of request parsing and validation (validation.py), killed here.

A body that is not JSON is refused with a message that says why, never with a value from
the body: ``NaN`` and the infinities are named as what they are, not JSON values, and a
number beyond a double's range is out of range.
"""

from __future__ import annotations

import pytest

from toqio_connector.edge.registry_file import load_registry
from toqio_connector.models.errors import BadRequest
from toqio_connector.rules.registry import parse_registry
from toqio_connector.rules.validation import (
    COMMON_PARAMETERS,
    _translate,
    parse_json_object,
    validate_create,
)


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


# --- the messages of the common parameters' problems -------------------------------------


def test_each_length_problem_says_its_limit_and_unit():
    """A value over its limit names the limit in what is counted: characters for text and
    secret values, items for the currency list (whatever pydantic calls either)."""
    body = {
        "id": "a" * 129,
        "apiKey": "k" * 4097,
        "paymentProvider": {"key": "k" * 4097, "loginId": "l" * 257},
        "commercialName": "n" * 256,
        "availableCurrencies": ["EUR"] * 201,
    }
    with pytest.raises(BadRequest) as refused:
        validate_create(body, load_registry())
    assert {e["field"]: (e["code"], e["message"]) for e in refused.value.data} == {
        "id": ("TOO_LONG", "must be at most 128 characters"),
        "apiKey": ("TOO_LONG", "must be at most 4096 characters"),
        "paymentProvider.key": ("TOO_LONG", "must be at most 4096 characters"),
        "paymentProvider.loginId": ("TOO_LONG", "must be at most 256 characters"),
        "commercialName": ("TOO_LONG", "must be at most 255 characters"),
        "availableCurrencies": ("TOO_LONG", "must be at most 200 items"),
    }


def test_a_pydantic_error_the_table_does_not_know_is_an_invalid_value_in_our_words():
    """An error type a pydantic version may add is still a field error: INVALID_VALUE, "is
    not valid", never pydantic's own message (nor anything from its context)."""
    error = {"type": "some_new_check", "loc": ("paymentProvider", "key"),
             "msg": "pydantic's own words", "ctx": {"max_length": 9}}  # fmt: skip
    assert _translate(error) == {
        "field": "paymentProvider.key",
        "code": "INVALID_VALUE",
        "message": "is not valid",
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Request body is missing"),
        (None, "Request body is missing"),
        (b"", "Request body is missing"),
        (b'{"id": "\xff"}', "Request body is not valid JSON: not UTF-8"),
        ('{"id": "c1", "id": "c2"}', "Request body is not valid JSON: duplicate key"),
        ('{"id": "\\ud800"}', "Request body is not valid JSON: text is not valid Unicode"),
        ('{"id": ', "Request body is not valid JSON"),
        ("[1]", "Request body must be a JSON object"),
    ],
)
def test_each_body_that_is_not_a_json_object_is_told_why(body, message):
    """Each way a body can fail to be one JSON object has its own message, and none
    quotes the body."""
    with pytest.raises(BadRequest) as refused:
        parse_json_object(body)
    assert refused.value.message == message


# --- the stored size, at its bound -----------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "empty"),
    [
        (False, '{"id":"c1","apiKey":"*****","blob":""}'),  # the item's data
        (True, '{"apiKey":"k","blob":""}'),  # the secret
    ],
    ids=["data", "secret"],
)
def test_a_customer_of_exactly_64_kib_once_stored_is_accepted_one_byte_more_is_not(secret, empty):
    """64 KiB is the bound of what is stored (compact UTF-8 JSON), both for the item's
    data and for the secret: a customer stored in exactly 65536 bytes is accepted."""
    registry = parse_registry(
        {"type": "object", "properties": {"blob": {"type": "string", "writeOnly": secret}}},
        "t.json",
        COMMON_PARAMETERS,
    )
    fits = 64 * 1024 - len(empty)
    assert validate_create({"id": "c1", "apiKey": "k", "blob": "x" * fits}, registry)
    with pytest.raises(BadRequest) as refused:
        validate_create({"id": "c1", "apiKey": "k", "blob": "x" * (fits + 1)}, registry)
    assert refused.value.data == [
        {
            "field": "blob",
            "code": "TOO_LONG",
            "message": "makes the customer larger than 64 KiB once stored",
        }
    ]


# --- what a custom parameter's problem names -----------------------------------------------


def test_an_unknown_parameter_and_a_secret_with_a_control_character_each_name_their_field():
    """A key no one declared is named with its own message; a secret custom parameter
    holding a control character is named too (its value never is), beside the other
    problems of the same body."""
    registry = parse_registry(
        {"type": "object", "properties": {"signingSecret": {"type": "string", "writeOnly": True}}},
        "t.json",
        COMMON_PARAMETERS,
    )
    body = {"id": "c1", "apiKey": "k", "signingSecret": "canary\r\nsecret", "colour": "red"}
    with pytest.raises(BadRequest) as refused:
        validate_create(body, registry)
    assert refused.value.data == [
        {
            "field": "signingSecret",
            "code": "INVALID_VALUE",
            "message": "must not contain control characters",
        },
        {"field": "colour", "code": "UNKNOWN_PARAMETER", "message": "is not a known parameter"},
    ]
    assert "canary" not in repr(refused.value.data) + str(refused.value)
