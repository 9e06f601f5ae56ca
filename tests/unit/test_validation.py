"""Create Customer's rules on the body (docs/api.md), below the HTTP edge.

``validate_create`` turns a parsed body into the customer or a 400 listing every
problem; ``parse_json_object`` turns the raw body into a JSON object or a 400.
Custom parameters (section 4) are not declared in the shipped registry, so any
top-level key beside the common ones is ``UNKNOWN_PARAMETER``.
"""

from __future__ import annotations

import json
import string
import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.harness.customers import ERROR_CODES, FULL_CUSTOMER_VIEW, MASK, full_customer, leaves
from toqio_connector.edge.registry_file import load_registry
from toqio_connector.models.errors import BadRequest
from toqio_connector.rules.validation import parse_json_object
from toqio_connector.rules.validation import validate_create as validate_with

SHIPPED = load_registry()  # the registry the functions use unless configured


def validate_create(payload):
    return validate_with(payload, SHIPPED)


CANARY = "CANARY-validation-5e9b"
CURRENT_CODES = ["EUR", "GBP", "USD", "CHF", "JPY", "PLN", "SEK", "NOK", "DKK", "CZK", "HUF"]


def errors_of(payload) -> list[dict]:
    with pytest.raises(BadRequest) as caught:
        validate_create(payload)
    error = caught.value
    assert error.status == 400 and error.code == "BAD_REQUEST"
    assert isinstance(error.data, list) and error.data, "a 400 lists its problems"
    for problem in error.data:
        assert set(problem) == {"field", "code", "message"}, problem
        assert problem["code"] in ERROR_CODES, problem
        assert isinstance(problem["message"], str) and problem["message"]
    return error.data


def problems(payload) -> set[tuple[str, str]]:
    return {(p["field"], p["code"]) for p in errors_of(payload)}


def minimal(**extra) -> dict:
    return {"id": "c1", "apiKey": "k", **extra}


# --- a complete, valid customer ---------------------------------------------------------


def test_full_customer_is_normalised_and_masked():
    new = validate_create(full_customer("c1"))
    assert new.id == "c1"
    assert new.data == FULL_CUSTOMER_VIEW
    held = sorted(leaves(new.secrets.get_secret_value()))
    assert held == sorted(
        ["Ak7f3aQ9-api-value", "Pk2b8cR4-key-value", "Lg5d1eT7-login-value", "Hm9e4fU2-hmac-value"]
    )


def test_minimal_customer_omits_absent_fields():
    new = validate_create(minimal())
    assert new.data == {"id": "c1", "apiKey": MASK}


@pytest.mark.parametrize("secret", ["x", "s" * 4096, "ünïcødé-🔑"])
def test_secret_is_five_asterisks_whatever_its_length(secret):
    new = validate_create(minimal(apiKey=secret, paymentProvider={"hmacKey": secret}))
    assert new.data["apiKey"] == MASK
    assert new.data["paymentProvider"] == {"hmacKey": MASK}
    assert secret in leaves(new.secrets.get_secret_value())


# --- id -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "customer_id",
    ["a", "Z", "0", "9abc", "a.b_c:d-e", "A1-b2_c3.d4:e5", "x" * 128, "1" + "-" * 127, "a:"],
)
def test_valid_ids(customer_id):
    assert validate_create(minimal(id=customer_id)).id == customer_id


@pytest.mark.parametrize(
    "customer_id",
    ["-a", ".a", "_a", ":a", "a b", "a/b", "a@b", "a#b", "é", "aé", "a\n", " a", "a\x00", "a+b"],
)
def test_ids_outside_the_pattern_are_invalid_value(customer_id):
    assert problems(minimal(id=customer_id)) == {("id", "INVALID_VALUE")}


def test_id_longer_than_128_is_too_long():
    assert problems(minimal(id="a" * 129)) == {("id", "TOO_LONG")}


def test_empty_id_is_refused():
    assert problems(minimal(id="")) in ({("id", "INVALID_VALUE")}, {("id", "REQUIRED")})


def test_missing_id_is_required():
    assert problems({"apiKey": "k"}) == {("id", "REQUIRED")}


def test_null_id_is_refused_as_absent():
    assert problems({"id": None, "apiKey": "k"}) in ({("id", "REQUIRED")}, {("id", "INVALID_TYPE")})


