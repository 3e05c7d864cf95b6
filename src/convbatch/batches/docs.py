"""OpenAPI entries of the /messages batch endpoints."""

from convbatch.api.openapi import Operation
from convbatch.batches.schemas import (
    BatchStatus,
    CancelBatchRequest,
    SendBatchRequest,
    SendBatchResponse,
)

P = "/v1/projects/{project_id}"
TAG = "Messages"

OPERATIONS = [
    Operation(
        "POST", f"{P}/messages", "Send one message to up to 1000 recipients", TAG,
        SendBatchRequest, SendBatchResponse,
        description="Placeholders like ${name} in any string of the message are filled per "
        "recipient. With send_after the batch is scheduled (rounded up to 5 minutes, at most "
        "7 days ahead); the effective time is returned.",
    ),
    Operation(
        "DELETE", f"{P}/messages", "Cancel scheduled batches by id, ids or metadata", TAG,
        CancelBatchRequest, None,
        description="Always answers 200 for a JSON body, even one that names nothing; only "
        "batches still waiting for their send_after are cancelled.",
    ),
    Operation(
        "GET", f"{P}/messages", "Statuses of the batches whose metadata matches", TAG,
        None, list[BatchStatus],
        query=(("metadataKey", "Batch metadata key", True),
               ("metadataValue", "Batch metadata value", True)),
    ),
    Operation(
        "GET", f"{P}/messages/{{batch_id}}", "Status of one batch", TAG, None, BatchStatus,
        description="The counts object is an extension.",
    ),
]  # fmt: skip
