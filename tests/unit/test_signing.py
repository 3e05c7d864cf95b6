"""Callback signatures: the published test vector, and the official SDK's verdict on ours."""

from __future__ import annotations

import json

from sinch import SinchClient

from convbatch.callbacks.signing import ALGORITHM, signature, signature_headers
from convbatch.ids import is_ulid

# The CONTACT_CREATE callback of the reference's contacts section, serialised compactly.
CONTACT_CREATE = {
    "app_id": "",
    "accepted_time": "2021-10-18T17:49:13.813615Z",
    "project_id": "e2df3a34-a71b-4448-9db5-a8d2baad28e4",
    "contact_create_notification": {
        "contact": {
            "id": "01FJA8B466Y0R2GNXD78MD9SM1",
            "channel_identities": [{"channel": "SMS", "identity": "48123456789", "app_id": ""}],
            "display_name": "New Test Contact",
            "email": "new.contact@email.com",
            "external_id": "",
            "metadata": "",
            "language": "EN_US",
        }
    },
    "message_metadata": "",
}
BODY = json.dumps(CONTACT_CREATE, separators=(",", ":")).encode()


def test_reference_vector():
    got = signature("foo_secret1234", BODY, "01FJA8B4A7BM43YGWSG9GBV067", "1634579353")
    assert got == "6bpJoRmFoXVjfJIVglMoJzYXxnoxRujzR4k2GOXewOE="


def test_headers_carry_a_fresh_nonce_and_the_time():
    first = signature_headers("s3cr3t", BODY, 1634579353)
    second = signature_headers("s3cr3t", BODY, 1634579353)
    assert first["x-sinch-webhook-signature-timestamp"] == "1634579353"
    assert first["x-sinch-webhook-signature-algorithm"] == ALGORITHM == "HmacSHA256"
    assert is_ulid(first["x-sinch-webhook-signature-nonce"])
    assert first["x-sinch-webhook-signature-nonce"] != second["x-sinch-webhook-signature-nonce"]
    assert first["x-sinch-webhook-signature"] != second["x-sinch-webhook-signature"]
    fixed = signature_headers("foo_secret1234", BODY, 1634579353, "01FJA8B4A7BM43YGWSG9GBV067")
    assert fixed["x-sinch-webhook-signature"] == "6bpJoRmFoXVjfJIVglMoJzYXxnoxRujzR4k2GOXewOE="


def test_the_sdk_accepts_our_signature_and_rejects_tampering():
    headers = signature_headers("s3cr3t", BODY, 1700000000)
    events = SinchClient().conversation.sinch_events("s3cr3t")
    assert events.validate_authentication_header(headers, BODY) is True
    assert events.validate_authentication_header(headers, BODY.decode()) is True
    tampered = BODY.replace(b"New Test Contact", b"Evil Test Contact")
    assert events.validate_authentication_header(headers, tampered) is False
    other = SinchClient().conversation.sinch_events("another-secret")
    assert other.validate_authentication_header(headers, BODY) is False
    stale = {**headers, "x-sinch-webhook-signature-timestamp": "1700000001"}
    assert events.validate_authentication_header(stale, BODY) is False
