"""The email channel adapter: raw RFC 5322 bytes -> InboundMessage, OutboundMessage -> SMTP."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from frontline.channels.email import addressing, loops
from frontline.channels.email.parser import ParsedEmail, parse_email
from frontline.channels.email.quotes import split_reply, split_reply_html
from frontline.channels.types import (
    Channel,
    InboundMessage,
    OutboundMessage,
    SenderIdentity,
    SendResult,
)


def provider_id_for(raw: bytes, parsed_message_id: str) -> str:
    """The Message-ID, or a content hash for mail without one (so retries still dedupe)."""
    return parsed_message_id or f"<sha256.{hashlib.sha256(raw).hexdigest()}@frontline.invalid>"


def inbound_from_email(raw: bytes, *, recipients: list[str] | None = None) -> InboundMessage:
    """Build the InboundMessage for one raw email. Raises ValueError without a sender.

    Pure: auto-replies and bulk mail are flagged and tagged here; loops, floods, bounces and
    agent forwards need the database and are handled by `EmailChannelAdapter.parse`."""
    return inbound_from_parsed(raw, parse_email(raw), recipients=recipients)


def inbound_from_parsed(
    raw: bytes, parsed: ParsedEmail, *, recipients: list[str] | None = None
) -> InboundMessage:
    if not parsed.from_address:
        raise ValueError("the message has no usable From address")
    auto_submitted = parsed.auto_submitted or loops.is_auto_generated(parsed.headers)
    bulk = parsed.bulk or loops.is_bulk(parsed.headers)
    tags = [t for t, on in (("auto-reply", auto_submitted), ("bulk", bulk)) if on]
    references = [*parsed.references, *parsed.in_reply_to]
    is_reply = bool(references) or parsed.subject.lower().startswith(("re:", "aw:", "sv:"))
    # Our own Message-IDs first, then the [#n] subject token, then support+t<n>@ (the
    # ingest only honours a hint for a ticket of the same customer).
    ticket_hint = (
        addressing.ticket_from_references(references)
        or addressing.ticket_from_subject(parsed.subject)
        or next(
            (t for t in (addressing.ticket_from_plus_tag(r) for r in recipients or []) if t),
            None,
        )
    )
    text, html, full_text = _body(parsed, is_reply)
    return InboundMessage(
        channel=Channel.EMAIL,
        sender=SenderIdentity(kind="email", value=parsed.from_address),
        sender_name=parsed.from_name,
        subject=parsed.subject,
        text=text,
        html=html,
        provider_message_id=provider_id_for(raw, parsed.message_id),
        references=tuple(references),
        ticket_id=ticket_hint,
        attachments=tuple(parsed.attachments),
        metadata={
            "email": {
                "message_id": parsed.message_id,
                "to": parsed.to,
                "cc": parsed.cc,
                "recipients": recipients or [],
                "auto_submitted": auto_submitted,
                "bulk": bulk,
                "bounce": parsed.bounce,
                "problems": parsed.problems,
                "stripped": full_text != text,
            },
            **({"full_text": full_text} if full_text != text else {}),
        },
        ticket_fields={"tags": tags} if tags else {},
    )


def _forward_unwrapped(message: InboundMessage, raw: bytes) -> InboundMessage:
    """A staff member forwarding a customer's mail: the original sender is the requester,
    the subject loses its Fwd:, the staff member's note stays in the metadata."""
    from frontline.channels.email import handlers

    if message.sender is None:
        return message
    agent_id = handlers.staff_user_for_email(message.sender.value)
    if agent_id is None:
        return message
    full_text = message.metadata.get("full_text") or message.text
    original = loops.forwarded_original(full_text, raw)
    if original is None or loops.is_own_address(original.address, [message.sender.value]):
        return message
    subject = loops.forward_subject(message.subject) or original.subject
    metadata = {
        **message.metadata,
        "forwarded_by": {"user_id": agent_id, "address": message.sender.value},
        "forward_note": original.note[:10000],
        "full_text": full_text,
    }
    return replace(
        message,
        sender=SenderIdentity(kind="email", value=original.address),
        sender_name=original.name,
        subject=subject,
        text=original.text or full_text,
        html="",
        metadata=metadata,
    )


