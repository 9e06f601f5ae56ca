"""Whether a code is a current ISO 4217 alphabetic currency code (the list: ``iso4217``)."""

from __future__ import annotations

from toqio_connector.models.iso4217 import CODES


def iso4217_codes() -> frozenset[str]:
    return CODES


def is_currency(code: str) -> bool:
    return code in CODES
