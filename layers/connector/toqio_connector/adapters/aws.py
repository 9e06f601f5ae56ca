"""AWS clients, created once per container, and AWS errors in the connector's terms.

Clients come from one botocore session (boto3's core): importing boto3 itself would
also import s3transfer, and a session per client would load the endpoint data twice;
together ~80 ms of every cold start for nothing the connector uses.

Time budget. A request makes several AWS calls in a row (a Create up to ~7), each of up
to ``MAX_ATTEMPTS`` attempts, so per-call timeouts alone cannot keep an AWS endpoint that
accepts connections and never answers from running the function into its timeout (no
answer at all, where the contract wants 503 and ``Retry-After``). Inside
:func:`invocation_deadline` (the handler's whole invocation, from the Lambda context's
remaining time) every attempt must fit before the deadline, less ``RESERVE_SECONDS`` to
answer:

* before each attempt (the first one of each call included): it starts only if
  ``ATTEMPT_SECONDS`` (connect + read timeout, its longest) fits; otherwise the call
  ends with :class:`ServiceUnavailable`;
* after a failed attempt, a retry happens only if botocore's longest backoff sleep and
  another whole attempt fit; otherwise the call ends with the error it got, which
  :func:`aws_errors` turns into 503 as usual.

So the last AWS call ends by the deadline less the reserve, whatever the endpoint does.
With the customers function's 10 s: a call starts while 3.5 s remain; a stalled endpoint
gets two or three 2 s attempts, then 503 with 3-4 s to spare. Without a deadline (the
admin command, the tests' plain contexts) botocore's retries apply unchanged.
"""

from __future__ import annotations

import logging
import random
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, Literal
from urllib.parse import urlsplit

import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOTokenLoadError,
    UnauthorizedSSOTokenError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from toqio_connector.models.errors import ServiceUnavailable

# At DEBUG, botocore logs whole request bodies, CreateSecret's SecretString included.
# Whatever level the function logs at, the SDK's own records stop at INFO.
logging.getLogger("botocore").setLevel(logging.INFO)

CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0  # DynamoDB and Secrets Manager answer in milliseconds
MAX_ATTEMPTS = 3
ATTEMPT_SECONDS = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS  # one attempt, at its longest
RESERVE_SECONDS = 0.5  # after the last AWS call: build and send the answer
# Kept back for one more AWS call (the outcome of slow work outside AWS) and the answer,
# with the time between the two checks of the deadline to spare.
LAST_CALL_SECONDS = ATTEMPT_SECONDS + 2 * RESERVE_SECONDS
# botocore's standard mode sleeps rand() * min(scale * 2 ** (attempt - 1), 20) s before a
# retry, scale <= 1 s, and up to 5 s more when AWS sends x-amz-retry-after.
_BACKOFF_CAP_SECONDS = 20.0
_RETRY_AFTER_EXTRA_SECONDS = 5.0


@dataclass(frozen=True)
class Timeouts:
    """How long one attempt of a service's calls may take, and how many attempts."""

    connect: float = CONNECT_TIMEOUT_SECONDS
    read: float = READ_TIMEOUT_SECONDS
    attempts: int = MAX_ATTEMPTS

    @property
    def attempt(self) -> float:
        return self.connect + self.read

    def config(self) -> Config:
        return Config(
            retries={"mode": "standard", "max_attempts": self.attempts},
            connect_timeout=self.connect,
            read_timeout=self.read,
            tcp_keepalive=True,
        )


# EventBridge's PutEvents can take seconds when the service is slow, and one that answers
# after the read timeout has landed all the same: a retry then sends the same events
# again. So its read timeout is far longer than DynamoDB's; the publisher's 30 s hold one
# whole attempt and a retry (under the invocation's deadline, below), and subscribers drop
# what still arrives twice by the event's id.
EVENTS_TIMEOUTS = Timeouts(connect=CONNECT_TIMEOUT_SECONDS, read=10.0, attempts=MAX_ATTEMPTS)
DEFAULT_TIMEOUTS = Timeouts()
TIMEOUTS = {"events": EVENTS_TIMEOUTS}  # service -> its timeouts; the others: the default

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
# When the current invocation must be answered by (time.monotonic()), if it has a deadline.
_deadline: ContextVar[float | None] = ContextVar("toqio_aws_deadline", default=None)


