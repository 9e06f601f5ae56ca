"""Linker: the connector's customer events (through SQS) -> provider check -> status.

Each message is one ``CustomerCreated`` or ``CustomerUpdated`` event, or an operator's
relink hint: only the customer's id is read from it (rules/linking.py). A message whose
provider is unreachable (within the retry window) is reported as a partial batch
failure, so SQS delivers it again after the queue's visibility timeout; past the
window the status is stored as FAILED (PROVIDER_UNREACHABLE). Messages that keep
failing otherwise end in the dead-letter queue (alarmed).

Each provider call gets what is left of the invocation (at most the rule's limit) less
what storing its outcome takes; a message left too little time is retried, unasked, so
the batch's answer is always given before the function's timeout.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from toqio_connector import bootstrap
from toqio_connector.adapters.aws import LAST_CALL_SECONDS, invocation_deadline
from toqio_connector.edge.messages import link_hint
from toqio_connector.rules.linking import TryAgainLater

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
metrics = Metrics()
# An event that changes nothing (a redelivery, a stale one) counts nothing: no warning.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
linker = bootstrap.linker()


def provider_seconds(context: LambdaContext | None) -> float:
    """What the provider may have of the invocation's remaining time."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return float("inf")  # no deadline known: the rule's own limit
    return remaining() / 1000 - LAST_CALL_SECONDS  # to store the outcome, then answer


def link_one(record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
    request = link_hint(record.body)
    if request is None:  # names no customer: retrying cannot help
        logger.warning("not a link request: dropped", extra={"message_id": record.message_id})
        return
    try:
        connection = linker.link(request, provider_seconds(lambda_context))
    except TryAgainLater as exc:
        metrics.add_metric(name="LinkRetries", unit=MetricUnit.Count, value=1)
        logger.info(
            "provider unreachable: retrying",
            extra={"customer": request.customer_id, "why": str(exc)},
        )
        raise
    if connection is None:
        logger.info("nothing to link", extra={"customer": request.customer_id})
        return
    if connection.reason == "CREDENTIALS_UNREADABLE":  # for an operator: nothing will heal it
        logger.warning(
            "the customer's secret is gone or not the connector's",
            extra={"customer": request.customer_id},
        )
    metrics.add_metric(
        name="LinksConnected" if connection.status == "CONNECTED" else "LinksFailed",
        unit=MetricUnit.Count,
        value=1,
    )
    logger.info(
        "connection status stored",
        extra={
            "customer": request.customer_id,
            "status": connection.status,
            "reason": connection.reason,
        },
    )


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    with invocation_deadline(context):  # AWS calls too end in time for the batch's answer
        return process_partial_response(
            event=event, record_handler=link_one, processor=processor, context=context
        )
