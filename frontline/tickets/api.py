"""REST endpoints for tickets, their messages (replies and notes) and their timeline; merge and
split, links, time tracking, swarming, side conversations, experts; the caller's
notifications, canned responses and custom field definitions (under /api/tickets/ too, so
this router serves every ticket-work route)."""

from __future__ import annotations

import base64
import binascii
import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel

from frontline.accounts import selectors as account_selectors
from frontline.accounts import services as account_services
from frontline.accounts.models import STAFF_ROLES, Notification, Role, Team, User
from frontline.api.permissions import request_user, require_admin, require_agent, require_roles
from frontline.channels import replies
from frontline.channels.services import RawInput, inbound_message_ingest
from frontline.channels.types import Channel, InboundAttachment, InboundMessage, SenderIdentity
from frontline.core.errors import NotFound, PermissionDenied, ValidationFailed
from frontline.tickets import permissions, selectors, services
from frontline.tickets.actors import Actor
from frontline.tickets.experts import experts_for_ticket
from frontline.tickets.models import (
    Attachment,
    CannedResponse,
    CustomField,
    Message,
    SideConversation,
    Ticket,
    TicketEvent,
    TicketLink,
    TimeEntry,
)

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
    solve_note: str = Field(
        "", max_length=2000, description="solving a problem: added to its incidents' reply"
    )


class SwarmOut(BaseModel):
    requested_at: datetime
    requested_by_id: int | None
    note: str


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
    merged_into_id: int | None
    cc_customers: list[PersonRef]
    swarm: SwarmOut | None
    first_response_at: datetime | None
    solved_at: datetime | None
    reopen_count: int
    message_count: int
    created_at: datetime
    updated_at: datetime


