"""Users and teams over the REST API (admins only) and the caller's own tokens."""

from __future__ import annotations

import pytest

from frontline.accounts.models import AgentProfile, AgentSkill, ApiToken, Role, Team, User
from frontline.accounts.services import api_token_create
from tests.factories import TeamFactory, UserFactory, customer_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(api_for, admin_user):
    return api_for(admin_user)


def test_admin_creates_an_agent_with_profile_and_teams(admin_api):
    first, second = TeamFactory(name="Billing"), TeamFactory(name="Shipping")
    response = admin_api.post(
        "/api/users",
        {
            "username": "maria",
            "email": " Maria@Example.COM ",
            "password": "s3cret-enough",
            "role": "agent",
            "display_name": "Maria S.",
            "team_ids": [first.pk, second.pk],
            "languages": ["EN", "es", "es", " "],
            "skills": {"Billing": 5, "returns": 1},
            "capacity": {"chat": 3, "email": 10},
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["username"] == "maria"
    assert data["email"] == "maria@example.com"
    assert (data["role"], data["display_name"], data["is_active"]) == ("agent", "Maria S.", True)
    assert sorted(data["team_ids"]) == sorted([first.pk, second.pk])
    assert data["languages"] == ["en", "es"]
    assert sorted((s["name"], s["level"]) for s in data["skills"]) == [
        ("billing", 5),
        ("returns", 1),
    ]
    assert data["capacity"] == {"chat": 3, "email": 10}
    assert data["presence"] == "offline"
    assert "password" not in data

    user = User.objects.get(username="maria")
    assert user.check_password("s3cret-enough")
    assert not user.is_staff
    assert admin_api.get(f"/api/users/{user.pk}").json() == data
    assert user.pk in [u["id"] for u in admin_api.get("/api/users").json()]


@pytest.mark.parametrize("role", ["admin", "supervisor", "agent", "light_agent", "customer"])
def test_admin_creates_every_role(admin_api, role):
    response = admin_api.post("/api/users", {"username": f"new-{role}", "role": role})
    assert response.status_code == 201, response.content
    assert response.json()["role"] == role
    user = User.objects.get(username=f"new-{role}")
    assert user.is_staff is (role == "admin")
    assert AgentProfile.objects.filter(user=user).exists() is (role != "customer")
    assert not user.has_usable_password()  # no password given: token or reset only


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"skills": {"billing": 6}}, 422, "skills"),
        ({"skills": {"billing": 0}}, 422, "skills"),
        ({"skills": {"billing": "expert"}}, 422, "skills.billing"),
        ({"capacity": {"chat": -1}}, 422, "capacity"),
        ({"role": "overlord"}, 422, "role"),
        ({"password": "short"}, 422, "password"),
        ({"team_ids": [999_999]}, 422, "team_ids"),
        ({"username": ""}, 422, "username"),
        ({"languages": "en"}, 422, "languages"),
    ],
)
def test_create_refuses_bad_input_and_leaves_no_user(admin_api, body, status, field):
    response = admin_api.post("/api/users", {"username": "half", "role": "agent", **body})
    assert response.status_code == status, response.content
    assert field in response.json()["error"]["fields"]
    assert not User.objects.filter(username="half").exists()
    assert AgentSkill.objects.count() == 0
    # nothing was half-made: the same request, fixed, succeeds
    fixed = admin_api.post("/api/users", {"username": "half", "role": "agent"})
    assert fixed.status_code == 201


def test_skill_levels_one_to_five_are_accepted(admin_api):
    skills = {f"skill{level}": level for level in range(1, 6)}
    response = admin_api.post("/api/users", {"username": "skilled", "skills": skills})
    assert response.status_code == 201, response.content
    assert {s["name"]: s["level"] for s in response.json()["skills"]} == skills


def test_username_is_unique_case_insensitively(admin_api):
    assert admin_api.post("/api/users", {"username": "Zoe"}).status_code == 201
    response = admin_api.post("/api/users", {"username": "zoe"})
    assert response.status_code == 409
    assert response.json()["error"]["fields"] == {"username": ["already exists"]}


def test_admin_updates_a_user(admin_api, api_for):
    team = TeamFactory()
    user = UserFactory(role=Role.AGENT)
    url = f"/api/users/{user.pk}"
    response = admin_api.patch(
        url,
        {
            "role": "supervisor",
            "display_name": "Sam",
            "team_ids": [team.pk],
            "skills": {"vip": 4},
            "languages": ["fr"],
            "capacity": {"chat": 2},
        },
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["role"], data["display_name"], data["team_ids"]) == (
        "supervisor",
        "Sam",
        [team.pk],
    )
    assert data["skills"] == [{"name": "vip", "level": 4}]
    assert (data["languages"], data["capacity"]) == (["fr"], {"chat": 2})

    # skills are replaced, not merged; team_ids [] leaves every team
    data = admin_api.patch(url, {"skills": {"billing": 2}, "team_ids": []}).json()
    assert data["skills"] == [{"name": "billing", "level": 2}]
    assert data["team_ids"] == []
    assert data["role"] == "supervisor"  # unset fields stay

    # a bad skill level changes nothing at all
    refused = admin_api.patch(url, {"display_name": "Changed", "skills": {"billing": 6}})
    assert refused.status_code == 422
    user.refresh_from_db()
    assert user.display_name == "Sam"
    assert admin_api.get(url).json()["skills"] == [{"name": "billing", "level": 2}]

    # deactivating stops the user's token
    client = api_for(user)
    assert client.get("/api/tickets").status_code == 200
    assert admin_api.patch(url, {"is_active": False}).json()["is_active"] is False
    assert client.get("/api/tickets").status_code == 401

    assert admin_api.patch("/api/users/999999", {"display_name": "x"}).status_code == 404
    assert admin_api.get("/api/users/999999").status_code == 404


