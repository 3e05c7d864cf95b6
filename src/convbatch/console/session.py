"""Console sign-in state: a signed session cookie scoped to one project, and form tokens
against cross-site requests.

The cookie is a token of the server's signer, derived for this purpose only, so it is checked
without a database read and a bearer token can never stand in for it (nor the reverse). Every
form carries a token bound to the session cookie it was rendered for; the sign-in form, which
has no session yet, is bound to a random value in a short-lived cookie instead."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from convbatch.api.wire import read_body
from convbatch.identity.tokens import TokenSigner
from convbatch.services import Services, services_of

COOKIE = "cb_console"
PRE_COOKIE = "cb_console_signin"
COOKIE_PATH = "/console"
SIGN_IN_PATH = "/console/sign-in"
FORM_TOKEN_FIELD = "csrf_token"
MAX_FORM_BYTES = 16 * 1024
SIGN_IN_FORM_SECONDS = 3600


@dataclass(frozen=True)
class Session:
    project_id: str
    key_id: str
    expires_at: int
    cookie: str

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.cookie.encode()).hexdigest()[:32]


class FormRefused(Exception):
    """A form POST without a valid token for this session."""


def _session_signer(services: Services) -> TokenSigner:
    return services.tokens.derived("console-session")


def _form_signer(services: Services) -> TokenSigner:
    return services.tokens.derived("console-form")


def _now(services: Services) -> int:
    return int(services.clock.now().timestamp())


def current_session(request: Request) -> Session | None:
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    services = services_of(request)
    info = _session_signer(services).verify(cookie)
    if info is None or info.expires_at <= _now(services):
        return None
    return Session(info.project_id, info.key_id, info.expires_at, cookie)


def new_session_cookie(services: Services, project_id: str, key_id: str) -> tuple[str, int]:
    ttl = services.settings.console_session_seconds
    cookie = _session_signer(services).issue(project_id, key_id, _now(services) + ttl)
    return cookie, ttl


def set_cookie(request: Request, response: Response, name: str, value: str, ttl: int) -> None:
    response.set_cookie(
        name, value, max_age=ttl, path=COOKIE_PATH, httponly=True, samesite="strict",
        secure=request.url.scheme == "https",
    )  # fmt: skip


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path=COOKIE_PATH, httponly=True, samesite="strict")


def form_token(services: Services, session: Session) -> str:
    return _form_signer(services).issue(session.project_id, session.fingerprint, session.expires_at)


def sign_in_form_token(services: Services) -> tuple[str, str]:
    """A (form token, cookie value) pair for the sign-in form."""
    nonce = secrets.token_urlsafe(16)
    token = _form_signer(services).issue("", nonce, _now(services) + SIGN_IN_FORM_SECONDS)
    return token, nonce


async def read_form(request: Request) -> dict[str, str]:
    body = await read_body(request, MAX_FORM_BYTES)
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def _check_token(services: Services, token: str, project_id: str, bound_to: str) -> None:
    info = _form_signer(services).verify(token) if token else None
    if info is None or info.expires_at <= _now(services):
        raise FormRefused
    if info.project_id != project_id or not secrets.compare_digest(info.key_id, bound_to):
        raise FormRefused


def check_form(services: Services, session: Session, form: dict[str, str]) -> None:
    _check_token(services, form.get(FORM_TOKEN_FIELD, ""), session.project_id, session.fingerprint)


def check_sign_in_form(request: Request, form: dict[str, str]) -> None:
    nonce = request.cookies.get(PRE_COOKIE, "")
    if not nonce:
        raise FormRefused
    _check_token(services_of(request), form.get(FORM_TOKEN_FIELD, ""), "", nonce)


def refused() -> Response:
    return Response(
        "<!doctype html><title>Refused</title><p>This form was refused: it was not sent from a "
        "page of this console signed in as you, or it expired. Go back, reload and try again.",
        status_code=403, media_type="text/html",
    )  # fmt: skip


Page = Callable[[Request, Session], Awaitable[Response]]


def signed_in(fn: Page) -> Callable[[Request], Awaitable[Response]]:
    """Run a page for a signed-in person; send anyone else to the sign-in form."""

    @functools.wraps(fn)
    async def page(request: Request) -> Response:
        session = current_session(request)
        if session is None:
            if request.method == "GET" and "text/event-stream" not in request.headers.get(
                "accept", ""
            ):
                return RedirectResponse(SIGN_IN_PATH, status_code=303)
            return Response("Sign in first", status_code=401, media_type="text/plain")
        try:
            return await fn(request, session)
        except FormRefused:
            return refused()

    return page
