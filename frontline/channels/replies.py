"""Which channels an agent can answer a customer on, which one the composer offers first,
and what each channel allows (WhatsApp's 24-hour window, public social replies).

An agent may move a conversation to another channel (from chat to email, from a call to
SMS): any channel with a sending adapter on which the customer has an identity, and, for
the messaging channels, an active account to send from. The choice is remembered as the
customer's preferred channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from frontline.channels.models import PROVIDER_CHANNEL, MessageTemplate, MessagingAccount
from frontline.channels.outbound import IDENTITY_KIND_FOR_CHANNEL
from frontline.channels.registry import adapter_get
from frontline.channels.types import Channel
from frontline.core.errors import ValidationFailed

if TYPE_CHECKING:
    from frontline.customers.models import Customer, Identity
    from frontline.tickets.models import Ticket

CHANNEL_LABELS = {
    "email": "Email",
    "chat": "Live chat",
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "facebook": "Messenger",
    "instagram": "Instagram",
    "phone": "Phone",
    "webhook": "Messaging",
    "portal": "Help centre",
    "api": "API",
    "web": "Workspace",
    "social": "Social",
}
# Channels that need a connected provider account to send from.
ACCOUNT_CHANNELS = frozenset(PROVIDER_CHANNEL.values())
# A phone ticket is answered by SMS or email: a call cannot carry a typed reply.
NOT_FOR_TYPED_REPLIES = frozenset({Channel.PHONE.value})


@dataclass(frozen=True)
class ReplyChannel:
    channel: str
    label: str
    address: str  # where the reply goes (the customer's address there), for the agent to see


@dataclass(frozen=True)
class ReplyRules:
    """What the composer shows for one channel."""

    channel: str
    public: bool = False  # the reply is posted publicly (a comment under a post)
    window_open: bool = True  # WhatsApp: free-form replies allowed
    window_closes_at: datetime | None = None
    templates: list[MessageTemplate] = field(default_factory=list)
    sms: bool = False  # show the segment counter


def _active_accounts() -> list[MessagingAccount]:
    return list(MessagingAccount.objects.filter(is_active=True).order_by("id"))


def reply_channels(ticket: Ticket, identities: list[Identity]) -> list[ReplyChannel]:
    """The ticket's own channel first (when it can carry a typed reply), then every other
    channel the customer can be reached on."""
    accounts = _active_accounts()
    account_channels = {a.channel for a in accounts}
    networks = {a.address.lower() for a in accounts if a.channel == Channel.WEBHOOK}
    found: dict[str, ReplyChannel] = {}
    for identity in identities:
        for channel in _channels_for(identity.kind, identity.network, networks):
            if channel in found or adapter_get(channel) is None:
                continue
            if channel in ACCOUNT_CHANNELS and channel not in account_channels:
                continue
            found[channel] = ReplyChannel(channel, channel_label(channel), identity.value)
    ordered: list[ReplyChannel] = []
    own = ticket.channel
    if own not in NOT_FOR_TYPED_REPLIES:
        ordered.append(found.pop(own, ReplyChannel(own, channel_label(own), "")))
    ordered += [found[c] for c in sorted(found, key=_channel_order) if c != own]
    return ordered


def _channels_for(kind: str, network: str, networks: set[str]) -> list[str]:
    if kind == "external" and network in networks:
        return [Channel.WEBHOOK.value]
    return [
        channel.value
        for channel, wanted in IDENTITY_KIND_FOR_CHANNEL.items()
        if wanted == (kind, network) and channel.value not in NOT_FOR_TYPED_REPLIES
    ]


def _channel_order(channel: str) -> int:
    order = list(CHANNEL_LABELS)
    return order.index(channel) if channel in order else len(order)


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel.title())


def reply_default_channel(
    ticket: Ticket, available: list[ReplyChannel], *, last_public_channel: str = ""
) -> str:
    """The channel the composer selects first: where the conversation last happened (the
    latest public message, the customer's or an agent's), else the customer's preferred
    channel, else the ticket's own."""
    names = [c.channel for c in available]
    for candidate in (last_public_channel, ticket.requester.preferred_channel, ticket.channel):
        if candidate in names:
            return candidate
    return names[0] if names else ticket.channel


def reply_rules(ticket: Ticket, channel: str) -> ReplyRules:
    from frontline.channels.accounts import account_for_reply

    if channel == Channel.WHATSAPP:
        from frontline.channels.twilio.whatsapp import whatsapp_templates, whatsapp_window

        window = whatsapp_window(ticket)
        account = account_for_reply(ticket, channel)
        return ReplyRules(
            channel=channel,
            window_open=window.open,
            window_closes_at=window.closes_at,
            templates=list(whatsapp_templates(account)) if account else [],
        )
    public = ticket.is_public and channel in (Channel.FACEBOOK, Channel.INSTAGRAM, Channel.WEBHOOK)
    return ReplyRules(channel=channel, public=public, sms=channel == Channel.SMS)


def reply_check(ticket: Ticket, channel: str, *, template: dict[str, Any] | None = None) -> None:
    """Refuse a public reply the channel would not deliver (raise ValidationFailed)."""
    if channel == Channel.WHATSAPP:
        from frontline.channels.twilio.whatsapp import whatsapp_reply_check

        whatsapp_reply_check(ticket, template=template)


def reply_template(
    ticket: Ticket, channel: str, template_id: str, variables: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """The text and message metadata of a template reply (WhatsApp), from the template the
    agent picked and the values they filled in."""
    from frontline.channels.accounts import account_for_reply
    from frontline.channels.twilio.whatsapp import template_render

    account = account_for_reply(ticket, channel)
    template = (
        MessageTemplate.objects.filter(pk=int(template_id), account=account, is_active=True).first()
        if template_id.isdigit() and account is not None
        else None
    )
    if template is None:
        raise ValidationFailed("Choose one of the approved templates.", fields={"template": ["?"]})
    text = template_render(template, variables)
    return text, {
        "template": {
            "id": template.pk,
            "name": template.name,
            "content_sid": template.content_sid,
            "variables": variables,
        }
    }


def preferred_channel_remember(customer: Customer, channel: str, *, actor: str) -> None:
    """The customer was answered on `channel` by choice: remember it for next time."""
    from frontline.customers.services import customer_update

    if channel and customer.preferred_channel != channel:
        customer_update(customer=customer, actor=actor, preferred_channel=channel)
