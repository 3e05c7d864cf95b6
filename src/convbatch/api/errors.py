"""Translate every error, ours or Starlette's, into the Sinch error envelope."""

from __future__ import annotations

import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from convbatch.api.wire import json_response
from convbatch.db.availability import DATABASE_ERRORS, RETRY_AFTER_S, is_unreachable
from convbatch.errors import ApiError, ResourceExhausted, TokenExpired

log = structlog.get_logger(__name__)

_HTTP_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    413: "INVALID_ARGUMENT",
    415: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
}


def unavailable() -> Response:
    """503 while the database is away: the client should try again shortly."""
    response = envelope(503, "UNAVAILABLE", "The service is temporarily unavailable; retry later")
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def envelope(code: int, status: str, message: str, details: list | None = None) -> Response:
    body = {"error": {"code": code, "message": message, "status": status, "details": details or []}}
    return json_response(body, code)


async def api_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    response = envelope(exc.http_status, exc.status, exc.message, exc.details)
    if isinstance(exc, TokenExpired):
        response.headers["WWW-Authenticate"] = (
            'Bearer error="invalid_token", error_description="The access token expired"'
        )
    elif isinstance(exc, ResourceExhausted):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    elif exc.http_status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


async def http_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = _HTTP_STATUS_NAMES.get(exc.status_code, "INTERNAL")
    message = exc.detail if isinstance(exc.detail, str) else "Request failed"
    if exc.status_code == 404:
        message = "Resource not found"
    return envelope(exc.status_code, status, message)


async def database_error_handler(request: Request, exc: Exception) -> Response:
    """Errors a database call can raise: 503 when the database is unreachable, else a 500.
    (Handled here rather than by the catch-all, which re-raises after answering.)"""
    if is_unreachable(exc):
        log.warning("database unreachable", path=request.url.path, error=type(exc).__name__)
        return unavailable()
    return await unexpected_error_handler(request, exc)


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", path=request.url.path, exc_info=exc)
    return envelope(500, "INTERNAL", "Internal error")


EXCEPTION_HANDLERS = {
    ApiError: api_error_handler,
    HTTPException: http_error_handler,
    **dict.fromkeys(DATABASE_ERRORS, database_error_handler),
    Exception: unexpected_error_handler,
}
