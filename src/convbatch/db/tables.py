"""Every table, in one MetaData.

Timestamps are integer milliseconds since the epoch (UTC): the same on both databases, cheap to
compare and to bulk-insert. Documents that the API echoes back are stored as JSON text encoded by
msgspec, so reads hand them back without re-validating.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

Ms = BigInteger  # epoch milliseconds

server_state = Table(
    "server_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

projects = Table(
    "projects",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("display_name", Text, nullable=False, server_default=""),
    Column("created_at", Ms, nullable=False),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("secret_hash", String(128), nullable=False),
    Column("created_at", Ms, nullable=False),
    Column("revoked_at", Ms),
)

apps = Table(
    "apps",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("doc", Text, nullable=False),  # the App resource as the API returns it
    Column("created_at", Ms, nullable=False),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("project_id", String(64), nullable=False),
    Column("app_id", String(26), nullable=False, index=True),
    Column("doc", Text, nullable=False),
    Column("created_at", Ms, nullable=False),
    # Every transaction that writes events reads its projects' webhooks (callbacks/outbox.py).
    Index("ix_webhooks_project", "project_id", "app_id"),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("project_id", String(64), nullable=False),
    Column("doc", Text, nullable=False),
    # Copied out of doc so listing contacts by external_id is an index lookup.
    Column("external_id", Text),
    Column("created_at", Ms, nullable=False),
    Index("ix_contacts_project_id", "project_id", "id"),
    Index("ix_contacts_external_id", "project_id", "external_id"),
)

# Lookup from a channel identity to the contacts that carry it.
contact_identities = Table(
    "contact_identities",
    metadata,
    Column("contact_id", String(26), nullable=False),
    Column("project_id", String(64), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("identity", Text, nullable=False),
    Index("ix_contact_identities_lookup", "project_id", "channel", "identity"),
    Index("ix_contact_identities_contact", "contact_id"),
)

consents = Table(
    "consents",
    metadata,
    Column("project_id", String(64), nullable=False),
    Column("app_id", String(26), nullable=False),
    Column("list_type", String(32), nullable=False),
    Column("identity", Text, nullable=False),
    Column("created_at", Ms, nullable=False),
    UniqueConstraint("app_id", "list_type", "identity", name="uq_consents_entry"),
    Index("ix_consents_identity", "app_id", "identity"),
)

consent_audit = Table(
    "consent_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", String(64), nullable=False),
    Column("app_id", String(26), nullable=False),
    Column("identity", Text, nullable=False),
    Column("list_type", String(32), nullable=False),
    Column("operation", String(32), nullable=False),
    Column("origin", String(32), nullable=False),
    Column("created_at", Ms, nullable=False),
    Index("ix_consent_audit_identity", "app_id", "identity"),
)

# One row per accepted batch of any type. Counters are kept here so a status read is one row.
batches = Table(
    "batches",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("project_id", String(64), nullable=False),
    Column("app_id", String(26)),
    Column("batch_type", String(16), nullable=False),  # MESSAGES, CONTACTS, CONSENTS
    Column("operation", String(16), nullable=False),  # SEND, CREATE, DELETE, INSERT
    Column("status", String(16), nullable=False),  # SCHEDULED, READY, PROCESSED, CANCELLED
    Column("send_after", Ms),  # effective schedule; NULL for immediate batches
    Column("metadata", Text, nullable=False, server_default="{}"),  # batch_metadata
    Column("request", Text, nullable=False, server_default="{}"),  # template and options
    Column("total", Integer, nullable=False, server_default="0"),
    Column("queued", Integer, nullable=False, server_default="0"),
    Column("sent", Integer, nullable=False, server_default="0"),
    Column("delivered", Integer, nullable=False, server_default="0"),
    Column("read", Integer, nullable=False, server_default="0"),
    Column("failed", Integer, nullable=False, server_default="0"),
    Column("cancelled", Integer, nullable=False, server_default="0"),
    Column("expired", Integer, nullable=False, server_default="0"),
    Column("created_at", Ms, nullable=False),
    Column("updated_at", Ms, nullable=False),
    Index("ix_batches_project", "project_id", "created_at"),
    Index("ix_batches_due", "status", "send_after"),
)

# batch_metadata exploded for lookups and cancellation by key and value.
batch_metadata = Table(
    "batch_metadata",
    metadata,
    Column("batch_id", String(26), nullable=False),
    Column("project_id", String(64), nullable=False),
    Column("key", Text, nullable=False),
    Column("value", Text, nullable=False),
    Index("ix_batch_metadata_lookup", "project_id", "key", "value"),
)

# The per-recipient ledger and queue: one row per message the engine must send.
messages = Table(
    "messages",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("project_id", String(64), nullable=False),
    Column("app_id", String(26), nullable=False),
    Column("batch_id", String(26)),  # NULL for single sends
    Column("idx", Integer, nullable=False),  # index into recipient_and_params
    Column("payload", Text, nullable=False),  # the recipient entry (or single-send request)
    Column("state", String(16), nullable=False),  # engine state, see engine issue
    Column("due_at", Ms, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("lease_until", Ms),
    Column("lease_owner", String(64)),
    # An at-most-once attempt began at this time and its outcome is not recorded yet.
    Column("send_started_at", Ms),
    Column("channel", String(32)),  # channel of the latest attempt
    Column("identity", Text),
    Column("contact_id", String(26)),  # resolved contact, when addressed by contact_id
    Column("metadata", Text),  # merged message metadata (JSON string), set when sent or failed
    Column("delivery_status", String(24)),  # furthest receipt status seen
    Column("reason_code", String(64)),
    Column("reason_description", Text),
    Column("created_at", Ms, nullable=False),
    Column("updated_at", Ms, nullable=False),
    UniqueConstraint("batch_id", "idx", name="uq_messages_batch_idx"),
    # Partial indexes: only rows waiting or in flight are indexed, so the queue index stays small
    # and a message leaving the engine costs no queue-index entries.
    Index(
        "ix_messages_queue",
        "app_id",
        "due_at",
        sqlite_where=text("state = 'QUEUED'"),
        postgresql_where=text("state = 'QUEUED'"),
    ),
    Index(
        "ix_messages_leases",
        "lease_until",
        sqlite_where=text("state = 'SENDING'"),
        postgresql_where=text("state = 'SENDING'"),
    ),
    Index("ix_messages_project", "project_id", "created_at"),
)

# Items of contacts and consents batches, run by the engine.
batch_items = Table(
    "batch_items",
    metadata,
    Column("batch_id", String(26), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("payload", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("result", Text),
)

cancel_requests = Table(
    "cancel_requests",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("project_id", String(64), nullable=False),
    Column("request", Text, nullable=False),
    Column("cancelled", Integer, nullable=False, server_default="0"),
    Column("created_at", Ms, nullable=False),
)

# Events, each payload stored once (written, with one webhook_deliveries row per receiving
# endpoint, in the transaction that caused them; state is always FANNED_OUT since 0002).
outbox_events = Table(
    "outbox_events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("project_id", String(64), nullable=False),
    Column("app_id", String(26)),
    Column("trigger", String(48), nullable=False),
    Column("batch_id", String(26)),
    Column("message_id", String(26)),
    Column("callback_url", Text),  # a batch's callback_url overrides the app's webhooks
    Column("payload", Text, nullable=False),
    Column("created_at", Ms, nullable=False),
    Column("state", String(16), nullable=False, server_default="PENDING"),
)

# One row per (outbox event, receiving endpoint): the delivery queue of webhook callbacks.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("event_id", BigInteger, nullable=False),  # outbox_events.id, holds the payload
    Column("project_id", String(64), nullable=False),
    Column("app_id", String(26), nullable=False),  # the app whose webhook receives it
    Column("webhook_id", String(26)),  # NULL when the event's own callback_url is the target
    Column("target", Text, nullable=False),
    Column("trigger", String(48), nullable=False),
    Column("message_id", String(26)),
    Column("batch_id", String(26)),
    # Message id, else batch id: one endpoint gets the events sharing a key in event order.
    Column("order_key", String(26)),
    Column("state", String(16), nullable=False),  # PENDING, DELIVERED, FAILED, DEAD
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Ms, nullable=False),
    Column("retry_since", Ms, nullable=False),  # start of the retry window (fan-out or re-drive)
    Column("lease_until", Ms),
    Column("lease_owner", String(128)),
    Column("last_status", Integer),  # HTTP status of the latest attempt
    Column("last_error", Text),  # connection error, timeout, or why it was not sent
    Column("redrives", Integer, nullable=False, server_default="0"),
    Column("created_at", Ms, nullable=False),
    Column("updated_at", Ms, nullable=False),
    Column("finished_at", Ms),
    Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
    Index("ix_webhook_deliveries_order", "order_key", "target", "event_id"),
    Index("ix_webhook_deliveries_app", "project_id", "app_id", "state", "id"),
)

# Every HTTP attempt of a delivery, kept for inspection of failing endpoints.
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("delivery_id", String(26), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("started_at", Ms, nullable=False),
    Column("target", Text, nullable=False),
    Column("http_status", Integer),
    Column("error", Text),
    Column("latency_ms", Integer, nullable=False),
    Column("response_body", Text),  # the first kilobyte at most
    Index("ix_webhook_attempts_delivery", "delivery_id", "id"),
)

# Global token buckets: one row per (app, channel) shared by every worker process.
rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("app_id", String(26), primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("next_slot_at", Float, nullable=False),  # ms; see engine/ratelimit.py
)

# What the sandbox channel received: its durable inbox, one row per message id.
sandbox_inbox = Table(
    "sandbox_inbox",
    metadata,
    Column("message_id", String(26), primary_key=True),
    Column("project_id", String(64), nullable=False),
    Column("app_id", String(26), nullable=False),
    Column("batch_id", String(26)),
    Column("channel", String(32), nullable=False),
    Column("identity", Text, nullable=False),
    Column("body", Text, nullable=False),  # the rendered message as the channel got it
    Column("deliveries", Integer, nullable=False, server_default="1"),  # duplicates absorbed
    Column("received_at", Ms, nullable=False),
    Column("next_receipt_at", Ms),  # when the next simulated receipt is due
    Column("receipt_plan", Text),  # remaining receipts, e.g. ["DELIVERED", "READ"]
    Index("ix_sandbox_receipts", "next_receipt_at"),
    Index("ix_sandbox_app", "app_id", "received_at"),
)

# Messages the conversation_api driver relayed: the upstream's message id mapped to ours, so its
# receipts find our message and a relay repeated after a crash is recognised and not resent.
relay_messages = Table(
    "relay_messages",
    metadata,
    Column("upstream_id", String(64), primary_key=True),
    Column("message_id", String(26), nullable=False),
    Column("app_id", String(26), nullable=False),
    Column("created_at", Ms, nullable=False),
    Index("ix_relay_messages_message", "message_id"),
)
