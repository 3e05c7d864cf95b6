"""OpenAPI entries of the Conversation API subset."""

from convbatch.api.openapi import Operation

OPERATIONS: list[Operation] = []
