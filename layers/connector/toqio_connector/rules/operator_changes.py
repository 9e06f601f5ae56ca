"""Changes after creation (docs/operators.md): what an operator may change, and how.

Toqio never edits an existing customer, and custom parameters introduced later "must be
updated manually within your Customer database". This is that manual update, made safe:

* only custom parameters (set, change, remove) and secret values (replace) can change;
  every common parameter (``commercialName``, ``provider``, ``availableCurrencies``,
  ``paymentProvider``...) stays as Toqio created it, and the result is validated as a
  whole, by the same rules (and registry) as Create;
* optimistic locking: the item is replaced only if its ``version`` is still the one
  read, so two operators cannot overwrite each other silently;
* the write goes through ``write_protocol`` (pending secret, conditional item write,
  forward-only promotion): a refused change leaves none of its values anywhere;
* a change that changes nothing writes nothing (no version, no event);
* the item's change flows through the table's stream, so exactly one
  ``CustomerUpdated`` is published per stored change (the outbox).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from toqio_connector.models.customer import StoredCustomer, same_json
from toqio_connector.models.errors import (
    BadRequest,
    ConnectorError,
    CustomerNotFound,
    ServiceUnavailable,
)
from toqio_connector.models.request import COMMON_PARAMETERS
from toqio_connector.ports import CustomerTable, SecretStore, StaleWrite
from toqio_connector.rules.listing import every_customer
from toqio_connector.rules.registry import Registry
from toqio_connector.rules.validation import validate_create
from toqio_connector.rules.write_protocol import CustomerStore

COMMON_SECRETS = ("apiKey", *(f"paymentProvider.{name}" for name in ("key", "loginId", "hmacKey")))


class ChangeRefused(Exception):
    """The change names something an operator may not change; nothing was written."""


@dataclass(frozen=True)
class Change:
    values: dict[str, Any] = field(default_factory=dict)  # custom parameters
    secrets: dict[str, str] = field(default_factory=dict, repr=False)  # secret fields
    unset: tuple[str, ...] = ()


@dataclass(frozen=True)
class UpdateResult:
    customer: StoredCustomer
    changed: bool


@dataclass
class BackfillReport:
    candidates: int = 0
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # had it already, or gone
    failed: dict[str, str] = field(default_factory=dict)


def _assign(target: dict[str, Any], path: str, value: Any) -> None:
    head, _, rest = path.partition(".")
    if rest:
        _assign(target.setdefault(head, {}), rest, value)
    else:
        target[head] = value


def _paths(values: dict[str, Any]) -> list[str]:
    """The secret document's fields as a change names them: ``paymentProvider``'s as
    dotted paths (``paymentProvider.key``), a custom parameter by its name, whatever its
    value (an object too) and whatever its name holds (a dot too)."""
    provider = values.get("paymentProvider")
    nested = [f"paymentProvider.{name}" for name in provider] if isinstance(provider, dict) else []
    return [key for key in values if key != "paymentProvider"] + nested


def _with_secrets(data: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The stored (masked) data with the secret values put back where they belong."""
    merged = copy.deepcopy(data)
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    return merged


def _is_common(name: str) -> bool:
    return name.split(".", 1)[0] in COMMON_PARAMETERS


