"""Delivery states only move forward, whatever order the reports arrive in."""

from __future__ import annotations

import pytest

from frontline.core.models import DomainEvent
from frontline.tickets.actors import Actor
from frontline.tickets.services import message_add, message_delivery_update
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reply(agent):
    return message_add(ticket=TicketFactory(), actor=Actor.for_user(agent), text="Hello")


def test_forward_moves_are_recorded(reply):
    assert reply.delivery_state == "queued"
    for state in ("sent", "delivered", "read"):
        message_delivery_update(message=reply, state=state)
        reply.refresh_from_db()
        assert reply.delivery_state == state


def test_a_late_sent_does_not_undo_read(reply):
    stale = type(reply).objects.get(pk=reply.pk)  # loaded while still queued
    message_delivery_update(message=reply, state="read")
    events = DomainEvent.objects.filter(name="message.delivery_updated").count()
    result = message_delivery_update(message=stale, state="sent")
    assert result.delivery_state == "read"
    stale.refresh_from_db()
    assert stale.delivery_state == "read"
    assert DomainEvent.objects.filter(name="message.delivery_updated").count() == events


def test_failure_after_sending_counts_but_not_after_reading(reply):
    message_delivery_update(message=reply, state="sent")
    message_delivery_update(message=reply, state="failed", error="550 no such user")
    reply.refresh_from_db()
    assert reply.delivery_state == "failed" and reply.delivery_error == "550 no such user"
    other = message_add(ticket=reply.ticket, actor=Actor.for_user(reply.author_user), text="x")
    message_delivery_update(message=other, state="read")
    message_delivery_update(message=other, state="failed", error="late bounce")
    other.refresh_from_db()
    assert other.delivery_state == "read" and other.delivery_error == ""
