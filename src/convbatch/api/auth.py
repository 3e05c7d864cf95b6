"""Bearer authentication for API routes and the OAuth2 client-credentials token endpoint."""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from convbatch.api.key_rate import retry_after_header
from convbatch.api.wire import json_response, read_body
from convbatch.errors import PermissionDenied, ResourceExhausted, TokenExpired, Unauthenticated
from convbatch.identity.repository import verify_key
from convbatch.services import Services, services_of

Handler = Callable[[Request], Awaitable[Response]]


async def require_project(request: Request) -> str:
    """Check the bearer token against the path's project and its key's revocation; return the
    project id."""
    services = services_of(request)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthenticated("Missing Authorization header; expected 'Bearer <token>'")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization header must use the Bearer scheme")
    info = services.tokens.verify(token.strip())
    if info is None:
        raise Unauthenticated("Invalid access token")
    if info.expires_at <= services.clock.now().timestamp():
        # The word "expired" in WWW-Authenticate is what makes SDKs fetch a new token.
        raise TokenExpired("The access token expired")
    if await services.revocations.is_revoked(info.key_id):
        raise Unauthenticated("The access key of this token was revoked")
    wait = services.key_rate.wait_needed(info.key_id)
    if wait:
        raise ResourceExhausted(
            f"Request rate of this access key passed {services.key_rate.rate:g} per second",
            int(retry_after_header(wait)),
        )
    project_id = request.path_params.get("project_id")
    if project_id is not None and project_id != info.project_id:
        raise PermissionDenied(f"The access token does not grant access to project {project_id}")
    return info.project_id


def authenticated(fn: Callable[[Request, str], Awaitable[Response]]) -> Handler:
    """Wrap an endpoint so it runs only for a valid token of the path's project."""

    @functools.wraps(fn)
    async def endpoint(request: Request) -> Response:
        return await fn(request, await require_project(request))

    return endpoint


def _oauth_error(status: int, code: str, description: str) -> Response:
    response = json_response({"error": code, "error_description": description}, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    key_id, sep, secret = decoded.partition(":")
    return (key_id, secret) if sep else None


async def token_endpoint(request: Request) -> Response:
    """OAuth2 client credentials, answered as auth.sinch.com answers them."""
    services: Services = services_of(request)
    body = await read_body(request, 64 * 1024)
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
    credentials = _basic_credentials(request)
    if credentials is None and "client_id" in form:
        credentials = (form["client_id"], form.get("client_secret", ""))
    if credentials is None:
        return _oauth_error(401, "invalid_client", "HTTP Basic key id and key secret required")
    async with services.db.read() as conn:
        project_id = await verify_key(conn, *credentials)
    if project_id is None:
        return _oauth_error(401, "invalid_client", "Unknown key id or wrong key secret")
    ttl = services.settings.token_ttl_seconds
    expires_at = int(services.clock.now().timestamp()) + ttl
    token = services.tokens.issue(project_id, credentials[0], expires_at)
    response = json_response(
        {"access_token": token, "expires_in": ttl, "scope": "", "token_type": "bearer"}
    )
    # A token is a credential: no cache on the way may keep it (RFC 6749, section 5.1).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
