"""Customers API: the routes of ``edge/routes.py`` (``POST /customers``,
``GET /customers/{id}`` and its ``/connectionStatus``).

Thin: parse the API Gateway event, call one rule of ``CustomerService``, shape the
envelope. The caller is checked once per request, before any route runs. Every error,
expected or not, leaves in Toqio's error envelope.
"""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from toqio_connector import bootstrap
from toqio_connector.adapters.aws import invocation_deadline
from toqio_connector.edge import http
from toqio_connector.edge.routes import ROUTES, matching
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
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
metrics = Metrics()
# Most requests (a Find, a refusal) count nothing: that is not worth a warning each time.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
app = APIGatewayRestResolver()
service = bootstrap.customers_api()

HANDLERS: dict[str, Callable[..., Response]] = {}  # operationId -> handler (edge/routes.py)


def handles(operation_id: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Mark the handler of a route of ``ROUTES``."""

    def register(handler: Callable[..., Response]) -> Callable[..., Response]:
        HANDLERS[operation_id] = handler
        return handler

    return register


def authenticated(resolver: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Every route's first step: the caller the token names (401 before anything is read)."""
    resolver.append_context(caller=http.caller_id(resolver.current_event))
    return next_middleware(resolver)


def caller() -> str:
    return str(app.context["caller"])


def path_parameter(name: str, matched: str) -> str:
    # API Gateway's own (decoded) path parameter; Powertools' route pattern could leave
    # out a trailing newline.
    return (app.current_event.path_parameters or {}).get(name, matched)


@handles("createCustomer")
def create_customer() -> Response:
    payload = parse_json_object(http.request_body(app.current_event))
    result = service.create(payload, caller())
    metrics.add_metric(
        name="CustomersCreated" if result.created else "CreateReplays",
        unit=MetricUnit.Count,
        value=1,
    )
    return http.ok(result.customer.view(), app.current_event)


@handles("findCustomer")
def find_customer(customerId: str) -> Response:  # noqa: N803 - the path parameter's name
    customer = service.find(path_parameter("customerId", customerId), caller())
    return http.ok(customer.view(), app.current_event)


@handles("getCustomerConnectionStatus")
def connection_status(customerId: str) -> Response:  # noqa: N803 - the path parameter's name
    status = service.connection_status(path_parameter("customerId", customerId), caller())
    return http.ok(status, app.current_event)


for _route in ROUTES:
    app.route(_route.resolver_path, method=_route.method)(HANDLERS[_route.operation_id])
app.use([authenticated])


@app.not_found
def no_route(_exc: Exception) -> Response:
    """Unknown path: 404. Known path, other method: 405.

    A path whose parameter has characters Powertools' route pattern does not take (``?``,
    ``"``, control or non-Latin characters...) lands here too: it is still that route.
    """
    event = app.current_event
    app.append_context(caller=http.caller_id(event))  # 401 whatever the path (before a 405)
    routes = matching(event.path)
    for route, values in routes:
        if route.method == event.http_method:
            return HANDLERS[route.operation_id](*values)
    if routes:
        allowed = ", ".join(sorted({route.method for route, _ in routes}))
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
