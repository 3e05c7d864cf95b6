"""OpenAPI entries of the apps resource."""

from convbatch.api.openapi import CONVERSATION_PREFIX as P
from convbatch.api.openapi import MASK, Operation
from convbatch.apps.schemas import AppCreateRequest, AppList, AppPatch, AppView

OPERATIONS = [
    Operation("POST", f"{P}/apps", "Create an app and its channels", "Apps",
              AppCreateRequest, AppView,
              description="Each channel may name the driver that delivers its messages "
              "(driver, driver_settings, rate_limit: extensions)."),
    Operation("GET", f"{P}/apps", "All apps of the project", "Apps", None, AppList),
    Operation("GET", f"{P}/apps/{{app_id}}", "One app", "Apps", None, AppView),
    Operation("PATCH", f"{P}/apps/{{app_id}}", "Change an app", "Apps", AppPatch, AppView,
              query=MASK),
    Operation("DELETE", f"{P}/apps/{{app_id}}", "Delete an app with its webhooks and consent "
              "lists", "Apps"),
]  # fmt: skip
