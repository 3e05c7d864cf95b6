"""The one error tree. The API edge turns each of these into the Sinch error envelope."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error with an HTTP status and a Sinch status name."""

    http_status = 500
    status = "INTERNAL"
    default_message = "Internal error"

    def __init__(self, message: str | None = None, details: list[dict[str, Any]] | None = None):
        self.message = message or self.default_message
        self.details = details or []
        super().__init__(self.message)


class InvalidArgument(ApiError):
    http_status = 400
    status = "INVALID_ARGUMENT"
    default_message = "Invalid argument"

    @classmethod
    def field(cls, field: str, description: str) -> InvalidArgument:
        """A 400 that names the offending field, with a google.rpc.BadRequest detail."""
        return cls(
            f"{field}: {description}",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "field_violations": [{"field": field, "description": description}],
                }
            ],
        )


class Unauthenticated(ApiError):
    http_status = 401
    status = "UNAUTHENTICATED"
    default_message = "Invalid credentials"


class TokenExpired(Unauthenticated):
    default_message = "The access token expired"


class PermissionDenied(ApiError):
    http_status = 403
    status = "PERMISSION_DENIED"
    default_message = "Permission denied"


class NotFound(ApiError):
    http_status = 404
    status = "NOT_FOUND"
    default_message = "Resource not found"


class Conflict(ApiError):
    http_status = 409
    status = "ALREADY_EXISTS"
    default_message = "Resource already exists"


class PayloadTooLarge(ApiError):
    http_status = 413
    status = "INVALID_ARGUMENT"
    default_message = "Request body too large"


class ResourceExhausted(ApiError):
    http_status = 429
    status = "RESOURCE_EXHAUSTED"
    default_message = "Too many requests"

    def __init__(self, message: str | None = None, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RequestTimeout(ApiError):
    http_status = 408
    status = "DEADLINE_EXCEEDED"
    default_message = "The request body did not arrive in time"


class UnsupportedMediaType(ApiError):
    http_status = 415
    status = "INVALID_ARGUMENT"
    default_message = "Content-Type must be application/json"


class MethodNotAllowed(ApiError):
    http_status = 405
    status = "UNIMPLEMENTED"
    default_message = "Method not allowed"


class FailedPrecondition(ApiError):
    http_status = 400
    status = "FAILED_PRECONDITION"
    default_message = "Failed precondition"
