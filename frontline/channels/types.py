"""The contract between channel adapters and the domain: InboundMessage and OutboundMessage.

Adapters know their provider's format and nothing about tickets; they produce an
InboundMessage for the ingest service and consume an OutboundMessage from the outbound one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    EMAIL = "email"
    CHAT = "chat"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    SOCIAL = "social"
    PHONE = "phone"
    PORTAL = "portal"
    API = "api"
    WEBHOOK = "webhook"  # a network or in-house app bridged through the generic webhook
    WEB = "web"  # created by an agent in the workspace

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(c.value, c.value) for c in cls]


# Conversational channels continue the customer's open ticket on the same channel; others
# (email, portal, api, web) thread only on explicit references.
THREAD_BY_CUSTOMER = frozenset(
    {
        Channel.CHAT,
        Channel.SMS,
        Channel.WHATSAPP,
        Channel.FACEBOOK,
        Channel.INSTAGRAM,
        Channel.PHONE,
        Channel.WEBHOOK,
    }
)


@dataclass(frozen=True)
class SenderIdentity:
    kind: str  # email, phone, chat, social, external
    value: str
    network: str = ""


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""  # for inline (cid:) images
    inline: bool = False


@dataclass(frozen=True)
class InboundMessage:
    """One message from a customer, normalised from any provider format."""

    channel: str
    sender: SenderIdentity | None = None
    # A customer the adapter already knows (a signed-in portal user, an API call naming one).
    customer_id: int | None = None
    text: str = ""
    html: str = ""
    subject: str = ""
    sender_name: str = ""
    other_identities: tuple[SenderIdentity, ...] = ()
    provider_message_id: str = ""
    # Provider ids this message answers (email In-Reply-To/References, reply-to message id).
    references: tuple[str, ...] = ()
    # A provider conversation/thread key (chat session, social thread); empty if none.
    thread_key: str = ""
    # Explicit ticket, when the adapter knows it (e.g. a portal reply on ticket 42).
    ticket_id: int | None = None
    attachments: tuple[InboundAttachment, ...] = ()
    received_at: datetime | None = None
    raw_payload_id: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # Fields the adapter may set on a new ticket (priority, type, tags, custom fields, ...)
    ticket_fields: dict[str, Any] = field(default_factory=dict)
    is_internal: bool = False


@dataclass(frozen=True)
class OutboundMessage:
    """A reply to deliver on a channel."""

    channel: str
    message_id: int
    ticket_id: int
    recipient: SenderIdentity
    text: str
    html: str = ""
    subject: str = ""
    in_reply_to: tuple[str, ...] = ()
    attachments: tuple[InboundAttachment, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    # Signed, expiring URLs of the same files (same order), for providers that fetch media.
    attachment_links: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str = ""
    state: str = "sent"
    error: str = ""
