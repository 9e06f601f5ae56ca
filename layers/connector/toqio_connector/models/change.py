"""What the connector's own queues and logs carry, in its own words.

* ``StoredChange``: one write to the customers table, as its change log (the table's
  stream) hands it over, the same at every delivery.
* ``LinkHint``: what a message on the linker's queue may say: which customer to look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StoredChange:
    """One stored write: its place in the log, its id, its kind and the item before and
    after (attribute values as plain Python). ``unreadable`` says why the images could
    not be read, when they could not."""

    sequence: str
    change_id: str  # unique in the log and the same at every delivery of the change
    kind: str = ""  # INSERT, MODIFY, REMOVE ("" when the log did not say)
    old: dict[str, Any] | None = None
    new: dict[str, Any] | None = None
    unreadable: str = ""


@dataclass(frozen=True)
class LinkHint:
    """ "Look at customer X": all the linker believes of a message; the rest is in the item."""

    customer_id: str