@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}", fullmatch=True))
def test_every_id_matching_the_rule_is_accepted(customer_id):
    assert validate_create(minimal(id=customer_id)).id == customer_id


@given(st.text(min_size=1, max_size=140))
def test_an_id_is_accepted_exactly_when_it_matches_the_rule(customer_id):
    allowed = set(string.ascii_letters + string.digits + "._:-")
    good = (
        len(customer_id) <= 128
        and customer_id[0] in string.ascii_letters + string.digits
        and set(customer_id) <= allowed
    )
    if good:
        assert validate_create(minimal(id=customer_id)).id == customer_id
    else:
        found = problems(minimal(id=customer_id))
        assert found and {field for field, _ in found} == {"id"}
        assert {code for _, code in found} <= {"INVALID_VALUE", "TOO_LONG"}


# --- apiKey ---------------------------------------------------------------------------


def test_api_key_is_required():
    assert problems({"id": "c1"}) == {("apiKey", "REQUIRED")}


def test_api_key_must_not_be_empty():
    found = problems(minimal(apiKey=""))
    assert found in ({("apiKey", "INVALID_VALUE")}, {("apiKey", "REQUIRED")})


def test_api_key_up_to_4096_characters():
    assert validate_create(minimal(apiKey="k" * 4096)).data["apiKey"] == MASK
    assert problems(minimal(apiKey="k" * 4097)) == {("apiKey", "TOO_LONG")}


# --- secret values: text without control characters --------------------------------------

SECRET_FIELDS = [
    "apiKey",
    "paymentProvider.key",
    "paymentProvider.loginId",
    "paymentProvider.hmacKey",
]
CONTROL = "must not contain control characters"


