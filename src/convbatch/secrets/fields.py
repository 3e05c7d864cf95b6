"""Which fields hold secrets, declared once, and what is done to them: masked on every read,
kept when a write sends the mask back, sealed when stored and opened when loaded.

A secret field is named by its path in a document (``msgspec.to_builtins`` of an app or a
webhook). Three kinds: a plain secret string; a URL, whose password alone is secret; and a header
map, whose values are secret (an ``Authorization`` header is a credential).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from convbatch.errors import InvalidArgument

MASK = "********"
TEXT, URL, HEADERS = "text", "url", "headers"
Path = tuple[Any, ...]

# Sinch's per-channel credential objects: the keys in each that are credentials.
CREDENTIAL_SECRETS: dict[str, tuple[str, ...]] = {
    "static_bearer": ("token",),
    "static_token": ("token",),
    "mms_credentials": ("api_key", "basic_auth_password"),
    "instagram_credentials": ("token",),
    "telegram_credentials": ("token",),
    "kakaotalk_credentials": ("kakaotalk_sender_key",),
    "kakaotalkchat_credentials": ("api_key",),
    "wechat_credentials": ("app_secret", "token", "aes_key"),
    "applebc_credentials": ("apple_pay_certificate_password",),
    "line_credentials": ("token", "secret"),
    "line_enterprise_credentials": ("token", "secret"),
}
# Each driver's secret settings.
DRIVER_SECRETS: dict[str, dict[str, str]] = {
    "http": {"url": URL, "headers": HEADERS, "receipt_token": TEXT},
    "conversation_api": {
        "base_url": URL, "auth_url": URL, "key_secret": TEXT, "callback_secret": TEXT,
    },
}  # fmt: skip
# Settings of no known driver (or unknown keys) are judged by their names.
_SECRET_WORDS = ("secret", "token", "password", "api_key", "apikey", "credential")


def setting_kind(driver: str, key: str) -> str | None:
    declared = DRIVER_SECRETS.get(driver, {}).get(key)
    if declared is not None:
        return declared
    lowered = key.lower()
    if lowered == "headers":
        return HEADERS
    if lowered.endswith("url"):
        return URL
    return TEXT if any(word in lowered for word in _SECRET_WORDS) else None


def _credential_leaves(cred: dict[str, Any], base: Path) -> Iterator[tuple[Path, str]]:
    for name, keys in CREDENTIAL_SECRETS.items():
        found = cred.get(name)
        if isinstance(found, dict):
            yield from (((*base, name, k), TEXT) for k in keys if isinstance(found.get(k), str))
    if isinstance(cred.get("callback_secret"), str):
        yield (*base, "callback_secret"), TEXT
    settings = cred.get("driver_settings")
    if not isinstance(settings, dict):
        return
    for key, value in settings.items():
        kind = setting_kind(str(cred.get("driver", "sandbox")), key)
        if kind == HEADERS and isinstance(value, dict):
            yield from (((*base, "driver_settings", key, h), TEXT) for h in value)
        elif kind is not None and isinstance(value, str):
            yield (*base, "driver_settings", key), kind


def app_leaves(doc: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    for index, cred in enumerate(doc.get("channel_credentials") or []):
        if isinstance(cred, dict):
            yield from _credential_leaves(cred, ("channel_credentials", index))
    callback = doc.get("callback_settings")
    if isinstance(callback, dict) and callback.get("secret_for_overridden_callback_urls"):
        yield ("callback_settings", "secret_for_overridden_callback_urls"), TEXT


def webhook_leaves(doc: dict[str, Any]) -> Iterator[tuple[Path, str]]:
    if isinstance(doc.get("secret"), str):
        yield ("secret",), TEXT
    creds = doc.get("client_credentials")
    if isinstance(creds, dict) and isinstance(creds.get("client_secret"), str):
        yield ("client_credentials", "client_secret"), TEXT


Leaves = Callable[[dict[str, Any]], Iterator[tuple[Path, str]]]


def _get(doc: Any, path: Path) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _set(doc: Any, path: Path, value: Any) -> None:
    _get(doc, path[:-1])[path[-1]] = value


def url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    old = parts.password or ""
    netloc = parts.netloc.replace(f":{old}@", f":{password}@", 1)
    return parts._replace(netloc=netloc).geturl()


def _masked(value: str, kind: str) -> str:
    if kind == URL:
        return _with_password(value, MASK) if url_password(value) else value
    return MASK if value else value


def _is_mask(value: str, kind: str) -> bool:
    return (url_password(value) == MASK) if kind == URL else value == MASK


def masked(doc: dict[str, Any], leaves: Leaves) -> dict[str, Any]:
    """``doc`` (changed in place and returned) with every secret shown as the mask."""
    for path, kind in list(leaves(doc)):
        _set(doc, path, _masked(_get(doc, path), kind))
    return doc


def transformed(doc: dict[str, Any], leaves: Leaves, change: Callable[[str], str]) -> dict:
    """``doc`` (changed in place) with ``change`` applied to every secret value. A URL is
    changed whole only when it carries a password."""
    for path, kind in list(leaves(doc)):
        value = _get(doc, path)
        if kind != URL or url_password(value):
            _set(doc, path, change(value))
    return doc


def restore_masked(
    new: dict[str, Any], old: dict[str, Any] | None, leaves: Leaves,
    old_path: Callable[[Path], Path | None] = lambda p: p,
) -> dict[str, Any]:  # fmt: skip
    """``new`` (changed in place) where every secret sent back as the mask takes the stored
    value at the same place of ``old``; a mask with nothing stored behind it is a 400."""
    for path, kind in list(leaves(new)):
        value = _get(new, path)
        if not _is_mask(value, kind):
            continue
        where = old_path(path)
        try:
            stored = _get(old, where) if old is not None and where is not None else None
        except (KeyError, IndexError, TypeError):
            stored = None
        if not isinstance(stored, str):
            field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path)
            raise InvalidArgument.field(
                field.replace(".[", "["), "is the mask of a secret, but no secret is stored here"
            )
        if kind == URL and url_password(stored) is None:
            raise InvalidArgument.field(".".join(map(str, path)), "no stored password to keep")
        _set(
            new, path, stored if kind != URL else _with_password(value, url_password(stored) or "")
        )
    return new


def open_tree(value: Any, open_: Callable[[str], str]) -> Any:
    """A copy of ``value`` with every sealed string inside it opened."""
    if isinstance(value, str):
        return open_(value)
    if isinstance(value, dict):
        return {k: open_tree(v, open_) for k, v in value.items()}
    if isinstance(value, list):
        return [open_tree(v, open_) for v in value]
    return value
