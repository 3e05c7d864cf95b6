"""How an app is answered on the wire.

The official SDK parses every channel credential strictly (for instance SMS needs
``static_bearer.claimed_identity`` and ``token``), so a channel configured only for a local
driver is shown with an empty credential object of the kind the SDK expects. Nothing of this
is stored.
"""

from __future__ import annotations

from typing import Any

from convbatch.apps.schemas import App, AppView, ChannelCredential, ChannelCredentialView
from convbatch.secrets.sealing import masked_app

# The credential object each channel carries, and the keys the SDK requires in it.
_EXPECTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "SMS": ("static_bearer", ("claimed_identity", "token")),
    "RCS": ("static_bearer", ("claimed_identity", "token")),
    "WHATSAPP": ("static_bearer", ("claimed_identity", "token")),
    "VIBERBM": ("static_bearer", ("claimed_identity", "token")),
    "MESSENGER": ("static_token", ("token",)),
    "MMS": ("mms_credentials", ("account_id", "api_key")),
    "INSTAGRAM": ("instagram_credentials", ("token",)),
    "TELEGRAM": ("telegram_credentials", ("token",)),
    "KAKAOTALK": ("kakaotalk_credentials", ("kakaotalk_plus_friend_id", "kakaotalk_sender_key")),
    "KAKAOTALKCHAT": ("kakaotalkchat_credentials", ("kakaotalk_plus_friend_id",)),
    "WECHAT": ("wechat_credentials", ("app_id", "app_secret", "token", "aes_key")),
    "APPLEBC": ("applebc_credentials", ("business_chat_account_id",)),
    "LINE": ("line_credentials", ("token", "secret")),
}


def credential_view(credential: ChannelCredential) -> ChannelCredentialView:
    fields: dict[str, Any] = {f: getattr(credential, f) for f in credential.__struct_fields__}
    fields["driver_settings"] = dict(credential.driver_settings or {})
    key, required = _EXPECTED[credential.channel]
    has_line_enterprise = credential.channel == "LINE" and credential.line_enterprise_credentials
    if not has_line_enterprise:
        given = dict(fields[key] or {})
        for name in required:
            given.setdefault(name, "")
        fields[key] = given
    return ChannelCredentialView(**fields)


def app_view(app: App) -> AppView:
    """The app as answered: every secret (secrets/fields.py) is shown as a mask."""
    app = masked_app(app)
    fields: dict[str, Any] = {f: getattr(app, f) for f in app.__struct_fields__}
    fields["channel_credentials"] = [credential_view(c) for c in app.channel_credentials]
    return AppView(**fields)
