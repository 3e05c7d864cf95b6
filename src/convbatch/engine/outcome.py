"""What an attempt's result means for its message: sent, failed, retried later, deferred to a
rate-limit slot, or moved to the recipient's next channel. Pure: it only fills a RoundRecord."""

from __future__ import annotations

from convbatch.engine.plan import Decision
from convbatch.engine.ratelimit import RATE_SLOT
from convbatch.engine.record import RoundRecord
from convbatch.engine.retry import RetryPolicy


def apply_outcome(d: Decision, record: RoundRecord, retry: RetryPolicy) -> None:
    if d.released:
        record.again(d, record.now_ms, d.row.reason_code, None, attempts=d.row.attempts - 1)
    elif d.failure is not None:
        record.failed(d, *d.failure)
    elif d.deferred_to is not None:
        record.again(d, d.deferred_to, RATE_SLOT, None, attempts=d.row.attempts - 1)
    elif d.result is None or d.result.outcome == "accepted":
        record.sent(d)
    elif d.result.outcome == "retry":
        code, text = d.result.reason_code or "INTERNAL_ERROR", d.result.description or ""
        if retry.exhausted(d.row.attempts):
            record.failed(d, "FAILED", code, f"gave up after {d.row.attempts} attempts: {text}")
        else:
            record.again(d, record.now_ms + retry.delay_ms(d.row.attempts), code, text)
    else:
        code, text = d.result.reason_code or "CHANNEL_FAILURE", d.result.description or ""
        if d.channel is not None and has_next_channel(d):
            record.switch_channel(d, code, text)
        else:
            record.failed(d, "FAILED", code, text)


def has_next_channel(d: Decision) -> bool:
    channels = [c[0] for c in d.candidates]
    return d.channel in channels and channels.index(d.channel) + 1 < len(channels)
