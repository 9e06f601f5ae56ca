"""adapters.aws.aws_problem: what an SDK exception says about AWS itself (toqio-admin's
one-line messages), from the exception's fields, never its text."""

from __future__ import annotations

import socket

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOTokenLoadError,
)

from toqio_connector.adapters.aws import AwsProblem, aws_errors, aws_problem
from toqio_connector.models.errors import ServiceUnavailable


def client_error(code: str, operation: str, status: int = 400) -> ClientError:
    response = {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {}}
    response["ResponseMetadata"]["HTTPStatusCode"] = status
    return ClientError(response, operation)


def through_adapter(exc: Exception) -> BaseException:
    """``exc`` as an adapter's caller gets it (``aws_errors`` turns some into 503s)."""
    try:
        with aws_errors():
            raise exc
    except Exception as raised:
        return raised
    raise AssertionError("aws_errors swallowed it")


def refused_by(error: BaseException) -> EndpointConnectionError:
    try:
        try:
            raise error
        except OSError as inner:
            raise RuntimeError("urllib3's own") from inner
    except RuntimeError as wrapper:
        return EndpointConnectionError(endpoint_url="http://u:p@127.0.0.1:5000/?a=b", error=wrapper)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            refused_by(ConnectionRefusedError(111, "refused")),
            AwsProblem("unreachable", "http://127.0.0.1:5000", "connection refused"),
        ),
        (
            refused_by(socket.gaierror(-2, "Name or service not known")),
            AwsProblem("unreachable", "http://127.0.0.1:5000", "host not found"),
        ),
        (
            refused_by(OSError("other")),
            AwsProblem("unreachable", "http://127.0.0.1:5000", "could not connect"),
        ),
        (
            ConnectTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/"),
            AwsProblem(
                "unreachable", "https://dynamodb.eu-west-1.amazonaws.com", "connection timed out"
            ),
        ),
        (
            ReadTimeoutError(endpoint_url="https://[::1]:5000/"),
            AwsProblem("unanswered", "https://[::1]:5000"),
        ),
        (client_error("ResourceNotFoundException", "GetItem"), AwsProblem("no-table")),
        (client_error("ResourceNotFoundException", "Scan"), AwsProblem("no-table")),
        (
            client_error("AWS.SimpleQueueService.NonExistentQueue", "SendMessageBatch"),
            AwsProblem("no-queue"),
        ),
        (NoRegionError(), AwsProblem("no-region")),
        (ProfileNotFound(profile="prod"), AwsProblem("no-profile", detail="prod")),
        (NoCredentialsError(), AwsProblem("no-credentials")),
        (
            PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
            AwsProblem("no-credentials", detail="env: AWS_SECRET_ACCESS_KEY missing"),
        ),
        (
            SSOTokenLoadError(error_msg="expired"),
            AwsProblem("no-credentials", detail="the SSO session is missing or expired"),
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_a_problem_with_aws_itself_is_told_as_such_also_through_the_adapters(exc, expected):
    assert aws_problem(exc) == expected
    assert aws_problem(through_adapter(exc)) == expected


@pytest.mark.parametrize(
    "exc",
    [
        client_error("ResourceNotFoundException", "GetSecretValue"),  # a customer's secret
        client_error("ResourceNotFoundException", "PutEvents"),
        client_error("ConditionalCheckFailedException", "PutItem"),
        client_error("AccessDeniedException", "GetItem"),
        ServiceUnavailable(cause="another Create of this customer may be in flight"),
        ValueError("not AWS"),
    ],
)
def test_anything_else_is_not_a_problem_with_aws_itself(exc):
    assert aws_problem(exc) is None
    assert aws_problem(through_adapter(exc)) is None


def test_a_throttling_is_not_taken_for_an_outage():
    throttled = through_adapter(client_error("ThrottlingException", "GetItem"))
    assert isinstance(throttled, ServiceUnavailable)
    assert aws_problem(throttled) is None
    later = ServiceUnavailable(cause="customer vanished")  # raised while handling one
    later.__context__ = refused_by(ConnectionRefusedError(111, "refused"))
    assert aws_problem(later) is None
