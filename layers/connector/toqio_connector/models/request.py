"""Pydantic models of the customer, as Toqio sends it and as the connector stores it.

Secret fields are ``SecretStr``: their value never shows in a ``repr``, a log line or
a validation error (``hide_input_in_errors``), and they serialise as ``*****``. The
only way to a secret value is :meth:`CustomerRequest.secret_values`, whose result goes
to Secrets Manager and nowhere else.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    Secret,
    SecretStr,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from toqio_connector.models.currencies import is_currency
from toqio_connector.models.customer import MASK

CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
CUSTOMER_ID_MAX = 128
MAX_CURRENCIES = 200
_CUSTOMER_ID = re.compile(CUSTOMER_ID_PATTERN)


def is_customer_id(text: str) -> bool:
    """Whether ``text`` could be a customer's id (a Create would take it)."""
    return len(text) <= CUSTOMER_ID_MAX and _CUSTOMER_ID.fullmatch(text) is not None


def _check_currency(code: str) -> str:
    upper = code.upper()
    if not code.isascii() or not is_currency(upper):  # "ıdr".upper() == "IDR"
        raise PydanticCustomError("invalid_currency", "not an ISO 4217 currency code")
    return upper


# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F.
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")
NO_CONTROL_CHARACTERS_PATTERN = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"  # the same, for OpenAPI
CONTROL_CHARACTERS = "must not contain control characters"


def secret_text_problem(value: str) -> str | None:
    """Why ``value`` cannot be a secret value, or None: the one text rule of the API's and
    ``toqio-admin``'s secret values. Control characters (category Cc) are refused: a
    credential has none, and one would be a line ending or a terminal escape in
    whatever reads it back. The message never quotes the value."""
    return CONTROL_CHARACTERS if _CONTROL_CHARACTER.search(value) else None


def _check_secret_text(value: SecretStr) -> SecretStr:
    problem = secret_text_problem(value.get_secret_value())
    if problem:
        raise PydanticCustomError("control_characters", problem)
    return value


def _mask(_value: SecretStr) -> str:
    return MASK


def _secret_field(max_length: int, min_length: int = 0) -> Any:
    """The ``Field`` of a secret value: its length bounds and, for OpenAPI, its text rule."""
    return Field(
        min_length=min_length,
        max_length=max_length,
        json_schema_extra={"pattern": NO_CONTROL_CHARACTERS_PATTERN},
    )


_SECRET_TEXT = AfterValidator(_check_secret_text)
_MASKED = PlainSerializer(_mask, return_type=str)

ApiKey = Annotated[SecretStr, _secret_field(4096, min_length=1), _SECRET_TEXT, _MASKED]
"""The customer's API key: a secret of 1 to 4096 characters."""
LongSecret = Annotated[SecretStr, _secret_field(4096), _SECRET_TEXT, _MASKED]
"""A secret value (a key) of up to 4096 characters."""
ShortSecret = Annotated[SecretStr, _secret_field(256), _SECRET_TEXT, _MASKED]
"""A secret value (a login id) of up to 256 characters."""
Text = Annotated[str, StringConstraints(max_length=256)]
"""A plain text parameter of up to 256 characters."""
Name = Annotated[str, StringConstraints(max_length=255)]
"""A name (the commercial name) of up to 255 characters."""

CustomerId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=CUSTOMER_ID_MAX, pattern=CUSTOMER_ID_PATTERN),
]
Currency = Annotated[str, AfterValidator(_check_currency)]


class _Strict(BaseModel):
    model_config = ConfigDict(
        strict=True, extra="forbid", frozen=True, hide_input_in_errors=True, defer_build=True
    )


