"""A project's webhook endpoints together hold at most their share of the sender's lanes: one
tenant with many slow endpoints cannot take every delivery slot."""

from __future__ import annotations

import asyncio

from convbatch.callbacks.lanes import Lanes
from convbatch.callbacks.outcomes import Claim
from convbatch.callbacks.policy import WebhookSettings


def claim(n: int, project: str, target: str) -> Claim:
    return Claim(f"D{n}", target, target, f"M{n}", n, 0, 0, b"{}", project_id=project)


async def test_a_project_gets_at_most_its_share_of_lanes() -> None:
    release = asyncio.Event()
    sending: list[str] = []
    tasks: list[asyncio.Task[None]] = []

    async def send_chain(chain: list[Claim]) -> None:
        sending.append(chain[0].project_id)
        await release.wait()

    def spawn(work, _name: str) -> None:  # type: ignore[no-untyped-def]
        tasks.append(asyncio.ensure_future(work))

    settings = WebhookSettings(per_target=2, concurrency=10, per_project=4)
    lanes = Lanes(settings, send_chain, spawn)
    slow = [claim(n, "busy", f"http://slow{n % 6}.test/") for n in range(30)]
    lanes.add([*slow, claim(99, "quiet", "http://quiet.test/")])
    lanes.start()
    await asyncio.sleep(0)
    assert sending.count("busy") == 4  # its share, though 6 endpoints x 2 lanes had room
    assert sending.count("quiet") == 1  # another project is not held up
    release.set()
    await asyncio.gather(*tasks)
