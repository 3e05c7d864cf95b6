"""Stored secrets: the operator's key, encryption at rest, and the write-only fields of schemas."""
