"""Webhook callbacks: event payloads, the outbox and its delivery."""