@pytest.mark.parametrize("path", SECRET_FIELDS)
@pytest.mark.parametrize(
    "control", ["\x00", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9f"], ids=repr
)
def test_a_control_character_in_a_secret_value_is_refused(path, control):
    body = with_field(path, f"{CANARY}{control}tail")
    errors = errors_of(body)
    assert errors == [{"field": path, "code": "INVALID_VALUE", "message": CONTROL}]
    assert CANARY not in json.dumps(errors)


@pytest.mark.parametrize("path", SECRET_FIELDS)
@pytest.mark.parametrize(
    "text", ["\u2028", "\u2029", "\u200b", "\ufeff", "\xa0", "🔑", "\u00ad"], ids=repr
)
def test_other_unicode_in_a_secret_value_is_accepted(path, text):
    new = validate_create(with_field(path, f"s{text}s"))
    assert f"s{text}s" in leaves(new.secrets.get_secret_value())


def test_every_secret_value_problem_is_listed():
    body = minimal(apiKey="a\tb", paymentProvider={"key": "\x00", "loginId": "ok", "hmacKey": "\n"})
    assert problems(body) == {
        ("apiKey", "INVALID_VALUE"),
        ("paymentProvider.key", "INVALID_VALUE"),
        ("paymentProvider.hmacKey", "INVALID_VALUE"),
    }


def test_the_secret_text_rule_is_exactly_unicode_category_cc():
    from toqio_connector.models.request import secret_text_problem  # the rule toqio-admin uses too

    for point in [*range(0x3000), *range(0xFFF0, 0x10000), 0x1F511, 0xE0001, 0x10FFFF]:
        text = chr(point)
        if unicodedata.category(text) == "Cs":
            continue
        expected = CONTROL if unicodedata.category(text) == "Cc" else None
        assert secret_text_problem(f"a{text}b") == expected, hex(point)


@given(st.text(max_size=40))
def test_a_secret_value_is_refused_exactly_when_it_holds_a_control_character(text):
    assume(text)
    control = any(unicodedata.category(c) == "Cc" for c in text)
    if control:
        assert problems(minimal(apiKey=text)) == {("apiKey", "INVALID_VALUE")}
    else:
        assert validate_create(minimal(apiKey=text)).data["apiKey"] == MASK


def test_control_characters_elsewhere_are_not_this_rule():
    assert (
        validate_create(minimal(commercialName="ACME\tLtd")).data["commercialName"] == "ACME\tLtd"
    )


# --- lengths of the optional strings ----------------------------------------------------

LIMITS = [
    ("providerConfigId", 256),
    ("provider", 256),
    ("commercialName", 255),
    ("paymentProvider.customerId", 256),
    ("paymentProvider.paymentProviderType", 256),
    ("paymentProvider.key", 4096),
    ("paymentProvider.loginId", 256),
    ("paymentProvider.hmacKey", 4096),
]


def with_field(path: str, value) -> dict:
    if path.startswith("paymentProvider."):
        return minimal(paymentProvider={path.split(".", 1)[1]: value})
    return minimal(**{path: value})


@pytest.mark.parametrize(("path", "limit"), LIMITS)
def test_optional_string_at_its_limit_is_accepted(path, limit):
    validate_create(with_field(path, "v" * limit))


@pytest.mark.parametrize(("path", "limit"), LIMITS)
def test_optional_string_over_its_limit_is_too_long(path, limit):
    assert problems(with_field(path, "v" * (limit + 1))) == {(path, "TOO_LONG")}


@pytest.mark.parametrize(("path", "limit"), LIMITS)
def test_limits_count_characters_not_bytes(path, limit):
    validate_create(with_field(path, "é" * limit))


# --- strict types, null means absent ---------------------------------------------------

STRING_FIELDS = ["id", "apiKey"] + [path for path, _ in LIMITS]


@pytest.mark.parametrize("path", STRING_FIELDS)
@pytest.mark.parametrize("value", [123, 0, 1.5, True, False, ["x"], {"x": "y"}])
def test_string_fields_take_no_other_type(path, value):
    assert problems(with_field(path, value)) == {(path, "INVALID_TYPE")}


@pytest.mark.parametrize("value", ["EUR", 1, True, {"0": "EUR"}])
def test_currencies_must_be_an_array(value):
    assert problems(minimal(availableCurrencies=value)) == {("availableCurrencies", "INVALID_TYPE")}


@pytest.mark.parametrize("value", ["RAILSR", 1, True, ["key"]])
def test_payment_provider_must_be_an_object(value):
    assert problems(minimal(paymentProvider=value)) == {("paymentProvider", "INVALID_TYPE")}


@pytest.mark.parametrize("value", [978, True, ["EUR"], {"code": "EUR"}])
def test_currency_entries_must_be_strings(value):
    found = problems(minimal(availableCurrencies=["EUR", value]))
    assert found == {("availableCurrencies[1]", "INVALID_TYPE")}


def test_null_optional_fields_are_absent():
    body = minimal(
        providerConfigId=None,
        provider=None,
        commercialName=None,
        availableCurrencies=None,
        paymentProvider={
            "customerId": "pp-1",
            "paymentProviderType": None,
            "key": None,
            "loginId": None,
            "hmacKey": None,
        },
    )
    new = validate_create(body)
    assert new.data == {"id": "c1", "apiKey": MASK, "paymentProvider": {"customerId": "pp-1"}}
    assert leaves(new.secrets.get_secret_value()) == ["k"]


def test_null_payment_provider_is_absent():
    assert validate_create(minimal(paymentProvider=None)).data == {"id": "c1", "apiKey": MASK}


# --- unknown parameters ----------------------------------------------------------------


def test_unknown_key_inside_payment_provider():
    found = problems(minimal(paymentProvider={"key": "k", "password": "p"}))
    assert found == {("paymentProvider.password", "UNKNOWN_PARAMETER")}


@pytest.mark.parametrize("name", ["notAParameter", "apikey", "ID", "createdAt", "secretArn", ""])
def test_unknown_top_level_key(name):
    assert problems(minimal(**{name: "v"})) == {(name, "UNKNOWN_PARAMETER")}


def test_unknown_top_level_key_with_a_null_value_is_still_unknown():
    # null means absent for an optional field; an undeclared key is not a field at all.
    assert problems(minimal(notAParameter=None)) == {("notAParameter", "UNKNOWN_PARAMETER")}


def test_unknown_payment_provider_key_with_a_null_value_is_still_unknown():
    found = problems(minimal(paymentProvider={"customerId": "x", "password": None}))
    assert found == {("paymentProvider.password", "UNKNOWN_PARAMETER")}


def test_several_unknown_keys_are_each_listed():
    found = problems(minimal(a=1, b="x", paymentProvider={"c": 1, "d": "y"}))
    assert found == {
        ("a", "UNKNOWN_PARAMETER"),
        ("b", "UNKNOWN_PARAMETER"),
        ("paymentProvider.c", "UNKNOWN_PARAMETER"),
        ("paymentProvider.d", "UNKNOWN_PARAMETER"),
    }


# --- currencies -------------------------------------------------------------------------


def test_currencies_any_case_upper_cased_duplicates_dropped_first_kept():
    new = validate_create(minimal(availableCurrencies=["gbp", "EUR", "Gbp", "eUr", "usd", "GBP"]))
    assert new.data["availableCurrencies"] == ["GBP", "EUR", "USD"]


@given(
    st.lists(st.sampled_from(CURRENT_CODES), min_size=1, max_size=30).flatmap(
        lambda codes: st.tuples(
            st.just(codes),
            st.lists(st.booleans(), min_size=3 * len(codes), max_size=3 * len(codes)),
        )
    )
)
def test_any_casing_of_current_codes_normalises(case):
    codes, flips = case
    sent = [
        "".join(ch.lower() if flips[3 * i + j] else ch for j, ch in enumerate(code))
        for i, code in enumerate(codes)
    ]
    new = validate_create(minimal(availableCurrencies=sent))
    assert new.data["availableCurrencies"] == list(dict.fromkeys(codes))


@pytest.mark.parametrize(
    "code",
    ["XXXX", "gold", "EU", "E", "", "EURO", "ABC", "DEM", "FRF", "€", " EUR", "EUR ", "ıdr", "ſek"],
)
def test_invalid_currency_code(code):
    found = problems(minimal(availableCurrencies=["EUR", "gbp", code]))
    assert found == {("availableCurrencies[2]", "INVALID_CURRENCY")}


def test_invalid_currency_indices_are_those_sent_before_deduplication():
    found = problems(minimal(availableCurrencies=["eur", "EUR", "xyz", "usd", "USD", "gold"]))
    assert found == {
        ("availableCurrencies[2]", "INVALID_CURRENCY"),
        ("availableCurrencies[5]", "INVALID_CURRENCY"),
    }


def test_currency_error_uses_the_contract_message():
    (problem,) = errors_of(minimal(availableCurrencies=["XXXX"]))
    assert problem == {
        "field": "availableCurrencies[0]",
        "code": "INVALID_CURRENCY",
        "message": "not an ISO 4217 currency code",
    }


def test_two_hundred_currencies_are_accepted():
    new = validate_create(minimal(availableCurrencies=(CURRENT_CODES * 20)[:200]))
    assert new.data["availableCurrencies"] == CURRENT_CODES


def test_more_than_two_hundred_currencies_is_too_long():
    sent = [a + b + c for a in "ABCDEFG" for b in "ABCDEF" for c in "ABCDEF"][:201]
    assert len(set(sent)) == 201
    found = problems(minimal(availableCurrencies=sent))
    assert ("availableCurrencies", "TOO_LONG") in found


# --- every problem at once ---------------------------------------------------------------


def test_every_problem_is_listed_at_once():
    body = {
        "id": "-bad",
        "providerConfigId": 7,
        "provider": "p" * 257,
        "commercialName": None,
        "paymentProvider": {"key": 5, "loginId": "l" * 257, "extra": "x"},
        "availableCurrencies": ["EUR", "nope", 3],
        "notAParameter": True,
    }
    assert problems(body) == {
        ("id", "INVALID_VALUE"),
        ("apiKey", "REQUIRED"),
        ("providerConfigId", "INVALID_TYPE"),
        ("provider", "TOO_LONG"),
        ("paymentProvider.key", "INVALID_TYPE"),
        ("paymentProvider.loginId", "TOO_LONG"),
        ("paymentProvider.extra", "UNKNOWN_PARAMETER"),
        ("availableCurrencies[1]", "INVALID_CURRENCY"),
        ("availableCurrencies[2]", "INVALID_TYPE"),
        ("notAParameter", "UNKNOWN_PARAMETER"),
    }


# --- parsing the body --------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        None,
        "",
        b"",
        "{bad",
        "{'id': 'c1'}",
        '{"id": "c1",}',
        "[]",
        '["id", "c1"]',
        '"c1"',
        "1",
        "true",
        "null",
        '{"id": "c1", "id": "c2"}',
        '{"id": "c1", "apiKey": "k", "paymentProvider": {"key": "a", "key": "b"}}',
        '{"id": NaN}',
        '{"id": Infinity}',
        '{"id": -Infinity}',
        '{"n": 1e400}',
        b"\xff\xfe{}",
        b'{"id": "\xc3"}',
        '{"id": "\\ud800"}',
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        "{} {}",
    ],
    ids=lambda body: repr(body)[:40],
)
def test_bodies_that_are_not_one_json_object_are_bad_requests(body):
    with pytest.raises(BadRequest) as caught:
        parse_json_object(body)
    assert caught.value.status == 400 and caught.value.code == "BAD_REQUEST"


