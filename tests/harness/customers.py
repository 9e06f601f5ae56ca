"""Complete customers, what the API shows of them, and the error codes it may answer."""

from __future__ import annotations

from typing import Any

MASK = "*****"
ERROR_CODES = {
    "REQUIRED",
    "INVALID_TYPE",
    "INVALID_VALUE",
    "INVALID_CURRENCY",
    "TOO_LONG",
    "UNKNOWN_PARAMETER",
}


def full_customer(customer_id: str = "c1", **secrets: str) -> dict[str, Any]:
    """A Create body with every common parameter."""
    return {
        "id": customer_id,
        "apiKey": secrets.get("apiKey", "Ak7f3aQ9-api-value"),
        "providerConfigId": "config-7",
        "provider": "RAILSR",
        "paymentProvider": {
            "customerId": "pp-customer-42",
            "paymentProviderType": "RAILSR",
            "key": secrets.get("key", "Pk2b8cR4-key-value"),
            "loginId": secrets.get("loginId", "Lg5d1eT7-login-value"),
            "hmacKey": secrets.get("hmacKey", "Hm9e4fU2-hmac-value"),
        },
        "commercialName": "ACME Payments Ltd",
        "availableCurrencies": ["eur", "GBP", "Eur", "usd"],
    }


# What full_customer("c1") becomes: normalised, secrets masked (without createdAt).
FULL_CUSTOMER_VIEW = {
    "id": "c1",
    "apiKey": MASK,
    "providerConfigId": "config-7",
    "provider": "RAILSR",
    "paymentProvider": {
        "customerId": "pp-customer-42",
        "paymentProviderType": "RAILSR",
        "key": MASK,
        "loginId": MASK,
        "hmacKey": MASK,
    },
    "commercialName": "ACME Payments Ltd",
    "availableCurrencies": ["EUR", "GBP", "USD"],
}


def secret_values_of(body: dict[str, Any]) -> list[str]:
    provider = body.get("paymentProvider") or {}
    values = [body.get("apiKey")] + [provider.get(k) for k in ("key", "loginId", "hmacKey")]
    return [v for v in values if isinstance(v, str)]


def leaves(value: Any) -> list[Any]:
    """Every scalar inside a JSON-like value."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]
