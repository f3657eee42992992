"""Live chat: visitors, their messages through the one ingest service, history and receipts.

A visitor is known by a signed token the widget keeps in local storage; its public part (`uid`)
is the visitor's `chat` identity on the customer and names the conversation
(`thread_key = "chat:<uid>"`). Every message carries the client's own id, so a resend after a
dropped connection is recognised by the ingest dedupe and answered with the same server id.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from frontline.channels.chat.hours import is_open
from frontline.channels.models import ChatVisitor, ChatWidget
from frontline.channels.services import IngestResult, RawInput, inbound_message_ingest
from frontline.channels.types import Channel, InboundAttachment, InboundMessage, SenderIdentity
from frontline.core.errors import ValidationFailed
from frontline.tickets.models import Attachment, DeliveryState, Direction, Message, Visibility

VISITOR_SALT = "frontline.chat.visitor"
ATTACHMENT_SALT = "frontline.chat.attachment"
ATTACHMENT_URL_MAX_AGE = 7 * 24 * 3600
MAX_TEXT = 10_000
HISTORY_LIMIT = 300


def thread_key_for(uid: str) -> str:
    return f"chat:{uid}"


def visitor_group(uid: str) -> str:
    return f"chat_visitor.{uid}"


# --- widgets -------------------------------------------------------------------------------


def widget_for_site_key(site_key: str) -> ChatWidget | None:
    if not site_key or len(site_key) > 64:
        return None
    return ChatWidget.objects.filter(site_key=site_key, is_active=True).first()


def _origin(value: str) -> str:
    parts = urlsplit(value.strip().lower())
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def origin_allowed(widget: ChatWidget, origin: str) -> bool:
    """The page embedding the widget must be on the widget's allowlist (scheme, host, port)."""
    wanted = _origin(origin)
    return bool(wanted) and wanted in {_origin(o) for o in widget.allowed_origins}


def widget_is_available(widget: ChatWidget, now: datetime | None = None) -> bool:
    """Open hours, and (when asked) somebody there to answer."""
    if not is_open(widget.business_hours, now or timezone.now()):
        return False
    if not widget.require_online_agent:
        return True
    from frontline.accounts.models import AgentProfile, Presence

    online = AgentProfile.objects.filter(presence=Presence.ONLINE, user__is_active=True)
    if widget.team_id:
        online = online.filter(user__teams__id=widget.team_id)
    return online.exists()


def widget_create(
    *, name: str, allowed_origins: list[str], team_id: int | None = None, **options: Any
) -> ChatWidget:
    origins = []
    for origin in allowed_origins:
        normalised = _origin(origin)
        if not normalised:
            raise ValidationFailed(
                "Origins look like https://shop.example.com.",
                fields={"allowed_origins": [f"{origin!r} is not an origin"]},
            )
        origins.append(normalised)
    from frontline.channels.chat.hours import ScheduleError, schedule_validate

    try:
        schedule_validate(options.get("business_hours") or {})
    except ScheduleError as exc:
        raise ValidationFailed(str(exc), fields={"business_hours": [str(exc)]}) from None
    return ChatWidget.objects.create(
        name=name,
        site_key=secrets.token_urlsafe(18),
        allowed_origins=origins,
        team_id=team_id,
        **options,
    )


def widget_public_config(widget: ChatWidget) -> dict[str, Any]:
    from django.conf import settings

    return {
        "name": widget.name,
        "color": widget.color,
        "greeting": widget.greeting,
        "offline_message": widget.offline_message,
        "open": widget_is_available(widget),
        "pre_chat_form": widget.pre_chat_form,
        "require_email": widget.require_email,
        "max_upload_bytes": settings.ATTACHMENT_MAX_BYTES,
    }


# --- visitors ------------------------------------------------------------------------------


def visitor_token_issue(widget: ChatWidget) -> tuple[str, str]:
    uid = secrets.token_hex(16)
    return uid, signing.dumps({"w": widget.pk, "u": uid}, salt=VISITOR_SALT)


