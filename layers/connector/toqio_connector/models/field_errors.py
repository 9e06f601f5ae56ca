"""Field errors: the codes a 400 lists per field, how one is built, and field paths."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class FieldCode(StrEnum):
    """What is wrong with one field of a request (``data[].code`` of a 400)."""

    REQUIRED = "REQUIRED"
    INVALID_TYPE = "INVALID_TYPE"
    INVALID_VALUE = "INVALID_VALUE"
    INVALID_CURRENCY = "INVALID_CURRENCY"
    TOO_LONG = "TOO_LONG"
    UNKNOWN_PARAMETER = "UNKNOWN_PARAMETER"


UNKNOWN = "is not a known parameter"  # the message of every UNKNOWN_PARAMETER


def field_error(field: str, code: FieldCode, message: str) -> dict[str, str]:
    """One entry of a 400's ``data``: never the rejected value."""
    return {"field": field, "code": code.value, "message": message}


def field_path(loc: Sequence[str | int]) -> str:
    """``("paymentProvider", "key")`` -> ``paymentProvider.key``; indexes as ``[2]``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path
