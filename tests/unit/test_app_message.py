import json
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convbatch.schemas import app_message, common
from convbatch.schemas.app_message import (
    CHOICE_KINDS,
    MESSAGE_TYPES,
    AppMessage,
    MediaProperties,
    TextMessage,
    app_message_errors,
    message_type,
)
from convbatch.schemas.common import (
    CHANNELS,
    CONTACT_LANGUAGES,
    DELIVERY_STATUSES,
    REASON_CODES,
    ChannelRecipientIdentity,
    IdentifiedBy,
    Recipient,
    recipient_error,
)

CHOICES: list[dict[str, Any]] = [
    {"text_message": {"text": "Yes ${name}"}, "postback_data": "yes"},
    {"url_message": {"title": "Site", "url": "https://example.com/${id}"}},
    {"call_message": {"title": "Call us", "phone_number": "+46700000000"}},
    {
        "location_message": {
            "title": "HQ",
            "label": "Office",
            "coordinates": {"latitude": 55.61, "longitude": 12.99},
        }
    },
    {
        "calendar_message": {
            "title": "Add",
            "event_start": "2025-09-01T10:00:00Z",
            "event_end": "2025-09-01T11:00:00Z",
            "event_title": "Visit",
            "event_description": "Dentist",
            "fallback_url": "https://example.com/cal",
        },
        "display_mode": "PERSISTENT",
    },
    {"share_location_message": {"title": "Where?", "fallback_url": "https://example.com/loc"}},
]

CARD: dict[str, Any] = {
    "title": "Shoes",
    "description": "Now ${price}",
    "height": "MEDIUM",
    "media_message": {"url": "https://example.com/a.jpg"},
    "choices": CHOICES[:2],
    "message_properties": {"whatsapp_header": "New"},
}

VALID: dict[str, dict[str, Any]] = {
    "text_message": {"text_message": {"text": "Hello ${user}! Your code is ${code}"}},
    "media_message": {
        "media_message": {
            "url": "https://example.com/img.png",
            "thumbnail_url": "https://example.com/t.png",
            "filename_override": "photo.png",
        }
    },
    "template_message": {
        "template_message": {
            "channel_template": {
                "WHATSAPP": {
                    "template_id": "welcome",
                    "language_code": "en_US",
                    "parameters": {"body[1]text": "${name}"},
                }
            },
            "omni_template": {"template_id": "01EB37HMH1M6SV18ABNS3G135H", "version": "3"},
        }
    },
    "choice_message": {
        "choice_message": {
            "text_message": {"text": "Pick one"},
            "choices": CHOICES,
            "message_properties": {"whatsapp_footer": "Thanks"},
        }
    },
    "card_message": {"card_message": CARD},
    "carousel_message": {
        "carousel_message": {"cards": [CARD, {"title": "Hats"}], "choices": CHOICES[:3]}
    },
    "location_message": {
        "location_message": {
            "title": "Store",
            "label": "Main street",
            "coordinates": {"latitude": 59.33, "longitude": 18.06},
        }
    },
    "list_message": {
        "list_message": {
            "title": "Menu",
            "description": "Choose",
            "media": {"url": "https://example.com/m.png"},
            "sections": [
                {
                    "title": "Drinks",
                    "items": [
                        {"choice": {"title": "Tea", "description": "Hot", "postback_data": "t"}},
                        {"choice": {"title": "Coffee", "media": {"url": "https://e.com/c"}}},
                    ],
                },
                {"items": [{"product": {"id": "sku-1", "marketplace": "FACEBOOK"}}]},
            ],
            "message_properties": {"catalog_id": "c1", "menu": "Open", "whatsapp_header": "H"},
        }
    },
    "contact_info_message": {
        "contact_info_message": {
            "name": {"full_name": "Ana Svensson", "first_name": "Ana", "prefix": "Dr"},
            "phone_numbers": [{"phone_number": "+46700000001", "type": "WORK"}],
            "addresses": [{"city": "Malmo", "country_code": "SE", "zip": "211 20"}],
            "email_addresses": [{"email_address": "ana@example.com"}],
            "organization": {"company": "Acme", "department": "R&D", "title": "CTO"},
            "urls": [{"url": "https://example.com", "type": "HOME"}],
            "birthday": "1990-01-31",
        }
    },
}

