"""Outbound HTTP for tenants: which addresses may be reached; sessions that enforce it."""
