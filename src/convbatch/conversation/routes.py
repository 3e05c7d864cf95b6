"""Routes of the Conversation API subset (mounted at /conversation/v1/projects/{project_id})."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
