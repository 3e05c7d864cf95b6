"""What an attempt's outcome means for a webhook delivery, and the delivery settings."""

from __future__ import annotations

from convbatch.callbacks.policy import (
    DEAD,
    DELIVERED,
    FAILED,
    PENDING,
    WebhookSettings,
    after_attempt,
    backoff_ms,
    classify,
    parse_retry_after,
)

S = WebhookSettings()


def test_classify():
    assert [classify(s) for s in (200, 204, 299)] == [DELIVERED] * 3
    assert [classify(s) for s in (None, 408, 429, 500, 503, 599)] == [PENDING] * 6
    assert [classify(s) for s in (301, 400, 401, 404, 410, 422)] == [FAILED] * 6


def test_backoff_doubles_from_five_seconds_with_jitter_and_a_cap():
    for attempt, base in ((1, 5_000), (2, 10_000), (3, 20_000), (10, 2_560_000)):
        delays = {backoff_ms(S, attempt, None) for _ in range(50)}
        assert min(delays) >= base and max(delays) <= base * 1.2
        assert len(delays) > 1  # jittered
    assert 3_600_000 <= backoff_ms(S, 30, None) <= 4_320_000
    assert 120_000 <= backoff_ms(S, 1, 120) <= 144_000  # Retry-After wins when longer
    assert backoff_ms(S, 1, 999_999) <= 4_320_000  # but stays capped


def test_after_attempt_retries_within_the_max_age_then_dies():
    day = 24 * 3600 * 1000
    assert after_attempt(S, 200, 1, 1000, 0) == (DELIVERED, 1000)
    assert after_attempt(S, 404, 1, 1000, 0) == (FAILED, 1000)
    state, due = after_attempt(S, 503, 1, 1000, 0)
    assert state == PENDING and 6000 <= due <= 7000
    # Close to the deadline the last try is at the deadline itself; after it, DEAD.
    assert after_attempt(S, None, 12, day - 10, 0) == (PENDING, day)
    assert after_attempt(S, None, 13, day, 0) == (DEAD, day)
    assert after_attempt(S, 429, 13, day + 5, 10)[0] == PENDING


def test_retry_after_and_settings_sources(monkeypatch):
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT") is None
    assert parse_retry_after("-3") is None and parse_retry_after(None) is None
    monkeypatch.setenv("CONVBATCH_WEBHOOK_TIMEOUT_S", "2.5")
    monkeypatch.setenv("CONVBATCH_WEBHOOK_PER_TARGET", "3")
    tuned = WebhookSettings.from_settings({"webhook_per_target": 4, "unrelated": 1})
    assert (tuned.timeout_s, tuned.per_target, tuned.concurrency) == (2.5, 4, 64)
    assert tuned.lease_ms == 32_500
