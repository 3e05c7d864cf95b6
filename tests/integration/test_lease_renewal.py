"""Lease renewal extends only the claims the dispatcher knows it holds.

A claim whose commit reached the database but whose answer never came back (the connection
broke during COMMIT) leaves rows owned by this worker that no lane will ever send. Renewing
every row of the owner would keep those alive for as long as the worker lives; renewing only
the held ids lets them run out and be reaped like any other lost claim.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import select

from convbatch.clock import FakeClock, now_ms
from convbatch.db.tables import messages
from convbatch.engine import queries
from convbatch.engine.dispatch import Dispatcher, DispatchSettings
from tests.api.builders import batch
from tests.support import running_api

LEASE_MS = 30_000


async def test_renewal_skips_claims_the_dispatcher_does_not_hold(settings):
    clock = FakeClock()
    async with running_api(settings, clock=clock) as api:
        reply = await api.post("/messages", batch(api.tenant.app_id, 10))
        assert reply.status_code == 200
        dispatcher = Dispatcher(
            api.db, clock, cast(Any, None), "worker-1", DispatchSettings(lease_ms=LEASE_MS)
        )
        start = now_ms(clock)
        held = await dispatcher._claim({api.tenant.app_id: 6}, 6, start)
        async with api.db.transaction() as conn:  # the claim whose answer was lost
            orphans = await queries.claim_due_messages(conn, "worker-1", start, LEASE_MS, 4)
        assert len(held) == 6 and len(orphans) == 4
        assert dispatcher.held == {row.id for row in held}

        clock.advance(20)
        await dispatcher.renew_leases()
        async with api.db.read() as conn:
            leases = dict((await conn.execute(select(messages.c.id, messages.c.lease_until))).all())
        renewed_until = now_ms(clock) + LEASE_MS
        assert {row.id: leases[row.id] for row in held} == {row.id: renewed_until for row in held}
        assert {leases[row.id] for row in orphans} == {start + LEASE_MS}
        assert dispatcher.renewed == {row.id for row in held}
