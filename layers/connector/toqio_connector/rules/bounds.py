"""Bounds on the work one request can cause: nesting depth, numbers, problems listed, steps.

Every body up to 64 KiB is answered within a second (docs/api.md). What a JSON Schema
keyword costs depends on the shape of the value it sees, so a custom parameter's value
is measured here, without recursion, before any keyword evaluates it:

* ``MAX_DEPTH`` (64) containers deep at most. Far deeper than any integration setting
  nests (Toqio's own customer nests two levels; .NET's JSON reader stops at 64 too), and
  shallow enough that jsonschema's evaluation of an ordinary schema (~12 Python frames a
  level, measured: ``descend``, the keyword, ``$ref``, ``anyOf``), equality keys and
  reprs stay well inside Python's 1000-frame recursion limit, wherever the handler is
  called from. A value nested deeper (a kilobyte of brackets) is refused before any
  keyword sees it, so no RecursionError can happen in it; a registry that spends more
  frames a level meets the stack-room bound below instead.
* Numbers a double can hold. A 4000-digit integer is valid JSON, but ``multipleOf``
  divides it by a float (``OverflowError``) and nothing downstream could use it.

What a value that passes costs is bounded by the keywords themselves
(:mod:`toqio_connector.rules.schema_keywords`: linear ``uniqueItems``, ``enum``, ``const``,
``unevaluated*``, applicators that stop at a branch's first error) and, for whatever a
registry could still make expensive, by ``MAX_STEPS`` steps per request (a step is a
keyword evaluation, or an item it walks, or so many characters it reads: a few
microseconds each) and by the stack room left: past either, the parameter is refused as
"too complex to validate". A 64 KiB body evaluated against a few keywords per value
fits; an unbounded recursive schema over 64 KiB may not, and a registry bounds its
values (``maxItems``, ``maxLength``...) to stay clear of it.

A 400 lists at most ``MAX_PROBLEMS`` problems, jsonschema stopping at the 101st, and
each names its field in at most ``MAX_FIELD_BYTES`` bytes of UTF-8 (a long key is shortened
in the middle), so that an error stays the size of an ordinary error whatever the
request: at most ~100 x 300 bytes.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

MAX_DEPTH = 64
MAX_PROBLEMS = 100
MAX_FIELD_BYTES = 200
# Steps for one request's custom parameters. Measured at 2-7 microseconds a step (the
# costliest: recursive anyOf with unevaluatedProperties), this is at most ~0.3 s of
# evaluation on a quiet machine, so that the answer keeps within its second beside other
# work; an array of ~20k numbers checked by "items": {"type": ...} takes ~40k steps.
MAX_STEPS = 40_000
# What one customer may take once normalised, in the item's data and in its secret alike:
# Secrets Manager holds at most 64 KiB, and an event carries the data under EventBridge's
# 256 KiB. A body is at most 64 KiB, but numbers re-serialise longer (1E15 is stored as
# 1000000000000000.0), so the stored form is measured too.
MAX_STORED_BYTES = 64 * 1024
TOO_LARGE_STORED = f"makes the customer larger than {MAX_STORED_BYTES // 1024} KiB once stored"

TOO_DEEP = f"must not be nested more than {MAX_DEPTH} levels deep"
OUT_OF_RANGE = "must not hold a number beyond the range of a double"
MORE_PROBLEMS = (
    f"Request body is invalid: more than {MAX_PROBLEMS} problems were found,"
    f" the first {MAX_PROBLEMS} are listed"
)
_LARGEST = sys.float_info.max


def _out_of_range(number: int | float) -> bool:
    if isinstance(number, float):
        return not math.isfinite(number)
    return abs(number) > _LARGEST


def value_problem(value: Any) -> str | None:
    """Why ``value`` may not be evaluated (too deep, a number out of range), or None."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                return TOO_DEEP
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
        elif isinstance(item, int | float) and not isinstance(item, bool):
            if _out_of_range(item):
                return OUT_OF_RANGE
    return None


def integer_in_range(text: str) -> int:
    """A JSON integer literal as an int; ValueError when no double could hold it.

    The length is checked first: converting thousands of digits is itself the cost."""
    digits = len(text) - text.startswith("-")
    if digits > len(str(int(_LARGEST))):
        raise ValueError("integer out of range")
    number = int(text)
    if _out_of_range(number):
        raise ValueError("integer out of range")
    return number


def stored_size(document: dict[str, Any]) -> int:
    """Bytes of ``document`` as the connector stores it (compact UTF-8 JSON)."""
    return len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())


def shorten(text: str, limit: int = MAX_FIELD_BYTES) -> str:
    """``text`` if at most ``limit`` bytes of UTF-8, else its start and end around an
    ellipsis, within ``limit`` bytes (counted in bytes: an emoji takes four)."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    keep = (limit - len("…".encode())) // 2
    head = raw[:keep].decode("utf-8", errors="ignore")  # no character cut in half
    tail = raw[-keep:].decode("utf-8", errors="ignore")
    return f"{head}…{tail}"