def ticket_out(
    ticket: Ticket,
    *,
    tags: list[str] | None = None,
    cc: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ticket as the API shows it. Plain dicts: validating ORM objects attribute by
    attribute costs ~0.2 ms a row, most of a queue page. `tags`/`cc` given: no query."""
    assignee, team = ticket.assignee, ticket.team
    if cc is None:
        cc = [{"id": c.pk, "name": c.name} for c in ticket.cc_customers.all()]
    swarm = None
    if ticket.swarm_requested_at is not None:
        swarm = {
            "requested_at": ticket.swarm_requested_at,
            "requested_by_id": ticket.swarm_requested_by_id,
            "note": ticket.swarm_note,
        }
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
        "merged_into_id": ticket.merged_into_id,
        "cc_customers": cc,
        "swarm": swarm,
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
    channel: str | None = Field(
        None,
        description="public replies: answer on another channel the customer can be reached on "
        "(e.g. `sms` on an email ticket); default: the ticket's channel",
    )
    template_id: int | None = Field(
        None, description="WhatsApp: an approved template (required outside the 24-hour window)"
    )
    template_variables: dict[str, str] = Field(
        default_factory=dict, description='the template\'s placeholders, e.g. {"1": "Ana"}'
    )


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
    swarm: bool | None = Field(None, description="true: tickets with an open swarm request")
    cursor: str | None = None
    limit: int = Field(25, ge=1, le=100)


_DB_INT_MAX = 2**63 - 1


def _visible_ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    user = request_user(request)
    ticket = (
        permissions.tickets_visible_to(user, Ticket.objects.filter(pk=ticket_id))
        .select_related("requester", "assignee", "team")
        .prefetch_related("tags", "cc_customers")
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
            swarm=filters.swarm,
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
        return Status(201, ticket_out(result.ticket, tags=[], cc=[], duplicate=False))
    ticket = (
        Ticket.objects.select_related("requester", "assignee", "team")
        .prefetch_related("tags", "cc_customers")
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
    solve_note = changes.pop("solve_note", "")
    if "team_id" in changes:
        changes["team"] = _team_or_none(changes.pop("team_id"), "team_id")
    if "assignee_id" in changes:
        changes["assignee"] = _assignee_or_none(changes.pop("assignee_id"), "assignee_id")
    for nullable in ("subject", "status", "priority", "type", "language", "tags", "custom_fields"):
        if nullable in changes and changes[nullable] is None:
            changes.pop(nullable)
    services.ticket_update(
        ticket=ticket, actor=Actor.for_user(user), solve_note=solve_note, **changes
    )
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
    channel, text, metadata = _reply_channel(ticket, payload, staff=user.role != Role.CUSTOMER)
    # message_add joins an enclosing transaction (savepoint=False) and refuses some input only
    # once inside it: its own block keeps a refusal from poisoning a caller's transaction.
    with transaction.atomic():
        message = services.message_add(
            ticket=ticket,
            actor=actor,
            text=text,
            html=payload.html if text == payload.text else "",
            visibility=payload.visibility,
            attachments=attachments,
            channel=channel,
            metadata={"via": "api", **metadata},
        )
        if channel and channel != ticket.channel:
            replies.preferred_channel_remember(ticket.requester, channel, actor=actor.label)
    return Status(201, Message.objects.prefetch_related("attachments").get(pk=message.pk))


def _reply_channel(
    ticket: Ticket, payload: MessageIn, *, staff: bool
) -> tuple[str | None, str, dict[str, Any]]:
    """The channel, text and metadata of a public agent reply, checked against what the
    channel allows (reachability, WhatsApp's window and templates)."""
    if payload.visibility != "public" or not staff:
        return None, payload.text, {}
    channel = payload.channel or ticket.channel
    reachable = replies.reply_channels(ticket, list(ticket.requester.identities.all()))
    if channel not in {c.channel for c in reachable}:
        raise ValidationFailed(
            f"The customer cannot be reached by {replies.channel_label(channel)} here.",
            fields={"channel": [c.channel for c in reachable]},
        )
    text, metadata = payload.text, dict[str, Any]()
    if payload.template_id is not None:
        text, metadata = replies.reply_template(
            ticket, channel, str(payload.template_id), payload.template_variables
        )
    replies.reply_check(ticket, channel, template=metadata.get("template"))
    return channel, text, metadata


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


# --------------------------------------------------------------------------- merge and split


class MergeIn(Schema):
    source_ids: list[int] = Field(..., min_length=1, max_length=50)


def _tickets_named(request: HttpRequest, ids: list[int], field: str) -> list[Ticket]:
    """Tickets the caller can see, in the order given; one the caller cannot see reads as
    not found, as everywhere."""
    user = request_user(request)
    found = {
        t.pk: t for t in permissions.tickets_visible_to(user, Ticket.objects.filter(pk__in=ids))
    }
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ValidationFailed(
            "No such ticket.", fields={field: [f"{pk}: not found" for pk in missing]}
        )
    return [found[pk] for pk in ids]


def _require_update(request: HttpRequest, ticket: Ticket) -> User:
    user = request_user(request)
    if not permissions.can_update_ticket(user, ticket):
        raise PermissionDenied("You may not change this ticket.")
    return user


@router.post("/{ticket_id}/merge", response=TicketOut, summary="Merge duplicates into this ticket")
def ticket_merge(request: HttpRequest, ticket_id: int, payload: MergeIn) -> dict[str, Any]:
    target = _visible_ticket(request, ticket_id)
    user = _require_update(request, target)
    sources = _tickets_named(request, payload.source_ids, "source_ids")
    services.tickets_merge_many(sources=sources, target=target, actor=Actor.for_user(user))
    return ticket_out(_visible_ticket(request, ticket_id))


@router.post(
    "/{ticket_id}/messages/{message_id}/split",
    response={201: TicketOut},
    summary="Move a customer message into a new ticket",
)
def message_split(request: HttpRequest, ticket_id: int, message_id: int) -> Status[Any]:
    ticket = _visible_ticket(request, ticket_id)
    user = _require_update(request, ticket)
    message = Message.objects.filter(pk=message_id, ticket=ticket).first()
    if message is None:
        raise NotFound("No such message.")
    new = services.message_split(message=message, actor=Actor.for_user(user))
    return Status(201, ticket_out(_visible_ticket(request, new.pk)))


# --------------------------------------------------------------------------- links


class LinkedTicketOut(BaseModel):
    id: int
    subject: str
    status: str
    type: str


class LinkOut(BaseModel):
    id: int
    kind: str
    ticket: LinkedTicketOut  # the other end


class LinksOut(BaseModel):
    related: list[LinkOut]
    problem: LinkOut | None
    incidents: list[LinkOut]


class LinkIn(Schema):
    to_ticket_id: int
    kind: Literal["related", "incident_of"] = Field(
        "related", description="incident_of: this ticket is an incident of to_ticket (a problem)"
    )


def _link_out(link: TicketLink, other: Ticket) -> dict[str, Any]:
    return {
        "id": link.pk,
        "kind": link.kind,
        "ticket": {
            "id": other.pk,
            "subject": other.subject,
            "status": other.status,
            "type": other.type,
        },
    }


def _staff_ticket(request: HttpRequest, ticket_id: int) -> tuple[User, Ticket]:
    """A ticket for staff-only reads (links, time, side conversations): customers get 403
    on their own tickets, 404 on the others."""
    user = request_user(request)
    ticket = _visible_ticket(request, ticket_id)
    if not permissions.can_see_internal(user):
        raise PermissionDenied("Staff only.")
    return user, ticket


@router.get("/{ticket_id}/links", response=LinksOut, summary="Related tickets, problem, incidents")
def link_list(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    user, ticket = _staff_ticket(request, ticket_id)
    links = selectors.ticket_links(ticket, visible=permissions.tickets_visible_to(user))
    return {
        "related": [_link_out(link, other) for link, other in links.related],
        "problem": _link_out(*links.problem) if links.problem else None,
        "incidents": [_link_out(link, other) for link, other in links.incidents],
    }


@router.post("/{ticket_id}/links", response={201: LinkOut}, summary="Link to another ticket")
def link_create(request: HttpRequest, ticket_id: int, payload: LinkIn) -> Status[Any]:
    ticket = _visible_ticket(request, ticket_id)
    user = _require_update(request, ticket)
    (other,) = _tickets_named(request, [payload.to_ticket_id], "to_ticket_id")
    link = services.ticket_link(
        from_ticket=ticket, to_ticket=other, kind=payload.kind, actor=Actor.for_user(user)
    )
    return Status(201, _link_out(link, Ticket.objects.get(pk=other.pk)))


@router.delete("/{ticket_id}/links/{link_id}", response={204: None})
def link_delete(request: HttpRequest, ticket_id: int, link_id: int) -> Status[None]:
    ticket = _visible_ticket(request, ticket_id)
    user = _require_update(request, ticket)
    link = (
        TicketLink.objects.filter(pk=link_id)
        .filter(Q(from_ticket_id=ticket.pk) | Q(to_ticket_id=ticket.pk))
        .first()
    )
    if link is None:
        raise NotFound("No such link.")
    services.ticket_unlink(link=link, actor=Actor.for_user(user))
    return Status(204, None)


# --------------------------------------------------------------------------- time tracking


class TimeEntryOut(BaseModel):
    id: int
    ticket_id: int
    user: PersonRef
    started_at: datetime
    seconds: int
    note: str
    running: bool


class AgentTimeOut(BaseModel):
    user_id: int
    name: str
    seconds: int
    entries: int


class TicketTimeOut(BaseModel):
    total_seconds: int
    by_agent: list[AgentTimeOut]
    entries: list[TimeEntryOut]


class TimeEntryIn(Schema):
    minutes: int = Field(..., gt=0, le=24 * 60)
    note: str = Field("", max_length=500)
    started_at: datetime | None = None


class TimerIn(Schema):
    note: str = Field("", max_length=500)


def _entry_out(entry: TimeEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "ticket_id": entry.ticket_id,
        "user": {"id": entry.user_id, "name": entry.user.label},
        "started_at": entry.started_at,
        "seconds": entry.seconds,
        "note": entry.note,
        "running": entry.running,
    }


@router.get("/{ticket_id}/time-entries", response=TicketTimeOut, summary="Time spent")
def time_entry_list(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    _, ticket = _staff_ticket(request, ticket_id)
    totals = selectors.time_totals_for_ticket(ticket)
    return {
        "total_seconds": totals.total_seconds,
        "by_agent": [a.__dict__ for a in totals.by_agent],
        "entries": [_entry_out(e) for e in selectors.ticket_time_entries(ticket)],
    }


@router.post("/{ticket_id}/time-entries", response={201: TimeEntryOut}, summary="Log time")
def time_entry_create(request: HttpRequest, ticket_id: int, payload: TimeEntryIn) -> Status[Any]:
    user, ticket = _staff_ticket(request, ticket_id)
    started_at = payload.started_at
    if started_at is not None and timezone.is_naive(started_at):
        started_at = timezone.make_aware(started_at)
    entry = services.time_entry_add(
        ticket=ticket,
        actor=Actor.for_user(user),
        minutes=payload.minutes,
        note=payload.note,
        started_at=started_at,
    )
    return Status(201, _entry_out(entry))


@router.post(
    "/{ticket_id}/time-entries/start",
    response=TimeEntryOut,
    summary="Start your timer (starting it again returns the running one)",
)
def timer_start(request: HttpRequest, ticket_id: int, payload: TimerIn) -> dict[str, Any]:
    user, ticket = _staff_ticket(request, ticket_id)
    entry = services.timer_start(ticket=ticket, actor=Actor.for_user(user), note=payload.note)
    return _entry_out(entry)


@router.post("/{ticket_id}/time-entries/stop", response=TimeEntryOut, summary="Stop your timer")
def timer_stop(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    user, ticket = _staff_ticket(request, ticket_id)
    return _entry_out(services.timer_stop(ticket=ticket, actor=Actor.for_user(user)))


@router.delete("/{ticket_id}/time-entries/{entry_id}", response={204: None})
def time_entry_delete(request: HttpRequest, ticket_id: int, entry_id: int) -> Status[None]:
    user, ticket = _staff_ticket(request, ticket_id)
    entry = TimeEntry.objects.filter(pk=entry_id, ticket=ticket).first()
    if entry is None:
        raise NotFound("No such time entry.")
    services.time_entry_delete(entry=entry, actor=Actor.for_user(user))
    return Status(204, None)


class TimeExportFilters(Schema):
    from_: datetime | None = Field(None, alias="from", description="started at or after")
    to: datetime | None = Field(None, description="started before")
    agent: int | None = Field(None, description="a user id")
    ticket: int | None = Field(None, description="a ticket id")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


@router.get(
    "/time-entries/export.csv",
    response={200: str},
    summary="Time entries as CSV (on the tickets you can see)",
    openapi_extra={
        "responses": {
            200: {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}
        }
    },
)
def time_entry_export(request: HttpRequest, filters: Query[TimeExportFilters]) -> HttpResponse:
    user = require_agent(request)
    for name in ("agent", "ticket"):
        value = getattr(filters, name)
        if value is not None and abs(value) > _DB_INT_MAX:
            raise ValidationFailed("Number out of range.", fields={name: ["out of range"]})
    entries = selectors.time_entries_filter(
        tickets=permissions.tickets_visible_to(user),
        start=_aware(filters.from_),
        end=_aware(filters.to),
        agent_id=filters.agent,
        ticket_id=filters.ticket,
    )
    writer = csv.writer(_Echo())
    rows: Iterator[str] = (
        writer.writerow(row) for row in selectors.time_entries_export_rows(entries)
    )
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="time-entries.csv"'
    return response  # type: ignore[return-value]


# --------------------------------------------------------------------------- swarming


class SwarmIn(Schema):
    note: str = Field("", max_length=2000)


@router.post("/{ticket_id}/swarm", response=TicketOut, summary="Ask colleagues to swarm")
def swarm_request(request: HttpRequest, ticket_id: int, payload: SwarmIn) -> dict[str, Any]:
    ticket = _visible_ticket(request, ticket_id)
    user = _require_update(request, ticket)
    services.swarm_request(ticket=ticket, actor=Actor.for_user(user), note=payload.note)
    return ticket_out(_visible_ticket(request, ticket_id))


@router.delete("/{ticket_id}/swarm", response=TicketOut, summary="End the swarm")
def swarm_resolve(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    ticket = _visible_ticket(request, ticket_id)
    user = _require_update(request, ticket)
    services.swarm_resolve(ticket=ticket, actor=Actor.for_user(user))
    return ticket_out(_visible_ticket(request, ticket_id))


# --------------------------------------------------------------------------- side conversations


class SideMessageOut(BaseModel):
    id: int
    author: PersonRef | None
    text: str
    created_at: datetime


class SideConversationOut(BaseModel):
    id: int
    subject: str
    created_by: PersonRef | None
    participants: list[PersonRef]
    created_at: datetime
    closed_at: datetime | None
    messages: list[SideMessageOut]


class SideConversationIn(Schema):
    subject: str = Field(..., min_length=1, max_length=255)
    participant_ids: list[int] = Field(default_factory=list, max_length=50)
    text: str = Field("", max_length=50_000)


class SideMessageIn(Schema):
    text: str = Field(..., min_length=1, max_length=50_000)


def _person(user: User | None) -> dict[str, Any] | None:
    return {"id": user.pk, "name": user.label} if user is not None else None


def _conversation_out(conversation: SideConversation) -> dict[str, Any]:
    return {
        "id": conversation.pk,
        "subject": conversation.subject,
        "created_by": _person(conversation.created_by),
        "participants": [_person(p) for p in conversation.participants.all()],
        "created_at": conversation.created_at,
        "closed_at": conversation.closed_at,
        "messages": [
            {"id": m.pk, "author": _person(m.author), "text": m.text, "created_at": m.created_at}
            for m in conversation.messages.all()
        ],
    }


def _side_ticket(request: HttpRequest, ticket_id: int) -> tuple[User, Ticket]:
    user = request_user(request)
    ticket = _visible_ticket(request, ticket_id)
    if not permissions.can_use_side_conversations(user, ticket):
        raise PermissionDenied("Staff only.")
    return user, ticket


def _conversation(ticket: Ticket, conversation_id: int) -> SideConversation:
    for conversation in selectors.side_conversations_for(ticket):
        if conversation.pk == conversation_id:
            return conversation
    raise NotFound("No such side conversation.")


@router.get("/{ticket_id}/side-conversations", response=list[SideConversationOut])
def side_conversation_list(request: HttpRequest, ticket_id: int) -> list[dict[str, Any]]:
    _, ticket = _side_ticket(request, ticket_id)
    return [_conversation_out(c) for c in selectors.side_conversations_for(ticket)]


@router.post("/{ticket_id}/side-conversations", response={201: SideConversationOut})
def side_conversation_create(
    request: HttpRequest, ticket_id: int, payload: SideConversationIn
) -> Status[Any]:
    user, ticket = _side_ticket(request, ticket_id)
    ids = list(dict.fromkeys(payload.participant_ids))
    people = {u.pk: u for u in User.objects.filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in people]
    if missing:
        raise ValidationFailed(
            "No such user.", fields={"participant_ids": [f"{pk}: not found" for pk in missing]}
        )
    conversation = services.side_conversation_start(
        ticket=ticket,
        actor=Actor.for_user(user),
        subject=payload.subject,
        participants=[people[pk] for pk in ids],
        text=payload.text,
    )
    return Status(201, _conversation_out(_conversation(ticket, conversation.pk)))


@router.post(
    "/{ticket_id}/side-conversations/{conversation_id}/messages",
    response={201: SideConversationOut},
)
def side_message_create(
    request: HttpRequest, ticket_id: int, conversation_id: int, payload: SideMessageIn
) -> Status[Any]:
    user, ticket = _side_ticket(request, ticket_id)
    conversation = _conversation(ticket, conversation_id)
    services.side_message_post(
        conversation=conversation, actor=Actor.for_user(user), text=payload.text
    )
    return Status(201, _conversation_out(_conversation(ticket, conversation_id)))


@router.post(
    "/{ticket_id}/side-conversations/{conversation_id}/close", response=SideConversationOut
)
def side_conversation_close(
    request: HttpRequest, ticket_id: int, conversation_id: int
) -> dict[str, Any]:
    user, ticket = _side_ticket(request, ticket_id)
    conversation = _conversation(ticket, conversation_id)
    services.side_conversation_close(conversation=conversation, actor=Actor.for_user(user))
    return _conversation_out(_conversation(ticket, conversation_id))


# --------------------------------------------------------------------------- experts


class ExpertOut(BaseModel):
    user: PersonRef
    score: int
    reasons: list[str]


class ExpertFilters(Schema):
    limit: int = Field(5, ge=1, le=20)


@router.get("/{ticket_id}/experts", response=list[ExpertOut], summary="Who could help")
def expert_list(
    request: HttpRequest, ticket_id: int, filters: Query[ExpertFilters]
) -> list[dict[str, Any]]:
    ticket = _visible_ticket(request, ticket_id)
    require_agent(request)
    return [
        {"user": _person(e.user), "score": e.score, "reasons": e.reasons}
        for e in experts_for_ticket(ticket, limit=filters.limit)
    ]


# --------------------------------------------------------------------------- notifications


class NotificationOut(BaseModel):
    id: int
    kind: str
    ticket_id: int | None
    text: str
    actor: str
    created_at: datetime
    read_at: datetime | None


class NotificationsOut(BaseModel):
    unread_count: int
    items: list[NotificationOut]


class NotificationsReadIn(Schema):
    ids: list[int] = Field(default_factory=list, max_length=500)
    all: bool = Field(False, description="mark every notification read")


class MarkedOut(BaseModel):
    marked: int


def _notification_out(n: Notification) -> dict[str, Any]:
    return {
        "id": n.pk,
        "kind": n.kind,
        "ticket_id": n.ticket_id,
        "text": n.text,
        "actor": n.actor_label,
        "created_at": n.created_at,
        "read_at": n.read_at,
    }


class NotificationFilters(Schema):
    unread: bool = Field(False, description="only unread ones")
    limit: int = Field(20, ge=1, le=100)


@router.get("/notifications", response=NotificationsOut, summary="Your notifications")
def notification_list(request: HttpRequest, filters: Query[NotificationFilters]) -> dict[str, Any]:
    user = request_user(request)
    items = account_selectors.notifications_recent(
        user, limit=filters.limit, unread_only=filters.unread
    )
    return {
        "unread_count": account_selectors.notifications_unread_count(user),
        "items": [_notification_out(n) for n in items],
    }


@router.post("/notifications/read", response=MarkedOut, summary="Mark notifications read")
def notifications_read(request: HttpRequest, payload: NotificationsReadIn) -> dict[str, Any]:
    user = request_user(request)
    if not payload.all and not payload.ids:
        raise ValidationFailed("Name notifications or all.", fields={"ids": ["ids or all"]})
    marked = account_services.notifications_mark_read(
        user=user, ids="all" if payload.all else payload.ids
    )
    return {"marked": marked}


# --------------------------------------------------------------------------- canned responses


class CannedOut(BaseModel):
    id: int
    title: str
    body: str
    shortcut: str
    owner_id: int | None
    team_id: int | None
    created_at: datetime


class CannedIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    body: str = Field(..., min_length=1, max_length=50_000)
    shortcut: str = Field("", max_length=32)
    scope: Literal["personal", "team", "shared"] = "personal"
    team_id: int | None = Field(None, description="for scope team")


class CannedUpdateIn(Schema):
    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, min_length=1, max_length=50_000)
    shortcut: str | None = Field(None, max_length=32)


def _canned_out(c: CannedResponse) -> dict[str, Any]:
    return {
        "id": c.pk,
        "title": c.title,
        "body": c.body,
        "shortcut": c.shortcut,
        "owner_id": c.owner_id,
        "team_id": c.team_id,
        "created_at": c.created_at,
    }


def _staff(request: HttpRequest) -> User:
    return require_roles(request, *STAFF_ROLES)


def _canned(user: User, canned_id: int) -> CannedResponse:
    """One the caller may use (others read as missing)."""
    for canned in selectors.canned_responses_for(user):
        if canned.pk == canned_id:
            return canned
    found = CannedResponse.objects.filter(pk=canned_id, owner__isnull=True).first()
    if found is not None and user.role in (Role.ADMIN, Role.SUPERVISOR):
        return found  # another team's: supervisors manage every shared one
    raise NotFound("No such canned response.")


@router.get("/canned-responses", response=list[CannedOut], summary="Canned responses you can use")
def canned_response_list(request: HttpRequest, q: str = "") -> list[dict[str, Any]]:
    user = _staff(request)
    return [_canned_out(c) for c in selectors.canned_responses_for(user, q[:200])]


@router.post("/canned-responses", response={201: CannedOut})
def canned_response_create(request: HttpRequest, payload: CannedIn) -> Status[Any]:
    user = _staff(request)
    team = _team_or_none(payload.team_id, "team_id") if payload.scope == "team" else None
    if payload.scope == "team" and team is None:
        raise ValidationFailed("Name the team.", fields={"team_id": ["required for scope team"]})
    canned = services.canned_response_create(
        actor=Actor.for_user(user),
        title=payload.title,
        body=payload.body,
        shortcut=payload.shortcut,
        owner=user if payload.scope == "personal" else None,
        team=team,
    )
    return Status(201, _canned_out(canned))


@router.patch("/canned-responses/{canned_id}", response=CannedOut)
def canned_response_update(
    request: HttpRequest, canned_id: int, payload: CannedUpdateIn
) -> dict[str, Any]:
    user = _staff(request)
    canned = services.canned_response_update(
        canned=_canned(user, canned_id),
        actor=Actor.for_user(user),
        **payload.model_dump(exclude_unset=True, exclude_none=True),
    )
    return _canned_out(canned)


@router.delete("/canned-responses/{canned_id}", response={204: None})
def canned_response_delete(request: HttpRequest, canned_id: int) -> Status[None]:
    user = _staff(request)
    services.canned_response_delete(canned=_canned(user, canned_id), actor=Actor.for_user(user))
    return Status(204, None)


# --------------------------------------------------------------------------- custom fields


class CustomFieldOut(BaseModel):
    id: int
    key: str
    label: str
    type: str
    options: list[str]
    required_on_solve: bool
    active: bool
    position: int


class CustomFieldIn(Schema):
    key: str = Field(..., min_length=1, max_length=64)
    label: str = Field(..., min_length=1, max_length=100)
    type: Literal["text", "number", "checkbox", "dropdown", "date"]
    options: list[str] = Field(default_factory=list, max_length=500)
    required_on_solve: bool = False
    active: bool = True
    position: int = Field(0, ge=0, le=100_000)


class CustomFieldUpdateIn(Schema):
    label: str | None = Field(None, min_length=1, max_length=100)
    options: list[str] | None = Field(None, max_length=500)
    required_on_solve: bool | None = None
    active: bool | None = None
    position: int | None = Field(None, ge=0, le=100_000)


def _field_out(f: CustomField) -> dict[str, Any]:
    return {
        "id": f.pk,
        "key": f.key,
        "label": f.label,
        "type": f.type,
        "options": f.options,
        "required_on_solve": f.required_on_solve,
        "active": f.active,
        "position": f.position,
    }


def _custom_field(field_id: int) -> CustomField:
    found = CustomField.objects.filter(pk=field_id).first()
    if found is None:
        raise NotFound("No such custom field.")
    return found


@router.get("/custom-fields", response=list[CustomFieldOut], summary="Ticket field definitions")
def custom_field_list(request: HttpRequest) -> list[dict[str, Any]]:
    _staff(request)
    return [_field_out(f) for f in selectors.custom_fields_list()]


@router.post("/custom-fields", response={201: CustomFieldOut})
def custom_field_create(request: HttpRequest, payload: CustomFieldIn) -> Status[Any]:
    user = require_admin(request)
    field = services.custom_field_create(actor=Actor.for_user(user), **payload.model_dump())
    return Status(201, _field_out(field))


@router.patch("/custom-fields/{field_id}", response=CustomFieldOut)
def custom_field_update(
    request: HttpRequest, field_id: int, payload: CustomFieldUpdateIn
) -> dict[str, Any]:
    user = require_admin(request)
    field = services.custom_field_update(
        field=_custom_field(field_id),
        actor=Actor.for_user(user),
        **payload.model_dump(exclude_unset=True, exclude_none=True),
    )
    return _field_out(field)


@router.delete("/custom-fields/{field_id}", response={204: None})
def custom_field_delete(request: HttpRequest, field_id: int) -> Status[None]:
    user = require_admin(request)
    services.custom_field_delete(field=_custom_field(field_id), actor=Actor.for_user(user))
    return Status(204, None)


def _static_paths_first() -> None:
    """Django matches URLs in order, and "/{ticket_id}" (no converter, so "/abc" answers 422
    rather than 404) would take "/notifications", "/canned-responses" and "/custom-fields":
    register the paths without a leading parameter first."""
    operations = router.path_operations
    ordered = sorted(operations.items(), key=lambda item: item[0].startswith("/{"))
    operations.clear()
    operations.update(ordered)


_static_paths_first()
