"""The HTTP edge of the customers API: request checks, caller identity, envelopes."""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from toqio_connector.edge import envelope
from toqio_connector.models.claims import CUSTOMER_CLAIM, EXPIRY_CLAIM
from toqio_connector.models.errors import (
    BadRequest,
    ConnectorError,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from toqio_connector.rules.tokens import outlived

MAX_BODY_BYTES = 64 * 1024
JSON = "application/json"


def request_id(event: APIGatewayProxyEvent) -> str:
    return str((event.get("requestContext") or {}).get("requestId") or "")


def caller_id(event: APIGatewayProxyEvent) -> str:
    """The ``customerID`` the authorizer verified in the token; 401 without one, or if
    the token has expired since (API Gateway may serve a cached verdict for minutes).

    Called before anything is read or written.
    """
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    customer_id = authorizer.get(CUSTOMER_CLAIM)
    if not isinstance(customer_id, str) or not customer_id:
        raise Unauthorized()
    if outlived(authorizer.get(EXPIRY_CLAIM), time.time()):
        refused = Unauthorized()
        refused.cause = "token expired since the authorizer's (cached) verdict"  # for the logs
        raise refused
    return customer_id


def request_body(event: APIGatewayProxyEvent) -> bytes | None:
    """The raw body, or None; 413 over 64 KiB, 415 unless it is sent as application/json."""
    raw = event.get("body")
    if raw is None or raw == "":
        return None
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("Request body is not valid JSON") from None
    else:
        data = raw.encode("utf-8", errors="surrogatepass")
    if len(data) > MAX_BODY_BYTES:
        raise PayloadTooLarge()
    content_type = event.headers.get("content-type") or ""  # Powertools: case-insensitive
    if content_type.split(";", 1)[0].strip().lower() != JSON:
        raise UnsupportedMediaType()
    return data


def _response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=JSON,
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        headers=headers or {},
    )


def ok(data: Any, event: APIGatewayProxyEvent) -> Response[str]:
    return _response(200, envelope.success(data, request_id(event)))


def error(exc: ConnectorError, event: APIGatewayProxyEvent) -> Response[str]:
    return _response(exc.status, envelope.failure(exc, request_id(event)), exc.headers)
