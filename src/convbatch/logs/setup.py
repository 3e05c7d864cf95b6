"""One logging set-up for structlog and the standard library (uvicorn, SQLAlchemy), so every line
of a process has the same shape: readable lines on a terminal (``console``) or one JSON object
per line (``json``) for a log pipeline.

Secrets never reach the output: any field whose name says it holds credentials (authorization,
cookie, headers, token, secret, password) is replaced before rendering."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from structlog.typing import EventDict, Processor

FORMATS = ("console", "json")
REDACTED = "[redacted]"
_SECRET_WORDS = ("authorization", "cookie", "headers", "token", "secret", "password")

# Level of the per-request line: info where logs are collected (json), debug on a terminal;
# None until logging is set up (an app built in a test or an embedding program writes none).
request_level: int | None = None


def redact(_logger: Any, _method: str, event: EventDict) -> EventDict:
    for key in event:
        if any(word in key.lower() for word in _SECRET_WORDS):
            event[key] = REDACTED
    return event


def _shared() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]


def _renderer(log_format: str) -> Processor:
    if log_format == "json":
        return structlog.processors.JSONRenderer()
    # Plain tracebacks: the default one prints every frame's local variables, which in a
    # request handler are headers (bearer tokens), decoded bodies and opened secrets.
    return structlog.dev.ConsoleRenderer(
        colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
    )


def configure_logging(log_format: str = "console", level: str = "info") -> None:
    """Set up this process's logging; call once at start, before serving."""
    global request_level
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {log_format!r}")
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    request_level = logging.INFO if log_format == "json" else logging.DEBUG
    final: list[Processor] = []
    if log_format == "json":
        final.append(structlog.processors.format_exc_info)
    structlog.configure(
        processors=[*_shared(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *final,
            _renderer(log_format),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # uvicorn's own loggers would otherwise keep their handlers and print twice.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Migrations say what they do at info on every start; only their problems are news.
    logging.getLogger("alembic").setLevel(max(numeric, logging.WARNING))
