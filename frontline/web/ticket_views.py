"""The ticket page: conversation, composer, properties, customer 360; attachment downloads."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from frontline.accounts.models import Role, Team, User
from frontline.core.errors import DomainError
from frontline.customers.selectors import customer_order_totals
from frontline.tickets import permissions, selectors, services
from frontline.tickets.actors import Actor
from frontline.tickets.lifecycle import ALLOWED, Status
from frontline.tickets.models import Attachment, Priority, Ticket, TicketType
from frontline.web.common import staff_user, visible_ticket


@login_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = staff_user(request)
    return _ticket_page(request, user, visible_ticket(user, ticket_id))


def _ticket_page(
    request: HttpRequest, user: User, ticket: Ticket, *, status: int = 200, **extra: Any
) -> HttpResponse:
    requester = ticket.requester
    timeline = selectors.ticket_timeline(
        ticket, include_internal=permissions.can_see_internal(user)
    )
    context: dict[str, Any] = {
        "ticket": ticket,
        "timeline": timeline,
        "last_message_id": max((m.pk for m in timeline), default=0),
        "events": list(selectors.ticket_events(ticket))[-50:],
        "requester": requester,
        "identities": list(requester.identities.all()),
        "orders": list(requester.orders.all()[:10]),
        "order_totals": customer_order_totals(requester),
        "other_tickets": list(
            permissions.tickets_visible_to(user, requester.tickets.exclude(pk=ticket.pk)).order_by(
                "-id"
            )[:10]
        ),
        "can_update": permissions.can_update_ticket(user, ticket),
        "can_reply": permissions.can_reply_publicly(user, ticket),
        "statuses": [ticket.status, *sorted(s.value for s in ALLOWED[Status(ticket.status)])],
        "priorities": Priority.values,
        "types": TicketType.values,
        "teams": Team.objects.all(),
        "agents": User.objects.filter(
            role__in=[Role.ADMIN, Role.SUPERVISOR, Role.AGENT], is_active=True
        ).order_by("username"),
        "tags": ", ".join(t.name for t in ticket.tags.all()),
        **extra,
    }
    return render(request, "web/ticket_detail.html", context, status=status)


@login_required
def ticket_message_partial(request: HttpRequest, ticket_id: int, message_id: int) -> HttpResponse:
    """One message, rendered as on the ticket page: what the live view appends."""
    user = staff_user(request)
    ticket = visible_ticket(user, ticket_id)
    message = next(
        (
            m
            for m in selectors.ticket_timeline(
                ticket, include_internal=permissions.can_see_internal(user)
            )
            if m.pk == message_id
        ),
        None,
    )
    if message is None:
        raise Http404("No such message")
    return render(request, "web/ticket/_message.html", {"m": message, "ticket": ticket})


def _collision(ticket: Ticket, user: User, seen_message_id: str) -> str:
    """Someone else wrote to the customer (or the customer wrote) since this agent's page
    showed the conversation: say who, so they can read it before sending."""
    try:
        seen = int(seen_message_id)
    except (TypeError, ValueError):
        return ""
    newer = (
        ticket.messages.filter(pk__gt=seen, visibility="public")
        .exclude(author_user=user)
        .select_related("author_user", "author_customer")[:20]
    )
    names = sorted(
        {
            m.author_user.label
            if m.author_user
            else str(m.author_customer or ticket.requester)
            if m.author_type == "customer"
            else m.get_author_type_display()
            for m in newer
        }
    )
    if not names:
        return ""
    return f"{', '.join(names)} wrote on this ticket while you were writing."


@login_required
@require_POST
def ticket_message_post(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = staff_user(request)
    ticket = visible_ticket(user, ticket_id)
    visibility = "internal" if request.POST.get("visibility") == "internal" else "public"
    allowed = (
        permissions.can_add_note(user, ticket)
        if visibility == "internal"
        else permissions.can_reply_publicly(user, ticket)
    )
    if not allowed:
        raise DjangoPermissionDenied("You may not write here.")
    if visibility == "public" and not request.POST.get("confirm_collision"):
        collision = _collision(ticket, user, request.POST.get("seen_message_id", ""))
        if collision:
            return _ticket_page(
                request,
                user,
                ticket,
                status=409,
                collision=collision,
                draft=request.POST.get("text", ""),
                draft_visibility=visibility,
            )
    uploads = [
        services.AttachmentInput(
            filename=f.name or "file", content=f.read(), content_type=f.content_type or ""
        )
        for f in request.FILES.getlist("attachments")
    ]
    try:
        services.attachments_validate(uploads)
        services.message_add(
            ticket=ticket,
            actor=Actor.for_user(user),
            text=request.POST.get("text", ""),
            visibility=visibility,
            attachments=uploads,
        )
        new_status = request.POST.get("status")
        if (
            new_status
            and new_status != ticket.status
            and permissions.can_update_ticket(user, ticket)
        ):
            services.ticket_update(ticket=ticket, actor=Actor.for_user(user), status=new_status)
    except DomainError as exc:
        messages.error(request, _describe(exc))
    return redirect("web:ticket_detail", ticket_id=ticket.pk)


@login_required
@require_POST
def ticket_update_post(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = staff_user(request)
    ticket = visible_ticket(user, ticket_id)
    if not permissions.can_update_ticket(user, ticket):
        raise DjangoPermissionDenied("You may not change this ticket.")
    post = request.POST
    changes: dict[str, Any] = {}
    for field in ("status", "priority", "type"):
        if post.get(field):
            changes[field] = post[field]
    if "assignee" in post:
        changes["assignee"] = (
            User.objects.filter(pk=post["assignee"]).first() if post["assignee"] else None
        )
    if "team" in post:
        changes["team"] = Team.objects.filter(pk=post["team"]).first() if post["team"] else None
    if "tags" in post:
        changes["tags"] = [t for t in post["tags"].replace(";", ",").split(",") if t.strip()]
    try:
        services.ticket_update(ticket=ticket, actor=Actor.for_user(user), **changes)
        messages.success(request, "Ticket updated.")
    except DomainError as exc:
        messages.error(request, _describe(exc))
    return redirect("web:ticket_detail", ticket_id=ticket.pk)


def _describe(exc: DomainError) -> str:
    details = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.fields.items())
    return f"{exc.message} {details}".strip()


INLINE_SAFE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


@login_required
def attachment_download(request: HttpRequest, attachment_id: int, filename: str) -> FileResponse:
    """Attachments are only served through the ticket permission layer, never as public media."""
    user: User = request.user  # type: ignore[assignment]
    attachment = (
        Attachment.objects.select_related("message", "message__ticket")
        .filter(pk=attachment_id, status="stored")
        .first()
    )
    if attachment is None or not attachment.file:
        raise Http404("No such attachment")
    message = attachment.message
    if message.is_internal and not permissions.can_see_internal(user):
        raise Http404("No such attachment")
    if not permissions.can_view_ticket(user, message.ticket):
        raise Http404("No such attachment")
    inline = attachment.content_type in INLINE_SAFE_TYPES
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not inline,
        filename=attachment.filename,
        content_type=attachment.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
