"""OpenAPI entries of authentication and operations endpoints."""

from convbatch.api.openapi import Operation

OPERATIONS = [
    Operation(
        "POST", "/oauth2/token", "Exchange an access key for a bearer token", "Authentication",
        description="OAuth2 client credentials: HTTP Basic with key id and key secret, form "
        "body grant_type=client_credentials.",
    ),
    Operation("GET", "/healthz", "Liveness and database check", "Operations"),
]  # fmt: skip
