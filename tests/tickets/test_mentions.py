"""@mentions in internal notes, and assignment notifications."""

from __future__ import annotations

import pytest

from frontline.accounts.models import Notification, Role
from frontline.core.models import DomainEvent
from frontline.tickets import permissions
from frontline.tickets.actors import Actor
from frontline.tickets.mentions import (
    MENTIONS_MAX,
    MentionTokens,
    mention_tokens,
    mentioned_users,
)
from frontline.tickets.services import message_add, ticket_create, ticket_update
from tests.factories import CustomerFactory, TeamFactory, UserFactory, customer_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "usernames", "names"),
    [
        ("@ana can you look?", ("ana",), ()),
        ("cc @Ana and @bob.", ("ana", "bob"), ()),
        ("(@ana) @ana again", ("ana",), ()),
        ("write to a@b.com or ana@example.com", (), ()),
        ('ask @"Ana  Lima" please', (), ("ana lima",)),
        ("@john.doe, hi", ("john.doe",), ()),
        ("no mentions @ all", (), ()),
        ("email@ana", (), ()),
    ],
)
def test_mention_tokens(text, usernames, names):
    assert mention_tokens(text) == MentionTokens(usernames, names)


def test_mention_tokens_are_bounded():
    text = " ".join(f"@user{n}" for n in range(50))
    assert len(mention_tokens(text).usernames) == MENTIONS_MAX


def test_mentioned_users_resolves_active_staff_only():
    ana = UserFactory(username="ana")
    lima = UserFactory(username="al", first_name="Ana", last_name="Lima")
    shown = UserFactory(username="x1", display_name="Support Bot")
    light = UserFactory(username="spec", role=Role.LIGHT_AGENT)
    UserFactory(username="gone", is_active=False)
    customer_user(username="client")
    text = '@ANA @"ana lima" @"Support Bot" @spec @gone @client @nobody a@b.com'
    assert mentioned_users(text) == [ana, lima, shown, light]
    assert mentioned_users(text, exclude=ana) == [lima, shown, light]


def test_a_note_mentioning_colleagues_invites_and_notifies_them(make_ticket, agent):
    team = TeamFactory()
    agent.teams.add(team)
    ticket = make_ticket(team=team)
    specialist = UserFactory(username="spec", role=Role.LIGHT_AGENT)
    other_team = UserFactory(username="bob")
    assert not permissions.can_view_ticket(specialist, ticket)

    note = message_add(
        ticket=ticket,
        actor=Actor.for_user(agent),
        text=f"@spec @bob @{agent.username} please check; mail me at x@y.com",
        visibility="internal",
    )

    assert set(ticket.collaborators.all()) == {specialist, other_team}
    assert permissions.can_view_ticket(specialist, ticket)
    notes = Notification.objects.filter(kind="mentioned").order_by("user_id")
    assert [n.user for n in notes] == [specialist, other_team]  # never the author
    assert all(n.ticket_id == ticket.pk and n.actor_label == f"user:{agent.pk}" for n in notes)
    assert f"#{ticket.pk}" in notes[0].text
    added = DomainEvent.objects.get(name="note.added", payload__message_id=note.pk)
    assert added.payload["mentioned_user_ids"] == [specialist.pk, other_team.pk]
    created = DomainEvent.objects.filter(name="notification.created", ticket_id=ticket.pk)
    assert {e.payload["user_id"] for e in created} == {specialist.pk, other_team.pk}
    assert set(created.first().payload) == {"notification_id", "user_id", "kind", "text"}


def test_public_replies_do_not_mention(make_ticket, agent):
    UserFactory(username="bob")
    ticket = make_ticket()
    message_add(ticket=ticket, actor=Actor.for_user(agent), text="Hi @bob")
    assert not Notification.objects.exists()
    assert ticket.collaborators.count() == 0


def test_mentioning_twice_notifies_again_but_invites_once(make_ticket, agent):
    bob = UserFactory(username="bob")
    ticket = make_ticket()
    for _ in range(2):
        message_add(ticket=ticket, actor=Actor.for_user(agent), text="@bob", visibility="internal")
    assert Notification.objects.filter(user=bob).count() == 2
    assert ticket.events.filter(kind="collaborator_added").count() == 1


def test_assignment_notifies_the_new_assignee_unless_they_did_it(make_ticket, agent):
    ana = UserFactory()
    ticket = make_ticket()
    ticket_update(ticket=ticket, actor=Actor.for_user(agent), assignee=ana)
    (note,) = Notification.objects.filter(kind="assigned")
    assert (note.user, note.ticket_id) == (ana, ticket.pk)
    ticket_update(ticket=ticket, actor=Actor.for_user(agent), assignee=ana)  # no change
    ticket_update(ticket=ticket, actor=Actor.for_user(agent), assignee=agent)  # took it
    ticket_update(ticket=ticket, actor=Actor.for_user(agent), assignee=None)
    assert Notification.objects.filter(kind="assigned").count() == 1

    created = ticket_create(requester=CustomerFactory(), subject="new", assignee=ana)
    assert Notification.objects.filter(kind="assigned", ticket=created, user=ana).exists()
    ticket_create(
        requester=CustomerFactory(), subject="mine", assignee=ana, actor=Actor.for_user(ana)
    )
    assert Notification.objects.filter(kind="assigned").count() == 2
