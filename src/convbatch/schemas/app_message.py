"""The batch ``message`` object (an AppMessage) and its nested message types.

Structural limits (required keys, enums, list lengths) are enforced by msgspec at
decode time. Rules that span several fields ("exactly one of ...") cannot be
expressed on a Struct, so they live in ``app_message_errors``.

String fields stay ``str`` even where the content is a date, URL or timestamp:
the batch API allows ``${param}`` placeholders in any string field, so values
are only meaningful after per-recipient substitution.
"""

from typing import Annotated, Any, Literal

from msgspec import Meta

from convbatch.schemas.common import CHANNELS, StrictStruct, StringMap

MAX_CHOICES = 10
MAX_CAROUSEL_CARDS = 10
MAX_CAROUSEL_CHOICES = 3
# The spec gives no list-message limits; these are generous caps (WhatsApp allows
# 10 sections and up to 30 products) that only stop absurd payloads early.
MAX_LIST_SECTIONS = 10
MAX_LIST_SECTION_ITEMS = 30

DisplayMode = Literal["DISPLAY_MODE_UNSPECIFIED", "PERSISTENT"]
CardHeight = Literal["UNSPECIFIED_HEIGHT", "SHORT", "MEDIUM", "TALL"]
AgentType = Literal["UNKNOWN_AGENT_TYPE", "HUMAN", "BOT"]


# --- simple message types -------------------------------------------------


class TextMessage(StrictStruct, kw_only=True):
    text: str


class MediaProperties(StrictStruct, kw_only=True):
    url: str
    thumbnail_url: str | None = None
    filename_override: str | None = None


class Coordinates(StrictStruct, kw_only=True):
    latitude: float
    longitude: float


class LocationMessage(StrictStruct, kw_only=True):
    coordinates: Coordinates
    title: str
    label: str | None = None


class CallMessage(StrictStruct, kw_only=True):
    phone_number: str
    title: str


class UrlMessage(StrictStruct, kw_only=True):
    title: str
    url: str


class CalendarMessage(StrictStruct, kw_only=True):
    title: str
    event_start: str
    event_end: str
    event_title: str
    event_description: str | None = None
    fallback_url: str


class ShareLocationMessage(StrictStruct, kw_only=True):
    title: str
    fallback_url: str


# --- choices, cards, carousels --------------------------------------------

CHOICE_KINDS: tuple[str, ...] = (
    "text_message",
    "url_message",
    "call_message",
    "location_message",
    "calendar_message",
    "share_location_message",
)


class Choice(StrictStruct, kw_only=True):
    """One suggested reply/action; exactly one kind must be set (checked later)."""

    text_message: TextMessage | None = None
    url_message: UrlMessage | None = None
    call_message: CallMessage | None = None
    location_message: LocationMessage | None = None
    calendar_message: CalendarMessage | None = None
    share_location_message: ShareLocationMessage | None = None
    postback_data: str | None = None
    display_mode: DisplayMode | None = None


Choices = Annotated[list[Choice], Meta(max_length=MAX_CHOICES)]


class ChoiceMessageProperties(StrictStruct, kw_only=True):
    whatsapp_footer: str | None = None


class ChoiceMessage(StrictStruct, kw_only=True):
    choices: Choices
    text_message: TextMessage | None = None
    message_properties: ChoiceMessageProperties | None = None


class CardMessageProperties(StrictStruct, kw_only=True):
    whatsapp_header: str | None = None


class CardMessage(StrictStruct, kw_only=True):
    title: str | None = None
    description: str | None = None
    height: CardHeight | None = None
    media_message: MediaProperties | None = None
    choices: Choices | None = None
    message_properties: CardMessageProperties | None = None


class CarouselMessage(StrictStruct, kw_only=True):
    cards: Annotated[list[CardMessage], Meta(max_length=MAX_CAROUSEL_CARDS)]
    choices: Annotated[list[Choice], Meta(max_length=MAX_CAROUSEL_CHOICES)] | None = None


