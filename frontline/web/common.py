"""What every workspace view shares: who counts as staff, and which tickets they may open."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest

from frontline.accounts.models import Role, User
from frontline.tickets import permissions
from frontline.tickets.models import Ticket

STAFF = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.LIGHT_AGENT)


def staff_user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if user.role not in STAFF:
        raise DjangoPermissionDenied("The agent workspace is for staff.")
    return user


def visible_ticket(user: User, ticket_id: int) -> Ticket:
    ticket = (
        permissions.tickets_visible_to(user, Ticket.objects.filter(pk=ticket_id))
        .select_related("requester", "assignee", "team", "followup_of")
        .prefetch_related("tags", "collaborators")
        .first()
    )
    if ticket is None:
        raise Http404("No such ticket")
    return ticket
