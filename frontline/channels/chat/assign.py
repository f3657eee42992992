"""Simple chat assignment until the routing engine arrives: a new chat goes to the online agent
of its team with the fewest active chats, below their chat capacity (default 3)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q

from frontline.core.bus import Event

DEFAULT_CHAT_CAPACITY = 3


def chat_agent_pick(team_id: int | None) -> int | None:
    from frontline.accounts.models import AgentProfile, Presence, Role
    from frontline.tickets.lifecycle import ACTIVE

    profiles = AgentProfile.objects.filter(
        presence=Presence.ONLINE,
        user__is_active=True,
        user__role__in=[Role.AGENT, Role.SUPERVISOR, Role.ADMIN],
    )
    if team_id:
        profiles = profiles.filter(user__teams__id=team_id)
    rows = profiles.annotate(
        load=Count(
            "user__assigned_tickets",
            filter=Q(
                user__assigned_tickets__channel="chat",
                user__assigned_tickets__status__in=[s.value for s in ACTIVE],
            ),
        )
    ).order_by("presence_changed_at", "user_id")
    best: tuple[int, int] | None = None
    for profile in rows:
        capacity = int((profile.capacity or {}).get("chat", DEFAULT_CHAT_CAPACITY))
        if profile.load < capacity and (best is None or profile.load < best[0]):
            best = (profile.load, profile.user_id)
    return best[1] if best else None


def on_chat_ticket_created(event: Event) -> None:
    """Subscriber of ticket.created; idempotent (an assigned ticket is left alone)."""
    if event.data.get("channel") != "chat" or event.data.get("assignee_id") or not event.ticket_id:
        return
    from frontline.accounts.models import User
    from frontline.tickets.models import Ticket
    from frontline.tickets.services import ticket_update

    agent_id = chat_agent_pick(event.data.get("team_id"))
    if agent_id is None:
        return
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().filter(pk=event.ticket_id).first()
        if ticket is None or ticket.assignee_id is not None:
            return
        ticket_update(ticket=ticket, assignee=User.objects.get(pk=agent_id))
