"""Log output of the server and worker processes.

structlog's default console output renders an exception with the local variables of every
frame; in a request handler those are request headers (bearer tokens), decoded bodies and
opened secrets. Tracebacks here carry file, line and exception only.
"""

from __future__ import annotations

import logging

import structlog


def configure_logging(level: str = "info") -> None:
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.dev.ConsoleRenderer(
                colors=False, exception_formatter=structlog.dev.plain_traceback
            ),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        cache_logger_on_first_use=False,
    )
