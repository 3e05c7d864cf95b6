"""Deleting finished data once it is old enough, so the database does not grow forever."""
