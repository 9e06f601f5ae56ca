"""Customers API: ``POST /customers``, ``GET /customers/{id}`` and its ``/connectionStatus``.

Thin: parse the API Gateway event, call one rule of ``CustomerService``, shape the
envelope. Every error, expected or not, leaves in Toqio's error envelope.
"""

from __future__ import annotations

import re
import traceback
import warnings
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from toqio_connector import bootstrap
from toqio_connector.adapters.aws import invocation_deadline
from toqio_connector.edge import http
from toqio_connector.models.errors import (
    BadRequest,
    ConnectionNotChecked,
    ConnectorError,
    CustomerAlreadyExists,
    InternalError,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
)
from toqio_connector.rules.validation import parse_json_object

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
metrics = Metrics()
# Most requests (a Find, a refusal) count nothing: that is not worth a warning each time.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
app = APIGatewayRestResolver()
service = bootstrap.customers_api()

_CREATE_PATH = re.compile(r"^/customers\Z")
_FIND_PATH = re.compile(r"^/customers/([^/]+)\Z")
_STATUS_PATH = re.compile(r"^/customers/([^/]+)/connectionStatus\Z")


@app.post("/customers")
def create_customer() -> Response:
    caller = http.caller_id(app.current_event)  # 401 before the body is even looked at
    payload = parse_json_object(http.request_body(app.current_event))
    result = service.create(payload, caller)
    metrics.add_metric(
        name="CustomersCreated" if result.created else "CreateReplays",
        unit=MetricUnit.Count,
        value=1,
    )
    return http.ok(result.customer.view(), app.current_event)


@app.get("/customers/<customerId>")
def find_customer(customerId: str) -> Response:  # noqa: N803 - the path parameter's name
    # API Gateway's own (decoded) path parameter is the id; Powertools' route pattern
    # could leave out a trailing newline.
    customer_id = (app.current_event.path_parameters or {}).get("customerId", customerId)
    customer = service.find(customer_id, http.caller_id(app.current_event))
    return http.ok(customer.view(), app.current_event)


@app.get("/customers/<customerId>/connectionStatus")
def connection_status(customerId: str) -> Response:  # noqa: N803 - the path parameter's name
    customer_id = (app.current_event.path_parameters or {}).get("customerId", customerId)
    status = service.connection_status(customer_id, http.caller_id(app.current_event))
    return http.ok(status, app.current_event)


@app.not_found
def no_route(_exc: Exception) -> Response:
    """Unknown path: 404. Known path, other method: 405.

    A Find whose id has characters Powertools' route pattern does not take (``?``, ``"``,
    control or non-Latin characters...) lands here too: it is still a Find.
    """
    event = app.current_event
    http.caller_id(event)  # an expired token is 401 whatever the path (and before a 405)
    find = _FIND_PATH.match(event.path)
    if find and event.http_method == "GET":
        return find_customer(find.group(1))
    status = _STATUS_PATH.match(event.path)
    if status and event.http_method == "GET":
        return connection_status(status.group(1))
    if status or find or _CREATE_PATH.match(event.path):
        allowed = "POST" if not (find or status) else "GET"
        return http.error(MethodNotAllowed(headers={"Allow": allowed}), event)
    return http.error(NotFound(), event)


@app.exception_handler(ConnectorError)
def on_connector_error(exc: ConnectorError) -> Response:
    if isinstance(exc, BadRequest):
        metrics.add_metric(name="ValidationFailures", unit=MetricUnit.Count, value=1)
    elif isinstance(exc, CustomerAlreadyExists):
        metrics.add_metric(name="CreateConflicts", unit=MetricUnit.Count, value=1)
    elif isinstance(exc, ServiceUnavailable) and not isinstance(exc, ConnectionNotChecked):
        logger.warning("AWS unavailable or request in flight", extra={"cause": exc.cause})
    logger.info(
        "request refused",
        extra={"status": exc.status, "code": exc.code, "cause": getattr(exc, "cause", "")},
    )
    return http.error(exc, app.current_event)


@app.exception_handler(Exception)
def on_unexpected(exc: Exception) -> Response:
    # The stack without the exception's message: a message may quote data.
    logger.error(
        "unexpected error",
        extra={"error_type": type(exc).__name__, "stack": traceback.format_tb(exc.__traceback__)},
    )
    return http.error(InternalError(), app.current_event)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # AWS calls that would not end in time are cut short: 503 and Retry-After, never a
    # Lambda timeout (see adapters/aws.py).
    with invocation_deadline(context):
        return app.resolve(event, context)
