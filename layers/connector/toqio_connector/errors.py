"""The connector's errors, each carrying the contract's HTTP status and code.

Messages are fixed texts: an error never quotes the input it rejects, so no secret
value can reach a response or a log line through an exception.
"""

from __future__ import annotations

from typing import Any


class ConnectorError(Exception):
    status: int = 500
    code: str = "INTERNAL_ERROR"
    message: str = "Internal error"
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


class Unauthorized(ConnectorError):
    status, code, message = 401, "UNAUTHORIZED", "Unauthorized"


class Forbidden(ConnectorError):
    status, code, message = 403, "FORBIDDEN", "The token does not grant access to this customer"


class CustomerNotFound(ConnectorError):
    status, code, message = 404, "CUSTOMER_NOT_FOUND", "Customer not found"


class NotFound(ConnectorError):
    status, code, message = 404, "NOT_FOUND", "Resource not found"


class MethodNotAllowed(ConnectorError):
    status, code, message = 405, "METHOD_NOT_ALLOWED", "Method not allowed"


class CustomerAlreadyExists(ConnectorError):
    status, code, message = (
        409,
        "CUSTOMER_ALREADY_EXISTS",
        "A customer with this id already exists with different content",
    )


class CustomerIdTaken(CustomerAlreadyExists):
    """The secret at this customer's name holds something the connector never writes
    (not a JSON object): nothing can be stored under this id until an operator looks."""

    cause = "the secret at this customer's name was not written by the connector"


class PayloadTooLarge(ConnectorError):
    status, code, message = 413, "PAYLOAD_TOO_LARGE", "Request body is larger than 64 KiB"


class UnsupportedMediaType(ConnectorError):
    status, code, message = (
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Request body must be sent as application/json",
    )


class InternalError(ConnectorError):
    status, code, message = 500, "INTERNAL_ERROR", "Internal error"


class ServiceUnavailable(ConnectorError):
    """AWS throttled us, is down, or another request for the same customer is in flight.

    Retrying the same request is always safe.
    """

    status, code, message = (
        503,
        "SERVICE_UNAVAILABLE",
        "Service temporarily unavailable, retry later",
    )
    retry_after_seconds = 1

    def __init__(
        self, message: str | None = None, *, retry_after: int | None = None, cause: str = ""
    ) -> None:
        seconds = retry_after or self.retry_after_seconds
        super().__init__(message, headers={"Retry-After": str(seconds)})
        self.cause = cause  # an AWS error code or exception class name, for the logs
