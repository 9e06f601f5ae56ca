"""Event publisher: DynamoDB stream -> EventBridge (the outbox's relay).

All records of the batch are published together (PutEvents takes up to 10 per call);
those whose event was not delivered are reported as partial batch failures, so the
stream redelivers them and nothing is lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBStreamEvent,
)

from toqio_connector import bootstrap
from toqio_connector.adapters.aws import invocation_deadline
from toqio_connector.edge.stream import stored_change

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
metrics = Metrics()
# A batch that fails entirely is reported record by record too, not raised.
processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)
publisher = bootstrap.publisher()


class EventNotDelivered(Exception):
    """The record's event did not reach the bus: the stream will deliver it again."""


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    changes = [stored_change(record) for record in DynamoDBStreamEvent(event).records]
    # A PutEvents attempt starts only if it can end before the function's timeout: what
    # could not be sent is reported for redelivery, never cut off half sent.
    with invocation_deadline(context):
        result = publisher.publish(changes)
    failed = result.failed
    if failed:
        logger.warning("events not delivered", extra={"failures": failed})
    metrics.add_metric(name="EventsPublished", unit=MetricUnit.Count, value=result.published)
    metrics.add_metric(name="PublishFailures", unit=MetricUnit.Count, value=len(failed))

    def outcome(record: DynamoDBRecord) -> None:
        sequence = record.dynamodb.sequence_number if record.dynamodb else None
        if str(sequence) in failed:
            raise EventNotDelivered(failed[str(sequence)])

    return process_partial_response(
        event=event, record_handler=outcome, processor=processor, context=context
    )
