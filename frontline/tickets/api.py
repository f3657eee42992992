"""REST endpoints for tickets, their messages (replies and notes) and their timeline."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel

from frontline.accounts.models import Role, Team, User
from frontline.api.permissions import request_user, require_roles
from frontline.channels.services import RawInput, inbound_message_ingest
from frontline.channels.types import Channel, InboundAttachment, InboundMessage, SenderIdentity
from frontline.core.errors import NotFound, PermissionDenied, ValidationFailed
from frontline.tickets import permissions, selectors, services
from frontline.tickets.actors import Actor
from frontline.tickets.models import Attachment, Message, Ticket, TicketEvent

router = Router(tags=["tickets"])


class AttachmentIn(Schema):
    filename: str = Field(..., min_length=1, max_length=255)
    content_type: str = Field("", max_length=127)
    content_base64: str = Field(..., description="the file's bytes, base64-encoded")


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    status: str
    rejection_reason: str
    url: str | None

    @staticmethod
    def resolve_url(obj: Attachment) -> str | None:
        return obj.file.url if obj.file else None


class PersonRef(BaseModel):
    id: int
    name: str


class RequesterIn(Schema):
    id: int | None = Field(None, description="an existing customer")
    name: str = Field("", max_length=200)
    identities: list[dict[str, str]] = Field(
        default_factory=list,
        description='e.g. [{"kind": "email", "value": "ana@example.com"}]',
    )


class TicketCreateIn(Schema):
    subject: str = Field(..., min_length=1, max_length=255)
    text: str = Field("", max_length=200_000)
    html: str = Field("", max_length=500_000)
    requester: RequesterIn = Field(
        default_factory=lambda: RequesterIn.model_validate({}),
        description="required for staff; a customer always creates tickets for themselves",
    )
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    type: Literal["question", "incident", "problem", "task"] | None = None
    tags: list[str] = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    team_id: int | None = None
    assignee_id: int | None = None
    language: str = Field("", max_length=16)
    external_id: str = Field(
        "", max_length=255, description="your id for this request: retries with it are idempotent"
    )
    attachments: list[AttachmentIn] = Field(default_factory=list)


class TicketUpdateIn(Schema):
    subject: str | None = Field(None, min_length=1, max_length=255)
    status: Literal["new", "open", "pending", "on_hold", "solved", "closed"] | None = None
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    type: Literal["question", "incident", "problem", "task"] | None = None
    tags: list[str] | None = None
    custom_fields: dict[str, Any] | None = None
    team_id: int | None = Field(None, description="0 clears the team")
    assignee_id: int | None = Field(None, description="0 unassigns")
    language: str | None = Field(None, max_length=16)


class TicketOut(BaseModel):
    id: int
    number: int
    subject: str
    status: str
    priority: str
    type: str
    channel: str
    requester: PersonRef
    assignee: PersonRef | None
    team: PersonRef | None
    tags: list[str]
    custom_fields: dict[str, Any]
    language: str
    followup_of_id: int | None
    first_response_at: datetime | None
    solved_at: datetime | None
    reopen_count: int
    message_count: int
    created_at: datetime
    updated_at: datetime


def ticket_out(ticket: Ticket, *, tags: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """A ticket as the API shows it. Plain dicts: validating ORM objects attribute by
    attribute costs ~0.2 ms a row, most of a queue page."""
    assignee, team = ticket.assignee, ticket.team
    return {
        "id": ticket.pk,
        "number": ticket.pk,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "type": ticket.type,
        "channel": ticket.channel,
        "requester": {"id": ticket.requester_id, "name": ticket.requester.name},
        "assignee": {"id": assignee.pk, "name": assignee.label} if assignee else None,
        "team": {"id": team.pk, "name": team.name} if team else None,
        "tags": sorted(t.name for t in ticket.tags.all()) if tags is None else tags,
        "custom_fields": ticket.custom_fields,
        "language": ticket.language,
        "followup_of_id": ticket.followup_of_id,
        "first_response_at": ticket.first_response_at,
        "solved_at": ticket.solved_at,
        "reopen_count": ticket.reopen_count,
        "message_count": ticket.message_count,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        **extra,
    }


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None


class TicketCreatedOut(TicketOut):
    duplicate: bool = False


class MessageIn(Schema):
    text: str = Field("", max_length=200_000)
    html: str = Field("", max_length=500_000)
    visibility: Literal["public", "internal"] = "public"
    attachments: list[AttachmentIn] = Field(default_factory=list)


class MessageOut(Schema):
    id: int
    ticket_id: int
    visibility: str
    direction: str
    author_type: str
    author_user_id: int | None
    author_customer_id: int | None
    channel: str
    text: str
    html: str
    provider_message_id: str
    delivery_state: str
    delivery_error: str
    attachments: list[AttachmentOut]
    created_at: datetime

    @staticmethod
    def resolve_attachments(obj: Message) -> list[Attachment]:
        return list(obj.attachments.all())


class TicketEventOut(Schema):
    id: int
    kind: str
    actor: str
    field: str
    old_value: str
    new_value: str
    data: dict[str, Any]
    created_at: datetime


class CollaboratorIn(Schema):
    user_id: int


class TicketListFilters(Schema):
    status: list[str] | None = Field(None, description="repeat for several")
    assignee_id: int | None = None
    unassigned: bool = False
    team_id: int | None = None
    tag: str | None = None
    channel: str | None = None
    requester_id: int | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    q: str | None = Field(None, description="words in the subject")
    cursor: str | None = None
    limit: int = Field(25, ge=1, le=100)


_DB_INT_MAX = 2**63 - 1


def _visible_ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    user = request_user(request)
    ticket = (
        permissions.tickets_visible_to(user, Ticket.objects.filter(pk=ticket_id))
        .select_related("requester", "assignee", "team")
        .prefetch_related("tags")
        .first()
    )
    if ticket is None:
        raise NotFound("No such ticket.")  # never reveal that it exists
    return ticket


def _decode_attachments(items: list[AttachmentIn]) -> list[services.AttachmentInput]:
    decoded = []
    for index, item in enumerate(items):
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed(
                "Attachment content is not valid base64.",
                fields={f"attachments.{index}.content_base64": ["not valid base64"]},
            ) from None
        decoded.append(
            services.AttachmentInput(
                filename=item.filename, content=content, content_type=item.content_type
            )
        )
    services.attachments_validate(decoded)
    return decoded


def _user_or_none(user_id: int | None, field: str) -> User | None:
    if not user_id:
        return None
    found = User.objects.filter(pk=user_id, is_active=True).first()
    if found is None:
        raise ValidationFailed("No such user.", fields={field: ["not found"]})
    return found


def _assignee_or_none(user_id: int | None, field: str) -> User | None:
    found = _user_or_none(user_id, field)
    if found is not None and found.role not in (Role.ADMIN, Role.SUPERVISOR, Role.AGENT):
        raise ValidationFailed("Tickets are assigned to agents.", fields={field: ["not an agent"]})
    return found


def _team_or_none(team_id: int | None, field: str) -> Team | None:
    if not team_id:
        return None
    found = Team.objects.filter(pk=team_id).first()
    if found is None:
        raise ValidationFailed("No such team.", fields={field: ["not found"]})
    return found


@router.get("", response=TicketPage, summary="List tickets (newest-updated first, keyset)")
def ticket_list(request: HttpRequest, filters: Query[TicketListFilters]) -> dict[str, Any]:
    user = request_user(request)
    for name in ("assignee_id", "team_id", "requester_id"):
        value = getattr(filters, name)
        if value is not None and abs(value) > _DB_INT_MAX:  # SQLite: OverflowError, a 500
            raise ValidationFailed("Number out of range.", fields={name: ["out of range"]})
    qs = permissions.tickets_visible_to(user)
    qs = selectors.ticket_filter(
        qs,
        selectors.TicketFilters(
            status=filters.status,
            assignee_id=filters.assignee_id,
            unassigned=filters.unassigned,
            team_id=filters.team_id,
            tag=filters.tag,
            channel=filters.channel,
            requester_id=filters.requester_id,
            updated_after=filters.updated_after,
            updated_before=filters.updated_before,
            query=filters.q,
        ),
    )
    page = selectors.ticket_page(qs, cursor=filters.cursor, limit=filters.limit)
    return {"items": [ticket_out(t) for t in page.items], "next_cursor": page.next_cursor}


@router.post(
    "",
    response={201: TicketCreatedOut, 200: TicketCreatedOut},
    summary="Create a ticket (the `api` channel, through the ingest service)",
)
def ticket_create(request: HttpRequest, payload: TicketCreateIn) -> Status[Any]:
    user = request_user(request)
    if user.role == Role.LIGHT_AGENT:
        raise PermissionDenied("Light agents cannot create tickets.")
    attachments = _decode_attachments(payload.attachments)
    customer_id = None
    sender = None
    others: tuple[SenderIdentity, ...] = ()
    if user.role == Role.CUSTOMER:
        customer = getattr(user, "customer", None)
        if customer is None:
            raise PermissionDenied("Your account is not linked to a customer.")
        customer_id = customer.pk
    elif payload.requester.id is not None:
        customer_id = payload.requester.id
    else:
        identities = []
        for index, raw in enumerate(payload.requester.identities):
            if "kind" not in raw or "value" not in raw:
                raise ValidationFailed(
                    "Each identity needs kind and value.",
                    fields={f"requester.identities.{index}": ["kind and value required"]},
                )
            identities.append(
                SenderIdentity(kind=raw["kind"], value=raw["value"], network=raw.get("network", ""))
            )
        if not identities:
            raise ValidationFailed(
                "Name the requester by id or by at least one identity.",
                fields={"requester": ["id or identities required"]},
            )
        sender, others = identities[0], tuple(identities[1:])
    staff = user.role != Role.CUSTOMER
    team = _team_or_none(payload.team_id, "team_id") if staff else None
    assignee = _assignee_or_none(payload.assignee_id, "assignee_id") if staff else None
    if not payload.text.strip() and not payload.html.strip():
        raise ValidationFailed("A ticket needs a first message.", fields={"text": ["required"]})
    external_id = f"user:{user.pk}:{payload.external_id}" if payload.external_id else ""
    raw_body = payload.model_dump(exclude={"attachments"})
    raw_body["customer_id"] = customer_id
    result = inbound_message_ingest(
        InboundMessage(
            channel=Channel.API,
            sender=sender,
            other_identities=others,
            customer_id=customer_id,
            sender_name=payload.requester.name,
            subject=payload.subject,
            text=payload.text,
            html=payload.html,
            provider_message_id=external_id,
            attachments=tuple(
                InboundAttachment(
                    filename=a.filename, content_type=a.content_type, content=a.content
                )
                for a in attachments
            ),
            metadata={"via": "api", "user_id": user.pk},
            # Set in the same transaction as the ticket, so ticket.created carries them.
            ticket_fields=_staff_ticket_fields(payload, team, assignee) if staff else {},
        ),
        # The API's acknowledgement is this response, sent after the commit: the raw request
        # is stored in the same transaction as the ticket.
        raw=RawInput(
            body=json.dumps(raw_body, default=str).encode(),
            content_type="application/json",
            headers={"user_id": str(user.pk)},
        ),
    )
    # Not _visible_ticket: the caller just filed this ticket (or retried their own external_id),
    # so it is theirs to see even when it went to a team they are not in.
    if result.ticket is not None and not payload.tags:
        # The ingest hands back the ticket it wrote (requester, team, assignee attached): no
        # re-read, and no tag query for a ticket created without tags.
        return Status(201, ticket_out(result.ticket, tags=[], duplicate=False))
    ticket = (
        Ticket.objects.select_related("requester", "assignee", "team")
        .prefetch_related("tags")
        .get(pk=result.ticket_id)
    )
    return Status(200 if result.duplicate else 201, ticket_out(ticket, duplicate=result.duplicate))


def _staff_ticket_fields(
    payload: TicketCreateIn, team: Team | None, assignee: User | None
) -> dict[str, Any]:
    return {
        "priority": payload.priority,
        "type": payload.type,
        "language": payload.language,
        "tags": payload.tags,
        "custom_fields": payload.custom_fields,
        "team": team,
        "assignee": assignee,
    }


@router.get("/{ticket_id}", response=TicketOut)
def ticket_get(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    return ticket_out(_visible_ticket(request, ticket_id))


@router.patch("/{ticket_id}", response=TicketOut)
def ticket_update(request: HttpRequest, ticket_id: int, payload: TicketUpdateIn) -> dict[str, Any]:
    user = request_user(request)
    ticket = _visible_ticket(request, ticket_id)
    if not permissions.can_update_ticket(user, ticket):
        raise PermissionDenied("You may not change this ticket.")
    changes = payload.model_dump(exclude_unset=True)
    if "team_id" in changes:
        changes["team"] = _team_or_none(changes.pop("team_id"), "team_id")
    if "assignee_id" in changes:
        changes["assignee"] = _assignee_or_none(changes.pop("assignee_id"), "assignee_id")
    for nullable in ("subject", "status", "priority", "type", "language", "tags", "custom_fields"):
        if nullable in changes and changes[nullable] is None:
            changes.pop(nullable)
    services.ticket_update(ticket=ticket, actor=Actor.for_user(user), **changes)
    return ticket_out(_visible_ticket(request, ticket_id))


@router.get("/{ticket_id}/messages", response=list[MessageOut])
def message_list(request: HttpRequest, ticket_id: int) -> list[Message]:
    user = request_user(request)
    ticket = _visible_ticket(request, ticket_id)
    return selectors.ticket_timeline(ticket, include_internal=permissions.can_see_internal(user))


@router.post("/{ticket_id}/messages", response={201: MessageOut}, summary="Reply or add a note")
def message_create(request: HttpRequest, ticket_id: int, payload: MessageIn) -> Status[Message]:
    user = request_user(request)
    ticket = _visible_ticket(request, ticket_id)
    if payload.visibility == "internal":
        if not permissions.can_add_note(user, ticket):
            raise PermissionDenied("You may not add notes to this ticket.")
    elif not permissions.can_reply_publicly(user, ticket):
        raise PermissionDenied("You may not reply on this ticket.")
    attachments = _decode_attachments(payload.attachments)
    if user.role == Role.CUSTOMER:
        actor = Actor.for_customer(user.customer)
    else:
        actor = Actor.for_user(user)
    # message_add joins an enclosing transaction (savepoint=False) and refuses some input only
    # once inside it: its own block keeps a refusal from poisoning a caller's transaction.
    with transaction.atomic():
        message = services.message_add(
            ticket=ticket,
            actor=actor,
            text=payload.text,
            html=payload.html,
            visibility=payload.visibility,
            attachments=attachments,
            metadata={"via": "api"},
        )
    return Status(201, Message.objects.prefetch_related("attachments").get(pk=message.pk))


@router.get("/{ticket_id}/events", response=list[TicketEventOut], summary="The ticket's timeline")
def ticket_event_list(request: HttpRequest, ticket_id: int) -> list[TicketEvent]:
    require_roles(request, Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.LIGHT_AGENT)
    ticket = _visible_ticket(request, ticket_id)
    return list(selectors.ticket_events(ticket))


@router.post("/{ticket_id}/collaborators", response={201: PersonRef}, summary="Invite a colleague")
def collaborator_add(request: HttpRequest, ticket_id: int, payload: CollaboratorIn) -> Status[Any]:
    user = request_user(request)
    ticket = _visible_ticket(request, ticket_id)
    if not permissions.can_update_ticket(user, ticket):
        raise PermissionDenied("You may not invite people to this ticket.")
    invited = _user_or_none(payload.user_id, "user_id")
    if invited is None:
        raise ValidationFailed("No such user.", fields={"user_id": ["not found"]})
    services.ticket_collaborator_add(ticket=ticket, user=invited, actor=Actor.for_user(user))
    return Status(201, {"id": invited.pk, "name": invited.label})
