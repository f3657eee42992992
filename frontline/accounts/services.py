"""Writes for accounts: users, teams, agent profiles, presence and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from frontline.accounts.models import (
    STAFF_ROLES,
    AgentProfile,
    AgentSkill,
    ApiToken,
    Notification,
    NotificationKind,
    Presence,
    Role,
    Skill,
    Team,
    TokenScope,
    User,
)
from frontline.core.bus import Event, publish
from frontline.core.errors import Conflict, NotFound, ValidationFailed

TOKEN_PREFIX = "flt_"  # noqa: S105 (a public marker, not a secret)
# last_used_at is written at most this often, so a busy integration costs no extra writes.
TOKEN_LAST_USED_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def user_create(
    *,
    username: str,
    email: str = "",
    password: str | None = None,
    role: str = Role.AGENT,
    display_name: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    if role not in Role.values:
        raise ValidationFailed("Unknown role.", fields={"role": [f"must be one of {Role.values}"]})
    if not username.strip():
        raise ValidationFailed("Username is required.", fields={"username": ["required"]})
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict("That username is taken.", fields={"username": ["already exists"]})
    user = User(
        username=username,
        email=email.strip().lower(),
        role=role,
        display_name=display_name,
        first_name=first_name,
        last_name=last_name,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    if role in STAFF_ROLES:
        AgentProfile.objects.create(user=user)
    publish(Event(name="user.created", data={"user_id": user.pk, "role": role}))
    return user


@transaction.atomic
def user_update(*, user: User, **changes: object) -> User:
    allowed = {"email", "role", "display_name", "first_name", "last_name", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed("Unknown fields.", fields={f: ["unknown field"] for f in unknown})
    if "role" in changes and changes["role"] not in Role.values:
        raise ValidationFailed("Unknown role.", fields={"role": [f"must be one of {Role.values}"]})
    for name, value in changes.items():
        setattr(user, name, value)
    if "role" in changes:
        user.is_staff = user.is_superuser = user.role == Role.ADMIN
        if user.role in STAFF_ROLES:
            AgentProfile.objects.get_or_create(user=user)
    user.save()
    return user


@transaction.atomic
def team_create(*, name: str, description: str = "", members: list[User] | None = None) -> Team:
    slug = slugify(name)
    if not slug:
        raise ValidationFailed("Team name is required.", fields={"name": ["required"]})
    if Team.objects.filter(slug=slug).exists():
        raise Conflict("A team with that name exists.", fields={"name": ["already exists"]})
    team = Team.objects.create(name=name, slug=slug, description=description)
    if members:
        team.members.set(members)
    return team


@transaction.atomic
def team_update(
    *, team: Team, description: str | None = None, members: list[User] | None = None
) -> Team:
    """Change what is given (None leaves it alone)."""
    if description is not None and description != team.description:
        team.description = description
        team.save(update_fields=["description", "updated_at"])
    if members is not None:
        team.members.set(members)
    return team


@transaction.atomic
def agent_profile_update(
    *,
    user: User,
    languages: list[str] | None = None,
    capacity: dict[str, int] | None = None,
    skills: dict[str, int] | None = None,
) -> AgentProfile:
    profile, _ = AgentProfile.objects.get_or_create(user=user)
    if languages is not None:
        profile.languages = sorted({lang.strip().lower() for lang in languages if lang.strip()})
    if capacity is not None:
        if any((not isinstance(v, int)) or v < 0 for v in capacity.values()):
            raise ValidationFailed(
                "Capacity must be whole numbers >= 0.", fields={"capacity": ["invalid"]}
            )
        profile.capacity = capacity
    profile.save()
    if skills is not None:
        bad = {name: level for name, level in skills.items() if not 1 <= int(level) <= 5}
        if bad:
            raise ValidationFailed(
                "Skill levels go from 1 to 5.",
                fields={"skills": [f"{k}: {v}" for k, v in bad.items()]},
            )
        profile.skills.all().delete()
        for name, level in skills.items():
            skill, _ = Skill.objects.get_or_create(name=name.strip().lower())
            AgentSkill.objects.create(profile=profile, skill=skill, level=int(level))
    return profile


@transaction.atomic
def agent_presence_set(*, user: User, presence: str) -> AgentProfile:
    if presence not in Presence.values:
        raise ValidationFailed("Unknown presence.", fields={"presence": [str(Presence.values)]})
    profile, _ = AgentProfile.objects.select_for_update().get_or_create(user=user)
    if profile.presence != presence:
        old = profile.presence
        profile.presence = presence
        profile.presence_changed_at = timezone.now()
        profile.save(update_fields=["presence", "presence_changed_at", "updated_at"])
        publish(
            Event(
                name="agent.presence_changed",
                actor=f"user:{user.pk}",
                data={"user_id": user.pk, "old": old, "new": presence},
            )
        )
    return profile


def _hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once, never stored


def api_token_create(*, user: User, name: str, scope: str = TokenScope.READ) -> IssuedToken:
    if scope not in TokenScope.values:
        raise ValidationFailed("Unknown scope.", fields={"scope": [str(TokenScope.values)]})
    if not name.strip():
        raise ValidationFailed("A token needs a name.", fields={"name": ["required"]})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        key_hash=_hash_token(secret),
        scope=scope,
    )
    return IssuedToken(token=token, secret=secret)


def api_token_authenticate(secret: str) -> ApiToken | None:
    """The active token for `secret`, or None. Marks it used (coarsely)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash_token(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_token_revoke(*, token_id: int, user: User | None = None) -> ApiToken:
    qs = ApiToken.objects.all() if user is None else ApiToken.objects.filter(user=user)
    token = qs.filter(pk=token_id).first()
    if token is None:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


NOTIFICATION_TEXT_MAX = 500


def _notification_publish(notification: Notification) -> None:
    publish(
        Event(
            name="notification.created",
            actor=notification.actor_label or "system",
            ticket_id=notification.ticket_id,
            data={
                "notification_id": notification.pk,
                "user_id": notification.user_id,
                "kind": notification.kind,
                "text": notification.text,
            },
        )
    )


def _notification_check(kind: str, text: str) -> str:
    if kind not in NotificationKind.values:
        raise ValidationFailed(
            "Unknown notification kind.", fields={"kind": [str(NotificationKind.values)]}
        )
    clean = " ".join(text.split())
    if not clean:
        raise ValidationFailed("A notification needs text.", fields={"text": ["required"]})
    if len(clean) > NOTIFICATION_TEXT_MAX:
        clean = clean[: NOTIFICATION_TEXT_MAX - 1] + "…"
    return clean


@transaction.atomic
def notification_create(
    *,
    user: User,
    kind: str,
    text: str,
    ticket_id: int | None = None,
    actor_label: str = "",
) -> Notification:
    """One notification; `notification.created` lets the realtime layer push it."""
    notification = Notification.objects.create(
        user=user,
        kind=kind,
        ticket_id=ticket_id,
        text=_notification_check(kind, text),
        actor_label=actor_label[:100],
    )
    _notification_publish(notification)
    return notification


@transaction.atomic
def notifications_create_many(
    *,
    users: Sequence[User],
    kind: str,
    text: str,
    ticket_id: int | None = None,
    actor_label: str = "",
) -> list[Notification]:
    """The same notification for several people: one insert (SQLite and PostgreSQL both
    return the ids), then one event each, since each goes to a different person."""
    clean = _notification_check(kind, text)
    created = Notification.objects.bulk_create(
        Notification(
            user=user, kind=kind, ticket_id=ticket_id, text=clean, actor_label=actor_label[:100]
        )
        for user in users
    )
    for notification in created:
        _notification_publish(notification)
    return created


@transaction.atomic
def notifications_mark_read(*, user: User, ids: Iterable[int] | Literal["all"]) -> int:
    """Mark the user's own notifications read (others' ids are ignored). Returns how many
    changed; marking twice changes nothing."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids != "all":
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
