import copy
import string
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from convbatch.batches.render import Template, merge_metadata, missing_description


def render(message: dict[str, Any], parameters=None, defaults=None):
    return Template.compile(message).render(parameters, defaults)


# --- examples -------------------------------------------------------------------------------


def test_text_message():
    message = {"text_message": {"text": "Hello ${user}! Your code is ${code}"}}
    assert render(message, {"user": "Ana", "code": "123"}) == {
        "text_message": {"text": "Hello Ana! Your code is 123"}
    }


def test_choice_message_nested_dicts_and_lists():
    message = {
        "choice_message": {
            "text_message": {"text": "Hi ${name}, confirm your ${slot} appointment?"},
            "choices": [
                {"text_message": {"text": "Confirm"}, "postback_data": "yes-${id}"},
                {"url_message": {"title": "Details", "url": "https://x.test/a/${id}?s=${slot}"}},
                {"text_message": {"text": "Cancel"}},
            ],
        }
    }
    out = render(message, {"name": "Ana", "slot": "10:00", "id": "42"})
    assert out == {
        "choice_message": {
            "text_message": {"text": "Hi Ana, confirm your 10:00 appointment?"},
            "choices": [
                {"text_message": {"text": "Confirm"}, "postback_data": "yes-42"},
                {"url_message": {"title": "Details", "url": "https://x.test/a/42?s=10:00"}},
                {"text_message": {"text": "Cancel"}},
            ],
        }
    }


def test_card_media_url():
    message = {
        "card_message": {
            "title": "For ${name}",
            "height": "MEDIUM",
            "media_message": {"url": "https://cdn.test/${img}.png"},
        }
    }
    out = render(message, {"name": "Bo", "img": "p-7"})
    assert out["card_message"]["media_message"] == {"url": "https://cdn.test/p-7.png"}
    assert out["card_message"]["title"] == "For Bo"
    assert out["card_message"]["height"] == "MEDIUM"


def test_template_parameters_values_filled_keys_untouched():
    message = {
        "template_message": {
            "omni_template": {
                "template_id": "tpl-${tpl}",
                "version": "1",
                "parameters": {"name": "${name}", "${name}": "literal key"},
            }
        }
    }
    out = render(message, {"name": "Cy", "tpl": "9"})
    assert out["template_message"]["omni_template"] == {
        "template_id": "tpl-9",
        "version": "1",
        "parameters": {"name": "Cy", "${name}": "literal key"},
    }


def test_non_string_values_untouched():
    message = {
        "location_message": {
            "coordinates": {"latitude": 59.33, "longitude": -18},
            "title": "${place}",
            "label": None,
            "flags": [True, False, 0, 1.5, None, "${place}"],
        }
    }
    out = render(message, {"place": "Home"})
    assert out == {
        "location_message": {
            "coordinates": {"latitude": 59.33, "longitude": -18},
            "title": "Home",
            "label": None,
            "flags": [True, False, 0, 1.5, None, "Home"],
        }
    }
    assert out["location_message"]["flags"][0] is True


def test_multiple_and_repeated_placeholders():
    message = {"text_message": {"text": "${a}${b}-${a} ${a}.${b}"}}
    assert render(message, {"a": "1", "b": "2"})["text_message"]["text"] == "12-1 1.2"


def test_names_are_case_sensitive_and_allow_dots_dashes_underscores():
    message = {"text_message": {"text": "${Name}/${name}/${user.first-name_2}"}}
    params = {"Name": "U", "name": "l", "user.first-name_2": "x"}
    assert render(message, params)["text_message"]["text"] == "U/l/x"


def test_defaults_used_only_when_recipient_lacks_key():
    template = Template.compile({"text_message": {"text": "${greeting} ${name}${suffix}"}})
    defaults = {"greeting": "Hello", "name": "friend", "suffix": "!"}
    out = template.render({"name": "Ana", "suffix": ""}, defaults)
    assert out == {"text_message": {"text": "Hello Ana"}}
    assert template.render(None, defaults) == {"text_message": {"text": "Hello friend!"}}
    assert template.render({}, defaults) == {"text_message": {"text": "Hello friend!"}}


def test_missing_names_sorted_and_deduplicated():
    message = {
        "card_message": {
            "title": "${zeta} ${alpha} ${zeta}",
            "description": "${mid} ${alpha} ${ok}",
            "choices": [{"text_message": {"text": "${zeta}${dflt}"}}],
        }
    }
    assert render(message, {"ok": "y"}, {"dflt": "d"}) == ["alpha", "mid", "zeta"]
    assert render(message, None, None) == ["alpha", "dflt", "mid", "ok", "zeta"]


