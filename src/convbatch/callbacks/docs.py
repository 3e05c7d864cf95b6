"""OpenAPI entries of the webhook delivery extension."""

from convbatch.api.openapi import Operation
from convbatch.callbacks.schemas import DeliveryList, RedriveRequest, RedriveResult

P = "/conversation/v1/projects/{project_id}/apps/{app_id}"
TAG = "Webhook deliveries (extension)"

OPERATIONS = [
    Operation("GET", f"{P}/webhook-deliveries", "Callbacks sent or due to the app's endpoints",
              TAG, None, DeliveryList, extension=True,
              query=(("state", "Only deliveries in this state: PENDING, DELIVERED, FAILED or "
                      "DEAD", False),
                     ("page_size", "Deliveries per page (at most 200)", False),
                     ("page_token", "next_page_token of the previous page", False)),
              description="Each delivery is one event for one endpoint, with every HTTP attempt "
              "made (time, status or error, latency, start of the response). Failing endpoints "
              "are retried with growing delays for a day, then the delivery is DEAD; a 4xx "
              "answer other than 408 and 429 makes it FAILED at once."),
    Operation("POST", f"{P}/webhook-deliveries:redrive", "Send given-up callbacks again", TAG,
              RedriveRequest, RedriveResult, extension=True,
              description="With delivery_ids, those deliveries (DEAD or FAILED) are queued again; "
              "with an empty object, every DEAD delivery of the app. Their attempt count and "
              "retry window start over; the ids queued are returned."),
]  # fmt: skip
