"""Canned responses: rendering, who sees which, who manages which."""

from __future__ import annotations

import pytest

from frontline.accounts.models import Role
from frontline.core.errors import PermissionDenied, ValidationFailed
from frontline.customers.models import Customer
from frontline.tickets.actors import Actor
from frontline.tickets.canned import canned_render
from frontline.tickets.models import CannedResponse, Ticket
from frontline.tickets.selectors import canned_responses_for
from frontline.tickets.services import (
    canned_response_create,
    canned_response_delete,
    canned_response_update,
)
from tests.factories import CannedResponseFactory, TeamFactory, UserFactory
from tests.tickets.conftest import events_named

pytestmark = pytest.mark.django_db


def test_render_fills_known_placeholders_only():
    agent = UserFactory.build(username="ana", display_name="Ana")
    ticket = Ticket(pk=1042, requester=Customer(name="Rui"))
    body = (
        "Hi {{requester.name}}, about #{{ ticket.id }}: {{agent.name}} here. "
        "{{ requester.__class__ }} {% load x %} {{unknown.thing}} {{ticket.id"
    )
    assert canned_render(body, ticket, agent) == (
        "Hi Rui, about #1042: Ana here. "
        "{{ requester.__class__ }} {% load x %} {{unknown.thing}} {{ticket.id"
    )


def test_render_does_not_reinterpret_substituted_text():
    agent = UserFactory.build(username="x", display_name="{{ticket.id}}")
    ticket = Ticket(pk=7, requester=Customer(name="{{agent.name}}"))
    assert canned_render("{{requester.name}} / {{agent.name}}", ticket, agent) == (
        "{{agent.name}} / {{ticket.id}}"
    )


def test_visibility_shared_team_personal(django_assert_max_num_queries):
    team, other_team = TeamFactory(), TeamFactory()
    me, colleague = UserFactory(), UserFactory()
    team.members.add(me)
    shared = CannedResponseFactory(title="Shared", shortcut="hello")
    mine_team = CannedResponseFactory(title="Team", team=team)
    CannedResponseFactory(title="Other team", team=other_team)
    personal = CannedResponseFactory(title="Personal", owner=me, body="refund steps")
    CannedResponseFactory(title="Theirs", owner=colleague)

    with django_assert_max_num_queries(1):
        found = canned_responses_for(me)
    assert found == [personal, shared, mine_team]
    assert canned_responses_for(me, "refund") == [personal]
    assert canned_responses_for(me, "HELLO") == [shared]
    assert canned_responses_for(me, "team") == [mine_team]


def test_agents_manage_their_own_supervisors_the_shared(agent, supervisor):
    mine = canned_response_create(
        actor=Actor.for_user(agent), title="Mine", body="x", owner=agent, shortcut="mine"
    )
    assert events_named("canned_response.created")[0].payload["owner_id"] == agent.pk
    with pytest.raises(PermissionDenied):
        canned_response_create(actor=Actor.for_user(agent), title="Shared", body="x")
    with pytest.raises(PermissionDenied):
        canned_response_create(actor=Actor.for_user(agent), title="x", body="x", team=TeamFactory())
    with pytest.raises(PermissionDenied):  # someone else's personal list
        canned_response_create(actor=Actor.for_user(supervisor), title="x", body="x", owner=agent)
    shared = canned_response_create(actor=Actor.for_user(supervisor), title="Shared", body="x")
    with pytest.raises(PermissionDenied):
        canned_response_update(canned=shared, actor=Actor.for_user(agent), title="y")
    with pytest.raises(PermissionDenied):
        canned_response_delete(canned=mine, actor=Actor.for_user(supervisor))
    updated = canned_response_update(canned=mine, actor=Actor.for_user(agent), body="new")
    assert (updated.title, updated.body) == ("Mine", "new")
    canned_response_delete(canned=mine, actor=Actor.for_user(agent))
    assert list(CannedResponse.objects.all()) == [shared]
    with pytest.raises(PermissionDenied):
        canned_response_create(
            actor=Actor.for_customer(Customer.objects.create(name="c")), title="x", body="x"
        )
    light = UserFactory(role=Role.LIGHT_AGENT)
    assert canned_response_create(actor=Actor.for_user(light), title="l", body="b", owner=light)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": " "}, "title"),
        ({"body": ""}, "body"),
        ({"shortcut": "two words"}, "shortcut"),
        ({"shortcut": "x" * 33}, "shortcut"),
    ],
)
def test_validation(supervisor, changes, field):
    values = {"title": "T", "body": "B", **changes}
    with pytest.raises(ValidationFailed) as refused:
        canned_response_create(actor=Actor.for_user(supervisor), **values)
    assert field in refused.value.fields
