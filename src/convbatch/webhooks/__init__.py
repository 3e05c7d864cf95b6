"""Webhooks: where an app's events are delivered, and which events each target wants."""