def test_missing_description():
    assert missing_description(["code", "name"]) == "missing values for parameters: code, name"


@pytest.mark.parametrize(
    "text",
    ["$5", "costs $5.00", "${", "${}", "${ spaced }", "${bad name}", "${a", "$ {a}", "$", "}{$"],
)
def test_dollar_without_valid_placeholder_is_literal(text):
    template = Template.compile({"text_message": {"text": text}})
    assert template.placeholders == frozenset()
    assert template.render({"a": "X", " spaced ": "X", "bad name": "X"}) == {
        "text_message": {"text": text}
    }


def test_literal_dollars_next_to_placeholders():
    message = {"text_message": {"text": "$$${a}$ ${${a}} ${ ${a} }"}}
    assert render(message, {"a": "X"})["text_message"]["text"] == "$$X$ ${X} ${ X }"


def test_format_characters_in_text_are_literal():
    message = {"text_message": {"text": "100% of {0} %s %(a)s %% ${a} {a}"}}
    out = render(message, {"a": "X"})
    assert out["text_message"]["text"] == "100% of {0} %s %(a)s %% X {a}"


@pytest.mark.parametrize("value", ["${b}", "${a}", "$${b}}", "%s", "%(b)s", "{0}", "%%", "$"])
def test_values_are_not_rescanned(value):
    message = {"text_message": {"text": "<${a}|${b}>"}}
    assert render(message, {"a": value, "b": "B"})["text_message"]["text"] == f"<{value}|B>"


def test_placeholders_property():
    message = {
        "choice_message": {
            "text_message": {"text": "${b} ${a} ${b} $5"},
            "choices": [{"url_message": {"title": "${c}", "url": "u"}}],
            "${key}": "x",
        }
    }
    assert Template.compile(message).placeholders == frozenset({"a", "b", "c"})


def test_static_template_returns_its_own_tree():
    message = {"text_message": {"text": "Hello, no placeholders ($5)"}}
    template = Template.compile(message)
    assert template.render({"a": "1"}) is message
    assert template.render(None) is message


def test_template_not_mutated_and_unchanged_subtrees_shared():
    message = {
        "choice_message": {
            "text_message": {"text": "Hi ${name}"},
            "choices": [{"text_message": {"text": "Yes"}}, {"text_message": {"text": "No"}}],
        }
    }
    before = copy.deepcopy(message)
    template = Template.compile(message)
    first = template.render({"name": "A"})
    second = template.render({"name": "B"})
    assert message == before
    assert first["choice_message"]["text_message"]["text"] == "Hi A"
    assert second["choice_message"]["text_message"]["text"] == "Hi B"
    assert first is not message
    assert first["choice_message"]["choices"] is message["choice_message"]["choices"]


def test_merge_metadata_precedence_and_batch_id():
    merged = merge_metadata(
        {"source": "crm", "shared": "batch", "_batch_id": "forged"},
        {"customer": "c-1", "shared": "recipient"},
        "01BATCH",
    )
    assert merged == {
        "source": "crm",
        "shared": "recipient",
        "_batch_id": "01BATCH",
        "customer": "c-1",
    }


def test_merge_metadata_recipient_cannot_set_batch_id_and_inputs_untouched():
    batch_level = {"a": "1"}
    recipient_level = {"_batch_id": "forged"}
    assert merge_metadata(batch_level, recipient_level, "B") == {"a": "1", "_batch_id": "B"}
    assert batch_level == {"a": "1"}
    assert recipient_level == {"_batch_id": "forged"}


def test_merge_metadata_none_levels():
    assert merge_metadata(None, None, "B") == {"_batch_id": "B"}
    assert merge_metadata({}, {"k": "v"}, "B") == {"k": "v", "_batch_id": "B"}


# --- properties -----------------------------------------------------------------------------

