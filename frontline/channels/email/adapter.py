"""The email channel adapter: raw RFC 5322 bytes -> InboundMessage, OutboundMessage -> SMTP."""

from __future__ import annotations

import hashlib
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from frontline.channels.email import addressing
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
    """Build the InboundMessage for one raw email. Raises ValueError without a sender."""
    parsed = parse_email(raw)
    if not parsed.from_address:
        raise ValueError("the message has no usable From address")
    references = [*parsed.references, *parsed.in_reply_to]
    is_reply = bool(references) or parsed.subject.lower().startswith(("re:", "aw:", "sv:"))
    ticket_hint = (
        addressing.ticket_from_references(references)
        or next(
            (t for t in (addressing.ticket_from_plus_tag(r) for r in recipients or []) if t),
            None,
        )
        or addressing.ticket_from_subject(parsed.subject)
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
                "auto_submitted": parsed.auto_submitted,
                "bulk": parsed.bulk,
                "bounce": parsed.bounce,
                "problems": parsed.problems,
                "stripped": full_text != text,
            },
            **({"full_text": full_text} if full_text != text else {}),
        },
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
        recipients = [r for r in headers.get("recipients", "").split(",") if r]
        return inbound_from_email(body, recipients=recipients)

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
