"""msgspec wire types for Batch API request and response bodies."""