class CustomerUpdater:
    def __init__(self, table: CustomerTable, secrets: SecretStore, registry: Registry) -> None:
        self.store = CustomerStore(table, secrets)
        self.table = table
        self.registry = registry

    @property
    def secret_fields(self) -> tuple[str, ...]:
        return (*COMMON_SECRETS, *sorted(self.registry.secret_names))

    def check(
        self,
        change: Change,
        stored_names: frozenset[str] = frozenset(),
        held_secrets: frozenset[str] = frozenset(),
    ) -> None:
        """ChangeRefused unless every name in ``change`` may be changed this way.

        ``stored_names`` are the customer's parameters: one the registry no longer declares
        may still be unset, so that customers holding it can be brought back in line.
        ``held_secrets`` are the secret fields it holds: a common one can only be replaced.
        """
        custom = set(self.registry.properties)
        public = custom - self.registry.secret_names
        secret = set(COMMON_SECRETS) | self.registry.secret_names
        problems = [
            f"{n} is secret: give it with --secret {n} (prompted for, or read from standard "
            "input; never from the command line)"
            if n in secret
            else f"{n} is not a custom parameter"
            for n in change.values
            if n not in public
        ]
        problems += [
            f"{n} is not a secret field"
            if n not in COMMON_SECRETS
            else f"{n} can only be replaced, and this customer has none"
            for n in change.secrets
            if n not in self.registry.secret_names and n not in held_secrets
        ]
        problems += [
            f"{n} is a common parameter: it cannot be removed"
            if _is_common(n)
            else f"{n} is not a custom parameter of this customer"
            for n in change.unset
            if _is_common(n) or (n not in custom and n not in stored_names)
        ]
        overlap = set(change.unset) & (set(change.values) | set(change.secrets))
        problems += [f"{n} is both set and unset" for n in sorted(overlap)]
        if problems:
            raise ChangeRefused("; ".join(problems))

    def _load(self, customer_id: str) -> tuple[StoredCustomer, dict[str, Any]]:
        stored = self.store.get(customer_id)
        if stored is None:
            raise CustomerNotFound()
        return stored, self.store.secret_values(stored).get_secret_value()

    def show(self, customer_id: str) -> StoredCustomer:
        stored = self.store.get(customer_id)
        if stored is None:
            raise CustomerNotFound()
        return stored

    def update(
        self, customer_id: str, change: Change, expected_version: int | None = None
    ) -> UpdateResult:
        """Apply ``change``; StaleWrite if the customer is not at ``expected_version``
        (when given) or changes while this runs; BadRequest lists validation problems."""
        stored, held = self._load(customer_id)
        held_paths = frozenset(_paths(held))
        self.check(change, frozenset(stored.data), held_paths)
        if expected_version is not None and stored.version != expected_version:
            raise StaleWrite(customer_id)
        secret_fields = self.secret_fields
        no_longer_secret = sorted(
            name for name in held_paths if name not in secret_fields and name not in change.unset
        )
        if no_longer_secret:  # never copy a stored secret value into the clear
            raise ChangeRefused(
                f"the stored secret value(s) {', '.join(no_longer_secret)} are no longer "
                "declared secret: unset them first (--unset NAME)"
            )
        payload = _with_secrets(stored.data, held)
        for name in change.unset:  # custom parameters only (check): names, not paths
            payload.pop(name, None)
        payload.update(change.values)
        for path, value in change.secrets.items():
            if path in COMMON_SECRETS:
                _assign(payload, path, value)
            else:  # a custom parameter's name, dots and all
                payload[path] = value
        new = validate_create(payload, self.registry)
        same_secrets = same_json(new.secrets.get_secret_value(), held)
        if same_secrets and same_json(new.data, stored.data):
            return UpdateResult(stored, changed=False)
        updated = self.store.change(stored, new.data, None if same_secrets else new.secrets)
        return UpdateResult(updated, changed=True)

    # --- backfill ---------------------------------------------------------------------
    def lacking(self, name: str) -> Iterator[StoredCustomer]:
        """Every customer whose data has no ``name``, page by page."""
        return (customer for customer in every_customer(self.table) if name not in customer.data)

    def check_backfill(self, name: str, value: Any) -> None:
        """ChangeRefused unless ``name`` is a public custom parameter and ``value`` valid."""
        if name in COMMON_SECRETS or name in self.registry.secret_names:
            raise ChangeRefused(
                f"{name} is secret: a secret value is each customer's own and is not"
                f" backfilled; give one customer its value with `set ID --secret {name}`"
            )
        self.check(Change(values={name: value}))
        problems = [
            f"{e['field']}: {e['message']} ({e['code']})"
            for e in self.registry.errors({name: value})
            if e["field"] == name or e["field"].startswith((f"{name}.", f"{name}["))
        ]
        if problems:
            raise ChangeRefused("; ".join(problems))

    def backfill(
        self,
        name: str,
        value: Any,
        customer_ids: list[str],
        progress: Callable[[str, str], None] = lambda _id, _outcome: None,
    ) -> BackfillReport:
        """Set ``name`` on each customer that still lacks it. A customer that has it
        already (set since, or by an earlier, interrupted run) is left untouched, so a
        second run finishes the first one's work without touching anyone twice."""
        self.check_backfill(name, value)
        report = BackfillReport(candidates=len(customer_ids))
        for customer_id in customer_ids:
            outcome = self._backfill_one(name, value, customer_id, report)
            progress(customer_id, outcome)
        return report

    def _backfill_one(self, name: str, value: Any, customer_id: str, report: BackfillReport) -> str:
        for _attempt in range(3):
            stored = self.table.get(customer_id)
            if stored is None or name in stored.data:
                report.skipped.append(customer_id)
                return "skipped"
            try:
                self.update(customer_id, Change(values={name: value}), stored.version)
            except StaleWrite:
                continue  # changed meanwhile: look again
            except ServiceUnavailable:
                report.failed[customer_id] = "AWS throttling or unavailable: run again to finish"
                return "failed"
            except BadRequest as exc:
                report.failed[customer_id] = "; ".join(
                    f"{e['field']} {e['code']}" for e in exc.data or []
                )
                return "failed"
            except ConnectorError as exc:  # its secret is missing, or not the connector's
                report.failed[customer_id] = exc.cause or exc.message
                return "failed"
            report.updated.append(customer_id)
            return "updated"
        report.failed[customer_id] = "kept changing while being updated"
        return "failed"
