"""Consent lists: the identities of an app that opted out of all or some messages."""
