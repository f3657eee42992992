"""Domain events → websocket pushes. One mapping, used on commit (inline subscriber) and by the
outbox tailer, so a browser sees the same thing whichever process committed the change.

Pushes carry ids and small facts, not rendered pages: the agent's browser fetches what it
needs through the normal permission-checked views. The one exception is the chat visitor,
who gets the public message itself (it is theirs).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from frontline.core.bus import Event

logger = logging.getLogger(__name__)

AGENTS_GROUP = "agents"
MESSAGE_EVENTS = {"message.received", "message.created", "note.added"}


def ticket_group(ticket_id: int) -> str:
    return f"ticket.{ticket_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


class _Recent:
    """Ids of events this process pushed itself, so the tailer does not push them again."""

    def __init__(self, size: int = 20_000) -> None:
        self._ids: OrderedDict[int, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def add(self, event_id: int) -> None:
        with self._lock:
            self._ids[event_id] = None
            while len(self._ids) > self._size:
                self._ids.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._ids.clear()

    def __contains__(self, event_id: object) -> bool:
        with self._lock:
            return event_id in self._ids


pushed_here = _Recent()


def pushes_for(
    name: str, ticket_id: int | None, data: dict[str, Any], actor: str = ""
) -> list[tuple[str, dict[str, Any]]]:
    """(group, payload) pairs for one event. Reads the database only for chat messages."""
    out: list[tuple[str, dict[str, Any]]] = []
    if name in MESSAGE_EVENTS and ticket_id is not None:
        message_id = data.get("message_id")
        out.append(
            (
                ticket_group(ticket_id),
                {
                    "type": "message",
                    "ticket": ticket_id,
                    "message": message_id,
                    "visibility": data.get("visibility", ""),
                    "event": name,
                },
            )
        )
        out.append((AGENTS_GROUP, {"type": "inbox", "ticket": ticket_id, "event": name}))
        # Agents' public chat replies go to the visitor. The visitor's own messages are echoed
        # to their other tabs by whoever received them (the socket after its ack, the upload
        # view), which knows the message without reading it back before the ack.
        if (
            name != "message.received"
            and data.get("channel") == "chat"
            and data.get("visibility") == "public"
            and message_id
        ):
            out.extend(_chat_visitor_push(message_id))
    elif name == "message.delivery_updated" and ticket_id is not None:
        out.append(
            (
                ticket_group(ticket_id),
                {
                    "type": "delivery",
                    "ticket": ticket_id,
                    "message": data.get("message_id"),
                    "state": data.get("state"),
                },
            )
        )
    elif name == "notification.created" and data.get("user_id"):
        out.append((user_group(int(data["user_id"])), {"type": "notification", **data}))
    elif name == "agent.presence_changed":
        out.append(
            (
                AGENTS_GROUP,
                {"type": "presence", "user": data.get("user_id"), "state": data.get("new")},
            )
        )
    elif ticket_id is not None:
        out.append(
            (
                ticket_group(ticket_id),
                {"type": "ticket", "ticket": ticket_id, "event": name, "actor": actor},
            )
        )
        out.append((AGENTS_GROUP, {"type": "inbox", "ticket": ticket_id, "event": name}))
    return out


def _chat_visitor_push(message_id: int) -> list[tuple[str, dict[str, Any]]]:
    from frontline.channels.chat.services import chat_message_payload, visitor_group
    from frontline.tickets.models import Message

    message = (
        Message.objects.select_related("ticket", "author_user")
        .prefetch_related("attachments")
        .filter(pk=message_id)
        .first()
    )
    if message is None or not message.ticket.thread_key.startswith("chat:"):
        return []
    uid = message.ticket.thread_key.removeprefix("chat:")
    return [(visitor_group(uid), chat_message_payload(message, uid))]


def group_push(group: str, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    send = async_to_sync(layer.group_send)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        send(group, {"type": "push", "payload": payload})
        return
    # Sync code on a thread that runs an event loop (a script or test driving a browser with
    # Playwright's sync API): async_to_sync refuses to run here, so send from a helper thread.
    helper = threading.Thread(target=send, args=(group, {"type": "push", "payload": payload}))
    helper.start()
    helper.join(timeout=5)


def push_event(name: str, ticket_id: int | None, data: dict[str, Any], actor: str = "") -> None:
    for group, payload in pushes_for(name, ticket_id, data, actor):
        try:
            group_push(group, payload)
        except Exception:  # a full or unreachable layer must not fail the caller
            logger.exception("realtime push to %s failed", group)


def on_event(event: Event) -> None:
    """Inline bus subscriber: push right after commit, in the committing process."""
    if event.id is not None:
        pushed_here.add(event.id)
    push_event(event.name, event.ticket_id, event.data, event.actor)
