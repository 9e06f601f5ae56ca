"""The custom parameter registry's file, read at start-up into a ``Registry`` (the rules
never read files: they are handed the registry)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from toqio_connector.models.request import COMMON_PARAMETERS
from toqio_connector.rules.registry import Registry, parse_registry, registry_error

DEFAULT_FILE = Path(__file__).parents[1] / "registry" / "custom_parameters.json"


def load_registry(path: str | os.PathLike[str] | None = None) -> Registry:
    """The registry in the file at ``path`` (the shipped default if none is given)."""
    chosen = Path(path or DEFAULT_FILE)
    source = str(chosen)
    try:
        text = chosen.read_text(encoding="utf-8")
    except OSError as exc:
        raise registry_error(
            source, f"cannot be read ({exc.strerror or type(exc).__name__})"
        ) from None
    except UnicodeDecodeError as exc:
        raise registry_error(source, f"is not UTF-8 text (at byte offset {exc.start})") from None
    try:
        schema = json.loads(text)
    except ValueError as exc:
        raise registry_error(source, f"is not valid JSON ({exc})") from None
    return parse_registry(schema, source, COMMON_PARAMETERS)
