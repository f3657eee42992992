"""Role checks for API endpoints, on top of the ticket permission layer."""

from __future__ import annotations

from django.http import HttpRequest

from frontline.accounts.models import Role, User
from frontline.core.errors import PermissionDenied


def request_user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def require_roles(request: HttpRequest, *roles: str) -> User:
    user = request_user(request)
    if user.role not in roles:
        raise PermissionDenied("Your role may not do this.")
    return user


def require_admin(request: HttpRequest) -> User:
    return require_roles(request, Role.ADMIN)


def require_agent(request: HttpRequest) -> User:
    """Admins, supervisors and agents (not light agents, not customers)."""
    return require_roles(request, Role.ADMIN, Role.SUPERVISOR, Role.AGENT)