def test_promoting_to_admin_makes_staff(admin_api):
    user = UserFactory(role=Role.AGENT)
    assert admin_api.patch(f"/api/users/{user.pk}", {"role": "admin"}).status_code == 200
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser) == (True, True)


def test_teams_create_list_update(admin_api):
    a, b = UserFactory(), UserFactory()
    response = admin_api.post(
        "/api/teams", {"name": "Tier 2 Support", "description": "Escalations", "member_ids": [a.pk]}
    )
    assert response.status_code == 201, response.content
    team = response.json()
    assert (team["name"], team["slug"], team["description"]) == (
        "Tier 2 Support",
        "tier-2-support",
        "Escalations",
    )
    assert team["member_ids"] == [a.pk]

    duplicate = admin_api.post("/api/teams", {"name": "Tier 2 support"})
    assert duplicate.status_code == 409
    assert admin_api.post("/api/teams", {"name": ""}).status_code == 422
    assert admin_api.post("/api/teams", {"name": "!!!"}).status_code == 422
    unknown_member = admin_api.post("/api/teams", {"name": "Ghosts", "member_ids": [999_999]})
    assert unknown_member.status_code == 422
    assert "member_ids" in unknown_member.json()["error"]["fields"]
    assert not Team.objects.filter(name="Ghosts").exists()

    updated = admin_api.patch(
        f"/api/teams/{team['id']}", {"member_ids": [b.pk, a.pk], "description": "L2"}
    )
    assert updated.status_code == 200, updated.content
    assert sorted(updated.json()["member_ids"]) == sorted([a.pk, b.pk])
    assert updated.json()["description"] == "L2"
    refused = admin_api.patch(f"/api/teams/{team['id']}", {"member_ids": [999_999]})
    assert refused.status_code == 422
    assert sorted(Team.objects.get(pk=team["id"]).members.values_list("pk", flat=True)) == sorted(
        [a.pk, b.pk]
    )

    listed = admin_api.get("/api/teams").json()
    assert [t["name"] for t in listed] == ["Tier 2 Support"]
    assert admin_api.patch("/api/teams/999999", {"description": "x"}).status_code == 404


@pytest.mark.parametrize("role", ["supervisor", "agent", "light_agent", "customer"])
def test_non_admins_are_refused_everywhere(api_for, role):
    user = customer_user() if role == "customer" else UserFactory(role=role)
    team = TeamFactory()
    client = api_for(user)
    attempts = [
        client.get("/api/users"),
        client.get(f"/api/users/{user.pk}"),
        client.post("/api/users", {"username": "sneaky", "role": "admin"}),
        client.patch(f"/api/users/{user.pk}", {"role": "admin"}),
        client.get("/api/teams"),
        client.post("/api/teams", {"name": "Mine"}),
        client.patch(f"/api/teams/{team.pk}", {"member_ids": [user.pk]}),
    ]
    for response in attempts:
        assert response.status_code == 403, response.content
        assert response.json()["error"]["code"] == "permission_denied"
    user.refresh_from_db()
    assert user.role == role
    assert not User.objects.filter(username="sneaky").exists()
    assert not team.members.exists()


def test_tokens_list_and_revoke_only_your_own(api_for, agent, admin_user):
    client = api_for(agent)
    spare = api_token_create(user=agent, name="CI", scope="read")
    someone_elses = api_token_create(user=admin_user, name="admin's")

    listed = client.get("/api/tokens")
    assert listed.status_code == 200
    assert sorted(t["name"] for t in listed.json()) == ["CI", "tests"]
    assert all(
        not t["prefix"].endswith("…") and t["prefix"].startswith("flt_") for t in listed.json()
    )
    assert "key_hash" not in listed.content.decode()
    assert spare.secret not in listed.content.decode()

    assert client.delete(f"/api/tokens/{someone_elses.token.pk}").status_code == 404
    assert ApiToken.objects.get(pk=someone_elses.token.pk).revoked_at is None

    assert client.delete(f"/api/tokens/{spare.token.pk}").status_code == 204
    assert ApiToken.objects.get(pk=spare.token.pk).revoked_at is not None
    revoked_client = api_for(agent)
    revoked_client.token = spare.secret
    assert revoked_client.get("/api/tokens").status_code == 401