# --- templates -------------------------------------------------------------


class TemplateReference(StrictStruct, kw_only=True):
    template_id: str
    version: str | None = None
    language_code: str | None = None
    parameters: StringMap | None = None


class OmniTemplateReference(TemplateReference, kw_only=True):
    # Omni templates are versioned resources, so unlike channel templates the
    # version cannot be left for the channel to pick.
    version: str


class TemplateMessage(StrictStruct, kw_only=True):
    # Keys are channel names; kept as str so a bad key yields a path-named error.
    channel_template: dict[str, TemplateReference] | None = None
    omni_template: OmniTemplateReference | None = None


# --- list messages ---------------------------------------------------------


class ChoiceItem(StrictStruct, kw_only=True):
    title: str
    description: str | None = None
    media: MediaProperties | None = None
    postback_data: str | None = None


class ProductItem(StrictStruct, kw_only=True):
    id: str
    marketplace: str
    # Output-only in the spec, accepted so echoed payloads do not fail decoding.
    quantity: int | None = None
    item_price: float | None = None
    currency: str | None = None


class ListItem(StrictStruct, kw_only=True):
    choice: ChoiceItem | None = None
    product: ProductItem | None = None


class ListSection(StrictStruct, kw_only=True):
    items: Annotated[list[ListItem], Meta(max_length=MAX_LIST_SECTION_ITEMS)]
    title: str | None = None


class ListMessageProperties(StrictStruct, kw_only=True):
    catalog_id: str | None = None
    menu: str | None = None
    whatsapp_header: str | None = None


class ListMessage(StrictStruct, kw_only=True):
    title: str
    sections: Annotated[list[ListSection], Meta(max_length=MAX_LIST_SECTIONS)]
    description: str | None = None
    media: MediaProperties | None = None
    message_properties: ListMessageProperties | None = None


# --- contact info ----------------------------------------------------------


class Name(StrictStruct, kw_only=True):
    full_name: str
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    prefix: str | None = None
    suffix: str | None = None


class PhoneNumber(StrictStruct, kw_only=True):
    phone_number: str
    type: str | None = None


class Address(StrictStruct, kw_only=True):
    city: str | None = None
    country: str | None = None
    state: str | None = None
    zip: str | None = None
    type: str | None = None
    country_code: str | None = None


class EmailAddress(StrictStruct, kw_only=True):
    email_address: str
    type: str | None = None


class Organization(StrictStruct, kw_only=True):
    company: str | None = None
    department: str | None = None
    title: str | None = None


class UrlInfo(StrictStruct, kw_only=True):
    url: str
    type: str | None = None


class ContactInfoMessage(StrictStruct, kw_only=True):
    name: Name
    phone_numbers: list[PhoneNumber]
    addresses: list[Address] | None = None
    email_addresses: list[EmailAddress] | None = None
    organization: Organization | None = None
    urls: list[UrlInfo] | None = None
    birthday: str | None = None


# --- the AppMessage envelope -----------------------------------------------


class Agent(StrictStruct, kw_only=True):
    display_name: str | None = None
    type: AgentType | None = None
    picture_url: str | None = None


class ReplyTo(StrictStruct, kw_only=True):
    message_id: str


MESSAGE_TYPES: tuple[str, ...] = (
    "text_message",
    "media_message",
    "template_message",
    "choice_message",
    "card_message",
    "carousel_message",
    "location_message",
    "list_message",
    "contact_info_message",
)