def visitor_token_read(widget: ChatWidget, token: str) -> str | None:
    """The visitor's uid if `token` was issued by us for this widget, else None."""
    if not token or len(token) > 300:
        return None
    try:
        data = signing.loads(token, salt=VISITOR_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("w") != widget.pk:
        return None
    uid = data.get("u")
    return uid if isinstance(uid, str) and len(uid) == 32 else None


def _web_page(url: str) -> str:
    """Only an http(s) address is kept: it is shown to agents as a link."""
    url = (url or "").strip()[:1000]
    return url if url.lower().startswith(("http://", "https://")) else ""


def visitor_touch(
    *, widget: ChatWidget, uid: str, page_url: str = "", user_agent: str = ""
) -> ChatVisitor:
    visitor, _ = ChatVisitor.objects.get_or_create(uid=uid, defaults={"widget": widget})
    visitor.last_seen_at = timezone.now()
    fields = ["last_seen_at"]
    if _web_page(page_url) and _web_page(page_url) != visitor.page_url:
        visitor.page_url = _web_page(page_url)
        fields.append("page_url")
    if user_agent:
        visitor.user_agent = user_agent[:300]
        fields.append("user_agent")
    visitor.save(update_fields=fields)
    return visitor


@transaction.atomic
def visitor_identify(
    *, widget: ChatWidget, uid: str, name: str = "", email: str = ""
) -> ChatVisitor:
    """The visitor told us who they are (pre-chat form, or later). Once an email is given the
    chat belongs to that email's customer: a visitor-only customer is merged into it."""
    from frontline.customers.models import Identity
    from frontline.customers.selectors import customer_get_active
    from frontline.customers.services import (
        IdentityInput,
        customer_merge,
        customer_update,
        identity_add,
    )

    name = " ".join(name.split())[:200]
    email = email.strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationFailed("Enter a valid email.", fields={"email": ["invalid"]}) from None
    visitor = ChatVisitor.objects.select_for_update().filter(uid=uid).first()
    if visitor is None:
        visitor = ChatVisitor.objects.create(uid=uid, widget=widget)
    if name:
        visitor.name = name
    if email:
        visitor.email = email
    visitor.save(update_fields=["name", "email"])
    if visitor.customer_id is None:
        return visitor  # the first message creates the customer with these details
    customer = customer_get_active(visitor.customer_id)
    if customer is None:
        return visitor
    if name and not customer.name:
        customer_update(customer=customer, name=name, actor="channel:chat")
    if email:
        owner = (
            Identity.objects.filter(kind="email", value=email).select_related("customer").first()
        )
        if owner is None:
            identity_add(
                customer=customer,
                identity=IdentityInput(kind="email", value=email),
                actor="channel:chat",
            )
        elif owner.customer_id != customer.pk:
            customer_merge(source=customer, target=owner.customer, actor="channel:chat")
            customer = owner.customer
    if visitor.customer_id != customer.pk:
        visitor.customer_id = customer.pk
        visitor.save(update_fields=["customer_id"])
    return visitor


# --- messages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatUpload:
    filename: str
    content_type: str
    content: bytes


def chat_message_receive(
    *,
    widget: ChatWidget,
    uid: str,
    client_id: str,
    text: str,
    uploads: tuple[ChatUpload, ...] = (),
    page_url: str = "",
) -> IngestResult:
    """A visitor's message, stored exactly once however often the client resends it."""
    client_id = (client_id or "").strip()
    if not client_id or len(client_id) > 64 or not client_id.isascii():
        raise ValidationFailed("Each message needs a client id.", fields={"client_id": ["invalid"]})
    text = (text or "").strip()
    if not text and not uploads:
        raise ValidationFailed("Empty message.", fields={"text": ["required"]})
    if len(text) > MAX_TEXT:
        raise ValidationFailed("Message too long.", fields={"text": [f"max {MAX_TEXT} characters"]})
    visitor = ChatVisitor.objects.filter(uid=uid).first()
    others = (
        (SenderIdentity(kind="email", value=visitor.email),) if visitor and visitor.email else ()
    )
    raw = {
        "widget": widget.pk,
        "uid": uid,
        "client_id": client_id,
        "text": text,
        "name": visitor.name if visitor else "",
        "email": visitor.email if visitor else "",
        "page_url": _web_page(page_url),
        "files": [{"filename": u.filename, "content_type": u.content_type} for u in uploads],
    }
    message = InboundMessage(
        channel=Channel.CHAT,
        sender=SenderIdentity(kind="chat", value=uid),
        other_identities=others,
        sender_name=visitor.name if visitor else "",
        text=text,
        provider_message_id=f"{uid}:{client_id}",
        thread_key=thread_key_for(uid),
        attachments=tuple(
            InboundAttachment(filename=u.filename, content_type=u.content_type, content=u.content)
            for u in uploads
        ),
        metadata={"widget_id": widget.pk, "page_url": _web_page(page_url)},
        ticket_fields={"team": widget.team_id} if widget.team_id else {},
    )
    result = inbound_message_ingest(
        message, raw=RawInput(body=json.dumps(raw).encode(), content_type="application/json")
    )
    if not result.duplicate:
        ChatVisitor.objects.filter(uid=uid).exclude(customer_id=result.customer_id).update(
            customer_id=result.customer_id
        )
        if visitor is None:
            ChatVisitor.objects.get_or_create(
                uid=uid, defaults={"widget": widget, "customer_id": result.customer_id}
            )
    return result


def _chat_messages(uid: str) -> Any:
    return Message.objects.filter(
        ticket__channel=Channel.CHAT,
        ticket__thread_key=thread_key_for(uid),
        visibility=Visibility.PUBLIC,
    )


def chat_history(uid: str) -> list[dict[str, Any]]:
    """The visitor's conversation as they see it (public messages only), oldest first."""
    messages = list(
        _chat_messages(uid)
        .select_related("author_user")
        .prefetch_related("attachments")
        .order_by("-id")[:HISTORY_LIMIT]
    )
    return [chat_message_payload(m, uid) for m in reversed(messages)]


def chat_current_ticket_id(uid: str) -> int | None:
    return _chat_messages(uid).order_by("-id").values_list("ticket_id", flat=True).first()


def chat_message_payload(message: Message, uid: str) -> dict[str, Any]:
    """What the widget shows of one message: never internal fields or the agent's surname."""
    agent_name = ""
    if message.author_user is not None:
        agent_name = (message.author_user.first_name or message.author_user.username).strip()
    return {
        "type": "message",
        "id": message.pk,
        "ticket": message.ticket_id,
        "from": "visitor" if message.direction == Direction.INBOUND else "agent",
        "name": agent_name,
        "text": message.text,
        "client_id": message.provider_message_id.split(":", 1)[1]
        if message.direction == Direction.INBOUND and ":" in message.provider_message_id
        else "",
        "state": message.delivery_state,
        "created_at": message.created_at.isoformat(),
        "attachments": [
            {
                "name": a.filename,
                "size": a.size,
                "url": attachment_url(a, uid),
            }
            for a in message.attachments.all()
            if a.file
        ],
    }


def attachment_url(attachment: Attachment, uid: str) -> str:
    token = signing.dumps({"a": attachment.pk, "u": uid}, salt=ATTACHMENT_SALT)
    return reverse("chat:attachment", kwargs={"token": token, "filename": attachment.filename})


def attachment_for_token(token: str) -> Attachment | None:
    try:
        data = signing.loads(token, salt=ATTACHMENT_SALT, max_age=ATTACHMENT_URL_MAX_AGE)
    except signing.BadSignature:
        return None
    attachment = (
        Attachment.objects.select_related("message", "message__ticket")
        .filter(pk=data.get("a"), status="stored")
        .first()
    )
    if attachment is None or not attachment.file:
        return None
    message = attachment.message
    if message.visibility != Visibility.PUBLIC:
        return None
    if message.ticket.thread_key != thread_key_for(str(data.get("u"))):
        return None
    return attachment


def chat_mark_read_by_visitor(uid: str, up_to: int) -> list[int]:
    """The visitor saw agent messages up to `up_to`: their read receipts."""
    from frontline.tickets.services import message_delivery_update

    marked = []
    for message in (
        _chat_messages(uid)
        .filter(direction=Direction.OUTBOUND, pk__lte=up_to)
        .exclude(delivery_state__in=[DeliveryState.READ, DeliveryState.FAILED])[:100]
    ):
        message_delivery_update(message=message, state=DeliveryState.READ)
        marked.append(message.pk)
    return marked


def chat_mark_read_by_agent(ticket_id: int, up_to: int) -> tuple[str, list[int]]:
    """An agent saw the visitor's messages: returns the visitor uid and what became read."""
    from frontline.tickets.models import Ticket

    ticket = Ticket.objects.filter(pk=ticket_id, channel=Channel.CHAT).first()
    if ticket is None or not ticket.thread_key.startswith("chat:"):
        return "", []
    ids = list(
        ticket.messages.filter(direction=Direction.INBOUND, pk__lte=up_to)
        .exclude(delivery_state=DeliveryState.READ)
        .values_list("pk", flat=True)[:200]
    )
    if ids:
        Message.objects.filter(pk__in=ids).update(delivery_state=DeliveryState.READ)
    return ticket.thread_key.removeprefix("chat:"), ids


def chat_offline_message(
    *, widget: ChatWidget, name: str, email: str, text: str, page_url: str = ""
) -> IngestResult:
    """Outside hours the widget takes a message that becomes an email conversation: the
    agent's reply goes to the address given."""
    email = email.strip().lower()
    problems: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError:
        problems["email"] = ["a valid email is required to answer you"]
    text = (text or "").strip()
    if not text:
        problems["message"] = ["required"]
    elif len(text) > MAX_TEXT:
        problems["message"] = [f"max {MAX_TEXT} characters"]
    if problems:
        raise ValidationFailed("Please check the form.", fields=problems)
    name = " ".join((name or "").split())[:200]
    body = {"widget": widget.pk, "name": name, "email": email, "text": text, "page": page_url}
    message = InboundMessage(
        channel=Channel.EMAIL,
        sender=SenderIdentity(kind="email", value=email),
        sender_name=name,
        subject=f"Chat message from {name or email}",
        text=text,
        provider_message_id=f"chat-offline:{secrets.token_hex(12)}",
        metadata={
            "source": "chat_offline",
            "widget_id": widget.pk,
            "page_url": _web_page(page_url),
        },
        ticket_fields={"team": widget.team_id} if widget.team_id else {},
    )
    return inbound_message_ingest(
        message, raw=RawInput(body=json.dumps(body).encode(), content_type="application/json")
    )


def chat_transcript_text(uid: str) -> str:
    lines = []
    for item in chat_history(uid):
        who = "You" if item["from"] == "visitor" else (item["name"] or "Support")
        stamp = item["created_at"][:16].replace("T", " ")
        lines.append(f"[{stamp}] {who}: {item['text']}")
        lines.extend(f"    (file: {a['name']})" for a in item["attachments"])
    return "\n".join(lines)


def chat_transcript_request(*, widget: ChatWidget, uid: str) -> str:
    """Queue the transcript to the visitor's own email (never to an address typed just now:
    that would make the widget a way to send mail to anybody). Returns the address."""
    from frontline.channels.chat.tasks import chat_transcript_send_task

    visitor = ChatVisitor.objects.filter(uid=uid).first()
    if visitor is None or not visitor.email:
        raise ValidationFailed(
            "Tell us your email first.", fields={"email": ["required for a transcript"]}
        )
    transaction.on_commit(lambda: chat_transcript_send_task.delay(widget.pk, uid))
    return visitor.email


def widget_ensure(*, site_key: str, name: str, origin: str, **options: Any) -> ChatWidget:
    """Create the widget if missing and make sure `origin` may embed it (idempotent; the
    demo uses it so `make run` has a widget to try on Frontline's own address)."""
    normalised = _origin(origin)
    if not normalised:
        raise ValidationFailed("Not an origin.", fields={"origin": [origin]})
    widget, created = ChatWidget.objects.get_or_create(
        site_key=site_key, defaults={"name": name, "allowed_origins": [normalised], **options}
    )
    if not created and normalised not in widget.allowed_origins:
        widget.allowed_origins = [*widget.allowed_origins, normalised]
        widget.save(update_fields=["allowed_origins"])
    return widget
