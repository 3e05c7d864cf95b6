"""Naming the key of a map value in a validation error path."""

from __future__ import annotations

from convbatch.api.map_keys import name_map_keys

WRONG_INT = "Expected `str`, got `int`"


def test_the_key_holding_the_offending_value_is_named():
    body = b'{"m": {"ok": "x", "bad": 1}}'
    assert name_map_keys("m[...]", WRONG_INT, body) == "m.bad"


def test_nested_maps_and_lists_are_followed():
    body = b'{"l": [{"m": {"a": {"b": "s"}, "c": {"d": 2}}}]}'
    assert name_map_keys("l[0].m[...][...]", WRONG_INT, body) == "l[0].m.c.d"


def test_keys_that_are_not_plain_names_are_quoted():
    body = b'{"m": {"a.b c": 1}}'
    assert name_map_keys("m[...]", WRONG_INT, body) == 'm["a.b c"]'


def test_length_missing_and_unknown_field_problems_are_recognised():
    assert (
        name_map_keys("m[...]", "Expected `str` of length <= 3", b'{"m": {"a": "s", "b": "long"}}')
        == "m.b"
    )
    missing = "Object missing required field `template_id`"
    body = b'{"t": {"SMS": {"template_id": "x"}, "RCS": {}}}'
    assert name_map_keys("t[...]", missing, body) == "t.RCS"
    unknown = "Object contains unknown field `zz`"
    assert name_map_keys("t[...]", unknown, b'{"t": {"A": {}, "B": {"zz": 1}}}') == "t.B"


def test_path_is_left_alone_when_the_body_does_not_tell():
    assert name_map_keys("m[...]", "some other problem", b'{"m": {"a": 1}}') == "m[...]"
    assert name_map_keys("m[...]", WRONG_INT, b'{"m": {"a": "fine"}}') == "m[...]"
    assert name_map_keys("m.a", WRONG_INT, b"not json") == "m.a"
