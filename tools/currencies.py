"""Generates layers/connector/toqio_connector/models/iso4217.py from pycountry's ISO 4217
list (a maintained source, a development dependency only): ``make currencies``.

``--check`` exits 1 if the generated module's codes differ from what pycountry holds now
(tests/unit/test_currencies.py runs it, so a pycountry update that changes the list fails
the suite until the module is regenerated).
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "layers/connector/toqio_connector/models/iso4217.py"


def current_codes() -> list[str]:
    spec = find_spec("pycountry")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pycountry is not installed (make setup installs the dev group)")
    data = Path(spec.submodule_search_locations[0]) / "databases" / "iso4217.json"
    return sorted(entry["alpha_3"] for entry in json.loads(data.read_text("utf-8"))["4217"])


def render(codes: list[str]) -> str:
    rows = [
        "    " + " ".join(f'"{c}",' for c in codes[i : i + 12]) for i in range(0, len(codes), 12)
    ]
    return (
        '"""Current ISO 4217 alphabetic currency codes (generated: do not edit).\n\n'
        f"From pycountry {version('pycountry')}'s ISO 4217 list by tools/currencies.py "
        "(`make currencies`);\ntests/unit/test_currencies.py fails when pycountry's list changes.\n"
        '"""\n\n'
        "CODES = frozenset(\n    {\n" + "\n".join("    " + row for row in rows) + "\n    }\n)\n"
    )


def main() -> int:
    expected = render(current_codes())
    if "--check" in sys.argv[1:]:
        actual = TARGET.read_text("utf-8") if TARGET.exists() else ""
        if not _same_codes(actual, set(current_codes())):
            print(f"{TARGET.name} is stale: run `make currencies`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(expected, "utf-8")  # then `ruff format` lays it out
    print(f"wrote {TARGET} ({len(current_codes())} codes)")
    return 0


def _same_codes(module_text: str, codes: set[str]) -> bool:
    namespace: dict[str, object] = {}
    exec(compile(module_text, str(TARGET), "exec"), namespace)  # noqa: S102 - our own file
    return namespace.get("CODES") == codes


if __name__ == "__main__":
    raise SystemExit(main())
