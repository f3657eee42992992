"""Writes for tickets and messages. Every change records a TicketEvent in its transaction and
publishes a domain event delivered after commit."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from frontline.accounts.models import Role, Team, User
from frontline.channels.types import Channel
from frontline.core.bus import Event, publish
from frontline.core.errors import InvalidTransition, ValidationFailed
from frontline.customers.models import Customer
from frontline.tickets import lifecycle
from frontline.tickets.actors import SYSTEM, Actor
from frontline.tickets.lifecycle import Status
from frontline.tickets.models import (
    Attachment,
    AttachmentStatus,
    AuthorType,
    DeliveryState,
    Direction,
    Message,
    Priority,
    Tag,
    Ticket,
    TicketEvent,
    TicketType,
    Visibility,
)
from frontline.tickets.sanitize import html_to_text, sanitize_html, text_to_html


@dataclass(frozen=True)
class AttachmentInput:
    filename: str
    content: bytes
    content_type: str = ""
    content_id: str = ""
    inline: bool = False


def attachment_problem(filename: str, size: int) -> str:
    """Why an attachment cannot be stored, or "" if it can."""
    if size > settings.ATTACHMENT_MAX_BYTES:
        return f"larger than the {settings.ATTACHMENT_MAX_BYTES} byte limit"
    suffixes = [s.lstrip(".").lower() for s in PurePath(filename).suffixes]
    blocked = {ext.lower() for ext in settings.ATTACHMENT_BLOCKED_EXTENSIONS}
    if any(s in blocked for s in suffixes):
        return f"file type .{suffixes[-1]} is not allowed"
    return ""


def attachments_validate(attachments: list[AttachmentInput]) -> None:
    """Refuse bad attachments up front (API and web uploads): a 422 naming each file."""
    if len(attachments) > settings.ATTACHMENTS_MAX_PER_MESSAGE:
        raise ValidationFailed(
            "Too many attachments.",
            fields={"attachments": [f"at most {settings.ATTACHMENTS_MAX_PER_MESSAGE}"]},
        )
    problems = [
        f"{a.filename}: {p}"
        for a in attachments
        if (p := attachment_problem(a.filename, len(a.content)))
    ]
    if problems:
        raise ValidationFailed("Attachment refused.", fields={"attachments": problems})


def _safe_filename(name: str) -> str:
    base = PurePath(name.replace("\\", "/")).name.strip().replace("\x00", "")
    return (base or "attachment")[:200]


def _attachment_store(message: Message, item: AttachmentInput) -> Attachment:
    filename = _safe_filename(item.filename)
    content_type = (
        item.content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    )[:127]
    problem = attachment_problem(filename, len(item.content))
    if problem:
        # Keep a record (the customer sent it; the agent should know) but not the content.
        return Attachment.objects.create(
            message=message,
            filename=filename,
            content_type=content_type,
            size=len(item.content),
            status=AttachmentStatus.REJECTED,
            rejection_reason=problem,
        )
    digest = hashlib.sha256(item.content).hexdigest()
    attachment = Attachment(
        message=message,
        filename=filename,
        content_type=content_type,
        size=len(item.content),
        sha256=digest,
        content_id=item.content_id.strip("<>")[:255],
        inline=item.inline,
    )
    attachment.file.save(filename, ContentFile(item.content), save=False)
    attachment.save()
    return attachment


def _event(ticket: Ticket, actor: Actor, kind: str, **fields: Any) -> TicketEvent:
    return TicketEvent(
        ticket=ticket,
        kind=kind,
        actor=actor.label,
        actor_user=actor.user,
        field=fields.pop("field", ""),
        old_value=_text(fields.pop("old", "")),
        new_value=_text(fields.pop("new", "")),
        data=fields,
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if hasattr(value, "pk"):
        return str(value.pk)
    return str(value)


def _tags_get(names: list[str]) -> list[Tag]:
    clean = sorted({n.strip().lower()[:64] for n in names if n and n.strip()})
    existing = {t.name: t for t in Tag.objects.filter(name__in=clean)}
    for name in clean:
        if name not in existing:
            existing[name], _ = Tag.objects.get_or_create(name=name)
    return [existing[n] for n in clean]


def _validate_choice(field: str, value: str, choices: list[str]) -> None:
    if value not in choices:
        raise ValidationFailed(f"Unknown {field}.", fields={field: [f"must be one of {choices}"]})


@transaction.atomic(savepoint=False)
def ticket_create(
    *,
    requester: Customer,
    subject: str = "",
    channel: str = Channel.WEB,
    actor: Actor = SYSTEM,
    priority: str = Priority.NORMAL,
    type: str = TicketType.QUESTION,
    status: str = Status.NEW,
    team: Team | None = None,
    assignee: User | None = None,
    tags: list[str] | None = None,
    custom_fields: dict[str, Any] | None = None,
    language: str = "",
    thread_key: str = "",
    followup_of: Ticket | None = None,
) -> Ticket:
    _validate_choice("priority", priority, Priority.values)
    _validate_choice("type", type, TicketType.values)
    _validate_choice("channel", channel, [c.value for c in Channel])
    _validate_choice("status", status, [s.value for s in Status if s is not Status.CLOSED])
    if requester.merged_into_id is not None:
        requester = Customer.objects.get(pk=requester.merged_into_id)
    now = timezone.now()
    ticket = Ticket.objects.create(
        requester=requester,
        subject=(subject or "").strip()[:255],
        channel=channel,
        priority=priority,
        type=type,
        status=status,
        team=team,
        assignee=assignee,
        custom_fields=custom_fields or {},
        language=language[:16],
        thread_key=thread_key[:255],
        followup_of=followup_of,
        solved_at=now if status == Status.SOLVED else None,
    )
    tag_objs = _tags_get(tags or [])
    if tag_objs:
        ticket.tags.set(tag_objs)
    events = [
        _event(
            ticket,
            actor,
            "created",
            channel=channel,
            status=status,
            priority=priority,
            followup_of=followup_of.pk if followup_of else None,
        )
    ]
    if followup_of is not None:
        events.append(_event(followup_of, actor, "followup_created", followup_id=ticket.pk))
    TicketEvent.objects.bulk_create(events)
    publish(
        Event(
            name="ticket.created",
            actor=actor.label,
            ticket_id=ticket.pk,
            customer_id=requester.pk,
            data={
                "channel": channel,
                "status": status,
                "priority": priority,
                "team_id": team.pk if team else None,
                "assignee_id": assignee.pk if assignee else None,
                "followup_of": followup_of.pk if followup_of else None,
            },
        )
    )
    return ticket


def _apply_status(ticket: Ticket, new: str, actor: Actor, events: list[TicketEvent]) -> None:
    old = ticket.status
    if new == old:
        return
    if not lifecycle.can_transition(old, new):
        raise InvalidTransition(
            f"A ticket cannot go from {old} to {new}.",
            fields={"status": [f"{old} -> {new} is not allowed"]},
        )
    now = timezone.now()
    ticket.status = new
    if new == Status.SOLVED:
        ticket.solved_at = now
    elif new == Status.CLOSED:
        ticket.closed_at = now
    if old == Status.SOLVED and new == Status.OPEN:
        ticket.reopen_count += 1
        ticket.solved_at = None
        events.append(_event(ticket, actor, "reopened"))
    events.append(_event(ticket, actor, "field_changed", field="status", old=old, new=new))


UPDATABLE = {
    "status",
    "priority",
    "type",
    "subject",
    "assignee",
    "team",
    "tags",
    "custom_fields",
    "language",
}


@transaction.atomic
def ticket_update(*, ticket: Ticket, actor: Actor = SYSTEM, **changes: Any) -> Ticket:
    """Change any of UPDATABLE; only what actually changes is written and recorded."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValidationFailed(
            "Unknown fields.", fields={f: ["not an updatable field"] for f in sorted(unknown)}
        )
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status == Status.CLOSED:
        raise InvalidTransition("Closed tickets cannot change.", fields={"status": ["closed"]})
    events: list[TicketEvent] = []
    diff: dict[str, dict[str, Any]] = {}
    labels: dict[str, tuple[str, str]] = {}
    if "status" in changes:
        _validate_choice("status", changes["status"], [s.value for s in Status])
        old = ticket.status
        _apply_status(ticket, changes["status"], actor, events)
        if old != ticket.status:
            diff["status"] = {"old": old, "new": ticket.status}
    for field, choices in (("priority", Priority.values), ("type", TicketType.values)):
        if field in changes and changes[field] != getattr(ticket, field):
            _validate_choice(field, changes[field], choices)
            diff[field] = {"old": getattr(ticket, field), "new": changes[field]}
            setattr(ticket, field, changes[field])
    for field in ("subject", "language"):
        if field in changes and changes[field] != getattr(ticket, field):
            diff[field] = {"old": getattr(ticket, field), "new": changes[field]}
            setattr(ticket, field, changes[field])
    if "assignee" in changes:
        assignee: User | None = changes["assignee"]
        if assignee is not None and assignee.role not in (Role.ADMIN, Role.SUPERVISOR, Role.AGENT):
            raise ValidationFailed(
                "Tickets are assigned to agents.", fields={"assignee": ["not an agent"]}
            )
        if (assignee.pk if assignee else None) != ticket.assignee_id:
            diff["assignee"] = {"old": ticket.assignee_id, "new": assignee.pk if assignee else None}
            labels["assignee"] = (
                ticket.assignee.label if ticket.assignee else "",
                assignee.label if assignee else "",
            )
            ticket.assignee = assignee
    if "team" in changes:
        team: Team | None = changes["team"]
        if (team.pk if team else None) != ticket.team_id:
            diff["team"] = {"old": ticket.team_id, "new": team.pk if team else None}
            labels["team"] = (ticket.team.name if ticket.team else "", team.name if team else "")
            ticket.team = team
    if "custom_fields" in changes:
        merged = {**ticket.custom_fields, **(changes["custom_fields"] or {})}
        merged = {k: v for k, v in merged.items() if v is not None}
        if merged != ticket.custom_fields:
            diff["custom_fields"] = {"old": ticket.custom_fields, "new": merged}
            ticket.custom_fields = merged
    if "tags" in changes:
        old_tags = sorted(ticket.tags.values_list("name", flat=True))
        new_tag_objs = _tags_get(changes["tags"] or [])
        new_tags = [t.name for t in new_tag_objs]
        if new_tags != old_tags:
            ticket.tags.set(new_tag_objs)
            diff["tags"] = {"old": old_tags, "new": new_tags}
    for field, change in diff.items():
        if field != "status":
            # ids in old/new for machines; names in the data for people reading the timeline
            label = labels.get(field)
            extra = {"old_label": label[0], "new_label": label[1]} if label else {}
            events.append(
                _event(
                    ticket,
                    actor,
                    "field_changed",
                    field=field,
                    old=change["old"],
                    new=change["new"],
                    **extra,
                )
            )
    if not diff:
        return ticket
    ticket.save()
    TicketEvent.objects.bulk_create(events)
    publish(
        Event(
            name="ticket.updated",
            actor=actor.label,
            ticket_id=ticket.pk,
            customer_id=ticket.requester_id,
            data={"changes": diff},
        )
    )
    return ticket


