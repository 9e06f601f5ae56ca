"""Every stored customer, page by page: the one walk over the table that the operator's
commands share (``backfill``, ``relink --failed``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from toqio_connector.models.customer import StoredCustomer
from toqio_connector.ports import CustomerTable


def every_customer(table: CustomerTable) -> Iterator[StoredCustomer]:
    """Each customer once, however many pages the table answers in."""
    start: dict[str, Any] | None = None
    while True:
        page, start = table.scan_page(start)
        yield from page
        if start is None:
            return
