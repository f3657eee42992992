from __future__ import annotations

import pytest

from frontline.accounts.models import Role
from frontline.accounts.services import agent_presence_set, agent_profile_update
from frontline.channels.chat.services import chat_message_receive, visitor_token_issue
from frontline.tickets.models import Ticket
from tests.factories import TeamFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(widget, django_capture_on_commit_callbacks):
    """A new chat, with its after-commit subscribers run (the assignment among them)."""

    def make():
        uid, _ = visitor_token_issue(widget)
        with django_capture_on_commit_callbacks(execute=True):
            result = chat_message_receive(widget=widget, uid=uid, client_id="1", text="hi")
        return Ticket.objects.get(pk=result.ticket_id)

    return make


def test_new_chat_goes_to_the_least_busy_online_agent_of_the_team(widget, chat):
    team = TeamFactory()
    widget.team_id = team.pk
    widget.save()
    busy, free, offline = (UserFactory(role=Role.AGENT) for _ in range(3))
    outsider = UserFactory(role=Role.AGENT)
    team.members.add(busy, free, offline)
    for user in (busy, free, outsider):
        agent_presence_set(user=user, presence="online")
    TicketFactory(channel="chat", assignee=busy, status="open")
    assert chat().assignee == free
    assert chat().assignee in (busy, free)


def test_capacity_is_respected_and_nobody_online_leaves_it_unassigned(chat):
    agent = UserFactory(role=Role.AGENT)
    agent_presence_set(user=agent, presence="online")
    agent_profile_update(user=agent, capacity={"chat": 1})
    assert chat().assignee == agent
    assert chat().assignee is None  # at capacity
    agent_presence_set(user=agent, presence="away")
    assert chat().assignee is None


def test_light_agents_are_not_given_chats(chat):
    light = UserFactory(role=Role.LIGHT_AGENT)
    agent_presence_set(user=light, presence="online")
    assert chat().assignee is None
