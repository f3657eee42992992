"""Ticket page pieces the live view relies on: the one-message partial and the collision
check before a reply goes out."""

from __future__ import annotations

import pytest

from frontline.accounts.models import Role
from frontline.tickets.actors import Actor
from frontline.tickets.models import Message
from frontline.tickets.services import message_add
from tests.factories import TicketFactory, UserFactory
from tests.web.test_agent_pages import logged_in, ticket  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_message_partial_renders_one_message_with_its_hooks(ticket, agent):  # noqa: F811
    message = ticket.messages.get()
    page = logged_in(agent).get(f"/tickets/{ticket.pk}/messages/{message.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="message-{message.pk}"' in html and 'data-direction="inbound"' in html
    assert "onerror" not in html  # sanitised like the page


def test_message_partial_hides_internal_notes_from_those_who_may_not_see_them(ticket, agent):  # noqa: F811
    note = message_add(ticket=ticket, actor=Actor.for_user(agent), text="x", visibility="internal")
    assert logged_in(agent).get(f"/tickets/{ticket.pk}/messages/{note.pk}/").status_code == 200
    other = UserFactory(role=Role.AGENT)
    assert logged_in(other).get(f"/tickets/{ticket.pk}/messages/{note.pk}/").status_code == 200
    outsider = UserFactory(role=Role.LIGHT_AGENT)
    assert logged_in(outsider).get(f"/tickets/{ticket.pk}/messages/{note.pk}/").status_code == 404
    assert logged_in(agent).get(f"/tickets/{ticket.pk}/messages/999999/").status_code == 404


def test_reply_is_held_back_when_someone_else_replied_meanwhile(ticket):  # noqa: F811
    ann = UserFactory(role=Role.AGENT, first_name="Ann", last_name="A")
    bob = UserFactory(role=Role.AGENT, first_name="Bob", last_name="B")
    seen = ticket.messages.get().pk
    message_add(ticket=ticket, actor=Actor.for_user(bob), text="Bob's answer")
    client = logged_in(ann)
    page = client.post(
        f"/tickets/{ticket.pk}/messages/",
        {"text": "My answer", "visibility": "public", "seen_message_id": seen},
    )
    assert page.status_code == 409
    html = page.content.decode()
    assert "wrote on this ticket while you were writing" in html and "Bob" in html
    assert "My answer" in html  # the draft is kept
    assert not Message.objects.filter(text="My answer").exists()
    # confirmed: it goes out
    page = client.post(
        f"/tickets/{ticket.pk}/messages/",
        {
            "text": "My answer",
            "visibility": "public",
            "seen_message_id": seen,
            "confirm_collision": "1",
        },
    )
    assert page.status_code == 302
    assert Message.objects.filter(text="My answer").exists()


def test_no_warning_for_own_messages_notes_or_an_up_to_date_page(ticket):  # noqa: F811
    ann = UserFactory(role=Role.AGENT)
    bob = UserFactory(role=Role.AGENT)
    seen = ticket.messages.get().pk
    message_add(ticket=ticket, actor=Actor.for_user(ann), text="mine")
    message_add(ticket=ticket, actor=Actor.for_user(bob), text="note", visibility="internal")
    client = logged_in(ann)
    page = client.post(
        f"/tickets/{ticket.pk}/messages/",
        {"text": "again", "visibility": "public", "seen_message_id": seen},
    )
    assert page.status_code == 302


def test_new_customer_message_also_warns(ticket):  # noqa: F811
    from frontline.channels.services import inbound_message_ingest
    from frontline.channels.types import InboundMessage, SenderIdentity

    agent = UserFactory(role=Role.AGENT)
    seen = ticket.messages.get().pk
    inbound_message_ingest(
        InboundMessage(
            channel="email",
            sender=SenderIdentity(kind="email", value="ana@example.com"),
            text="Also, it's red",
            ticket_id=ticket.pk,
        )
    )
    page = logged_in(agent).post(
        f"/tickets/{ticket.pk}/messages/",
        {"text": "Sure", "visibility": "public", "seen_message_id": seen},
    )
    assert page.status_code == 409 and "Ana Lima" in page.content.decode()


def test_ticket_page_carries_live_hooks(ticket, agent):  # noqa: F811
    html = logged_in(agent).get(f"/tickets/{ticket.pk}/").content.decode()
    assert f'data-ticket-id="{ticket.pk}"' in html
    assert 'id="collision"' in html and 'name="seen_message_id"' in html
    assert "frontline/realtime/live" in html
    chat = TicketFactory(channel="chat")
    assert 'data-chat="1"' in logged_in(agent).get(f"/tickets/{chat.pk}/").content.decode()