class PaymentProvider(_Strict):
    """The customer's settings and credentials at its payment provider."""

    customerId: Text | None = Field(
        None,
        title="Provider customer id",
        description="The customer's id at the payment provider.",
        examples=["pp-customer-42"],
    )
    paymentProviderType: Text | None = Field(
        None,
        title="Payment provider type",
        description="Which payment provider this is, as Toqio names it.",
        examples=["RAILSR"],
    )
    key: LongSecret | None = Field(
        None,
        title="Provider key",
        description="Secret: the provider's API key. Kept in Secrets Manager, shown as *****.",
        examples=["pk_live_2b8cR4"],
    )
    loginId: ShortSecret | None = Field(
        None,
        title="Provider login id",
        description="Secret: the login at the provider. Kept in Secrets Manager, shown as *****.",
        examples=["acme-login"],
    )
    hmacKey: LongSecret | None = Field(
        None,
        title="Provider HMAC key",
        description="Secret: the key that signs requests to the provider. Shown as *****.",
        examples=["hm_9e4fU2"],
    )


class CustomerRequest(_Strict):
    """The common parameters of Create Customer."""

    id: CustomerId = Field(
        title="Customer id",
        description="Toqio's customer id: 1-128 of A-Z a-z 0-9 . _ : -, starting with a "
        "letter or digit. Must be the token's customerID.",
        examples=["c1"],
    )
    apiKey: ApiKey = Field(
        title="API key",
        description="Secret: the customer's API key. Kept in Secrets Manager, shown as *****.",
        examples=["ak_7f3aQ9"],
    )
    providerConfigId: Text | None = Field(
        None,
        title="Provider configuration id",
        description="Toqio's id of the provider configuration.",
        examples=["config-7"],
    )
    provider: Text | None = Field(
        None,
        title="Provider name",
        description="The payment provider's name.",
        examples=["RAILSR"],
    )
    paymentProvider: PaymentProvider | None = Field(
        None,
        title="Payment provider",
        description="Settings and credentials at the payment provider (only these five keys).",
    )
    commercialName: Name | None = Field(
        None,
        title="Commercial name",
        description="The customer's commercial name.",
        examples=["ACME Payments Ltd"],
    )
    availableCurrencies: Annotated[list[Currency], Field(max_length=MAX_CURRENCIES)] | None = Field(
        None,
        title="Available currencies",
        description="Current ISO 4217 alphabetic codes, any case; stored upper case, "
        "duplicates dropped (first kept).",
        examples=[["EUR", "gbp"]],
    )

    @field_validator("availableCurrencies")
    @classmethod
    def _drop_duplicates(cls, codes: list[str] | None) -> list[str] | None:
        return None if codes is None else list(dict.fromkeys(codes))

    def masked(self) -> dict[str, Any]:
        """Every field that was sent, normalised, secret values as ``*****``."""
        return self.model_dump(exclude_none=True)

    def secret_values(self) -> dict[str, Any]:
        """The secret values, nested as in the request: the Secrets Manager document."""
        return _secret_values(self)


def _secret_values(model: BaseModel) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in model:
        if isinstance(value, SecretStr):
            values[name] = value.get_secret_value()
        elif isinstance(value, BaseModel):
            nested = _secret_values(value)
            if nested:
                values[name] = nested
    return values


SecretDocument = Secret[dict[str, Any]]
"""A customer's secret values; ``repr`` and ``str`` show ``**********``."""


COMMON_PARAMETERS = frozenset(CustomerRequest.model_fields)  # the top-level names Toqio defines


class NewCustomer(BaseModel):
    """A validated Create request: what Toqio sees, and what goes to Secrets Manager."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True, defer_build=True)

    id: str
    data: dict[str, Any]  # masked view, without createdAt
    secrets: SecretDocument


def build_models() -> None:
    """Build the request models' validators now. They are built on first use otherwise
    (so a Find never pays for them); SnapStart's before-snapshot hook calls this, so that
    containers restored from the snapshot start with them built."""
    for model in (PaymentProvider, CustomerRequest, NewCustomer):
        model.model_rebuild()  # deferred, so not complete: built now
