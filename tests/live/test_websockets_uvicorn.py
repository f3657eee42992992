"""The chat and agent websockets with a plain websocket client against a real uvicorn."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from django.test import Client

from frontline.accounts.models import Role
from frontline.channels.chat.services import widget_create
from frontline.tickets.models import Message
from tests.factories import UserFactory

ORIGIN = "http://shop.test"


async def _until(ws, kind, timeout=5):
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame["type"] == kind:
            return frame


def test_visitor_and_agent_talk_through_a_real_server(live_server_asgi):
    widget = widget_create(name="Shop", allowed_origins=[ORIGIN])
    agent = UserFactory(role=Role.AGENT, first_name="Ann")
    client = Client()
    client.force_login(agent)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    base = live_server_asgi.ws_url

    async def scenario():
        visitor_url = f"{base}/ws/chat/?site_key={widget.site_key}"
        async with (
            websockets.connect(visitor_url, origin=ORIGIN) as visitor,
            websockets.connect(
                f"{base}/ws/agent/",
                origin=live_server_asgi.url,
                additional_headers={"Cookie": cookie},
            ) as agent_ws,
        ):
            await visitor.send(json.dumps({"type": "hello"}))
            welcome = await _until(visitor, "welcome")
            await visitor.send(json.dumps({"type": "message", "client_id": "k1", "text": "Hi"}))
            ack = await _until(visitor, "ack")
            inbox = await _until(agent_ws, "inbox")
            assert inbox["ticket"] == ack["ticket"]
            # the agent answers over HTTP, as the ticket page does
            reply = await asyncio.to_thread(
                client.post,
                f"/tickets/{ack['ticket']}/messages/",
                {"text": "Hello from Ann", "visibility": "public", "seen_message_id": ack["id"]},
            )
            assert reply.status_code == 302
            while True:
                pushed = await _until(visitor, "message")
                if pushed["from"] == "agent":
                    break
            assert pushed["text"] == "Hello from Ann" and pushed["name"] == "Ann"
            return welcome

    asyncio.run(scenario())
    assert Message.objects.count() == 2


def test_foreign_origin_cannot_open_the_visitor_socket(live_server_asgi):
    widget = widget_create(name="Shop", allowed_origins=[ORIGIN])

    async def scenario():
        url = f"{live_server_asgi.ws_url}/ws/chat/?site_key={widget.site_key}"
        with pytest.raises(websockets.exceptions.WebSocketException):
            async with websockets.connect(url, origin="http://evil.test") as ws:
                await ws.recv()

    asyncio.run(scenario())


def test_resend_after_a_dropped_connection_is_stored_once(live_server_asgi):
    """The client sends, the connection dies before the ack arrives; it reconnects and sends
    the same client id again: one message, and the same server id both times."""
    widget = widget_create(name="Shop", allowed_origins=[ORIGIN])
    url = f"{live_server_asgi.ws_url}/ws/chat/?site_key={widget.site_key}"

    async def scenario():
        async with websockets.connect(url, origin=ORIGIN) as ws:
            await ws.send(json.dumps({"type": "hello"}))
            token = (await _until(ws, "welcome"))["token"]
            await ws.send(json.dumps({"type": "message", "client_id": "dup", "text": "once"}))
            # hang up without reading the ack
        async with websockets.connect(url, origin=ORIGIN) as ws:
            await ws.send(json.dumps({"type": "hello", "token": token}))
            welcome = await _until(ws, "welcome")
            await ws.send(json.dumps({"type": "message", "client_id": "dup", "text": "once"}))
            ack = await _until(ws, "ack")
            return welcome, ack

    welcome, ack = asyncio.run(scenario())
    assert Message.objects.filter(text="once").count() == 1
    stored = Message.objects.get(text="once")
    assert ack["id"] == stored.pk
    # the first send may have been stored before or after the second hello read the history
    # (or not at all); if the history had it, the resend must be recognised as a duplicate
    if any(m["id"] == stored.pk for m in welcome["messages"]):
        assert ack["duplicate"]