@pytest.mark.parametrize("body", ['{"id": "c1", "apiKey": "k"}', b'{"id": "c1", "apiKey": "k"}'])
def test_a_json_object_parses(body):
    assert parse_json_object(body) == {"id": "c1", "apiKey": "k"}


def test_duplicate_key_error_does_not_quote_the_values():
    with pytest.raises(BadRequest) as caught:
        parse_json_object(f'{{"apiKey": "{CANARY}", "apiKey": "{CANARY}"}}')
    assert CANARY not in repr(caught.value.__dict__) and CANARY not in str(caught.value)


# --- property tests ------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
COMMON = [
    "id",
    "apiKey",
    "providerConfigId",
    "provider",
    "paymentProvider",
    "commercialName",
    "availableCurrencies",
]
PROVIDER_KEYS = ["customerId", "paymentProviderType", "key", "loginId", "hmacKey"]
keys = st.sampled_from(COMMON) | st.text(max_size=12)
payloads = st.dictionaries(
    keys,
    json_values
    | st.dictionaries(st.sampled_from(PROVIDER_KEYS) | st.text(max_size=6), json_values, max_size=6)
    | st.lists(st.sampled_from(CURRENT_CODES) | st.text(max_size=4), max_size=6),
    max_size=8,
)


@given(payloads)
def test_random_payloads_are_accepted_or_bad_requests_nothing_else(payload):
    try:
        new = validate_create(payload)
    except BadRequest as error:
        assert error.status == 400
        for problem in error.data:
            assert problem["code"] in ERROR_CODES
        json.dumps(error.data)  # the error data is JSON
    else:
        json.dumps(new.data)
        assert new.data["apiKey"] == MASK


