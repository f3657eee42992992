"""API tokens (hashed, shown once, scoped, revocable) and the account commands."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from frontline.accounts.models import ApiToken, Role, User
from frontline.accounts.services import (
    agent_presence_set,
    agent_profile_update,
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
)
from frontline.core.errors import ValidationFailed
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_token_is_stored_hashed_and_works_until_revoked():
    user = UserFactory()
    issued = api_token_create(user=user, name="zapier", scope="write")
    stored = ApiToken.objects.get(pk=issued.token.pk)
    assert stored.key_hash == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert issued.secret not in (stored.key_hash, stored.prefix)
    assert issued.secret.startswith(stored.prefix)
    found = api_token_authenticate(issued.secret)
    assert found is not None and found.user == user
    assert ApiToken.objects.get(pk=stored.pk).last_used_at is not None
    api_token_revoke(token_id=stored.pk, user=user)
    assert api_token_authenticate(issued.secret) is None
    assert api_token_authenticate("flt_not-a-real-token") is None
    assert api_token_authenticate("garbage") is None


def test_inactive_users_tokens_stop_working():
    user = UserFactory()
    issued = api_token_create(user=user, name="t")
    user.is_active = False
    user.save()
    assert api_token_authenticate(issued.secret) is None


def test_createadmin_and_token_create_commands():
    out = io.StringIO()
    call_command(
        "createadmin", username="boss", email="Boss@Example.com", password="s3cret-pass", stdout=out
    )
    admin = User.objects.get(username="boss")
    assert admin.role == Role.ADMIN and admin.is_superuser and admin.check_password("s3cret-pass")
    out = io.StringIO()
    call_command("token", "create", user="boss", name="ci", scope="write", stdout=out)
    secret = out.getvalue().strip().splitlines()[-1]
    token = api_token_authenticate(secret)
    assert token is not None and token.scope == "write"
    response = Client().get("/api/users", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    # running createadmin again resets the password instead of failing
    call_command(
        "createadmin", username="boss", email="b@x.com", password="another-pass", stdout=out
    )
    assert User.objects.get(username="boss").check_password("another-pass")
    with pytest.raises(CommandError):
        call_command("token", "create", user="nobody", name="x")
    with pytest.raises(CommandError):
        call_command("createadmin", username="x", email="x@x.com", password="short")


def test_agent_profile_skills_languages_capacity_presence():
    agent = UserFactory(role=Role.AGENT)
    profile = agent_profile_update(
        user=agent,
        languages=["EN", "es", "es"],
        capacity={"chat": 3, "email": 10},
        skills={"Billing": 4, "returns": 2},
    )
    assert profile.languages == ["en", "es"]
    assert {(s.skill.name, s.level) for s in profile.skills.all()} == {
        ("billing", 4),
        ("returns", 2),
    }
    with pytest.raises(ValidationFailed):
        agent_profile_update(user=agent, skills={"billing": 6})
    with pytest.raises(ValidationFailed):
        agent_profile_update(user=agent, capacity={"chat": -1})
    assert agent_presence_set(user=agent, presence="online").presence == "online"
    with pytest.raises(ValidationFailed):
        agent_presence_set(user=agent, presence="sleeping")
