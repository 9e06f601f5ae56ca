"""Changes after creation (contract section 6): what an operator may change, and how.

Toqio never edits an existing customer, and custom parameters introduced later "must be
updated manually within your Customer database". This is that manual update, made safe:

* only custom parameters and secret values can be set or unset, and the result is
  validated as a whole, by the same rules (and registry) as Create;
* optimistic locking: the item is replaced only if its ``version`` is still the one
  read, so two operators cannot overwrite each other silently;
* secret values go into a new version of the customer's secret, written *pending* (not
  current) before the item and made current after it: a refused write leaves the
  current values untouched;
* the item's change flows through the table's stream, so exactly one
  ``CustomerUpdated`` is published per stored change (the outbox).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from toqio_connector.adapters.dynamodb import CustomerTable, StaleWrite
from toqio_connector.adapters.secrets import SecretStore, SecretVersion
from toqio_connector.customer import StoredCustomer, same_json
from toqio_connector.customers import heal_current_version
from toqio_connector.envelope import utc_now_iso
from toqio_connector.errors import BadRequest, CustomerNotFound, ServiceUnavailable
from toqio_connector.models import CustomerRequest, SecretDocument
from toqio_connector.registry import Registry
from toqio_connector.validation import validate_create

COMMON_SECRETS = ("apiKey", *(f"paymentProvider.{name}" for name in ("key", "loginId", "hmacKey")))
REQUIRED_COMMON = tuple(n for n, f in CustomerRequest.model_fields.items() if f.is_required())


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


def _remove(target: dict[str, Any], path: str) -> None:
    head, _, rest = path.partition(".")
    if rest and isinstance(target.get(head), dict):
        _remove(target[head], rest)
    elif not rest:
        target.pop(head, None)


def _paths(values: dict[str, Any]) -> list[str]:
    """The secret document's fields as dotted paths (``paymentProvider.key``)."""
    return [
        f"{key}.{sub}" if isinstance(value, dict) else key
        for key, value in values.items()
        for sub in (value if isinstance(value, dict) else [None])
    ]


def _with_secrets(data: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The stored (masked) data with the secret values put back where they belong."""
    merged = copy.deepcopy(data)
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    return merged


class CustomerUpdater:
    def __init__(self, table: CustomerTable, secrets: SecretStore, registry: Registry) -> None:
        self.table = table
        self.secrets = secrets
        self.registry = registry

    @property
    def secret_fields(self) -> tuple[str, ...]:
        return (*COMMON_SECRETS, *sorted(self.registry.secret_names))

    def check(self, change: Change, stored_names: frozenset[str] = frozenset()) -> None:
        """ChangeRefused unless every name in ``change`` may be changed this way.

        ``stored_names`` are those the customer holds: one the registry no longer declares
        may still be unset, so that customers holding it can be brought back in line.
        """
        public = set(self.registry.properties) - self.registry.secret_names
        secret_fields = self.secret_fields
        problems = [f"{n} is not a custom parameter" for n in change.values if n not in public]
        problems += [f"{n} is not a secret field" for n in change.secrets if n not in secret_fields]
        problems += [
            f"{n} can be neither set nor unset here"
            for n in change.unset
            if n in REQUIRED_COMMON
            or (n not in public and n not in secret_fields and n not in stored_names)
        ]
        overlap = set(change.unset) & (set(change.values) | set(change.secrets))
        problems += [f"{n} is both set and unset" for n in sorted(overlap)]
        if problems:
            raise ChangeRefused("; ".join(problems))

    def _load(self, customer_id: str) -> tuple[StoredCustomer, SecretVersion]:
        stored = self.table.get(customer_id)
        if stored is None:
            raise CustomerNotFound()
        held = self.secrets.get(stored.secretArn, stored.secretVersionId)
        if not held.is_current:  # an earlier change died half-way
            heal_current_version(self.table, self.secrets, stored)
        return stored, held

    def show(self, customer_id: str) -> StoredCustomer:
        stored = self.table.get(customer_id)
        if stored is None:
            raise CustomerNotFound()
        return stored

    def update(
        self, customer_id: str, change: Change, expected_version: int | None = None
    ) -> UpdateResult:
        """Apply ``change``; StaleWrite if the customer is not at ``expected_version``
        (when given) or changes while this runs; BadRequest lists validation problems."""
        stored, held = self._load(customer_id)
        secret_values = held.value.get_secret_value()
        self.check(change, frozenset(stored.data) | frozenset(_paths(secret_values)))
        if expected_version is not None and stored.version != expected_version:
            raise StaleWrite(customer_id)
        secret_fields = self.secret_fields
        no_longer_secret = sorted(
            name
            for name in _paths(secret_values)
            if name not in secret_fields and name not in change.unset
        )
        if no_longer_secret:  # never copy a stored secret value into the clear
            raise ChangeRefused(
                f"the stored secret value(s) {', '.join(no_longer_secret)} are no longer "
                "declared secret: unset them first (--unset NAME)"
            )
        payload = _with_secrets(stored.data, secret_values)
        for name in change.unset:
            _remove(payload, name)
        payload.update(change.values)
        for path, value in change.secrets.items():
            _assign(payload, path, value)
        new = validate_create(payload, self.registry)
        same_secrets = same_json(new.secrets.get_secret_value(), held.value.get_secret_value())
        if same_secrets and same_json(new.data, stored.data):
            return UpdateResult(stored, changed=False)
        version_id = stored.secretVersionId
        if not same_secrets:
            _, version_id = self.secrets.put(
                stored.secretArn,
                SecretDocument(new.secrets.get_secret_value()),
                token=str(uuid4()),
                current=False,
            )
        updated = stored.changed(
            data=new.data,
            secretVersionId=version_id,
            version=stored.version + 1,
            updatedAt=utc_now_iso(),
        )
        self.table.replace(updated, expected_version=stored.version)
        if version_id != stored.secretVersionId:
            self.secrets.make_current(stored.secretArn, version_id)
        return UpdateResult(updated, changed=True)

    # --- backfill ---------------------------------------------------------------------
    def lacking(self, name: str) -> Iterator[StoredCustomer]:
        """Every customer whose data has no ``name``, page by page."""
        start: dict[str, Any] | None = None
        while True:
            page, start = self.table.scan_page(start)
            yield from (customer for customer in page if name not in customer.data)
            if start is None:
                return

    def check_backfill(self, name: str, value: Any) -> None:
        """ChangeRefused unless ``name`` is a public custom parameter and ``value`` valid."""
        self.check(Change(values={name: value}))
        problems = [
            f"{e['field']}: {e['code']} {e['message']}"
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
            report.updated.append(customer_id)
            return "updated"
        report.failed[customer_id] = "kept changing while being updated"
        return "failed"
