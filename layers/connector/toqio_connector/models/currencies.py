"""Current ISO 4217 alphabetic codes, from pycountry's copy of the ISO 4217 list.

The list is read straight from pycountry's data file, once, on first use: importing
the pycountry package itself would cost every cold start ~30 ms for nothing.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.util import find_spec
from pathlib import Path


@cache
def iso4217_codes() -> frozenset[str]:
    spec = find_spec("pycountry")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover
        raise RuntimeError("pycountry is not installed")
    data_file = Path(spec.submodule_search_locations[0]) / "databases" / "iso4217.json"
    entries = json.loads(data_file.read_text(encoding="utf-8"))["4217"]
    return frozenset(entry["alpha_3"] for entry in entries)


def is_currency(code: str) -> bool:
    return code in iso4217_codes()
