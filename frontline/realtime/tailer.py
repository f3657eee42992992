"""Tail the event outbox and push what other processes committed.

Needed with the in-memory channel layer (embedded mode): the worker, the SMTP receiver and the
IMAP poller commit tickets in other processes whose pushes cannot reach this process's
websockets. With Redis every process pushes to the shared layer and this stays off.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from channels.db import database_sync_to_async
from django.conf import settings

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


def _step(cursor: str) -> str:
    from frontline.core.selectors import event_feed
    from frontline.realtime.push import push_event, pushed_here

    page = event_feed(after=cursor, limit=500)
    for row in page.events:
        if row.pk not in pushed_here:
            pushed_here.add(row.pk)
            push_event(row.name, row.ticket_id, row.payload, row.actor)
    return page.next_cursor


async def _tail(interval: float) -> None:
    cursor = await database_sync_to_async(_head)()
    while True:
        await asyncio.sleep(interval)
        try:
            cursor = await database_sync_to_async(_step)(cursor)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("event tailer step failed; retrying")
