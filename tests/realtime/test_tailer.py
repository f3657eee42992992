"""With the in-memory layer, changes committed by another process (worker, SMTP receiver)
reach this process's websockets through the outbox tailer."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from frontline.core.models import CurrentTransactionId, DomainEvent
from frontline.realtime.push import pushed_here
from tests.realtime.test_agent_socket import agent_socket, frame_of

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _committed_elsewhere(name: str, ticket_id: int) -> int:
    """An outbox row as another process would have written it: stored, never pushed here."""
    row = DomainEvent.objects.create(
        txid=CurrentTransactionId(), name=name, ticket_id=ticket_id, actor="system", payload={}
    )
    return row.pk


async def test_tailer_pushes_events_committed_by_other_processes(settings):
    from frontline.accounts.models import Role
    from tests.factories import UserFactory

    pushed_here.clear()  # ids restart after each test's flush; in real life they never repeat
    settings.REALTIME_TAIL_EVENTS = True
    settings.REALTIME_TAIL_INTERVAL = 0.05
    agent = await database_sync_to_async(UserFactory)(role=Role.AGENT)
    comm, connected, _ = await agent_socket(agent)
    assert connected
    await asyncio.sleep(0.5)  # the tailer reads the head of the outbox, then polls
    event_id = await database_sync_to_async(_committed_elsewhere)("ticket.updated", 4242)
    pushed = await frame_of(comm, "inbox", ticket=4242)
    assert pushed["event"] == "ticket.updated"
    assert event_id in pushed_here  # never pushed twice
    await comm.disconnect()
