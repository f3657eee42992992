"""Reads for accounts: resolving teams and agents named by id, slug or username; a user's
notifications."""

from __future__ import annotations

from frontline.accounts.models import Notification, Role, Team, User
from frontline.core.errors import ValidationFailed

AGENT_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)


def team_resolve(value: Team | int | str, *, field: str = "team") -> Team:
    if isinstance(value, Team):
        return value
    query = (
        Team.objects.filter(pk=value) if isinstance(value, int) else Team.objects.filter(slug=value)
    )
    found = query.first()
    if found is None:
        raise ValidationFailed("No such team.", fields={field: ["not found"]})
    return found


def agent_resolve(value: User | int | str, *, field: str = "assignee") -> User:
    if isinstance(value, User):
        found: User | None = value
    elif isinstance(value, int):
        found = User.objects.filter(pk=value, is_active=True).first()
    else:
        found = User.objects.filter(username=value, is_active=True).first()
    if found is None or found.role not in AGENT_ROLES:
        raise ValidationFailed("Tickets are assigned to agents.", fields={field: ["not an agent"]})
    return found


def notifications_unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_recent(
    user: User, *, limit: int = 20, unread_only: bool = False
) -> list[Notification]:
    """Newest first; only the user's own."""
    qs = Notification.objects.filter(user=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return list(qs.order_by("-created_at", "-id")[: max(1, min(limit, 100))])
