"""Signing in with an access key (checked as the token endpoint checks it) and signing out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from convbatch.console.render import PAGE_HEADERS, templates
from convbatch.console.session import (
    COOKIE,
    FORM_TOKEN_FIELD,
    PRE_COOKIE,
    SIGN_IN_FORM_SECONDS,
    SIGN_IN_PATH,
    FormRefused,
    Session,
    check_form,
    check_sign_in_form,
    clear_cookie,
    current_session,
    new_session_cookie,
    read_form,
    refused,
    set_cookie,
    sign_in_form_token,
    signed_in,
)
from convbatch.identity.repository import verify_key
from convbatch.services import services_of

HOME = "/console/batches"


def _sign_in_page(request: Request, error: str = "", key_id: str = "") -> Response:
    token, nonce = sign_in_form_token(services_of(request))
    context = {"session": None, "csrf_field": FORM_TOKEN_FIELD, "csrf_token": token,
               "error": error, "key_id": key_id}  # fmt: skip
    response = templates.TemplateResponse(
        request, "sign_in.html", context, status_code=401 if error else 200, headers=PAGE_HEADERS
    )
    set_cookie(request, response, PRE_COOKIE, nonce, SIGN_IN_FORM_SECONDS)
    return response


async def home(request: Request) -> Response:
    target = HOME if current_session(request) is not None else SIGN_IN_PATH
    return RedirectResponse(target, status_code=303)


async def sign_in_form(request: Request) -> Response:
    if current_session(request) is not None:
        return RedirectResponse(HOME, status_code=303)
    return _sign_in_page(request)


async def sign_in(request: Request) -> Response:
    form = await read_form(request)
    try:
        check_sign_in_form(request, form)
    except FormRefused:
        return refused()
    key_id, secret = form.get("key_id", "").strip(), form.get("key_secret", "")
    services = services_of(request)
    project_id = None
    if key_id and secret:
        async with services.db.read() as conn:
            project_id = await verify_key(conn, key_id, secret)
    if project_id is None:
        return _sign_in_page(request, "Unknown access key id or wrong secret.", key_id)
    cookie, ttl = new_session_cookie(services, project_id, key_id)
    response = RedirectResponse(HOME, status_code=303)
    set_cookie(request, response, COOKIE, cookie, ttl)
    clear_cookie(response, PRE_COOKIE)
    return response


@signed_in
async def sign_out(request: Request, session: Session) -> Response:
    check_form(services_of(request), session, await read_form(request))
    response = RedirectResponse(SIGN_IN_PATH, status_code=303)
    clear_cookie(response, COOKIE)
    return response
