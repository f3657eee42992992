"""Tail the event outbox and push what other processes committed.

Needed with the in-memory channel layer (embedded mode): the worker, the SMTP receiver and the
IMAP poller commit tickets in other processes whose pushes cannot reach this process's
websockets. With Redis every process pushes to the shared layer and this stays off.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from django.conf import settings

from frontline.realtime.base import db

logger = logging.getLogger(__name__)

_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
_tasks: set[asyncio.Task[None]] = set()


def tailer_ensure_started() -> None:
    """Called by consumers on connect: one tailer per event loop (i.e. per server process)."""
    if not getattr(settings, "REALTIME_TAIL_EVENTS", False):
        return
    loop = asyncio.get_running_loop()
    if loop in _loops:
        return
    _loops.add(loop)
    task = loop.create_task(_tail(float(getattr(settings, "REALTIME_TAIL_INTERVAL", 0.5))))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def _head() -> str:
    from frontline.core.selectors import event_feed_head

    return event_feed_head()


def _read(cursor: str) -> tuple[list[tuple[int, str, int | None, dict[str, Any], str]], str]:
    from frontline.core.selectors import event_feed

    page = event_feed(after=cursor, limit=500)
    rows = [(e.pk, e.name, e.ticket_id, e.payload, e.actor) for e in page.events]
    return rows, page.next_cursor


def _push(rows: list[tuple[int, str, int | None, dict[str, Any], str]]) -> None:
    from frontline.realtime.push import push_event, pushed_here

    for event_id, name, ticket_id, payload, actor in rows:
        if event_id not in pushed_here:
            pushed_here.add(event_id)
            push_event(name, ticket_id, payload, actor)


# An event this process committed is marked as pushed right after its commit; wait this long
# before deciding an event came from elsewhere, so it is not pushed a second time.
GRACE_SECONDS = 0.2


async def _tail(interval: float) -> None:
    from frontline.realtime.push import pushed_here

    cursor = await db(_head)()
    while True:
        await asyncio.sleep(interval)
        try:
            rows, cursor = await db(_read)(cursor)
            rows = [row for row in rows if row[0] not in pushed_here]
            if rows:
                await asyncio.sleep(GRACE_SECONDS)
                await db(_push)(rows)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("event tailer step failed; retrying")
