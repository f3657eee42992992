"""The agent websocket through the real ASGI app: session auth, watching tickets, viewer
rosters for collision detection, pushes on commit, chat typing and read receipts."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from frontline.accounts.models import Role
from frontline.tickets.actors import Actor
from tests.factories import TicketFactory, UserFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def agent_socket(user, origin=b"http://testserver"):
    cookie = await database_sync_to_async(_cookie)(user)
    comm = WebsocketCommunicator(
        application,
        "/ws/agent/",
        headers=[(b"origin", origin), (b"host", b"testserver"), (b"cookie", cookie)],
    )
    connected, code = await comm.connect()
    return comm, connected, code


async def frame_of(comm, kind, timeout=3, user_id=None, **match):
    while True:
        frame = await comm.receive_json_from(timeout=timeout)
        if user_id is not None and frame.get("user", {}).get("id") != user_id:
            continue
        if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame


async def test_anonymous_and_customers_are_refused():
    comm = WebsocketCommunicator(
        application, "/ws/agent/", headers=[(b"origin", b"http://testserver")]
    )
    connected, code = await comm.connect()
    assert not connected and code == 4401
    customer = await database_sync_to_async(UserFactory)(role=Role.CUSTOMER)
    _, connected, code = await agent_socket(customer)
    assert not connected and code == 4401


async def test_foreign_origin_is_refused():
    agent = await database_sync_to_async(UserFactory)(role=Role.AGENT)
    _, connected, _ = await agent_socket(agent, origin=b"https://evil.example.net")
    assert not connected


async def test_two_agents_see_each_other_viewing_and_typing():
    ann = await database_sync_to_async(UserFactory)(role=Role.AGENT, first_name="Ann")
    bob = await database_sync_to_async(UserFactory)(role=Role.AGENT, first_name="Bob")
    ticket = await database_sync_to_async(TicketFactory)()
    a, ok_a, _ = await agent_socket(ann)
    b, ok_b, _ = await agent_socket(bob)
    assert ok_a and ok_b
    await a.send_json_to({"type": "watch", "ticket": ticket.pk})
    await frame_of(a, "watching", ticket=ticket.pk)
    await b.send_json_to({"type": "watch", "ticket": ticket.pk})
    seen = await frame_of(a, "viewer", ticket=ticket.pk, user_id=bob.pk)
    assert seen["state"] == "viewing"
    await b.send_json_to({"type": "typing", "ticket": ticket.pk, "visibility": "public"})
    typing = await frame_of(a, "viewer", state="typing", user_id=bob.pk)
    assert typing["user"]["id"] == bob.pk and typing["visibility"] == "public"
    await b.disconnect()
    left = await frame_of(a, "viewer", state="left", user_id=bob.pk)
    assert left["user"]["id"] == bob.pk
    await a.disconnect()


async def test_light_agent_cannot_watch_a_ticket_they_cannot_see():
    light = await database_sync_to_async(UserFactory)(role=Role.LIGHT_AGENT)
    ticket = await database_sync_to_async(TicketFactory)()
    comm, connected, _ = await agent_socket(light)
    assert connected
    await comm.send_json_to({"type": "watch", "ticket": ticket.pk})
    assert (await frame_of(comm, "error"))["code"] == "forbidden"
    await comm.disconnect()


async def test_new_message_is_pushed_to_watchers_and_inbox():
    from frontline.tickets.services import message_add

    agent = await database_sync_to_async(UserFactory)(role=Role.AGENT)
    ticket = await database_sync_to_async(TicketFactory)()
    comm, _, _ = await agent_socket(agent)
    await comm.send_json_to({"type": "watch", "ticket": ticket.pk})
    await frame_of(comm, "watching")

    def note():
        return message_add(
            ticket=ticket, actor=Actor.for_user(agent), text="hi", visibility="internal"
        )

    message = await database_sync_to_async(note)()
    pushed = await frame_of(comm, "message", ticket=ticket.pk)
    assert pushed["message"] == message.pk and pushed["visibility"] == "internal"
    await frame_of(comm, "inbox", ticket=ticket.pk)
    await comm.disconnect()


async def test_presence_toggle_is_stored_and_broadcast():
    from frontline.accounts.models import AgentProfile

    agent = await database_sync_to_async(UserFactory)(role=Role.AGENT)
    comm, _, _ = await agent_socket(agent)
    await comm.send_json_to({"type": "presence", "state": "online"})
    pushed = await frame_of(comm, "presence")
    assert pushed["user"] == agent.pk
    assert pushed["state"] == "online"
    profile = await database_sync_to_async(AgentProfile.objects.get)(user=agent)
    assert profile.presence == "online"
    await comm.disconnect()


async def test_chat_typing_and_read_receipts_reach_the_visitor():
    from frontline.channels.chat.services import widget_create
    from tests.channels.chat.test_visitor_socket import hello, receive_until, visitor

    agent = await database_sync_to_async(UserFactory)(role=Role.AGENT, first_name="Ann")
    widget = await database_sync_to_async(widget_create)(
        name="Shop", allowed_origins=["https://shop.example.com"]
    )
    v = visitor(widget)
    await hello(v)
    await v.send_json_to({"type": "message", "client_id": "1", "text": "anyone?"})
    ack = await receive_until(v, "ack")

    a, _, _ = await agent_socket(agent)
    await a.send_json_to({"type": "watch", "ticket": ack["ticket"]})
    await frame_of(a, "watching")
    await v.send_json_to({"type": "typing", "state": True})
    typing = await frame_of(a, "typing", ticket=ack["ticket"])
    assert typing["from"] == "visitor" and typing["state"] is True

    await a.send_json_to({"type": "typing", "ticket": ack["ticket"], "visibility": "public"})
    agent_typing = await receive_until(v, "typing")
    assert agent_typing == {"type": "typing", "from": "agent", "name": "Ann", "state": True}
    # an internal note being typed is not announced to the visitor
    await a.send_json_to({"type": "typing", "ticket": ack["ticket"], "visibility": "internal"})
    await a.send_json_to({"type": "seen", "ticket": ack["ticket"], "up_to": ack["id"]})
    receipt = await receive_until(v, "read")
    assert receipt["up_to"] == ack["id"]
    await a.disconnect()
    await v.disconnect()


async def test_ticket_changes_are_pushed_with_who_made_them():
    from frontline.tickets.services import ticket_update

    agent = await database_sync_to_async(UserFactory)(role=Role.AGENT)
    other = await database_sync_to_async(UserFactory)(role=Role.AGENT)
    ticket = await database_sync_to_async(TicketFactory)()
    comm, _, _ = await agent_socket(agent)
    await comm.send_json_to({"type": "watch", "ticket": ticket.pk})
    await frame_of(comm, "watching")

    def change():
        ticket_update(ticket=ticket, actor=Actor.for_user(other), priority="high")

    await database_sync_to_async(change)()
    pushed = await frame_of(comm, "ticket", ticket=ticket.pk)
    assert pushed["event"] == "ticket.updated" and pushed["actor"] == f"user:{other.pk}"
    await comm.disconnect()