def _body(parsed: ParsedEmail, is_reply: bool) -> tuple[str, str, str]:
    """(text to show, html to show, full original text)."""
    from frontline.tickets.sanitize import html_to_text

    full_text = parsed.text or html_to_text(parsed.html)
    if not is_reply:
        return full_text, parsed.html, full_text
    sender = parsed.from_name or parsed.from_address
    parts = (
        split_reply(parsed.text, sender=sender)
        if parsed.text
        else split_reply_html(parsed.html, sender=sender)
    )
    reply = parts.reply.strip() or full_text
    return reply, "", full_text


class EmailChannelAdapter:
    channel = Channel.EMAIL.value

    def parse(self, body: bytes, headers: dict[str, str]) -> InboundMessage:
        """MIME -> InboundMessage, plus what needs the database: a bounce of one of our
        messages is recorded on it (BounceHandled), mail from our own addresses is refused
        (MailLoop), a staff member's forward is filed for the original sender, floods are
        flagged. Both exceptions are ValueErrors, so the payload ends `failed` with the reason.
        """
        from frontline.channels.email import handlers

        recipients = [r for r in headers.get("recipients", "").split(",") if r]
        parsed = parse_email(body)
        if parsed.bounce and parsed.from_address:
            info = loops.bounce_info(body)
            recorded = handlers.bounce_record(info)
            if recorded is not None:
                what = "recorded" if info.is_failure else "ignored (not a permanent failure)"
                raise loops.BounceHandled(f"bounce for message {recorded} {what}")
        if parsed.from_address and loops.is_own_address(parsed.from_address, loops.own_addresses()):
            raise loops.MailLoop(
                f"mail loop: from our own address {parsed.from_address}; not made a ticket"
            )
        message = inbound_from_parsed(body, parsed, recipients=recipients)
        message = _forward_unwrapped(message, body)
        sender = message.sender.value if message.sender else ""
        if sender and loops.is_flood(handlers.recent_inbound_count(sender), handlers.flood_limit()):
            tags = [*message.ticket_fields.get("tags", []), "flood"]
            email_meta = {**message.metadata.get("email", {}), "flood": True}
            message = replace(
                message,
                metadata={**message.metadata, "email": email_meta},
                ticket_fields={**message.ticket_fields, "tags": tags},
            )
        return message

    def send(self, message: OutboundMessage) -> SendResult:
        if message.recipient.kind != "email" or not message.recipient.value:
            raise ValueError("the requester has no email address")
        sender_address = message.metadata.get("from_address") or settings.EMAIL_FROM_ADDRESS
        domain = sender_address.rpartition("@")[2] or "frontline.invalid"
        message_id = addressing.make_message_id(
            ticket_id=message.ticket_id, message_id=message.message_id, domain=domain
        )
        references = [r for r in message.in_reply_to if r.startswith("<")][-20:]
        headers = {"Message-ID": message_id}
        if references:
            headers["In-Reply-To"] = references[-1]
            headers["References"] = " ".join(references)
        mail = EmailMultiAlternatives(
            subject=addressing.subject_with_token(message.subject, message.ticket_id),
            body=message.text,
            from_email=formataddr((message.metadata.get("from_name", ""), sender_address)),
            to=[message.recipient.value],
            headers=headers,
            reply_to=[sender_address],
            connection=get_connection(fail_silently=False),
        )
        if message.html:
            mail.attach_alternative(message.html, "text/html")
        for attachment in message.attachments:
            mail.attach(attachment.filename, attachment.content, attachment.content_type)
        mail.send(fail_silently=False)
        return SendResult(provider_message_id=message_id, state="sent")
