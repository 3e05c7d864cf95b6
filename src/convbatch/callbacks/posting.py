"""Posting one claimed delivery: sign the stored payload, POST it, and say what happened.

The HTTP session is made in one place (``new_session``): how outbound connections are opened
is decided there and nowhere else."""

from __future__ import annotations

import time

import aiohttp

from convbatch import __version__
from convbatch.callbacks.outcomes import Claim, Outcome
from convbatch.callbacks.policy import WebhookSettings
from convbatch.callbacks.policy import parse_retry_after as _retry_after
from convbatch.callbacks.signing import signature_headers
from convbatch.clock import Clock, now_ms
from convbatch.net.session import failure_words, guarded_session, read_capped

BODY_LIMIT = 1024  # bytes of a response body read, to tell its size (the body is not kept)


def new_session(settings: WebhookSettings) -> aiohttp.ClientSession:
    """The pooled session every webhook request goes through: it connects only to addresses
    the outbound policy allows (checked on the resolved address)."""
    timeout = aiohttp.ClientTimeout(total=settings.timeout_s)
    return guarded_session(settings.concurrency, timeout, limit_per_host=0, ttl_dns_cache=300)


class Poster:
    def __init__(self, settings: WebhookSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.session: aiohttp.ClientSession | None = None

    async def post(self, claim: Claim) -> Outcome:
        """One attempt; errors come back in the outcome, never as exceptions."""
        headers = {"Content-Type": "application/json", "User-Agent": f"convbatch/{__version__}"}
        if claim.secret:
            signed_at = int(self.clock.now().timestamp())
            headers.update(signature_headers(claim.secret, claim.payload, signed_at))
        outcome = Outcome(started_ms=now_ms(self.clock), latency_ms=0)
        began = time.monotonic()
        try:
            async with self._session().post(
                claim.target, data=claim.payload, headers=headers, allow_redirects=False
            ) as reply:
                outcome.status = reply.status
                outcome.retry_after_s = _retry_after(reply.headers.get("Retry-After"))
                # The target's reply is the tenant's to read at the target, never here: a
                # target pointed at some internal service would show its answers.
                body, more = await read_capped(reply, BODY_LIMIT)
                outcome.body = f"{len(body)}{'+' if more else ''} bytes, not kept"
        except TimeoutError:
            outcome.error = f"timed out after {self.settings.timeout_s:g} s"
        except (aiohttp.ClientError, ValueError) as exc:
            outcome.error = failure_words(exc)
        outcome.latency_ms = int((time.monotonic() - began) * 1000)
        return outcome

    def _session(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running event loop that will drive it.
        if self.session is None:
            self.session = new_session(self.settings)
        return self.session

    async def aclose(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None
