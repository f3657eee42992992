"""The messaging webhook's payloads, as pydantic models: the one definition of the format.

The view validates inbound payloads with these models before storing them (a bridge learns
about a mistake at once, as a 400 naming the fields), the adapter parses stored payloads with
them, and `send` builds the outbound body with them. docs/channels/webhook.schema.json is
generated from them:

    python -m frontline.channels.webhook.schema > docs/channels/webhook.schema.json

Models are strict (`"public": "yes"` is an error, not True) and refuse unknown fields, so a
typo such as `"attachment"` is reported instead of silently ignored. A bridge keeps its own
data in `metadata`.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

# Ids are stored prefixed with the account (`<account id>:<id>`) in 255-character columns.
PayloadId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    Field(description="Unique per payload type and account; retries reuse it."),
]
# Payload types are part of the stored key, so they are kept to a plain alphabet.
TYPE_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
KNOWN_TYPES = ("message", "status")
DELIVERY_STATES = ("sent", "delivered", "read", "failed")
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Sender(_Strict):
    """The customer on the bridged network."""

    id: str = Field(
        min_length=1,
        max_length=254,
        description="The user's id on the network: their `external` identity, kept exactly.",
    )
    name: str = Field(default="", max_length=200, description="Display name.")
    email: str | None = Field(
        default=None,
        max_length=254,
        description="Recognises an existing customer with this email; dropped if invalid.",
    )
    phone: str | None = Field(
        default=None,
        max_length=64,
        description="E.164 preferred; recognises an existing customer; dropped if invalid.",
    )

    @field_validator("id")
    @classmethod
    def _usable_id(cls, value: str) -> str:
        if not value.strip() or any(ord(c) < 32 for c in value):
            raise ValueError("must have visible characters and no control characters")
        return value


class Attachment(_Strict):
    """A file sent by the customer: either a URL Frontline downloads, or the content."""

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(default="", max_length=127, description="MIME type.")
    url: HttpUrl | None = Field(
        default=None,
        description="http(s) URL, downloaded when the payload is processed (not in the "
        "request); it must stay valid for a few minutes.",
    )
    content_base64: str | None = Field(
        default=None, description="The file itself, base64 (RFC 4648, with padding)."
    )

    @field_validator("content_base64")
    @classmethod
    def _decodable(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValueError("not valid base64") from exc
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Attachment:
        if (self.url is None) == (self.content_base64 is None):
            raise ValueError("give exactly one of url or content_base64")
        return self

    def content(self) -> bytes:
        return base64.b64decode(self.content_base64 or "", validate=True)


class MessagePayload(_Strict):
    """A customer's message."""

    type: Literal["message"]
    id: PayloadId
    sender: Sender = Field(alias="from")
    text: str = Field(default="", description="Plain text.")
    html: str = Field(default="", description="Optional HTML; sanitised before it is stored.")
    thread_id: str = Field(
        default="",
        max_length=255,
        description="The conversation on the network. A new thread opens a new ticket; "
        "without one, the customer's open ticket on this channel continues.",
    )
    timestamp: AwareDatetime | None = Field(
        default=None, description="When the customer sent it: ISO 8601 with an offset."
    )
    attachments: list[Attachment] = Field(default_factory=list, max_length=20)
    public: bool = Field(
        default=False, description="A public post or comment: the ticket is marked public."
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Anything the bridge wants kept with the message."
    )

    @model_validator(mode="after")
    def _not_empty(self) -> MessagePayload:
        if not (self.text.strip() or self.html.strip() or self.attachments):
            raise ValueError("a message needs text, html or attachments")
        return self


class StatusPayload(_Strict):
    """A delivery report on one of Frontline's replies."""

    type: Literal["status"]
    id: PayloadId
    message_id: str = Field(
        min_length=1,
        max_length=200,
        description="The `id` the bridge answered when Frontline posted the reply (or "
        "Frontline's own `frontline-<n>` id if the bridge answered none).",
    )
    status: Literal["sent", "delivered", "read", "failed"]
    error: str = Field(default="", max_length=1000, description="Why it failed, for the agent.")


InboundPayload = Annotated[MessagePayload | StatusPayload, Field(discriminator="type")]
inbound_payload = TypeAdapter[MessagePayload | StatusPayload](InboundPayload)


class Envelope(BaseModel):
    """What every payload has, whatever its type: enough to store one we do not know yet."""

    model_config = ConfigDict(extra="allow", strict=True)

    type: str = Field(pattern=TYPE_PATTERN)
    id: PayloadId


class Recipient(_Strict):
    id: str = Field(description="The customer's id on the network (`from.id` they wrote with).")


class OutboundAttachment(_Strict):
    filename: str
    content_type: str
    size: int = Field(description="Bytes.")
    content_base64: str | None = Field(
        description="The file, base64; null when it is over the size limit for posting."
    )


class OutboundMessage(_Strict):
    """A reply Frontline posts to the account's outbound URL."""

    type: Literal["message"] = "message"
    id: str = Field(description="`frontline-<message id>`; also the Idempotency-Key header.")
    ticket_id: int
    thread_id: str = Field(description="The thread of the customer's last message, or empty.")
    to: Recipient
    text: str
    html: str
    public: bool = Field(description="Answers a public post or comment.")
    attachments: list[OutboundAttachment]


def validation_fields(error: ValidationError) -> dict[str, list[str]]:
    """Pydantic's errors as {"from.id": ["Field required"], ...} for a 400 answer. The
    union's tag (`message`, `status`) is not part of the path the sender wrote."""
    fields: dict[str, list[str]] = {}
    for item in error.errors(include_url=False):
        location = [str(part) for part in item["loc"]]
        if location and location[0] in KNOWN_TYPES:
            location = location[1:]
        fields.setdefault(".".join(location) or "body", []).append(item["msg"])
    return fields


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the inbound payloads, with the outbound message in `$defs`."""
    inbound = inbound_payload.json_schema(by_alias=True)
    outbound = OutboundMessage.model_json_schema(mode="serialization")
    defs = {**inbound.pop("$defs", {}), **outbound.pop("$defs", {})}
    defs["OutboundMessage"] = outbound
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "Frontline messaging webhook",
        "description": "A payload POSTed to /channels/webhook/<key>/messages. Other `type` "
        "values are accepted and kept unprocessed. `$defs.OutboundMessage` is the body "
        "Frontline POSTs to the account's outbound URL.",
        **inbound,
        "$defs": dict(sorted(defs.items())),
    }


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(json_schema_text(), end="")