# The `message` objects of the two example batch requests in the reference.
SPEC_EXAMPLES = [
    {"text_message": {"text": "Hello ${user}! Your code is ${code}"}},
    {
        "choice_message": {
            "text_message": {"text": "Hi ${name}, confirm your ${slot} appointment?"},
            "choices": [
                {"text_message": {"text": "Confirm"}},
                {"text_message": {"text": "Cancel"}},
            ],
        }
    },
]


def decode(payload: dict[str, Any]) -> AppMessage:
    return msgspec.json.decode(json.dumps(payload).encode(), type=AppMessage)


def decode_error(payload: dict[str, Any]) -> str:
    with pytest.raises(msgspec.ValidationError) as exc:
        decode(payload)
    return str(exc.value)


def test_all_message_types_have_a_valid_example() -> None:
    assert set(VALID) == set(MESSAGE_TYPES)
    assert len(MESSAGE_TYPES) == 9


@pytest.mark.parametrize("name", MESSAGE_TYPES)
def test_valid_examples_decode_and_pass_cross_checks(name: str) -> None:
    m = decode(VALID[name])
    assert app_message_errors(m) == []
    assert message_type(m) == name
    # omit_defaults must reproduce the client's payload exactly (nothing added).
    assert json.loads(msgspec.json.encode(m)) == VALID[name]


@pytest.mark.parametrize("payload", SPEC_EXAMPLES)
def test_reference_examples_decode(payload: dict[str, Any]) -> None:
    assert app_message_errors(decode(payload)) == []


def test_common_properties_decode() -> None:
    m = decode(
        {
            "text_message": {"text": "hi"},
            "explicit_channel_message": {"WHATSAPP": '{"type":"text"}'},
            "explicit_channel_omni_message": {"SMS": {"text_message": {"text": "short"}}},
            "channel_specific_message": {
                "WHATSAPP": {"message_type": "FLOWS", "message": {"flow_id": "1"}}
            },
            "agent": {"display_name": "Bot", "type": "BOT", "picture_url": "https://e.com/p"},
            "reply_to": {"message_id": "01EQBDK8771J6A1FV8MQPE1XAR"},
        }
    )
    assert app_message_errors(m) == []
    assert m.agent is not None and m.agent.type == "BOT"


@pytest.mark.parametrize(
    ("payload", "fragments"),
    [
        ({"media_message": {"thumbnail_url": "x"}}, ["`url`", "$.media_message"]),
        ({"location_message": {"title": "t"}}, ["`coordinates`", "$.location_message"]),
        (
            {"choice_message": {"choices": [CHOICES[0]] * 11}},
            ["length <= 10", "$.choice_message.choices"],
        ),
        (
            {"card_message": {"choices": [CHOICES[0]] * 11}},
            ["length <= 10", "$.card_message.choices"],
        ),
        (
            {"carousel_message": {"cards": [CARD] * 11}},
            ["length <= 10", "$.carousel_message.cards"],
        ),
        (
            {"carousel_message": {"cards": [CARD], "choices": [CHOICES[0]] * 4}},
            ["length <= 3", "$.carousel_message.choices"],
        ),
        ({"text_message": {"text": "hi", "foo": 1}}, ["unknown field `foo`", "$.text_message"]),
        ({"text_message": {"text": "hi"}, "foo": 1}, ["unknown field `foo`"]),
        ({"card_message": {"height": "HUGE"}}, ["HUGE", "$.card_message.height"]),
        (
            {"choice_message": {"choices": [{**CHOICES[0], "display_mode": "SOMETIMES"}]}},
            ["SOMETIMES", "$.choice_message.choices[0].display_mode"],
        ),
        ({"agent": {"type": "ROBOT"}}, ["ROBOT", "$.agent.type"]),
        (
            {"template_message": {"omni_template": {"template_id": "t"}}},
            ["`version`", "$.template_message.omni_template"],
        ),
        (
            {"location_message": {"title": "t", "coordinates": {"latitude": "N", "longitude": 1}}},
            ["`float`", "$.location_message.coordinates.latitude"],
        ),
        (
            {"list_message": {"title": "t", "sections": [{"items": [{"product": {"id": "1"}}]}]}},
            ["`marketplace`", "$.list_message.sections[0].items[0].product"],
        ),
        (
            {"contact_info_message": {"name": {"full_name": "A"}}},
            ["`phone_numbers`", "$.contact_info_message"],
        ),
    ],
)
def test_structural_rejections_name_the_path(payload: dict[str, Any], fragments: list[str]) -> None:
    msg = decode_error(payload)
    for fragment in fragments:
        assert fragment in msg


