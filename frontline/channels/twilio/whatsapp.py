"""WhatsApp's customer-service window and its templates.

WhatsApp lets a business answer free-form only within 24 hours of the customer's last message;
outside that window only a template approved by Meta (a Twilio Content SID) may be sent. The
composer asks `whatsapp_window` what to offer and the reply path calls `whatsapp_reply_check`
before storing a reply, so an agent learns at once instead of from a failed delivery (Twilio
error 63016).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone

from frontline.channels.models import MessageTemplate, MessagingAccount
from frontline.channels.types import Channel
from frontline.core.errors import ValidationFailed

if TYPE_CHECKING:
    from frontline.tickets.models import Ticket

WHATSAPP_WINDOW = timedelta(hours=24)
# Content API placeholders: {{1}}, {{2}}, ... (spaces inside the braces are tolerated).
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@dataclass(frozen=True)
class Window:
    open: bool
    closes_at: datetime | None  # None: the customer never wrote on WhatsApp in this ticket


def whatsapp_window(ticket: Ticket, *, now: datetime | None = None) -> Window:
    """The 24-hour window opened by the customer's last inbound WhatsApp message on `ticket`."""
    from frontline.tickets.models import Direction, Message

    last = (
        Message.objects.filter(
            ticket=ticket, channel=Channel.WHATSAPP.value, direction=Direction.INBOUND
        )
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is None:
        return Window(open=False, closes_at=None)
    closes_at = last + WHATSAPP_WINDOW
    return Window(open=(now or timezone.now()) < closes_at, closes_at=closes_at)


def whatsapp_reply_check(
    ticket: Ticket, *, template: Mapping[str, Any] | None, now: datetime | None = None
) -> None:
    """Refuse a free-form WhatsApp reply outside the window (ValidationFailed); a template is
    always allowed, as long as it names its Content SID."""
    if template:
        if not str(template.get("content_sid", "")).strip():
            raise ValidationFailed(
                "This template has no Content SID, so WhatsApp cannot send it.",
                fields={"template": ["no content_sid"]},
            )
        return
    window = whatsapp_window(ticket, now=now)
    if window.open:
        return
    if window.closes_at is None:
        message = (
            "The customer has not written on WhatsApp in this ticket, and WhatsApp only lets "
            "a business start a conversation with an approved template. Choose a template."
        )
    else:
        closed = timezone.localtime(window.closes_at).strftime("%Y-%m-%d %H:%M %Z")
        message = (
            "The customer's last WhatsApp message is more than 24 hours old (the window "
            f"closed at {closed}). WhatsApp only allows an approved template until they "
            "write again. Choose a template."
        )
    raise ValidationFailed(message, fields={"template": ["required outside the 24-hour window"]})


def whatsapp_templates(account: MessagingAccount) -> QuerySet[MessageTemplate]:
    """The account's active templates, by name and language."""
    return MessageTemplate.objects.filter(account=account, is_active=True).order_by(
        "name", "language"
    )


def template_placeholders(body: str) -> list[str]:
    """The placeholder names of a template body, in order of first use."""
    return list(dict.fromkeys(PLACEHOLDER.findall(body)))


def template_render(template: MessageTemplate, variables: Mapping[str, str]) -> str:
    """The template's text with `{{1}}`, `{{2}}`... filled in (what the agent sees on the
    ticket; WhatsApp renders the same from the Content SID and the variables). Every
    placeholder needs a non-empty value."""
    names = template_placeholders(template.body)
    missing = [name for name in names if not str(variables.get(name, "")).strip()]
    if missing:
        labels = list(template.variables or [])
        described = [
            f"{{{{{name}}}}} ({labels[int(name) - 1]})"
            if name.isdigit() and 0 < int(name) <= len(labels)
            else f"{{{{{name}}}}}"
            for name in missing
        ]
        raise ValidationFailed(
            f"Fill in every variable of the template: {', '.join(described)} missing.",
            fields={f"variables.{name}": ["required"] for name in missing},
        )
    return PLACEHOLDER.sub(lambda match: str(variables[match.group(1)]), template.body)
