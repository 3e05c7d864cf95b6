"""Contacts and consents batches: accepted here, run by the engine."""