@contextmanager
def invocation_deadline(lambda_context: object) -> Iterator[None]:
    """AWS calls made inside end in time for the invocation to answer (see the module's
    docstring); a context without ``get_remaining_time_in_millis`` sets no deadline."""
    remaining = getattr(lambda_context, "get_remaining_time_in_millis", None)
    deadline = time.monotonic() + remaining() / 1000 if callable(remaining) else None
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def _seconds_left() -> float | None:
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def _attempt_fits(attempt_seconds: float = ATTEMPT_SECONDS, **_kwargs: Any) -> None:
    """botocore's ``before-send``: raising here ends the call, before anything is sent."""
    left = _seconds_left()
    if left is not None and left < attempt_seconds + RESERVE_SECONDS:
        raise ServiceUnavailable(cause="DeadlineExceeded")


def _retry_fits(
    attempts: int, response: Any = None, attempt_seconds: float = ATTEMPT_SECONDS, **_kwargs: Any
) -> bool | None:
    """botocore's ``needs-retry``, consulted first: False means "no retry", None leaves
    the decision to botocore's retry policy."""
    left = _seconds_left()
    if left is None:
        return None
    backoff = min(2.0 ** (attempts - 1), _BACKOFF_CAP_SECONDS)
    if response is not None and "x-amz-retry-after" in response[0].headers:
        backoff += _RETRY_AFTER_EXTRA_SECONDS
    return None if left >= backoff + attempt_seconds + RESERVE_SECONDS else False


@cache
def client(service: str) -> Any:
    """One client per service per container, all from one session, that keep to the
    invocation's deadline.

    The usual configuration applies: region, credentials, ``AWS_PROFILE`` and
    ``AWS_ENDPOINT_URL`` (the local emulator).
    """
    if not _session:
        _session.append(botocore.session.get_session())
    timeouts = TIMEOUTS.get(service, DEFAULT_TIMEOUTS)
    created = _session[0].create_client(service, config=timeouts.config())
    events, name = created.meta.events, created.meta.service_model.service_id.hyphenize()
    length = {"attempt_seconds": timeouts.attempt}
    events.register_first(f"before-send.{name}", partial(_attempt_fits, **length))
    # botocore-stubs types every handler as returning None; a needs-retry handler's answer
    # is its return value (False: no retry). First: where botocore's own is.
    events.register_first(f"needs-retry.{name}", partial(_retry_fits, **length))  # type: ignore[arg-type]
    return created


def after_restore() -> None:
    """Lambda SnapStart's after-restore hook: containers restored from one snapshot share
    its memory, so each reseeds the PRNG from the OS, or all would draw the same retry
    jitter (botocore's backoff) and retry in step. Nothing else here needs refreshing:
    clients make no call at start-up (no pooled connection to go stale), credentials
    come from Lambda's container provider and refresh themselves, and ids are uuid4s
    (from the OS)."""
    random.seed()


def new_client(service: str, profile: str | None = None, region: str | None = None) -> Any:
    """A client of its own session: the operator command's, with its profile and region."""
    session = botocore.session.Session(profile=profile)
    config = TIMEOUTS.get(service, DEFAULT_TIMEOUTS).config()
    return session.create_client(service, region_name=region, config=config)


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


ProblemKind = Literal[
    "unreachable", "unanswered", "no-credentials", "no-region", "no-profile", "no-table", "no-queue"
]
# The DynamoDB operations the adapters make: their ResourceNotFoundException is the
# table's (Secrets Manager and EventBridge use the same code for their own resources).
_TABLE_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "Scan"})
_QUEUE_MISSING_CODES = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})