class AppMessage(StrictStruct, kw_only=True):
    """The message definition sent to every recipient of a batch."""

    text_message: TextMessage | None = None
    media_message: MediaProperties | None = None
    template_message: TemplateMessage | None = None
    choice_message: ChoiceMessage | None = None
    card_message: CardMessage | None = None
    carousel_message: CarouselMessage | None = None
    location_message: LocationMessage | None = None
    list_message: ListMessage | None = None
    contact_info_message: ContactInfoMessage | None = None
    explicit_channel_message: StringMap | None = None
    # The two below are channel-defined structures we only pass through, so the
    # values are kept as opaque JSON objects rather than modelled here.
    explicit_channel_omni_message: dict[str, dict[str, Any]] | None = None
    channel_specific_message: dict[str, dict[str, Any]] | None = None
    agent: Agent | None = None
    reply_to: ReplyTo | None = None


# --- cross-field validation ------------------------------------------------

# AppMessage maps whose keys must be channel names.
CHANNEL_KEYED_FIELDS: tuple[str, ...] = (
    "explicit_channel_message",
    "explicit_channel_omni_message",
    "channel_specific_message",
)


def _present(obj: object, names: tuple[str, ...]) -> list[str]:
    return [n for n in names if getattr(obj, n) is not None]


def _check_channel_keys(mapping: dict[str, Any] | None, path: str, errors: list[str]) -> None:
    for key in mapping or ():
        if key not in CHANNELS:
            errors.append(f"{path}: unknown channel {key!r}")


def _check_choices(choices: list[Choice] | None, path: str, errors: list[str]) -> None:
    for i, choice in enumerate(choices or ()):
        kinds = _present(choice, CHOICE_KINDS)
        if len(kinds) != 1:
            errors.append(
                f"{path}[{i}]: exactly one of {', '.join(CHOICE_KINDS)} is required, "
                f"got {', '.join(kinds) or 'none'}"
            )


def _check_template(tm: TemplateMessage, path: str, errors: list[str]) -> None:
    # An empty channel_template map references nothing, so it counts as absent.
    if not tm.channel_template and tm.omni_template is None:
        errors.append(f"{path}: at least one of channel_template or omni_template is required")
    _check_channel_keys(tm.channel_template, f"{path}.channel_template", errors)


def _check_list(lm: ListMessage, path: str, errors: list[str]) -> None:
    for i, section in enumerate(lm.sections):
        for j, item in enumerate(section.items):
            if (item.choice is None) == (item.product is None):
                errors.append(
                    f"{path}.sections[{i}].items[{j}]: exactly one of choice or product is required"
                )


def app_message_errors(m: AppMessage, path: str = "message") -> list[str]:
    """Return every cross-field rule violation in ``m``; empty when valid.

    Each message names the offending location starting at ``path`` so callers
    can put it straight into a 400 response.
    """
    errors: list[str] = []
    present = _present(m, MESSAGE_TYPES)
    if len(present) != 1:
        errors.append(
            f"{path}: exactly one message type is required, got {', '.join(present) or 'none'}"
        )
    # Every given type is still inspected so one response reports all problems.
    for name in present:
        value, sub = getattr(m, name), f"{path}.{name}"
        if isinstance(value, (ChoiceMessage, CardMessage)):
            _check_choices(value.choices, f"{sub}.choices", errors)
        elif isinstance(value, CarouselMessage):
            for i, card in enumerate(value.cards):
                _check_choices(card.choices, f"{sub}.cards[{i}].choices", errors)
            _check_choices(value.choices, f"{sub}.choices", errors)
        elif isinstance(value, TemplateMessage):
            _check_template(value, sub, errors)
        elif isinstance(value, ListMessage):
            _check_list(value, sub, errors)
    for name in CHANNEL_KEYED_FIELDS:
        _check_channel_keys(getattr(m, name), f"{path}.{name}", errors)
    return errors


def message_type(m: AppMessage) -> str:
    """Name of the single message type set on ``m``.

    Raises ValueError when the message has not passed ``app_message_errors``.
    """
    present = _present(m, MESSAGE_TYPES)
    if len(present) != 1:
        got = ", ".join(present) or "none"
        raise ValueError(f"expected exactly one message type, got {got}")
    return present[0]
