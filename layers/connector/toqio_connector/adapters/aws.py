"""AWS clients, created once per container, and AWS errors in the connector's terms.

Clients come from one botocore session (boto3's core): importing boto3 itself would
also import s3transfer, and a session per client would load the endpoint data twice;
together ~80 ms of every cold start for nothing the connector uses.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from toqio_connector.errors import ServiceUnavailable

# At DEBUG, botocore logs whole request bodies, CreateSecret's SecretString included.
# Whatever level the function logs at, the SDK's own records stop at INFO.
logging.getLogger("botocore").setLevel(logging.INFO)

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
)

# Error codes that mean "AWS is throttling or unwell": the request may be retried.
TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "InternalServerError",
        "InternalServiceError",
        "InternalServiceErrorException",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "TransactionInProgressException",
    }
)


_session: list[botocore.session.Session] = []


@cache
def client(service: str) -> Any:
    """One client per service per container, all from one session.

    The usual configuration applies: region, credentials, ``AWS_PROFILE`` and
    ``AWS_ENDPOINT_URL`` (the local emulator).
    """
    if not _session:
        _session.append(botocore.session.get_session())
    return _session[0].create_client(service, config=_CONFIG)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def aws_errors() -> Iterator[None]:
    """Turn throttling, outages and timeouts into :class:`ServiceUnavailable` (503).

    Other errors propagate unchanged and become a generic 500 at the edge.
    """
    try:
        yield
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if error_code(exc) in TRANSIENT_CODES or status >= 500:
            raise ServiceUnavailable(cause=error_code(exc) or str(status)) from None
        raise
    except (BotoConnectionError, ReadTimeoutError) as exc:
        raise ServiceUnavailable(cause=type(exc).__name__) from None


def setting(name: str, default: str | None = None) -> str:
    """A required environment setting, with a clear message when it is missing."""
    value = os.environ.get(name, default)
    if not value:
        raise RuntimeError(f"environment variable {name} is not set")
    return value
