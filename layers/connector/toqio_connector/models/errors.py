"""The connector's errors: the one table of status, code, message and when each applies.

Messages are fixed texts: an error never quotes the input it rejects, so no secret
value can reach a response or a log line through an exception. The OpenAPI document
is generated from this table, and a test checks the template's gateway responses
(API Gateway's own errors, ``GATEWAY_RESPONSES``) against it.
"""

from __future__ import annotations

from typing import Any


class ConnectorError(Exception):
    status: int = 500
    code: str = "INTERNAL_ERROR"
    message: str = "Internal error"
    when: str = ""  # when it applies, for the API's documentation
    cause: str = ""  # why, for the logs only: an AWS error code or a fixed text

    def __init__(
        self,
        message: str | None = None,
        *,
        data: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or type(self).message
        self.data = data
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(ConnectorError):
    status, code, message = 400, "BAD_REQUEST", "Request body is invalid"
    when = "the body is not JSON, not an object, or fails validation (data lists the problems)"


class Unauthorized(ConnectorError):
    status, code, message = 401, "UNAUTHORIZED", "Unauthorized"
    when = "missing, malformed, badly signed, expired or wrongly-claimed token"


class Forbidden(ConnectorError):
    status, code, message = 403, "FORBIDDEN", "The token does not grant access to this customer"
    when = "the token's customerID is not the customer addressed"


class CustomerNotFound(ConnectorError):
    status, code, message = 404, "CUSTOMER_NOT_FOUND", "Customer not found"
    when = "Find Customer or connection status for an id no customer has"


class NotFound(ConnectorError):
    status, code, message = 404, "NOT_FOUND", "Resource not found"
    when = "unknown path"


class MethodNotAllowed(ConnectorError):
    status, code, message = 405, "METHOD_NOT_ALLOWED", "Method not allowed"
    when = "known path, other method"


class CustomerAlreadyExists(ConnectorError):
    status, code, message = (
        409,
        "CUSTOMER_ALREADY_EXISTS",
        "A customer with this id already exists with different content",
    )
    when = "the id exists with different content"


class CustomerIdTaken(CustomerAlreadyExists):
    """The secret at this customer's name holds something the connector never writes
    (not a JSON object): nothing can be stored under this id until an operator looks."""

    cause = "the secret at this customer's name was not written by the connector"


class CustomerSecretMissing(CustomerAlreadyExists):
    """The customer is stored but the secret version its item names is gone (deleted
    outside the connector): its values cannot be read until an operator restores them."""

    cause = "the secret version the customer's item names is missing"


class PayloadTooLarge(ConnectorError):
    status, code, message = 413, "PAYLOAD_TOO_LARGE", "Request body is larger than 64 KiB"
    when = "body over 64 KiB"


class UnsupportedMediaType(ConnectorError):
    status, code, message = (
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Request body must be sent as application/json",
    )
    when = "a body whose Content-Type is not application/json"


class InternalError(ConnectorError):
    status, code, message = 500, "INTERNAL_ERROR", "Internal error"
    when = "anything unexpected"


class ServiceUnavailable(ConnectorError):
    """AWS throttled us, is down, another request for the same customer is in flight, or
    the customer's connection status is not checked yet.

    Retrying the same request is always safe.
    """

    status, code, message = (
        503,
        "SERVICE_UNAVAILABLE",
        "Service temporarily unavailable, retry later",
    )
    when = (
        "AWS throttling or outage, the same customer in flight, or a connection status "
        "not checked yet; retrying after Retry-After seconds is safe"
    )
    retry_after_seconds = 1

    def __init__(
        self, message: str | None = None, *, retry_after: int | None = None, cause: str = ""
    ) -> None:
        seconds = retry_after or self.retry_after_seconds
        super().__init__(message, headers={"Retry-After": str(seconds)})
        self.cause = cause  # an AWS error code or exception class name, for the logs


class ConnectionNotChecked(ServiceUnavailable):
    """The customer's current credentials are being checked with its provider (a 503 like
    any other to the caller, but nothing is wrong: not logged as a warning)."""

    retry_after_seconds = 2  # linking takes a few seconds after a Create or change


class GatewayRefusal(BadRequest):
    """API Gateway refused the request before any function saw it (DEFAULT_4XX)."""

    message = "Bad request"


# Every status and code the API answers with, in the contract's order.
ERRORS: tuple[type[ConnectorError], ...] = (
    BadRequest,
    Unauthorized,
    Forbidden,
    CustomerNotFound,
    NotFound,
    MethodNotAllowed,
    CustomerAlreadyExists,
    PayloadTooLarge,
    UnsupportedMediaType,
    InternalError,
    ServiceUnavailable,
)

# API Gateway's own errors (template.yaml's gateway responses) in the contract's terms.
GATEWAY_RESPONSES: dict[str, type[ConnectorError]] = {
    "UNAUTHORIZED": Unauthorized,
    "ACCESS_DENIED": Forbidden,
    "MISSING_AUTHENTICATION_TOKEN": NotFound,  # an unknown path reaches no method
    "RESOURCE_NOT_FOUND": NotFound,
    "REQUEST_TOO_LARGE": PayloadTooLarge,
    "UNSUPPORTED_MEDIA_TYPE": UnsupportedMediaType,
    "THROTTLED": ServiceUnavailable,
    "INTEGRATION_TIMEOUT": ServiceUnavailable,
    "INTEGRATION_FAILURE": ServiceUnavailable,
    "DEFAULT_4XX": GatewayRefusal,
    "DEFAULT_5XX": InternalError,
}
