"""The visitor websocket through the real ASGI application (routing, origin check, consumer)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from frontline.tickets.models import Message, Ticket
from tests.channels.chat.conftest import ORIGIN

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def visitor(widget, origin=ORIGIN):
    return WebsocketCommunicator(
        application,
        f"/ws/chat/?site_key={widget.site_key}",
        headers=[(b"origin", origin.encode()), (b"host", b"testserver")],
    )


async def hello(comm, token=None):
    connected, _ = await comm.connect()
    assert connected
    await comm.send_json_to({"type": "hello", "token": token, "page": "https://shop.example.com/p"})
    welcome = await comm.receive_json_from()
    assert welcome["type"] == "welcome"
    return welcome


async def receive_until(comm, kind, timeout=3):
    while True:
        frame = await comm.receive_json_from(timeout=timeout)
        if frame["type"] == kind:
            return frame


async def test_foreign_origin_is_refused(widget):
    comm = visitor(widget, origin="https://evil.example.net")
    connected, code = await comm.connect()
    assert not connected
    assert code == 4403


async def test_unknown_site_key_is_refused(widget):
    comm = WebsocketCommunicator(
        application, "/ws/chat/?site_key=nope", headers=[(b"origin", ORIGIN.encode())]
    )
    connected, _ = await comm.connect()
    assert not connected


async def test_message_is_stored_acknowledged_and_deduplicated(widget):
    comm = visitor(widget)
    welcome = await hello(comm)
    assert welcome["token"] and welcome["messages"] == []
    assert welcome["config"]["name"] == "Shop"
    await comm.send_json_to({"type": "message", "client_id": "c-1", "text": "Where is my order?"})
    ack = await receive_until(comm, "ack")
    assert ack["client_id"] == "c-1" and not ack["duplicate"]
    # a resend after a lost ack gets the same server id and stores nothing new
    await comm.send_json_to({"type": "message", "client_id": "c-1", "text": "Where is my order?"})
    again = await receive_until(comm, "ack")
    assert again["id"] == ack["id"] and again["duplicate"]
    assert await database_sync_to_async(Message.objects.count)() == 1
    ticket = await database_sync_to_async(Ticket.objects.get)()
    assert ticket.channel == "chat" and ticket.thread_key == f"chat:{welcome['uid']}"
    await comm.disconnect()


async def test_returning_visitor_gets_history_and_same_conversation(widget):
    comm = visitor(widget)
    welcome = await hello(comm)
    await comm.send_json_to({"type": "message", "client_id": "a", "text": "first"})
    await receive_until(comm, "ack")
    await comm.disconnect()

    comm = visitor(widget)
    again = await hello(comm, token=welcome["token"])
    assert again["uid"] == welcome["uid"]
    assert [m["text"] for m in again["messages"]] == ["first"]
    assert again["messages"][0]["client_id"] == "a"
    await comm.send_json_to({"type": "message", "client_id": "b", "text": "second"})
    await receive_until(comm, "ack")
    assert await database_sync_to_async(Ticket.objects.count)() == 1
    await comm.disconnect()


async def test_forged_token_gets_a_fresh_identity(widget):
    comm = visitor(widget)
    welcome = await hello(comm, token="forged:token")
    assert welcome["uid"] and welcome["messages"] == []
    await comm.disconnect()


async def test_agent_reply_reaches_the_visitor_live(widget, agent):
    from frontline.tickets.actors import Actor
    from frontline.tickets.services import message_add

    comm = visitor(widget)
    await hello(comm)
    await comm.send_json_to({"type": "message", "client_id": "x", "text": "hello?"})
    ack = await receive_until(comm, "ack")

    def reply():
        ticket = Ticket.objects.get(pk=ack["ticket"])
        return message_add(ticket=ticket, actor=Actor.for_user(agent), text="Hi, I'm here")

    sent = await database_sync_to_async(reply)()
    pushed = await receive_until(comm, "message")
    while pushed["id"] != sent.pk:  # our own message is pushed to us too
        pushed = await receive_until(comm, "message")
    assert pushed["from"] == "agent" and pushed["text"] == "Hi, I'm here"
    assert "internal" not in str(pushed)
    # read receipt
    await comm.send_json_to({"type": "read", "up_to": sent.pk})
    await comm.send_json_to({"type": "ping"})
    await receive_until(comm, "pong")
    sent = await database_sync_to_async(Message.objects.get)(pk=sent.pk)
    assert sent.delivery_state == "read"
    await comm.disconnect()


async def test_internal_notes_never_reach_the_visitor(widget, agent):
    from frontline.tickets.actors import Actor
    from frontline.tickets.services import message_add

    comm = visitor(widget)
    await hello(comm)
    await comm.send_json_to({"type": "message", "client_id": "x", "text": "hello?"})
    ack = await receive_until(comm, "ack")

    def note():
        ticket = Ticket.objects.get(pk=ack["ticket"])
        message_add(
            ticket=ticket, actor=Actor.for_user(agent), text="secret", visibility="internal"
        )

    await database_sync_to_async(note)()
    await comm.send_json_to({"type": "ping"})
    while True:
        frame = await comm.receive_json_from()
        assert "secret" not in str(frame)
        if frame["type"] == "pong":
            break
    await comm.disconnect()


async def test_rate_limit_per_visitor(widget):
    widget.visitor_messages_per_minute = 2
    await database_sync_to_async(widget.save)()
    comm = visitor(widget)
    await hello(comm)
    for i in range(3):
        await comm.send_json_to({"type": "message", "client_id": f"r{i}", "text": f"m{i}"})
    frames = [await comm.receive_json_from() for _ in range(5)]
    errors = [f for f in frames if f["type"] == "error"]
    assert errors and errors[0]["code"] == "rate_limited" and errors[0]["client_id"] == "r2"
    assert await database_sync_to_async(Message.objects.count)() == 2
    await comm.disconnect()


async def test_invalid_frames_get_clear_errors(widget):
    comm = visitor(widget)
    connected, _ = await comm.connect()
    assert connected
    await comm.send_json_to({"type": "message", "client_id": "a", "text": "too early"})
    assert (await comm.receive_json_from())["code"] == "hello_first"
    await comm.send_json_to({"type": "hello"})
    await receive_until(comm, "welcome")
    await comm.send_json_to({"type": "message", "client_id": "", "text": "no id"})
    assert (await receive_until(comm, "error"))["code"] == "invalid"
    await comm.send_json_to({"type": "message", "client_id": "b", "text": "x" * 10_001})
    assert "too long" in (await receive_until(comm, "error"))["message"]
    await comm.send_json_to(["not", "an", "object"])
    assert (await receive_until(comm, "error"))["code"] == "invalid"
    await comm.send_json_to({"type": "bogus"})
    assert (await receive_until(comm, "error"))["code"] == "invalid"
    await comm.disconnect()


async def test_identify_merges_visitor_into_known_customer(widget):
    from frontline.customers.services import IdentityInput, customer_resolve

    known, _ = await database_sync_to_async(customer_resolve)(
        identities=[IdentityInput(kind="email", value="ann@example.com")], name="Ann"
    )
    comm = visitor(widget)
    await hello(comm)
    await comm.send_json_to({"type": "message", "client_id": "m1", "text": "hi"})
    await receive_until(comm, "ack")
    await comm.send_json_to({"type": "identify", "name": "Ann", "email": "Ann@Example.com"})
    identified = await receive_until(comm, "identified")
    assert identified["email"] == "ann@example.com"
    ticket = await database_sync_to_async(Ticket.objects.get)()
    assert ticket.requester_id == known.pk
    await comm.send_json_to({"type": "message", "client_id": "m2", "text": "still me"})
    await receive_until(comm, "ack")
    assert await database_sync_to_async(Ticket.objects.count)() == 1
    await comm.send_json_to({"type": "identify", "email": "not an email"})
    assert (await receive_until(comm, "error"))["fields"] == {"email": ["invalid"]}
    await comm.disconnect()


async def test_transcript_goes_only_to_the_identified_email(widget, mailoutbox):
    comm = visitor(widget)
    await hello(comm)
    await comm.send_json_to({"type": "transcript"})
    assert (await receive_until(comm, "error"))["code"] == "invalid"
    await comm.send_json_to({"type": "message", "client_id": "m1", "text": "my question"})
    await receive_until(comm, "ack")
    await comm.send_json_to({"type": "identify", "email": "bob@example.com"})
    await receive_until(comm, "identified")
    await comm.send_json_to({"type": "transcript"})
    assert (await receive_until(comm, "transcript_sent"))["email"] == "bob@example.com"
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["bob@example.com"]
    assert "my question" in mailoutbox[0].body
    await comm.disconnect()