NAME_CHARS = frozenset(string.ascii_letters + string.digits + "_.-")
# Template text mixes in every character that matters to the syntax or to the implementation's
# own escaping; "\x00" and "\x01" are kept out so the counting property can use them as markers.
TEXT_ALPHABET = "ab.-_ ${}%()s0"
# Short names from a small alphabet, so one template often repeats a name (and "a" vs "A").
NAMES = st.text(alphabet="aAb_.-1", min_size=1, max_size=2)
PLACEHOLDERS = NAMES.map(lambda name: "${" + name + "}")
JUNK = st.sampled_from(["$", "${", "}", "${}", "${ a }", "$5", "%", "%(a)s", "{0}", "$$"])
TEXTS = st.lists(
    st.one_of(st.text(alphabet=TEXT_ALPHABET, max_size=4), PLACEHOLDERS, JUNK), max_size=5
).map("".join)
# Keys may look like placeholders too: they must come out untouched.
KEYS = st.one_of(st.text(alphabet="ab_", max_size=3), PLACEHOLDERS)
LEAVES = st.one_of(
    TEXTS, TEXTS, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none()
)
TREES = st.dictionaries(
    KEYS,
    st.recursive(
        LEAVES,
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=3)
        ),
        max_leaves=12,
    ),
    max_size=3,
)
VALUES = st.one_of(
    st.text(alphabet=TEXT_ALPHABET, max_size=6),
    st.lists(st.sampled_from(["${a}", "${b}", "$", "{", "%(a)s", "%s", "x"]), max_size=4).map(
        "".join
    ),
)


def scan(text: str, lookup) -> str:
    """Reference: one left-to-right pass; lookup(name) gives the replacement."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("${", i):
            j = i + 2
            while j < n and text[j] in NAME_CHARS:
                j += 1
            if j > i + 2 and j < n and text[j] == "}":
                out.append(lookup(text[i + 2 : j]))
                i = j + 1
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def strings_of(tree: Any) -> list[str]:
    if isinstance(tree, str):
        return [tree]
    if isinstance(tree, dict):
        return [s for v in tree.values() for s in strings_of(v)]
    if isinstance(tree, list):
        return [s for v in tree for s in strings_of(v)]
    return []


def names_in(tree: Any) -> set[str]:
    found: set[str] = set()
    for text in strings_of(tree):
        scan(text, lambda name: found.add(name) or "")
    return found


def reference_render(tree: Any, parameters, defaults) -> Any:
    merged = {**(defaults or {}), **(parameters or {})}
    missing = sorted(names_in(tree) - merged.keys())
    if missing:
        return missing

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return scan(node, merged.__getitem__)
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(tree)


def skeleton(tree: Any) -> Any:
    """The tree with every string value blanked; other leaves keep their exact type and repr."""
    if isinstance(tree, str):
        return str
    if isinstance(tree, dict):
        return [(k, skeleton(v)) for k, v in tree.items()]
    if isinstance(tree, list):
        return [skeleton(v) for v in tree]
    return (type(tree), repr(tree))


@given(st.data())
def test_matches_reference(data):
    tree = data.draw(TREES)
    keys = st.sampled_from([*sorted(names_in(tree)), "a", "other"])
    parameters = data.draw(st.none() | st.dictionaries(keys, VALUES, max_size=3))
    defaults = data.draw(st.none() | st.dictionaries(keys, VALUES, max_size=3))
    before = copy.deepcopy(tree)

    template = Template.compile(tree)
    assert template.placeholders == names_in(tree)
    expected = reference_render(tree, parameters, defaults)
    event("missing" if isinstance(expected, list) else "rendered")
    assert template.render(parameters, defaults) == expected
    assert tree == before


@given(st.data())
def test_each_value_appears_once_per_placeholder_occurrence(data):
    tree = data.draw(TREES)
    used = sorted(names_in(tree))
    # Each value starts with a marker found nowhere else ("\x00<index>\x01"), so counting it in
    # the output counts exactly the places it was inserted, whatever text surrounds it.
    values = {
        name: f"\x00{i}\x01" + data.draw(st.text(alphabet=TEXT_ALPHABET, max_size=6))
        for i, name in enumerate(used)
    }
    from_defaults = data.draw(st.sets(st.sampled_from(used))) if used else set()
    parameters = {k: v for k, v in values.items() if k not in from_defaults}
    defaults = {k: v for k, v in values.items() if k in from_defaults}

    out = Template.compile(tree).render(parameters, defaults)
    assert isinstance(out, dict)
    template_strings, rendered_strings = strings_of(tree), strings_of(out)
    for name, value in values.items():
        expected = sum(s.count("${" + name + "}") for s in template_strings)
        assert expected > 0
        assert sum(s.count(value) for s in rendered_strings) == expected


@given(st.data())
def test_keys_and_non_string_leaves_unchanged(data):
    tree = data.draw(TREES)
    parameters = {name: data.draw(VALUES) for name in names_in(tree)}
    out = Template.compile(tree).render(parameters)
    assert isinstance(out, dict)
    assert skeleton(out) == skeleton(tree)
