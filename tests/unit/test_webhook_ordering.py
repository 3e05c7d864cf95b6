"""Which waiting deliveries go along with a sendable one (its chain), decided in memory."""

from __future__ import annotations

from typing import NamedTuple

from convbatch.callbacks.ordering import followers

NOW = 1_000


class Row(NamedTuple):
    id: str
    order_key: str | None
    target: str
    event_id: int
    state: str = "PENDING"
    next_attempt_at: int = NOW
    lease_until: int | None = None


def test_a_chain_takes_what_follows_its_head_in_event_order():
    head = Row("a1", "m1", "t", 1)
    pending = [head, Row("a2", "m1", "t", 2), Row("a3", "m1", "t", 5)]
    assert followers([head], pending, NOW) == {"a2": "a1", "a3": "a1"}


def test_a_chain_stops_at_a_delivery_leased_elsewhere_or_not_due():
    head = Row("a1", "m1", "t", 1)
    leased = Row("a2", "m1", "t", 2, lease_until=NOW + 1)
    pending = [head, leased, Row("a3", "m1", "t", 3)]
    assert followers([head], pending, NOW) == {}
    later = Row("a2", "m1", "t", 2, next_attempt_at=NOW + 1)
    assert followers([head], [head, later, Row("a3", "m1", "t", 3)], NOW) == {}


def test_other_endpoints_and_messages_are_not_followers():
    head = Row("a1", "m1", "t", 1)
    pending = [head, Row("b1", "m1", "u", 2), Row("c1", "m2", "t", 3)]
    assert followers([head], pending, NOW) == {}


def test_no_chain_when_the_head_is_no_longer_first():
    head = Row("a2", "m1", "t", 2)
    pending = [Row("a1", "m1", "t", 1), head, Row("a3", "m1", "t", 3)]
    assert followers([head], pending, NOW) == {}
