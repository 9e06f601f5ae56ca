"""Each function's settings: read from its environment once, at start-up, and checked.

Plain frozen dataclasses rather than pydantic models: the authorizer and the publisher
do not import pydantic (cold start), and a setting here is a name and a string.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")


class SettingsError(RuntimeError):
    """A function's environment lacks a setting: it cannot start."""


def _env(name: str, default: str | None = None) -> Any:
    """A field read from environment variable ``name`` (required unless a default is given)."""
    return field(default=default if default is not None else MISSING, metadata={"env": name})


@dataclass(frozen=True, kw_only=True)
class CustomersApiSettings:
    table_name: str = _env("TABLE_NAME")
    secret_name_prefix: str = _env("SECRET_NAME_PREFIX")
    custom_parameters_file: str = _env("CUSTOM_PARAMETERS_FILE", "")  # "": the shipped one
    # The KMS key new customer secrets are encrypted with; "": Secrets Manager's own
    secrets_kms_key_id: str = _env("SECRETS_KMS_KEY_ID", "")


@dataclass(frozen=True, kw_only=True)
class AuthorizerSettings:
    public_keys: str = _env("TOQIO_PUBLIC_KEYS", "")  # checked by the verifier
    algorithms: str = _env("JWT_ALGORITHMS", "RS256")
    log_level: str = _env("POWERTOOLS_LOG_LEVEL", "INFO")  # the template's LogLevel


@dataclass(frozen=True, kw_only=True)
class PublisherSettings:
    event_bus_name: str = _env("EVENT_BUS_NAME")


@dataclass(frozen=True, kw_only=True)
class LinkerSettings:
    table_name: str = _env("TABLE_NAME")
    provider_adapter: str = _env("PROVIDER_ADAPTER", "reference")
    provider_url: str = _env("PROVIDER_URL")
    retry_window_seconds: str = _env("LINK_RETRY_WINDOW_SECONDS", "3600")


def read_settings(kind: type[T], environ: Mapping[str, str] | None = None) -> T:
    """``kind`` filled from ``environ`` (the process's by default); SettingsError naming
    every required variable that is unset or empty."""
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {}
    missing: list[str] = []
    for setting in fields(kind):  # type: ignore[arg-type]
        name = setting.metadata["env"]
        value = environ.get(name)
        required = setting.default is MISSING
        if value is None or (required and not value):
            if required:
                missing.append(name)
        else:  # set: used even if empty (an empty list of algorithms is refused, not ignored)
            values[setting.name] = value
    if missing:
        raise SettingsError(f"environment variable {', '.join(missing)} is not set")
    return kind(**values)
