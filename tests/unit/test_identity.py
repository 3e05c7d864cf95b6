import time

from hypothesis import given
from hypothesis import strategies as st

from convbatch.clock import parse_rfc3339, to_rfc3339
from convbatch.identity.tokens import TokenSigner
from convbatch.ids import is_ulid, new_ulid, new_ulids


def test_ulids_are_valid_unique_and_time_ordered():
    first = new_ulid(1_000)
    batch = new_ulids(1000)
    assert all(is_ulid(u) for u in [first, *batch])
    assert len(set(batch)) == 1000
    assert first < new_ulid(2_000)


def test_tokens_round_trip_and_reject_other_keys():
    signer = TokenSigner(b"k" * 32)
    token = signer.issue("project", "key", int(time.time()) + 60)
    info = signer.verify(token)
    assert info is not None and info.project_id == "project" and info.key_id == "key"
    assert TokenSigner(b"x" * 32).verify(token) is None
    assert signer.verify(token + "x") is None
    assert signer.verify("cbt1.bad") is None


def test_rfc3339_with_nanoseconds():
    parsed = parse_rfc3339("2023-05-15T14:22:33.123456789Z")
    assert to_rfc3339(parsed) == "2023-05-15T14:22:33.123456Z"


@given(st.datetimes(timezones=st.just(__import__("datetime").UTC)))
def test_rfc3339_round_trip(value):
    assert parse_rfc3339(to_rfc3339(value)) == value
