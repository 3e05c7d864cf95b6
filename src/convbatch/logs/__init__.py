"""Logs: structlog set up once per process (``CONVBATCH_LOG_FORMAT=console|json``), request ids,
and one line per HTTP request."""
