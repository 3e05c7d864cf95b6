from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convbatch.batches.schedule import effective_send_after
from convbatch.errors import InvalidArgument

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def test_absent_is_immediate():
    assert effective_send_after(None, NOW) is None


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(seconds=59), timedelta(days=-3)])
def test_near_or_past_is_immediate(delta):
    assert effective_send_after(iso(NOW + delta), NOW) is None


def test_rounds_up_to_next_five_minutes():
    assert effective_send_after("2026-03-01T12:03:00Z", NOW) == datetime(
        2026, 3, 1, 12, 5, tzinfo=UTC
    )
    assert effective_send_after("2026-03-01T12:10:00Z", NOW) == datetime(
        2026, 3, 1, 12, 10, tzinfo=UTC
    )


def test_offsets_are_converted_to_utc():
    got = effective_send_after("2026-03-01T14:03:00+02:00", NOW)
    assert got == datetime(2026, 3, 1, 12, 5, tzinfo=UTC)


@pytest.mark.parametrize("text", ["tomorrow", "2026-03-01", "2026-03-01T13:00:00", ""])
def test_unparseable_is_rejected(text):
    with pytest.raises(InvalidArgument) as info:
        effective_send_after(text, NOW)
    assert "send_after" in info.value.message


def test_more_than_seven_days_is_rejected():
    with pytest.raises(InvalidArgument):
        effective_send_after(iso(NOW + timedelta(days=7, seconds=1)), NOW)
    assert effective_send_after(iso(NOW + timedelta(days=7)), NOW) is not None


@given(st.integers(min_value=61, max_value=7 * 24 * 3600))
def test_rounding_properties(seconds):
    got = effective_send_after(iso(NOW + timedelta(seconds=seconds)), NOW)
    assert got is not None
    assert got >= NOW + timedelta(seconds=seconds)
    assert got - (NOW + timedelta(seconds=seconds)) < timedelta(minutes=5)
    assert got.minute % 5 == 0 and got.second == 0 and got.microsecond == 0