def test_two_message_types_rejected() -> None:
    m = decode({"text_message": {"text": "a"}, "media_message": {"url": "u"}})
    assert app_message_errors(m) == [
        "message: exactly one message type is required, got text_message, media_message"
    ]
    with pytest.raises(ValueError, match="text_message, media_message"):
        message_type(m)


def test_no_message_type_rejected() -> None:
    m = decode({"agent": {"display_name": "x"}})
    assert app_message_errors(m) == ["message: exactly one message type is required, got none"]
    with pytest.raises(ValueError):
        message_type(m)


def test_path_prefix_is_configurable() -> None:
    assert app_message_errors(decode({}), path="$.message")[0].startswith("$.message: ")


def test_choice_with_two_kinds_rejected() -> None:
    bad = {**CHOICES[0], **CHOICES[1]}
    m = decode({"choice_message": {"choices": [CHOICES[0], CHOICES[1], bad]}})
    [error] = app_message_errors(m)
    assert error.startswith("message.choice_message.choices[2]: exactly one of ")
    assert error.endswith("got text_message, url_message")
    for kind in CHOICE_KINDS:
        assert kind in error


def test_choice_with_no_kind_rejected() -> None:
    m = decode({"choice_message": {"choices": [{"postback_data": "x"}]}})
    [error] = app_message_errors(m)
    assert error.startswith("message.choice_message.choices[0]: ")
    assert error.endswith("got none")


def test_nested_choice_paths_in_cards_and_carousels() -> None:
    bad = {"postback_data": "x"}
    card_msg = decode({"card_message": {"choices": [CHOICES[0], bad]}})
    assert app_message_errors(card_msg)[0].startswith("message.card_message.choices[1]: ")
    carousel = decode(
        {"carousel_message": {"cards": [{"title": "a"}, {"choices": [bad]}], "choices": [bad]}}
    )
    errors = app_message_errors(carousel)
    assert [e.split(":")[0] for e in errors] == [
        "message.carousel_message.cards[1].choices[0]",
        "message.carousel_message.choices[0]",
    ]


def test_template_needs_channel_or_omni_template() -> None:
    for body in ({}, {"channel_template": {}}):
        m = decode({"template_message": body})
        assert app_message_errors(m) == [
            "message.template_message: at least one of channel_template or omni_template"
            " is required"
        ]


