"""Swarming, light agents as collaborators, and side conversations."""

from __future__ import annotations

import pytest

from frontline.accounts.models import Notification, Role, User
from frontline.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from frontline.tickets import permissions
from frontline.tickets.actors import Actor
from frontline.tickets.models import Ticket
from frontline.tickets.selectors import (
    TicketFilters,
    side_conversations_for,
    ticket_filter,
)
from frontline.tickets.services import (
    SWARM_NOTIFY_MAX,
    message_add,
    side_conversation_close,
    side_conversation_start,
    side_message_post,
    swarm_request,
    swarm_resolve,
    ticket_collaborator_add,
)
from tests.factories import TeamFactory, UserFactory, customer_user
from tests.tickets.conftest import events_named, kinds

pytestmark = pytest.mark.django_db


def test_swarm_request_notifies_the_team_and_is_idempotent(make_ticket, agent):
    team = TeamFactory()
    mates = [UserFactory(), UserFactory(), UserFactory(role=Role.LIGHT_AGENT)]
    team.members.add(agent, *mates, UserFactory(is_active=False))
    outsider = UserFactory()
    ticket = make_ticket("Weird bug", team=team)

    swarmed = swarm_request(ticket=ticket, actor=Actor.for_user(agent), note="Anyone seen this?")

    assert swarmed.swarm_requested_at is not None
    assert swarmed.swarm_requested_by == agent
    assert swarmed.swarm_note == "Anyone seen this?"
    notified = set(Notification.objects.filter(kind="swarm").values_list("user_id", flat=True))
    assert notified == {m.pk for m in mates}  # not the asker, not inactive, not outsiders
    assert outsider.pk not in notified
    assert "Anyone seen this?" in Notification.objects.filter(kind="swarm").first().text
    assert "swarm_requested" in kinds(ticket)
    (event,) = events_named("ticket.swarm_requested")
    assert sorted(event.payload["notified_user_ids"]) == sorted(m.pk for m in mates)
    assert len(events_named("notification.created")) == 3

    again = swarm_request(ticket=ticket, actor=Actor.for_user(agent), note="Still stuck")
    assert again.swarm_note == "Still stuck"
    assert Notification.objects.filter(kind="swarm").count() == 3  # nobody notified twice

    swarm_listed = ticket_filter(Ticket.objects.all(), TicketFilters(swarm=True))
    assert list(swarm_listed) == [ticket]
    resolved = swarm_resolve(ticket=ticket, actor=Actor.for_user(agent))
    assert (resolved.swarm_requested_at, resolved.swarm_note) == (None, "")
    assert "swarm_resolved" in kinds(ticket)
    swarm_resolve(ticket=ticket, actor=Actor.for_user(agent))  # idempotent
    assert len(events_named("ticket.swarm_resolved")) == 1
    assert not ticket_filter(Ticket.objects.all(), TicketFilters(swarm=True)).exists()
    assert ticket_filter(Ticket.objects.all(), TicketFilters(swarm=False)).count() == 1


def test_swarm_without_a_team_asks_agents_and_is_bounded(make_ticket, agent):
    UserFactory.create_batch(SWARM_NOTIFY_MAX + 5)
    UserFactory(role=Role.LIGHT_AGENT)
    swarm_request(ticket=make_ticket(), actor=Actor.for_user(agent))
    assert Notification.objects.filter(kind="swarm").count() == SWARM_NOTIFY_MAX
    assert not Notification.objects.filter(user__role=Role.LIGHT_AGENT).exists()


def test_swarm_refusals(make_ticket):
    ticket = make_ticket()
    with pytest.raises(PermissionDenied):
        swarm_request(ticket=ticket, actor=Actor.for_customer(ticket.requester))
    light = UserFactory(role=Role.LIGHT_AGENT)
    ticket_collaborator_add(ticket=ticket, user=light)
    with pytest.raises(PermissionDenied):
        swarm_request(ticket=ticket, actor=Actor.for_user(light))


def test_a_light_agent_collaborator_views_and_notes_but_does_not_change(make_ticket):
    team = TeamFactory()
    ticket = make_ticket(team=team)
    light = UserFactory(role=Role.LIGHT_AGENT)
    assert not permissions.can_view_ticket(light, ticket)

    ticket_collaborator_add(ticket=ticket, user=light)

    assert permissions.can_view_ticket(light, ticket)
    assert permissions.can_add_note(light, ticket)
    assert permissions.can_use_side_conversations(light, ticket)
    assert not permissions.can_update_ticket(light, ticket)
    assert not permissions.can_reply_publicly(light, ticket)
    note = message_add(
        ticket=ticket, actor=Actor.for_user(light), text="Firmware 2.1 bug", visibility="internal"
    )
    assert note.direction == "internal"
    with pytest.raises(PermissionDenied):
        swarm_request(ticket=ticket, actor=Actor.for_user(light))


