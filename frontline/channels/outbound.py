"""The one outbound path: an agent's public reply goes out through its channel's adapter.

Failures are retried with backoff by the task and end as a visible `failed` delivery state
on the message (and a timeline event), never silently.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from django.conf import settings

from frontline.channels.models import PROVIDER_CHANNEL
from frontline.channels.receipts import delivery_receipts_apply
from frontline.channels.registry import adapter_get
from frontline.channels.types import Channel, OutboundMessage, SenderIdentity, SendResult
from frontline.core.bus import Event
from frontline.tickets import selectors as ticket_selectors
from frontline.tickets import services as ticket_services
from frontline.tickets.models import DeliveryState, Direction, Message

logger = logging.getLogger(__name__)

IDENTITY_KIND_FOR_CHANNEL = {
    Channel.EMAIL: ("email", ""),
    Channel.SMS: ("phone", ""),
    Channel.WHATSAPP: ("phone", ""),
    Channel.PHONE: ("phone", ""),
    Channel.CHAT: ("chat", ""),
    Channel.FACEBOOK: ("social", "facebook"),
    Channel.INSTAGRAM: ("social", "instagram"),
}
# The generic webhook's identities are `external` ids under the account's network name.
WEBHOOK_CHANNEL = Channel.WEBHOOK


class OutboundRetry(Exception):
    pass


def on_message_created(event: Event) -> None:
    """Subscriber of message.created: queue the send of public outbound replies."""
    from frontline.channels.tasks import outbound_message_send_task

    if event.data.get("visibility") != "public":
        return
    outbound_message_send_task.delay(event.data["message_id"])


def outbound_message_send(message_id: int, *, final_attempt: bool = True) -> None:
    message = ticket_selectors.message_get(message_id)
    if message is None or message.direction != Direction.OUTBOUND:
        return
    if message.delivery_state != DeliveryState.QUEUED:
        return  # already handled: sending twice would duplicate the customer's copy
    adapter = adapter_get(message.channel)
    if adapter is None:
        # Channels without a push (web, portal): the customer reads the reply where they are.
        ticket_services.message_delivery_update(message=message, state=DeliveryState.SENT)
        return
    context = _sender_for(message)
    kind, network = IDENTITY_KIND_FOR_CHANNEL.get(Channel(message.channel), ("", ""))
    if message.channel == WEBHOOK_CHANNEL:
        kind, network = "external", str(context.get("network", ""))
    recipient = ticket_selectors.requester_identity(message.ticket, kind=kind, network=network)
    outbound = OutboundMessage(
        attachments=ticket_selectors.message_attachment_files(message),
        attachment_links=_file_links(message),
        metadata=context,
        channel=message.channel,
        message_id=message.pk,
        ticket_id=message.ticket_id,
        recipient=SenderIdentity(kind=recipient[0], value=recipient[2], network=recipient[1])
        if recipient
        else SenderIdentity(kind="", value=""),
        text=message.text,
        html=message.html,
        subject=message.ticket.subject,
        in_reply_to=ticket_selectors.ticket_provider_ids(message.ticket),
    )
    try:
        result = _sandbox_send(outbound) or adapter.send(outbound)
    except Exception as exc:
        logger.warning("send of message %s failed: %s", message_id, exc)
        if final_attempt:
            ticket_services.message_delivery_update(
                message=message, state=DeliveryState.FAILED, error=str(exc)[:1000]
            )
            return
        raise OutboundRetry(str(exc)) from exc
    ticket_services.message_delivery_update(
        message=message,
        state=result.state,
        provider_message_id=result.provider_message_id,
        error=result.error,
    )
    if result.provider_message_id:
        # Reports that raced ahead of this answer were kept; apply them now.
        delivery_receipts_apply(
            channel=message.channel, provider_message_id=result.provider_message_id
        )


def parts_sent(message: OutboundMessage, key: str) -> list[str]:
    """The provider ids of the parts of a long reply sent before a retry (recorded under
    `key` by `parts_record`)."""
    sent = (message.metadata.get("message") or {}).get(key)
    return [str(part) for part in sent] if isinstance(sent, list) else []


def parts_record(message_id: int, key: str, sent: list[str]) -> None:
    ticket_services.message_metadata_set(message_id=message_id, key=key, value=list(sent))


def _file_links(message: Message) -> tuple[str, ...]:
    from frontline.channels.files import file_link

    if message.channel not in PROVIDER_CHANNEL.values():
        return ()
    stored = message.attachments.filter(status="stored").exclude(file="").order_by("id")
    return tuple(file_link(a) for a in stored)  # in the order of `attachments`, pair by pair


def _sandbox_send(outbound: OutboundMessage) -> SendResult | None:
    """Accounts marked `{"sandbox": true}` (the demo's) deliver nothing: the request is written
    to <data dir>/outbox/<channel>/ instead, as embedded mode does with email."""
    sandbox = outbound.metadata.get("sandbox")
    if not sandbox:
        return None
    folder = Path(settings.DATA_DIR) / "outbox" / outbound.channel
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "account": sandbox,
        "to": outbound.recipient.value,
        "text": outbound.text,
        "ticket_id": outbound.ticket_id,
        "message_id": outbound.message_id,
        "template": outbound.metadata.get("message", {}).get("template"),
        "files": list(outbound.attachment_links),
        "public": bool(outbound.metadata.get("inbound", {}).get("public")),
    }
    (folder / f"message-{outbound.message_id}.json").write_text(json.dumps(record, indent=2))
    return SendResult(provider_message_id=f"sandbox-{outbound.message_id}", state="sent")


def _sender_for(message: Message) -> dict[str, Any]:
    """Where a reply goes out from and what it answers.

    Email: the mailbox the customer wrote to (else the default). Messaging channels: the
    account the customer last wrote to on this channel (else the channel's default) as
    `account_id`, the metadata of that last inbound message as `inbound` (its comment or
    thread), and the message's own metadata (a template to use) as `message`.
    """
    if message.channel in PROVIDER_CHANNEL.values():
        from frontline.channels.accounts import account_for_reply, last_inbound_on_channel

        inbound = last_inbound_on_channel(message.ticket, message.channel)
        account = account_for_reply(message.ticket, message.channel, inbound=inbound)
        return {
            "account_id": account.pk if account else None,
            "network": account.address if account else "",
            # The account's key when it is a sandbox (the demo's): nothing leaves the machine.
            "sandbox": account.key if account and account.options.get("sandbox") else "",
            "inbound": inbound,
            "message": dict(message.metadata or {}),
        }
    if message.channel != Channel.EMAIL:
        return {}
    from frontline.channels.selectors import mailbox_for_address

    for recipient in ticket_selectors.ticket_email_recipients(message.ticket):
        mailbox = mailbox_for_address(recipient)
        if mailbox is not None:
            return {"from_address": mailbox.address, "from_name": mailbox.from_name}
    return {}
