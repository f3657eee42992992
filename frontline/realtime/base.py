"""What every Frontline websocket consumer shares.

Channels runs `close_old_connections` on its one thread-sensitive thread before *every*
message a consumer handles, pushes included, and `database_sync_to_async` runs every
consumer's database work on that same single thread. Under load (hundreds of chats in one
process) both queue behind each other. Our consumers do their database work through `db()`,
which runs in the thread pool and closes its connection around each call, so neither is
needed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncJsonWebsocketConsumer

P = ParamSpec("P")
R = TypeVar("R")


def db(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Run `func` (ORM code) in a pool thread with a fresh connection; calls from different
    sockets run side by side instead of queuing on one thread."""
    return DatabaseSyncToAsync(func, thread_sensitive=False)


class FrontlineConsumer(AsyncJsonWebsocketConsumer):
    async def group_push(self, group: str, payload: dict[str, Any]) -> None:
        """Send `payload` to every socket in `group` (each consumer's `push` forwards it)."""
        await self.channel_layer.group_send(group, {"type": "push", "payload": payload})

    async def push(self, event: dict[str, Any]) -> None:
        await self.send_json(event["payload"])

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
