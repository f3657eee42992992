"""The agent workspace's websocket: live inbox and ticket activity, who is viewing or typing
on a ticket (collision detection), read receipts for chats, presence, notifications.

Viewer rosters are not stored anywhere: each browser announces itself to the ticket's group
every few seconds and forgets viewers it has not heard from, so no process-local state
matters and a crashed server leaves no ghost viewers behind.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.core.cache import cache

from frontline.core.ratelimit import rate_limit_exceeded
from frontline.realtime.base import FrontlineConsumer, db
from frontline.realtime.push import AGENTS_GROUP, ticket_group, user_group
from frontline.realtime.tailer import tailer_ensure_started

MAX_WATCHED = 20


def _can_view(user: Any, ticket_id: int) -> tuple[bool, str]:
    """(allowed, chat visitor uid or "")"""
    from frontline.tickets import permissions
    from frontline.tickets.models import Ticket

    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None or not permissions.can_view_ticket(user, ticket):
        return False, ""
    chat = ticket.channel == "chat" and ticket.thread_key.startswith("chat:")
    return True, ticket.thread_key.removeprefix("chat:") if chat else ""


def _presence_set(user: Any, state: str) -> None:
    from frontline.accounts.services import agent_presence_set

    agent_presence_set(user=user, presence=state)


def _sockets_key(user_id: int) -> str:
    return f"agent-sockets:{user_id}"


def _sockets_change(user_id: int, delta: int) -> int:
    """Count the agent's open workspace sockets (all processes share the cache in a cluster)."""
    key = _sockets_key(user_id)
    cache.add(key, 0, timeout=None)
    try:
        return int(cache.incr(key, delta))
    except ValueError:
        cache.set(key, max(delta, 0), timeout=None)
        return max(delta, 0)


def _offline_if_gone(user: Any) -> None:
    """An online agent whose every tab is closed is set offline, so no chat is routed to an
    empty chair. Away stays away; they set themselves online again when back."""
    from frontline.accounts.models import AgentProfile, Presence

    if int(cache.get(_sockets_key(user.pk)) or 0) > 0:
        return
    if AgentProfile.objects.filter(user=user, presence=Presence.ONLINE).exists():
        _presence_set(user, Presence.OFFLINE)


# Page navigation closes a socket and opens the next within a second or two.
OFFLINE_AFTER_SECONDS = 30.0
_pending: set[asyncio.Task[None]] = set()


class AgentConsumer(FrontlineConsumer):
    async def connect(self) -> None:
        from frontline.web.common import STAFF

        user = self.scope.get("user")
        if user is None or not user.is_authenticated or user.role not in STAFF:
            await self.close(code=4401)
            return
        self.user = user
        self.watching: dict[int, str] = {}  # ticket id -> chat visitor uid ("" if none)
        await self.channel_layer.group_add(AGENTS_GROUP, self.channel_name)
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        await self.accept()
        await db(_sockets_change)(user.pk, 1)
        tailer_ensure_started()

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "watching"):
            return
        for ticket_id in list(self.watching):
            await self._unwatch(ticket_id)
        await self.channel_layer.group_discard(AGENTS_GROUP, self.channel_name)
        await self.channel_layer.group_discard(user_group(self.user.pk), self.channel_name)
        if await db(_sockets_change)(self.user.pk, -1) <= 0:
            task = asyncio.get_running_loop().create_task(self._offline_later(self.user))
            _pending.add(task)
            task.add_done_callback(_pending.discard)

    @staticmethod
    async def _offline_later(user: Any) -> None:
        await asyncio.sleep(OFFLINE_AFTER_SECONDS)
        await db(_offline_if_gone)(user)

    def _me(self) -> dict[str, Any]:
        return {"id": self.user.pk, "name": self.user.label}

    async def _viewer(self, ticket_id: int, state: str, visibility: str = "") -> None:
        await self.group_push(
            ticket_group(ticket_id),
            {
                "type": "viewer",
                "ticket": ticket_id,
                "user": self._me(),
                "state": state,
                "visibility": visibility,
            },
        )

    async def _unwatch(self, ticket_id: int) -> None:
        if self.watching.pop(ticket_id, None) is None:
            return
        await self._viewer(ticket_id, "left")
        await self.channel_layer.group_discard(ticket_group(ticket_id), self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
            return
        if rate_limit_exceeded(f"agent-ws:{self.user.pk}", limit=600, window=60):
            await self.send_json({"type": "error", "code": "rate_limited"})
            return
        ticket_id = content.get("ticket")
        if kind == "presence":
            state = content.get("state")
            if state in {"online", "away", "offline"}:
                await db(_presence_set)(self.user, state)
            return
        if not isinstance(ticket_id, int):
            await self.send_json({"type": "error", "code": "invalid", "message": "ticket?"})
            return
        if kind == "watch":
            await self._watch(ticket_id)
        elif kind == "unwatch":
            await self._unwatch(ticket_id)
        elif kind in {"here", "typing"} and ticket_id in self.watching:
            state = "typing" if kind == "typing" and content.get("state", True) else "viewing"
            visibility = "internal" if content.get("visibility") == "internal" else "public"
            await self._viewer(ticket_id, state, visibility)
            uid = self.watching[ticket_id]
            if uid and kind == "typing" and visibility == "public":
                from frontline.channels.chat.services import visitor_group

                await self.group_push(
                    visitor_group(uid),
                    {
                        "type": "typing",
                        "from": "agent",
                        "name": self.user.first_name or self.user.username,
                        "state": state == "typing",
                    },
                )
        elif kind == "seen" and ticket_id in self.watching:
            await self._seen(ticket_id, content.get("up_to"))

    async def _watch(self, ticket_id: int) -> None:
        if ticket_id in self.watching:
            await self._viewer(ticket_id, "viewing")
            return
        if len(self.watching) >= MAX_WATCHED:
            await self._unwatch(next(iter(self.watching)))
        allowed, uid = await db(_can_view)(self.user, ticket_id)
        if not allowed:
            await self.send_json({"type": "error", "code": "forbidden", "ticket": ticket_id})
            return
        self.watching[ticket_id] = uid
        await self.channel_layer.group_add(ticket_group(ticket_id), self.channel_name)
        await self.send_json({"type": "watching", "ticket": ticket_id})
        await self._viewer(ticket_id, "viewing")

    async def _seen(self, ticket_id: int, up_to: Any) -> None:
        if not isinstance(up_to, int) or not self.watching.get(ticket_id):
            return
        from frontline.channels.chat.services import chat_mark_read_by_agent, visitor_group

        uid, ids = await db(chat_mark_read_by_agent)(ticket_id, up_to)
        if uid and ids:
            await self.group_push(visitor_group(uid), {"type": "read", "up_to": max(ids)})
