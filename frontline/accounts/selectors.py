"""Reads for accounts: resolving teams and agents named by id, slug or username."""

from __future__ import annotations

from frontline.accounts.models import Role, Team, User
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
