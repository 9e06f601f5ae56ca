"""The customers table's change log, read into the connector's model at the edge: a
DynamoDB stream record -> ``StoredChange`` (the publisher's input)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from toqio_connector.models.change import StoredChange


def stored_change(record: DynamoDBRecord) -> StoredChange:
    """The change a stream record holds; never raises (an unreadable one says why)."""
    stream = record.dynamodb
    sequence = str(stream.sequence_number if stream else None)
    change_id = str(record.event_id) if record.event_id else f"seq-{sequence}"
    try:
        kind = record.event_name.name if record.event_name else ""
        if stream is None:
            return StoredChange(sequence, change_id, kind)
        old, new = stream.old_image, stream.new_image
    except Exception as exc:  # noqa: BLE001 - a malformed record must not block others
        return StoredChange(sequence, change_id, unreadable=type(exc).__name__)
    return StoredChange(sequence, change_id, kind, old or None, new or None)
