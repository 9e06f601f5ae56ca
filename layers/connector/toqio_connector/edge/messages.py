"""A message on the linker's queue, read at the edge: an EventBridge event of the
connector's, or an operator's relink hint -> ``LinkHint``. Only the customer it names is
read, since whoever may put events on the bus could have forged everything else."""

from __future__ import annotations

import json

from toqio_connector.models.change import LinkHint
from toqio_connector.models.request import is_customer_id


def link_hint(body: str) -> LinkHint | None:
    """The customer a linker message names (an event's ``detail.customer.id``, or
    ``detail.customerId``); None if it names none that could exist."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    detail = message.get("detail") if isinstance(message, dict) else None
    if not isinstance(detail, dict):
        return None
    customer = detail.get("customer")
    named = customer.get("id") if isinstance(customer, dict) else detail.get("customerId")
    if not isinstance(named, str) or not is_customer_id(named):
        return None
    return LinkHint(named)
