"""Builds our OpenAPI document from the msgspec types the endpoints really decode and encode."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from convbatch import __version__

REF = "#/components/schemas/{name}"


@dataclass(frozen=True)
class Operation:
    """One documented operation; endpoint modules list theirs in ``OPERATIONS``."""

    method: str
    path: str
    summary: str
    tag: str
    request: Any = None
    response: Any = None
    query: tuple[tuple[str, str, bool], ...] = ()  # (name, description, required)
    description: str = ""
    extension: bool = False
    responses: dict[str, str] = field(default_factory=dict)


_ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "status": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_names(op.path)
    ]
    params += [
        {"name": n, "in": "query", "required": r, "description": d, "schema": {"type": "string"}}
        for n, d, r in op.query
    ]
    return params


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def build_openapi(operations: list[Operation]) -> dict[str, Any]:
    types = [t for op in operations for t in (op.request, op.response) if t is not None]
    schemas, components = msgspec.json.schema_components(types, ref_template=REF)
    by_type = dict(zip(types, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        entry: dict[str, Any] = {
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": _parameters(op),
            "responses": {
                "200": {"description": "Success"},
                **{code: {"description": text} for code, text in op.responses.items()},
                "default": {
                    "description": "Error",
                    "content": {"application/json": {"schema": {"$ref": REF.format(name="Error")}}},
                },
            },
        }
        if op.description or op.extension:
            prefix = "Extension (not part of the Sinch API). " if op.extension else ""
            entry["description"] = prefix + op.description
        if op.request is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": by_type[op.request]}},
            }
        if op.response is not None:
            entry["responses"]["200"]["content"] = {
                "application/json": {"schema": by_type[op.response]}
            }
        if op.path.startswith("/v1") or op.path.startswith("/conversation"):
            entry["security"] = [{"BearerAuth": []}]
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "convbatch",
            "version": __version__,
            "description": "A self-hosted server of the Sinch Conversation Batch API.",
        },
        "paths": paths,
        "components": {
            "schemas": {**components, "Error": _ERROR},
            "securitySchemes": {"BearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


# Shared by the Conversation API subset's operation lists.
CONVERSATION_PREFIX = "/conversation/v1/projects/{project_id}"
MASK = (("update_mask", "Comma-separated fields to change; named fields missing from the "
         "body are reset", False),)  # fmt: skip
PAGE = (("page_size", "Items per page", False),
        ("page_token", "next_page_token of the previous page", False))  # fmt: skip