@given(st.text(max_size=200) | st.binary(max_size=200))
def test_random_bodies_parse_to_an_object_or_a_bad_request(body):
    try:
        parsed = parse_json_object(body)
    except BadRequest as error:
        assert error.status == 400
    else:
        assert isinstance(parsed, dict)


@given(json_values)
def test_any_json_text_parses_to_an_object_or_a_bad_request(value):
    try:
        parsed = parse_json_object(json.dumps(value))
    except BadRequest:
        assert not isinstance(value, dict)
    else:
        assert parsed == value


def secret_spots(canary: str):
    """Bodies that put the canary where validation must refuse it, one way or another."""
    long_secret = canary * (4096 // len(canary) + 1)
    return st.sampled_from(
        [
            minimal(apiKey=long_secret),
            minimal(paymentProvider={"key": long_secret}),
            minimal(paymentProvider={"hmacKey": long_secret}),
            minimal(paymentProvider={"loginId": canary * 40}),
            minimal(notAParameter=canary),
            minimal(notAParameter={"nested": [canary]}),
            minimal(paymentProvider={"password": canary}),
            {"id": "c1", "apiKey": [canary]},
            {"id": "c1", "apiKey": {"value": canary}},
            minimal(paymentProvider={"key": [canary]}),
            minimal(paymentProvider=canary),
            minimal(availableCurrencies=[canary]),
            minimal(availableCurrencies=canary),
            minimal(commercialName=canary * 20),
            minimal(id=canary + " "),
            minimal(provider=[canary]),
        ]
    )


@given(
    st.from_regex(r"[A-Za-z0-9]{12,24}", fullmatch=True).flatmap(
        lambda canary: st.tuples(st.just("SECRET" + canary), secret_spots("SECRET" + canary))
    ),
    payloads,
)
def test_a_canary_never_reaches_the_error(case, noise):
    canary, body = case
    for key, value in noise.items():
        body.setdefault(key, value)  # unrelated junk alongside
    assume(canary not in json.dumps(list(body)))  # the canary is a value, never a key
    with pytest.raises(BadRequest) as caught:
        validate_create(body)
    error = caught.value
    shown = json.dumps(
        {"data": error.data, "message": error.message, "str": str(error), "repr": repr(error)}
    )
    assert canary not in shown
    assert canary[:8] not in shown
    assert canary[-8:] not in shown