@dataclass(frozen=True)
class AwsProblem:
    """Why AWS could not be used at all, in terms an operator can act on (``toqio-admin``).

    Built from the SDK's exception, never from its message: nothing a request carried,
    so never a secret value.
    """

    kind: ProblemKind
    endpoint: str = ""  # scheme://host[:port] of the endpoint concerned, if known
    detail: str = ""  # what went wrong there; the profile not found; the credential missing


def aws_problem(exc: BaseException) -> AwsProblem | None:
    """What ``exc`` says about AWS itself (unreachable, not set up, a resource missing);
    None for anything else, a throttling or an error of the request included.

    Sees through :func:`aws_errors`: the :class:`ServiceUnavailable` it made of a
    connection error or timeout is taken for that error.
    """
    cause = exc.__context__
    if isinstance(exc, ServiceUnavailable) and isinstance(
        cause, BotoConnectionError | ReadTimeoutError
    ):
        if exc.cause == type(cause).__name__:
            exc = cause
    if isinstance(exc, ClientError):
        return _missing(exc)
    if isinstance(exc, BotoConnectionError | ReadTimeoutError):
        endpoint = _origin(str(exc.kwargs.get("endpoint_url") or exc.kwargs.get("proxy_url", "")))
        if isinstance(exc, ReadTimeoutError):
            return AwsProblem("unanswered", endpoint)
        return AwsProblem("unreachable", endpoint, _why_not_connected(exc))
    return _unconfigured(exc)


def _missing(exc: ClientError) -> AwsProblem | None:
    code = error_code(exc)
    if code == "ResourceNotFoundException" and exc.operation_name in _TABLE_OPERATIONS:
        return AwsProblem("no-table")
    if code in _QUEUE_MISSING_CODES:
        return AwsProblem("no-queue")
    return None


def _unconfigured(exc: BaseException) -> AwsProblem | None:
    if isinstance(exc, NoRegionError):
        return AwsProblem("no-region")
    if isinstance(exc, ProfileNotFound):
        return AwsProblem("no-profile", detail=str(exc.kwargs.get("profile", "")))
    if isinstance(exc, PartialCredentialsError):  # which variable is missing, not its value
        provider, missing = exc.kwargs.get("provider", ""), exc.kwargs.get("cred_var", "")
        return AwsProblem("no-credentials", detail=f"{provider}: {missing} missing")
    if isinstance(exc, SSOTokenLoadError | UnauthorizedSSOTokenError):
        return AwsProblem("no-credentials", detail="the SSO session is missing or expired")
    if isinstance(exc, NoCredentialsError):
        return AwsProblem("no-credentials")
    return None


def shown_url(url: str, with_path: bool = False) -> str:
    """scheme://host[:port] (and its path if ``with_path``): a URL as a message may name
    it, without query nor user information."""
    parts = urlsplit(url)
    if not parts.hostname:
        return url.split("?", 1)[0].rsplit("@", 1)[-1]
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a port: not shown
        port = ""
    return f"{parts.scheme}://{host}{port}" + (parts.path if with_path else "")


_origin = shown_url


def _why_not_connected(exc: BaseException) -> str:
    if isinstance(exc, ConnectTimeoutError):
        return "connection timed out"
    seen: list[BaseException] = []
    inner: BaseException | None = exc
    while inner is not None and inner not in seen:
        seen.append(inner)
        if isinstance(inner, ConnectionRefusedError):
            return "connection refused"
        if isinstance(inner, socket.gaierror):
            return "host not found"
        if isinstance(inner, TimeoutError):
            return "connection timed out"
        if isinstance(inner, ssl.SSLError):
            return "TLS handshake failed"
        error = getattr(inner, "kwargs", {}).get("error")
        inner = error if isinstance(error, BaseException) else inner.__cause__ or inner.__context__
    return "could not connect"


def where(service: str, profile: str | None = None, region: str | None = None) -> tuple[str, str]:
    """The endpoint (scheme://host[:port]) and region ``new_client`` would use."""
    meta = new_client(service, profile, region).meta
    return _origin(meta.endpoint_url), str(meta.region_name)