def test_list_item_needs_exactly_one_of_choice_or_product() -> None:
    both = {"choice": {"title": "t"}, "product": {"id": "1", "marketplace": "FACEBOOK"}}
    sections = [{"items": [{"choice": {"title": "a"}}]}, {"items": [{}, both]}]
    m = decode({"list_message": {"title": "t", "sections": sections}})
    errors = app_message_errors(m)
    assert [e.split(":")[0] for e in errors] == [
        "message.list_message.sections[1].items[0]",
        "message.list_message.sections[1].items[1]",
    ]


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        (
            {"text_message": {"text": "x"}, "explicit_channel_message": {"FOO": "{}"}},
            "message.explicit_channel_message",
        ),
        (
            {"text_message": {"text": "x"}, "explicit_channel_omni_message": {"SINCH_CHAT": {}}},
            "message.explicit_channel_omni_message",
        ),
        (
            {"text_message": {"text": "x"}, "channel_specific_message": {"whatsapp": {}}},
            "message.channel_specific_message",
        ),
        (
            {"template_message": {"channel_template": {"FAX": {"template_id": "t"}}}},
            "message.template_message.channel_template",
        ),
    ],
)
def test_bad_channel_keys_rejected(payload: dict[str, Any], path: str) -> None:
    [error] = app_message_errors(decode(payload))
    assert error.startswith(f"{path}: unknown channel ")


def test_all_errors_are_reported_together() -> None:
    m = decode(
        {
            "choice_message": {"choices": [{}]},
            "list_message": {"title": "t", "sections": [{"items": [{}]}]},
            "explicit_channel_message": {"X": ""},
        }
    )
    assert len(app_message_errors(m)) == 4


@pytest.mark.parametrize("module", [app_message, common])
def test_structs_are_keyword_only(module: Any) -> None:
    # msgspec does not inherit kw_only, so guard against a subclass forgetting it.
    structs = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, common.StrictStruct)
    ]
    assert len(structs) > 3
    for struct in structs:
        assert struct.__match_args__ == (), struct.__name__


# --- common types ------------------------------------------------------------


def test_channel_enums() -> None:
    assert len(CHANNELS) == 13
    assert "SINCH_CHAT" not in CHANNELS
    assert "UNSPECIFIED" in CONTACT_LANGUAGES and "EN_US" in CONTACT_LANGUAGES
    assert "BAD_REQUEST" in REASON_CODES and len(REASON_CODES) == 27
    assert DELIVERY_STATUSES[-1] == "SWITCHING_CHANNEL"


def test_recipient_error() -> None:
    ident = IdentifiedBy(channel_identities=[ChannelRecipientIdentity(channel="SMS", identity="1")])
    path = "recipient_and_params[3].recipient"
    expected = f"{path}: exactly one of contact_id or identified_by is required"
    assert recipient_error(Recipient(contact_id="c"), path) is None
    assert recipient_error(Recipient(identified_by=ident), path) is None
    assert recipient_error(Recipient(), path) == expected
    assert recipient_error(Recipient(contact_id="c", identified_by=ident), path) == expected


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"identified_by": {"channel_identities": []}}, "$.identified_by.channel_identities"),
        (
            {"identified_by": {"channel_identities": [{"channel": "SMS", "identity": ""}]}},
            "$.identified_by.channel_identities[0].identity",
        ),
        (
            {"identified_by": {"channel_identities": [{"channel": "FAX", "identity": "1"}]}},
            "$.identified_by.channel_identities[0].channel",
        ),
    ],
)
def test_recipient_structural_rejections(payload: dict[str, Any], fragment: str) -> None:
    with pytest.raises(
        msgspec.ValidationError, match=fragment.replace("[", r"\[").replace("$", r"\$")
    ):
        msgspec.json.decode(json.dumps(payload).encode(), type=Recipient)


# --- round trip ----------------------------------------------------------------

optional_text = st.none() | st.text()


@given(
    st.one_of(
        st.builds(lambda t: AppMessage(text_message=TextMessage(text=t)), st.text()),
        st.builds(
            lambda u, t, f: AppMessage(
                media_message=MediaProperties(url=u, thumbnail_url=t, filename_override=f)
            ),
            st.text(),
            optional_text,
            optional_text,
        ),
    )
)
def test_round_trip(m: AppMessage) -> None:
    assert msgspec.json.decode(msgspec.json.encode(m), type=AppMessage) == m
    assert app_message_errors(m) == []
