"""Writes for the agent workspace: saved views, and bulk changes to tickets from the queue.

Bulk changes go ticket by ticket through `tickets.services.ticket_update` (each in its own
transaction), so every rule, timeline entry and event of a single change applies, and one
refusal (a closed ticket, an illegal status move) does not stop the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max

from frontline.accounts.models import Role, Team, User
from frontline.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from frontline.tickets import permissions
from frontline.tickets.actors import Actor
from frontline.tickets.lifecycle import Status
from frontline.tickets.models import Ticket
from frontline.tickets.services import ticket_update
from frontline.web.models import SavedView
from frontline.web.selectors import AGENT_ROLES, filters_clean, sort_clean

SHARED_VIEW_ROLES = (Role.ADMIN, Role.SUPERVISOR)
BULK_MAX = 200


def can_share_views(user: User) -> bool:
    return user.role in SHARED_VIEW_ROLES


@transaction.atomic
def saved_view_create(
    *, user: User, name: str, filters: dict[str, Any], sort: str = "updated", shared: bool = False
) -> SavedView:
    """Save filters and a sort under a name: the user's own view, or shared with every agent
    (admins and supervisors only)."""
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed("A saved view needs a name.", fields={"name": ["required"]})
    if len(name) > 80:
        raise ValidationFailed("That name is too long.", fields={"name": ["at most 80 characters"]})
    if shared and not can_share_views(user):
        raise PermissionDenied("Only admins and supervisors share views.")
    owner = None if shared else user
    clean = filters_clean(filters, strict=True)
    sort = sort_clean(sort)
    siblings = SavedView.objects.filter(owner=owner)
    if siblings.filter(name__iexact=name).exists():
        raise ValidationFailed(
            "A view with that name exists already.", fields={"name": ["already taken"]}
        )
    last = siblings.aggregate(last=Max("position"))["last"]
    return SavedView.objects.create(
        name=name,
        owner=owner,
        filters=clean.as_json(),
        sort=sort,
        position=0 if last is None else last + 1,
    )


@transaction.atomic
def saved_view_delete(*, user: User, view_id: int) -> None:
    """Delete one of the user's views; shared views: admins and supervisors."""
    view = SavedView.objects.filter(pk=view_id).first()
    if view is None or (view.owner_id is not None and view.owner_id != user.pk):
        raise NotFound("No such saved view.")
    if view.owner_id is None and not can_share_views(user):
        raise PermissionDenied("Only admins and supervisors remove shared views.")
    view.delete()


# --------------------------------------------------------------------------- bulk actions


@dataclass
class BulkResult:
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class BulkChange:
    """What a bulk action sets. None: leave alone. `assignee`/`team` "none": clear it."""

    assignee: str | None = None
    status: str | None = None
    team: str | None = None
    add_tag: str | None = None

    @property
    def is_empty(self) -> bool:
        return all(v in (None, "") for v in (self.assignee, self.status, self.team, self.add_tag))


def _bulk_targets(change: BulkChange) -> dict[str, Any]:
    """The ticket_update keyword arguments a change stands for (validated once, not per row)."""
    changes: dict[str, Any] = {}
    if change.assignee:
        if change.assignee == "none":
            changes["assignee"] = None
        else:
            agent = (
                User.objects.filter(pk=change.assignee, role__in=AGENT_ROLES)
                .only("id", "username", "display_name", "first_name", "last_name", "role")
                .first()
                if change.assignee.isdigit()
                else None
            )
            if agent is None:
                raise ValidationFailed(
                    "Tickets are assigned to agents.", fields={"assignee": ["unknown agent"]}
                )
            changes["assignee"] = agent
    if change.status:
        if change.status not in [s.value for s in Status]:
            raise ValidationFailed("Unknown status.", fields={"status": ["unknown status"]})
        changes["status"] = change.status
    if change.team:
        if change.team == "none":
            changes["team"] = None
        else:
            team = Team.objects.filter(pk=change.team).first() if change.team.isdigit() else None
            if team is None:
                raise ValidationFailed("No such team.", fields={"team": ["unknown team"]})
            changes["team"] = team
    return changes


def tickets_bulk_update(*, user: User, ticket_ids: list[int], change: BulkChange) -> BulkResult:
    """Apply one change to many tickets, each through `ticket_update` with the user as actor.

    A ticket the user cannot see or change, or that refuses the change, is reported in
    `failed` with the reason; the others are updated.
    """
    if change.is_empty:
        raise ValidationFailed("Choose a change to apply.", fields={"action": ["required"]})
    ids = list(dict.fromkeys(ticket_ids))
    if not ids:
        raise ValidationFailed("Select at least one ticket.", fields={"ids": ["required"]})
    if len(ids) > BULK_MAX:
        raise ValidationFailed(
            f"At most {BULK_MAX} tickets at a time.", fields={"ids": ["too many"]}
        )
    targets = _bulk_targets(change)
    tag = " ".join((change.add_tag or "").split()).lower()[:64]
    actor = Actor.for_user(user)
    visible = {
        t.pk: t
        for t in permissions.tickets_visible_to(user, Ticket.objects.filter(pk__in=ids))
        .select_related("assignee", "team")
        .prefetch_related("tags")
    }
    result = BulkResult()
    for ticket_id in ids:
        ticket = visible.get(ticket_id)
        if ticket is None:
            result.failed.append((ticket_id, "not found"))
            continue
        if not permissions.can_update_ticket(user, ticket):
            result.failed.append((ticket_id, "you may not change this ticket"))
            continue
        changes = dict(targets)
        if tag:
            current = [t.name for t in ticket.tags.all()]
            if tag not in current:
                changes["tags"] = [*current, tag]
        before = ticket.updated_at
        try:
            with transaction.atomic():
                updated = ticket_update(ticket=ticket, actor=actor, **changes)
        except DomainError as error:
            result.failed.append((ticket_id, error.message))
            continue
        if changes and updated.updated_at != before:
            result.updated.append(ticket_id)
        else:
            result.unchanged.append(ticket_id)
    return result
