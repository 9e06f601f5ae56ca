"""The API's routes, defined once: the customers function's resolver, its 404/405
answers and the OpenAPI document's paths all come from ``ROUTES``, and a test checks
template.yaml's API events against it.

Adding a route: one line here, and its handler in ``functions/customers_api/app.py``
marked ``@handles("<operationId>")``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CREATE_ERRORS = (400, 401, 403, 405, 409, 413, 415, 500, 503)
READ_ERRORS = (401, 403, 404, 405, 500, 503)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as OpenAPI and API Gateway write it: /customers/{customerId}
    operation_id: str
    summary: str
    errors: tuple[int, ...] = READ_ERRORS
    answer: str = "CustomerEnvelope"  # the 200's schema (openapi.py's components)
    answer_description: str = "OK: the customer, secrets masked"
    description: str = ""
    request: str = ""  # the body's schema, if the operation takes one

    @property
    def parameters(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)

    @property
    def resolver_path(self) -> str:
        """The path in Powertools' resolver's syntax: /customers/<customerId>."""
        return re.sub(r"\{(\w+)\}", r"<\1>", self.path)

    @property
    def pattern(self) -> re.Pattern[str]:
        """What an API Gateway path of this route looks like (a parameter: one segment)."""
        return re.compile("^" + re.sub(r"\\\{\w+\\\}", "([^/]+)", re.escape(self.path)) + r"\Z")


ROUTES = (
    Route("POST", "/customers", "createCustomer", "Create Customer", CREATE_ERRORS,
          request="CreateCustomerRequest"),
    Route("GET", "/customers/{customerId}", "findCustomer", "Find Customer"),
    Route("GET", "/customers/{customerId}/connectionStatus", "getCustomerConnectionStatus",
          "Get customer connection status", answer="ConnectionStatusEnvelope",
          answer_description="OK: the connection status",
          description="CONNECTED or FAILED for the customer's current credentials; 503 with "
          "Retry-After until they have been checked."),
)  # fmt: skip


def matching(path: str) -> list[tuple[Route, tuple[str, ...]]]:
    """The routes whose path ``path`` is, each with its parameters' values."""
    found = []
    for route in ROUTES:
        match = route.pattern.match(path)
        if match:
            found.append((route, match.groups()))
    return found
