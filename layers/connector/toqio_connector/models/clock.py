"""Time: the UTC clock that rules read (replaceable in tests) and the contract's format."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """UTC, ISO 8601 with milliseconds and ``Z``: ``2026-11-24T10:15:30.123Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now_iso() -> str:
    return iso(utc_now())
