"""Writes for tickets and messages. Every change records a TicketEvent in its transaction and
publishes a domain event delivered after commit."""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from frontline.accounts import services as account_services
from frontline.accounts.models import STAFF_ROLES, NotificationKind, Role, Team, User
from frontline.channels.types import Channel
from frontline.core.bus import Event, publish
from frontline.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from frontline.customers.models import Customer
from frontline.tickets import lifecycle, permissions
from frontline.tickets.actors import SYSTEM, Actor
from frontline.tickets.custom_fields import custom_values_clean, custom_values_missing_for_solve
from frontline.tickets.lifecycle import ACTIVE, Status
from frontline.tickets.mentions import mentioned_users
from frontline.tickets.models import (
    Attachment,
    AttachmentStatus,
    AuthorType,
    CannedResponse,
    CustomField,
    CustomFieldType,
    DeliveryState,
    Direction,
    LinkKind,
    Message,
    Priority,
    SideConversation,
    SideMessage,
    Tag,
    TaskKind,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketTask,
    TicketType,
    TimeEntry,
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
    is_public: bool = False,
) -> Ticket:
    _validate_choice("priority", priority, Priority.values)
    _validate_choice("type", type, TicketType.values)
    _validate_choice("channel", channel, [c.value for c in Channel])
    _validate_choice("status", status, [s.value for s in Status if s is not Status.CLOSED])
    if requester.merged_into_id is not None:
        requester = Customer.objects.get(pk=requester.merged_into_id)
    if custom_fields or status == Status.SOLVED:
        definitions = _custom_definitions()
        if definitions:
            custom_fields = _custom_fields_merge({}, custom_fields or {}, definitions)
            if status == Status.SOLVED:
                _require_solvable(definitions, custom_fields)
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
        is_public=bool(is_public),
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
    if assignee is not None:
        _notify_assigned(ticket, assignee, actor)
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
def ticket_update(
    *, ticket: Ticket, actor: Actor = SYSTEM, solve_note: str = "", **changes: Any
) -> Ticket:
    """Change any of UPDATABLE; only what actually changes is written and recorded.

    Solving a problem solves its open incidents in the same transaction (`solve_note` goes
    into the reply they get). A new assignee other than the actor is notified.
    """
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
    definitions: dict[str, CustomField] = {}
    if "custom_fields" in changes or "status" in diff:
        definitions = _custom_definitions()
    if "custom_fields" in changes:
        merged = _custom_fields_merge(
            ticket.custom_fields, changes["custom_fields"] or {}, definitions
        )
        if merged != ticket.custom_fields:
            diff["custom_fields"] = {"old": ticket.custom_fields, "new": merged}
            ticket.custom_fields = merged
    if "status" in diff and ticket.status == Status.SOLVED:
        _require_solvable(definitions, ticket.custom_fields)
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
    if "assignee" in diff and ticket.assignee is not None:
        _notify_assigned(ticket, ticket.assignee, actor)
    if "status" in diff and ticket.status == Status.SOLVED:
        _incidents_solve(problem=ticket, actor=actor, note=solve_note)
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

    mentioned: list[User] = []
    if visibility == Visibility.INTERNAL and actor.user is not None and "@" in body_text:
        mentioned = _mentions_apply(ticket, message, actor)
    events = [
        _event(
            ticket,
            actor,
            "message_added",
            message_id=message.pk,
            visibility=visibility,
            direction=direction,
            channel=message.channel,
            **({"mentioned_user_ids": [u.pk for u in mentioned]} if mentioned else {}),
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
                **({"mentioned_user_ids": [u.pk for u in mentioned]} if mentioned else {}),
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


# A delivery state only moves forward: a late "sent" from the send task must not overwrite the
# "read" the customer's browser already reported (chat pushes the reply before the task runs).
DELIVERY_ORDER = [
    DeliveryState.RECEIVED,
    DeliveryState.QUEUED,
    DeliveryState.SENT,
    DeliveryState.DELIVERED,
    DeliveryState.READ,
]


def _delivery_states_before(state: str) -> list[str]:
    if state == DeliveryState.FAILED:
        return [DeliveryState.QUEUED, DeliveryState.SENT, DeliveryState.DELIVERED]
    if state not in DELIVERY_ORDER:
        return []
    return [s.value for s in DELIVERY_ORDER[: DELIVERY_ORDER.index(DeliveryState(state))]]


@transaction.atomic
def message_metadata_set(*, message_id: int, key: str, value: Any) -> None:
    """Record one fact about a message in its metadata, keeping the rest (a channel's ids of
    the parts a long reply went out in, so a retry sends only the missing ones)."""
    found = Message.objects.select_for_update().filter(pk=message_id).first()
    if found is not None:
        Message.objects.filter(pk=message_id).update(
            metadata={**(found.metadata or {}), key: value}
        )


@transaction.atomic
def message_delivery_update(
    *, message: Message, state: str, provider_message_id: str = "", error: str = ""
) -> Message:
    """Record the provider's word on an outbound message (sent, delivered, read, failed).

    Compare-and-set in the database: a report that would move the state backwards (or repeat
    it) changes nothing and publishes nothing."""
    _validate_choice("delivery_state", state, DeliveryState.values)
    changes: dict[str, Any] = {"delivery_state": state, "delivery_error": error}
    if provider_message_id and not message.provider_message_id:
        changes["provider_message_id"] = provider_message_id
    updated = Message.objects.filter(
        pk=message.pk, delivery_state__in=_delivery_states_before(state)
    ).update(**changes)
    if not updated:
        message.refresh_from_db(fields=["delivery_state", "delivery_error", "provider_message_id"])
        return message
    for field, value in changes.items():
        setattr(message, field, value)
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


# --------------------------------------------------------------------------- shared helpers


def _acting_user(actor: Actor, field: str = "actor") -> User:
    """The staff user behind `actor`: time, swarms, side conversations are people's work."""
    if actor.user is None or actor.user.role not in STAFF_ROLES:
        raise PermissionDenied("Only staff may do this.", fields={field: ["not staff"]})
    return actor.user


def _require_update(actor: Actor, ticket: Ticket, field: str) -> None:
    """Users must be allowed to change `ticket`; the system and automations always are."""
    if actor.kind == "customer" or (
        actor.user is not None and not permissions.can_update_ticket(actor.user, ticket)
    ):
        raise PermissionDenied(
            f"You may not change ticket #{ticket.pk}.", fields={field: ["not allowed"]}
        )


def _require_open(ticket: Ticket, field: str = "ticket") -> None:
    if ticket.status == Status.CLOSED:
        raise InvalidTransition(f"Ticket #{ticket.pk} is closed.", fields={field: ["closed"]})


def _locked(*tickets: Ticket) -> dict[int, Ticket]:
    """Fresh, locked rows, always locked in id order so two merges cannot deadlock."""
    ids = sorted({t.pk for t in tickets})
    rows = Ticket.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    found = {t.pk: t for t in rows}
    if len(found) != len(ids):
        raise NotFound("No such ticket.")
    return found


def _status_set(ticket: Ticket, new: str, actor: Actor, **data: Any) -> Ticket:
    """A status change with its timeline row and `ticket.updated`, outside ticket_update's
    field checks (system-driven moves: merges, the problem -> incident cascade)."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    old = ticket.status
    if old == new:
        return ticket
    events: list[TicketEvent] = []
    if new == Status.CLOSED:  # a merge closes from any status
        ticket.status = Status.CLOSED
        ticket.closed_at = timezone.now()
        events.append(_event(ticket, actor, "field_changed", field="status", old=old, new=new))
    else:
        _apply_status(ticket, new, actor, events)
    if data:
        events[-1].data = {**events[-1].data, **data}
    ticket.save()
    TicketEvent.objects.bulk_create(events)
    publish(
        Event(
            name="ticket.updated",
            actor=actor.label,
            ticket_id=ticket.pk,
            customer_id=ticket.requester_id,
            data={"changes": {"status": {"old": old, "new": new}}, **data},
        )
    )
    return ticket


def _record(ticket_id: int, actor: Actor, kind: str, event_name: str, **data: Any) -> None:
    """One timeline row and one domain event carrying the same data (the common case for
    changes that are not field edits)."""
    _event(Ticket(pk=ticket_id), actor, kind, **data).save()
    publish(Event(name=event_name, actor=actor.label, ticket_id=ticket_id, data=data))


def _link_recorded(link: TicketLink, actor: Actor, *, added: bool, **data: Any) -> None:
    """Both tickets' timelines show the link change; one event names both ends."""
    kind = "link_added" if added else "link_removed"
    TicketEvent.objects.bulk_create(
        _event(Ticket(pk=here), actor, kind, link_kind=link.kind, ticket_id=other, link_id=link.pk)
        for here, other in (
            (link.from_ticket_id, link.to_ticket_id),
            (link.to_ticket_id, link.from_ticket_id),
        )
    )
    publish(
        Event(
            name="ticket.linked" if added else "ticket.unlinked",
            actor=actor.label,
            ticket_id=link.from_ticket_id,
            data={
                "link_id": link.pk,
                "kind": link.kind,
                "from_ticket_id": link.from_ticket_id,
                "to_ticket_id": link.to_ticket_id,
                **data,
            },
        )
    )


def _custom_definitions() -> dict[str, CustomField]:
    return {f.key: f for f in CustomField.objects.all()}


def _custom_fields_merge(
    current: dict[str, Any], incoming: dict[str, Any], definitions: dict[str, CustomField]
) -> dict[str, Any]:
    """`current` with `incoming` applied (None removes a key). Until an admin defines the
    first custom field, values are free-form (existing integrations keep working); from
    then on every key needs an active definition and a value of its type."""
    if definitions:
        incoming = custom_values_clean(definitions, incoming)
    merged = {**current, **incoming}
    return {k: v for k, v in merged.items() if v is not None}


def _require_solvable(definitions: dict[str, CustomField], values: dict[str, Any]) -> None:
    missing = custom_values_missing_for_solve(definitions, values)
    if missing:
        raise ValidationFailed(
            "Fill in the required fields before solving.",
            fields={f"custom_fields.{key}": ["required to solve"] for key in missing},
        )


def _notify_assigned(ticket: Ticket, assignee: User, actor: Actor) -> None:
    if actor.user is not None and actor.user.pk == assignee.pk:
        return
    account_services.notification_create(
        user=assignee,
        kind=NotificationKind.ASSIGNED,
        ticket_id=ticket.pk,
        text=f"#{ticket.pk} {ticket.subject} was assigned to you",
        actor_label=actor.label,
    )


def _mentions_apply(ticket: Ticket, message: Message, actor: Actor) -> list[User]:
    """Mentioned colleagues join the ticket (so they can open it) and are notified."""
    users = mentioned_users(message.text, exclude=actor.user)
    if not users:
        return []
    collaborating = set(
        ticket.collaborators.filter(pk__in=[u.pk for u in users]).values_list("pk", flat=True)
    )
    for user in users:
        if user.pk not in collaborating:
            ticket_collaborator_add(ticket=ticket, user=user, actor=actor)
    author = actor.user.label if actor.user is not None else actor.label
    snippet = " ".join(message.text.split())[:200]
    for user in users:
        account_services.notification_create(
            user=user,
            kind=NotificationKind.MENTIONED,
            ticket_id=ticket.pk,
            text=f"{author} mentioned you on #{ticket.pk}: {snippet}",
            actor_label=actor.label,
        )
    return users


# --------------------------------------------------------------------------- merge and split


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, actor: Actor) -> Ticket:
    """Merge a duplicate into `target`: its messages move (they keep their times, so the
    conversation reads in order), its requester becomes a CC, tags and collaborators are
    united, and `source` is closed pointing at the survivor. Returns the fresh target."""
    if source.pk == target.pk:
        raise ValidationFailed(
            "A ticket cannot be merged into itself.", fields={"target": ["same as the source"]}
        )
    rows = _locked(source, target)
    source, target = rows[source.pk], rows[target.pk]
    for field, ticket in (("source", source), ("target", target)):
        _require_update(actor, ticket, field)
        if ticket.merged_into_id is not None:
            raise InvalidTransition(
                f"Ticket #{ticket.pk} was already merged into #{ticket.merged_into_id}.",
                fields={field: ["already merged"]},
            )
        _require_open(ticket, field)

    moved = Message.objects.filter(ticket=source)
    moved_count = moved.count()
    moved.update(ticket=target)
    target.message_count += moved_count
    for stamp in ("last_message_at", "last_customer_message_at"):
        values = [v for v in (getattr(target, stamp), getattr(source, stamp)) if v is not None]
        setattr(target, stamp, max(values) if values else None)
    target.save(
        update_fields=["message_count", "last_message_at", "last_customer_message_at", "updated_at"]
    )
    cc_ids = {source.requester_id, *source.cc_customers.values_list("pk", flat=True)}
    cc_ids -= {target.requester_id, *target.cc_customers.values_list("pk", flat=True)}
    target.cc_customers.add(*cc_ids)
    new_tags = list(source.tags.exclude(pk__in=target.tags.values("pk")))
    target.tags.add(*new_tags)
    new_collaborators = list(
        source.collaborators.exclude(pk__in=target.collaborators.values("pk")).values_list(
            "pk", flat=True
        )
    )
    target.collaborators.add(*new_collaborators)
    Ticket.objects.filter(pk=source.pk).update(message_count=0)
    TicketEvent.objects.bulk_create(
        [
            _event(
                target,
                actor,
                "merged",
                source_id=source.pk,
                messages_moved=moved_count,
                cc_customer_ids=sorted(cc_ids),
                tags_added=sorted(t.name for t in new_tags),
                collaborators_added=sorted(new_collaborators),
            ),
            _event(source, actor, "merged_into", field="merged_into", new=target.pk),
        ]
    )
    cc_text = ""
    if source.requester_id in cc_ids:
        cc_text = f" Its requester {source.requester.name} was added as CC."
    message_add(
        ticket=target,
        actor=actor,
        visibility=Visibility.INTERNAL,
        text=(
            f"Ticket #{source.pk} ({source.subject}) was merged into this ticket: "
            f"{moved_count} message(s) moved here.{cc_text}"
        ),
        metadata={"merge": {"source_id": source.pk}},
    )
    message_add(
        ticket=source,
        actor=actor,
        visibility=Visibility.INTERNAL,
        text=f"This ticket was merged into #{target.pk}; its messages are there now.",
        metadata={"merge": {"target_id": target.pk}},
    )
    Ticket.objects.filter(pk=source.pk).update(merged_into=target)
    _status_set(source, Status.CLOSED, actor, merged_into=target.pk)
    publish(
        Event(
            name="ticket.merged",
            actor=actor.label,
            ticket_id=target.pk,
            customer_id=target.requester_id,
            data={
                "source_id": source.pk,
                "target_id": target.pk,
                "messages_moved": moved_count,
                "cc_customer_ids": sorted(cc_ids),
            },
        )
    )
    return Ticket.objects.get(pk=target.pk)


@transaction.atomic
def tickets_merge_many(*, sources: list[Ticket], target: Ticket, actor: Actor) -> Ticket:
    """Merge several duplicates into `target`: all of them or, on any refusal, none."""
    if not sources:
        raise ValidationFailed("Name at least one ticket to merge.", fields={"sources": ["empty"]})
    ids = [t.pk for t in sources]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("A ticket is named twice.", fields={"sources": ["duplicates"]})
    for source in sorted(sources, key=lambda t: t.pk):
        target = ticket_merge(source=source, target=target, actor=actor)
    return target


@transaction.atomic
def message_split(*, message: Message, actor: Actor) -> Ticket:
    """Move one customer message (its attachments follow) into a new ticket for the same
    customer and channel, linked as related to the original. Returns the new ticket."""
    original = _locked(Ticket(pk=message.ticket_id))[message.ticket_id]
    _require_update(actor, original, "ticket")
    _require_open(original)
    message = Message.objects.get(pk=message.pk)
    if message.direction != Direction.INBOUND or message.author_type != AuthorType.CUSTOMER:
        raise ValidationFailed(
            "Only a customer's message can be split off.",
            fields={"message": ["not an inbound customer message"]},
        )
    remaining = Message.objects.filter(ticket=original).exclude(pk=message.pk)
    if not remaining.exists():
        raise ValidationFailed(
            "The ticket's only message cannot be split off.", fields={"message": ["only message"]}
        )
    requester = message.author_customer or original.requester
    new = ticket_create(
        requester=requester,
        subject=message.subject or original.subject,
        channel=message.channel,
        actor=actor,
        priority=original.priority,
        team=original.team,
        language=original.language,
    )
    Message.objects.filter(pk=message.pk).update(ticket=new)
    Ticket.objects.filter(pk=new.pk).update(
        message_count=1,
        last_message_at=message.created_at,
        last_customer_message_at=message.created_at,
    )
    original.message_count = remaining.count()
    original.last_message_at = max(
        (m.created_at for m in remaining.only("created_at")), default=None
    )
    original.last_customer_message_at = max(
        (m.created_at for m in remaining.filter(direction=Direction.INBOUND).only("created_at")),
        default=None,
    )
    original.save(
        update_fields=["message_count", "last_message_at", "last_customer_message_at", "updated_at"]
    )
    link = TicketLink.objects.create(
        from_ticket=original, to_ticket=new, kind=LinkKind.RELATED, created_by=actor.user
    )
    _link_recorded(link, actor, added=True)
    _event(new, actor, "split_from", message_id=message.pk, ticket_id=original.pk).save()
    _record(
        original.pk,
        actor,
        "message_split",
        "ticket.split",
        message_id=message.pk,
        new_ticket_id=new.pk,
    )
    return Ticket.objects.get(pk=new.pk)


# --------------------------------------------------------------------------- links


@transaction.atomic
def ticket_link(*, from_ticket: Ticket, to_ticket: Ticket, kind: str, actor: Actor) -> TicketLink:
    """Link two tickets. `incident_of` goes from the incident to its problem and sets both
    types; an incident has one problem, and a problem is never itself an incident (so
    incident links never form chains or cycles)."""
    _validate_choice("kind", kind, LinkKind.values)
    if from_ticket.pk == to_ticket.pk:
        raise ValidationFailed(
            "A ticket cannot be linked to itself.", fields={"to_ticket": ["same ticket"]}
        )
    rows = _locked(from_ticket, to_ticket)
    from_ticket, to_ticket = rows[from_ticket.pk], rows[to_ticket.pk]
    _require_update(actor, from_ticket, "from_ticket")
    _require_update(actor, to_ticket, "to_ticket")
    links = TicketLink.objects
    if kind == LinkKind.RELATED:
        pair = (Q(from_ticket=from_ticket) & Q(to_ticket=to_ticket)) | (
            Q(from_ticket=to_ticket) & Q(to_ticket=from_ticket)
        )
        if links.filter(pair, kind=kind).exists():
            raise Conflict("These tickets are already linked.", fields={"to_ticket": ["linked"]})
    else:
        _incident_link_check(incident=from_ticket, problem=to_ticket)
    link = links.create(
        from_ticket=from_ticket, to_ticket=to_ticket, kind=kind, created_by=actor.user
    )
    events = []
    types: dict[str, str] = {}
    if kind == LinkKind.INCIDENT_OF:
        for ticket, wanted in ((from_ticket, TicketType.INCIDENT), (to_ticket, TicketType.PROBLEM)):
            if ticket.type != wanted:
                events.append(
                    _event(
                        ticket, actor, "field_changed", field="type", old=ticket.type, new=wanted
                    )
                )
                ticket.type = wanted
                ticket.save(update_fields=["type", "updated_at"])
                types[str(ticket.pk)] = wanted
    TicketEvent.objects.bulk_create(events)
    _link_recorded(link, actor, added=True, types_changed=types)
    return link


def _incident_link_check(*, incident: Ticket, problem: Ticket) -> None:
    existing = TicketLink.objects.filter(kind=LinkKind.INCIDENT_OF)
    current = existing.filter(from_ticket=incident).first()
    if current is not None:
        raise Conflict(
            "An incident has one problem.",
            fields={"from_ticket": [f"already an incident of #{current.to_ticket_id}"]},
        )
    if existing.filter(from_ticket=problem).exists():
        raise ValidationFailed(
            "An incident cannot be the problem of another ticket.",
            fields={"to_ticket": ["is an incident"]},
        )
    if existing.filter(to_ticket=incident).exists():
        raise ValidationFailed(
            "A problem with incidents cannot become an incident.",
            fields={"from_ticket": ["has incidents"]},
        )
    _require_open(incident, "from_ticket")
    if problem.status in (Status.SOLVED, Status.CLOSED):
        raise InvalidTransition(
            "Incidents are linked to unsolved problems.", fields={"to_ticket": [problem.status]}
        )


@transaction.atomic
def ticket_unlink(*, link: TicketLink, actor: Actor) -> None:
    """Remove a link. Ticket types stay: an incident without a problem is still an incident."""
    rows = _locked(Ticket(pk=link.from_ticket_id), Ticket(pk=link.to_ticket_id))
    from_ticket, to_ticket = rows[link.from_ticket_id], rows[link.to_ticket_id]
    _require_update(actor, from_ticket, "from_ticket")
    _require_update(actor, to_ticket, "to_ticket")
    deleted, _ = TicketLink.objects.filter(pk=link.pk).delete()
    if deleted:
        _link_recorded(link, actor, added=False)


def _incidents_solve(*, problem: Ticket, actor: Actor, note: str = "") -> list[int]:
    """Solve the problem's incidents still in an active status: each gets a public reply
    and moves to solved. Already solved or closed incidents are left alone, so solving the
    problem again (after a reopen) only reaches the ones that came back."""
    incident_ids = list(
        TicketLink.objects.filter(
            kind=LinkKind.INCIDENT_OF,
            to_ticket=problem,
            from_ticket__status__in=[s.value for s in ACTIVE],
        )
        .order_by("from_ticket_id")
        .values_list("from_ticket_id", flat=True)
    )
    if not incident_ids:
        return []
    note = " ".join(note.split())
    text = f"The underlying problem #{problem.pk} was solved" + (f": {note}" if note else ".")
    for incident_id in incident_ids:
        incident = Ticket(pk=incident_id)
        message_add(
            ticket=incident,
            actor=actor,
            text=text,
            visibility=Visibility.PUBLIC,
            metadata={"via": "problem", "problem_id": problem.pk},
        )
        _status_set(incident, Status.SOLVED, actor, problem_id=problem.pk)
    _event(problem, actor, "incidents_solved", ticket_ids=incident_ids).save()
    return incident_ids


# --------------------------------------------------------------------------- time tracking

TIME_ENTRY_MAX_SECONDS = 24 * 3600


def _time_event(entry: TimeEntry, actor: Actor, name: str, kind: str) -> None:
    _record(
        entry.ticket_id,
        actor,
        kind,
        name,
        entry_id=entry.pk,
        user_id=entry.user_id,
        seconds=entry.seconds,
        running=entry.running,
    )


def _require_time_tracking(user: User, ticket: Ticket) -> None:
    if not permissions.can_track_time(user, ticket):
        raise PermissionDenied("You may not track time on this ticket.")


@transaction.atomic
def timer_start(*, ticket: Ticket, actor: Actor, note: str = "") -> TimeEntry:
    """Start the actor's timer on `ticket`. One runs per agent and ticket: starting it again
    returns the running one unchanged."""
    user = _acting_user(actor)
    ticket = _locked(ticket)[ticket.pk]  # serialises two starts of the same agent
    _require_time_tracking(user, ticket)
    running = TimeEntry.objects.filter(ticket=ticket, user=user, running=True).first()
    if running is not None:
        return running
    _require_open(ticket)
    entry = TimeEntry.objects.create(
        ticket=ticket, user=user, started_at=timezone.now(), running=True, note=note[:500]
    )
    _time_event(entry, actor, "time_entry.started", "timer_started")
    return entry


@transaction.atomic
def timer_stop(*, ticket: Ticket, actor: Actor) -> TimeEntry:
    """Stop the actor's running timer; time beyond 24 h (a timer left running) is capped."""
    user = _acting_user(actor)
    entry = (
        TimeEntry.objects.select_for_update()
        .filter(ticket_id=ticket.pk, user=user, running=True)
        .first()
    )
    if entry is None:
        raise Conflict("No timer is running on this ticket.", fields={"timer": ["not running"]})
    elapsed = int((timezone.now() - entry.started_at).total_seconds())
    entry.seconds = max(0, min(elapsed, TIME_ENTRY_MAX_SECONDS))
    entry.running = False
    entry.save(update_fields=["seconds", "running"])
    _time_event(entry, actor, "time_entry.recorded", "time_tracked")
    return entry


@transaction.atomic
def time_entry_add(
    *,
    ticket: Ticket,
    actor: Actor,
    minutes: int,
    note: str = "",
    started_at: datetime | None = None,
) -> TimeEntry:
    """Record time worked without a timer: more than 0 minutes, at most 24 hours."""
    user = _acting_user(actor)
    _require_time_tracking(user, ticket)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= 24 * 60:
        raise ValidationFailed(
            "Time entries are 1 minute to 24 hours.", fields={"minutes": ["1 to 1440"]}
        )
    now = timezone.now()
    if started_at is not None and started_at > now:
        raise ValidationFailed("Time cannot be in the future.", fields={"started_at": ["future"]})
    entry = TimeEntry.objects.create(
        ticket=ticket,
        user=user,
        started_at=started_at or now - timedelta(minutes=minutes),
        seconds=minutes * 60,
        note=note[:500],
    )
    _time_event(entry, actor, "time_entry.recorded", "time_tracked")
    return entry


@transaction.atomic
def time_entry_delete(*, entry: TimeEntry, actor: Actor) -> None:
    """Agents delete their own entries; supervisors and admins anyone's."""
    user = _acting_user(actor)
    if not permissions.can_delete_time_entry(user, entry):
        raise PermissionDenied("You may delete only your own time entries.")
    TimeEntry.objects.filter(pk=entry.pk).delete()
    _time_event(entry, actor, "time_entry.deleted", "time_entry_deleted")


# --------------------------------------------------------------------------- swarming

SWARM_NOTIFY_MAX = 50  # a swarm asks a team, not the whole company


@transaction.atomic
def swarm_request(*, ticket: Ticket, actor: Actor, note: str = "") -> Ticket:
    """Ask colleagues to help on `ticket`: its team's members are notified (every agent
    when it has no team, at most SWARM_NOTIFY_MAX). Asking again only updates the note."""
    user = _acting_user(actor)
    ticket = _locked(ticket)[ticket.pk]
    _require_update(actor, ticket, "ticket")
    _require_open(ticket)
    note = note.strip()[:2000]
    if ticket.swarm_requested_at is not None:
        if note and note != ticket.swarm_note:
            ticket.swarm_note = note
            ticket.save(update_fields=["swarm_note", "updated_at"])
        return ticket
    ticket.swarm_requested_at = timezone.now()
    ticket.swarm_requested_by = user
    ticket.swarm_note = note
    ticket.save(
        update_fields=["swarm_requested_at", "swarm_requested_by", "swarm_note", "updated_at"]
    )
    helpers = User.objects.filter(is_active=True).exclude(pk=user.pk)
    if ticket.team_id is not None:
        helpers = helpers.filter(teams=ticket.team_id, role__in=list(STAFF_ROLES))
    else:
        helpers = helpers.filter(role__in=[Role.ADMIN, Role.SUPERVISOR, Role.AGENT])
    notified = list(helpers.order_by("pk")[:SWARM_NOTIFY_MAX])
    account_services.notifications_create_many(
        users=notified,
        kind=NotificationKind.SWARM,
        ticket_id=ticket.pk,
        text=f"{user.label} asks for help on #{ticket.pk} {ticket.subject}"
        + (f": {note}" if note else ""),
        actor_label=actor.label,
    )
    _record(
        ticket.pk,
        actor,
        "swarm_requested",
        "ticket.swarm_requested",
        note=note,
        notified_user_ids=[u.pk for u in notified],
    )
    return ticket


@transaction.atomic
def swarm_resolve(*, ticket: Ticket, actor: Actor) -> Ticket:
    """End the swarm (idempotent)."""
    _acting_user(actor)
    ticket = _locked(ticket)[ticket.pk]
    _require_update(actor, ticket, "ticket")
    if ticket.swarm_requested_at is None:
        return ticket
    requested_at = ticket.swarm_requested_at
    ticket.swarm_requested_at = None
    ticket.swarm_requested_by = None
    ticket.swarm_note = ""
    ticket.save(
        update_fields=["swarm_requested_at", "swarm_requested_by", "swarm_note", "updated_at"]
    )
    _record(
        ticket.pk,
        actor,
        "swarm_resolved",
        "ticket.swarm_resolved",
        requested_at=requested_at.isoformat(),
    )
    return ticket


# --------------------------------------------------------------------------- side conversations


def _require_side_access(user: User, ticket: Ticket) -> None:
    if not permissions.can_use_side_conversations(user, ticket):
        raise PermissionDenied("You may not use this ticket's side conversations.")


def _side_locked(conversation: SideConversation, actor: Actor) -> tuple[User, SideConversation]:
    """The acting staff user and the conversation's fresh, locked row (ticket attached)."""
    user = _acting_user(actor)
    conversation = (
        SideConversation.objects.select_for_update()
        .select_related("ticket")
        .get(pk=conversation.pk)
    )
    _require_side_access(user, conversation.ticket)
    return user, conversation


@transaction.atomic
def side_conversation_start(
    *,
    ticket: Ticket,
    actor: Actor,
    subject: str,
    participants: list[User],
    text: str = "",
) -> SideConversation:
    """A staff-only thread beside the ticket. Participants join the ticket as collaborators
    (so a light agent can open it); the starter takes part too."""
    user = _acting_user(actor)
    _require_side_access(user, ticket)
    _require_open(ticket)
    subject = " ".join(subject.split())[:255]
    if not subject:
        raise ValidationFailed(
            "A side conversation needs a subject.", fields={"subject": ["required"]}
        )
    outsiders = [p.pk for p in participants if not p.is_active or p.role not in STAFF_ROLES]
    if outsiders:
        raise ValidationFailed(
            "Side conversations are between staff.",
            fields={"participants": [f"user {pk} is not active staff" for pk in outsiders]},
        )
    conversation = SideConversation.objects.create(ticket=ticket, subject=subject, created_by=user)
    people = {p.pk: p for p in [user, *participants]}
    conversation.participants.set(list(people.values()))
    collaborating = set(ticket.collaborators.values_list("pk", flat=True))
    for person in people.values():
        if person.pk not in collaborating and person.pk != ticket.assignee_id:
            ticket_collaborator_add(ticket=ticket, user=person, actor=actor)
    _record(
        ticket.pk,
        actor,
        "side_conversation_started",
        "side_conversation.started",
        conversation_id=conversation.pk,
        subject=subject,
        participant_ids=sorted(people),
    )
    if text.strip():
        side_message_post(conversation=conversation, actor=actor, text=text)
    return conversation


@transaction.atomic
def side_message_post(*, conversation: SideConversation, actor: Actor, text: str) -> SideMessage:
    """Post in a side conversation; the other participants are notified. Staff who can see
    the ticket may post, and join the conversation by doing so."""
    user, conversation = _side_locked(conversation, actor)
    if conversation.closed_at is not None:
        raise InvalidTransition(
            "This side conversation is closed.", fields={"conversation": ["closed"]}
        )
    text = text.strip()
    if not text:
        raise ValidationFailed("A message needs text.", fields={"text": ["empty"]})
    message = SideMessage.objects.create(conversation=conversation, author=user, text=text)
    conversation.participants.add(user)
    participants = list(conversation.participants.order_by("pk"))
    _record(
        conversation.ticket_id,
        actor,
        "side_message_added",
        "side_conversation.message",
        conversation_id=conversation.pk,
        message_id=message.pk,
        author_id=user.pk,
        participant_ids=[p.pk for p in participants],
    )
    account_services.notifications_create_many(
        users=[p for p in participants if p.pk != user.pk],
        kind=NotificationKind.SIDE_MESSAGE,
        ticket_id=conversation.ticket_id,
        text=f"{user.label} in \u201c{conversation.subject}\u201d (#{conversation.ticket_id}): "
        + " ".join(text.split())[:200],
        actor_label=actor.label,
    )
    return message


@transaction.atomic
def side_conversation_close(*, conversation: SideConversation, actor: Actor) -> SideConversation:
    """Close it (idempotent): it stays readable and takes no more messages."""
    _, conversation = _side_locked(conversation, actor)
    if conversation.closed_at is not None:
        return conversation
    conversation.closed_at = timezone.now()
    conversation.save(update_fields=["closed_at"])
    _record(
        conversation.ticket_id,
        actor,
        "side_conversation_closed",
        "side_conversation.closed",
        conversation_id=conversation.pk,
    )
    return conversation


# --------------------------------------------------------------------------- canned responses

_SHORTCUT = re.compile(r"^[\w.-]{1,32}$")


def _canned_clean(
    title: str, body: str, shortcut: str, owner: User | None, team: Team | None
) -> None:
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = ["required"]
    if not body.strip():
        errors["body"] = ["required"]
    if shortcut and not _SHORTCUT.match(shortcut):
        errors["shortcut"] = ["letters, digits, dots, dashes; at most 32"]
    if owner is not None and team is not None:
        errors["team"] = ["a personal response has no team"]
    if owner is not None and owner.role not in STAFF_ROLES:
        errors["owner"] = ["not staff"]
    if errors:
        raise ValidationFailed("The canned response is not valid.", fields=errors)


def _require_canned_manage(user: User, owner: User | None, team: Team | None) -> None:
    if not permissions.can_manage_canned(user, owner_id=owner.pk if owner else None):
        raise PermissionDenied("Only supervisors and admins manage shared canned responses.")


def _canned_publish(name: str, canned: CannedResponse, actor: Actor) -> None:
    publish(
        Event(
            name=name,
            actor=actor.label,
            data={
                "canned_response_id": canned.pk,
                "owner_id": canned.owner_id,
                "team_id": canned.team_id,
            },
        )
    )


@transaction.atomic
def canned_response_create(
    *,
    actor: Actor,
    title: str,
    body: str,
    shortcut: str = "",
    owner: User | None = None,
    team: Team | None = None,
) -> CannedResponse:
    """Personal (owner), team or shared (neither). Agents manage their own; supervisors and
    admins the shared and team ones."""
    user = _acting_user(actor)
    _canned_clean(title, body, shortcut, owner, team)
    _require_canned_manage(user, owner, team)
    canned = CannedResponse.objects.create(
        title=title.strip()[:200], body=body, shortcut=shortcut, owner=owner, team=team
    )
    _canned_publish("canned_response.created", canned, actor)
    return canned


@transaction.atomic
def canned_response_update(
    *,
    canned: CannedResponse,
    actor: Actor,
    title: str | None = None,
    body: str | None = None,
    shortcut: str | None = None,
) -> CannedResponse:
    """Change what is given (None leaves it)."""
    user = _acting_user(actor)
    _require_canned_manage(user, canned.owner, canned.team)
    new_title = canned.title if title is None else title
    new_body = canned.body if body is None else body
    new_shortcut = canned.shortcut if shortcut is None else shortcut
    _canned_clean(new_title, new_body, new_shortcut, canned.owner, canned.team)
    canned.title, canned.body, canned.shortcut = new_title.strip()[:200], new_body, new_shortcut
    canned.save(update_fields=["title", "body", "shortcut"])
    _canned_publish("canned_response.updated", canned, actor)
    return canned


@transaction.atomic
def canned_response_delete(*, canned: CannedResponse, actor: Actor) -> None:
    user = _acting_user(actor)
    _require_canned_manage(user, canned.owner, canned.team)
    _canned_publish("canned_response.deleted", canned, actor)
    CannedResponse.objects.filter(pk=canned.pk).delete()


# --------------------------------------------------------------------------- custom fields

_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def _custom_field_clean(field_type: str, options: list[str], label: str) -> list[str]:
    _validate_choice("type", field_type, CustomFieldType.values)
    if not label.strip():
        raise ValidationFailed("A field needs a label.", fields={"label": ["required"]})
    if field_type == CustomFieldType.DROPDOWN:
        clean = [str(o).strip() for o in options if str(o).strip()]
        if not clean or len(set(clean)) != len(clean):
            raise ValidationFailed(
                "A dropdown needs distinct options.", fields={"options": ["distinct, not empty"]}
            )
        return clean
    if options:
        raise ValidationFailed(
            "Only dropdowns have options.", fields={"options": ["only for dropdowns"]}
        )
    return []


def _require_fields_admin(actor: Actor) -> None:
    if actor.user is not None and not permissions.can_manage_custom_fields(actor.user):
        raise PermissionDenied("Only admins define custom fields.")


def _custom_field_publish(name: str, field: CustomField, actor: Actor) -> None:
    publish(
        Event(name=name, actor=actor.label, data={"custom_field_id": field.pk, "key": field.key})
    )


@transaction.atomic
def custom_field_create(
    *,
    actor: Actor,
    key: str,
    label: str,
    type: str,
    options: list[str] | None = None,
    required_on_solve: bool = False,
    active: bool = True,
    position: int = 0,
) -> CustomField:
    """Define a ticket field. Once any field is defined, ticket updates accept only defined
    keys (see _custom_fields_merge)."""
    _require_fields_admin(actor)
    if not _KEY.match(key):
        raise ValidationFailed(
            "Keys are lower-case slugs.", fields={"key": ["a-z, 0-9, _ and -; a letter first"]}
        )
    clean_options = _custom_field_clean(type, options or [], label)
    if CustomField.objects.filter(key=key).exists():
        raise Conflict("That key is taken.", fields={"key": ["already exists"]})
    field = CustomField.objects.create(
        key=key,
        label=label.strip()[:100],
        type=type,
        options=clean_options,
        required_on_solve=required_on_solve,
        active=active,
        position=max(0, position),
    )
    _custom_field_publish("custom_field.created", field, actor)
    return field


CUSTOM_FIELD_UPDATABLE = {"label", "options", "required_on_solve", "active", "position"}


@transaction.atomic
def custom_field_update(*, field: CustomField, actor: Actor, **changes: Any) -> CustomField:
    """Change a definition. Key and type stay: stored values were checked against them."""
    _require_fields_admin(actor)
    unknown = set(changes) - CUSTOM_FIELD_UPDATABLE
    if unknown:
        raise ValidationFailed(
            "Unknown fields.", fields={f: ["not an updatable field"] for f in sorted(unknown)}
        )
    label = changes.get("label", field.label)
    field.options = _custom_field_clean(field.type, changes.get("options", field.options), label)
    field.label = label.strip()[:100]
    for name in ("required_on_solve", "active"):
        if name in changes:
            setattr(field, name, bool(changes[name]))
    if "position" in changes:
        field.position = max(0, int(changes["position"]))
    field.save()
    _custom_field_publish("custom_field.updated", field, actor)
    return field


@transaction.atomic
def custom_field_delete(*, field: CustomField, actor: Actor) -> None:
    """Remove a definition; values already on tickets stay as they are."""
    _require_fields_admin(actor)
    _custom_field_publish("custom_field.deleted", field, actor)
    CustomField.objects.filter(pk=field.pk).delete()


# --------------------------------------------------------------------------- tasks


@transaction.atomic
def ticket_task_add(
    *,
    ticket: Ticket,
    actor: Actor,
    title: str,
    kind: str = TaskKind.TODO,
    phone: str = "",
    due_at: datetime | None = None,
    assignee: User | None = None,
) -> TicketTask:
    """Add a to-do (a call-back after a missed call, a reminder) to `ticket`.

    Channels add call-backs as the system; agents need the right to update the ticket."""
    _validate_choice("kind", kind, TaskKind.values)
    _require_update(actor, ticket, "ticket")
    title = title.strip()
    if not title:
        raise ValidationFailed("A task needs a title.", fields={"title": ["required"]})
    task = TicketTask.objects.create(
        ticket=ticket,
        kind=kind,
        title=title[:255],
        phone=phone[:32],
        due_at=due_at,
        assignee=assignee,
        created_by=actor.label,
    )
    _record(
        ticket.pk, actor, "task_added", "ticket.task_added", task_id=task.pk, title=task.title,
        task_kind=kind,
    )  # fmt: skip
    return task


@transaction.atomic
def ticket_task_complete(*, task: TicketTask, actor: Actor, done: bool = True) -> TicketTask:
    """Tick a task off (or, with done=False, open it again). Idempotent."""
    _require_update(actor, task.ticket, "ticket")
    task = TicketTask.objects.select_for_update().get(pk=task.pk)
    if (task.done_at is not None) == done:
        return task
    task.done_at = timezone.now() if done else None
    task.done_by = actor.user if done else None
    task.save(update_fields=["done_at", "done_by"])
    _record(
        task.ticket_id, actor, "task_done" if done else "task_reopened", "ticket.task_updated",
        task_id=task.pk, title=task.title,
    )  # fmt: skip
    return task
