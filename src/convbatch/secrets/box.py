"""The server's secret key and what it protects.

One 256-bit key, from ``CONVBATCH_SECRET_KEY`` or from a key file created (mode 0600) on first
start: beside the SQLite database, or ``convbatch.key`` in the working directory for PostgreSQL
(``CONVBATCH_SECRET_KEY_FILE`` names another). Stored secrets are sealed with AES-GCM under it;
the token signing key is derived from it, so neither is readable from the database alone.

Every process that shares a database must share the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import make_url

PREFIX = "enc:v1:"
KEY_VARIABLE = "CONVBATCH_SECRET_KEY"
KEY_FILE_VARIABLE = "CONVBATCH_SECRET_KEY_FILE"


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._key = key
        self._aead = AESGCM(hashlib.sha256(b"convbatch secrets\0" + key).digest())

    def seal(self, text: str) -> str:
        """``text`` encrypted, as a string that says it is (values sealed once stay so)."""
        if text.startswith(PREFIX):
            return text
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, text.encode(), None)
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, text: str) -> str:
        """The plain value of a sealed string; other strings (stored before encryption came)
        are returned as they are."""
        if not text.startswith(PREFIX):
            return text
        try:
            raw = base64.urlsafe_b64decode(text[len(PREFIX) :].encode())
            return self._aead.decrypt(raw[:12], raw[12:], None).decode()
        except (InvalidTag, ValueError, binascii.Error):
            raise ValueError("a stored secret cannot be read with this server's key") from None

    def derive(self, purpose: str) -> bytes:
        """A key for one purpose (such as signing tokens), derived from the secret key."""
        return hmac.new(self._key, purpose.encode(), hashlib.sha256).digest()


def key_from_text(text: str) -> bytes:
    """The key a ``CONVBATCH_SECRET_KEY`` value stands for: 32 bytes in base64, or any other
    text (hashed)."""
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
        if len(raw) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    return hashlib.sha256(text.encode()).digest()


def default_key_file(database_url: str) -> Path | None:
    """Beside a SQLite database file; None for an in-memory one; in the working directory
    for PostgreSQL."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return Path("convbatch.key")
    if not url.database or url.database == ":memory:":
        return None
    return Path(url.database + ".key")


def read_or_create_key_file(path: Path) -> bytes:
    """The key in ``path``, created with mode 0600 if the file does not exist. Processes that
    start together agree: only one creates it, the others read what it wrote."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            text = path.read_text().strip()
            if text:
                return key_from_text(text)
            time.sleep(0.05)  # another process has just created it and is writing
        raise RuntimeError(f"secret key file {path} is empty") from None
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.urlsafe_b64encode(key).decode() + "\n")
    return key


def load_key(database_url: str, key_text: str = "", key_file: str = "") -> bytes:
    key_text = key_text or os.environ.get(KEY_VARIABLE, "")
    if key_text:
        return key_from_text(key_text)
    path = (
        Path(key_file or os.environ.get(KEY_FILE_VARIABLE, ""))
        if (key_file or os.environ.get(KEY_FILE_VARIABLE))
        else default_key_file(database_url)
    )
    if path is None:
        return secrets.token_bytes(32)
    return read_or_create_key_file(path)


_current: SecretBox | None = None


def install(box: SecretBox) -> SecretBox:
    """Make ``box`` the process's box (one key per process)."""
    global _current
    _current = box
    return box


def install_for(database_url: str, key_text: str = "", key_file: str = "") -> SecretBox:
    return install(SecretBox(load_key(database_url, key_text, key_file)))


def current_box() -> SecretBox:
    """The installed box; before any is installed, the one of ``CONVBATCH_SECRET_KEY``."""
    if _current is None:
        text = os.environ.get(KEY_VARIABLE, "")
        if not text:
            raise RuntimeError("no secret key loaded (CONVBATCH_SECRET_KEY or a key file)")
        return install(SecretBox(key_from_text(text)))
    return _current
