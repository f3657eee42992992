"""The one permission layer for tickets, used by the web UI, the API and (later) websockets.

- admin, supervisor: every ticket.
- agent: tickets of their teams, tickets without a team, tickets assigned to them or that
  they collaborate on; every ticket if AGENTS_SEE_ALL_TICKETS is on.
- light agent: only tickets they were invited to (collaborator, e.g. by an @mention or a side
  conversation); may read, add internal notes, track time and use side conversations,
  nothing else.
- customer: only tickets they requested, plus their organisation's when it shares tickets.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet

from frontline.accounts.models import Role, User
from frontline.tickets.models import Ticket, TimeEntry


def ticket_visibility_q(user: User) -> Q | None:
    """A filter for the tickets `user` may see; None means all of them."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    role = user.role
    if role in (Role.ADMIN, Role.SUPERVISOR):
        return None
    if role == Role.AGENT:
        if settings.AGENTS_SEE_ALL_TICKETS:
            return None
        team_ids = list(user.teams.values_list("pk", flat=True))
        return (
            Q(team__isnull=True)
            | Q(team_id__in=team_ids)
            | Q(assignee_id=user.pk)
            | Q(
                pk__in=Ticket.collaborators.through.objects.filter(user_id=user.pk).values(
                    "ticket_id"
                )
            )
        )
    if role == Role.LIGHT_AGENT:
        return Q(
            pk__in=Ticket.collaborators.through.objects.filter(user_id=user.pk).values("ticket_id")
        )
    if role == Role.CUSTOMER:
        customer = getattr(user, "customer", None)
        if customer is None:
            return Q(pk__in=[])
        shared_orgs = customer.memberships.filter(organisation__shared_tickets=True).values(
            "organisation_id"
        )
        return Q(requester_id=customer.pk) | Q(
            requester__memberships__organisation_id__in=shared_orgs
        )
    return Q(pk__in=[])


def tickets_visible_to(user: User, qs: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    qs = Ticket.objects.all() if qs is None else qs
    q = ticket_visibility_q(user)
    if q is None:
        return qs
    result = qs.filter(q)
    if user.role == Role.CUSTOMER:
        result = result.distinct()
    return result


def can_view_ticket(user: User, ticket: Ticket) -> bool:
    return tickets_visible_to(user, Ticket.objects.filter(pk=ticket.pk)).exists()


def can_update_ticket(user: User, ticket: Ticket) -> bool:
    """Change status, priority, assignee, tags, fields: staff other than light agents."""
    return user.role in (Role.ADMIN, Role.SUPERVISOR, Role.AGENT) and can_view_ticket(user, ticket)


def can_reply_publicly(user: User, ticket: Ticket) -> bool:
    if user.role == Role.CUSTOMER:
        return can_view_ticket(user, ticket)
    return can_update_ticket(user, ticket)


def can_add_note(user: User, ticket: Ticket) -> bool:
    return user.role in (
        Role.ADMIN,
        Role.SUPERVISOR,
        Role.AGENT,
        Role.LIGHT_AGENT,
    ) and can_view_ticket(user, ticket)


def can_see_internal(user: User) -> bool:
    return user.role != Role.CUSTOMER


def is_staff_agent(user: User) -> bool:
    """Admins, supervisors and agents: may create tickets and manage customers."""
    return user.is_authenticated and user.role in (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)


def is_admin(user: User) -> bool:
    return user.is_authenticated and user.role == Role.ADMIN


def can_track_time(user: User, ticket: Ticket) -> bool:
    """Whoever works on the ticket, light agents included."""
    return can_add_note(user, ticket)


def can_delete_time_entry(user: User, entry: TimeEntry) -> bool:
    if user.role in (Role.ADMIN, Role.SUPERVISOR):
        return True
    return user.role in (Role.AGENT, Role.LIGHT_AGENT) and entry.user_id == user.pk


def can_use_side_conversations(user: User, ticket: Ticket) -> bool:
    """Read, start, post in and close them: staff who can see the ticket (never customers)."""
    return can_add_note(user, ticket)


def can_manage_canned(user: User, *, owner_id: int | None) -> bool:
    """Personal responses: their owner. Shared and team ones: supervisors and admins."""
    if owner_id is not None:
        return (
            user.is_authenticated
            and user.pk == owner_id
            and user.role
            in (
                Role.ADMIN,
                Role.SUPERVISOR,
                Role.AGENT,
                Role.LIGHT_AGENT,
            )
        )
    return user.is_authenticated and user.role in (Role.ADMIN, Role.SUPERVISOR)


def can_manage_custom_fields(user: User) -> bool:
    return is_admin(user)
