"""convbatch: a self-hosted, wire-compatible Sinch Conversation Batch API."""

__version__ = "0.1.0"