@transaction.atomic(savepoint=False)
def message_add(
    *,
    ticket: Ticket,
    actor: Actor,
    text: str = "",
    html: str = "",
    visibility: str = Visibility.PUBLIC,
    channel: str | None = None,
    subject: str = "",
    provider_message_id: str = "",
    attachments: list[AttachmentInput] | None = None,
    raw_payload_id: int | None = None,
    metadata: dict[str, Any] | None = None,
    received_at: datetime | None = None,
    ticket_locked: bool = False,
) -> Message:
    """Add a customer message, an agent reply or an internal note to `ticket`.

    Customer messages reopen pending/solved tickets. A closed ticket takes no message: the
    caller (the ingest service) opens a follow-up instead. `ticket_locked` says the caller
    already holds the row (it created it in this transaction), saving a re-read.

    Joins the caller's transaction without a savepoint (it is on the hot path): a refusal
    raised here aborts that transaction, so callers that want to go on wrap it in atomic().
    """
    _validate_choice("visibility", visibility, Visibility.values)
    if not ticket_locked:
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status == Status.CLOSED:
        raise InvalidTransition(
            "Closed tickets take no messages; open a follow-up.", fields={"ticket": ["closed"]}
        )
    clean_html = sanitize_html(html) if html else ""
    body_text = text or html_to_text(clean_html)
    if not body_text.strip() and not attachments:
        raise ValidationFailed("A message needs text or an attachment.", fields={"text": ["empty"]})
    if not clean_html and body_text:
        clean_html = text_to_html(body_text)
    from_customer = actor.kind == "customer"
    if from_customer and visibility == Visibility.INTERNAL:
        raise ValidationFailed(
            "Customers cannot write internal notes.", fields={"visibility": ["public only"]}
        )
    if visibility == Visibility.INTERNAL:
        direction, delivery = Direction.INTERNAL, DeliveryState.NOT_SENT
    elif from_customer:
        direction, delivery = Direction.INBOUND, DeliveryState.RECEIVED
    else:
        direction, delivery = Direction.OUTBOUND, DeliveryState.QUEUED
    author_type = {
        "customer": AuthorType.CUSTOMER,
        "user": AuthorType.AGENT,
        "bot": AuthorType.BOT,
    }.get(actor.kind, AuthorType.SYSTEM)
    now = timezone.now()
    message = Message.objects.create(
        ticket=ticket,
        visibility=visibility,
        direction=direction,
        author_type=author_type,
        author_user=actor.user,
        author_customer=actor.customer if from_customer else None,
        channel=channel or ticket.channel,
        subject=subject[:255],
        text=body_text,
        html=clean_html,
        provider_message_id=provider_message_id[:255],
        delivery_state=delivery,
        raw_payload_id=raw_payload_id,
        metadata=metadata or {},
    )
    if received_at is not None:
        Message.objects.filter(pk=message.pk).update(created_at=received_at)
        message.created_at = received_at
    stored = [_attachment_store(message, item) for item in attachments or []]
    inline = {a.content_id: a for a in stored if a.content_id and a.file}
    if inline and clean_html:
        # Inline images (cid:) point at their stored attachment, through the permission-checked
        # download view, so the agent sees the picture where the customer put it.
        from django.urls import reverse

        for content_id, attachment in inline.items():
            url = reverse("web:attachment_download", args=[attachment.pk, attachment.filename])
            clean_html = clean_html.replace(f"cid:{content_id}", url)
        message.html = clean_html
        message.save(update_fields=["html"])

    events = [
        _event(
            ticket,
            actor,
            "message_added",
            message_id=message.pk,
            visibility=visibility,
            direction=direction,
            channel=message.channel,
        )
    ]
    old_status = ticket.status
    update_fields = ["last_message_at", "message_count", "updated_at"]
    sent_at = received_at or now
    ticket.last_message_at = max(ticket.last_message_at or sent_at, sent_at)
    ticket.message_count += 1
    if from_customer:
        new_status = lifecycle.status_after_customer_message(old_status)
        ticket.last_customer_message_at = max(ticket.last_customer_message_at or sent_at, sent_at)
        update_fields.append("last_customer_message_at")
        if new_status != old_status:
            _apply_status(ticket, new_status, actor, events)
            update_fields += ["status", "solved_at", "reopen_count"]
    elif visibility == Visibility.PUBLIC:
        if ticket.first_response_at is None and ticket.message_count > 1:
            ticket.first_response_at = now
            update_fields.append("first_response_at")
        new_status = lifecycle.status_after_agent_reply(old_status)
        if new_status != old_status:
            _apply_status(ticket, new_status, actor, events)
            update_fields.append("status")
        if (
            ticket.assignee_id is None
            and actor.user is not None
            and actor.user.role in (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
        ):
            ticket.assignee = actor.user
            update_fields.append("assignee")
            events.append(
                _event(
                    ticket,
                    actor,
                    "field_changed",
                    field="assignee",
                    old="",
                    new=actor.user.pk,
                    old_label="",
                    new_label=actor.user.label,
                )
            )
    ticket.save(update_fields=update_fields)
    TicketEvent.objects.bulk_create(events)
    event_name = (
        "message.received"
        if from_customer
        else "note.added"
        if visibility == Visibility.INTERNAL
        else "message.created"
    )
    publish(
        Event(
            name=event_name,
            actor=actor.label,
            ticket_id=ticket.pk,
            customer_id=ticket.requester_id,
            data={
                "message_id": message.pk,
                "channel": message.channel,
                "visibility": visibility,
                "status": {"old": old_status, "new": ticket.status},
            },
        )
    )
    return message


@transaction.atomic
def ticket_collaborator_add(*, ticket: Ticket, user: User, actor: Actor = SYSTEM) -> Ticket:
    if user.role == Role.CUSTOMER:
        raise ValidationFailed("Customers cannot collaborate.", fields={"user": ["not staff"]})
    if not ticket.collaborators.filter(pk=user.pk).exists():
        ticket.collaborators.add(user)
        _event(ticket, actor, "collaborator_added", new=user.pk).save()
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
        publish(
            Event(
                name="ticket.collaborator_added",
                actor=actor.label,
                ticket_id=ticket.pk,
                data={"user_id": user.pk},
            )
        )
    return ticket


@transaction.atomic
def ticket_collaborator_remove(*, ticket: Ticket, user: User, actor: Actor = SYSTEM) -> Ticket:
    if ticket.collaborators.filter(pk=user.pk).exists():
        ticket.collaborators.remove(user)
        _event(ticket, actor, "collaborator_removed", old=user.pk).save()
    return ticket


@transaction.atomic
def message_delivery_update(
    *, message: Message, state: str, provider_message_id: str = "", error: str = ""
) -> Message:
    """Record the provider's word on an outbound message (sent, delivered, read, failed)."""
    _validate_choice("delivery_state", state, DeliveryState.values)
    message.delivery_state = state
    message.delivery_error = error
    fields = ["delivery_state", "delivery_error"]
    if provider_message_id and not message.provider_message_id:
        message.provider_message_id = provider_message_id
        fields.append("provider_message_id")
    message.save(update_fields=fields)
    if state == DeliveryState.FAILED:
        _event(message.ticket, SYSTEM, "delivery_failed", message_id=message.pk, error=error).save()
    publish(
        Event(
            name="message.delivery_updated",
            ticket_id=message.ticket_id,
            data={"message_id": message.pk, "state": state, "error": error},
        )
    )
    return message


@transaction.atomic
def tickets_move_requester(
    *, from_customer: Customer, to_customer: Customer, actor: str
) -> list[int]:
    """Move every ticket of one customer to another (customer merge). Returns their ids."""
    ids = list(Ticket.objects.filter(requester=from_customer).values_list("pk", flat=True))
    tickets_set_requester(
        ticket_ids=ids, from_customer=from_customer, to_customer=to_customer, actor=actor
    )
    return ids


@transaction.atomic
def tickets_set_requester(
    *, ticket_ids: list[int], from_customer: Customer, to_customer: Customer, actor: str
) -> None:
    tickets = Ticket.objects.filter(pk__in=ticket_ids, requester=from_customer)
    ids = list(tickets.values_list("pk", flat=True))
    tickets.update(requester=to_customer, updated_at=timezone.now())
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket_id=pk,
            kind="field_changed",
            actor=actor,
            field="requester",
            old_value=str(from_customer.pk),
            new_value=str(to_customer.pk),
        )
        for pk in ids
    )