def test_side_conversation_lifecycle(make_ticket, agent):
    specialist: User = UserFactory(role=Role.LIGHT_AGENT)
    colleague: User = UserFactory()
    ticket = make_ticket()
    actor = Actor.for_user(agent)

    conversation = side_conversation_start(
        ticket=ticket,
        actor=actor,
        subject="  Warranty   question ",
        participants=[specialist, colleague],
        text="Is this covered?",
    )

    assert conversation.subject == "Warranty question"
    assert set(conversation.participants.all()) == {agent, specialist, colleague}
    assert set(ticket.collaborators.all()) >= {specialist, colleague}
    assert permissions.can_view_ticket(specialist, ticket)  # invited by the conversation
    (started,) = events_named("side_conversation.started")
    assert started.payload["participant_ids"] == sorted([agent.pk, specialist.pk, colleague.pk])
    (posted,) = events_named("side_conversation.message")
    assert posted.ticket_id == ticket.pk
    assert posted.payload["participant_ids"] == sorted([agent.pk, specialist.pk, colleague.pk])
    assert set(
        Notification.objects.filter(kind="side_message").values_list("user_id", flat=True)
    ) == {specialist.pk, colleague.pk}

    reply = side_message_post(
        conversation=conversation, actor=Actor.for_user(specialist), text="Yes, 2 years."
    )
    assert reply.author == specialist
    assert Notification.objects.filter(kind="side_message", user=agent).count() == 1

    # a supervisor who was not invited may read and post, and joins by posting
    boss: User = UserFactory(role=Role.SUPERVISOR)
    side_message_post(conversation=conversation, actor=Actor.for_user(boss), text="Agreed")
    assert boss in conversation.participants.all()

    closed = side_conversation_close(conversation=conversation, actor=actor)
    assert closed.closed_at is not None
    side_conversation_close(conversation=conversation, actor=actor)  # idempotent
    assert len(events_named("side_conversation.closed")) == 1
    with pytest.raises(InvalidTransition):
        side_message_post(conversation=conversation, actor=actor, text="one more")
    assert kinds(ticket).count("side_message_added") == 3
    assert "side_conversation_started" in kinds(ticket)
    assert "side_conversation_closed" in kinds(ticket)


def test_side_conversation_refusals(make_ticket, agent):
    team = TeamFactory()
    ticket = make_ticket(team=team)
    agent.teams.add(team)
    actor = Actor.for_user(agent)
    with pytest.raises(ValidationFailed):
        side_conversation_start(ticket=ticket, actor=actor, subject="  ", participants=[])
    portal = customer_user()
    with pytest.raises(ValidationFailed):
        side_conversation_start(ticket=ticket, actor=actor, subject="x", participants=[portal])
    conversation = side_conversation_start(ticket=ticket, actor=actor, subject="x", participants=[])
    with pytest.raises(ValidationFailed):
        side_message_post(conversation=conversation, actor=actor, text="   ")
    for outsider in (portal, UserFactory(), UserFactory(role=Role.LIGHT_AGENT)):
        with pytest.raises(PermissionDenied):
            side_message_post(conversation=conversation, actor=Actor.for_user(outsider), text="hi")
    with pytest.raises(PermissionDenied):
        side_message_post(
            conversation=conversation, actor=Actor.for_customer(ticket.requester), text="hi"
        )


def test_side_conversations_for_has_a_fixed_query_count(
    make_ticket, agent, django_assert_max_num_queries
):
    ticket = make_ticket()
    for n in range(4):
        conversation = side_conversation_start(
            ticket=ticket,
            actor=Actor.for_user(agent),
            subject=f"c{n}",
            participants=[User.objects.get(pk=UserFactory().pk)],
            text="hello",
        )
        side_message_post(conversation=conversation, actor=Actor.for_user(agent), text="more")
    with django_assert_max_num_queries(3):
        conversations = side_conversations_for(ticket)
        assert [len(c.messages.all()) for c in conversations] == [2, 2, 2, 2]
        assert all(m.author.username for c in conversations for m in c.messages.all())
        assert all(len(c.participants.all()) == 2 for c in conversations)
