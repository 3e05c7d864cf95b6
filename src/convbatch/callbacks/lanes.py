"""Per-endpoint lanes: each endpoint has its own queue of claimed *chains* (a delivery and the
later ones of the same message, sent in order) and at most ``per_target`` lanes sending from
it, at most ``per_project`` for one project's endpoints together, within ``concurrency`` lanes
in all; so a slow or dead endpoint only ever occupies its own lanes, and a project with many
slow endpoints only its share."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Coroutine
from typing import Any

from convbatch.callbacks.outcomes import Claim
from convbatch.callbacks.policy import WebhookSettings

WAITING_PER_LANE = 16  # chains queued per endpoint lane before that endpoint is skipped
SendChain = Callable[[list[Claim]], Coroutine[Any, Any, None]]
Spawn = Callable[[Coroutine[Any, Any, None], str], object]


class Lanes:
    def __init__(self, settings: WebhookSettings, send_chain: SendChain, spawn: Spawn) -> None:
        self.settings = settings
        self._send_chain = send_chain
        self._spawn = spawn
        self._queues: dict[str, deque[list[Claim]]] = {}  # endpoint -> chains waiting
        self._running: Counter[str] = Counter()  # endpoint -> lanes sending
        self._by_project: Counter[str] = Counter()  # project -> lanes sending
        self.closed = False

    def add(self, claims: list[Claim]) -> None:
        """Queue claims as chains (one per message and endpoint, in event order)."""
        chains: dict[object, list[Claim]] = {}
        for claim in sorted(claims, key=lambda c: (c.event_id, c.id)):
            key = (claim.order_key, claim.queued_target) if claim.order_key else claim.id
            chains.setdefault(key, []).append(claim)
        for chain in chains.values():
            self._queues.setdefault(chain[0].queued_target, deque()).append(chain)

    def full(self) -> list[str]:
        """Endpoints with enough queued already: a claim skips them."""
        cap = self.settings.per_target * WAITING_PER_LANE
        return [target for target, queue in self._queues.items() if len(queue) >= cap]

    def start(self) -> None:
        """Start lanes where an endpoint has chains waiting and room to send."""
        busy = sum(self._running.values())
        for target, queue in list(self._queues.items()):
            if not queue and not self._running[target]:
                del self._queues[target]
                continue
            room = min(self.settings.per_target, len(queue))
            project = queue[0][0].project_id if queue else ""
            while (queue and busy < self.settings.concurrency and self._running[target] < room
                   and self._by_project[project] < self.settings.per_project):  # fmt: skip
                self._running[target] += 1
                self._by_project[project] += 1
                busy += 1
                self._spawn(self._lane(target, project, queue), f"webhook-lane-{target}")

    async def _lane(self, target: str, project: str, queue: deque[list[Claim]]) -> None:
        try:
            while queue and not self.closed:
                await self._send_chain(queue.popleft())
        finally:
            self._running[target] -= 1
            self._by_project[project] -= 1

    def clear(self) -> None:
        self._queues.clear()
