"""REST endpoints for users, teams and the caller's own API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from frontline.accounts import services
from frontline.accounts.models import ApiToken, Team, User
from frontline.api.permissions import request_user, require_admin
from frontline.core.errors import ValidationFailed

router = Router(tags=["users and teams"])


class SkillOut(Schema):
    name: str
    level: int


class UserOut(Schema):
    id: int
    username: str
    email: str
    role: str
    display_name: str
    is_active: bool
    team_ids: list[int]
    languages: list[str]
    skills: list[SkillOut]
    capacity: dict[str, int]
    presence: str | None

    @staticmethod
    def resolve_team_ids(obj: User) -> list[int]:
        return [t.pk for t in obj.teams.all()]

    @staticmethod
    def _profile(obj: User) -> Any:
        return getattr(obj, "agent_profile", None)

    @staticmethod
    def resolve_languages(obj: User) -> list[str]:
        profile = UserOut._profile(obj)
        return list(profile.languages) if profile else []

    @staticmethod
    def resolve_capacity(obj: User) -> dict[str, int]:
        profile = UserOut._profile(obj)
        return dict(profile.capacity) if profile else {}

    @staticmethod
    def resolve_presence(obj: User) -> str | None:
        profile = UserOut._profile(obj)
        return profile.presence if profile else None

    @staticmethod
    def resolve_skills(obj: User) -> list[dict[str, Any]]:
        profile = UserOut._profile(obj)
        if not profile:
            return []
        return [{"name": s.skill.name, "level": s.level} for s in profile.skills.all()]


class UserCreateIn(Schema):
    username: str = Field(..., min_length=1, max_length=150)
    email: str = Field("", max_length=254)
    password: str | None = Field(None, min_length=8)
    role: str = "agent"
    display_name: str = Field("", max_length=150)
    team_ids: list[int] = Field(default_factory=list)
    languages: list[str] | None = None
    skills: dict[str, int] | None = None
    capacity: dict[str, int] | None = None


class UserUpdateIn(Schema):
    email: str | None = Field(None, max_length=254)
    role: str | None = None
    display_name: str | None = Field(None, max_length=150)
    is_active: bool | None = None
    team_ids: list[int] | None = None
    languages: list[str] | None = None
    skills: dict[str, int] | None = None
    capacity: dict[str, int] | None = None


class TeamOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    member_ids: list[int]

    @staticmethod
    def resolve_member_ids(obj: Team) -> list[int]:
        return [u.pk for u in obj.members.all()]


class TeamIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    description: str = ""
    member_ids: list[int] = Field(default_factory=list)


class TeamUpdateIn(Schema):
    description: str | None = None
    member_ids: list[int] | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _users_qs() -> Any:
    return User.objects.select_related("agent_profile").prefetch_related(
        "teams", "agent_profile__skills__skill"
    )


def _teams_get(team_ids: list[int], field: str) -> list[Team]:
    teams = list(Team.objects.filter(pk__in=team_ids))
    missing = sorted(set(team_ids) - {t.pk for t in teams})
    if missing:
        raise ValidationFailed("No such team.", fields={field: [f"not found: {missing}"]})
    return teams


def _users_get(user_ids: list[int], field: str) -> list[User]:
    users = list(User.objects.filter(pk__in=user_ids))
    missing = sorted(set(user_ids) - {u.pk for u in users})
    if missing:
        raise ValidationFailed("No such user.", fields={field: [f"not found: {missing}"]})
    return users


def _set_profile(user: User, payload: Any) -> None:
    if payload.languages is not None or payload.skills is not None or payload.capacity is not None:
        services.agent_profile_update(
            user=user, languages=payload.languages, skills=payload.skills, capacity=payload.capacity
        )


@router.get("/users", response=list[UserOut], tags=["users and teams"])
def user_list(request: HttpRequest) -> list[User]:
    require_admin(request)
    return list(_users_qs().order_by("id"))


@router.post("/users", response={201: UserOut})
def user_create(request: HttpRequest, payload: UserCreateIn) -> Status[User]:
    require_admin(request)
    teams = _teams_get(payload.team_ids, "team_ids")
    # All or nothing: a bad skill level must not leave a half-made user (and a taken username).
    # (A block, not a decorator: ninja reads the view's annotations through its __globals__.)
    with transaction.atomic():
        user = services.user_create(
            username=payload.username,
            email=payload.email,
            password=payload.password,
            role=payload.role,
            display_name=payload.display_name,
        )
        if teams:
            user.teams.set(teams)
        _set_profile(user, payload)
    return Status(201, _users_qs().get(pk=user.pk))


@router.get("/users/{user_id}", response=UserOut)
def user_get(request: HttpRequest, user_id: int) -> User:
    require_admin(request)
    return get_object_or_404(_users_qs(), pk=user_id)


@router.patch("/users/{user_id}", response=UserOut)
def user_update(request: HttpRequest, user_id: int, payload: UserUpdateIn) -> User:
    require_admin(request)
    user = get_object_or_404(User, pk=user_id)
    fields = payload.model_dump(
        exclude_none=True, exclude={"team_ids", "languages", "skills", "capacity"}
    )
    teams = _teams_get(payload.team_ids, "team_ids") if payload.team_ids is not None else None
    with transaction.atomic():  # all of the change or none of it
        services.user_update(user=user, **fields)
        if teams is not None:
            user.teams.set(teams)
        _set_profile(user, payload)
    return _users_qs().get(pk=user.pk)


@router.get("/teams", response=list[TeamOut])
def team_list(request: HttpRequest) -> list[Team]:
    require_admin(request)
    return list(Team.objects.prefetch_related("members").order_by("name"))


@router.post("/teams", response={201: TeamOut})
def team_create(request: HttpRequest, payload: TeamIn) -> Status[Team]:
    require_admin(request)
    members = _users_get(payload.member_ids, "member_ids")
    return Status(
        201,
        services.team_create(name=payload.name, description=payload.description, members=members),
    )


@router.patch("/teams/{team_id}", response=TeamOut)
def team_update(request: HttpRequest, team_id: int, payload: TeamUpdateIn) -> Team:
    require_admin(request)
    team = get_object_or_404(Team, pk=team_id)
    members = (
        _users_get(payload.member_ids, "member_ids") if payload.member_ids is not None else None
    )
    return services.team_update(team=team, description=payload.description, members=members)


@router.get("/tokens", response=list[TokenOut], tags=["tokens"], summary="Your API tokens")
def token_list(request: HttpRequest) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=request_user(request)))


@router.delete("/tokens/{token_id}", response={204: None}, tags=["tokens"], summary="Revoke")
def token_revoke(request: HttpRequest, token_id: int) -> Status[None]:
    services.api_token_revoke(token_id=token_id, user=request_user(request))
    return Status(204, None)
