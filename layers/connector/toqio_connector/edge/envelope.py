"""Toqio's response envelopes (``ToqioHttpOk*`` and ``CustomException``)."""

from __future__ import annotations

from typing import Any

from toqio_connector.models.clock import utc_now_iso
from toqio_connector.models.errors import ConnectorError


def success(data: Any, request_id: str) -> dict[str, Any]:
    return {
        "data": data,
        "code": "OK",
        "errorSeverity": "NONE",
        "message": "Ok",
        "httpStatus": 200,
        "requestId": request_id,
        "date": utc_now_iso(),
    }


def failure(error: ConnectorError, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": error.code,
        "errorSeverity": "ERROR",
        "message": error.message,
        "httpStatus": error.status,
        "requestId": request_id,
        "date": utc_now_iso(),
        "errorOrigin": "connector",
    }
    if error.data is not None:
        body["data"] = error.data
    return body
