"""Email-channel services, selectors and bus subscribers: the raw-MIME endpoint secret, the
selectors the adapter uses for loops/floods/forwards, bounce recording, the acknowledgement."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import timedelta
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from frontline.channels.email import addressing, loops
from frontline.channels.models import Mailbox
from frontline.channels.selectors import mailbox_for_address
from frontline.core.bus import Event, publish
from frontline.core.models import DomainEvent

logger = logging.getLogger(__name__)

ACK_EVENT = "email.acknowledged"
OWN_MESSAGE_NUMBER_RE = re.compile(r"^<frontline\.t\d+\.m(\d+)\.")
DEFAULT_ACK_TEXT = (
    "Hello {customer_name},\n\n"
    "thank you for writing to us. We have received your message and opened ticket "
    "#{ticket_number} ({subject}).\n\n"
    "We usually answer within one business day. To add anything, simply reply to this "
    "email and keep the ticket number in the subject.\n"
)


# --- the raw-MIME endpoint secret ------------------------------------------------------------


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def mailbox_inbound_secret_set(mailbox: Mailbox) -> str:
    """Generate a new secret for the mailbox's raw-MIME HTTPS endpoint; store only its hash
    and return the secret (shown once). The previous secret stops working."""
    secret = secrets.token_urlsafe(32)
    mailbox.inbound_secret_hash = secret_hash(secret)
    mailbox.save(update_fields=["inbound_secret_hash"])
    return secret


# --- selectors for the adapter ---------------------------------------------------------------


def staff_user_for_email(address: str) -> int | None:
    """The id of the active staff user (admin, supervisor, agent) with this email, if any."""
    from frontline.accounts.models import Role, User

    if not address:
        return None
    return (
        User.objects.filter(
            email__iexact=address.strip(),
            is_active=True,
            role__in=[Role.ADMIN, Role.SUPERVISOR, Role.AGENT],
        )
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


def recent_inbound_count(address: str, *, minutes: int = loops.FLOOD_WINDOW_MINUTES) -> int:
    """Inbound email messages from the customer with this email address in the last minutes."""
    from frontline.tickets.models import Direction, Message

    since = timezone.now() - timedelta(minutes=minutes)
    return Message.objects.filter(
        channel="email",
        direction=Direction.INBOUND,
        created_at__gte=since,
        author_customer__identities__kind="email",
        author_customer__identities__value=address.strip().lower(),
    ).count()


def flood_limit() -> int:
    return int(getattr(settings, "EMAIL_FLOOD_LIMIT", loops.DEFAULT_FLOOD_LIMIT))


# --- bounces ---------------------------------------------------------------------------------


def bounce_record(info: loops.BounceInfo) -> int | None:
    """Mark our outbound message the DSN returns as failed (with the diagnosis). Returns the
    message id, or None when the bounce is not about one of our messages."""
    from frontline.tickets.models import DeliveryState, Direction, Message
    from frontline.tickets.services import message_delivery_update

    if not info.message_ids:
        return None
    candidates = Message.objects.filter(
        channel="email", direction=Direction.OUTBOUND, provider_message_id__in=info.message_ids
    ).select_related("ticket")
    message = candidates.order_by("-id").first()
    if message is None:
        for ref in info.message_ids:
            match = addressing.OWN_MESSAGE_ID_RE.fullmatch(ref)
            own = OWN_MESSAGE_NUMBER_RE.search(ref) if match else None
            if match and own:
                message = (
                    Message.objects.filter(
                        pk=int(own.group(1)),
                        ticket_id=int(match.group(1)),
                        direction=Direction.OUTBOUND,
                    )
                    .select_related("ticket")
                    .first()
                )
                if message is not None:
                    break
    if message is None:
        return None
    if info.is_failure and message.delivery_state != DeliveryState.FAILED:
        message_delivery_update(
            message=message, state=DeliveryState.FAILED, error=info.reason()[:1000]
        )
    return message.pk


# --- the auto-acknowledgement ----------------------------------------------------------------


def _ack_mailbox(recipients: list[str]) -> Mailbox | None:
    for address in recipients:
        mailbox = mailbox_for_address(address)
        if mailbox is not None:
            return mailbox
    return None


def ack_text(template: str, *, ticket_number: int, subject: str, customer_name: str) -> str:
    values = {
        "{ticket_number}": str(ticket_number),
        "{subject}": subject,
        "{customer_name}": customer_name,
    }
    text = template or DEFAULT_ACK_TEXT
    for key, value in values.items():
        text = text.replace(key, value)
    if not customer_name:
        text = text.replace("Hello ,", "Hello,")
    return text


def on_ticket_created(event: Event) -> None:
    """Subscriber of ticket.created (task): acknowledge new email tickets when their mailbox
    asks for it. Never for auto-replies, bulk mail or floods; never twice for one ticket."""
    from frontline.tickets.models import Direction, Message, Ticket
    from frontline.tickets.selectors import requester_identity

    if event.data.get("channel") != "email" or event.ticket_id is None:
        return
    first = (
        Message.objects.filter(ticket_id=event.ticket_id, direction=Direction.INBOUND)
        .order_by("id")
        .first()
    )
    if first is None:
        return
    meta = first.metadata.get("email") or {}
    if meta.get("auto_submitted") or meta.get("bulk") or meta.get("flood") or meta.get("bounce"):
        return
    mailbox = _ack_mailbox([*(meta.get("recipients") or []), *(meta.get("to") or [])])
    if mailbox is None or not mailbox.auto_acknowledge or not mailbox.is_active:
        return
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update().select_related("requester").get(pk=first.ticket_id)
        )
        if DomainEvent.objects.filter(name=ACK_EVENT, ticket_id=ticket.pk).exists():
            return
        identity = requester_identity(ticket, kind="email")
        if identity is None or loops.is_own_address(identity[2], loops.own_addresses()):
            return
        to_address = identity[2]
        subject = ticket.subject or first.subject or "Your request"
        body = ack_text(
            mailbox.acknowledge_text,
            ticket_number=ticket.pk,
            subject=subject,
            customer_name=ticket.requester.name,
        )
        message_id = addressing.make_message_id(
            ticket_id=ticket.pk, message_id=0, domain=mailbox.domain or "frontline.invalid"
        )
        headers = {"Message-ID": message_id, "Auto-Submitted": "auto-replied"}
        headers["X-Auto-Response-Suppress"] = "All"
        customer_id = meta.get("message_id") or ""
        if customer_id:
            headers["In-Reply-To"] = customer_id
            headers["References"] = customer_id
        mail = EmailMessage(
            subject=f"[#{ticket.pk}] Re: {subject}",
            body=body,
            from_email=formataddr((mailbox.from_name or mailbox.name, mailbox.address)),
            to=[to_address],
            headers=headers,
            reply_to=[mailbox.address],
            connection=get_connection(fail_silently=False),
        )
        mail.send(fail_silently=False)
        publish(
            Event(
                name=ACK_EVENT,
                ticket_id=ticket.pk,
                customer_id=ticket.requester_id,
                data={"to": to_address, "mailbox": mailbox.address, "message_id": message_id},
            )
        )
    logger.info("acknowledged ticket %s to %s", ticket.pk, to_address)
